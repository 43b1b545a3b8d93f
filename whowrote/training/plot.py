"""The study's figure: loss and accuracy against step on two y-axes, raw and smoothed.

Raw per-step values are drawn faint, the centred moving mean (k, edge mode) bold, held-out
validation points as markers, and the first/last (k-1)/2 steps, where the mean rests on
fewer than k points, shaded as the edge region. Written as PNG and SVG into RUN/plots/.

    whowrote plot runs/cpu-20261126-120000 --k 5 --edge zero
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import WhowroteError
from ..files import pyplot, save_figure
from ..layout import RunFiles
from ..smooth import edge_width, smooth
from .runfolder import check_run_dir

LOSS_COLOR, ACC_COLOR = "tab:red", "tab:blue"


def read_metrics(run_dir: str | Path) -> tuple[list[dict], list[dict]]:
    """(train rows, validation rows) from RUN/metrics.jsonl."""
    path = RunFiles(run_dir).metrics
    if not path.is_file():
        check_run_dir(run_dir)  # not a run folder at all: the one message for that
        raise WhowroteError(f"{run_dir} has no training steps yet (no metrics.jsonl)")
    train, val = [], []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash: the rest is still worth plotting
        (val if row.get("kind") == "val" else train).append(row)
    return train, val


def plot_run(run_dir: str | Path, k: int = 3, edge: str = "shrink", title: str | None = None) -> list[Path]:
    plt = pyplot()
    run_dir = Path(run_dir)
    train, val = read_metrics(run_dir)
    if not train:
        raise WhowroteError(f"{run_dir}/metrics.jsonl has no training steps to plot")
    steps = np.array([r["step"] for r in train])
    loss = np.array([r["loss"] for r in train])
    acc = np.array([r["accuracy"] for r in train])
    k = min(k, len(steps) if len(steps) % 2 else len(steps) - 1)

    fig, ax_loss = plt.subplots(figsize=(8, 4.5), dpi=150)
    ax_acc = ax_loss.twinx()
    x_s = steps[edge_width(k): len(steps) - edge_width(k)] if edge == "valid" else steps
    ax_loss.plot(steps, loss, color=LOSS_COLOR, alpha=0.25, lw=1, label="train loss (raw)")
    ax_loss.plot(x_s, smooth(loss, k, edge), color=LOSS_COLOR, lw=2, label=f"train loss (mean, k={k}, {edge})")
    ax_acc.plot(steps, acc, color=ACC_COLOR, alpha=0.25, lw=1, label="train accuracy (raw)")
    ax_acc.plot(x_s, smooth(acc, k, edge), color=ACC_COLOR, lw=2, label=f"train accuracy (mean, k={k}, {edge})")
    if val:
        vs = [r["step"] for r in val]
        ax_loss.plot(vs, [r["loss"] for r in val], "s--", color=LOSS_COLOR, ms=4, lw=0.8, label="validation loss")
        ax_acc.plot(vs, [r["accuracy"] for r in val], "o--", color=ACC_COLOR, ms=4, lw=0.8, label="validation accuracy")
    w = edge_width(k)
    if w and edge != "valid":
        for lo, hi in ((steps[0], steps[w - 1]), (steps[-w], steps[-1])):
            ax_loss.axvspan(lo - 0.5, hi + 0.5, color="grey", alpha=0.15, lw=0)
        ax_loss.plot([], [], color="grey", alpha=0.3, lw=6, label=f"edge region ({w} step(s) each end)")

    ax_loss.set_xlabel("training step (one balanced batch)")
    ax_loss.set_ylabel("cross-entropy loss", color=LOSS_COLOR)
    ax_acc.set_ylabel("accuracy", color=ACC_COLOR)
    ax_acc.set_ylim(-0.02, 1.02)
    ax_loss.set_ylim(bottom=0)
    ax_loss.set_title(title or f"{run_dir.name}: loss and accuracy per step")
    handles = ax_loss.get_legend_handles_labels()[0] + ax_acc.get_legend_handles_labels()[0]
    ax_loss.legend(handles, [h.get_label() for h in handles], loc="center right", fontsize=7, framealpha=0.9)
    ax_loss.grid(alpha=0.3)
    fig.tight_layout()

    out_dir = RunFiles(run_dir).plots
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = [out_dir / f"training_k{k}_{edge}.{ext}" for ext in ("png", "svg")]
        for p in paths:
            save_figure(fig, p)
    except OSError as exc:
        raise WhowroteError(f"cannot write plots into {out_dir}: {exc.strerror}") from None
    finally:
        plt.close(fig)
    return paths
