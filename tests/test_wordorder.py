"""The word-order check: the shuffle, the gain, the threshold, and the judge applying it."""

import dataclasses

import numpy as np
import pytest

from tests.conftest import STYLE_A, invented_text, judge_with
from whowrote import Judge
from whowrote.data.pieces import word_pieces
from whowrote.model.wordorder import ORDER_WINDOWS, WORD_ORDER_FLAG, WindowSample, fit_order_threshold, log_s, s_gain, shuffled

A_TEXT = invented_text(STYLE_A, 400, 21)
LABELS = ["alice", "edgar", "neither"]


def test_shuffle_keeps_the_pieces_and_depends_on_the_window_alone(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    vocab = word_pieces(tok)
    w = tok(A_TEXT[:600], add_special_tokens=False)["input_ids"][:30]
    other = tok(A_TEXT[600:1200], add_special_tokens=False)["input_ids"][:30]
    alone = shuffled([w], vocab)[0]
    assert sorted(alone) == sorted(w) and alone != w
    assert shuffled([other, w, other], vocab)[1] == alone  # the same window, the same order, whatever the batch


def test_gain_is_the_fall_of_log_s_when_shuffled():
    # S(alice) = P(alice) over every answer: 0.8 before, 0.2 after
    before = np.log(np.array([[0.8, 0.1, 0.1]]))
    after = np.log(np.array([[0.2, 0.1, 0.7]]))
    assert s_gain(before, after, 1.0, LABELS, "neither", "alice") == pytest.approx(np.log(0.8 / 0.2))
    ls, names = log_s(before, 1.0, LABELS, "neither")
    assert names == ["alice", "edgar"] and ls[0] == pytest.approx(np.log([0.8, 0.1]))
    # a text's windows count through their mean log-probability, as the judge scores a text
    two = np.log(np.array([[0.9, 0.05, 0.05], [0.5, 0.25, 0.25]]))
    assert s_gain(two, two, 1.0, LABELS, "neither", "alice") == pytest.approx(0.0)


def test_threshold_spares_the_author_and_goes_no_higher_than_the_salad_needs():
    rng = np.random.default_rng(0)
    gains, salad = rng.normal(1.0, 0.3, 150), rng.normal(0.0, 0.05, 150)
    tau = fit_order_threshold(gains, salad, 0.05)
    assert np.mean(gains < tau) <= 0.05 and np.mean(salad < tau) >= 0.95
    assert tau < np.sort(gains)[7]  # lower than the author alone would allow: the salad is caught already
    overlapping = rng.normal(0.2, 0.3, 150)  # salad the model cannot tell apart: the author's bound wins
    tau = fit_order_threshold(gains, overlapping, 0.05)
    assert np.mean(gains < tau) <= 0.05 < np.mean(gains <= tau) + 1 / 150


def test_only_prose_is_checked(tiny_model):
    from transformers import AutoTokenizer

    from whowrote.model.wordorder import is_prose

    tok = AutoTokenizer.from_pretrained(tiny_model)
    vocab = word_pieces(tok)
    words = tok(A_TEXT[:300], add_special_tokens=False)["input_ids"]
    table = tok(", - . , - . , " * 10 + "kitten", add_special_tokens=False)["input_ids"]
    assert is_prose([words], vocab) and not is_prose([table], vocab) and not is_prose([[]], vocab)


def test_window_sample_keeps_a_bounded_uniform_reproducible_sample():
    def sample(n):
        s = WindowSample()
        for i in range(n):
            s.add([i], np.zeros(2))
        return [w[0] for w, _ in s.items]

    assert sample(5) == [0, 1, 2, 3, 4]
    many = sample(1000)
    assert len(many) == ORDER_WINDOWS and many == sample(1000) and max(many) > 500


def test_judge_applies_the_threshold_to_texts_given_to_an_author(open_set_judge):
    texts = [A_TEXT, "the kitten"]
    base = dataclasses.replace(open_set_judge.open_set, order_thresholds={"alice": -np.inf, "edgar": -np.inf},
                               keyword_thresholds={})  # the keyword check has its own tests (test_keywords.py)
    judge = judge_with(open_set_judge, base)
    long, short = judge.score(texts)
    assert long.label == "alice" and long.order_gain is not None and WORD_ORDER_FLAG not in long.flags
    assert short.order_gain is None  # too short to read its order
    assert judge.score([A_TEXT])[0].order_gain == pytest.approx(long.order_gain)  # alone or in a batch
    judge.open_set = dataclasses.replace(base, order_thresholds={"alice": long.order_gain + 1e-6})
    flagged = judge.score([A_TEXT])[0]
    assert flagged.label == "neither" and WORD_ORDER_FLAG in flagged.flags and "order_gain" in flagged.to_dict()
    assert flagged.s("alice") == pytest.approx(long.s("alice"))  # a folder without check_odds: S as it was
    judge.open_set = dataclasses.replace(judge.open_set, check_odds={WORD_ORDER_FLAG: {"alice": 0.05}})
    weighed = judge.score([A_TEXT])[0]
    s = long.s("alice")
    assert weighed.check_odds == 0.05 and weighed.to_dict()["check_odds"] == 0.05
    assert weighed.s("alice") == pytest.approx(s * 0.05 / (s * 0.05 + 1 - s) if s < 1 else 1.0)  # tiny models saturate
    off = Judge(judge.model, judge.tokenizer, judge.labels, judge.seq_len, judge.temperature, open_set=judge.open_set,
                length_temperatures=judge.length_temperatures, partner=judge.partner, normalise=judge.normalise,
                order_check=False)
    unchecked = off.score([A_TEXT])[0]
    assert unchecked.label == "alice" and unchecked.order_gain is None and "order_gain" not in unchecked.to_dict()


def test_calibration_fits_the_check_and_the_report_measures_it(open_set_run):
    from whowrote.layout import RunFiles, read_json

    report = read_json(RunFiles(open_set_run).report)
    check = report["order_check"]
    stored = read_json(RunFiles(open_set_run).model / "whowrote.json")["open_set"]["order_thresholds"]
    odds = read_json(RunFiles(open_set_run).model / "whowrote.json")["open_set"]["check_odds"].get(WORD_ORDER_FLAG, {})
    assert set(check["authors"]) == {"alice", "edgar"}
    for author, fit in check["authors"].items():
        assert fit["own_flagged"] <= check["max_flagged"] and 0 <= fit["salad_flagged"] <= 1
        assert fit["salad_given_after"] <= fit["salad_given_before"]
        assert stored.get(author) == (fit["threshold"] if fit["kept"] else None)
        assert 0 < fit["odds"] and odds.get(author) == (fit["odds"] if fit["kept"] else None)
    assert set(check["test_flagged"]) == {"alice", "edgar", "neither"}
