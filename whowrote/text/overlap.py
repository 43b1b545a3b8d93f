"""Verbatim overlap between books: the runs of words a book shares with reference books.

A background book that quotes Poe ("Quoth the Raven") would teach "neither" Poe's own words,
and an afterword by another writer would sit inside an author's book. `Overlap` hashes every
run of `n` words (8 by default: a chance match of eight words running is rare, a quotation
is longer) of the reference books; `spans` gives the character spans of a text covered by
runs the references share, and `drop` cuts them out, so training never sees them.

    python -c "from whowrote.text.overlap import Overlap; o = Overlap(['a b c d e f g h i']); \
print(o.drop('x y a b c d e f g h z'))"
"""

from __future__ import annotations

import re

import numpy as np

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")  # words of letters; case and punctuation ignored
_PRIME = np.uint64(1_000_003)


class Overlap:
    def __init__(self, references: list[str], n: int = 8):
        self.n, self._ids = n, {}
        hashes = [self._hashes(self._words(t)[0]) for t in references]
        self._known = np.unique(np.concatenate(hashes)) if hashes else np.zeros(0, np.uint64)

    def _words(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        ids = np.fromiter((self._ids.setdefault(text[s:e].lower(), len(self._ids) + 1) for s, e in spans),
                          np.uint64, len(spans))
        return ids, spans

    def _hashes(self, ids: np.ndarray) -> np.ndarray:
        """A 64-bit polynomial hash of every run of n word ids (wrapping arithmetic)."""
        if len(ids) < self.n:
            return np.zeros(0, np.uint64)
        out = np.zeros(len(ids) - self.n + 1, np.uint64)
        with np.errstate(over="ignore"):
            for j in range(self.n):
                out = out * _PRIME + ids[j:len(ids) - self.n + 1 + j]
        return out

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of `text` covered by runs of n words that a reference also has,
        merged where they touch or overlap (a quotation of 20 words is one span)."""
        ids, words = self._words(text)
        hit = np.isin(self._hashes(ids), self._known)
        if not hit.any():
            return []
        covered = np.convolve(hit.astype(np.int32), np.ones(self.n, np.int32))[:len(words)] > 0
        out: list[tuple[int, int]] = []
        for i in np.flatnonzero(covered):
            start, end = words[i]
            if out and covered[i - 1] and i > 0:
                out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
        return out

    def covered_share(self, text: str) -> float:
        """The share of `text`'s words inside runs of n words a reference also has: a copy
        detector's verdict (1.0: verbatim, near 0: nothing of n words copied)."""
        words = _WORD.findall(text)
        if not words:
            return 0.0
        return sum(len(_WORD.findall(text[s:e])) for s, e in self.spans(text)) / len(words)

    def drop(self, text: str) -> tuple[str, int]:
        """(`text` without the shared spans, each replaced by a paragraph break; words dropped)."""
        spans = self.spans(text)
        if not spans:
            return text, 0
        pieces, pos, dropped = [], 0, 0
        for start, end in spans:
            pieces += [text[pos:start], "\n\n"]
            dropped += len(_WORD.findall(text[start:end]))
            pos = end
        pieces.append(text[pos:])
        return "".join(pieces), dropped
