"""ECE, Brier, NLL, the temperature fit, the authors' offsets and the calibration report against values worked by hand."""

import math

import numpy as np
import pytest

from whowrote.model.metrics import (
    brier,
    calibration_report,
    ece,
    fit_author_offsets,
    fit_temperature,
    log_softmax,
    nll,
    share_interval,
    softmax,
    weigh_authors,
)

PROBS = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]])
LABELS = np.array([0, 1, 1, 0])


def test_ece_by_hand():
    # confidences .9 .6 .7 .8 land in four different bins of width 1/15; right, wrong, right, right
    # ECE = mean |correct - confidence| = (.1 + .6 + .3 + .2) / 4
    assert ece(PROBS, LABELS) == pytest.approx(0.3)
    # one bin: two passages at .75 confidence, one right, one wrong -> |.5 - .75| = .25
    assert ece(np.array([[0.75, 0.25], [0.75, 0.25]]), np.array([0, 1])) == pytest.approx(0.25)


def test_brier_by_hand():
    # per passage sum_c (p_c - y_c)^2: .02, .72, .18, .08 -> mean .25
    assert brier(PROBS, LABELS) == pytest.approx(0.25)


def test_nll_and_temperature_by_hand():
    # every passage has logit difference 2 for class 0; three of four are class 0.
    # NLL(T) is lowest where sigmoid(2/T) = 3/4, i.e. T = 2 / ln 3.
    logits = np.array([[2.0, 0.0]] * 4)
    y = np.array([0, 0, 0, 1])
    t = fit_temperature(logits, y)
    assert t == pytest.approx(2 / math.log(3), rel=1e-3)
    assert nll(logits, y, t) == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)), rel=1e-4)
    # all right: NLL keeps falling as T -> 0, so the fit stops at the floor
    assert fit_temperature(logits, np.zeros(4, int)) == pytest.approx(0.25, rel=1e-3)


def test_calibration_report_applies_the_fitted_temperature_to_the_test_set():
    fit_logits, fit_y = np.array([[2.0, 0.0]] * 4), np.array([0, 0, 0, 1])
    test_logits, test_y = np.array([[4.0, 0.0], [0.0, 1.0]]), np.array([0, 0])
    t, report = calibration_report(fit_logits, fit_y, test_logits, test_y, "here")
    assert t == pytest.approx(2 / math.log(3), rel=1e-3) and report["fitted_on"] == "here"
    after = softmax(test_logits, t)
    assert report["test_after"]["ece"] == pytest.approx(ece(after, test_y))
    assert report["test_after"]["brier"] == pytest.approx(brier(after, test_y))
    assert report["test_before"]["nll"] == pytest.approx(nll(test_logits, test_y))


def test_share_interval_is_wilsons_by_hand():
    # Wilson at 0 of n: [0, z^2 / (n + z^2)]; z = 1.96, n = 24 -> 3.8416 / 27.8416 (not [0, 0], as the normal approximation)
    lo, hi = share_interval(0, 24)
    assert lo == pytest.approx(0, abs=1e-12) and hi == pytest.approx(3.8416 / 27.8416, abs=1e-3)
    # 5 of 10: centre (5 + z^2/2) / (10 + z^2) = 0.5, half-width z sqrt(10 * .25 + z^2 / 4) / (10 + z^2)
    half = 1.959964 * math.sqrt(2.5 + 1.959964 ** 2 / 4) / (10 + 1.959964 ** 2)
    assert share_interval(5, 10) == pytest.approx([0.5 - half, 0.5 + half], abs=1e-6)
    assert share_interval(0, 0) == [0.0, 1.0]  # no passages: nothing known


def test_author_offsets_weigh_the_authors_alike_by_hand():
    # labels 0 and 1 are authors, 2 the background. The model leans to author 1 on both authors'
    # windows: author 0's read [0, 1, -10], author 1's [0, 2, -10]. With shift d on column 1, the
    # balanced NLL -(log sigmoid(-(1 + d)) + log sigmoid(2 + d)) / 2 is least where 1 + d = -(2 + d):
    # d = -1.5, so author 0 gets +0.75 and author 1 -0.75, the background 0
    rows = np.array([[0.0, 1.0, -10.0]] * 3 + [[0.0, 2.0, -10.0]] * 30 + [[0.0, 0.0, 5.0]] * 5)
    y = np.array([0] * 3 + [1] * 30 + [2] * 5)
    assert fit_author_offsets(rows, y, 1.0, [0, 1]) == pytest.approx([0.75, -0.75, 0.0], abs=1e-3)
    # log-odds at the temperature: at T = 2 the lean is half as strong, and so are the offsets
    assert fit_author_offsets(rows, y, 2.0, [0, 1]) == pytest.approx([0.375, -0.375, 0.0], abs=1e-3)
    # equal priors: ten times more of author 0's windows change nothing; the background's rows never count
    more = np.concatenate([rows, np.array([[0.0, 1.0, -10.0]] * 27 + [[9.0, 0.0, 0.0]] * 7)])
    assert fit_author_offsets(more, np.concatenate([y, [0] * 27, [2] * 7]), 1.0, [0, 1]) == pytest.approx(
        [0.75, -0.75, 0.0], abs=1e-3)
    # an author without calibration windows: nothing to weigh against
    assert not fit_author_offsets(rows[3:], y[3:], 1.0, [0, 1]).any()


def test_weighing_the_authors_leaves_the_background_as_it_was():
    logp = log_softmax(np.array([[0.0, 1.0, 0.5], [0.0, 2.0, -3.0]]))
    offsets = np.array([0.75, -0.75, 0.0])
    weighed = weigh_authors(logp, offsets, background=2)
    p, q = np.exp(logp), np.exp(weighed)
    assert q.sum(axis=1) == pytest.approx([1, 1]) and q[:, 2] == pytest.approx(p[:, 2])  # P(neither) untouched
    # among the authors the odds move by exp(0.75 - (-0.75))
    assert q[:, 0] / q[:, 1] == pytest.approx(p[:, 0] / p[:, 1] * np.exp(1.5))
    assert weigh_authors(logp, None, 2) is logp
    # without a background every label is an author: the offsets then weigh them all
    assert np.exp(weigh_authors(logp, offsets, None)) == pytest.approx(softmax(logp + offsets))
    # the offsets fitted on a lean undo it: both authors' windows are then given to them alike
    rows = np.array([[0.0, 1.0, -10.0]] * 3 + [[0.0, 2.0, -10.0]] * 30)
    q = np.exp(weigh_authors(log_softmax(rows), fit_author_offsets(rows, np.array([0] * 3 + [1] * 30), 1.0, [0, 1]), 2))
    assert q[0, 0] == pytest.approx(q[-1, 1], abs=1e-3)
