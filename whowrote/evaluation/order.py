"""The word-order probes of `whowrote validate`: does the judge read style or a bag of words?

An author's held-out passages with their word order destroyed or their sentences reordered,
other authors' passages stuffed with an author's distinctive words, word Markov text of order
1-4, and another author's sentence looped; each row says how often the altered text is given
to the author it imitates, and its mean S. `validate.py` runs them on a run's passages:

    whowrote validate runs/authors-20261127-120000
"""

from __future__ import annotations

import numpy as np

from ..model.metrics import share_interval
from ..model.openset import NEITHER
from . import probes
from .goals import LOOPED, MARKOV_ORDERS, UNSEEN_MARKOV, goal_text


def _given(judge, texts: list[str], targets: list[str], name: str) -> dict:
    """How often altered texts are given to `targets` (the author each was made to look
    like), with mean S, overall and per target author."""
    scores = judge.score(texts)
    hit = np.array([s.label == t for s, t in zip(scores, targets)])
    s = np.array([sc.s(t) for sc, t in zip(scores, targets)])
    tg = np.array(targets)
    return {"passages": len(texts), "given_to_author": float(hit.mean()),
            "given_to_author_ci": share_interval(hit.sum(), len(hit)), "mean_s": float(s.mean()),
            "neither": float(np.mean([sc.label == NEITHER for sc in scores])),
            "by_author": {a: {"given_to_author": float(hit[tg == a].mean()), "mean_s": float(s[tg == a].mean())}
                          for a in dict.fromkeys(targets)}, "goal": goal_text(name)}


def order_probes(judge, config, passages: list[dict], base_labels: list[str], words: dict[str, list[str]] | None,
                 markov_texts: dict[str, list[str]], seed: int = 0, markov_passages: int = 40) -> dict:
    """Does the judge read style or a bag of words? An author's held-out passages with their
    word order destroyed (all words shuffled, runs of 3-5 shuffled) or their sentences
    reordered; other authors' passages stuffed with an author's distinctive words (5, 10,
    20%); and text from word Markov chains of order 1-4 fitted on each author's training
    books (`markov_texts`), and of order 1 fitted on the author's passages here (works never
    trained on). Each: the share given to the author it imitates, and mean S. Last, other
    authors' passages with one sentence looped (`_looped`), against the judge's `base_labels`
    of them as written: repetition is no style."""
    authors = config.author_labels
    mine = [p for p in passages if p["label"] in authors]
    out = {}
    for name, fn in (("shuffled words", probes.shuffle_words), ("shuffled runs of 3-5 words", probes.shuffle_local),
                     ("sentences reordered", probes.reorder_sentences)):
        out[name] = _given(judge, [fn(p["text"], seed + i) for i, p in enumerate(mine)], [p["label"] for p in mine], name)
    others = [p for p in passages if p["label"] == NEITHER]
    written = [lab for lab, p in zip(base_labels, passages) if p["label"] == NEITHER]  # `others`, in order
    stuffers = [a for a in authors if (words or {}).get(a)]
    if others and stuffers:
        target = [stuffers[i % len(stuffers)] for i in range(len(others))]
        for rate in (0.05, 0.1, 0.2):
            name = f"keywords stuffed {rate:.0%}"
            out[name] = _with_written(_given(judge, [probes.insert_words(p["text"], words[t], rate, seed + i)
                                                     for i, (p, t) in enumerate(zip(others, target))], target, name),
                                      written, target)
    n_words = int(np.median([len(p["text"].split()) for p in mine])) if mine else 100
    trained = {a: markov_texts.get(a) for a in authors}
    for order in MARKOV_ORDERS:
        out[f"Markov order {order}"] = _markov(judge, trained, order, markov_passages, n_words, seed + order,
                                               f"Markov order {order}")
    # the coherence check learnt chains of the training books; chains of works it never read show what it learnt
    unseen = {a: [p["text"] for p in mine if p["label"] == a] for a in authors}
    out[UNSEEN_MARKOV] = _markov(judge, unseen, 1, markov_passages, n_words, seed, UNSEEN_MARKOV)
    if others:
        out[LOOPED] = _looped(judge, others, written, authors)
    return {name: row for name, row in out.items() if row is not None}


def _with_written(row: dict, written_labels: list[str], targets: list[str]) -> dict:
    """`_given`'s row for altered passages, with the share the same passages were given to
    their target as written (`written_labels`, the judge's): what the alteration did not add."""
    hit, tg = np.array([w == t for w, t in zip(written_labels, targets)]), np.array(targets)
    row["as_written"] = float(hit.mean())
    for a, r in row["by_author"].items():
        r["as_written"] = float(hit[tg == a].mean())
    return row


def _looped(judge, others: list[dict], written_labels: list[str], authors: list[str]) -> dict:
    """Other authors' passages as written (`written_labels`, the judge's) and as their first
    sentence said over and over: the share given to an author each way, and its rise."""
    written = np.array([lab in authors for lab in written_labels])
    looped = np.array([s.label in authors for s in judge.score([probes.loop_first_sentence(p["text"]) for p in others])])
    return {"passages": len(others), "given_to_an_author": float(looped.mean()),
            "given_to_an_author_ci": share_interval(looped.sum(), len(looped)), "as_written": float(written.mean()),
            "rise": float(looped.mean() - written.mean()), "goal": goal_text(LOOPED)}


def _markov(judge, sources: dict[str, list[str] | None], order: int, n_passages: int, n_words: int, seed: int,
            name: str) -> dict | None:
    """`_given` for `n_passages` of word Markov text of `order` fitted on each author's `sources`."""
    texts, target = [], []
    for author, own in sources.items():
        if own:
            texts += probes.markov_passages(own, order, n_passages, n_words, seed)
            target += [author] * n_passages
    return _given(judge, texts, target, name) if texts else None
