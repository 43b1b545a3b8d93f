import numpy as np
import pytest

from whowrote import smooth

X = [1.0, 2.0, 3.0, 10.0, 4.0]


@pytest.mark.parametrize("edge,expected", [
    # k = 3, w = 1; middle points are (1+2+3)/3=2, (2+3+10)/3=5, (3+10+4)/3=17/3 in every mode
    ("shrink", [1.5, 2.0, 5.0, 17 / 3, 7.0]),          # ends: (1+2)/2, (10+4)/2
    ("valid", [2.0, 5.0, 17 / 3]),                      # ends dropped
    ("zero", [1.0, 2.0, 5.0, 17 / 3, 14 / 3]),          # ends: (0+1+2)/3, (10+4+0)/3
    ("reflect", [5 / 3, 2.0, 5.0, 17 / 3, 8.0]),        # ends: (2+1+2)/3, (10+4+10)/3
])
def test_k3_by_hand(edge, expected):
    assert np.allclose(smooth(X, 3, edge), expected)


def test_k5_by_hand_shrink_and_zero():
    # w = 2; centre (1+2+3+10+4)/5 = 4; first point shrink (1+2+3)/3, zero (1+2+3)/5
    assert np.allclose(smooth(X, 5, "shrink"), [2.0, 4.0, 4.0, 19 / 4, 17 / 3])
    assert np.allclose(smooth(X, 5, "zero"), [6 / 5, 16 / 5, 4.0, 19 / 5, 17 / 5])
    assert np.allclose(smooth(X, 5, "valid"), [4.0])


def test_k1_is_identity_and_length_is_kept():
    assert np.array_equal(smooth(X, 1, "zero"), np.array(X))
    for edge in ("shrink", "zero", "reflect"):
        assert len(smooth(np.arange(20), 7, edge)) == 20
    assert len(smooth(np.arange(20), 7, "valid")) == 14


def test_constant_series_shows_the_edge_effect_only_with_zero_padding():
    ones = np.ones(9)
    assert np.allclose(smooth(ones, 5, "shrink"), 1) and np.allclose(smooth(ones, 5, "reflect"), 1)
    z = smooth(ones, 5, "zero")
    assert z[0] == pytest.approx(3 / 5) and z[1] == pytest.approx(4 / 5) and np.allclose(z[2:-2], 1)


@pytest.mark.parametrize("k", [2, 0, -3, 7, 3.0, True])
def test_bad_k_is_a_value_error(k):
    with pytest.raises(ValueError):
        smooth(X, k)


def test_bad_edge_is_a_value_error():
    with pytest.raises(ValueError, match="edge"):
        smooth(X, 3, "wrap")
