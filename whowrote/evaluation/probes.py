"""Text perturbations for the validity probes: what a generator or an adversary does to a
passage that should not change who wrote it.

- `swap_names`: every proper name becomes a character name of another author (the way
  a generator "writes like Carroll" by naming Alice), or a neutral name;
- `typos`: a share of the letters mistyped (substituted, dropped, doubled or swapped);
- `lowercase`: the whole passage lower-cased (names can no longer be told by capitals);
- `drop_words`: a share of the words left out, a crude paraphrase;
- `disguise`: letters swapped for Cyrillic look-alikes and invisible characters slipped
  between letters, the way text is doctored to fool a filter while reading the same;
- `reprint`: the same words set by another edition or a generator: curly quotes, dashes
  as em dashes, 2-em dashes or spaced en dashes, spaced ellipses, Markdown *emphasis*;
- `insert_words`: a share of words slipped in, drawn from a list: another author's
  `topic_words` (text/topics.py), the words his books use far more than the others' (what they are about,
  "kitten", "pudding" for Carroll, and some of how he writes, "remarked", "scarcely"), the
  way a generator told to "write like Poe" sprinkles his vocabulary; or everyday
  `NEUTRAL_WORDS`, the control for the insertion itself.

Each is deterministic for a given seed.

    python -c "from whowrote.evaluation.probes import typos; print(typos('The Queen had only one way', 0.1, 0))"
"""

from __future__ import annotations

import itertools
import random
import re

from ..text.names import proper_names
from ..text.normalise import Aligned, typography

_WORD = re.compile(r"\S+")


def swap_names(text: str, names: list[str], seed: int) -> tuple[str, int]:
    """(text with each proper name replaced by one of `names`, how many were replaced).
    Names are found as the judge finds them, on the typography-normalised text."""
    rng = random.Random(seed)
    al = typography(Aligned.of(text, track=False))
    spans = proper_names(al.text)
    out = al.replace([(s, e, rng.choice(names)) for s, e in spans]).text
    return out, len(spans)


def typos(text: str, rate: float, seed: int) -> str:
    """Mistype `rate` of the letters: each chosen letter is substituted, dropped, doubled
    or swapped with the next character, with equal chances."""
    rng = random.Random(seed)
    chars = list(text)
    letters = [i for i, c in enumerate(chars) if c.isalpha()]
    for i in sorted(rng.sample(letters, round(rate * len(letters))), reverse=True):
        kind = rng.randrange(4)
        if kind == 0:
            chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyz")
        elif kind == 1:
            del chars[i]
        elif kind == 2:
            chars.insert(i, chars[i])
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


# Cyrillic letters a reader cannot tell from the Latin ones
LOOK_ALIKES = {"a": "\u0430", "c": "\u0441", "e": "\u0435", "i": "\u0456", "o": "\u043e", "p": "\u0440",
               "x": "\u0445", "y": "\u0443", "A": "\u0410", "B": "\u0412", "C": "\u0421", "E": "\u0415",
               "H": "\u041d", "O": "\u041e", "P": "\u0420", "T": "\u0422"}
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\u00ad")


def disguise(text: str, rate: float, seed: int) -> str:
    """Swap `rate` of the letters that have a Cyrillic look-alike for it, and put an
    invisible character (zero-width space/joiner, word joiner, soft hyphen) after `rate`
    of the letters: the text reads the same."""
    rng = random.Random(seed)
    out = []
    for c in text:
        out.append(LOOK_ALIKES[c] if c in LOOK_ALIKES and rng.random() < rate else c)
        if c.isalpha() and rng.random() < rate:
            out.append(rng.choice(INVISIBLE))
    return "".join(out)


_DASH = re.compile(r"-{2,}|\u2014+")
_DOUBLE_QUOTE = re.compile(r'"')
_ELLIPSIS = re.compile(r"\.{3}")
_UNDERSCORED = re.compile(r"_([^_\n]+)_")


