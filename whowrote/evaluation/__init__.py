"""What a run is worth, on text it never trained on: calibration, the one writer of the model
folder after training (calibrate.py, lengths.py), the held-out evaluation that only reads it
(evaluate.py), the validity probes (probes.py makes the altered texts; validate.py runs them,
order.py the word-order ones), the goals (goals.py) and the model card (card.py).
`whowrote evaluate` and `validate` live in commands/evaluate.py."""
