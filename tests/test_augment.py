"""Training-time augmentation: typos and name swap act on token windows, keep their width,
and repeat exactly from the same generator state."""

import random

import numpy as np

from whowrote.data.augment import NameSwap, Typos, mistype


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
