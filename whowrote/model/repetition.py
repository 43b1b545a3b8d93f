"""The repetition check: does a text read as its author only because it says one thing over and over?

A small generator loops: one sentence, said again and again. The classifier reads a window of a
loop as that sentence's features many times over, and gives other authors' passages looped so
to an author about twice as often as the same passages as written (`whowrote validate`, probe
"one sentence looped"). Prose seldom repeats a run of REPEAT_WORDS words inside one window; a
loop repeats nearly all of them. For a text of prose the judge would give to an author, the
windows of its sample (`wordorder.WindowSample`, every window of a text of up to 16) are measured:

    repetition = mean over the windows of the share of word trigrams seen earlier in the window

Inside a window, as the model reads, and not across the text: a book repeats more phrases the
longer it runs, a window of prose does not, so one threshold serves texts of every length.

The judge (`judge/checks.py`) labels a text whose repetition is over its author's threshold in
the model folder (`repetition_thresholds`) "neither" and flags it "repetitive";
`evaluation/checkfits.py` fits each author's on its calibration windows and the same windows
looped (`looped_rows`), and `evaluate.py` applies them to the test windows.

    whowrote judge --model runs/X --json passage.txt   # "repetition"; a loop: "repetitive" in "flags"
"""

from __future__ import annotations

import numpy as np

from ..data.augment import word_groups

REPEAT_WORDS = 3  # the runs of words counted: pairs repeat in any prose ("of the"), runs of three seldom
REPETITION_FLAG = "repetitive"
SENTENCE_ENDS = frozenset(".!?")


def repetition(row, vocab) -> float:
    """The share of the word runs of REPEAT_WORDS words in `row` (content token ids) that were
    seen earlier in it: 0 for prose that never repeats itself, near 1 for a loop."""
    words = [tuple(int(t) for t in g) for g in word_groups(np.asarray(row, dtype=np.int64), vocab)]
    runs = [tuple(words[i:i + REPEAT_WORDS]) for i in range(len(words) - REPEAT_WORDS + 1)]
    if not runs:
        return 0.0
    seen: set[tuple] = set()
    repeated = 0
    for run in runs:
        repeated += run in seen
        seen.add(run)
    return repeated / len(runs)


def text_repetition(windows, vocab) -> float:
    """A text's repetition: the mean of its windows'."""
    return float(np.mean([repetition(w, vocab) for w in windows])) if len(windows) else 0.0


def fit_repetition_threshold(own: np.ndarray, loops: np.ndarray, max_flagged: float) -> float:
    """Midway between the (1 - max_flagged) quantile of an author's own calibration windows'
    repetition and the max_flagged quantile of the loops', where the loops lie above (else the
    former): an author's other works repeat themselves more than his calibration windows may
    (a guide to letter-writing, 0.08 where the calibration windows reach 0.03), and a loop that
    says its sentence twice repeats about half of its runs, so the middle of the gap leaves
    room on both sides."""
    mine = float(np.quantile(own, 1 - max_flagged, method="higher"))
    if not len(loops):
        return mine
    low = float(np.quantile(loops, max_flagged, method="lower"))
    return (mine + low) / 2 if low > mine else mine


def first_sentence(row: np.ndarray, vocab) -> np.ndarray:
    """The first whole sentence of `row` of at least REPEAT_WORDS words (a window starts mid-way
    through one; "..." is none): from after a ".", "!" or "?" to the next; else the row's start
    to its first such mark; else the whole row."""
    ends = [k for k, t in enumerate(row) if vocab.pieces[t] in SENTENCE_ENDS]
    for start, end in zip(ends, ends[1:]):
        if vocab.starts_word[row[start + 1:end + 1]].sum() >= REPEAT_WORDS:
            return row[start + 1:end + 1]
    return row[:ends[0] + 1] if ends else row


def looped_rows(ids: np.ndarray, vocab) -> tuple[np.ndarray, np.ndarray]:
    """[CLS] content [SEP] rows with each content's first sentence said over and over to the
    content's length, a generator's loop; and how many times each says it whole (1: the row as
    it was, or its start again: no loop)."""
    content = ids[:, 1:-1]
    out, said = np.empty_like(content), np.zeros(len(content), dtype=np.int64)
    for i, row in enumerate(content):
        first = first_sentence(row, vocab)
        out[i], said[i] = np.resize(first, len(row)), len(row) // max(len(first), 1)
    return np.concatenate([ids[:, :1], out, ids[:, -1:]], axis=1), said
