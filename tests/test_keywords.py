"""The keyword check: the deletion, the gain, the threshold, and the judge and report applying it."""

import dataclasses

import numpy as np
import pytest

from tests.conftest import STYLE_A, invented_text, judge_with
from whowrote.data.pieces import word_pieces
from whowrote.model.keywords import KEYWORDS_FLAG, delete_keywords, keyword_pieces, window_keyword_gains
from whowrote.model.openset import fit_flag_threshold
from whowrote.model.wordorder import s_gain

A_TEXT = invented_text(STYLE_A, 400, 21)
LABELS = ["alice", "edgar", "neither"]


def test_deletion_takes_whole_words_and_keeps_their_punctuation(wordpiece_tokenizer):
    tok = wordpiece_tokenizer
    vocab = word_pieces(tok)
    keys = keyword_pieces(tok, ["kitten", "queen"])
    row = tok("the Queen sat on a kitten, the kittens sat.", add_special_tokens=False)["input_ids"]
    kept = tok.convert_ids_to_tokens(delete_keywords(row, keys, vocab).tolist())
    assert kept == ["the", "sat", "on", "a", ",", "the", "kitten", "##s", "sat", "."]  # "kittens" is another word
    assert delete_keywords(row, set(), vocab).tolist() == row
    assert keyword_pieces(tok, ["zebra"]) == set()  # a word the vocabulary cannot spell is no key


def test_gain_is_the_fall_of_log_s_without_the_keywords():
    before = np.log(np.array([[0.8, 0.1, 0.1], [0.8, 0.1, 0.1]]))
    after = np.log(np.array([[0.2, 0.1, 0.7], [0.2, 0.1, 0.7]]))
    assert s_gain(before, after, 1.0, LABELS, "neither", "alice") == pytest.approx(np.log(0.8 / 0.2))
    assert s_gain(before, before, 1.0, LABELS, "neither", "alice") == pytest.approx(0.0)


def test_threshold_spares_the_author_and_goes_no_lower_than_the_stuffing_needs():
    own = np.linspace(0, 1, 101)
    tau = fit_flag_threshold(own, np.array([]), 0.02)
    assert np.mean(own > tau) <= 0.02 and np.mean(own > tau - 0.011) > 0.02
    stuffed = np.full(50, 5.0)  # stuffing far above the author's own gains: the threshold rises to it
    high = fit_flag_threshold(own, stuffed, 0.02)
    assert high > tau and np.mean(stuffed > high) >= 0.98 and np.mean(own > high) == 0


def test_window_gains_read_again_only_the_windows_a_deletion_changed(wordpiece_tokenizer):
    tok = wordpiece_tokenizer
    vocab = word_pieces(tok)
    ids = np.array([tok("the kitten sat on a mat")["input_ids"], tok("the queen sat on a mat")["input_ids"],
                    tok("the mat sat on a mat")["input_ids"]])
    read = []

    def logits_of(rows):
        read.append(rows.shape)
        return np.tile([0.0, 0.0, 2.0], (len(rows), 1))  # without the keyword: "neither"

    logits = np.tile([2.0, 0.0, 0.0], (3, 1))
    gains = window_keyword_gains(logits_of, ids, 1.0, LABELS, "neither", ["alice"] * 3,
                                 {"alice": keyword_pieces(tok, ["kitten", "queen"])}, vocab, logits)
    assert read == [(2, ids.shape[1] - 1)]  # two windows lost one word each; the third was not read again
    assert gains[0] == pytest.approx(gains[1]) and gains[0] > 1 and gains[2] == 0


def test_judge_flags_a_text_whose_s_rests_on_the_keywords(open_set_judge):
    words = {"alice": STYLE_A[:6]}
    base = dataclasses.replace(open_set_judge.open_set, order_thresholds={}, keywords=words, keyword_thresholds={"alice": np.inf})
    judge = judge_with(open_set_judge, base)
    text, short = judge.score([A_TEXT, "the kitten"])
    assert text.label == "alice" and text.keyword_gain is not None and KEYWORDS_FLAG not in text.flags
    assert short.keyword_gain is None  # too short to check
    assert judge.score([A_TEXT])[0].keyword_gain == pytest.approx(text.keyword_gain)  # alone or in a batch
    judge.open_set = dataclasses.replace(base, keyword_thresholds={"alice": text.keyword_gain - 1e-6})
    flagged = judge.score([A_TEXT])[0]
    assert flagged.label == "neither" and KEYWORDS_FLAG in flagged.flags and "keyword_gain" in flagged.to_dict()
    unchecked = judge_with(open_set_judge, judge.open_set, keyword_check=False).score([A_TEXT])[0]
    assert unchecked.label == "alice" and unchecked.keyword_gain is None


def test_calibration_fits_the_check_and_the_report_measures_it(open_set_run, capsys):
    from whowrote.commands.evaluate import print_report
    from whowrote.layout import RunFiles, read_json

    report = read_json(RunFiles(open_set_run).report)
    stored = read_json(RunFiles(open_set_run).model / "whowrote.json")["open_set"]
    check = report["keyword_check"]
    assert check["authors"] and set(check["authors"]) <= {"alice", "edgar"}
    for author, fit in check["authors"].items():
        assert fit["own_flagged"] <= check["max_flagged"] and 0 <= fit["stuffed_flagged"] <= 1
        assert fit["stuffed_given_after"] <= fit["stuffed_given_before"]
        assert stored["keyword_thresholds"].get(author) == (fit["threshold"] if fit["kept"] else None)
        assert stored["keywords"][author]  # the words the judge deletes travel with the model
        kept_odds = stored["check_odds"].get(KEYWORDS_FLAG, {}).get(author)
        assert kept_odds == (fit["odds"] if fit["kept"] else None) and (not fit["kept"] or fit["odds"] < 1)
    assert set(check["test_flagged"]) == {"alice", "edgar", "neither"}
    print_report(open_set_run)  # as `whowrote evaluate` prints it
    out = capsys.readouterr().out
    kept = [fit for fit in check["authors"].values() if fit["kept"]]
    assert kept and all(f"weighs the odds of S by {fit['odds']:.3f}" in out for fit in kept)
