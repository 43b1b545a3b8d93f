"""Proper names: which words of a text name someone, so that `normalise` can mask them.

A capitalised word (not "I", "Mr", a function word or an ALL-CAPS heading) is a name when
it is no English word (Webster's 2nd via `english-words`, inflections included), or when,
mid-sentence, it is a proper noun of that dictionary ("Kitty") or a title ("the Queen"). A
run of capitalised words holding a name is one name ("Humpty Dumpty", "the Red Queen",
"C. Auguste Dupin"). A capitalised common word on its own ("a golden Rule") is the
author's emphasis, not a name: it stays the word, which is all the uncased model would see
in a lower-cased copy. The rule looks no further than the sentence, so a passage is masked
alike alone or inside its book. With `lower=True`, a lower-case word that can only be a
name (no English word, a proper noun of the dictionary: "alice", "george") is one too, so
lower-casing a text cannot unmask its names; the spelling repair asks `is_name_only` so
that it never turns a slip into such a word ("amicae" -> "alice"). With `title_case=True`,
a sentence (or a paragraph without a stop) in Title Case, where every word but the short function words is
capitalised, carries no case to read: there a word is a name only when it is no English
word, as at a sentence's start, and only names join into one ("Don't Think As The Queen
Did" keeps every word; without the rule "Don", "Think" and "As", proper nouns of the
dictionary, became masks, and a name made its whole run of capitals one mask). With
`contractions=True`, the stem of an n't contraction is a word anywhere ("Didn't you see?"
opens with no name). A judged text set all in capitals carries no case either, and its names
("ALICE") would reach the uncased model unmasked: the judge reads it lower-cased (`unshouted`),
where the lower-case rule finds them.

    python -c "from whowrote.text.names import proper_names; print(proper_names('Then alice met the Queen.', lower=True))"
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
# A capitalised word, with O'Brien / D'Arcy kept whole; "Alice's" matches "Alice".
_CAPITALISED = re.compile(rf"(?<![{_UPPER}{_LOWER}'])[{_UPPER}][{_UPPER}{_LOWER}]*(?:'[{_UPPER}][{_UPPER}{_LOWER}]+)?")
# A lower-case word, "alice's" matching "alice" (as _CAPITALISED does), not inside a contraction.
_LOWER_WORD = re.compile(r"(?<![A-Za-z0-9'])[a-z]{3,}(?=(?:'s)?(?![A-Za-z0-9']))")
# Words that are capitalised for grammar, not because they name someone.
_NOT_NAMES = frozenset("""I I'm I'll I've I'd O Oh Mr Mrs Ms Dr St Mme Mlle Messrs Monsieur Madame Mademoiselle
Sir Madam Miss Lord Lady Jr Sr""".split())
# Function words are never names, even capitalised mid-sentence ("No Cakes are ...",
# "the Proposition Some x are y" in Carroll's logic).
_FUNCTION_WORDS = frozenset("""a an the this that these those some any no none all every each either neither both
few many much more most other another such what which who whom whose whatever whoever
i me my mine we us our you your he him his she her it its they them their
and but or nor for so yet if then than because though although while when where why how
of to in on at by with from into onto upon over under about above below between among through
after before since until till without within against during towards toward across beyond
be am is are was were been being have has had do does did shall will should would may might must can could
not never ever only very too also here there now once one two three four five six seven eight nine ten
yes oh ah alas well let""".split())
_ABBREVIATIONS = frozenset("Mr Mrs Ms Dr St Mme Mlle Messrs Jr Sr vs etc No Vol Capt Col Gen Rev Prof".split())


# Titles that stand for a character when capitalised ("the Queen", "the Prefect").
_TITLES = frozenset("""queen king knight duchess duke prince princess lady lord baron baroness count countess
emperor empress captain colonel general major admiral sergeant lieutenant doctor professor judge bishop
prefect marquis marchioness governor president chancellor abbot abbess""".split())
# Irregular forms Webster's 2nd (lemmas only) lacks; regular inflections are undone below.
_IRREGULAR = frozenset("""began begun sang sung rang rung drank drunk swam swum knew known grew grown threw thrown
drew drawn flew flown wrote written rode ridden spoke spoken broke broken chose chosen froze frozen stole stolen
woke woken wore worn tore torn bore borne swore sworn fell fallen felt kept slept wept left meant dealt lent sent
spent bent built caught taught brought bought fought sought held stood understood told sold found wound bound
hung stuck struck dug shot lit led fed fled met sat spat got gotten forgot forgotten gave given forgave ate eaten
lay laid paid heard made did done seen took taken shook hid hidden bit bitten slid arose arisen became ran
children men women feet teeth mice geese lives wives knives leaves selves themselves ourselves yourselves""".split())


@lru_cache(maxsize=1)
def dictionary() -> tuple[frozenset[str], frozenset[str]]:
    """(lower-case English words, capitalised ones: proper nouns) from Webster's 2nd (the
    `english-words` package); without it, only mid-sentence capitals are names."""
    try:
        from english_words import get_english_words_set
    except ImportError:
        return frozenset(), frozenset()
    words = get_english_words_set(["web2"], lower=False, alpha=True)
    return frozenset(w for w in words if w.islower()), frozenset(w for w in words if w[:1].isupper())


def _lemmas(w: str):
    """The word, and what it may be an inflection of (walked -> walk, things -> thing, ...)."""
    yield w
    for suffix, repl in (("'s", ""), ("ies", "y"), ("es", ""), ("s", ""), ("ied", "y"), ("ed", ""), ("ed", "e"),
                         ("ing", ""), ("ing", "e"), ("er", ""), ("er", "e"), ("est", ""), ("est", "e"), ("ily", "y"),
                         ("ly", ""), ("iness", "y"), ("ness", "")):
        if w.endswith(suffix) and len(w) > len(suffix) + 1:
            stem = w[: -len(suffix)] + repl
            yield stem
            if not repl and len(stem) > 2 and stem[-1] == stem[-2]:  # stopped -> stop, running -> run
                yield stem[:-1]


@lru_cache(maxsize=1 << 16)
def is_english_word(word: str) -> bool:
    """A lower-case English word, or an inflection of one ("things", "began")."""
    lower, _ = dictionary()
    w = word.lower()
    return w in _IRREGULAR or any(x in lower for x in _lemmas(w))


@lru_cache(maxsize=1 << 16)
def is_name_only(word: str) -> bool:
    """A lower-case word that can only be a name: no English word, but a proper noun of the
    dictionary ("alice", "george", "london"; not "rose" or "will")."""
    return (len(word) >= 3 and not is_english_word(word) and word.capitalize() in dictionary()[1]
            and word.capitalize() not in _NOT_NAMES | _ABBREVIATIONS)


def _sentence_start(text: str, pos: int) -> bool:
    """Does the word at `pos` open a sentence, a quotation or a line, where any word is capitalised?"""
    while True:  # a loop, not recursion: "((((((...Alice" must not exhaust the stack
        i = pos - 1
        while i >= 0 and text[i] in " \t":
            i -= 1
        if i < 0 or text[i] in "\n!?:":
            return True
        if text[i] == ".":
            word = re.search(rf"([{_UPPER}{_LOWER}]+)\.$", text[max(0, i - 12): i + 1])
            # "Mr. Dupin", "C. Auguste Dupin": the dot ends an abbreviation, not a sentence
            return not (word and (word.group(1) in _ABBREVIATIONS or (len(word.group(1)) == 1 and word.group(1).isupper())))
        if text[i] == '"':
            # an opening quote touches the word ("Off with ..."); after a closing one, what
            # came before it decides ("Yes," Alice said / "Yes!" Alice cried)
            if i == pos - 1:
                return True
        elif text[i] not in "([{\u2014-":  # brackets and dashes are transparent
            return False
        pos = i


def _is_name(word: str, opens_sentence: bool) -> bool:
    """A capitalised word is a name if it is no English word; mid-sentence also if the
    dictionary lists it as a proper noun ("Kitty", "Tom") or it is a title ("the Queen").
    A capitalised dictionary word mid-sentence ("a golden Rule", "the Red Death") is the
    author's emphasis, not a name: the uncased model sees it as the word, exactly as it
    would in a lower-cased copy of the text."""
    if not is_english_word(word):
        return True
    return not opens_sentence and (word in dictionary()[1] or word.lower() in _TITLES)


# Stems of the n't contractions: "Didn't" opens a sentence as often as "Did" does, and
# "Didn" is no English word, so without this a question opening with it was masked "[MASK]'t".
_NT_STEMS = frozenset("""ain aren can couldn daren didn doesn don hadn hasn haven isn mayn mightn mustn needn oughtn
shan shouldn wasn weren won wouldn""".split())


def is_nt_stem(word: str, after: str) -> bool:
    """Is `word`, followed by `after` (the next two characters), the stem of an n't contraction?"""
    return word.lower() in _NT_STEMS and after.lower() == "'t"


