"""Rolling attribution: who wrote which part of a long text, and where the hand changes.

Like stylo's rolling.classify, but with the judge's windows: P(author) (and P(neither))
for windows of `window` tokens every `stride` tokens along the text (default: the model's
window, half-window stride), smoothed with whowrote.smooth (width k, edge mode explicit, as
in the training plot). The text's own section headings (CHAPTER ..., title lines in
capitals, Markdown headings) are marked. Change points are found on a finer series of their own, a window
every window/8 tokens whatever the displayed stride, by optimal segmentation: the label
sequence that maximises the windows' summed log-probabilities minus `change_cost` nats per
change of hand (Viterbi), so a short misattributed stretch does not count as a new hand;
a boundary lies halfway between the last window of one hand and the first of the next.
`among` names the hands the segmentation may choose from (say the two authors of a text
known to be by them, leaving "neither" out); the windows' own probabilities keep every label.

    whowrote judge --model runs/X --rolling book.txt --out rolling/
    python -c "from whowrote import Judge; r = Judge.load('runs/X').rolling(open('book.txt').read()); print(r.boundaries)"
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

from ..files import atomic_write, pyplot, save_figure
from ..model.openset import NEITHER, decide_split, split_probs
from ..smooth import edge_width, smooth
from ..text.headings import section_headings

ROLLING_FORMAT = "whowrote.rolling/1"


@dataclass
class Rolling:
    labels: list[str]  # the author labels
    window: int
    stride: int
    smooth_k: int
    edge: str
    token_start: np.ndarray
    char_start: np.ndarray
    char_end: np.ndarray
    probs: np.ndarray  # [n, authors], renormalised over the authors
    p_neither: np.ndarray | None
    smoothed: np.ndarray  # [n', authors] (n' = n, or n - k + 1 with edge "valid")
    smoothed_neither: np.ndarray | None
    decisions: list[str]
    segments: list[dict] = field(default_factory=list)
    boundaries: list[dict] = field(default_factory=list)
    headings: list[dict] = field(default_factory=list)
    among: list[str] | None = None  # the hands the segmentation chose from (None: every label)

    @property
    def centres(self) -> np.ndarray:
        return self.token_start + self.window / 2

    def to_dict(self) -> dict:
        lo = edge_width(self.smooth_k) if self.edge == "valid" else 0
        rows = []
        for i in range(len(self.token_start)):
            row = {"token_start": int(self.token_start[i]), "token_end": int(self.token_start[i] + self.window),
                   "char_start": int(self.char_start[i]), "char_end": int(self.char_end[i]),
                   "probs": {l: float(p) for l, p in zip(self.labels, self.probs[i])}, "label": self.decisions[i]}
            if self.p_neither is not None:
                row["p_neither"] = float(self.p_neither[i])
            j = i - lo
            if 0 <= j < len(self.smoothed):
                row["smoothed"] = {l: float(p) for l, p in zip(self.labels, self.smoothed[j])}
            rows.append(row)
        return {"format": ROLLING_FORMAT, "labels": self.labels, "window": self.window, "stride": self.stride,
                "smooth": {"k": self.smooth_k, "edge": self.edge}, "windows": rows, "segments": self.segments,
                "boundaries": self.boundaries, "headings": self.headings, "among": self.among}

    def write_csv(self, path) -> None:
        buf = io.StringIO()
        w = csv.writer(buf)
        extra = ["p_neither"] if self.p_neither is not None else []
        w.writerow(["token_start", "token_end", "char_start", "char_end", *[f"p_{l}" for l in self.labels], *extra, "label"])
        for r in self.to_dict()["windows"]:
            w.writerow([r["token_start"], r["token_end"], r["char_start"], r["char_end"],
                        *[f"{r['probs'][l]:.6f}" for l in self.labels], *([f"{r['p_neither']:.6f}"] if extra else []), r["label"]])
        atomic_write(path, buf.getvalue())

    def plot(self, path, title: str = "") -> None:
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(10, 3.8), dpi=150)
        x = self.centres
        lo = edge_width(self.smooth_k) if self.edge == "valid" else 0
        xs = x[lo: lo + len(self.smoothed)]
        for i, label in enumerate(self.labels):
            line = ax.plot(x, self.probs[:, i], alpha=0.25, lw=1)[0]
            ax.plot(xs, self.smoothed[:, i], lw=2, color=line.get_color(), label=f"P({label}), mean k={self.smooth_k} ({self.edge})")
        if self.p_neither is not None:
            ax.plot(xs, self.smoothed_neither, lw=1.5, ls="--", color="grey", label="P(neither)")
        for b in self.boundaries:
            ax.axvline(b["token"], color="black", lw=1, ls=":")
        for h in self.headings:
            ax.axvline(h["token"], color="tab:green", lw=0.6, alpha=0.6)
            ax.text(h["token"], 1.02, h["text"][:24], rotation=60, fontsize=5, va="bottom", ha="left", color="tab:green")
        ax.set_ylim(-0.02, 1.0)
        ax.set_xlabel("token offset (window centre)")
        ax.set_ylabel("probability")
        secax = ax.secondary_xaxis("top", functions=(lambda t: np.interp(t, x, (self.char_start + self.char_end) / 2),
                                                     lambda c: np.interp(c, (self.char_start + self.char_end) / 2, x)))
        secax.set_xlabel("character offset", fontsize=7)
        secax.tick_params(labelsize=6)
        ax.set_title(title or f"Rolling attribution: windows of {self.window} tokens every {self.stride}", fontsize=9, pad=28)
        ax.legend(fontsize=6, loc="lower right")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        save_figure(fig, path)
        plt.close(fig)


def headings(text: str, offsets: list[tuple[int, int]]) -> list[dict]:
    """Section headings of the text (text/headings.py), with character and token offsets."""
    starts = [s for s, _ in offsets]
    return [{"char": char, "token": bisect_right(starts, char), "text": title}
            for char, title in section_headings(text)]


def _label_runs(decisions: list[str]) -> list[list]:
    """[label, first window, last window] of each run of equal decisions."""
    runs: list[list] = []
    for i, d in enumerate(decisions):
        if runs and runs[-1][0] == d:
            runs[-1][2] = i
        else:
            runs.append([d, i, i])
    return runs


def _starts(n_tokens: int, window: int, stride: int) -> list[int]:
    starts = list(range(0, n_tokens - window + 1, stride))
    if starts[-1] != n_tokens - window:
        starts.append(n_tokens - window)  # the last window ends on the last token
    return starts


CHANGE_COST = 20.0  # nats; chosen on spliced documents of other seeds than the benchmark's (F1 0.68 there)


def viterbi(loglik: np.ndarray, cost: float) -> list[int]:
    """The label sequence maximising the sum of per-window log-likelihoods minus `cost`
    for every change of label (optimal segmentation, exact by dynamic programming)."""
    n, n_states = loglik.shape
    score, back = loglik[0].copy(), np.zeros((n, n_states), dtype=int)
    for t in range(1, n):
        switch = score.max() - cost
        back[t] = np.where(score >= switch, np.arange(n_states), score.argmax())
        score = np.maximum(score, switch) + loglik[t]
    path = [int(score.argmax())]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t][path[-1]]))
    return path[::-1]


def hand_names(judge) -> list[str]:
    """The model's labels as hands: the authors, and "neither" for its background label."""
    return [NEITHER if lab == judge.open_set.background else lab for lab in judge.labels]


