"""Texts of every length: calibration and "neither" fitted on what the judge computes for them.

The judge scores a text by the mean of its windows' calibrated log-probabilities. That
mean keeps one window's sharpness while a longer text carries more evidence, and it pulls
P(background) towards the middle when windows disagree. Measured on the README's run
(authors-20261127-123545, held-out works' test half): with the one-window temperature and
threshold, the judge was underconfident on longer texts (ECE 0.070 at 126 tokens, 0.117 at
1,008, its confidence below its accuracy) and flagged *fewer* unseen authors the longer the
text (0.51 at 126 tokens, 0.33 at 1,008). Texts shorter than a window went wrong the other
way: overconfident (ECE 0.156 at 15 tokens, 0.125 at 31, 0.142 at 63) and flagging the
authors' own texts too often (Poe's 0.092 at 31 tokens, 0.100 at 63; the goal is 0.05).

So contiguous texts of 2, 4 and 8 windows' length are cut from the held-out works'
calibration half exactly as the judge cuts a text (`split.judged_spans`), and texts of an
eighth, a quarter and half a window are the disjoint pieces of its windows (a text shorter
than a window is judged as one window of its own tokens). For each length a temperature is
fitted on the mean log-probabilities (all labels), then a "neither" threshold on the
authors' texts as for one window (`openset.fit_threshold`). A longer length is fitted only
while every author has `MIN_TEXTS` calibration texts of it. A text's temperature and
threshold are interpolated in log-length between the fitted lengths around it (the
shortest one's below it, the longest one's beyond it): a step from one length's settings to
the next made a passage with a few words dropped change label for its length alone (the
word-dropout probe on the README run: 0.077 of labels changed with the one-window settings,
0.285 with a step, 0.082 interpolated). The test half's texts give the report's
`unseen_by_length` rows, before (one-window settings) and after.

    whowrote evaluate runs/authors-20261127-123545    # refits them; prints the table
"""

from __future__ import annotations

import numpy as np

from ..data.split import with_special_tokens
from ..model.metrics import ece, fit_temperature, log_softmax, softmax
from ..model.openset import NEITHER, OpenSet, decide, fit_thresholds, for_length, rates

MIN_TEXTS = 8  # calibration texts every author needs before a length gets its own settings

TEXT_WINDOWS = (1, 2, 4, 8)  # text lengths, in windows' content tokens (1: the one-window row)
SHORT_PIECES = (8, 4, 2)  # texts shorter than a window: each held-out window cut into this many
SHORT_WINDOWS_PER_WORK = 60  # held-out windows per work and half cut into short texts
# Blocks per held-out work and half. The background's: about the 150 windows of the one-window
# numbers. The authors' calibration texts set the thresholds, and their test texts are few at
# 8 windows, so they get more (Poe's vol. 4 has 57 a half); the cap bounds the cost of a long work.
BACKGROUND_BLOCKS_PER_WORK = 20
AUTHOR_BLOCKS_PER_WORK = 60


def judged_texts(prep, part: str, logits_of, temperature: float) -> dict[int, tuple[np.ndarray, np.ndarray, list[str]]]:
    """{tokens: (mean calibrated log-probability over every label [n, L], labels [n], works)}
    for texts of the held-out works' `part`, as the judge scores a text: contiguous texts of
    one window or more, and the disjoint pieces of windows for shorter ones."""
    background = prep.config.background
    limits = {lab: (BACKGROUND_BLOCKS_PER_WORK if lab == background else AUTHOR_BLOCKS_PER_WORK)
              for lab in prep.config.heldout}
    ids, spans = prep.unseen_judged_texts(part, [k * prep.width for k in TEXT_WINDOWS], limits)
    logp = log_softmax(logits_of(ids), temperature) if len(ids) else np.zeros((0, len(prep.labels)))
    empty = np.zeros((0, len(prep.labels)))
    out = {n: (np.stack([logp[r].mean(0) for r in rows]) if rows else empty, y, works)
           for n, (rows, y, works) in spans.items()}
    windows, y, works = prep.unseen_windows(part, SHORT_WINDOWS_PER_WORK)
    if len(y):
        content = windows[:, 1:-1]
        for pieces in SHORT_PIECES:
            n = prep.width // pieces
            texts = np.concatenate([content[:, j * n:(j + 1) * n] for j in range(pieces)])
            out[n] = (log_softmax(logits_of(with_special_tokens(texts, prep.cls_id, prep.sep_id)), temperature),
                      np.tile(y, pieces), works * pieces)
    return dict(sorted(out.items()))


