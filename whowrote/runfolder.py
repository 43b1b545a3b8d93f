"""The run folder: what a training run leaves behind, its versioned format, and its report.

runs/<name>/                          format "whowrote.run/1" (see docs/FORMAT.md)
  config.json      resolved config, package versions, book sha256s, split sizes
  metrics.jsonl    one JSON object per line: {"kind": "train"|"val", "step", ...}, flushed
  checkpoint/      latest resumable state (safetensors weights, optimizer, scheduler, RNG)
  model/           save_pretrained: safetensors + tokenizer + whowrote.json (labels, seq_len, T)
  report.json      held-out numbers: test/val metrics, calibration, steps, train_seconds
  plots/           training_k<k>_<edge>.png/.svg
  README.md        model card with the numbers

    whowrote evaluate runs/cpu-20261126-120000
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from importlib import metadata
from pathlib import Path

from .config import Config, load_run_config
from .errors import WhowroteError

RUN_FORMAT = "whowrote.run/1"
MODEL_FORMAT = "whowrote.model/1"
REPORT_FORMAT = "whowrote.report/1"
PACKAGES = ("whowrote", "torch", "transformers", "accelerate", "tokenizers", "safetensors", "numpy", "scikit-learn")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_json(path: Path, data: dict) -> None:
    """Atomic JSON write: a crash leaves the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; these files are meant to be shared
    os.replace(tmp, path)


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


def check_run_dir(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or not (run_dir / "config.json").is_file():
        raise WhowroteError(f"{run_dir} is not a whowrote run folder (no config.json)")
    return run_dir


def write_config(run_dir: Path, config: Config, books: list[dict], split: dict, device: str) -> None:
    write_json(run_dir / "config.json", {
        "format": RUN_FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "config": config.to_dict(),
        "versions": versions(), "device": device, "books": books, "split": split,
    })


def save_model(model, tokenizer, folder: Path, labels: list[str], seq_len: int, temperature: float = 1.0) -> None:
    """save_pretrained (safetensors) + tokenizer + whowrote.json, swapped in atomically."""
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        import shutil
        shutil.rmtree(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    write_json(tmp / "whowrote.json", {
        "format": MODEL_FORMAT, "labels": labels, "seq_len": seq_len, "temperature": temperature,
    })
    _swap_dir(tmp, folder)


def set_temperature(folder: Path, temperature: float) -> None:
    meta = json.loads((folder / "whowrote.json").read_text())
    meta["temperature"] = temperature
    write_json(folder / "whowrote.json", meta)


def _swap_dir(new: Path, final: Path) -> None:
    import shutil

    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    if old.exists():
        shutil.rmtree(old)


def evaluate_run(run_dir: str | Path, data_dir: str | None = None, progress: bool = True, model=None, tokenizer=None,
                 extra: dict | None = None) -> dict:
    """Score the run's model on its validation and test windows; write report.json and README.md."""
    from .data import prepare
    from .evaluate import calibration_report, classification_metrics, predict_logits
    from .model import load_classifier

    run_dir = check_run_dir(run_dir)
    config = load_run_config(run_dir)
    if data_dir:
        config.data_dir = data_dir
    if model is None:
        model, tokenizer = load_classifier(run_dir / "model")
    prep = prepare(config, tokenizer)
    val_ids, val_y = prep.windows("val")
    test_ids, test_y = prep.windows("test")
    val_logits = predict_logits(model, val_ids, progress=progress)
    test_logits = predict_logits(model, test_ids, progress=progress)
    temperature, calibration = calibration_report(val_logits, val_y, test_logits, test_y, prep.labels)
    set_temperature(run_dir / "model", temperature)

    previous = json.loads((run_dir / "report.json").read_text()) if (run_dir / "report.json").is_file() else {}
    report = {
        "format": REPORT_FORMAT, "run": run_dir.name, "labels": prep.labels, "seq_len": config.seq_len,
        "steps": previous.get("steps"), "train_seconds": previous.get("train_seconds"),
        "test": classification_metrics(test_logits, test_y, prep.labels),
        "val": classification_metrics(val_logits, val_y, prep.labels),
        "calibration": calibration,
        "test_windows_note": "disjoint windows of seq_len-2 tokens from held-out blocks; no token shared with training",
    }
    report.update(extra or {})
    write_json(run_dir / "report.json", report)
    write_card(run_dir, config, report)
    return report


def write_card(run_dir: Path, config: Config, report: dict) -> None:
    t, cal = report["test"], report["calibration"]
    books = json.loads((run_dir / "config.json").read_text()).get("books", [])
    per_label = "\n".join(
        f"| {n} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |" for n, v in t["per_label"].items()
    )
    sources = "\n".join(f"- `{b['label']}`: {b['source']} ({b.get('tokens', '?')} tokens, sha256 {b['sha256'][:12]}…)" for b in books)
    plots = sorted(p.name for p in (run_dir / "plots").glob("*.png")) if (run_dir / "plots").is_dir() else []
    card = f"""---
library_name: transformers
pipeline_tag: text-classification
tags: [authorship-attribution, stylometry, whowrote]
---
# {run_dir.name}: who wrote it — {' or '.join(report['labels'])}

A `{config.model}` encoder fine-tuned by [whowrote](https://example.invalid/whowrote) to tell
who wrote a passage of {config.seq_len} tokens. Labels: {', '.join(f'`{i}` = {n}' for i, n in enumerate(report['labels']))}.

```python
from transformers import pipeline
clf = pipeline("text-classification", model="{run_dir / 'model'}")
```

## Held-out test (blocks never seen in training)
| metric | value |
|---|---|
| accuracy | {t['accuracy']:.4f} |
| balanced accuracy | {t['balanced_accuracy']:.4f} |
| loss (cross-entropy) | {t['loss']:.4f} |
| windows | {t['windows']} ({', '.join(f'{k}: {v}' for k, v in t['windows_per_label'].items())}) |
| ECE before / after temperature | {cal['test_before']['ece']:.4f} / {cal['test_after']['ece']:.4f} (T = {cal['temperature']:.3f}) |
| Brier before / after | {cal['test_before']['brier']:.4f} / {cal['test_after']['brier']:.4f} |

| label | precision | recall | F1 | windows |
|---|---|---|---|---|
{per_label}

Confusion matrix (rows true, columns predicted, order {report['labels']}): {t['confusion_matrix']['rows_true_cols_pred']}

## Training
{report.get('steps')} steps of {config.per_class} windows per label, lr {config.lr}, seed {config.seed},
{report.get('train_seconds') or 0:.0f} s. Sources (cleaned: Gutenberg header/licence removed, typography normalised):
{sources}

{''.join(f'![training](plots/{p})' for p in plots[:1])}

## Limits
Two classes only; passages cut at fixed token windows; the test windows come from the same
books (other blocks), so accuracy on other works or editions may be lower. The temperature
`T` in `model/whowrote.json` is applied by `whowrote judge`, not by `pipeline`.
"""
    (run_dir / "README.md").write_text(card)
