"""The run folder: what a training run leaves behind, its versioned format, and its report.

runs/<name>/                          format "whowrote.run/1" (see docs/FORMAT.md)
  config.json      resolved config, package versions, book sha256s, split sizes
  metrics.jsonl    one JSON object per line: {"kind": "train"|"val", "step", ...}, flushed
  checkpoint/      latest resumable state (safetensors weights, optimizer, scheduler, RNG)
  model/           save_pretrained: safetensors + tokenizer + whowrote.json (labels, seq_len, T,
                   text normalisation, open-set threshold)
  report.json      held-out numbers: in-book test/val, unseen works, calibration, open set
  validity.json    the validity probes (`whowrote validate`): names, perturbations, seeds
  plots/           training_k<k>_<edge>.png/.svg
  README.md        model card with the numbers

Written by train.py (config, metrics, checkpoint, model), evaluate.py (report),
validate.py (validity) and card.py (README.md).

    ls runs/authors-20261127-120000
"""

from __future__ import annotations

import json
import os
import platform
import time
from importlib import metadata
from pathlib import Path

from ..config import Config, check_run_dir  # noqa: F401  (check_run_dir: for run-folder readers)
from ..errors import WhowroteError
from ..files import atomic_write, save_figure, write_json  # noqa: F401  (re-exported for run-folder writers)
from ..layout import RunFiles, model_meta_path, read_json, read_model_meta  # noqa: F401  (read_model_meta: re-exported)

RUN_FORMAT = "whowrote.run/1"
MODEL_FORMAT = "whowrote.model/1"
REPORT_FORMAT = "whowrote.report/2"
PACKAGES = ("whowrote", "torch", "transformers", "accelerate", "tokenizers", "safetensors", "numpy", "scikit-learn")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def create_run_dir(config: Config, name: str | None = None) -> Path:
    name = name or f"{config.preset}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir = Path(config.output_dir) / name
    try:
        run_dir.mkdir(parents=True, exist_ok=False)
        (run_dir / ".write-test").write_text("ok")
        (run_dir / ".write-test").unlink()
    except FileExistsError:
        raise WhowroteError(f"run folder {run_dir} already exists: pick another --name, or --resume it") from None
    except OSError as exc:
        raise WhowroteError(f"cannot write to output folder {config.output_dir}: {exc.strerror}") from None
    return run_dir


def has_checkpoint(run_dir: Path) -> bool:
    checkpoint, _, old = RunFiles(run_dir).checkpoints()
    return any((folder / "trainer_state_0.json").is_file() for folder in (checkpoint, old))


def update_config(run_dir: Path, **fields) -> None:
    """Change settings recorded in config.json (`--resume RUN --steps N` extends a run)."""
    path = RunFiles(run_dir).config
    data = json.loads(path.read_text())
    data["config"].update(fields)
    write_json(path, data)


def update_report(run_dir: Path, **fields) -> None:
    """Add fields to report.json (the run's phase timings, written once everything is done)."""
    path = RunFiles(run_dir).report
    data = read_json(path)
    data.update(fields)
    write_json(path, data)


def write_config(run_dir: Path, config: Config, books: list[dict], split: dict, device: str,
                 top_names: dict[str, list[str]] | None = None) -> None:
    write_json(RunFiles(run_dir).config, {
        "format": RUN_FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "config": config.to_dict(),
        "versions": versions(), "device": device, "books": books, "split": split,
        "top_names": top_names or {},
    })


def save_model(model, tokenizer, folder: Path, labels: list[str], seq_len: int, normalise: dict,
               temperature: float = 1.0, open_set: dict | None = None) -> None:
    """save_pretrained (safetensors) + tokenizer + whowrote.json, swapped in atomically."""
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        import shutil
        shutil.rmtree(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    write_json(model_meta_path(tmp), {
        "format": MODEL_FORMAT, "labels": labels, "seq_len": seq_len, "temperature": temperature,
        "normalise": normalise, "open_set": open_set or {"method": "none", "background": "", "threshold": 1.0},
    })
    swap_dir(tmp, folder)


def model_spec(folder: Path):
    """The normalisation a model folder records (what it was trained on, and what the judge applies)."""
    from ..text.normalise import Spec

    return Spec.from_dict(read_model_meta(folder).get("normalise"))


def update_model_meta(folder: Path, **fields) -> None:
    """Set fields of model/whowrote.json (the fitted temperature, the open-set threshold)."""
    path = model_meta_path(folder)
    meta = json.loads(path.read_text())  # it must exist: save_model wrote it
    meta.update(fields)
    write_json(path, meta)


def swap_dir(new: Path, final: Path) -> None:
    """Replace folder `final` by `new` with renames: a crash leaves one of them whole."""
    import shutil

    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    if old.exists():
        shutil.rmtree(old)
