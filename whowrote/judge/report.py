"""A report over a batch of judged texts: shares (with their 95% Wilson intervals), mean and
spread of P(label), per group.

Groups are any JSONL field carried through (e.g. `model`, `prompt`, `checkpoint`); by
default every field with at most MAX_GROUPS distinct scalar values. Writes, into DIR:
report.json (format "whowrote.judge-report/1"), report.md, p_<label>_hist.png/.svg.

    cat samples.jsonl | whowrote judge --model runs/x --jsonl - --report out/ --group-by model
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..errors import WhowroteError
from ..files import atomic_write, pyplot, save_figure
from ..model.metrics import share_interval, share_text
from .records import Score

REPORT_FORMAT = "whowrote.judge-report/1"
MAX_GROUPS = 50


def summarise(scores: list[Score], labels: list[str]) -> dict:
    ok = [s for s in scores if not s.error]
    out = {"texts": len(scores), "scored": len(ok), "errors": len(scores) - len(ok),
           "short": sum("short" in s.flags for s in ok), "not_english": sum("not-english" in s.flags for s in ok),
           "by_label": {}}
    for label in labels:
        p = np.array([s.probs[label] if label in s.probs else s.p_neither for s in ok])
        count = sum(s.label == label for s in ok)
        out["by_label"][label] = {
            "count": count, "share": count / len(ok) if ok else None,
            # a generator's 40% against another's 46% on 200 samples each is not yet a difference
            "share_ci": share_interval(count, len(ok)) if ok else None,
            "mean_p": float(p.mean()) if len(p) else None, "std_p": float(p.std(ddof=1)) if len(p) > 1 else None,
            "median_p": float(np.median(p)) if len(p) else None,
        }
    return out


def group_fields(scores: list[Score], requested: list[str] | None) -> list[str]:
    if requested:
        return requested
    values = defaultdict(set)
    for s in scores:
        for k, v in s.extra.items():
            if isinstance(v, (str, int, float, bool)) and k != "source":
                values[k].add(v)
    return sorted(k for k, v in values.items() if 1 < len(v) <= MAX_GROUPS)


def build(scores: list[Score], labels: list[str], group_by: list[str] | None = None) -> dict:
    report = {"format": REPORT_FORMAT, "labels": labels, "overall": summarise(scores, labels), "groups": {},
              "errors": [{"id": s.id, "error": s.error} for s in scores if s.error]}
    for fld in group_fields(scores, group_by):
        buckets = defaultdict(list)
        for s in (s for s in scores if not s.error):  # errors are listed once, below, not per group
            buckets[str(s.extra.get(fld, "(missing)"))].append(s)
        report["groups"][fld] = {value: summarise(items, labels) for value, items in sorted(buckets.items())}
    return report


def _markdown(report: dict) -> str:
    labels = report["labels"]
    head = "| group | texts | " + " | ".join(f"share {l} [95% interval] | mean P({l}) ± sd" for l in labels) + " |"
    rule = "|---|---|" + "---|---|" * len(labels)

    def row(name, s):
        cells = []
        for l in labels:
            b = s["by_label"][l]
            share = "-" if b["share"] is None else share_text(b, "share")
            mean = "-" if b["mean_p"] is None else f"{b['mean_p']:.3f}" + ("" if b["std_p"] is None else f" ± {b['std_p']:.3f}")
            cells += [share, mean]
        return f"| {name} | {s['scored']} | " + " | ".join(cells) + " |"

    lines = ["# whowrote judge report", "", head, rule, row("all", report["overall"])]
    for fld, groups in report["groups"].items():
        lines += [row(f"{fld} = {v}", s) for v, s in groups.items()]
    if report["errors"]:
        lines += ["", f"{len(report['errors'])} record(s) could not be scored:", ""]
        lines += [f"- `{e['id']}`: {e['error']}" for e in report["errors"]]
    return "\n".join(lines) + "\n"


def write(scores: list[Score], labels: list[str], out_dir: str | Path, group_by: list[str] | None = None) -> dict:
    plt = pyplot()
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WhowroteError(f"cannot write the report into {out_dir}: {exc.strerror}") from None
    report = build(scores, labels, group_by)
    atomic_write(out_dir / "report.json", json.dumps(report, indent=2) + "\n")
    atomic_write(out_dir / "report.md", _markdown(report))
    target = labels[0]
    p = [s.probs[target] for s in scores if not s.error]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=150)
    ax.hist(p, bins=np.linspace(0, 1, 21), color="tab:blue", edgecolor="white")
    ax.set_xlabel(f"P({target} | text)")
    ax.set_ylabel("texts")
    ax.set_title(f"{len(p)} texts judged; mean P({target}) = {np.mean(p) if p else float('nan'):.3f}")
    fig.tight_layout()
    for ext in ("png", "svg"):
        save_figure(fig, out_dir / f"p_{target}_hist.{ext}")
    plt.close(fig)
    return report
