"""The repetition check: the measure, the loops calibration makes, and the judge and report applying it."""

import dataclasses

import numpy as np
import pytest

from tests.conftest import STYLE_A, invented_text, judge_with
from whowrote.data.pieces import word_pieces
from whowrote.evaluation.probes import loop_first_sentence
from whowrote.model.repetition import REPETITION_FLAG, fit_repetition_threshold, looped_rows, repetition, text_repetition

A_TEXT = invented_text(STYLE_A, 400, 21)


def _ids(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def test_repetition_is_the_share_of_word_runs_said_before(wordpiece_tokenizer):
    tok, vocab = wordpiece_tokenizer, word_pieces(wordpiece_tokenizer)
    assert repetition(_ids(tok, "the kitten sat on a mat."), vocab) == 0
    # nine words, seven runs of three; the last four were said before
    assert repetition(_ids(tok, "the kitten sat the kitten sat the kitten sat"), vocab) == pytest.approx(4 / 7)
    # "kittens" is another word than "kitten", and "mat." another than "mat"
    assert repetition(_ids(tok, "the kitten sat the kittens sat the kitten mat. the kitten mat"), vocab) == 0
    assert repetition(_ids(tok, "the kitten"), vocab) == 0  # too short to repeat a run
    assert text_repetition([], vocab) == 0
    windows = [_ids(tok, "the kitten sat on a mat."), _ids(tok, "the kitten sat the kitten sat the kitten sat")]
    assert text_repetition(windows, vocab) == pytest.approx(2 / 7)  # the mean of the windows'


def test_looped_rows_say_the_first_sentence_over_and_over(wordpiece_tokenizer):
    tok, vocab = wordpiece_tokenizer, word_pieces(wordpiece_tokenizer)
    rows = np.array([tok("the queen sat. the kitten sat on a mat")["input_ids"],
                     tok("the queen sat on a mat, the kitten sat")["input_ids"],
                     tok("sat. . the kitten sat. the queen sat")["input_ids"]])
    looped, said = looped_rows(rows, vocab)
    assert said.tolist() == [2, 1, 2]  # "the queen sat." twice and a half; the second row, once
    assert looped.shape == rows.shape and (looped[:, 0] == rows[:, 0]).all() and (looped[:, -1] == rows[:, -1]).all()
    assert tok.convert_ids_to_tokens(looped[0, 1:-1].tolist()) == ["the", "queen", "sat", ".", "the", "queen", "sat", ".",
                                                                   "the", "queen"]
    assert (looped[1] == rows[1]).all()  # no sentence ends in the window: nothing to loop
    # the window starts mid-sentence and "." alone is no sentence: the first whole one is looped
    assert tok.convert_ids_to_tokens(looped[2, 1:5].tolist()) == ["the", "kitten", "sat", "."]
    assert repetition(looped[0, 1:-1], vocab) == 0.5 and repetition(rows[0, 1:-1], vocab) == 0  # 3 of 6 runs


def test_threshold_sits_midway_between_prose_and_loops():
    own = np.linspace(0, 0.1, 101)
    loops = np.linspace(0.5, 1.0, 101)
    tau = fit_repetition_threshold(own, loops, 0.02)
    assert tau == pytest.approx((0.098 + 0.51) / 2)
    assert np.mean(own > tau) == 0 and np.mean(loops > tau) == 1
    assert fit_repetition_threshold(own, np.array([]), 0.02) == pytest.approx(0.098)  # no loops: the own quantile
    overlapping = fit_repetition_threshold(own, np.linspace(0, 1, 101), 0.02)
    assert overlapping == pytest.approx(0.098)  # loops below the author's own: never flag more of his


def test_judge_flags_a_text_that_repeats_itself_more_than_the_threshold(open_set_judge):
    base = dataclasses.replace(open_set_judge.open_set, order_thresholds={}, keyword_thresholds={}, coherence_thresholds={},
                               repetition_thresholds={"alice": np.inf}, check_odds={REPETITION_FLAG: {"alice": 0.05}})
    judge = judge_with(open_set_judge, base)
    text, short = judge.score([A_TEXT, "the kitten"])
    assert text.label == "alice" and 0 <= text.repetition < 0.2 and REPETITION_FLAG not in text.flags
    assert short.repetition is None  # too short to check
    judge.open_set = dataclasses.replace(base, repetition_thresholds={"alice": text.repetition - 1e-9})
    flagged = judge.score([A_TEXT])[0]
    assert flagged.label == "neither" and REPETITION_FLAG in flagged.flags and flagged.check_odds == 0.05
    assert flagged.to_dict()["repetition"] == pytest.approx(text.repetition) and flagged.s("alice") < text.s("alice")
    unchecked = judge_with(open_set_judge, judge.open_set, repetition_check=False).score([A_TEXT])[0]
    assert unchecked.label == "alice" and unchecked.repetition is None


def test_the_fitted_check_lets_prose_through_and_stops_a_loop(open_set_judge):
    threshold = open_set_judge.open_set.repetition_thresholds["alice"]
    text = open_set_judge.score([A_TEXT])[0]
    looped = loop_first_sentence(A_TEXT)
    vocab = word_pieces(open_set_judge.tokenizer)
    windows = [w for w, *_ in open_set_judge.windows([looped])]
    assert text_repetition(windows, vocab) > threshold >= (text.repetition or 0)
    assert REPETITION_FLAG not in text.flags
    verdict = judge_with(open_set_judge, dataclasses.replace(open_set_judge.open_set, repetition_thresholds={})).score([looped])[0]
    checked = open_set_judge.score([looped])[0]
    assert verdict.label == "alice"  # the tiny model gives the loop to its author, as the real one gives a third of them
    assert checked.label == "neither" and REPETITION_FLAG in checked.flags


def test_calibration_fits_the_check_and_the_report_measures_it(open_set_run, capsys):
    from whowrote.commands.evaluate import print_report
    from whowrote.evaluation.card import summary_markdown
    from whowrote.layout import RunFiles, read_json

    report = read_json(RunFiles(open_set_run).report)
    stored = read_json(RunFiles(open_set_run).model / "whowrote.json")["open_set"]
    check = report["repetition_check"]
    assert check["authors"] and set(check["authors"]) <= {"alice", "edgar"} and check["loops"] > 0
    for author, fit in check["authors"].items():
        assert fit["own_flagged"] <= check["max_flagged"] and fit["loops_flagged"] >= 0.5 and fit["kept"]
        assert stored["repetition_thresholds"][author] == fit["threshold"]
        assert stored["check_odds"][REPETITION_FLAG][author] == fit["odds"] < 1
    assert set(check["test_flagged"]) == {"alice", "edgar", "neither"}
    print_report(open_set_run)  # as `whowrote evaluate` prints it
    out = capsys.readouterr().out
    assert "repetition check" in out and all(f"weighs the odds of S by {f['odds']:.3f}" in out for f in check["authors"].values())
    assert "Repetition check" in summary_markdown(open_set_run)


def test_the_command_line_reports_repetition_and_can_skip_the_check(open_set_run, tmp_path, capsys):
    import json

    from whowrote.cli import main

    looped = tmp_path / "looped.txt"
    looped.write_text(loop_first_sentence(A_TEXT))
    assert main(["judge", "--model", str(open_set_run), "--quiet", "--json", str(looped)]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["label"] == "neither" and REPETITION_FLAG in checked["flags"] and checked["repetition"] > 0.5
    assert main(["judge", "--model", str(open_set_run), "--quiet", "--json", "--no-repetition-check", str(looped)]) == 0
    skipped = json.loads(capsys.readouterr().out)
    assert "repetition" not in skipped and REPETITION_FLAG not in skipped["flags"]
    assert main(["judge", "--model", str(open_set_run), "--engine", "ray", "--no-repetition-check", "--output",
                 str(tmp_path / "out"), str(looped)]) == 2  # the local engine's option only: one line, no traceback
    assert "--no-repetition-check" in capsys.readouterr().err
