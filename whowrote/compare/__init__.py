"""Is BERT worth it? Classical stylometry baselines (baselines.py), the protocols that
score them and whowrote on identical passages (protocol.py), and their report (report.py).
`whowrote compare` lives in commands/compare.py."""
