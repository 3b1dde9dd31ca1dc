"""Dynamic time warping (first version: exact, full matrix, symmetric2).

The DTW engine issue replaces this module behind the same API.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.spatial.distance import cdist

from ._kernels.dtw_basic import accumulate_symmetric2, backtrack_symmetric2
from .alignment import Alignment

__all__ = ["dtw"]


def _check_features(name, a):
    a = np.asarray(a)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty (T, D) array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return np.ascontiguousarray(a, dtype=np.float64)


def dtw(x=None, y=None, *, cost=None, metric="euclidean", step_pattern="symmetric2",
        rate_a_hz=1.0, rate_b_hz=1.0, progress=None, cancel=None):
    """Exact DTW with symmetric2 steps on a full cost matrix.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    y : ndarray, shape (M, D)
    cost : ndarray, shape (N, M), optional
        A precomputed local cost matrix instead of ``x`` and ``y``.

    Returns
    -------
    Alignment
    """
    t0 = time.perf_counter()
    if step_pattern != "symmetric2":
        raise ValueError(f"step_pattern: only 'symmetric2' is available, got {step_pattern!r}")
    if cost is None:
        if x is None or y is None:
            raise ValueError("x, y: both are required unless cost is given")
        x = _check_features("x", x)
        y = _check_features("y", y)
        if x.shape[1] != y.shape[1]:
            raise ValueError(f"x, y: feature dimensions differ ({x.shape[1]} vs {y.shape[1]})")
        cost = cdist(x, y, metric=metric)
    else:
        cost = np.asarray(cost, dtype=np.float64)
        if cost.ndim != 2 or cost.size == 0:
            raise ValueError(f"cost: expected a non-empty 2-D array, got shape {cost.shape}")
        if not np.all(np.isfinite(cost)):
            raise ValueError("cost: contains NaN or infinite values")
    n, m = cost.shape
    acc = np.empty((n, m))
    accumulate_symmetric2(cost, acc)
    path = np.empty((n + m, 2), dtype=np.int64)
    length = backtrack_symmetric2(cost, acc, path)
    path = path[:length][::-1]
    distance = float(acc[-1, -1])
    return Alignment(path, rate_a_hz, rate_b_hz, n_a=n, n_b=m, method="dtw",
                     params={"metric": metric, "step_pattern": step_pattern},
                     distance=distance, normalized_distance=distance / (n + m),
                     diagnostics={"elapsed_s": time.perf_counter() - t0, "exact": True})
