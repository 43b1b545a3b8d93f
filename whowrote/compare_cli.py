"""`whowrote compare`: run the protocol of whowrote/compare.py and write its report.

Writes into --out (default compare/): results_folds.csv (one row per seed, fold, length,
method), results.csv (method x length: mean and std across folds and seeds, test windows
per label, wall time), results.md (tables + whether the goal is met), accuracy_vs_length.png
/.svg (error bars: std across folds and seeds). `--readme README.md` also puts results.md
between the README's `<!-- compare:start -->` and `<!-- compare:end -->` markers.

    whowrote compare --run runs/X --lengths 16 32 64 128 256 --folds 5 --seeds 3 --ensemble
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from .errors import EXIT_OK, WhowroteError
from .files import readme_section, update_readme_section

METRICS = ("balanced_accuracy", "accuracy", "macro_f1", "ece")


def register(sub) -> None:
    p = sub.add_parser("compare", help="classical stylometry baselines vs whowrote on identical passages")
    p.add_argument("--run", help="a run folder whose config (books, model, seed, lr) is the base (default: --preset)")
    p.add_argument("--preset", help="settings to compare with (default: the CLI's default preset)")
    p.add_argument("--data-dir", help="folder of pg<ID>.txt files")
    p.add_argument("--model", help="override the encoder (a hub name or local folder)")
    p.add_argument("--lengths", type=int, nargs="+", default=[16, 32, 64, 128, 256], help="passage lengths in tokens")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--methods", nargs="+", default=["char", "word", "delta"], choices=["char", "word", "delta"])
    p.add_argument("--no-bert", action="store_true", help="baselines only")
    p.add_argument("--bert-steps", type=int, default=60, help="training steps of each BERT run (shorter than train)")
    p.add_argument("--ensemble", action="store_true", help="add BERT + char n-gram ensemble (weight fitted on validation)")
    p.add_argument("--max-train-windows", type=int, default=4000, help="cap on baseline training passages per label")
    p.add_argument("--max-test-windows", type=int, default=1000, help="cap on test (and validation) passages per label and fold")
    p.add_argument("--out", default="compare")
    p.add_argument("--readme", help="also write the table into this README between compare markers")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


def aggregate(rows: list[dict]) -> list[dict]:
    groups = defaultdict(list)
    for r in rows:
        groups[(r["method"], r["length"])].append(r)
    out = []
    for (method, length), items in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        row = {"method": method, "length": length, "runs": len(items)}
        for m in METRICS:
            v = np.array([i[m] for i in items])
            row[f"{m}_mean"], row[f"{m}_std"] = float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0
        for k in [k for k in items[0] if k.startswith("test_")]:
            row[f"{k}_per_fold"] = float(np.mean([i[k] for i in items]))
        row["fit_s_total"] = float(sum(i["fit_s"] for i in items))
        row["predict_s_total"] = float(sum(i["predict_s"] for i in items))
        out.append(row)
    return out


def _write_csv(path: Path, rows: list[dict]) -> None:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def verdict(summary: list[dict]) -> dict[int, str]:
    """Per length: does whowrote's best beat the best baseline by more than the spread?"""
    out = {}
    for L in sorted({r["length"] for r in summary}):
        at = [r for r in summary if r["length"] == L]
        ours = [r for r in at if r["method"].startswith(("whowrote", "ensemble"))]
        theirs = [r for r in at if r not in ours]
        if not ours or not theirs:
            continue
        key = "balanced_accuracy"
        a, b = max(ours, key=lambda r: r[f"{key}_mean"]), max(theirs, key=lambda r: r[f"{key}_mean"])
        gap, spread = a[f"{key}_mean"] - b[f"{key}_mean"], max(a[f"{key}_std"], b[f"{key}_std"])
        met = gap > spread
        out[L] = (f"{'met' if met else 'NOT met'}: best whowrote ({a['method']}) {a[f'{key}_mean']:.4f} vs best "
                  f"baseline ({b['method']}) {b[f'{key}_mean']:.4f}, gap {gap:+.4f}, spread {spread:.4f}")
    return out


