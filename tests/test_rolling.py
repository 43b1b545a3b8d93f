"""Rolling attribution and change points on a text spliced from two invented styles."""

import json

import pytest

from tests.conftest import STYLE_A, STYLE_B, invented_text
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


def test_rolling_output_formats_and_headings(judge, tmp_path):
    text = "CHAPTER I. THE KITTEN\n\n" + invented_text(STYLE_A, 120, 3) + "\n\nTHE RAVEN\n\n" + invented_text(STYLE_B, 120, 4)
    r = judge.rolling(text, smooth_k=3, edge="valid")
    assert [h["text"] for h in r.headings] == ["CHAPTER I. THE KITTEN", "THE RAVEN"]
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
