"""Training: the model, data, sampler and optimizer on accelerate (train.py), the resumable
loop (loop.py), the run folder it writes (runfolder.py) and the study's plot (plot.py).
`whowrote train` and `plot` live in commands/train.py."""