def change_points(judge, ids: list[int], window: int, cost: float = CHANGE_COST,
                  among: list[str] | None = None) -> tuple[list[list], list[float]]:
    """(runs [label, first, last window], boundary tokens) on a fine series: a window every
    window/8 tokens, labelled by the segmentation that best explains their log-probabilities
    with `cost` paid per change of hand (so a short flicker does not count), each boundary
    halfway between the last window of one hand and the first of the next. `among`: the
    hands to choose from (default: the authors and "neither" where the model has it)."""
    step = max(1, window // 8)
    starts = _starts(len(ids), window, step)
    logp = judge.log_probs([ids[s:s + window] for s in starts])
    names = hand_names(judge)
    # dropping columns needs no renormalising: it shifts every state of a window alike
    hands = [i for i, name in enumerate(names) if among is None or name in among]
    path = viterbi(logp[:, hands], cost)
    runs = _label_runs([names[hands[i]] for i in path])
    centres = np.array(starts) + window / 2
    return runs, [float((centres[a[2]] + centres[b[1]]) / 2) for a, b in zip(runs, runs[1:])]


def check_among(judge, among: list[str] | None) -> list[str] | None:
    """`among` as the model's label names in its own order, or a WhowroteError saying why not."""
    from ..errors import WhowroteError

    if among is None:
        return None
    names = hand_names(judge)
    unknown = [a for a in among if a not in names]
    if unknown:
        raise WhowroteError(f"rolling: --among: {', '.join(map(repr, unknown))} is no label of this model "
                            f"(its labels: {', '.join(names)})")
    if len(set(among)) < 2:
        raise WhowroteError("rolling: --among needs at least two different labels (one hand has no boundaries)")
    return [name for name in names if name in among]


def rolling(judge, text: str, window: int | None = None, stride: int | None = None, smooth_k: int = 3,
            edge: str = "shrink", change_cost: float = CHANGE_COST, among: list[str] | None = None) -> Rolling:
    """The rolling attribution of `text` by `judge` (see the module docstring)."""
    from ..errors import WhowroteError

    among = check_among(judge, among)

    window = window or judge.window
    stride = stride or max(1, window // 2)
    if not 1 <= window <= judge.window:
        raise WhowroteError(f"rolling: --window must be in 1..{judge.window} tokens (the model's window)")
    if stride < 1:
        raise WhowroteError("rolling: --stride must be at least 1 token")
    # read whole, its opening title too: the series' token offsets count the text as given, and a
    # long text's title weighs nothing in it (the heading is marked on the plot instead)
    ids, offsets = judge.encode([text], read_headings=True)[0]
    if len(ids) < window:
        raise WhowroteError(f"rolling: the text has {len(ids)} tokens, fewer than one window of {window}")
    starts = _starts(len(ids), window, stride)
    probs = np.exp(judge.log_probs([ids[s:s + window] for s in starts]))
    authors, p_neither, names = split_probs(probs, judge.labels, judge.open_set.background)
    k = min(smooth_k, len(starts) if len(starts) % 2 else len(starts) - 1)
    sm = np.stack([smooth(authors[:, i], k, edge) for i in range(len(names))], 1)
    sm_neither = smooth(p_neither, k, edge) if judge.open_set.background else None
    # each window's label from the smoothed series; with edge "valid" its ends fall back on the raw values
    full, full_neither = authors.copy(), p_neither.copy()
    lo = edge_width(k) if edge == "valid" else 0
    full[lo: lo + len(sm)] = sm
    if sm_neither is not None:
        full_neither[lo: lo + len(sm_neither)] = sm_neither
    decisions = decide_split(full, full_neither, names, judge.open_set)

    if change_cost < 0:
        raise WhowroteError("rolling: --change-cost must be 0 or more")
    runs, bounds = change_points(judge, ids, window, change_cost, among)
    edges = [0] + [int(round(x)) for x in bounds] + [len(ids)]
    segments = []
    for r, (t0, t1) in zip(runs, zip(edges, edges[1:])):
        inside = [i for i, s in enumerate(starts) if t0 <= s + window / 2 < t1]
        segments.append({"label": r[0], "token_start": t0, "token_end": t1, "char_start": offsets[min(t0, len(ids) - 1)][0],
                         "char_end": offsets[max(t1 - 1, 0)][1], "windows": len(inside),
                         "mean_probs": {l: float(p) for l, p in zip(names, authors[inside].mean(axis=0))} if inside else {}})
    boundaries = [{"token": int(round(x)), "char": offsets[min(int(round(x)), len(ids) - 1)][0], "from": a[0], "to": b[0]}
                  for x, a, b in zip(bounds, runs, runs[1:])]
    return Rolling(names, window, stride, k, edge, np.array(starts), np.array([offsets[s][0] for s in starts]),
                   np.array([offsets[s + window - 1][1] for s in starts]), authors,
                   p_neither if judge.open_set.background else None, sm, sm_neither, decisions, segments, boundaries,
                   headings(text, offsets), among)


