"""The word-order check: does a text read as its author only in its own word order?

A model trained with scrambled negatives (`--scramble`, `data/augment.py` `Scramble`) gives an
author's prose a far higher S than the same words shuffled, while word salad in the author's
vocabulary (a generator's cheapest way to a high S) scores about the same shuffled or not.
For a text of prose (PROSE_SHARE) the judge would give to an author, up to ORDER_WINDOWS of
its windows are read again with their words shuffled (`shuffle_words`, seeded by the window's own tokens, so a
verdict never depends on what else is in the batch), and

    order_gain = log S(author | the windows) - log S(author | the same windows shuffled)     (`s_gain`)

The judge (`judge/core.py`) labels a text whose gain is under its author's threshold in the
model folder (`order_thresholds`) "neither" and flags it "word-order"; `calibrate.py` fits
each author's on its calibration windows and `evaluate.py` applies them to the test windows.
Older model folders have no thresholds and no check.

    whowrote judge --model runs/X --json passage.txt   # "order_gain"; word salad: "word-order" in "flags"
"""

from __future__ import annotations

import random
import zlib

import numpy as np

from ..data.augment import shuffle_words
from .metrics import log_softmax, softmax
from .openset import split_probs

ORDER_WINDOWS = 16  # windows of a long text read again shuffled: a sample, so the check costs at most this
# at least this share of a text's pieces are letters (or masked names) for it to be checked: a
# table of figures and rules reads the same in any order, and it is no author's prose either way
PROSE_SHARE = 0.5
WORD_ORDER_FLAG = "word-order"


def shuffled(windows: list[list[int]], vocab) -> list[list[int]]:
    """Each window's words in an order drawn from the window's own tokens (reproducible)."""
    out = []
    for w in windows:
        row = np.asarray(w, dtype=np.int64)
        rng = np.random.default_rng(zlib.crc32(row.astype(np.int32).tobytes()))
        out.append(shuffle_words(row, vocab, rng).tolist())
    return out


def is_prose(windows, vocab) -> bool:
    """Whether at least PROSE_SHARE of the windows' pieces are letters or masked names."""
    pieces = np.concatenate([np.asarray(w, dtype=np.int64) for w in windows])
    return bool(len(pieces)) and float(vocab.letters[pieces].mean()) >= PROSE_SHARE


def prose_rows(ids: np.ndarray, vocab) -> np.ndarray:
    """`is_prose` of each window of [CLS] content [SEP] rows, one-window texts."""
    return vocab.letters[ids[:, 1:-1]].mean(axis=1) >= PROSE_SHARE


def reshuffled(ids: np.ndarray, vocab, rng: np.random.Generator | None = None) -> np.ndarray:
    """[CLS] content [SEP] rows with each content's words shuffled: by `rng`, or (None) in the
    order the judge draws from the window's own tokens (`shuffled`)."""
    content = ids[:, 1:-1]
    mixed = shuffled(list(content), vocab) if rng is None else [shuffle_words(r, vocab, rng) for r in content]
    return np.concatenate([ids[:, :1], np.asarray(mixed, dtype=ids.dtype), ids[:, -1:]], axis=1)


def log_s(logp: np.ndarray, t: float, labels: list[str], background: str) -> tuple[np.ndarray, list[str]]:
    """log S(author) for each row of log-probabilities over every label ([n, L] -> [n, A]),
    at temperature `t`: S = P(author | text) with "neither" counted as an answer."""
    authors, p_neither, names = split_probs(softmax(logp, t), labels, background)
    return np.log(np.clip(authors * (1 - p_neither)[:, None], 1e-300, None)), names


def s_gain(logp: np.ndarray, logp_altered: np.ndarray, t: float, labels: list[str], background: str, author: str) -> float:
    """`author`'s log S from a text's windows ([k, L] log-probabilities) minus from the same
    windows altered (their words shuffled here; without the author's keywords in `keywords.py`),
    each side their mean log-probability as the judge scores a text."""
    ls, names = log_s(np.stack([logp.mean(axis=0), logp_altered.mean(axis=0)]), t, labels, background)
    a = names.index(author)
    return float(ls[0, a] - ls[1, a])


def window_gains(logits_of, ids: np.ndarray, temperature: float, labels: list[str], background: str,
                 authors: list[str], vocab, logits: np.ndarray | None = None) -> np.ndarray:
    """`order_gain` of each window taken as a one-window text ([CLS] content [SEP] rows, each
    for the author it is given), as calibration and the report measure it. `logits_of`: the
    run's window scorer (BERT, or BERT mixed with its partner); `logits`: those of `ids`, if
    already computed."""
    if not len(ids):
        return np.zeros(0)
    before, names = log_s(log_softmax(logits_of(ids) if logits is None else logits, temperature), 1.0, labels, background)
    after = log_s(log_softmax(logits_of(reshuffled(ids, vocab)), temperature), 1.0, labels, background)[0]
    column = np.array([names.index(a) for a in authors])
    rows = np.arange(len(ids))
    return before[rows, column] - after[rows, column]


def fit_order_threshold(gains: np.ndarray, salad_gains: np.ndarray, max_flagged: float) -> float:
    """At most `max_flagged` of an author's own calibration windows (their `gains`) under the
    threshold, and no higher than it takes to flag all but that share of the same windows
    shuffled (`salad_gains`): word salad is caught for as few of the author's own as can be."""
    own = float(np.sort(gains)[int(np.floor(max_flagged * len(gains)))])
    salad = float(np.nextafter(np.quantile(salad_gains, 1 - max_flagged, method="higher"), np.inf))
    return min(own, salad)


class WindowSample:
    """Up to ORDER_WINDOWS (window, log-probabilities) pairs of one text, a uniform sample of
    however many it has (reservoir sampling, seeded alike for every text)."""

    def __init__(self):
        self.items: list[tuple[list[int], np.ndarray]] = []
        self.seen = 0
        self.rng: random.Random | None = None  # made for the texts that outgrow the sample only

    def add(self, window: list[int], logp: np.ndarray) -> None:
        self.seen += 1
        if len(self.items) < ORDER_WINDOWS:
            self.items.append((window, logp))
            return
        self.rng = self.rng or random.Random(0)
        if (k := self.rng.randrange(self.seen)) < ORDER_WINDOWS:
            self.items[k] = (window, logp)
