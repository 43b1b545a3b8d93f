"""Is it English at all? The share of a text's words that are English words.

A model of English authors has nothing to say of Chinese, a table of numbers or a
generator's garbage, yet the README run answered such texts "alice" or "edgar" with P up
to 0.99 (Carroll's *Game of Logic* has diagrams of digits and bars among his training
text). A text whose words are under `MIN_ENGLISH` English (or that has no words) is
flagged "not-english" by the judge and, where the model has an open set, answered
"neither". Measured on 100-word chunks of every book in `../shared` (a one-off count):
the lowest share of 16,593 chunks is 0.63, but for two of Poe's "X-ing a Paragrab", set
with x for o ("Yxu've gxt tx gx", 0.13); with 5% typos (the validate probe's) 3 of 5,540
chunks fall under 0.6. The same tale in French, German, Dutch, Spanish, Italian and Latin
(written for the count): 0.42, 0.46, 0.43, 0.35, 0.35, 0.24.

A word is a run of letters (with its apostrophe parts: "didn't", "Alice's") of the text as
given, Unicode-folded as the judge folds it, and English as Webster's 2nd knows it,
inflections included (`text/names.py` `is_english_word`; an n't contraction by its stem).
The count is taken before the spelling repair, which would otherwise make English of any
text: it turned a French tale into "one foil one petite file que visit au bord de la
forest", which the README run then gave to Poe with P 0.94. Names count as words that are
not English, and numbers and marks as no words.

    python -c "from whowrote.judge.english import count_english as c; print(c('Il etait une fois'), c('Once upon a time'))"
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..text.names import dictionary, is_english_word, is_nt_stem
from ..text.normalise import Aligned, typography

MIN_ENGLISH = 0.6  # under this share of English words: "not-english" (English prose: 0.63 and more; see above)
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")


@lru_cache(maxsize=1 << 16)
def _english(word: str) -> bool:
    head, _, tail = word.partition("'")
    return is_english_word(head) or is_nt_stem(head, "'" + tail)


def count_english(text: str, names: bool = False) -> tuple[int, int]:
    """(words, English words) in a text as given (folded, not repaired). `names=True` counts
    the names Webster's knows as English too: how much of a sample is words at all."""
    words = _WORD.findall(typography(Aligned.of(text, track=False)).text)
    known = dictionary()[1] if names else frozenset()
    return len(words), sum(_english(w) or w.partition("'")[0] in known for w in words)


def english_share(text: str, names: bool = False) -> float:
    """The share of the text's words that `count_english` counts as English (0 with no words)."""
    words, english = count_english(text, names)
    return english / words if words else 0.0
