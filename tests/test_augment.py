"""Training-time augmentation: typos and name swap act on token windows, keep their width,
and repeat exactly from the same generator state."""

import random

import numpy as np

from whowrote.data.augment import NameSwap, TokenMask, Typos, WordSprinkle, mistype


def test_mistype_makes_one_slip():
    rng = random.Random(0)
    for word in ("queen", "difficulties", "of"):
        for _ in range(20):
            typo = mistype(word, rng)
            assert typo and abs(len(typo) - len(word)) <= 1
    assert any(mistype("queen", rng) != "queen" for _ in range(10))


def test_typos_touch_about_the_expected_share_of_words_and_keep_width(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    words = "the kitten said the queen was curious and the raven was in the tomb".split() * 10
    row = np.array(tok(" ".join(words), add_special_tokens=False)["input_ids"])
    typos = Typos(tok, windows=1.0, letter_rate=0.05)
    out = typos(row, np.random.default_rng(0))
    assert len(out) == len(row)
    # an unknown spelling is [UNK] in this word-level vocabulary: count words that changed
    changed = np.mean(out[: len(row) // 2] != row[: len(row) // 2])
    expected = np.mean([1 - 0.95 ** len(w) for w in words if len(w) > 1])
    assert 0.5 * expected < changed < 1.5 * expected
    again = typos(row, np.random.default_rng(0))
    assert np.array_equal(out, again)  # the sampler's generator decides everything
    assert np.array_equal(Typos(tok, windows=0.0)(row, np.random.default_rng(0)), row)


def test_name_swap_draws_from_every_labels_names():
    swap = NameSwap(mask_id=7, names=[[100], [200], [300, 301]], rate=1.0)
    row = np.array([5, 7, 5, 7, 5, 7, 5, 7, 5, 5])
    seen = set()
    for seed in range(30):
        out = swap(row, np.random.default_rng(seed))
        assert len(out) == len(row) and 7 not in out
        seen |= set(out.tolist())
    assert {100, 200, 300} <= seen


def test_word_sprinkle_slips_whole_words_in_between_words_and_keeps_width(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    text = " ".join("the queen was curious and the raven was in the tomb".split() * 10)
    row = np.array(tok(text, add_special_tokens=False)["input_ids"])
    # two words of the vocabulary that the window lacks, and one it cannot spell (never slipped in)
    spare = sorted(w for w in tok.get_vocab() if w.isalpha() and w not in set(tok.convert_ids_to_tokens(row.tolist())))[:2]
    sprinkle = WordSprinkle(tok, spare + ["qqxqzz"], windows=1.0, rate=0.05)
    out = sprinkle(row, np.random.default_rng(0))
    assert len(out) == len(row)
    added = [tok.convert_ids_to_tokens(int(i)) for i in out if int(i) not in set(row.tolist())]
    assert added and set(added) <= set(spare)
    # what is left of the window, less the words slipped in, is the window's own start, in order
    kept = [int(i) for i in out if tok.convert_ids_to_tokens(int(i)) not in set(spare)]
    assert kept == row[: len(kept)].tolist() and len(out) - len(kept) == round(0.05 * len(row))
    assert np.array_equal(out, sprinkle(row, np.random.default_rng(0)))  # the sampler's generator decides
    assert np.array_equal(WordSprinkle(tok, ["kitten"], windows=0.0)(row, np.random.default_rng(0)), row)


def test_token_mask_hides_about_its_rate_of_pieces_and_leaves_the_stream_alone():
    stream = np.arange(10, 10_010)
    row = stream[:4000]  # a view, as the sampler hands it over
    out = TokenMask(mask_id=3, windows=1.0, rate=0.15)(row, np.random.default_rng(0))
    assert len(out) == len(row) and 0.13 < np.mean(out == 3) < 0.17
    assert np.array_equal(out[out != 3], row[out != 3])  # the rest as it was, in place
    assert not np.any(stream == 3)  # the token stream itself untouched
    assert np.array_equal(out, TokenMask(3, 1.0, 0.15)(row, np.random.default_rng(0)))
    untouched = [TokenMask(3, 0.5, 0.15)(row, np.random.default_rng(s)) is row for s in range(200)]
    assert 0.35 < np.mean(untouched) < 0.65  # only a share `windows` of the windows


def test_scramble_keeps_the_words_and_the_width_and_destroys_the_order(tiny_model):
    from transformers import AutoTokenizer

    from whowrote.data.augment import Scramble

    tok = AutoTokenizer.from_pretrained(tiny_model)
    row = np.array(tok("the kitten said , the queen was curious . " * 6, add_special_tokens=False)["input_ids"])
    scramble = Scramble(tok)
    outs = [scramble(row, np.random.default_rng(s)) for s in range(6)]
    for out in outs:
        assert len(out) == len(row) and sorted(out) == sorted(row)  # the same pieces, another order
    assert sum(not np.array_equal(o, row) for o in outs) >= 5
    commas = [i for i, t in enumerate(outs[0]) if tok.convert_ids_to_tokens(int(t)) == ","]
    assert all(tok.convert_ids_to_tokens(int(outs[0][i - 1])) == "said" for i in commas)  # "said," stays one word


def test_stuff_slips_in_five_to_twenty_percent_of_the_words(tiny_model):
    from transformers import AutoTokenizer

    from whowrote.data.augment import Stuff

    tok = AutoTokenizer.from_pretrained(tiny_model)
    row = np.array(tok("the queen was curious and the raven was in the tomb " * 8, add_special_tokens=False)["input_ids"])
    kitten = tok.convert_tokens_to_ids("kitten")
    counts = [int((Stuff(tok, ["kitten"], 1.0)(row, np.random.default_rng(s)) == kitten).sum()) for s in range(10)]
    assert all(0.03 * len(row) <= c <= 0.25 * len(row) for c in counts) and len(set(counts)) > 1


def test_the_sampler_makes_negatives_from_other_labels_in_the_background_slots():
    from whowrote.data.split import BalancedSampler, LabelStream

    streams = [LabelStream(str(k), np.full(400, 10 * (k + 1), np.int32), [(0, 200), (200, 400)], [400]) for k in range(3)]
    marked = lambda row, rng: row + 1  # noqa: E731  a made window is told apart by its ids
    sampler = BalancedSampler(streams, [np.array([0, 1])] * 3, 8, 20, seed=0, cls_id=1, sep_id=2,
                              background=2, negatives=[(0.5, "authors", marked)])
    ids, labels = sampler.draw()
    background = ids[labels == 2][:, 1]
    assert set(background) <= {30, 11, 21} and 3 <= (background != 30).sum() <= 17  # about half made, from labels 0 and 1
    assert set(ids[labels == 0][:, 1]) == {10} and set(ids[labels == 1][:, 1]) == {20}  # authors' slots untouched


def test_chain_writes_only_word_pairs_the_author_wrote_in_a_new_order(tiny_model):
    from transformers import AutoTokenizer

    from whowrote.data.augment import Chain, word_groups, word_pieces

    tok = AutoTokenizer.from_pretrained(tiny_model)
    text = "the kitten said the queen was curious and the raven was in the tomb of the queen . "
    rows = [np.array(tok(text * 3, add_special_tokens=False)["input_ids"])] * 4
    chain, vocab = Chain(tok), word_pieces(tok)
    pairs = {(tuple(a), tuple(b)) for a, b in zip(word_groups(rows[0], vocab), word_groups(rows[0], vocab)[1:])}
    outs = [chain(rows, np.random.default_rng(s)) for s in range(8)]
    for out in outs:
        assert len(out) == len(rows[0])
        words = [tuple(w) for w in word_groups(out, vocab)][:-1]  # the last may be cut at the width
        assert all(pair in pairs for pair in zip(words, words[1:]))  # every step is one the author took
    assert sum(not np.array_equal(o, rows[0]) for o in outs) >= 6


def test_the_sampler_gives_a_many_window_negative_windows_of_one_label():
    from whowrote.data.split import BalancedSampler, LabelStream

    streams = [LabelStream(str(k), np.full(400, 10 * (k + 1), np.int32), [(0, 200), (200, 400)], [400]) for k in range(3)]
    seen = []

    def pooled(rows, rng):
        seen.append({int(r[0]) for r in rows})
        return rows[0]
    pooled.takes = 5
    sampler = BalancedSampler(streams, [np.array([0, 1])] * 3, 8, 20, seed=0, cls_id=1, sep_id=2,
                              background=2, negatives=[(1.0, "authors", pooled)])
    sampler.draw()
    assert len(seen) == 20 and all(len(s) == 1 and s <= {10, 20} for s in seen)  # 5 windows, all of one author
