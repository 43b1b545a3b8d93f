"""What a run is worth, on text it never trained on: metrics and calibration
(metrics.py), the held-out evaluation (evaluate.py), the open set (openset.py), the
validity probes (probes.py, validate.py) and the model card (card.py). `whowrote evaluate`
and `validate` live in cli.py."""
