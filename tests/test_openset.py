"""Open set ("neither"), held-out works and validity on a tiny model with invented styles."""

import json

import numpy as np
import pytest

from tests.conftest import STYLE_A, STYLE_B, STYLE_C, STYLE_D, invented_text
from whowrote import Judge
from whowrote.config import resolve
from whowrote.errors import WhowroteError
from whowrote.evaluation.openset import NEITHER, OpenSet, decide, fit_threshold, split_probs


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


@pytest.mark.parametrize("kwargs,match", [
    ({"open_set": "energy"}, "unknown open_set method"),
    ({"heldout": {"alice": ["38065"], "edgar": ["2150"], "neither": ["41"]}}, "too small to fit a threshold"),
    ({"heldout": {"alice": ["12"]}}, "work 12 is both trained on as 'alice' and held out"),
    ({"heldout": {"neither": ["2148", "41"]}}, "work 2148 is both trained on as 'edgar' and held out"),
    ({"heldout": {"carroll": ["1"]}}, "not a label"),
    ({"background": "other"}, "background label 'other' has no sources"),
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
    assert set(probes) == {"names -> other author", "names -> neutral", "typos 5%", "lower-case",
                           "look-alikes, invisible 10%", "another edition's typesetting", "word dropout 10%"}
    for row in probes.values():
        assert 0 <= row["changed"] <= 1 and row["passages"] > 0
        by = row["changed_by_label"]  # the overall share is the passages' mean of the per-label shares
        assert set(by) <= {"alice", "edgar", NEITHER} and min(by.values()) <= row["changed"] <= max(by.values())
    assert probes["lower-case"]["changed"] <= 0.1  # an uncased model: casing only moves the name mask
    assert probes["look-alikes, invisible 10%"]["changed"] == 0  # folded away before the model sees them
    assert probes["another edition's typesetting"]["changed"] == 0  # unified by typography
    card = (open_set_run / "README.md").read_text()
    assert "model-index" in card and "names -> other author" in card and "plots/validity.png" in card
    assert (open_set_run / "plots" / "validity.png").stat().st_size > 1000
