"""Leave one work out: each of an author's books in turn never trained on, calibrated on its
first half and tested on its second, the author's other books (the default's held-out work
included) trained on; everything else as the main command (`authors` preset, author fold 0).

For each held-out work it trains a run under ROOT (skipped where ROOT/<label>-<id> already has
a report.json, so an interrupted benchmark resumes), then prints one row per work: the work's
passages given to the author and flagged "neither", the unseen authors flagged, AUROC of "by
one of the authors" against "by another author", the share of other authors accepted at 95%
of the authors' passages accepted, and ECE. With --docs it writes the table into that page
(between `author-works` markers). About 26 minutes a run on a 2-core AMD EPYC (AVX512-BF16).

    python benchmarks/author_works.py runs/works --label alice --docs docs/validation.md
    python benchmarks/author_works.py runs/works --label alice --works 12 651   # two of them
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from machine import run_benchmark  # noqa: E402

from whowrote.config import DEFAULT_PRESET, resolve  # noqa: E402
from whowrote.errors import WhowroteError  # noqa: E402
from whowrote.files import update_readme_section  # noqa: E402
from whowrote.layout import RunFiles, read_json  # noqa: E402


def author_books(config, label: str) -> list[str]:
    """Every book of `label` in `config`: trained on and held out."""
    return list(dict.fromkeys(config.sources[label] + config.heldout.get(label, [])))


def leave_out(config, label: str, work: str):
    """`config` with `work` of `label` held out and the label's other books trained on."""
    books = author_books(config, label)
    if work not in books:
        raise WhowroteError(f"{label} has no book {work} (its books: {', '.join(books)})")
    config.sources[label] = [b for b in books if b != work]
    config.heldout[label] = [work]
    return config


def train_missing(root: Path, label: str, works: list[str], data_dir: str | None, steps: int | None) -> None:
    from whowrote.pipeline import train

    for work in works:
        run = root / f"{label}-{work}"
        if RunFiles(run).report.is_file():
            continue
        print(f"training {run.name}: {label}'s #{work} never trained on", flush=True)
        if (run / "checkpoint").is_dir():  # interrupted: carry on from its last checkpoint
            train(run_dir=run, resume=True, validity=False)
            continue
        config = leave_out(resolve(DEFAULT_PRESET, data_dir=data_dir), label, work)
        config.output_dir = str(root)
        if steps:
            config.steps = steps
        train(config, name=run.name, validity=False)


def row(report: dict, label: str) -> str:
    unseen = report["unseen"]
    work = next(w for w in unseen["per_work"].values() if w["label"] == label)
    return (f"| {work['work']} | {work['passages']} | {work['own_label']:.3f} | {work['neither']:.3f} | "
            f"{unseen['per_label']['neither']['neither']:.3f} | {unseen['auroc']:.3f} | "
            f"{unseen['others_accepted_at_95']:.3f} | {unseen['ece']:.3f} |")


def table(root: Path, label: str, works: list[str]) -> str:
    files = [RunFiles(root / f"{label}-{w}") for w in works]
    reports = [read_json(f.report) for f in files if f.report.is_file()]
    if not reports:
        raise WhowroteError(f"{root}: no {label}-<id> run folders with a report.json")
    steps = ", ".join(sorted({str(r.get("steps")) for r in reports}))
    trained_on = "; ".join(sorted({f"{r.get('hardware')}, {r.get('precision')}" for r in reports}))
    head = (f"Leave one work out ({label}; one seed each, author fold 0, {steps} steps, trained on {trained_on}): "
            f"each row is a run that never trained on that work.\n\n"
            f"| work held out | passages (test half) | given to {label} | flagged \"neither\" | unseen authors flagged "
            f"| AUROC | other authors accepted at 95% | ECE |\n|---|---|---|---|---|---|---|---|")
    return "\n".join([head] + [row(r, label) for r in reports])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path, help="folder of the runs (<label>-<id>), made if missing")
    ap.add_argument("--label", default="alice", help="the author whose works are left out in turn")
    ap.add_argument("--works", nargs="+", help="book ids (default: every training and held-out book of the label)")
    ap.add_argument("--data-dir", help="folder of pg<ID>.txt files")
    ap.add_argument("--steps", type=int, help="training steps (default: the preset's)")
    ap.add_argument("--no-train", action="store_true", help="only read the runs already there")
    ap.add_argument("--docs", help="write the table into this page between author-works markers")
    args = ap.parse_args()
    base = resolve(DEFAULT_PRESET, data_dir=args.data_dir)
    if args.label not in base.author_labels:
        raise WhowroteError(f"--label must be one of {', '.join(base.author_labels)}")
    works = args.works or author_books(base, args.label)
    if not args.no_train:
        train_missing(args.root, args.label, works, args.data_dir, args.steps)
    text = table(args.root, args.label, works)
    print(text)
    if args.docs:
        update_readme_section(args.docs, "author-works", text)


if __name__ == "__main__":
    run_benchmark(main)