def fit_lengths(texts: dict, authors: list[int], background: int | None, max_flagged: float, width: int,
                one_window: dict[int | None, float] | None = None, rule: str = "global",
                ) -> tuple[list[list[float]], dict[int | None, list[list[float]]]]:
    """([[tokens, temperature], ...], {key: [[tokens, threshold], ...]}) for the lengths other
    than one window (`width`): every shorter one, and the longer ones while every author has
    MIN_TEXTS calibration texts of that length. The threshold tables (only with a background
    label) are keyed as `openset.fit_thresholds`' answer: None for the global one, an author
    id for its own (rule "author"); `one_window` holds each key's one-window threshold. With
    any length fitted, the tables also hold one window (temperature 1, `one_window`) to
    interpolate from, and, with shorter lengths, an entry at 0 tokens with the shortest one's
    settings, which serve any shorter text."""
    one_window = one_window or {None: 1.0}
    temperatures, thresholds, fitted = [], {key: [] for key in one_window} if background is not None else {}, []
    for n in sorted(texts):
        mean_logp, y, _ = texts[n]
        if n == width:
            temperatures.append([n, 1.0])
            for key, table in thresholds.items():
                table.append([n, one_window[key]])
            continue
        if any(np.sum(y == a) < MIN_TEXTS for a in authors):
            if n < width:
                continue
            break
        t = fit_temperature(mean_logp, y)
        taus = (fit_thresholds(softmax(mean_logp, t)[:, background], y, authors, max_flagged, rule, background)
                if background is not None else {})
        for key in ([0, n] if n < width and not fitted else [n]):
            temperatures.append([key, t])
            for k, table in thresholds.items():
                table.append([key, taus[k]])
        fitted.append(n)
    return (temperatures, thresholds) if fitted else ([], {})


def lengths_report(background: str, labels: list[str], texts: dict, open_set: OpenSet,
                   temperatures: list[list[float]], width: int) -> list[dict]:
    """Per text length, on the test half: the temperature and threshold the judge uses, ECE,
    and each true label's share labelled its own and share flagged; `before`: the same with
    the one-window temperature and threshold for every length."""
    one_window = OpenSet(open_set.method, open_set.background, open_set.threshold,
                         per_author={a: {"threshold": d["threshold"]} for a, d in open_set.per_author.items()})
    out = []
    for n in sorted(texts):
        mean_logp, y, _ = texts[n]
        if not len(y):  # longer than any block of the held-out works
            continue
        truth = [NEITHER if labels[i] == background else labels[i] for i in y]
        t = for_length(temperatures, n, 1.0)
        probs, before = softmax(mean_logp, t), softmax(mean_logp)
        out.append({"tokens": n, "temperature": t, "threshold": open_set.threshold_for(n),
                    **({"author_thresholds": {a: open_set.threshold_for(n, a) for a in open_set.per_author}}
                       if open_set.per_author else {}),
                    "fitted": n == width or any(m == n for m, _ in temperatures), "texts": len(y),
                    "ece": ece(probs, y), "per_label": rates(decide(probs, labels, open_set, n), truth, truth),
                    "before": {"ece": ece(before, y),
                               "per_label": rates(decide(before, labels, one_window, n), truth, truth)}})
    return out