def reprint(text: str, seed: int) -> str:
    """The same words in another edition's typesetting: double quotes curly (opening and
    closing in turn), apostrophes as \u2019, each dash an em dash, a 2-em dash or a spaced en
    dash at random, "..." spaced as ". . .", and `_italics_` as Markdown `*emphasis*`."""
    rng = random.Random(seed)
    quotes = itertools.cycle("\u201c\u201d")
    text = _DOUBLE_QUOTE.sub(lambda m: next(quotes), text)
    text = text.replace("'", "\u2019")
    text = _DASH.sub(lambda m: rng.choice(["\u2014", "\u2014\u2014", " \u2013 "]), text)
    text = _ELLIPSIS.sub(". . .", text)
    return _UNDERSCORED.sub(r"*\1*", text)


def lowercase(text: str) -> str:
    return text.lower()


def drop_words(text: str, rate: float, seed: int) -> str:
    """Leave out `rate` of the words (whitespace-separated), keeping the rest in order."""
    rng = random.Random(seed)
    words = _WORD.findall(text)
    keep = [w for w in words if rng.random() >= rate]
    return " ".join(keep or words[:1])


# everyday content words that belong to no author: the control for inserting words at all
NEUTRAL_WORDS = ("table", "window", "river", "letter", "street", "morning", "horse", "money", "paper", "village",
                 "coat", "bread", "road", "market", "friend", "chair", "bottle", "kitchen", "bridge", "sister",
                 "doctor", "church", "winter", "field", "bag", "ticket", "shop", "clock", "shoe", "farm")


def insert_words(text: str, words: list[str] | tuple[str, ...], rate: float, seed: int) -> str:
    """Slip round(`rate` x the passage's words) words drawn from `words` in between its
    words, at random places."""
    rng = random.Random(seed)
    tokens = _WORD.findall(text)
    for _ in range(round(rate * len(tokens))):
        tokens.insert(rng.randrange(len(tokens) + 1), rng.choice(words))
    return " ".join(tokens)


def shuffle_words(text: str, seed: int) -> str:
    """The passage's words (whitespace-split, punctuation attached) in a random order."""
    words = _WORD.findall(text)
    random.Random(seed).shuffle(words)
    return " ".join(words)


def shuffle_local(text: str, seed: int, shortest: int = 3, longest: int = 5) -> str:
    """Each run of `shortest`-`longest` words shuffled in place: the vocabulary and its rough
    place kept, the syntax broken."""
    rng = random.Random(seed)
    words, out, i = _WORD.findall(text), [], 0
    while i < len(words):
        run = words[i:i + rng.randint(shortest, longest)]
        rng.shuffle(run)
        out += run
        i += len(run)
    return " ".join(out)


_SENTENCE = re.compile(r"[^.!?]+[.!?]+[\"')\]]*\s*|[^.!?]+$")


def reorder_sentences(text: str, seed: int) -> str:
    """The passage's sentences in a random order, each kept whole."""
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    random.Random(seed).shuffle(sentences)
    return " ".join(sentences)


def loop_first_sentence(text: str) -> str:
    """The passage's first sentence said over and over, as a small generator loops, cut to the
    passage's number of words."""
    words = _WORD.findall(text)
    first = _WORD.findall(next((m for m in _SENTENCE.findall(text) if m.strip()), text))
    return " ".join(itertools.islice(itertools.cycle(first or words), len(words)))


def markov_passages(texts: list[str], order: int, n_passages: int, n_words: int, seed: int) -> list[str]:
    """`n_passages` passages of `n_words` words from a word Markov chain of `order` fitted on
    `texts` (whitespace-split words, punctuation attached): the author's words in his local
    order up to `order` words, and no further. Each starts at a random place of the texts."""
    rng = random.Random(seed)
    words = [w for t in texts for w in _WORD.findall(t)]
    follows: dict[tuple[str, ...], list[str]] = {}
    for i in range(len(words) - order):
        follows.setdefault(tuple(words[i:i + order]), []).append(words[i + order])
    out = []
    for _ in range(n_passages):
        start = rng.randrange(len(words) - order)
        state, passage = tuple(words[start:start + order]), list(words[start:start + order])
        while len(passage) < n_words:
            nxt = follows.get(state)
            if not nxt:  # a dead end: start again somewhere else
                start = rng.randrange(len(words) - order)
                state = tuple(words[start:start + order])
                continue
            passage.append(rng.choice(nxt))
            state = (*state[1:], passage[-1]) if order else ()
        out.append(" ".join(passage[:n_words]))
    return out
