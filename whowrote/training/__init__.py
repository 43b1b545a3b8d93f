"""The model and its training: load the encoder with a classification head (model.py),
the resumable accelerate loop (train.py), the run folder it writes (runfolder.py), and the
study's smoothing and plot (smooth.py, plot.py). `whowrote train` and `plot` live in cli.py."""
