"""Each label's distinctive words: what its books use far more than the others' books.

Used twice: by the validity probe that slips another author's words into a passage
(`evaluation/probes.py`), and by the training augmentation that sprinkles every label's words
into every label's windows (`data/augment.py` `WordSprinkle`), so that a passage's
vocabulary cannot decide alone who wrote it.

    python -c "from whowrote.text.topics import topic_words; print(topic_words({'a': ['the kitten sat'] * 9, 'b': ['the corpse lay'] * 9}))"
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from .names import is_english_word

_LOWER_WORD = re.compile(r"\b[a-z]+\b")  # whole lower-case words ("hings" of "Things" is none)


def topic_words(texts: dict[str, list[str]], top: int = 40, min_count: int = 8) -> dict[str, list[str]]:
    """Each label's `top` most distinctive content words in its texts: lower-case English
    words of 4+ letters outside the 3,000 most frequent (function and everyday words), seen
    `min_count` times, ranked by the z-score of the log-odds ratio of the label's texts
    against all others' with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008,
    "Fightin' words"), which keeps rare words from topping the list on chance alone."""
    from .spelling import common_words

    common = common_words()
    counts = {label: Counter(w for t in items for w in _LOWER_WORD.findall(t)) for label, items in texts.items()}
    total = sum(counts.values(), Counter())
    vocab = [w for w in total if len(w) >= 4 and w not in common and is_english_word(w)]
    prior = np.array([total[w] for w in vocab], float)
    prior *= 1000.0 / prior.sum()  # a prior worth 1,000 words, shaped like all the text
    out = {}
    for label, c in counts.items():
        mine = np.array([c[w] for w in vocab], float)
        rest = np.array([total[w] - c[w] for w in vocab], float)
        n_mine, n_rest, a0 = mine.sum(), rest.sum(), prior.sum()
        delta = (np.log((mine + prior) / (n_mine + a0 - mine - prior))
                 - np.log((rest + prior) / (n_rest + a0 - rest - prior)))
        z = delta / np.sqrt(1 / (mine + prior) + 1 / (rest + prior))
        order = [i for i in np.argsort(-z) if mine[i] >= min_count]
        out[label] = [vocab[i] for i in order[:top]]
    return out
