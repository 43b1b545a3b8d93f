"""The judge: score any text with a trained run (core.py), its inputs and outputs as Record
and Score (records.py), read inputs from files and JSONL (inputs.py),
explain a verdict (explain.py), follow attribution along a text (rolling.py), report on a
batch (report.py), and call it from a training loop (hooks.py). `whowrote judge` lives in
commands/judge.py."""

from .core import Judge
from .loading import model_folder
from .records import Record, Score

__all__ = ["Judge", "Record", "Score", "model_folder"]
