"""`whowrote compare`: run the protocols of whowrote/compare.py and write their report.

Writes into --out (default compare/): results_folds.csv (one row per protocol, seed, fold,
length, method), results.csv (protocol x method x length: mean and std across folds and
seeds, passages, seconds), results.md (tables, what each method sees, and the verdict),
accuracy_vs_length.png/.svg, meta.json. `--readme docs/comparison.md` also puts results.md between
the README's `<!-- compare:start -->` and `<!-- compare:end -->` markers.

The verdict per length uses paired differences: for each (seed, fold), the best whowrote
method's balanced accuracy minus the best baseline's on the same passages; "met" when the
95% t-interval of their mean lies above zero.

    whowrote compare --protocol both --lengths 16 32 64 128 256 --folds 5 --seeds 3 --ensemble
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..errors import EXIT_OK, WhowroteError
from ..files import atomic_write, pyplot, readme_section, save_figure, update_readme_section

METRICS = ("balanced_accuracy", "accuracy", "macro_f1", "ece")
OURS = ("whowrote", "ensemble")


def register(sub) -> None:
    p = sub.add_parser("compare", help="classical stylometry baselines vs whowrote on identical passages")
    p.add_argument("--run", help="a run folder whose config (books, model, seed, lr) is the base (default: --preset)")
    p.add_argument("--preset", help="settings to compare with (default: the CLI's default preset)")
    p.add_argument("--data-dir", help="folder of pg<ID>.txt files")
    p.add_argument("--model", help="override the encoder (a hub name or local folder)")
    p.add_argument("--protocol", default="both", choices=["blocks", "works", "both"],
                   help="blocks: blocked k-fold in the training works; works: leave works out (default both)")
    p.add_argument("--lengths", type=int, nargs="+", default=[16, 32, 64, 128, 256], help="passage lengths in tokens")
    p.add_argument("--folds", type=int, default=5, help="folds of the blocks protocol (works: one per work)")
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
        groups[(r["protocol"], r["method"], r["length"])].append(r)
    out = []
    for (protocol, method, length), items in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1])):
        row = {"protocol": protocol, "method": method, "length": length, "runs": len(items)}
        for m in METRICS:
            v = np.array([i[m] for i in items])
            row[f"{m}_mean"], row[f"{m}_std"] = float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0
        for k in [k for k in items[0] if k.startswith(("test_", "train_"))]:
            row[f"{k}_per_fold"] = float(np.mean([i[k] for i in items]))
        row["fit_s_total"] = float(sum(i["fit_s"] for i in items))
        row["predict_s_total"] = float(sum(i["predict_s"] for i in items))
        out.append(row)
    return out


def _write_csv(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
    w.writeheader()
    w.writerows(rows)
    atomic_write(path, buf.getvalue())


def paired_difference(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Mean of a - b over paired runs and its 95% t-interval (lo, hi); one pair: no interval."""
    from scipy import stats

    d = np.asarray(a, float) - np.asarray(b, float)
    if len(d) < 2:
        return float(d.mean()), float("nan"), float("nan")
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def verdict(rows: list[dict], summary: list[dict], key: str = "balanced_accuracy") -> dict[tuple[str, int], str]:
    """Per protocol and length: is the best whowrote method better than the best baseline,
    paired on the same (seed, fold)?"""
    out = {}
    for protocol, L in sorted({(r["protocol"], r["length"]) for r in summary}):
        at = [r for r in summary if r["protocol"] == protocol and r["length"] == L]
        ours = [r for r in at if r["method"].startswith(OURS)]
        theirs = [r for r in at if not r["method"].startswith(OURS)]
        if not ours or not theirs:
            continue
        a, b = max(ours, key=lambda r: r[f"{key}_mean"]), max(theirs, key=lambda r: r[f"{key}_mean"])

        here = [r for r in rows if r["protocol"] == protocol and r["length"] == L]
        ra, rb = ({(r["seed"], r["fold"]): r[key] for r in here if r["method"] == m["method"]} for m in (a, b))
        pairs = sorted(set(ra) & set(rb))
        mean, lo, hi = paired_difference([ra[p] for p in pairs], [rb[p] for p in pairs])
        met = lo > 0
        interval = "no interval from one pair" if np.isnan(lo) else f"95% CI [{lo:+.4f}, {hi:+.4f}]"
        out[(protocol, L)] = (f"{'met' if met else 'NOT met'}: {a['method']} {a[f'{key}_mean']:.4f} vs {b['method']} "
                              f"{b[f'{key}_mean']:.4f}; paired difference {mean:+.4f} over {len(pairs)} runs, {interval}")
    return out


def caption(meta: dict) -> str:
    return (f"Passages of {', '.join(map(str, meta['lengths']))} tokens; {meta['seeds']} seed(s); {meta['created']}, "
            f"{meta['device']}. Protocols: `blocks` = blocked {meta['folds']}-fold cross-validation inside the training "
            f"works; `works` = each fold holds out one work per author and tests on all of it. Every method gets the "
            f"same passages: the classical methods their text (typography unified, names masked, case kept), BERT their "
            f"token ids. Training: classical methods up to {meta['max_train_windows']} disjoint passages per label, "
            f"class-balanced (LR class_weight=balanced, Delta with labels weighted equally); BERT {meta['bert_steps']} "
            f"balanced batches of random overlapping windows. Every method is calibrated by one temperature on its "
            f"log-scores, fitted on the same validation passages.")


