"""The keyword check: does a text read as its author only because of the author's favourite words?

Keyword stuffing (another writer's prose with an author's distinctive words slipped in) is a
generator's second cheap way to a high S, after word salad (`wordorder.py`). An author's own
prose still reads as the author with those words taken out; stuffed prose reads as whoever
wrote it. For a text of prose the judge would give to an author, the windows of its word-order
sample are read again with the author's KEYWORDS most distinctive words (`text/topics.py`,
from the training books, stored in the model folder) deleted, and

    keyword_gain = log S(author | the windows) - log S(author | the same windows, keywords deleted)   (`s_gain`)

The judge (`judge/core.py`) labels a text whose gain is over its author's threshold in the
model folder (`keyword_thresholds`) "neither" and flags it "keywords"; `calibrate.py` fits each
author's on its calibration windows and the same windows of other authors stuffed with its
keywords (STUFF_RATE), and `evaluate.py` applies them to the test windows.

    whowrote judge --model runs/X --json passage.txt   # "keyword_gain"; stuffed text: "keywords" in "flags"
"""

from __future__ import annotations

import numpy as np

from ..data.augment import word_groups
from .metrics import log_softmax
from .wordorder import log_s

KEYWORDS = 100  # each author's most distinctive words the check deletes: the top 40 an adversary would pick, and more
STUFF_RATE = 0.10  # calibration: other authors' windows with this share of words slipped in, the author's keywords
KEYWORDS_FLAG = "keywords"


def keyword_pieces(tokenizer, words: list[str]) -> set[tuple[int, ...]]:
    """The word-piece spellings of `words` (as written and capitalised, for cased vocabularies)."""
    spellings = list(dict.fromkeys(w for word in words for w in (word, word.capitalize())))
    encoded = tokenizer(spellings, add_special_tokens=False, verbose=False)["input_ids"] if spellings else []
    return {tuple(ids) for ids in encoded if ids and tokenizer.unk_token_id not in ids}


def delete_keywords(row, keys: set[tuple[int, ...]], vocab) -> np.ndarray:
    """`row` with every whole word spelt as one of `keys` taken out (its punctuation stays)."""
    row = np.asarray(row, dtype=np.int64)
    if not len(row):
        return row
    kept = []
    for group in word_groups(row, vocab):
        n = 1
        while n < len(group) and vocab.continues[group[n]]:
            n += 1
        kept.append(group[n:] if tuple(int(t) for t in group[:n]) in keys else group)
    return np.concatenate(kept).astype(np.int64)


def window_keyword_gains(logits_of, ids: np.ndarray, temperature: float, labels: list[str], background: str,
                         authors: list[str], keys: dict[str, set], vocab, logits: np.ndarray) -> np.ndarray:
    """The keyword gain of each window taken as a one-window text ([CLS] content [SEP] rows, each
    for the author it is given, `logits` theirs), as calibration and the report measure it.
    Only the windows a deletion changed are read again."""
    if not len(ids):
        return np.zeros(0)
    before, names = log_s(log_softmax(logits, temperature), 1.0, labels, background)
    after = before.copy()
    rows = [delete_keywords(r[1:-1], keys.get(a, set()), vocab) for r, a in zip(ids, authors)]
    by_length: dict[int, list[int]] = {}  # logits_of reads equal-length windows: one call a length
    for i, r in enumerate(rows):
        if len(r) < ids.shape[1] - 2:
            by_length.setdefault(len(r), []).append(i)
    for group in by_length.values():
        deleted = np.stack([np.concatenate([ids[i, :1], rows[i], ids[i, -1:]]) for i in group]).astype(ids.dtype)
        after[group] = log_s(log_softmax(logits_of(deleted), temperature), 1.0, labels, background)[0]
    column = np.array([names.index(a) for a in authors])
    at = np.arange(len(ids))
    return before[at, column] - after[at, column]
