"""Call the judge from someone else's training loop: log mean P(label) of generated samples.

`JudgeMonitor` works in any loop; `JudgeCallback` plugs it into a `transformers.Trainer`.
You give a function that returns a list of generated texts (it receives the model being
trained and the step); every `every` steps the judge scores them and the mean/std of
P(label) and the share judged "neither" are logged with `trainer.log`, so it reaches `state.log_history` and every logger
the Trainer reports to (TensorBoard, W&B, ...). A callback is not handed its Trainer, so
attach it with `JudgeCallback.attach(trainer, ...)`.

    from whowrote import Judge
    from whowrote.judge.hooks import JudgeCallback
    trainer = Trainer(...)
    JudgeCallback.attach(trainer, Judge.load("runs/x"), generate=lambda model, step: sample(model, 8),
                         every=100, label="alice")
    trainer.train()
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..model.openset import NEITHER
from .core import Judge

try:
    from transformers import TrainerCallback
except ImportError:  # transformers is a dependency; this only keeps the module importable alone
    TrainerCallback = object


class JudgeMonitor:
    """Every `every` steps: generate samples, judge them, remember and return the summary."""

    def __init__(self, judge: Judge, generate: Callable, every: int = 100, label: str | None = None,
                 prefix: str = "judge"):
        if every < 1:
            raise ValueError("every must be at least 1")
        self.judge, self.generate, self.every = judge, generate, every
        self.label = label or judge.labels[0]
        if self.label not in judge.labels:
            raise ValueError(f"label {self.label!r} is not one of the judge's labels {judge.labels}")
        self.prefix = prefix
        self.history: list[dict] = []

    def __call__(self, step: int, model=None) -> dict | None:
        if step % self.every:
            return None
        texts = [t for t in self.generate(model, step) if isinstance(t, str) and t.strip()]
        if not texts:
            return None
        scores = self.judge.score(texts)
        p = np.array([s.probs[self.label] for s in scores])
        row = {"step": step, f"{self.prefix}/mean_p_{self.label}": float(p.mean()),
               f"{self.prefix}/std_p_{self.label}": float(p.std()), f"{self.prefix}/samples": len(texts),
               f"{self.prefix}/mean_s_{self.label}": float(np.mean([s.s(self.label) for s in scores])),
               f"{self.prefix}/neither": float(np.mean([s.label == NEITHER for s in scores]))}
        self.history.append(row)
        return row


class JudgeCallback(TrainerCallback):
    """A `transformers.TrainerCallback` around JudgeMonitor; logs through `trainer.log`."""

    def __init__(self, judge: Judge, generate: Callable, every: int = 100, label: str | None = None, trainer=None,
                 prefix: str = "judge"):
        self.monitor = JudgeMonitor(judge, generate, every, label, prefix)
        self.trainer = trainer

    @classmethod
    def attach(cls, trainer, judge: Judge, generate: Callable, every: int = 100, label: str | None = None,
               prefix: str = "judge") -> "JudgeCallback":
        """Create the callback, add it to `trainer` and log through it (`prefix`: the logged
        names' first part, so two callbacks, e.g. one per control token, log apart)."""
        callback = cls(judge, generate, every, label, trainer=trainer, prefix=prefix)
        trainer.add_callback(callback)
        return callback

    @property
    def history(self) -> list[dict]:
        return self.monitor.history

    def on_train_begin(self, args, state, control, **kwargs):
        if self.trainer is None:  # fail before the first step, not at step `every`
            raise ValueError("JudgeCallback logs through its Trainer: use JudgeCallback.attach(trainer, ...) "
                             "or JudgeCallback(..., trainer=trainer)")
        return control

    def on_step_end(self, args, state, control, model=None, **kwargs):
        row = self.monitor(state.global_step, model)
        if row is not None:
            self.trainer.log({k: v for k, v in row.items() if k != "step"})
        return control