def markdown(rows: list[dict], summary: list[dict], meta: dict) -> str:
    lines = [caption(meta), ""]
    for protocol in dict.fromkeys(r["protocol"] for r in summary):
        part = [r for r in summary if r["protocol"] == protocol]
        lengths = sorted({r["length"] for r in part})
        methods = list(dict.fromkeys(r["method"] for r in part))
        cell = {(r["method"], r["length"]): r for r in part}
        for metric, title in (("balanced_accuracy", "Balanced accuracy"), ("ece", "ECE (15 bins, after calibration)")):
            lines += [f"**{title}, protocol `{protocol}`** (mean ± std across folds and seeds)", "",
                      "| method | " + " | ".join(f"{L}" for L in lengths) + " | wall time (s) |",
                      "|---|" + "---|" * (len(lengths) + 1)]
            for m in methods:
                vals = [cell.get((m, L)) for L in lengths]
                txt = [f"{v[metric + '_mean']:.4f} ± {v[metric + '_std']:.4f}" if v else "-" for v in vals]
                wall = sum(v["fit_s_total"] + v["predict_s_total"] for v in vals if v)
                lines.append(f"| {m} | " + " | ".join(txt) + f" | {wall:.0f} |")
            lines.append("")
        counts = [r for r in part if r["method"] == methods[0]]
        lines += ["Test passages per fold (mean, per label): " + "; ".join(
            f"{r['length']}: " + ", ".join(f"{k[5:-9]} {v:.0f}" for k, v in r.items() if k.startswith("test_")) for r in counts), ""]
    v = verdict(rows, summary)
    if v:
        lines += ["**Goal**: whowrote's best model beats the best baseline, paired on the same folds and seeds:", ""]
        lines += [f"- `{p}`, {L} tokens: {t}" for (p, L), t in v.items()] + [""]
    return "\n".join(lines)


def plot(summary: list[dict], path: Path) -> None:
    plt = pyplot()
    protocols = list(dict.fromkeys(r["protocol"] for r in summary))
    fig, axes = plt.subplots(1, len(protocols), figsize=(6.5 * len(protocols), 4.2), dpi=150, squeeze=False)
    for ax, protocol in zip(axes[0], protocols):
        part = [r for r in summary if r["protocol"] == protocol]
        for m in dict.fromkeys(r["method"] for r in part):
            rs = sorted((r for r in part if r["method"] == m), key=lambda r: r["length"])
            ax.errorbar([r["length"] for r in rs], [r["balanced_accuracy_mean"] for r in rs],
                        yerr=[r["balanced_accuracy_std"] for r in rs], marker="o", capsize=3, label=m)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("passage length (tokens)")
        ax.set_ylabel("held-out balanced accuracy")
        ax.set_title({"blocks": "In-book blocks", "works": "Works never trained on"}.get(protocol, protocol))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    for ext in ("png", "svg"):
        save_figure(fig, path.with_suffix(f".{ext}"))
    plt.close(fig)


def run(args) -> int:
    import torch

    from ..config import load_run_config, resolve
    from ..model.bert import load_tokenizer
    from .protocol import run_protocol

    base = load_run_config(args.run) if args.run else resolve(args.preset)
    if args.data_dir:
        base.data_dir = args.data_dir
    if args.model:
        base.model = args.model
    if args.folds < 2 or args.seeds < 1 or any(L < 4 for L in args.lengths) or args.bert_steps < 1:
        raise WhowroteError("compare: need --folds >= 2, --seeds >= 1, --bert-steps >= 1 and lengths >= 4")
    if args.readme:
        readme_section(args.readme, "compare")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WhowroteError(f"cannot write to {out}: {exc.strerror}") from None
    t0 = time.time()
    tokenizer = load_tokenizer(base.model)
    rows = []
    for protocol in (["blocks", "works"] if args.protocol == "both" else [args.protocol]):
        rows += run_protocol(base, tokenizer, args.lengths, args.folds, args.seeds, args.methods, protocol=protocol,
                             bert=not args.no_bert, bert_steps=args.bert_steps,
                             ensemble_with="char" if args.ensemble else None, max_train_windows=args.max_train_windows,
                             max_test_windows=args.max_test_windows, progress=not args.quiet)
    summary = aggregate(rows)
    meta = {"folds": args.folds, "seeds": args.seeds, "bert_steps": args.bert_steps, "lengths": args.lengths,
            "protocol": args.protocol, "max_train_windows": args.max_train_windows, "created": time.strftime("%Y-%m-%d"),
            "wall_seconds": round(time.time() - t0, 1), "model": base.model,
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"}
    _write_csv(out / "results_folds.csv", rows)
    _write_csv(out / "results.csv", summary)
    md = markdown(rows, summary, meta)
    atomic_write(out / "results.md", md)
    atomic_write(out / "meta.json", json.dumps(meta, indent=2) + "\n")
    plot(summary, out / "accuracy_vs_length.png")
    if args.readme:
        readme = Path(args.readme)
        # relpath, not relative_to: the output folder need not lie under the README's folder
        image = Path(os.path.relpath(out / "accuracy_vs_length.png", readme.resolve().parent)).as_posix()
        update_readme_section(readme, "compare", f"{md}\n![accuracy vs length]({image})")
    print(md)
    return EXIT_OK
