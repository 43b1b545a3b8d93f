"""Reference generators for the study, made from the same training books as the language
model: verbatim copies of training passages, the same passages with their words shuffled,
word Markov chains of order 1-4, and other authors' passages stuffed with 10% of the
author's distinctive words. Each is scored by the judge beside a copy detector (the share
of words inside 8-word runs found in the author's training books).

    python -c "from whowrote.generator.references import cut_passages; print(cut_passages(['a b c d e f'], 2, 3, 0))"
"""

from __future__ import annotations

import random

import numpy as np

from ..evaluation import probes
from ..evaluation.goals import MARKOV_ORDERS
from ..judge.english import english_share
from ..model.openset import NEITHER
from ..text.overlap import Overlap


def cut_passages(texts: list[str], n: int, words: int, seed: int) -> list[str]:
    """`n` passages of `words` words from random places of the texts (whitespace words)."""
    rng, all_words = random.Random(seed), [w for t in texts for w in t.split()]
    if len(all_words) <= words:
        return [" ".join(all_words)] * min(n, 1)
    starts = [rng.randrange(len(all_words) - words) for _ in range(n)]
    return [" ".join(all_words[s : s + words]) for s in starts]


def reference_texts(books: dict[str, list[str]], others: list[str], keywords: dict[str, list[str]],
                    n: int, words: int, seed: int) -> dict[str, dict[str, list[str]]]:
    """name -> author -> texts made to look like that author."""
    out: dict[str, dict[str, list[str]]] = {}
    for a, texts in books.items():
        copies = cut_passages(texts, n, words, seed)
        out.setdefault("verbatim copies", {})[a] = copies
        out.setdefault("shuffled words", {})[a] = [probes.shuffle_words(t, seed + i) for i, t in enumerate(copies)]
        for order in MARKOV_ORDERS:
            out.setdefault(f"Markov order {order}", {})[a] = probes.markov_passages(texts, order, n, words, seed + order)
        if others and keywords.get(a):
            plain = cut_passages(others, n, words, seed + 7)
            out.setdefault("others stuffed 10%", {})[a] = [probes.insert_words(t, keywords[a], 0.10, seed + i)
                                                           for i, t in enumerate(plain)]
    return out


def score_texts(judge, texts: list[str], author: str, target: str, detector: Overlap | None) -> dict:
    """Mean S of the author (P(author) with "neither" an answer) and of the target, the shares
    given to the author and judged "neither", the copy detector's mean share, and the mean
    share of real words."""
    scores = judge.score(texts)
    copied = [detector.covered_share(t) for t in texts] if detector else []
    return {"texts": len(texts), "words": float(np.mean([english_share(t, names=True) for t in texts])) if texts else 0.0,
            "mean_s": float(np.mean([s.s(author) for s in scores])),
            "mean_s_target": float(np.mean([s.s(target) for s in scores])),
            "given_to_author": float(np.mean([s.label == author for s in scores])),
            "neither": float(np.mean([s.label == NEITHER for s in scores])),
            "copied": float(np.mean(copied)) if copied else None}
