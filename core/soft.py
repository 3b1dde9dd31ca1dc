"""Soft alignments: soft-DTW, attention and temporal cycle-consistency.

These give a soft picture of the correspondence (where it is sure, where it is not):
``core.soft_dtw`` (Cuturi & Blondel 2017) returns the soft-DTW value and the expected
alignment matrix, ``core.attention`` the row and column softmax of similarities,
``core.cycle_consistency`` the per-frame cycle-back error of Dwibedi et al. (2019).
Every result is an :class:`~core.alignment.Alignment`; its ``path`` is derived from the
soft matrix by :func:`core.transport.plan_to_path` (an explicit, lossy step, named in
``diagnostics["path_from"]``).
"""

from __future__ import annotations

import math
import time

import numpy as np

from ._kernels import lazy
from ._progress import Monitor
from .alignment import Alignment
from .cost import check_cost, check_features, check_pair
from .errors import AlignmentError
from .transport import _check_positive, plan_to_path

_k = lazy("soft")  # numba: imported where a kernel first runs

__all__ = ["soft_dtw", "soft_dtw_grad", "attention", "cycle_consistency", "warm_up"]

_SIMILARITIES = ("neg_sqeuclidean", "dot", "cosine")
_BLOCK_CELLS = 1 << 22


# ------------------------------------------------------------------------------ soft-DTW
def _window_rows(window, n, m):
    """Per-row admitted intervals ``[lo[i], hi[i])`` for a window specification."""
    if window is None:
        return np.zeros(n, np.int64), np.full(n, m, np.int64)
    if isinstance(window, np.ndarray) and window.dtype == bool:
        if window.shape != (n, m):
            raise ValueError(f"window: mask shape {window.shape} differs from {(n, m)}")
        lo = np.argmax(window, axis=1).astype(np.int64)
        hi = (m - np.argmax(window[:, ::-1], axis=1)).astype(np.int64)
        if np.any(~window.any(axis=1)) or np.any(window.sum(axis=1) != hi - lo):
            raise ValueError("window: every row of the mask must admit one interval")
        return lo, hi
    if not isinstance(window, tuple) or not window or not isinstance(window[0], str):
        raise ValueError(f"window: expected None, a boolean mask or a tuple like "
                         f"('sakoe_chiba', r), got {window!r}")
    kind = window[0]
    i = np.arange(n)
    if kind in ("sakoe_chiba", "slanted_band") and len(window) == 2:
        r = float(window[1])
        if not (math.isfinite(r) and r >= 0):
            raise ValueError(f"window: radius must be >= 0, got {window[1]!r}")
        centre = i.astype(np.float64)
        if kind == "slanted_band":
            centre = i * ((m - 1) / (n - 1)) if n > 1 else np.zeros(n)
        lo = np.maximum(0, np.ceil(centre - r - 1e-9)).astype(np.int64)
        hi = np.minimum(m, np.floor(centre + r + 1e-9) + 1).astype(np.int64)
        return lo, hi
    if kind == "rows" and len(window) == 3:
        lo = np.asarray(window[1], dtype=np.int64)
        hi = np.asarray(window[2], dtype=np.int64)
        if lo.shape != (n,) or hi.shape != (n,):
            raise ValueError(f"window: 'rows' needs starts and stops of length {n}")
        return np.clip(lo, 0, m), np.clip(hi, 0, m)
    raise ValueError(f"window: unknown window {window!r}")


def _prepare_pair(x, y, cost):
    if cost is not None:
        if x is not None or y is not None:
            raise ValueError("cost: give either cost or x and y, not both")
        c = check_cost(cost)
        return c, np.zeros((1, 1)), 2, c.shape[0], c.shape[1]
    x, y = check_pair(x, y, dtype=None)
    if x.dtype != y.dtype:
        x, y = x.astype(np.float64), y.astype(np.float64)
    return (np.ascontiguousarray(x.T), np.ascontiguousarray(y[::-1].T), 0,
            x.shape[0], y.shape[0])


