"""Content-matched background windows (whowrote/data/matching.py) and their sampling."""

import numpy as np
import pytest

from conftest import FUNCTION, STYLE_A, STYLE_B, STYLE_C, gutenberg_file, invented_text
from whowrote.data.matching import TOP_FRACTION, likeness, matched_starts
from whowrote.data.split import BalancedSampler, LabelStream, make_blocks
from whowrote.errors import WhowroteError


def test_likeness_is_the_nearest_authors_mean_similarity():
    author_a = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0]])
    author_b = np.array([[0.0, 0.0, 1.0]])
    background = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    score = likeness(background, [author_a, author_b], neighbours=2)
    assert score == pytest.approx([0.9, 0.3, 1.0])  # b has one window: its mean is over that one


@pytest.fixture(scope="module")
def matched_prep(tmp_path_factory, tiny_model):
    """Two authors and a background work whose second half is written in author A's words."""
    from whowrote.config import resolve
    from whowrote.data.prepare import prepare
    from whowrote.training.model import load

    folder = tmp_path_factory.mktemp("match-books")
    (folder / "pg93001.txt").write_text(gutenberg_file(invented_text(STYLE_A, 4000, 1)), newline="")
    (folder / "pg93002.txt").write_text(gutenberg_file(invented_text(STYLE_B, 4000, 2)), newline="")
    mixed = invented_text(STYLE_C, 3000, 3) + "\n\n" + invented_text(STYLE_A + FUNCTION, 3000, 4)
    (folder / "pg93003.txt").write_text(gutenberg_file(mixed), newline="")
    config = resolve("cpu", model=str(tiny_model), data_dir=str(folder), background="neither",
                     sources={"alice": ["93001"], "edgar": ["93002"], "neither": ["93003"]},
                     seq_len=32, block_len=128, background_match=0.5, output_dir=str(tmp_path_factory.mktemp("runs")))
    model, tokenizer = load(config.model, config.labels)
    return prepare(config, tokenizer), model


def test_matched_pool_is_the_quarter_of_the_background_that_reads_like_the_authors(matched_prep):
    prep, model = matched_prep
    b = prep.labels.index("neither")
    pools = matched_starts(prep, model, b)
    stream = prep.streams[b]
    assert len(pools) == 1  # one background work
    ranges = pools[0]
    train_blocks = [stream.blocks[i] for i in prep.parts[b]["train"]]
    n_windows = sum((e - s) // prep.width for s, e in train_blocks)
    assert len(ranges) == round(TOP_FRACTION * n_windows)
    for lo, hi in ranges:  # every start it may draw keeps the window inside one training block
        assert any(s <= lo <= hi <= e - prep.width for s, e in train_blocks)
    # the second half of the work is in author A's words: the matched pool lies mostly there
    half = len(stream.tokens) / 2
    assert np.mean(ranges[:, 0] > half) >= 0.9


def two_labels(width: int):
    a = LabelStream("a", np.arange(0, 2000, dtype=np.int64), make_blocks([2000], 200, width), [2000])
    b = LabelStream("b", np.arange(10_000, 12_000, dtype=np.int64), make_blocks([2000], 200, width), [2000])
    return [a, b], [np.arange(len(a.blocks)), np.arange(len(b.blocks))]


def test_sampler_draws_the_matched_share_from_the_matched_ranges():
    streams, blocks = two_labels(10)
    matched = {1: [np.array([[400, 420]])]}  # label b: starts 400..420 only (its tokens 10400..10420)
    sampler = BalancedSampler(streams, blocks, 10, 200, seed=0, cls_id=-1, sep_id=-2, matched=matched, match_share=0.5)
    ids, labels = sampler.draw()
    starts_b = ids[labels == 1][:, 1]
    inside = (starts_b >= 10_400) & (starts_b <= 10_420)
    assert 0.4 <= inside.mean() <= 0.65  # half matched, and a few uniform draws land there too
    assert set(np.unique(starts_b[inside])) > {10_400, 10_420}  # the range is used, not one start
    assert not ((ids[labels == 0][:, 1] >= 10_000).any())  # label a is untouched


def test_sampler_without_matching_draws_as_before():
    streams, blocks = two_labels(10)
    plain = BalancedSampler(streams, blocks, 10, 16, seed=3, cls_id=-1, sep_id=-2)
    off = BalancedSampler(streams, blocks, 10, 16, seed=3, cls_id=-1, sep_id=-2,
                          matched={1: [np.array([[400, 420]])]}, match_share=0.0)
    for _ in range(3):
        assert np.array_equal(plain.draw()[0], off.draw()[0])


def test_background_match_needs_a_background_and_a_share():
    from whowrote.config import resolve

    with pytest.raises(WhowroteError, match="needs a background label"):
        resolve("cpu", background_match=0.5)
    with pytest.raises(WhowroteError, match="background_match must be in"):
        resolve("authors", background_match=1.5)
