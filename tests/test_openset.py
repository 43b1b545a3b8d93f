"""Open set ("neither"), held-out works and validity on a tiny model with invented styles."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import STYLE_A, STYLE_B, STYLE_C, STYLE_D, invented_text
from whowrote import Judge
from whowrote.config import resolve
from whowrote.errors import WhowroteError
from whowrote.evaluation.lengths import MIN_TEXTS, fit_lengths
from whowrote.model.metrics import fit_temperature, softmax
from whowrote.model.openset import (
    BACKGROUND_SPARED,
    NEITHER,
    OpenSet,
    check_odds,
    decide,
    describe,
    fit_threshold,
    fit_thresholds,
    for_length,
    split_probs,
)


def test_threshold_keeps_each_author_under_its_flag_budget():
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.9, 0.05, 0.5, 0.6])
    y = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    tau = fit_threshold(p, y, [0, 1], max_flagged=0.2)  # author 0 may have 1 of 5 flagged, author 1 none of 3
    assert 0.6 < tau <= 0.61 and np.mean(p[y == 0] >= tau) <= 0.2 and np.mean(p[y == 1] >= tau) == 0
    # 40%: author 0 may have 2 of 5 flagged (tau above 0.3), author 1 one of 3 (above 0.5)
    assert fit_threshold(p, y, [0, 1], max_flagged=0.4) == np.nextafter(0.5, 1)


def test_split_and_decide_renormalise_authors_and_flag_neither():
    probs = np.array([[0.6, 0.2, 0.2], [0.1, 0.1, 0.8]])
    authors, p_neither, names = split_probs(probs, ["alice", "edgar", "other"], "other")
    assert names == ["alice", "edgar"] and authors[0] == pytest.approx([0.75, 0.25]) and list(p_neither) == [0.2, 0.8]
    open_set = OpenSet("background", "other", 0.5)
    assert decide(probs, ["alice", "edgar", "other"], open_set) == ["alice", NEITHER]


def test_a_checks_flag_weighs_the_odds_of_s_by_what_calibration_counted():
    from whowrote.judge.records import Score

    assert check_odds(0, 16, 16, 16) == pytest.approx((1 / 18) / (17 / 18))  # never 0, whatever the counts
    assert check_odds(2, 100, 2, 100) == pytest.approx(1.0)  # a flag that tells nothing changes nothing
    assert check_odds(1, 139, 450, 500) < check_odds(1, 139, 250, 500) < 1  # the surer the check, the more it weighs
    plain = Score("t", NEITHER, {"alice": 0.9, "edgar": 0.1}, p_neither=0.2)
    assert plain.s("alice") == pytest.approx(0.72)
    flagged = Score("t", NEITHER, {"alice": 0.9, "edgar": 0.1}, p_neither=0.2, check_odds=0.1)
    assert flagged.s("alice") == pytest.approx(0.072 / (0.072 + 0.28))  # odds 0.72/0.28 times 0.1
    assert flagged.s("edgar") < plain.s("edgar") and flagged.to_dict()["check_odds"] == 0.1
    assert "check_odds" not in plain.to_dict()
    assert OpenSet.from_dict(OpenSet(check_odds={"keywords": {"alice": 0.1}}).to_dict()).check_odds == {"keywords": {"alice": 0.1}}


def test_each_author_has_its_own_threshold_for_the_texts_it_would_be_given():
    # author 0's calibration passages all stay low; author 1's (an odd work) reach 0.8
    p = np.array([0.1, 0.2, 0.3, 0.1, 0.5, 0.8])
    y = np.array([0, 0, 0, 1, 1, 1])
    taus = fit_thresholds(p, y, [0, 1], 0.2, "author")
    assert taus[0] == np.nextafter(0.3, 1) and taus[1] == np.nextafter(0.8, 1) and taus[None] == taus[1]
    assert fit_thresholds(p, y, [0, 1], 0.2, "global") == {None: taus[None]}
    # the background's calibration passages (label 2): where they sit far above the authors, no
    # threshold goes below their 5% quantile, and none rises above it where the authors overlap them
    far = fit_thresholds(np.r_[p, 0.95, 0.97, 0.99], np.r_[y, 2, 2, 2], [0, 1], 0.2, "author", 2)
    assert far[0] == far[1] == far[None] == pytest.approx(np.quantile([0.95, 0.97, 0.99], BACKGROUND_SPARED))
    assert fit_thresholds(np.r_[p, 0.1, 0.9], np.r_[y, 2, 2], [0, 1], 0.2, "author", 2) == taus
    labels = ["alice", "edgar", "other"]
    open_set = OpenSet("background", "other", taus[None], per_author={"alice": {"threshold": taus[0], "by_length": []},
                                                                     "edgar": {"threshold": taus[1], "by_length": []}})
    # the same P(other) = 0.5: flagged where the text leans to alice, not where it leans to edgar
    probs = np.array([[0.4, 0.1, 0.5], [0.1, 0.4, 0.5], [0.1, 0.05, 0.85]])
    assert decide(probs, labels, open_set) == [NEITHER, "edgar", NEITHER]
    assert decide(probs, labels, OpenSet("background", "other", taus[None])) == ["alice", "edgar", NEITHER]
    assert open_set.threshold_for(None, "alice") == taus[0] and open_set.threshold_for(None) == taus[None]
    assert OpenSet.from_dict(open_set.to_dict()) == open_set
    assert OpenSet.fitted("other", labels, taus) == open_set  # what evaluate builds from fit_thresholds
    assert describe(open_set.to_dict()) == "P(other) >= 0.3000 for texts given to alice, 0.8000 for edgar"
    assert describe(OpenSet("background", "other", 0.5).to_dict()) == "P(other) >= 0.5000"
    # an author's own table for other lengths
    longer = OpenSet("background", "other", 0.9, per_author={"alice": {"threshold": 0.5, "by_length": [[10, 0.5], [40, 0.3]]}})
    assert longer.threshold_for(40, "alice") == 0.3 and longer.threshold_for(40, "edgar") == 0.9


def test_a_texts_threshold_is_interpolated_in_log_length_between_the_fitted_ones():
    open_set = OpenSet("background", "other", 0.9, [[0, 0.6], [63, 0.6], [126, 0.9], [252, 0.8], [504, 0.7]])
    got = [open_set.threshold_for(n) for n in (None, 1, 63, 126, 252, 504, 5000)]
    assert got == pytest.approx([0.9, 0.6, 0.6, 0.9, 0.8, 0.7, 0.7])
    assert open_set.threshold_for(356) == pytest.approx(0.75, abs=1e-3)  # 356 ~ sqrt(252 * 504): halfway in log
    assert open_set.threshold_for(120) == pytest.approx(0.6 + 0.3 * np.log2(120 / 63), abs=1e-9)  # near one window's
    assert for_length([[10, 1.0], [40, 3.0]], 20, 5.0) == pytest.approx(2.0)
    probs = np.array([[0.1, 0.1, 0.75]])
    labels = ["alice", "edgar", "other"]
    assert [decide(probs, labels, open_set, n)[0] for n in (30, 126, 300, 600)] == [NEITHER, "alice", "alice", NEITHER]
    # a folder from before texts shorter than a window had settings: its table starts above one window
    before = OpenSet("background", "other", 0.9, [[252, 0.8], [504, 0.7]])
    assert [before.threshold_for(n) for n in (10, 251, 252)] == [0.9, 0.9, 0.8]
    old = OpenSet.from_dict({"method": "background", "background": "other", "threshold": 0.5})  # a folder before by_length
    assert old.by_length == [] and old.threshold_for(10_000) == 0.5
    assert OpenSet.from_dict(open_set.to_dict()) == open_set


def test_length_settings_are_fitted_only_where_every_author_has_enough_texts():
    rng = np.random.default_rng(0)

    def texts(n_per_author):  # mean log-probabilities: the authors (labels 0, 1) right but unsure, label 2 clear
        y = np.repeat([0, 1, 2], n_per_author)
        p = np.full((len(y), 3), 0.2)
        p[np.arange(len(y)), y] = 0.6
        p[y == 2] = [0.05, 0.05, 0.9]
        p[:, 2] += rng.uniform(0, 0.1, len(y))
        return np.log(p / p.sum(1, keepdims=True)), y, []
    by_length = {10: texts(40), 20: texts(20), 40: texts(MIN_TEXTS), 80: texts(MIN_TEXTS - 1), 160: texts(40)}
    temperatures, tables = fit_lengths(by_length, [0, 1], 2, 0.05, width=10, one_window={None: 0.7})
    thresholds = tables[None]
    # one window (10) is fitted apart; 80 has too few texts, and nothing longer is fitted after it
    assert [n for n, _ in temperatures] == [n for n, _ in thresholds] == [10, 20, 40]
    assert temperatures[0] == [10, 1.0] and thresholds[0] == [10, 0.7]  # one window's own, to interpolate from
    for (n, t), (_, tau) in zip(temperatures[1:], thresholds[1:]):
        mean_logp, y, _ = by_length[n]
        assert t < 1  # every text is right: the fit sharpens
        p = softmax(mean_logp, t)[:, 2]  # no overlap: the threshold sits in the gap, at the background's 5% quantile
        assert tau == max(fit_threshold(p, y, [0, 1], 0.05), np.quantile(p[y == 2], BACKGROUND_SPARED)) > p[y < 2].max()
    assert fit_lengths(by_length, [0, 1, 2], None, 0.05, width=10)[1] == {}  # no background: no thresholds

    # rule "author": each author's table fitted on its texts alone, the global one as before
    temperatures, per = fit_lengths(by_length, [0, 1], 2, 0.05, 10, {None: 0.7, 0: 0.6, 1: 0.65}, "author")
    assert per[None] == thresholds and dict(per[0])[10] == 0.6 and dict(per[1])[10] == 0.65
    for n in (20, 40):
        mean_logp, y, _ = by_length[n]
        p = softmax(mean_logp, dict(temperatures)[n])[:, 2]
        assert dict(per[0])[n] == fit_thresholds(p, y, [0, 1], 0.05, "author", 2)[0]
        assert dict(per[1])[n] == fit_thresholds(p, y, [0, 1], 0.05, "author", 2)[1]
        assert dict(per[None])[n] == max(dict(per[0])[n], dict(per[1])[n])  # the global one: the strictest author's

    # texts shorter than a window: every such length is fitted, the shortest from 0 tokens, and
    # from one window on the one-window settings (temperature 1, its threshold) hold again
    shorter = {2: texts(MIN_TEXTS - 1), 3: texts(40), 5: texts(40), **by_length}
    temperatures, tables = fit_lengths(shorter, [0, 1], 2, 0.05, width=10, one_window={None: 0.7})
    thresholds = tables[None]
    assert [n for n, _ in temperatures] == [n for n, _ in thresholds] == [0, 3, 5, 10, 20, 40]
    assert dict(temperatures)[10] == 1.0 and dict(thresholds)[10] == 0.7
    mean_logp, y, _ = shorter[3]
    assert dict(temperatures)[0] == dict(temperatures)[3] == fit_temperature(mean_logp, y)
    table = OpenSet("background", "other", 0.7, thresholds)
    assert table.threshold_for(1) == table.threshold_for(2) == dict(thresholds)[3]  # 2 had too few: 3 serves it
    assert table.threshold_for(10) == 0.7 and table.threshold_for(None) == 0.7
    assert fit_lengths({n: shorter[n] for n in (2, 10)}, [0, 1], 2, 0.05, width=10) == ([], {})  # nothing fitted


@pytest.mark.parametrize("kwargs,match", [
    ({"open_set": "energy"}, "unknown open_set method"),
    ({"heldout": {"alice": ["38065"], "edgar": ["2150"], "neither": ["1342"]}, "author_folds": 0}, "too small to fit a threshold"),
    ({"heldout": {"alice": ["12"]}}, "work 12 is both trained on as 'alice' and held out"),
    ({"heldout": {"neither": ["2148", "41"]}}, "work 2148 is both trained on as 'edgar' and held out"),
    ({"heldout": {"carroll": ["1"]}}, "not a label"),
    ({"background": "other"}, "background label 'other' has no sources"),
    ({"background_per_class": -1}, "background_per_class must be 0"),
    ({"open_set_rule": "mean"}, "unknown open_set_rule 'mean'"),
])
def test_open_set_settings_are_checked_before_any_work(kwargs, match):
    with pytest.raises(WhowroteError, match=match):
        resolve("authors", **kwargs)


def test_unseen_works_are_scored_and_the_threshold_is_fitted(open_set_run):
    report = json.loads((open_set_run / "report.json").read_text())
    meta = json.loads((open_set_run / "model" / "whowrote.json").read_text())
    assert meta["open_set"]["method"] == "background" and 0 < meta["open_set"]["threshold"] <= 1
    assert meta["normalise"]["names"] == "mask"
    assert report["calibration"]["fitted_on"].startswith("held-out works")
    works = report["unseen"]["per_work"]
    # one held-out work per author: its blocks alternate calibration/test; two authors: one each
    assert set(works) == {"91003", "91004", "91008"}
    assert set(report["unseen_calibration"]["per_work"]) == {"91003", "91004", "91007"}
    assert works["91003"]["own_label"] >= 0.8 and works["91004"]["own_label"] >= 0.8
    assert works["91008"]["neither"] >= 0.8  # an author it never saw is "neither"
    # authorship verification's figures, and "neither" by era (invented books have no year)
    assert 0.5 <= report["unseen"]["auroc"] <= 1 and 0 <= report["unseen"]["others_accepted_at_95"] <= 1
    assert report["unseen"]["neither_by_era"] == {"unknown": {"passages": works["91008"]["passages"],
                                                              "neither": works["91008"]["neither"]}}


def test_calibration_weighs_the_authors_alike_and_the_judge_adds_the_offsets(open_set_run, tmp_path):
    import shutil

    from whowrote.evaluation.calibrate import calibrate_run
    from whowrote.judge.loading import model_parts
    from whowrote.model.metrics import fit_author_offsets, weigh_authors

    run = Path(shutil.copytree(open_set_run, tmp_path / "run"))
    c = calibrate_run(run, progress=False)
    authors = [c.labels.index(a) for a in ("alice", "edgar")]
    meta = json.loads((run / "model" / "whowrote.json").read_text())
    assert meta["label_offsets"] == pytest.approx(c.offsets.tolist()) and c.offsets[c.labels.index("neither")] == 0
    assert c.offsets[authors].sum() == pytest.approx(0, abs=1e-9)
    # the calibration windows' scores carry them: refitted on those scores, no lean is left
    fit_y = c.windows["fit"][1]
    assert fit_author_offsets(c.logits["fit"], fit_y, c.temperature, authors) == pytest.approx(0, abs=1e-3)
    # the judge weighs each window's authors by them, P(neither) as the model says
    judge, plain = Judge.load(run), Judge(**{**model_parts(run), "label_offsets": None})
    window = judge.encode([invented_text(STYLE_A, 60, 5)])[0][0][:judge.window]
    expected = weigh_authors(plain.log_probs([window]), c.offsets, c.labels.index("neither"))
    assert judge.log_probs([window]) == pytest.approx(expected)
    assert np.exp(judge.log_probs([window]))[0, 2] == pytest.approx(np.exp(plain.log_probs([window]))[0, 2])
    with pytest.raises(WhowroteError, match="2 values for 3 labels"):
        Judge(**{**model_parts(run), "label_offsets": [0.5, -0.5]})
    # off in the config: none fitted, none stored
    config_path = run / "config.json"
    saved = json.loads(config_path.read_text())
    saved["config"]["author_offsets"] = False
    config_path.write_text(json.dumps(saved))
    assert calibrate_run(run, progress=False).offsets is None
    assert json.loads((run / "model" / "whowrote.json").read_text())["label_offsets"] is None
    assert Judge.load(run).label_offsets is None


def test_verification_figures_rank_the_authors_above_the_others():
    from whowrote.evaluation.evaluate import verification

    p = np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.25])
    is_author = np.array([True, True, True, False, False, False])
    got = verification(p, is_author)
    assert got["auroc"] == pytest.approx(8 / 9)  # one other author (0.25) ranks above one author passage (0.3)
    assert got["others_accepted_at_95"] == pytest.approx(1 / 3)
    assert verification(p, np.ones(6, bool)) == {}


def test_longer_texts_get_thresholds_fitted_on_texts_cut_as_the_judge_cuts(open_set_run):
    report = json.loads((open_set_run / "report.json").read_text())
    judge = Judge.load(open_set_run, order_check=False, keyword_check=False)  # the threshold's decision alone
    rows = report["unseen_by_length"]
    one = next(r for r in rows if r["tokens"] == judge.window)
    assert one["threshold"] == judge.open_set.threshold
    assert [r["tokens"] for r in rows] == sorted(r["tokens"] for r in rows) and all(r["texts"] > 0 for r in rows)
    lengths = [n for n, _ in judge.open_set.by_length]
    assert lengths and lengths == sorted(lengths) and lengths[0] == 0  # texts shorter than a window: fitted too
    assert dict(judge.open_set.by_length)[judge.window] == judge.open_set.threshold  # one window: its own again
    short = [r for r in rows if r["tokens"] < judge.window]
    assert [r["tokens"] for r in short] == [judge.window // k for k in (8, 4, 2)] and all(r["fitted"] for r in short)
    assert {r["tokens"]: r["threshold"] for r in rows if r["fitted"] and r["tokens"] > judge.window} == {
        n: t for n, t in judge.open_set.by_length if n > judge.window}
    assert all(r["threshold"] == judge.open_set.threshold_for(r["tokens"]) for r in rows)
    assert set(rows[0]["per_label"]) == {"alice", "edgar", NEITHER}
    assert all(set(r["per_label"]) <= {"alice", "edgar", NEITHER} for r in rows)
    temps = json.loads((open_set_run / "model" / "whowrote.json").read_text())["length_temperatures"]
    assert [n for n, _ in temps] == lengths and judge.length_temperatures == temps
    # the judge picks the temperature and the threshold by the text's length
    for text in (invented_text(STYLE_C + STYLE_A, 40, 5), invented_text(STYLE_C + STYLE_A, 400, 6)):
        (s,) = judge.score([text], details=True)
        assert (s.label == NEITHER) == (s.p_neither >= judge.open_set.threshold_for(s.tokens))
        assert s.to_dict()["neither_threshold"] == judge.open_set.threshold_for(s.tokens)
        mean_logp = np.mean([np.log([w["probs"][a] * (1 - w["p_neither"]) for a in judge.author_labels]
                                    + [w["p_neither"]]) for w in s.window_details], axis=0)
        p = softmax(mean_logp[None], for_length(temps, s.tokens, 1.0))[0]
        # rel 1e-5: the windows' probabilities round-trip through logs; a wrong temperature moves it tenfold
        assert s.p_neither == pytest.approx(p[-1], rel=1e-5)
    assert "Texts of other lengths" in (open_set_run / "README.md").read_text()


@pytest.mark.parametrize("field, value", [("threshold", "high"), ("order_thresholds", ["alice"]),
                                          ("check_odds", {"word-order": 0.5}), ("per_author", {"alice": {}}),
                                          ("by_length", [[32]]), ("no_such_field", 1)])
def test_a_hand_damaged_open_set_is_a_one_line_error_when_the_model_loads(open_set_run, tmp_path, field, value):
    import shutil
    import subprocess
    import sys

    model = tmp_path / "model"
    shutil.copytree(open_set_run / "model", model)
    meta = json.loads((model / "whowrote.json").read_text())
    meta["open_set"][field] = value
    (model / "whowrote.json").write_text(json.dumps(meta))
    with pytest.raises(WhowroteError, match=r"whowrote.json is damaged \(open_set: .*refit it with: whowrote evaluate"):
        Judge.load(model)
    if field == "threshold":  # the command line says it in one line too
        proc = subprocess.run([sys.executable, "-m", "whowrote", "judge", "--model", str(model), "some text here"],
                              capture_output=True, text=True)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_an_open_set_read_back_is_the_one_written(open_set_run):
    stored = json.loads((open_set_run / "model" / "whowrote.json").read_text())["open_set"]
    assert OpenSet.from_dict(stored).to_dict() == stored


def test_judge_says_neither_with_probs_over_the_authors(open_set_run):
    judge = Judge.load(open_set_run)
    a, b, other = judge.score([invented_text(STYLE_A, 200, 41), invented_text(STYLE_B, 200, 42),
                               invented_text(STYLE_C + STYLE_D, 200, 43)])
    assert (a.label, b.label, other.label) == ("alice", "edgar", NEITHER)
    assert set(a.probs) == {"alice", "edgar"} and sum(a.probs.values()) == pytest.approx(1.0)
    assert other.p_neither >= judge.open_set.threshold > a.p_neither
    assert json.loads(json.dumps(other.to_dict()))["p_neither"] == other.p_neither


def test_validate_writes_the_probes_and_the_card_shows_them(open_set_run):
    validity = json.loads((open_set_run / "validity.json").read_text())  # written at the end of training
    assert validity["format"] == "whowrote.validity/1"
    probes = validity["probes"]
    assert set(probes) >= {"names -> other author", "names -> neutral", "typos 5%", "lower-case",
                           "look-alikes, invisible 10%", "another edition's typesetting", "word dropout 10%"}
    # the word probes run where the authors' books have distinctive English content words (the invented styles may not)
    assert set(probes) - {"words of another author 5%", "everyday words 5% (control)"} == {
        "names -> other author", "names -> neutral", "typos 5%", "lower-case", "look-alikes, invisible 10%",
        "another edition's typesetting", "word dropout 10%"}
    for row in probes.values():
        assert 0 <= row["changed"] <= 1 and row["passages"] > 0
        lo, hi = row["changed_ci"]  # a 95% interval around the share, wider than nothing
        assert lo <= row["changed"] <= hi and hi - lo > 0
        by = row["changed_by_label"]  # the overall share is the passages' mean of the per-label shares
        assert set(by) <= {"alice", "edgar", NEITHER} and min(by.values()) <= row["changed"] <= max(by.values())
    assert probes["lower-case"]["changed"] <= 0.1  # an uncased model: casing only moves the name mask
    assert probes["look-alikes, invisible 10%"]["changed"] == 0  # folded away before the model sees them
    assert probes["another edition's typesetting"]["changed"] == 0  # unified by typography
    card = (open_set_run / "README.md").read_text()
    assert "model-index" in card and "names -> other author" in card and "plots/validity.png" in card
    assert "## Goals at a glance" in card and "| stability: seeds agree |" not in card  # no seeds measured here
    assert "\"neither\" reaches only as far as its books" in card  # the open set's reach is a stated limit
    modern = json.loads((open_set_run / "validity.json").read_text())["modern_prose"]
    assert modern["passages"] == 16 and sum(modern["labels"].values()) == 16
    assert modern["neither"] == modern["labels"].get("neither", 0) / 16
    assert f"{modern['neither']:.2f} answered neither" in card
    report = json.loads((open_set_run / "report.json").read_text())
    for row in [*report["unseen"]["per_label"].values(), *report["unseen"]["per_work"].values()]:
        for key in ("own_label", "neither"):
            assert row[f"{key}_ci"][0] <= row[key] <= row[f"{key}_ci"][1]
    shown = report["unseen"]["per_label"]["neither"]
    assert f"{shown['neither']:.3f} [{shown['neither_ci'][0]:.2f}, {shown['neither_ci'][1]:.2f}]" in card
    assert (open_set_run / "plots" / "validity.png").stat().st_size > 1000
    order = validity["order"]  # word order and stuffing: shares given to the author imitated
    assert {"shuffled words", "shuffled runs of 3-5 words", "sentences reordered", "Markov order 1", "Markov order 4"} <= set(order)
    from whowrote.config import load_run_config
    from whowrote.evaluation.validate import held_out_passages

    looped = order.pop("one sentence looped")  # other authors' passages: a share given to any author, not to one
    others = [p for p in held_out_passages(Judge.load(open_set_run), load_run_config(open_set_run),
                                           per_work=validity["passages_per_work"]) if p["label"] == "neither"]
    assert looped["passages"] == len(others) > 0
    assert looped["rise"] == pytest.approx(looped["given_to_an_author"] - looped["as_written"])
    assert looped["given_to_an_author_ci"][0] <= looped["given_to_an_author"] <= looped["given_to_an_author_ci"][1]
    assert "| one sentence looped (ours) | rise in the share given to an author <= 0.05 |" in card
    for row in order.values():
        assert 0 <= row["given_to_author"] <= 1 and 0 <= row["mean_s"] <= 1 and row["passages"] > 0
    # stuffed passages are other authors': beside each share, the same passages' as written, from the judge's labels
    written = [s.label for s in Judge.load(open_set_run).score([p["text"] for p in others])]
    targets = [("alice", "edgar")[i % 2] for i in range(len(others))]
    stuffed = order["keywords stuffed 10%"]
    assert stuffed["passages"] == len(others)
    assert stuffed["as_written"] == pytest.approx(np.mean([w == t for w, t in zip(written, targets)]))
    for a, r in stuffed["by_author"].items():
        assert r["as_written"] == pytest.approx(np.mean([w == a for w, t in zip(written, targets) if t == a]))
    assert order["Markov order 1"]["passages"] == 80  # 40 for each author
    assert order["Markov order 1, works never trained on"]["passages"] == 80  # chains of the held-out passages
    assert "| Markov order 1, works never trained on (ours) | mean S <= 0.20 |" in card


def test_validate_probes_the_test_half_only(open_set_run):
    from whowrote.config import load_run_config
    from whowrote.data.prepare import prepare
    from whowrote.evaluation.validate import held_out_passages

    judge, config = Judge.load(open_set_run), load_run_config(open_set_run)
    passages = held_out_passages(judge, config, per_work=1000)
    prep = prepare(config, judge.tokenizer, spec=judge.normalise)
    test_ids, _, test_works = prep.unseen_windows("test", 1000)
    calib_ids = prep.unseen_windows("calib", 1000)[0]
    # the background's calibration author (91007) gives none; each work as many as its test half has
    assert {p["work"] for p in passages} == set(test_works) == {"91003", "91004", "91008"}
    assert sorted(p["work"] for p in passages) == sorted(test_works)
    tests, calibs = ({tuple(row[1:-1]) for row in ids} for ids in (test_ids, calib_ids))
    encoded = [tuple(judge.encode([p["text"]])[0][0]) for p in passages]
    assert sum(e in tests for e in encoded) >= 0.9 * len(encoded)  # the raw text re-encodes to its window
    assert not any(e in calibs for e in encoded)
    assert json.loads((open_set_run / "validity.json").read_text())["part"] == "test"


def test_a_run_is_re_read_with_the_normalisation_it_was_trained_with(open_set_run, tmp_path, monkeypatch):
    """A run trained before a rule of the normalisation existed keeps its own: the judge
    applies what its model folder records, and the held-out passages of its probes (and
    `evaluate`'s data) are cut from text normalised the same way, not by today's defaults."""
    import shutil

    import whowrote.data.prepare as prepare_mod
    from whowrote.config import load_run_config
    from whowrote.evaluation.validate import held_out_passages
    from whowrote.training.runfolder import model_spec

    run = tmp_path / "older"
    shutil.copytree(open_set_run, run)
    meta_path = run / "model" / "whowrote.json"
    meta = json.loads(meta_path.read_text())
    meta["normalise"]["names"] = "keep"  # as if trained before names were masked
    meta_path.write_text(json.dumps(meta))
    judge, config = Judge.load(run), load_run_config(run)
    assert config.names == "mask" and model_spec(run / "model") == judge.normalise and judge.normalise.names == "keep"
    mask = judge.tokenizer.mask_token_id
    as_trained = prepare_mod.prepare(config, judge.tokenizer, spec=model_spec(run / "model"))
    assert mask in np.concatenate([s.tokens for s in prepare_mod.prepare(config, judge.tokenizer).streams])
    assert mask not in np.concatenate([s.tokens for s in as_trained.streams])  # names kept, as the folder says
    specs = []
    real = prepare_mod.prepare
    monkeypatch.setattr(prepare_mod, "prepare", lambda *a, **k: specs.append(k.get("spec")) or real(*a, **k))
    passages = held_out_passages(judge, config, per_work=5)
    assert specs == [judge.normalise] and {p["work"] for p in passages} == {"91003", "91004", "91008"}


def test_validate_seeds_trains_evaluates_and_probes_each_seed_and_the_card_has_their_columns(open_set_run, tmp_path):
    import shutil

    from whowrote.evaluation.validate import validate
    from whowrote.layout import RunFiles

    run = Path(shutil.copytree(open_set_run, tmp_path / "open"))  # the shared run keeps its one-seed card
    validity = validate(run, seeds=2, progress=False)
    seed = RunFiles(RunFiles(run).seed_run(1))
    assert json.loads(seed.config.read_text())["config"]["seed"] == json.loads((run / "config.json").read_text())["config"]["seed"] + 1
    assert seed.report.is_file() and json.loads(seed.validity.read_text())["probes"]  # evaluated and probed
    assert not seed.checkpoint.exists()  # finished: only its model folder is kept
    assert validity["seeds"]["runs"] == 2 and 0 <= validity["seeds"]["agreement"] <= 1
    card = (run / "README.md").read_text()
    assert "| goal | bound | this run | seed +1 | met |" in card
    assert re.search(r"\| ECE on unseen works \| <= 0\.05 \| [0-9.]+ \| [0-9.]+ \| [0-2] of 2", card)
    modified = seed.validity.stat().st_mtime
    validate(run, seeds=2, progress=False)  # a seed already probed is read, not done again
    assert seed.validity.stat().st_mtime == modified


@pytest.mark.parametrize("native", [True, False])
def test_calibration_reads_the_windows_as_the_judge_does_on_this_machine(open_set_run, tmp_path, monkeypatch, native):
    """bf16 where the hardware runs it natively (the judge's precision "auto"), fp32 elsewhere;
    report.json says which."""
    import shutil

    from whowrote.evaluation import calibrate
    from whowrote.evaluation.evaluate import write_report
    from whowrote.model.metrics import predict_logits

    copy = tmp_path / open_set_run.name
    shutil.copytree(open_set_run, copy)
    monkeypatch.setattr(calibrate, "fast_bf16", lambda device: native)
    c = calibrate.calibrate_run(copy, progress=False)
    ids = c.windows["fit"][0][:16]
    fp32 = predict_logits(c.model, ids)
    if native:  # read under bf16 autocast: near the fp32 logits, not equal to them
        assert not np.array_equal(c.bert_logits(ids), fp32) and np.allclose(c.bert_logits(ids), fp32, atol=0.1)
    else:
        np.testing.assert_array_equal(c.bert_logits(ids), fp32)
    assert write_report(c)["calibration"]["precision"] == ("bf16" if native else "fp32")


def test_whowrote_evaluate_refits_what_training_fitted(open_set_run, tmp_path):
    """Calibration at the end of training reads the model as `whowrote evaluate` does (in the
    judge's precision here, whatever precision trained it), so recalibrating a finished run
    changes nothing."""
    import shutil

    from whowrote.evaluation.calibrate import calibrate_run
    from whowrote.layout import RunFiles, read_json

    copy = tmp_path / open_set_run.name
    shutil.copytree(open_set_run, copy)
    calibrate_run(copy, progress=False)
    after = read_json(RunFiles(copy).model / "whowrote.json")
    before = read_json(RunFiles(open_set_run).model / "whowrote.json")
    assert after["temperature"] == pytest.approx(before["temperature"], rel=1e-9), (after["temperature"], before["temperature"])
    for author, fit in before["open_set"]["per_author"].items():
        assert after["open_set"]["per_author"][author]["threshold"] == pytest.approx(fit["threshold"], rel=1e-6)
    for check in ("repetition_thresholds", "order_thresholds", "keyword_thresholds"):
        assert after["open_set"][check] == pytest.approx(before["open_set"][check], rel=1e-6)