def _soft_dtw_core(x, y, cost, gamma, window, need_e, mon, need_grad=False):
    gamma = _check_positive("gamma", gamma)
    xT, yRT, code, n, m = _prepare_pair(x, y, cost)
    wlo, whi = _window_rows(window, n, m)
    lengths = np.array([min(k, n + 1) - max(0, k - (m + 1)) + 1 for k in range(n + m + 3)],
                       dtype=np.int64)
    lo = np.array([max(0, k - (m + 1)) for k in range(n + m + 3)], dtype=np.int64)
    off = np.zeros(n + m + 3, dtype=np.int64)
    off[1:] = np.cumsum(lengths)[:-1]
    R = np.empty(int(lengths.sum()))
    _k.init_borders(R, off, lo, n, m)
    step = max(1, _BLOCK_CELLS // (min(n, m) + 1))
    fwd = mon.sub(0.0, 0.45 if need_e else 1.0)
    for k0 in range(2, n + m + 1, step):
        k1 = min(n + m + 1, k0 + step)
        _k.forward(xT, yRT, code, gamma, R, off, lo, n, m, wlo, whi, k0, k1)
        fwd.report((k1 - 2) / (n + m - 1))
    value = float(R[off[n + m] + n - lo[n + m]])
    if value >= _k.BIG:
        raise AlignmentError("window: admits no path from (0, 0) to (N-1, M-1)")
    if not (need_e or need_grad):
        return value, None, n, m
    R[off[n + m + 2] + (n + 1) - lo[n + m + 2]] = value
    state = np.zeros((4, n + 2))
    state[0, n + 1] = 1.0
    grad = np.zeros((xT.shape[0] if need_grad else 1, n))
    bwd = mon.sub(0.45, 0.85)
    for k1 in range(n + m + 1, 1, -step):
        k0 = max(2, k1 - step)
        _k.backward(xT, yRT, code, gamma, R, off, lo, n, m, wlo, whi, state, grad,
                    bool(need_grad), k0, k1)
        bwd.report((n + m + 1 - k0) / (n + m - 1))
    if need_grad:
        return value, 2.0 * grad.T, n, m
    E = np.empty((n, m))
    rows = max(64, (_BLOCK_CELLS // max(m, 1)) // 64 * 64)
    out_mon = mon.sub(0.85, 0.9)
    for i0 in range(0, n, rows):
        _k.diag_to_rows(R, off, lo, n, m, E, i0, min(n, i0 + rows))
        out_mon.report(min(n, i0 + rows) / n)
    return value, E, n, m


def soft_dtw(x=None, y=None, *, cost=None, gamma=1.0, window=None, return_plan=True,
             rate_a_hz=1.0, rate_b_hz=1.0, progress=None, cancel=None):
    """Soft-DTW value and expected alignment (Cuturi & Blondel 2017).

    Parameters
    ----------
    x : ndarray, shape (N, D)
    y : ndarray, shape (M, D)
        Features of A and B (float32 or float64); local costs are squared euclidean
        distances, as in tslearn.
    cost : ndarray, shape (N, M), optional
        A precomputed local cost instead of ``x`` and ``y``.
    gamma : float
        Smoothing (> 0); soft-DTW tends to DTW (symmetric1 steps) as gamma -> 0.
    window : optional
        ``("sakoe_chiba", r)``, ``("slanted_band", r)``, ``("rows", starts, stops)`` or a
        boolean (N, M) mask with one interval per row; cells outside are excluded.
    return_plan : bool
        Compute the expected alignment (the backward pass) and a path from it.
    rate_a_hz, rate_b_hz : float
    progress, cancel : callables, optional

    Returns
    -------
    Alignment
        ``distance`` the soft-DTW value ``R[N, M]``; ``plan`` the expected alignment
        ``E = dR/dC`` (N, M), entries in [0, 1]; ``path`` from :func:`plan_to_path`
        (greedy: follow the largest successor of E) on ``E`` (the diagonal if
        ``return_plan`` is False).

    Raises
    ------
    ValueError
        Bad features, gamma or window; ``AlignmentError`` if the window admits no path.

    Notes
    -----
    ``R[i, j] = C[i, j] + softmin(R[i-1, j-1], R[i-1, j], R[i, j-1])`` with
    ``softmin(a) = -gamma log sum exp(-a / gamma)``. Both passes walk anti-diagonals
    (cells on one diagonal are independent, so the loop vectorizes); O(NM D) time,
    one float64 per cell for ``R`` and one for ``E``.

    References
    ----------
    Cuturi & Blondel, "Soft-DTW: a differentiable loss function for time-series",
    ICML 2017.
    """
    t0 = time.perf_counter()
    mon = Monitor(progress, cancel)
    value, E, n, m = _soft_dtw_core(x, y, cost, gamma, window, bool(return_plan), mon)
    diag = {}
    if E is not None:
        path = plan_to_path(E, method="greedy")
        diag["path_from"] = "plan_to_path(method='greedy') on the expected alignment (lossy)"
    else:
        path = _diagonal(n, m)
        diag["path_from"] = "diagonal (return_plan=False)"
    mon.report(1.0)
    diag["elapsed_s"] = time.perf_counter() - t0
    return Alignment(path, rate_a_hz, rate_b_hz, n_a=n, n_b=m, method="soft_dtw",
                     params={"gamma": float(gamma), "window": repr(window),
                             "metric": "precomputed" if cost is not None else "sqeuclidean"},
                     distance=value, normalized_distance=value / (n + m), plan=E,
                     diagnostics=diag)


def soft_dtw_grad(x, y, *, gamma=1.0, window=None, progress=None, cancel=None):
    """Soft-DTW value and its gradient with respect to ``x``.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    y : ndarray, shape (M, D)
    gamma : float
    window : optional
        As in :func:`soft_dtw`.

    Returns
    -------
    value : float
    grad : ndarray of float64, shape (N, D)
        ``sum_j E[i, j] * 2 (x_i - y_j)`` (squared euclidean costs).

    Notes
    -----
    The gradient is accumulated during the backward pass, diagonal by diagonal, so the
    expected alignment matrix is never formed: memory is one float64 per cell for R.
    """
    mon = Monitor(progress, cancel)
    value, grad, n, m = _soft_dtw_core(x, y, None, gamma, window, False, mon, need_grad=True)
    mon.report(1.0)
    return value, grad


def _diagonal(n, m):
    L = max(n, m)
    steps = np.stack([np.round(np.linspace(0, n - 1, L)), np.round(np.linspace(0, m - 1, L))],
                     axis=1).astype(np.int64)
    return np.unique(steps, axis=0)


# ------------------------------------------------------------------------------ attention
def _similarity_block(xb, y, similarity, y_sq):
    if similarity == "neg_sqeuclidean":
        s = xb @ y.T
        s *= 2.0
        s -= (xb * xb).sum(1)[:, None]
        s -= y_sq[None, :]
        np.minimum(s, 0.0, out=s)
        return s
    return xb @ y.T  # dot, or cosine on unit vectors


def _prepare_similarity(x, y, similarity):
    if similarity not in _SIMILARITIES:
        raise ValueError(f"similarity: expected one of {_SIMILARITIES}, got {similarity!r}")
    x = check_features("x", x)
    y = check_features("y", y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x, y: feature dimensions differ ({x.shape[1]} vs {y.shape[1]})")
    if similarity == "cosine":
        nx_ = np.linalg.norm(x, axis=1, keepdims=True)
        ny_ = np.linalg.norm(y, axis=1, keepdims=True)
        if np.any(nx_ == 0) or np.any(ny_ == 0):
            raise ValueError("x, y: the cosine similarity needs non-zero frames")
        x, y = x / nx_, y / ny_
    return x, y


def _auto_temperature(x, y, similarity):
    """A scale-free default: the spread of similarities on a sample of rows."""
    rows = x[np.linspace(0, len(x) - 1, min(len(x), 64)).astype(int)]
    s = _similarity_block(rows, y, similarity, (y * y).sum(1))
    spread = float(np.median(s.max(axis=1) - np.median(s, axis=1)))
    return 0.1 * spread if spread > 0 else 1.0


def _softmaxes(x, y, similarity, temperature, mon):
    """Row softmax (A -> B) and column softmax (B -> A) of similarities / temperature."""
    n, m = len(x), len(y)
    y_sq = (y * y).sum(1)
    row = np.empty((n, m))
    col = np.empty((n, m))
    col_max = np.full(m, -np.inf)
    col_sum = np.zeros(m)
    step = max(1, _BLOCK_CELLS // m)
    for i0 in range(0, n, step):
        s = _similarity_block(x[i0:i0 + step], y, similarity, y_sq)
        s /= temperature
        col[i0:i0 + step] = s
        new_max = np.maximum(col_max, s.max(axis=0))
        col_sum = col_sum * np.exp(col_max - new_max) + np.exp(s - new_max).sum(axis=0)
        col_max = new_max
        s -= s.max(axis=1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=1, keepdims=True)
        row[i0:i0 + step] = s
        mon.report(0.5 * (i0 + step) / n)
    lse = col_max + np.log(col_sum)
    for i0 in range(0, n, step):
        blk = col[i0:i0 + step]
        blk -= lse
        np.exp(blk, out=blk)
        mon.report(0.5 + 0.5 * (i0 + step) / n)
    return row, col


def attention(x, y, *, temperature=None, similarity="neg_sqeuclidean", rate_a_hz=1.0,
              rate_b_hz=1.0, progress=None, cancel=None):
    """Soft attention between the frames of A and B (the "attention heatmap").

    Parameters
    ----------
    x : ndarray, shape (N, D)
    y : ndarray, shape (M, D)
    temperature : float, optional
        Softmax temperature (> 0); lower is sharper. Default: a tenth of the median gap
        between a row's best and median similarity (on a sample of rows).
    similarity : {"neg_sqeuclidean", "dot", "cosine"}
        Similarity of frame pairs.
    rate_a_hz, rate_b_hz : float
    progress, cancel : callables, optional

    Returns
    -------
    Alignment
        ``plan`` the row softmax ``P[i, j] = softmax_j(s_ij / T)`` (A attends to B, rows
        sum to 1); ``diagnostics["col_softmax"]`` the column softmax (B attends to A,
        columns sum to 1) and ``diagnostics["row_softmax"]`` the plan again; ``path``
        from :func:`plan_to_path` on the product of both (mutual attention).

    Notes
    -----
    O(NMD) time; three (N, M) float64 arrays (row softmax, column softmax, product).
    """
    t0 = time.perf_counter()
    mon = Monitor(progress, cancel)
    x, y = _prepare_similarity(x, y, similarity)
    t = _auto_temperature(x, y, similarity) if temperature is None else \
        _check_positive("temperature", temperature)
    row, col = _softmaxes(x, y, similarity, t, mon.sub(0.0, 0.8))
    mutual = row * col
    path = plan_to_path(mutual)
    for a in (row, col):
        a.setflags(write=False)
    diag = {"row_softmax": row, "col_softmax": col, "temperature": t,
            "path_from": "plan_to_path on row_softmax * col_softmax (lossy)",
            "elapsed_s": time.perf_counter() - t0}
    mon.report(1.0)
    return Alignment(path, rate_a_hz, rate_b_hz, n_a=len(x), n_b=len(y), method="attention",
                     params={"temperature": t, "similarity": similarity}, plan=row,
                     diagnostics=diag)


# ------------------------------------------------------------------------------ TCC
def cycle_consistency(x, y, *, temperature=None, similarity="neg_sqeuclidean",
                      rate_a_hz=1.0, rate_b_hz=1.0, progress=None, cancel=None):
    """Temporal cycle-consistency: cycle-back error and confidence per frame of A.

    For frame ``i`` of A: its soft nearest neighbour in B is ``y~_i = sum_j alpha_ij
    y_j`` (``alpha`` the row softmax of :func:`attention`); cycling back, ``beta_ik =
    softmax_k(s(y~_i, x_k) / T)`` and the cycle-back position is ``mu_i = sum_k beta_ik
    k``. The error ``|mu_i - i|`` (frames) is small where the correspondence is
    unambiguous.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    y : ndarray, shape (M, D)
    temperature, similarity :
        As in :func:`attention`.

    Returns
    -------
    Alignment
        ``plan`` = ``alpha``; ``path`` from :func:`plan_to_path` on ``alpha``;
        ``confidence`` per path step = ``1 / (1 + error)`` of the step's frame of A;
        ``distance`` the mean cycle-back error in frames; diagnostics
        ``cycle_back_error_frames`` (N,), ``cycle_back_std_frames`` (N,),
        ``cycle_back_index`` (N,) and ``confidence_a`` (N,).

    Notes
    -----
    O((NM + N^2) D) time, O(NM) memory for ``alpha``, the cycle back in row blocks.

    References
    ----------
    Dwibedi et al., "Temporal cycle-consistency learning", CVPR 2019.
    """
    t0 = time.perf_counter()
    mon = Monitor(progress, cancel)
    x, y = _prepare_similarity(x, y, similarity)
    t = _auto_temperature(x, y, similarity) if temperature is None else \
        _check_positive("temperature", temperature)
    n = len(x)
    alpha, _ = _softmaxes(x, y, similarity, t, mon.sub(0.0, 0.5))
    y_soft = alpha @ y
    if similarity == "cosine":
        y_soft /= np.maximum(np.linalg.norm(y_soft, axis=1, keepdims=True), 1e-300)
    x_sq = (x * x).sum(1)
    k = np.arange(n, dtype=np.float64)
    mu = np.empty(n)
    sd = np.empty(n)
    step = max(1, _BLOCK_CELLS // n)
    back = mon.sub(0.5, 0.95)
    for i0 in range(0, n, step):
        s = _similarity_block(y_soft[i0:i0 + step], x, similarity, x_sq) / t
        s -= s.max(axis=1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=1, keepdims=True)
        mu_b = s @ k
        mu[i0:i0 + step] = mu_b
        sd[i0:i0 + step] = np.sqrt(np.maximum(s @ (k * k) - mu_b * mu_b, 0.0))
        back.report((i0 + step) / n)
    err = np.abs(mu - k)
    conf_a = 1.0 / (1.0 + err)
    path = plan_to_path(alpha)
    for a in (err, sd, mu, conf_a):
        a.setflags(write=False)
    diag = {"cycle_back_error_frames": err, "cycle_back_std_frames": sd,
            "cycle_back_index": mu, "confidence_a": conf_a, "temperature": t,
            "path_from": "plan_to_path on the A -> B attention (lossy)",
            "elapsed_s": time.perf_counter() - t0}
    mon.report(1.0)
    return Alignment(path, rate_a_hz, rate_b_hz, n_a=n, n_b=len(y),
                     method="cycle_consistency",
                     params={"temperature": t, "similarity": similarity},
                     distance=float(err.mean()), plan=alpha, confidence=conf_a[path[:, 0]],
                     diagnostics=diag)


def warm_up():
    """Compile (or load from the numba cache) every soft-DTW kernel specialization on
    tiny inputs, float64 and float32 features; for the application's start-up thread."""
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x = rng.standard_normal((5, 2)).astype(dtype)
        y = rng.standard_normal((4, 2)).astype(dtype)
        soft_dtw(x, y, window=("sakoe_chiba", 2))
        soft_dtw_grad(x, y)
    soft_dtw(cost=np.ones((3, 3)))
