"""Headings: which opening lines the judge sets aside, and that it reads the rest as if they were absent."""

import pytest

from tests.conftest import STYLE_A, invented_text
from whowrote import Judge
from whowrote.judge.inputs import file_chunks
from whowrote.judge.records import Record
from whowrote.text.headings import closing_remark, is_section_heading, opening_headings, section_headings

PROSE = "It was late. The kitten sat by the fire, and nobody said a word."


@pytest.mark.parametrize("heading", [
    "Chapter 1\n\n", "The Looking-Glass Garden\n\nBy A. Writer\n\nCHAPTER IV.\n\n", "IV.\n\n",
    "THE END OF THE BEGINNING.\n\n", "  A Title  \n \n\n",
])
def test_a_title_a_byline_or_a_chapter_above_prose_is_set_aside(heading):
    assert opening_headings(heading + PROSE) == len(heading)


@pytest.mark.parametrize("text", [
    "It was so.\n\n" + PROSE,  # a short paragraph that is a sentence
    '"Hello!"\n\n' + PROSE,
    "and the mome raths outgrabe,\n\n" + PROSE,  # a sentence going on
    "the valley of the Nile:\n\n" + PROSE,
    "A first line\nwrapped onto a second\n\n" + PROSE,  # not a line standing alone
    "IT WAS SO.\n\nTHE KITTEN SAT BY THE FIRE.",  # capitals say nothing in text set all in capitals
    "Just a title\n\n",  # nothing but headings: read whole
    PROSE,
])
def test_prose_is_never_taken_for_a_heading(text):
    assert opening_headings(text) == 0


def test_at_most_four_heading_lines_are_set_aside():
    text = "".join(f"Part {i}\n\n" for i in range(6)) + PROSE
    assert text[opening_headings(text):].startswith("Part 4")


@pytest.mark.parametrize("preamble", [
    "Sure! Here's a short story in the style of Edgar Allan Poe:\n\n",
    "Certainly.\n\n", "here is the passage you asked for\n\n", "Of course. Below is my attempt, written as Carroll might.\n\n",
    "Here is a passage in the style of the author:\n\n",
    "Sure, here is a story:\n\n**The Looking-Glass Garden**\n\n",  # then its title
])
def test_a_chat_models_preamble_above_prose_is_set_aside(preamble):
    assert opening_headings(preamble + PROSE) == len(preamble)


@pytest.mark.parametrize("text", [
    "He wrote to her as follows:\nDear Madam,\n\n" + PROSE,  # not a line standing alone
    "Sure enough, " + PROSE,  # prose that opens so, run on
    "Here is a passage in the style of the author:\n\n",  # nothing after it: read whole
    " ".join(["word"] * 41) + ":\n\n" + PROSE,  # a paragraph, not a preamble
])
def test_prose_that_looks_like_a_preamble_is_read(text):
    assert opening_headings(text) == 0


@pytest.mark.parametrize("remark", [
    "\n\nI hope you enjoyed it! Let me know if you would like another.", "\n\n\nWould you like a second chapter?\n",
    "\n\n  Feel free to ask for changes.  ",
])
def test_a_chat_models_closing_line_below_prose_is_set_aside(remark):
    assert closing_remark(PROSE + remark) == len(PROSE)


@pytest.mark.parametrize("text", [
    PROSE + "\nI hope you enjoyed it!",  # not a line standing alone
    PROSE + "\n\nIt was dark. I hope it stays so.",  # prose that hopes
    "I hope you enjoyed it!", "\n\nLet me know.",  # nothing above it: read whole
    PROSE + "\n\nI hope " + " ".join(["so"] * 40) + ".",  # a paragraph, not a remark
])
def test_prose_that_looks_like_a_closing_line_is_read(text):
    assert closing_remark(text) == len(text)


def test_section_headings_are_found_anywhere_with_their_offsets():
    text = "CHAPTER I. THE KITTEN\n\n" + PROSE + "\n\n## The Second Tale\n\n" + PROSE
    found = section_headings(text)
    assert [t for _, t in found] == ["CHAPTER I. THE KITTEN", "The Second Tale"]
    assert all(text[c:c + len(t)] == t for c, t in found)


def test_a_line_alone_is_a_heading_as_section_headings_finds_them():
    for line in ("CHAPTER IV.", "THE WALRUS AND THE CARPENTER", "## The Second Tale", "  Chapter 2  "):
        assert is_section_heading(line), line
    for line in ("It was late.", "ABC", "|---|---|", "said Alice. CHAPTER"):
        assert not is_section_heading(line), line


def test_the_judge_reads_a_passage_under_a_title_as_the_passage_alone(trained):
    judge = Judge.load(trained)
    passage = invented_text(STYLE_A, 150, 3)
    heading = "Sure! Here is a story:\n\n## The Visitor\n\n*by a writer of today*\n\n"
    remark = "\n\nI hope you enjoyed it! Would you like another?"
    (alone, titled) = judge.score([passage, heading + passage + remark], details=True)
    assert titled.probs == pytest.approx(alone.probs) and titled.tokens == alone.tokens
    # offsets are into the text as given: the first window starts where the passage does
    assert titled.window_details[0]["start_char"] == len(heading)
    reading = Judge.load(trained, read_headings=True)
    assert reading.score([heading + passage])[0].tokens > alone.tokens


def test_a_streamed_file_sets_its_heading_and_closing_line_aside_as_a_text_does(trained, tmp_path, monkeypatch):
    import whowrote.judge.inputs as inputs

    judge = Judge.load(trained)
    text = "Chapter 1\n\n" + invented_text(STYLE_A, 400, 4) + "\n\nI hope you enjoyed it! Let me know if you would like another."
    f = tmp_path / "story.txt"
    f.write_text(text)
    monkeypatch.setattr(inputs, "CHUNK_CHARS", 97)  # many small reads: only the first may lose a heading
    (streamed,) = judge.score_records([Record("f", file_chunks(f))])
    (whole,) = judge.score([text])
    assert streamed.tokens == whole.tokens and streamed.probs == pytest.approx(whole.probs)
    assert whole.tokens == judge.score([text[len("Chapter 1\n\n"):text.index("\n\nI hope")]])[0].tokens
