"""Spelling repair: a lower-case word that is no English word is replaced by the most
frequent English word within reach (SymSpell over its bundled 82,765-word frequency list,
the `symspellpy` package; Damerau distance 1, or 2 in words of 6+ letters), or failing
that by a Webster word one keystroke away.

Why: a typo splits a word into odd word pieces ("absoltue" -> "abs ##ol ##tu ##e"), which
the model reads as an author's rare vocabulary. Measured on the run before this step
existed (authors-20261127-045359): 5% of letters mistyped changed 12.6% of labels; the
same run judging repaired text, 6.3%. It runs on training books and judged text alike
(`normalise`), so the model sees the same kind of text in both.

What it leaves alone, on purpose:
- every word Webster's 2nd knows, inflections included (`is_english_word`): archaic,
  rare and American or British spellings ("labor", "endeavour", "vortices") are style;
  except a doubled letter that makes a common word when single ("crosss", "refuseed"),
  which the inflection rules would otherwise pass (cross + s);
- capitalised words, but for one case: names are masked later, and "correcting" one would
  make it a word. The case (`repair_capitalised`, spec `capitals`): a capitalised word that
  is neither an English word nor a proper noun of the dictionary, one slip from one of the
  3,000 most frequent English words ("Tge", "Whln", "Accordrng" at the start of a
  sentence), is that word, capitalised. Left alone, the mask took it for a name: a 5% typo
  rate added 0.85 masks to a 100-word passage, half the passages gained one, and training
  (whose slips are made after masking) never saw such masks. The price: a foreign word or
  name one slip from a common word is read as that word ("Von" -> "On", "Jup" -> "Up"),
  which carries no author either;
- words under three letters and words joined to an apostrophe ("didn't", "o'er"): a
  two-letter slip has too many neighbours to guess (measured: half the guesses wrong).
A typo that lands on a real word ("the" -> "thy") cannot be told from a choice and stays.

    python -c "from whowrote.text.spelling import repair; print(repair('the qeustion was absoltue'))"
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from ..errors import WhowroteError

# a lower-case word of 3+ letters, not inside a longer word, a number or a contraction
WORD = re.compile(r"(?<![A-Za-z0-9'])[a-z]{3,}(?![A-Za-z0-9'])")
# a capitalised word ("WWell", a doubled capital, too), not inside a longer word, a number
# or a contraction; all capitals (a heading) never match; repair_capitalised skips two letters
CAPITALISED_WORD = re.compile(r"(?<![A-Za-z0-9'])[A-Z][A-Za-z]*[a-z][A-Za-z]*(?![A-Za-z0-9'])")
COMMON_WORDS = 3000  # a capitalised slip is repaired only to one of this many most frequent words
MAX_EDIT = 2  # two slips in one word are still guessed, in words long enough to tell ...
LONG_WORD = 6  # ... which start at this many letters (shorter ones: one slip at most)
# No word of either dictionary is longer than 28 letters, so a run of letters longer than
# this is no inflection of one and no slip or two away from one: it is left as it is without
# a lookup (whose candidate lists grow with the word: 50,000 letters took 24 GB and the judge)
MAX_WORD = 40


@lru_cache(maxsize=1)
def speller():
    """The SymSpell index, built once per process (2.5 s, 150 MB)."""
    try:
        import symspellpy
    except ImportError as exc:
        raise WhowroteError("spelling repair needs the symspellpy package: pip install symspellpy "
                            "(this model folder was trained with it)") from exc
    index = symspellpy.SymSpell(max_dictionary_edit_distance=MAX_EDIT, prefix_length=7)
    path = Path(symspellpy.__file__).parent / "frequency_dictionary_en_82_765.txt"
    if not index.load_dictionary(str(path), term_index=0, count_index=1):
        raise WhowroteError(f"symspellpy's word list is missing: {path}; reinstall symspellpy")
    return index


@lru_cache(maxsize=65536)
def repair_word(word: str, avoid_names: bool = False) -> str:
    """`word`, or the English word it is most likely a slip of. `avoid_names`: a word that
    can only be a name ("alice") is left for the name mask, and never the repair's answer:
    a slip in Poe's Latin ("amicae") must not become Carroll's heroine."""
    from symspellpy import Verbosity

    from .names import is_english_word, is_name_only

    index = speller()
    if not 3 <= len(word) <= MAX_WORD or not word.islower() or word in index.words or (avoid_names and is_name_only(word)):
        return word
    # a doubled letter that makes a common word when single ("crosss", "refuseed") is a
    # slip, though Webster's inflection rules would read it as a word (cross + s)
    single = [word[:i] + word[i + 1:] for i in range(1, len(word)) if word[i] == word[i - 1]]
    single = [w for w in single if w in index.words]
    if single:
        return max(single, key=index.words.get)
    if is_english_word(word):
        return word
    # nearest first, then most frequent: SymSpell's own order
    found = index.lookup(word, Verbosity.ALL, max_edit_distance=MAX_EDIT if len(word) >= LONG_WORD else 1)
    found = [f.term for f in found if not (avoid_names and is_name_only(f.term))]
    return found[0] if found else _webster_neighbour(word) or word


@lru_cache(maxsize=4)
def common_words(n: int = COMMON_WORDS) -> frozenset[str]:
    """The `n` most frequent English words of SymSpell's list (ties in the list's order)."""
    words = speller().words
    return frozenset(sorted(words, key=words.get, reverse=True)[:n])


@lru_cache(maxsize=65536)
def repair_capitalised(word: str) -> str:
    """`word` ("Tge"), or the common word it is one slip of ("The"). Only a capitalised
    word that is no English word and no proper noun of the dictionary ("Alice", "Kitty"
    stay for the mask), and only to a frequent word a single slip away: an unknown
    capitalised word is far more often a name than a typo, so the repair must be sure."""
    from symspellpy import Verbosity

    from .names import dictionary, is_english_word, is_name_only

    lower = word.lower()
    if not 3 <= len(word) <= MAX_WORD or is_english_word(lower) or word in dictionary()[1]:
        return word
    common = common_words()
    found = [f.term for f in speller().lookup(lower, Verbosity.CLOSEST, max_edit_distance=1)
             if f.distance == 1 and f.term in common and not is_name_only(f.term)]
    return found[0].capitalize() if found else word


def _webster_neighbour(word: str) -> str | None:
    """A Webster word one slip away, for the words the frequency list lacks
    ("perpetuallly"): a doubled or swapped letter first (the likelier slips), then a
    dropped or substituted one; the first found, in a fixed order."""
    from .names import dictionary

    lower = dictionary()[0]
    n, letters = len(word), "abcdefghijklmnopqrstuvwxyz"
    tries = [word[:i] + word[i + 1:] for i in range(n)]
    tries += [word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(n - 1)]
    tries += [word[:i] + c + word[i:] for i in range(n + 1) for c in letters]
    tries += [word[:i] + c + word[i + 1:] for i in range(n) for c in letters]
    return next((t for t in tries if t != word and t in lower), None)


def repair(text: str) -> str:
    """`text` with every lower-case non-word and capitalised slip repaired (for a look at what it does; the
    pipeline calls `repair_word` through `normalise`, which keeps offsets)."""
    text = WORD.sub(lambda m: repair_word(m.group()), text)
    return CAPITALISED_WORD.sub(lambda m: repair_capitalised(m.group()), text)
