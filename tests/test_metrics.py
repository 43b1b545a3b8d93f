"""ECE, Brier, NLL, the temperature fit and the calibration report against values worked by hand."""

import math

import numpy as np
import pytest

from whowrote.model.metrics import brier, calibration_report, ece, fit_temperature, nll, share_interval, softmax

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
