import numpy as np
import pytest

from whowrote.data.augment import NameSwap
from whowrote.data.split import (
    BalancedSampler,
    LabelStream,
    assign_blocks,
    disjoint_windows,
    fold_parts,
    judged_spans,
    kfold_blocks,
    make_blocks,
    unseen_parts,
    window_starts,
)
from whowrote.errors import WhowroteError


def unique_stream(label: str, n: int, offset: int, block_len: int, width: int) -> LabelStream:
    """Every token id is unique, so 'shares a token' is the same as 'shares a value'."""
    return LabelStream(label, np.arange(offset, offset + n, dtype=np.int64), make_blocks([n], block_len, width), [n])


def test_blocks_tile_each_book_and_never_cross_books():
    blocks = make_blocks([2500, 300, 50], block_len=1000, min_len=100)
    assert blocks == [(0, 1000), (1000, 2500), (2500, 2800)]  # tail joins last block; 50 < min_len dropped


def test_assignment_is_disjoint_complete_deterministic_and_spread():
    parts = assign_blocks(40, 0.1, 0.1, seed=3)
    all_ids = np.concatenate([parts["train"], parts["val"], parts["test"]])
    assert sorted(all_ids.tolist()) == list(range(40))
    assert len(parts["test"]) == 4 and len(parts["val"]) == 4
    # one test block in each quarter of the book, not just its ending
    assert sorted((parts["test"] // 10).tolist()) == [0, 1, 2, 3]
    again = assign_blocks(40, 0.1, 0.1, seed=3)
    assert all(np.array_equal(parts[p], again[p]) for p in parts)
    other = assign_blocks(40, 0.1, 0.1, seed=4)
    assert not all(np.array_equal(parts[p], other[p]) for p in parts)


def test_too_few_blocks_is_a_clear_error():
    with pytest.raises(WhowroteError, match="at least 3"):
        assign_blocks(2, 0.1, 0.1, 0)


def test_no_test_or_validation_window_shares_a_token_with_training():
    width = 30
    streams = [unique_stream("alice", 4000, 0, 200, width), unique_stream("edgar", 20000, 10**6, 200, width)]
    parts = [assign_blocks(len(s.blocks), 0.1, 0.1, seed=i) for i, s in enumerate(streams)]
    sampler = BalancedSampler(streams, [p["train"] for p in parts], width, per_class=16, seed=0, cls_id=-1, sep_id=-2)
    seen = set()
    for _ in range(300):
        ids, _ = sampler.draw()
        seen.update(ids[:, 1:-1].ravel().tolist())
    for stream, p in zip(streams, parts):
        for part in ("val", "test"):
            held_out = set(disjoint_windows(stream, p[part], width).ravel().tolist())
            assert held_out and not held_out & seen


def test_disjoint_windows_do_not_overlap_and_stay_in_blocks():
    stream = unique_stream("a", 1000, 0, 100, 30)
    w = disjoint_windows(stream, [0, 2], 30)
    assert w.shape == (6, 30)  # 3 windows per 100-token block
    assert len(set(w.ravel().tolist())) == w.size
    assert set(w.ravel().tolist()) <= set(range(0, 100)) | set(range(200, 300))
    capped = disjoint_windows(stream, range(10), 30, limit=5)
    assert len(capped) == 5 and capped[0][0] == 0 and capped[-1][0] == 960  # spread, not the first 5


def test_sampler_is_balanced_labelled_and_framed_with_special_tokens():
    streams = [unique_stream("alice", 3000, 0, 500, 14), unique_stream("edgar", 60000, 10**6, 500, 14)]
    sampler = BalancedSampler(streams, [np.arange(len(s.blocks)) for s in streams], 14, per_class=32, seed=1,
                              cls_id=101, sep_id=102)
    ids, labels = sampler.draw()
    assert ids.shape == (64, 16)
    assert labels.tolist() == [0] * 32 + [1] * 32
    assert (ids[:, 0] == 101).all() and (ids[:, -1] == 102).all()
    assert (ids[:32, 1:-1] < 10**6).all() and (ids[32:, 1:-1] >= 10**6).all()
    # contiguous windows inside one block
    body = ids[:, 1:-1]
    assert (np.diff(body, axis=1) == 1).all()
    assert (body[:32, 0] // 500 == body[:32, -1] // 500).all()  # 3000 = 6 whole blocks of 500
    # a count per label (the background's own, `background_per_class`)
    uneven = BalancedSampler(streams, [np.arange(len(s.blocks)) for s in streams], 14, per_class=[4, 12], seed=1,
                             cls_id=101, sep_id=102)
    ids, labels = uneven.draw()
    assert labels.tolist() == [0] * 4 + [1] * 12 and (ids[:4, 1:-1] < 10**6).all() and (ids[4:, 1:-1] >= 10**6).all()


def test_sampler_state_round_trips():
    streams = [unique_stream("a", 3000, 0, 500, 10), unique_stream("b", 3000, 10**6, 500, 10)]
    make = lambda: BalancedSampler(streams, [np.arange(6)] * 2, 10, 4, 0, 1, 2)
    s1 = make()
    s1.draw()
    state = s1.state_dict()
    expected = s1.draw()[0]
    s2 = make()
    s2.load_state_dict(state)
    assert np.array_equal(s2.draw()[0], expected)


def test_kfold_puts_every_block_in_test_exactly_once():
    folds = kfold_blocks(23, 5, seed=0)
    tests = [fold_parts(folds, f, 0.1, 0)["test"] for f in range(5)]
    assert sorted(np.concatenate(tests).tolist()) == list(range(23))
    for f in range(5):
        parts = fold_parts(folds, f, 0.1, 0)
        assert not set(parts["train"]) & set(parts["test"]) and not set(parts["val"]) & set(parts["test"])
        assert not set(parts["train"]) & set(parts["val"])
        assert len(parts["train"]) + len(parts["val"]) + len(parts["test"]) == 23
    with pytest.raises(WhowroteError):
        kfold_blocks(3, 5, 0)


def two_work_stream(label: str, sizes: list[int], offset: int, block_len: int, width: int) -> LabelStream:
    n = sum(sizes)
    return LabelStream(label, np.arange(offset, offset + n, dtype=np.int64), make_blocks(sizes, block_len, width), sizes)


def test_sampling_by_work_gives_a_small_work_its_share():
    # work 0: 200 tokens, work 1: 9800 tokens; by token the small one would get ~2% of draws
    stream = two_work_stream("a", [200, 9800], 0, 100, 10)
    other = two_work_stream("b", [5000], 100_000, 100, 10)
    blocks = [np.arange(len(stream.blocks)), np.arange(len(other.blocks))]
    for by_work, lo, hi in ((True, 0.4, 0.6), (False, 0.0, 0.06)):
        sampler = BalancedSampler([stream, other], blocks, 10, 50, seed=1, cls_id=-1, sep_id=-2, by_work=by_work)
        ids = np.concatenate([sampler.draw()[0][:50] for _ in range(20)])
        share_small = np.mean(ids[:, 1] < 200)
        assert lo <= share_small <= hi, (by_work, share_small)


def test_work_weights_draw_a_labels_works_in_proportion_and_leave_other_labels_as_they_were():
    stream = two_work_stream("a", [5000, 5000], 0, 100, 10)
    other = two_work_stream("b", [5000, 5000], 100_000, 100, 10)
    blocks = [np.arange(len(stream.blocks)), np.arange(len(other.blocks))]
    plain = BalancedSampler([stream, other], blocks, 10, 50, seed=1, cls_id=-1, sep_id=-2, by_work=True)
    weighed = BalancedSampler([stream, other], blocks, 10, 50, seed=1, cls_id=-1, sep_id=-2, by_work=True,
                              work_weights=[[3.0, 1.0], None])
    unweighed = BalancedSampler([stream, other], blocks, 10, 50, seed=1, cls_id=-1, sep_id=-2, by_work=True,
                                work_weights=[None, None])
    draws = [np.concatenate([s.draw()[0] for _ in range(40)]) for s in (plain, weighed, unweighed)]
    a_rows = np.concatenate([np.arange(k * 100, k * 100 + 50) for k in range(40)])
    first_work = [np.mean(d[a_rows, 1] < 5000) for d in draws]
    assert 0.70 <= first_work[1] <= 0.80 and 0.40 <= first_work[0] <= 0.60
    np.testing.assert_array_equal(draws[0], draws[2])  # no weights: the very draws of before (a resumed run repeats them)


def test_name_swap_replaces_placeholders_with_names_of_any_label_and_keeps_width():
    mask = 7
    tokens = np.full(1000, 5, dtype=np.int64)
    tokens[::10] = mask  # a name every ten tokens
    stream = LabelStream("a", tokens, make_blocks([1000], 100, 20), [1000])
    other = LabelStream("b", np.full(1000, 6, dtype=np.int64), make_blocks([1000], 100, 20), [1000])
    names = [[100], [200, 201]]  # a one-token name and a two-token one
    blocks = [np.arange(len(stream.blocks)), np.arange(len(other.blocks))]
    sampler = BalancedSampler([stream, other], blocks, 20, 30, seed=0, cls_id=1, sep_id=2,
                              augment=[NameSwap(mask, names, 0.5)])
    ids, _ = sampler.draw()
    assert ids.shape == (60, 22)
    a = ids[:30, 1:-1]
    assert (a == mask).any() and (a == 100).any() and (a == 200).any()  # some kept, some swapped
    rows, cols = np.nonzero(a[:, :-1] == 200)
    assert np.all(a[rows, cols + 1] == 201)  # a two-token name stays whole
    assert not np.isin(ids[30:, 1:-1], [100, 200, mask]).any()  # label b had no placeholders to swap
    off = BalancedSampler([stream, other], blocks, 20, 30, seed=0, cls_id=1, sep_id=2, augment=[NameSwap(mask, names, 0.0)])
    assert not np.isin(off.draw()[0], [100, 200]).any()


def test_unseen_parts_alternate_whole_works_or_blocks():
    many = two_work_stream("a", [300, 300, 300], 0, 100, 10)
    parts = unseen_parts(many)
    works = many.block_works
    assert set(works[parts["calib"]]) == {0, 2} and set(works[parts["test"]]) == {1}
    one = two_work_stream("b", [1000], 0, 100, 10)
    parts = unseen_parts(one)
    assert list(parts["calib"]) == [0, 2, 4, 6, 8] and list(parts["test"]) == [1, 3, 5, 7, 9]


def test_judged_spans_are_contiguous_texts_inside_blocks_cut_as_the_judge_cuts():
    stream = two_work_stream("a", [1000, 1000], 0, 100, 10)  # token id == position
    blocks = np.arange(len(stream.blocks))
    starts, spans = judged_spans(stream, blocks, [10, 20, 40], width=10, stride=5)
    assert len(set(starts.tolist())) == len(starts)  # each distinct window scored once
    for n, (rows, works) in spans.items():
        assert len(rows) == len(works) == sum((e - s) // n for s, e in stream.blocks)
        for r in rows:
            first, last = starts[r].min(), starts[r].max() + 10
            assert last - first == n and list(starts[r] - first) == window_starts(n, 10, 5)
            assert any(s <= first and last <= e for s, e in stream.blocks)  # never across blocks
    # the lengths share one grid of windows: the 40-token texts add no window the 10s lack
    assert {int(starts[r].min()) for r in spans[40][0]} <= set(starts[np.concatenate(spans[10][0])].tolist())
    few, few_spans = judged_spans(stream, blocks, [10], width=10, stride=5, blocks_per_work=2)
    assert len(few_spans[10][0]) == 2 * 2 * 10 and set(few_spans[10][1]) == {0, 1}  # 2 blocks of each work


def test_window_starts_step_by_stride_and_align_the_last_to_the_end():
    assert window_starts(5, 10, 5) == [0]  # a short text is one short window
    assert window_starts(10, 10, 5) == [0]
    assert window_starts(20, 10, 5) == [0, 5, 10]
    assert window_starts(23, 10, 5) == [0, 5, 10, 13]
