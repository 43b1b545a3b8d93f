"""The comparison's report: per-fold rows averaged (`aggregate`), the paired verdict of
whowrote against the best baseline at each length, the markdown tables, the CSV files and the
accuracy-vs-length plot. `commands/compare.py` runs the protocols and writes them with this.

The verdict per length uses paired differences: for each (seed, fold), the best whowrote
method's balanced accuracy minus the best baseline's on the same passages; "met" when the
95% t-interval of their mean lies above zero.

    python -c "from whowrote.compare.report import paired_difference; print(paired_difference([0.9, 0.8], [0.7, 0.7]))"
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..files import atomic_write, pyplot, save_figure

METRICS = ("balanced_accuracy", "accuracy", "macro_f1", "ece")
OURS = ("whowrote", "ensemble")


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


def write_csv(path: Path, rows: list[dict]) -> None:
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
