"""Longer texts: calibration and "neither" for texts of several windows, fitted on what the judge computes.

The judge scores a text by the mean of its windows' calibrated log-probabilities. That
mean keeps one window's sharpness while a longer text carries more evidence, and it pulls
P(background) towards the middle when windows disagree. Measured on the README's run
(authors-20261127-123545, held-out works' test half): with the one-window temperature and
threshold, the judge was underconfident on longer texts (ECE 0.070 at 126 tokens, 0.117 at
1,008, its confidence below its accuracy) and flagged *fewer* unseen authors the longer the
text (0.51 at 126 tokens, 0.33 at 1,008).

So contiguous texts of 2, 4 and 8 windows' length are cut from the held-out works'
calibration half exactly as the judge cuts a text (`split.judged_spans`), and for each
length a temperature is fitted on the mean log-probabilities (all labels), then a
"neither" threshold on the authors' texts as for one window (`openset.fit_threshold`). A
length is fitted only while every author has `MIN_TEXTS` calibration texts of it; a text
uses the entries of the longest fitted length it reaches. The test half's texts give the
report's `unseen_by_length` rows, before (one-window settings) and after.

    whowrote evaluate runs/authors-20261127-123545    # refits them; prints the table
"""

from __future__ import annotations

import numpy as np

from .metrics import ece, fit_temperature, log_softmax, softmax
from .openset import NEITHER, OpenSet, decide, fit_threshold, for_length, rates

MIN_TEXTS = 8  # calibration texts every author needs before a length gets its own settings

TEXT_WINDOWS = (1, 2, 4, 8)  # text lengths, in windows' content tokens (1: the table's first row)
# Blocks per held-out work and half. The background's: about the 150 windows of the one-window
# numbers. The authors' calibration texts set the thresholds, and their test texts are few at
# 8 windows, so they get more (Poe's vol. 4 has 57 a half); the cap bounds the cost of a long work.
BACKGROUND_BLOCKS_PER_WORK = 20
AUTHOR_BLOCKS_PER_WORK = 60


def judged_texts(prep, part: str, logits_of, temperature: float) -> dict[int, tuple[np.ndarray, np.ndarray, list[str]]]:
    """{tokens: (mean calibrated log-probability over every label [n, L], labels [n], works)}
    for contiguous texts of the held-out works' `part`, as the judge scores a text."""
    background = prep.config.background
    limits = {lab: (BACKGROUND_BLOCKS_PER_WORK if lab == background else AUTHOR_BLOCKS_PER_WORK)
              for lab in prep.config.heldout}
    ids, spans = prep.unseen_judged_texts(part, [k * prep.width for k in TEXT_WINDOWS], limits)
    logp = log_softmax(logits_of(ids), temperature) if len(ids) else np.zeros((0, len(prep.labels)))
    empty = np.zeros((0, len(prep.labels)))
    return {n: (np.stack([logp[r].mean(0) for r in rows]) if rows else empty, y, works)
            for n, (rows, y, works) in spans.items()}


def fit_lengths(texts: dict, authors: list[int], background: int | None, max_flagged: float,
                width: int) -> tuple[list[list[float]], list[list[float]]]:
    """([[tokens, temperature], ...], [[tokens, threshold], ...]) for the lengths beyond one
    window, while every author has MIN_TEXTS calibration texts of that length (thresholds
    only with a background label)."""
    temperatures, thresholds = [], []
    for n in sorted(texts):
        mean_logp, y, _ = texts[n]
        if n <= width:
            continue
        if any(np.sum(y == a) < MIN_TEXTS for a in authors):
            break
        t = fit_temperature(mean_logp, y)
        temperatures.append([n, t])
        if background is not None:
            thresholds.append([n, fit_threshold(softmax(mean_logp, t)[:, background], y, authors, max_flagged)])
    return temperatures, thresholds


def lengths_report(background: str, labels: list[str], texts: dict, open_set: OpenSet,
                   temperatures: list[list[float]]) -> list[dict]:
    """Per text length, on the test half: the temperature and threshold the judge uses, ECE,
    and each true label's share labelled its own and share flagged; `before`: the same with
    the one-window temperature and threshold for every length."""
    one_window = OpenSet(open_set.method, open_set.background, open_set.threshold)
    out = []
    for n in sorted(texts):
        mean_logp, y, _ = texts[n]
        if not len(y):  # longer than any block of the held-out works
            continue
        truth = [NEITHER if labels[i] == background else labels[i] for i in y]
        t = for_length(temperatures, n, 1.0)
        probs, before = softmax(mean_logp, t), softmax(mean_logp)
        out.append({"tokens": n, "temperature": t, "threshold": open_set.threshold_for(n),
                    "fitted": n == min(texts) or any(m == n for m, _ in temperatures), "texts": len(y),
                    "ece": ece(probs, y), "per_label": rates(decide(probs, labels, open_set, n), truth, truth),
                    "before": {"ece": ece(before, y),
                               "per_label": rates(decide(before, labels, one_window, n), truth, truth)}})
    return out