def proper_names(text: str, lower: bool = False, title_case: bool = False,
                 contractions: bool = False) -> list[tuple[int, int]]:
    """[start, end) of every proper name in `text`, adjacent names merged. Context-free
    beyond the sentence: a passage is masked the same alone or inside its book. `lower`:
    lower-case words that can only be names count too (`is_name_only`). `title_case`:
    in Title Case sentences only words that are no English word are names. `contractions`:
    the stem of an n't contraction ("Didn" of "Didn't") is a word wherever it stands."""
    runs: list[list] = []  # [start, end, holds a name] of adjacent capitalised words
    titled = title_case_spans(text) if title_case else []
    title_starts = [s for s, _ in titled]
    words = [(m.start(), m.group(), False) for m in _CAPITALISED.finditer(text)]
    if lower:  # (start, word, is a lower-case name): the two kinds never start at one place
        words = sorted(words + [(m.start(), m.group(), True) for m in _LOWER_WORD.finditer(text) if is_name_only(m.group())])
    for start, word, lower_name in words:
        after = text[start + len(word): start + len(word) + 2]  # "'t" after "Didn"
        if lower_name:
            name = True
        elif word in _NOT_NAMES or word.lower() in _FUNCTION_WORDS or (len(word) > 1 and word.isupper()):
            continue  # "I", titles, function words, and ALL-CAPS headings or emphasis
        elif contractions and is_nt_stem(word, after):
            continue  # a word, neither a name nor part of one
        elif titled and (i := bisect_right(title_starts, start) - 1) >= 0 and start < titled[i][1]:
            if _title_case_word(word, after):
                continue  # the case says nothing here, and the word is a word: it neither is nor joins a name
            name = True
        else:
            name = _is_name(word, _sentence_start(text, start))
        if runs and _joins(text[runs[-1][1]:start], text[runs[-1][0]:runs[-1][1]]):
            runs[-1][1], runs[-1][2] = start + len(word), runs[-1][2] or name
        else:
            runs.append([start, start + len(word), name])
    spans: list[tuple[int, int]] = []
    for s, e, name in runs:
        # A lower-case name can lie inside a capitalised word that a letter outside a-z
        # splits ("Primæval": "val"); one mask covers both, as the replacement needs
        if name and spans and s < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(e, spans[-1][1]))
        elif name:
            spans.append((s, e))
    return spans


