"""Where each file of a run folder and of a model folder lives: the one module that spells
their names (docs/FORMAT.md describes what is in them). Everything that reads or writes a
run folder asks a `RunFiles` for the path; nothing else writes "report.json".

    python -c "from whowrote.layout import RunFiles; print(RunFiles('runs/x').report)"
"""

from __future__ import annotations

import json
from pathlib import Path

MODEL_META = "whowrote.json"  # in a model folder, beside transformers' files: labels, seq_len, T, open set
HF_CONFIG = "config.json"  # transformers' own config.json in a model folder


class RunFiles:
    """The paths of one run folder (`runs/<name>/`); it creates nothing."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    config = property(lambda self: self.root / "config.json")  # resolved config, versions, books, split
    metrics = property(lambda self: self.root / "metrics.jsonl")  # one JSON object a line, flushed
    report = property(lambda self: self.root / "report.json")  # held-out numbers (evaluation)
    validity = property(lambda self: self.root / "validity.json")  # the validity probes
    card = property(lambda self: self.root / "README.md")  # the model card
    plots = property(lambda self: self.root / "plots")
    model = property(lambda self: self.root / "model")  # save_pretrained + MODEL_META
    checkpoint = property(lambda self: self.root / "checkpoint")  # the latest resumable state
    seeds = property(lambda self: self.root / "seeds")  # other seeds of the same config (`validate --seeds`)

    def seed_run(self, k: int) -> Path:
        """The run folder of seed `k` more than this run's (`whowrote validate --seeds`)."""
        return self.seeds / f"seed{k}"

    def seed_runs(self) -> list[Path]:
        """The other seeds' run folders that exist, seed 1 first."""
        found = [p for p in self.seeds.glob("seed*") if p.name[4:].isdigit() and RunFiles(p).is_run()]
        return sorted(found, key=lambda p: int(p.name[4:]))

    def checkpoints(self) -> tuple[Path, Path, Path]:
        """checkpoint, the one being written (.tmp) and the one being replaced (.old)."""
        c = self.checkpoint
        return c, c.with_name(c.name + ".tmp"), c.with_name(c.name + ".old")

    def plot(self, name: str) -> Path:
        return self.plots / name

    def is_run(self) -> bool:
        return self.root.is_dir() and self.config.is_file()


def read_json(path: Path) -> dict:
    """A JSON file of a run folder, or {} where it is not written (yet)."""
    return json.loads(Path(path).read_text()) if Path(path).is_file() else {}


def model_meta_path(model_dir: str | Path) -> Path:
    return Path(model_dir) / MODEL_META


def read_model_meta(model_dir: str | Path) -> dict:
    """A model folder's whowrote.json; {} for a plain transformers folder without one."""
    return read_json(model_meta_path(model_dir))


def is_model_dir(path: str | Path) -> bool:
    return (Path(path) / HF_CONFIG).is_file()
