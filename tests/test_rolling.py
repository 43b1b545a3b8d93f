"""Rolling attribution and change points on a text spliced from two invented styles."""

import json

import numpy as np
import pytest

from tests.conftest import STYLE_A, STYLE_B, STYLE_C, invented_text
from whowrote import Judge
from whowrote.errors import WhowroteError


@pytest.fixture(scope="module")
def judge(trained):
    return Judge.load(trained)


def spliced(judge, lengths, seed=0):
    """Segments alternating A, B, A... of about `lengths` tokens; returns (text, true boundary tokens)."""
    parts, bounds, total = [], [], 0
    for i, n in enumerate(lengths):
        words = invented_text(STYLE_A if i % 2 == 0 else STYLE_B, n * 2, seed + i).split()
        piece = " ".join(words)
        ids = judge.tokenizer(piece, add_special_tokens=False)["input_ids"][:n]
        piece = judge.tokenizer.decode(ids)
        parts.append(piece)
        total += len(judge.tokenizer(piece, add_special_tokens=False)["input_ids"])
        bounds.append(total)
    return " ".join(parts), bounds[:-1]


def test_change_points_are_found_near_the_true_boundaries(judge):
    text, truth = spliced(judge, [200, 150, 300, 160])
    r = judge.rolling(text, window=24, stride=12)
    assert [s["label"] for s in r.segments] == ["alice", "edgar", "alice", "edgar"]
    assert len(r.boundaries) == len(truth)
    for found, true in zip(r.boundaries, truth):
        assert abs(found["token"] - true) <= 16, (r.boundaries, truth)
    assert text[r.boundaries[0]["char"]:][:1].strip()  # offsets point into the text
    # an opening title is read, as every other line: the series counts the text's tokens as given
    titled = judge.rolling("Chapter 1\n\n" + text, window=24, stride=12)
    assert titled.char_start[0] == 0
    n_title = len(judge.tokenizer("Chapter 1", add_special_tokens=False)["input_ids"])
    shifted = [b["token"] - n_title for b in titled.boundaries]
    assert len(shifted) == len(r.boundaries)
    assert all(abs(a - b["token"]) <= 24 // 8 for a, b in zip(shifted, r.boundaries))  # the fine series' step


def test_rolling_output_formats_and_headings(judge, tmp_path):
    text = "CHAPTER I. THE KITTEN\n\n" + invented_text(STYLE_A, 120, 3) + "\n\nTHE RAVEN\n\n" + invented_text(STYLE_B, 120, 4)
    r = judge.rolling(text, smooth_k=3, edge="valid")
    assert [h["text"] for h in r.headings] == ["CHAPTER I. THE KITTEN", "THE RAVEN"]
    # a generator's Markdown headings are headings too, their marks left out
    marked = "## The Kitten\n\n" + invented_text(STYLE_A, 120, 3) + "\n\n### The Raven ###\n\n" + invented_text(STYLE_B, 120, 4)
    found = judge.rolling(marked, smooth_k=3).headings
    assert [h["text"] for h in found] == ["The Kitten", "The Raven"]
    assert marked[found[1]["char"]:].startswith("The Raven")
    assert len(r.smoothed) == len(r.probs) - 2  # "valid" drops (k-1)/2 windows at each end
    d = r.to_dict()
    assert d["format"] == "whowrote.rolling/1" and d["windows"][0]["char_start"] == r.char_start[0]
    assert "smoothed" not in d["windows"][0] and "smoothed" in d["windows"][1]
    json.dumps(d)
    r.write_csv(tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines()[0].startswith("token_start,token_end,char_start,char_end,p_alice")
    r.plot(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000


def test_rolling_refuses_bad_settings(judge):
    with pytest.raises(WhowroteError, match="window"):
        judge.rolling("the kitten", window=1000)
    with pytest.raises(WhowroteError, match="fewer than one window"):
        judge.rolling("the kitten said")


def test_among_limits_the_hands_to_the_labels_named(open_set_run):
    """A text known to be by the two authors: "neither" is not a hand the segmentation may pick,
    though each window still reports P(neither)."""
    judge = Judge.load(open_set_run)
    text = " ".join(invented_text(style, 150, 60 + i) for i, style in enumerate([STYLE_A, STYLE_C, STYLE_B]))
    free = judge.rolling(text, window=24, stride=12)
    assert "neither" in [s["label"] for s in free.segments]  # the middle, in the background's style
    two = judge.rolling(text, window=24, stride=12, among=["edgar", "alice"])
    assert {s["label"] for s in two.segments} <= {"alice", "edgar"} and len(two.segments) >= 2
    assert two.to_dict()["among"] == ["alice", "edgar"] and free.to_dict()["among"] is None
    assert two.p_neither is not None and np.allclose(two.probs, free.probs)
    with pytest.raises(WhowroteError, match="'carroll' is no label of this model"):
        judge.rolling(text, among=["alice", "carroll"])
    with pytest.raises(WhowroteError, match="at least two"):
        judge.rolling(text, among=["alice", "alice"])


def test_among_on_the_command_line(open_set_run, tmp_path):
    from whowrote.cli import main

    book = tmp_path / "two.txt"
    book.write_text(invented_text(STYLE_A, 150, 70) + "\n\n" + invented_text(STYLE_B, 150, 71))
    out = tmp_path / "out"
    assert main(["judge", "--model", str(open_set_run), "--rolling", str(book), "--among", "alice,edgar",
                 "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "rolling.json").read_text())["among"] == ["alice", "edgar"]
    # without --rolling, the rolling options would be dropped without a word: a clear error instead
    assert main(["judge", "--model", str(open_set_run), "--among", "alice,edgar", str(book)]) == 2
    assert main(["judge", "--model", str(open_set_run), "--window", "20", "--change-cost", "5", str(book)]) == 2
