"""Is BERT worth it? Classical stylometry baselines (baselines.py), the protocols that
score them and whowrote on identical passages (protocol.py), and `whowrote compare`
(cli.py)."""
