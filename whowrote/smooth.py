"""The study's mean smoothing: a centred moving mean of odd width k, with explicit edges.

    y_i = (1/k) * sum_{j=i-w..i+w} x_j,  w = (k-1)/2

Fewer than k points exist near the ends (i < w or i > n-1-w); how they are treated is the
"edge effect", so it is a required choice here, never implicit:
    shrink   mean over the m < k points that exist (unbiased level, noisier ends)
    valid    drop the ends: output has n-k+1 points, aligned to x[w : n-w]
    zero     pad with zeros: ends are pulled towards 0 (the bias the study warns of)
    reflect  pad with the mirror image x[w..1] / x[n-2..n-1-w]

    python -c "import whowrote; print(whowrote.smooth([1, 2, 3, 10], k=3, edge='zero'))"
"""

from __future__ import annotations

import numpy as np

EDGES = ("shrink", "valid", "zero", "reflect")


def smooth(x, k: int = 3, edge: str = "shrink") -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"smooth expects a 1-D sequence, got shape {x.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k must be an odd positive integer, got {k!r}")
    if k <= 0 or k % 2 == 0:
        raise ValueError(f"k must be an odd positive integer, got {k}")
    if edge not in EDGES:
        raise ValueError(f"edge must be one of {', '.join(EDGES)}, got {edge!r}")
    n, w = len(x), (k - 1) // 2
    if k > n:
        raise ValueError(f"k={k} is larger than the series ({n} points)")
    kernel = np.ones(k)
    if edge == "valid":
        return np.convolve(x, kernel, mode="valid") / k
    if edge == "shrink":
        counts = np.convolve(np.ones(n), kernel, mode="same")
        return np.convolve(x, kernel, mode="same") / counts
    if edge == "zero":
        return np.convolve(x, kernel, mode="same") / k
    return np.convolve(np.pad(x, w, mode="reflect"), kernel, mode="valid") / k


def edge_width(k: int) -> int:
    """How many points at each end are computed from fewer than k real values."""
    return (k - 1) // 2