# Words that Title Case (Chicago style) leaves in lower case; they neither make nor break it.
_TITLE_SMALL = frozenset("a an the and but or nor for so yet of to in on at by with from as up off per via vs".split())
# A sentence, or a paragraph without a stop (a heading): a single line break is the printed
# page's, so a line alone ("from the White King and Queen") says nothing about the case
_SENTENCE = re.compile(r"(?:[^.!?\n]|\n(?![ \t]*\n))+")
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:'[A-Za-z]+)*")
_TITLE_MIN_WORDS = 3  # fewer words than this ("Mr Poe", "Alice said") say nothing about the case


def _title_case_word(word: str, after: str) -> bool:
    """In Title Case, is a capitalised word just a word? An English word, the stem of an
    n't contraction ("Didn" of "Didn't"), or a contraction that `str.title` capitalised
    inside ("You'Ve", "I'Ll"), which capitals cannot tell from "O'Brien" but its first part can."""
    head = word.split("'")[0]
    return (is_english_word(word) or is_nt_stem(word, after)
            or (head != word and (head == "I" or (len(head) > 1 and is_english_word(head)))))


def title_case_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of every sentence (or paragraph without a stop) set in Title Case: at least three words
    beyond the short function words, each of them capitalised (ALL-CAPS text is not Title
    Case: its words are skipped as headings anyway)."""
    spans = []
    for m in _SENTENCE.finditer(text):
        words = [w for w in _WORD.findall(m.group()) if w.lower() not in _TITLE_SMALL]
        if (len(words) >= _TITLE_MIN_WORDS and all(w[0].isupper() for w in words)
                and not all(w.isupper() for w in words)):
            spans.append((m.start(), m.end()))
    return spans


def _joins(gap: str, previous: str) -> bool:
    """Do two names separated by `gap` form one ("Humpty Dumpty", "Looking-Glass", "C. Dupin")?"""
    return gap in (" ", "-") or (gap == ". " and len(previous.split()[-1].split("-")[-1]) == 1)


def unshouted(text: str) -> str:
    """`text` lower-cased where it is set all in capitals (it has cased letters, none of them
    lower case), each character alone so the length and every offset stay; else `text`."""
    if any(c.islower() for c in text) or not any(c.isupper() for c in text):
        return text
    return "".join(low if len(low := c.lower()) == 1 else c for c in text)
