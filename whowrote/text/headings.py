"""Headings: the lines that name a text's parts rather than belong to its prose.

Two readers use them. The rolling plot marks a long text's section headings (CHAPTER ...,
a title line in capitals, a Markdown heading) along its series (`section_headings`). The
judge sets aside the heading lines that open a text (`opening_headings`): the title a
generator puts above its story ("The Looking-Glass Garden", "Chapter 1", "By A. Writer"),
which is no more the author's style than a Gutenberg header is, and which, above a passage
of one window, pushed it into two windows and moved 5.7% of the README run's labels
(`benchmarks/alterations.py`, "a Markdown heading above"). A chat model's preamble above
them ("Sure! Here's a short story:") is set aside with them, and its closing line below the
text ("I hope you enjoyed it! Let me know ...", `closing_remark`): their words are the chat
model's, not the writer's ("the author", "passage", "style" read as Poe's criticism).

    python -c "from whowrote.text.headings import opening_headings as o; t = 'Chapter 1\n\nIt was late.'; print(repr(t[o(t):]))"
"""

from __future__ import annotations

import re

# a book's heading (CHAPTER ..., a title line in capitals) or, in a generator's or a web
# page's text, a Markdown heading ("## The Second Tale"), whose marks are not its title
_SECTION = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+(?P<md>[^\n#][^\n]{0,79}?)[ \t#]*"
                      r"|(?P<book>(?:CHAPTER|Chapter|BOOK|Book|PART|Part|STAVE|Stave)\b[^\n]{0,80}"
                      r"|[A-Z][A-Z0-9 ,.'\-:;!?\u2014]{3,80}))[ \t]*$", re.MULTILINE)


def _title(m: re.Match) -> tuple[int, str] | None:
    """(offset, title) of a `_SECTION` match, marks left out; None where it has under 3 letters."""
    group = "md" if m.group("md") is not None else "book"
    title = m.group(group).strip()
    return (m.start(group), title) if sum(c.isalpha() for c in title) >= 3 else None


def section_headings(text: str) -> list[tuple[int, str]]:
    """(character offset, title) of each section heading in the text, marks left out."""
    return [found for m in _SECTION.finditer(text) if (found := _title(m))]


def is_section_heading(line: str) -> bool:
    """Is this one line a section heading by itself (as `section_headings` finds them)?"""
    m = _SECTION.fullmatch(line.strip())
    return bool(m) and _title(m) is not None


# One line standing alone (a blank line after it), read after the typography rules have
# dropped Markdown's marks: what may open a text as its heading.
_OPENING_LINE = re.compile(r"[ \t]*(?P<line>[^\n]{1,100}?)[ \t]*(?:\n[ \t]*){2,}")
MAX_HEADING_WORDS = 12
MAX_OPENING_HEADINGS = 4  # a title, a subtitle, a byline, a chapter: no more
# A line ending in a full stop is prose ("It was so.") unless it names a part of the text
# ("CHAPTER IV.", "Part 2.", "IV.") or is set in capitals.
_PART = re.compile(r"(?i)(?:chapter|part|book|canto|section|act|scene|volume|letter|stave|prologue|epilogue|"
                   r"introduction|preface|contents)\b|[ivxlc]+\.?$|\d+\.?$")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")


# A chat model's reply opens on a line of its own that introduces the text: one that opens
# as a reply does, or a capitalised sentence that ends in a colon ("Here is the story:").
# A book's window opens mid-sentence; "the valley of the Nile:" is not introduced so.
_FIRST_LINE = re.compile(r"[ \t]*(?P<line>[^\n]{1,400}?)[ \t]*(?:\n[ \t]*){2,}")
_REPLY = re.compile(r"(?:sure|certainly|of course|absolutely|okay|ok|here(?:'s|\u2019s| is| are)|below is)\b", re.I)
MAX_PREAMBLE_WORDS = 40


def _is_preamble(line: str) -> bool:
    if len(line.split()) > MAX_PREAMBLE_WORDS:
        return False
    return bool(_REPLY.match(line)) or (line[0].isupper() and line.endswith(":"))


# ... and closes on a line of its own that offers more or hopes it pleased.
_SIGN_OFF = re.compile(r"(?:i hope|let me know|feel free|would you like|if you(?:'d|\u2019d| would) like|shall i|"
                       r"do you want|want me to|enjoy)\b", re.I)


def closing_remark(text: str) -> int:
    """Where a chat model's closing line starts in `text`, the blanks above it included
    (`len(text)`: it has none): a last line standing alone, of at most 40 words, that opens
    as a sign-off does ("I hope", "Let me know", "Would you like"), below prose."""
    body = text.rstrip()
    cut = body.rfind("\n")
    above, line = body[:cut].rstrip(" \t"), body[cut + 1:].strip()
    if cut < 0 or not above.endswith("\n") or not above.strip():  # not a line standing alone below prose
        return len(text)
    if len(line.split()) > MAX_PREAMBLE_WORDS or not _SIGN_OFF.match(line):
        return len(text)
    return len(above.rstrip())


def _is_heading(line: str, prose_has_lower_case: bool) -> bool:
    if not any(c.isalnum() for c in line) or len(line.split()) > MAX_HEADING_WORDS or line[-1] in ",;:-\u2014":
        return False  # a line ending so is a sentence going on ("the valley of the Nile:")
    if not _SENTENCE_END.search(line):
        return True
    letters = [c for c in line if c.isalpha()]
    # capitals mark a heading only above prose that has lower case: in text set all in
    # capitals, "IT WAS SO." is a sentence (UPPER CASE text took 26 held-out passages'
    # first lines for headings without this)
    in_capitals = prose_has_lower_case and len(letters) >= 2 and all(c.isupper() for c in letters)
    return bool(_PART.match(line)) or in_capitals


def opening_headings(text: str) -> int:
    """How many characters at the start of `text` are a preamble and heading lines (0:
    none). A preamble is a first line standing alone, of at most 40 words, that opens as a
    chat model's reply ("Sure", "Certainly", "Here is") or is a capitalised sentence ending
    in a colon. A heading is a line of at most 12 words standing alone, not ending as a
    sentence that goes on (a comma, a colon, a dash), and not with a full stop unless it
    names a part or is in capitals above prose in lower case; prose must follow, so a text
    that is all headings is read whole."""
    pos, lower = 0, any(c.islower() for c in text[:5000])
    first = _FIRST_LINE.match(text)
    if first and _is_preamble(first.group("line")):
        pos = first.end()
    for _ in range(MAX_OPENING_HEADINGS):
        m = _OPENING_LINE.match(text, pos)
        if not m or not _is_heading(m.group("line"), lower):
            break
        pos = m.end()
    return pos if text[pos:].strip() else 0
