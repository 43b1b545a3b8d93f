"""The cross-validated figures of "neither": every background author scored by a model that
never saw them, whose thresholds never saw them either (the `authors` preset's author folds).

Reads the run folders of the folds (each `whowrote train --author-fold F`, its report.json and
validity.json), pools the test authors' passages over the folds and prints, per fold and
pooled: unseen authors flagged "neither" (and by era), each author's own unseen passages
flagged and given to him, ECE, AUROC of "by one of them" against "by another author", the
share of other authors accepted at 95% of the authors' passages accepted, and the word-order
probes. With --docs it writes the table into that page (between `author-folds` markers) and
a plot beside it.

    python benchmarks/author_folds.py runs/folds --docs docs/validation.md
    python benchmarks/author_folds.py runs/folds --counts runs/counts/* runs/folds/fold0 --docs docs/validation.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from machine import run_benchmark  # noqa: E402

from whowrote.errors import WhowroteError  # noqa: E402
from whowrote.files import update_readme_section  # noqa: E402
from whowrote.text.background import ERAS  # noqa: E402

ORDER_PROBES = ("shuffled words", "shuffled runs of 3-5 words", "sentences reordered", "keywords stuffed 10%",
                "Markov order 1", "Markov order 2", "Markov order 3", "Markov order 4")


def load_folds(root: Path) -> dict[str, tuple[dict, dict]]:
    if not root.is_dir():
        raise WhowroteError(f"{root}: no such folder (it should hold the runs fold0, fold1, ...)")
    out = {}
    for run in sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("fold")):
        if not (run / "report.json").is_file():  # still training, or stopped before its evaluation
            print(f"{run}: no report.json yet, left out", file=sys.stderr)
            continue
        report = json.loads((run / "report.json").read_text())
        validity = json.loads((run / "validity.json").read_text()) if (run / "validity.json").is_file() else {}
        out[run.name] = (report, validity)
    return out


def fold_row(report: dict, validity: dict) -> dict:
    u = report["unseen"]
    per = u["per_label"]
    row = {"flagged": per["neither"]["neither"], "passages": per["neither"]["passages"], "ece": u["ece"],
           "auroc": u.get("auroc"), "others_accepted_at_95": u.get("others_accepted_at_95"),
           "eras": {e: (v["neither"], v["passages"]) for e, v in u.get("neither_by_era", {}).items()}}
    for a in (lab for lab in per if lab != "neither"):
        row[f"{a} flagged"], row[f"{a} own"] = per[a]["neither"], per[a]["own_label"]
    order = validity.get("order") or {}
    for name in ORDER_PROBES:
        if name in order:
            row[name] = order[name]["mean_s" if name.startswith("Markov") else "given_to_author"]
    if validity.get("seeds"):
        row["seeds agree"] = validity["seeds"]["agreement"]
    row["modern prose"] = (validity.get("modern_prose") or {}).get("neither")
    return row


def pooled_era(rows: list[dict]) -> dict[str, tuple[float, int]]:
    out = {}
    for e, _, _ in ERAS:
        got = [r["eras"][e] for r in rows if e in r["eras"]]
        n = sum(p for _, p in got)
        if n:
            out[e] = (sum(v * p for v, p in got) / n, n)
    return out


def table(folds: dict[str, tuple[dict, dict]]) -> str:
    rows = {name: fold_row(*rv) for name, rv in folds.items()}
    keys = [k for k in next(iter(rows.values())) if k not in ("passages", "eras")]
    lines = ["| figure | " + " | ".join(rows) + " | pooled / mean [min, max] |", "|---" * (len(rows) + 2) + "|"]
    for k in keys:
        vals = [r.get(k) for r in rows.values()]
        got = [v for v in vals if v is not None]
        if not got:
            continue
        if k == "flagged":
            n = [r["passages"] for r in rows.values()]
            summary = f"**{np.average(got, weights=n):.3f}** [{min(got):.3f}, {max(got):.3f}]"
        else:
            summary = f"{np.mean(got):.3f} [{min(got):.3f}, {max(got):.3f}]"
        name = "unseen authors flagged \"neither\"" if k == "flagged" else k
        lines.append(f"| {name} | " + " | ".join("" if v is None else f"{v:.3f}" for v in vals) + f" | {summary} |")
    for e, (v, n) in pooled_era(list(rows.values())).items():
        per = [r["eras"].get(e) for r in rows.values()]
        lines.append(f"| flagged, {e} | " + " | ".join("" if p is None else f"{p[0]:.3f}" for p in per)
                     + f" | **{v:.3f}** ({n} passages) |")
    return "\n".join(lines)


def plot(folds: dict[str, tuple[dict, dict]], path: Path) -> None:
    from whowrote.files import pyplot, save_figure

    plt = pyplot()
    rows = {name: fold_row(*rv) for name, rv in folds.items()}
    eras = [e for e, _, _ in ERAS]
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=150)
    for name, r in rows.items():
        ax.plot(eras, [r["eras"].get(e, (np.nan, 0))[0] for e in eras], "o-", alpha=0.6, label=name)
    pooled = pooled_era(list(rows.values()))
    ax.plot(eras, [pooled.get(e, (np.nan, 0))[0] for e in eras], "k-", lw=2.5, label="pooled")
    ax.axhline(0.9, color="grey", ls="--", lw=1)
    ax.axhline(0.8, color="grey", ls=":", lw=1)
    ax.set_ylim(0, 1)
    ax.set_ylabel('authors never seen: flagged "neither"')
    ax.set_title("Each author scored by the fold that never saw them")
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    for ext in ("png", "svg"):
        save_figure(fig, path.with_suffix(f".{ext}"))
    plt.close(fig)


def count_curve(runs: list[Path], path: Path | None) -> str:
    """Unseen authors flagged (and by era) against the number of background authors trained
    on: runs of one fold that differ only in how many of its training authors they keep."""
    rows = []
    for run in runs:
        if not (run / "report.json").is_file() or not (run / "config.json").is_file():
            raise WhowroteError(f"{run}: not a run folder with report.json and config.json")
        report = json.loads((run / "report.json").read_text())
        n = len(json.loads((run / "config.json").read_text())["config"]["sources"]["neither"])
        u = report["unseen"]
        rows.append((n, u["per_label"]["neither"]["neither"], u.get("auroc"), u.get("others_accepted_at_95"),
                     {e: v["neither"] for e, v in u.get("neither_by_era", {}).items()}))
    rows.sort()
    eras = [e for e, _, _ in ERAS]
    lines = ["| background authors trained on | unseen authors flagged | AUROC | others accepted at 95% | "
             + " | ".join(eras) + " |", "|---" * (4 + len(eras)) + "|"]
    lines += [f"| {n} | {f:.3f} | {a:.3f} | {o:.3f} | " + " | ".join(f"{e.get(x, float('nan')):.3f}" for x in eras) + " |"
              for n, f, a, o, e in rows]
    if path:
        from whowrote.files import pyplot, save_figure

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6, 3.6), dpi=150)
        ns = [r[0] for r in rows]
        ax.plot(ns, [r[1] for r in rows], "ko-", lw=2, label="all test authors")
        for x in eras:
            ax.plot(ns, [r[4].get(x, np.nan) for r in rows], "o--", alpha=0.7, label=x)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.axhline(0.9, color="grey", ls="--", lw=1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("background authors trained on")
        ax.set_ylabel('test authors flagged "neither"')
        ax.set_title("Does the lever still pay? (one fold, one seed each)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        for ext in ("png", "svg"):
            save_figure(fig, path.with_suffix(f".{ext}"))
        plt.close(fig)
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path, help="a folder holding fold0..foldK-1 run folders")
    ap.add_argument("--docs", help="write the table into this page between author-folds markers, the plot beside it")
    ap.add_argument("--counts", nargs="*", type=Path, help="runs of one fold with fewer background authors (and the fold's own)")
    args = ap.parse_args()
    if args.counts:
        figure = Path(args.docs).parent / "figures" / "background_count.png" if args.docs else None
        text = count_curve(args.counts, figure)
        print(text)
        if args.docs:
            update_readme_section(args.docs, "background-count", text + f"\n\n![the curve](figures/{figure.name})\n")
        return
    folds = load_folds(args.root)
    if not folds:
        sys.exit(f"{args.root}: no fold* run folders with report.json")
    text = table(folds)
    print(text)
    if args.docs:
        figure = Path(args.docs).parent / "figures" / "author_folds.png"
        figure.parent.mkdir(parents=True, exist_ok=True)
        plot(folds, figure)
        update_readme_section(args.docs, "author-folds", text + f"\n\n![flagged by era, per fold](figures/{figure.name})\n")


if __name__ == "__main__":
    run_benchmark(main)
