"""Text to training arrays: token streams cut into no-leak blocks, the balanced sampler
(split.py), training-time augmentation (augment.py), and `prepare`, a config to ready
blocks, windows and held-out works (prepare.py)."""