def markdown(summary: list[dict], meta: dict) -> str:
    lengths = sorted({r["length"] for r in summary})
    methods = list(dict.fromkeys(r["method"] for r in summary))
    cell = {(r["method"], r["length"]): r for r in summary}
    lines = [f"Passages of {', '.join(map(str, lengths))} tokens; blocked {meta['folds']}-fold CV x {meta['seeds']} seed(s); "
             f"BERT: {meta['bert_steps']} training steps per run; {meta['created']}, {meta['device']}.", ""]
    for metric, title in (("balanced_accuracy", "Balanced accuracy"), ("accuracy", "Accuracy"),
                          ("macro_f1", "Macro-F1"), ("ece", "ECE (15 bins)")):
        lines += [f"**{title}** (mean ± std across folds and seeds)", "",
                  "| method | " + " | ".join(f"{L}" for L in lengths) + " | wall time (s) |",
                  "|---|" + "---|" * (len(lengths) + 1)]
        for m in methods:
            vals = [cell.get((m, L)) for L in lengths]
            txt = [f"{v[metric + '_mean']:.4f} ± {v[metric + '_std']:.4f}" if v else "-" for v in vals]
            wall = sum(v["fit_s_total"] + v["predict_s_total"] for v in vals if v)
            lines.append(f"| {m} | " + " | ".join(txt) + f" | {wall:.0f} |")
        lines.append("")
    counts = [r for r in summary if r["method"] == methods[0]]
    lines += ["Test windows per fold (mean, per label; disjoint, capped evenly through the book): " + "; ".join(
        f"{r['length']}: " + ", ".join(f"{k[5:-9]} {v:.0f}" for k, v in r.items() if k.startswith("test_")) for r in counts), ""]
    v = verdict(summary)
    if v:
        lines += ["**Goal** — whowrote's best model beats the best baseline at every length by more than the "
                  "fold-to-fold spread:", ""] + [f"- {L} tokens: {t}" for L, t in v.items()] + [""]
    return "\n".join(lines)


def plot(summary: list[dict], path: Path) -> None:
    from .files import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=150)
    for m in dict.fromkeys(r["method"] for r in summary):
        rs = sorted((r for r in summary if r["method"] == m), key=lambda r: r["length"])
        ax.errorbar([r["length"] for r in rs], [r["balanced_accuracy_mean"] for r in rs],
                    yerr=[r["balanced_accuracy_std"] for r in rs],
                    marker="o", capsize=3, label=m)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("passage length (tokens)")
    ax.set_ylabel("held-out balanced accuracy")
    ax.set_title("Who wrote it: accuracy vs passage length")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(path.with_suffix(f".{ext}"))
    plt.close(fig)


def run(args) -> int:
    import torch

    from .compare import run_protocol
    from .config import load_run_config, resolve
    from .model import load_tokenizer

    base = load_run_config(args.run) if args.run else resolve(args.preset)
    if args.data_dir:
        base.data_dir = args.data_dir
    if args.model:
        base.model = args.model
    if args.folds < 2 or args.seeds < 1 or any(L < 4 for L in args.lengths):
        raise WhowroteError("compare: need --folds >= 2, --seeds >= 1 and lengths >= 4")
    if args.readme:
        readme_section(args.readme, "compare")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WhowroteError(f"cannot write to {out}: {exc.strerror}") from None
    t0 = time.time()
    rows = run_protocol(base, load_tokenizer(base.model), args.lengths, args.folds, args.seeds, args.methods,
                        bert=not args.no_bert, bert_steps=args.bert_steps, ensemble=args.ensemble,
                        max_train_windows=args.max_train_windows, max_test_windows=args.max_test_windows,
                        progress=not args.quiet)
    summary = aggregate(rows)
    meta = {"folds": args.folds, "seeds": args.seeds, "bert_steps": args.bert_steps, "lengths": args.lengths,
            "created": time.strftime("%Y-%m-%d"), "wall_seconds": round(time.time() - t0, 1),
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU", "model": base.model}
    _write_csv(out / "results_folds.csv", rows)
    _write_csv(out / "results.csv", summary)
    md = markdown(summary, meta)
    (out / "results.md").write_text(md)
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    plot(summary, out / "accuracy_vs_length.png")
    if args.readme:
        readme = Path(args.readme)
        # relpath, not relative_to: the output folder need not lie under the README's folder
        image = Path(os.path.relpath(out / "accuracy_vs_length.png", readme.resolve().parent)).as_posix()
        update_readme_section(readme, "compare", f"{md}\n![accuracy vs length]({image})")
    print(md)
    return EXIT_OK
