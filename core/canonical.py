"""Canonical Time Warping (``core.ctw``): DTW for streams whose features live in
different spaces (Zhou & De la Torre 2009).

CTW alternates regularized CCA on the frame pairs of the current path (projections
A, B into a shared space) and DTW on the two projected sequences (a new path),
starting from a uniform warp, by default at a coarse frame rate first and then refined
level by level. The objective J (mean squared distance of the projections along the
path, per component) is tracked at every iteration; the best iterate is kept, so the
reported history never increases. Unlike tslearn's ``ctw`` (its issue #728), the loop
really iterates: the path of each DTW step feeds the next CCA."""

from __future__ import annotations

import time

import numpy as np

from ._progress import Monitor
from .alignment import Alignment, path_knots
from .transport import _check_features, _check_positive

__all__ = ["ctw"]


def _uniform_path(n, m):
    L = max(n, m)
    i = np.round(np.linspace(0, n - 1, L)).astype(np.int64)
    j = np.round(np.linspace(0, m - 1, L)).astype(np.int64)
    return np.stack([i, j], axis=1)


def _inv_sqrt(c, reg):
    """``(C + reg * tr(C)/d * I)^(-1/2)`` for a symmetric PSD ``C``."""
    d = c.shape[0]
    ridge = reg * max(float(np.trace(c)) / d, 1e-300)
    w, v = np.linalg.eigh(c + ridge * np.eye(d))
    w = np.maximum(w, ridge * 1e-6)
    return (v / np.sqrt(w)) @ v.T


def _cca(xw, yw, k, reg):
    """Regularized CCA of paired rows; returns A (dx, k), B (dy, k), rho (k,), means."""
    mx, my = xw.mean(0), yw.mean(0)
    xc, yc = xw - mx, yw - my
    L = len(xw)
    cxx = xc.T @ xc / L
    cyy = yc.T @ yc / L
    cxy = xc.T @ yc / L
    wx = _inv_sqrt(cxx, reg)
    wy = _inv_sqrt(cyy, reg)
    u, s, vt = np.linalg.svd(wx @ cxy @ wy, full_matrices=False)
    a = wx @ u[:, :k]
    b = wy @ vt[:k].T
    return a, b, s[:k], mx, my


def _pool(x, f):
    """Average consecutive groups of ``f`` frames (the last group may be shorter)."""
    if f == 1:
        return x
    n = len(x) // f * f
    parts = [x[:n].reshape(-1, f, x.shape[1]).mean(1)] if n else []
    if len(x) > n:
        parts.append(x[n:].mean(0, keepdims=True))
    return np.vstack(parts)


def _upsample_pairs(path, f, n, m):
    """Frame pairs at a finer level from a path at a level ``f`` times coarser."""
    centre = (f - 1) / 2.0
    ka, kb = path_knots(path, 0)
    i = np.arange(n)
    j = np.interp(i, ka * f + centre, kb * f + centre)
    kb2, ka2 = path_knots(path, 1)
    jj = np.arange(m)
    ii = np.interp(jj, kb2 * f + centre, ka2 * f + centre)
    pairs = np.concatenate([np.stack([i, np.clip(np.round(j), 0, m - 1)], 1),
                            np.stack([np.clip(np.round(ii), 0, n - 1), jj], 1)])
    return np.unique(pairs.astype(np.int64), axis=0)


def _objective(px, py, path):
    """Mean squared distance of the projections along the path, per component."""
    diff = px[path[:, 0]] - py[path[:, 1]]
    return float(np.mean(np.sum(diff * diff, axis=1))) / px.shape[1]


def _select(rho, k_fixed):
    if k_fixed is not None:
        return k_fixed
    return max(1, int(np.sum(rho >= 0.5 * rho[0])))


def _level(x, y, pairs, k_max, k_fixed, reg, max_iter, tol, window, mon, patience):
    """CTW iterations at one resolution; returns the best iterate and the trace."""
    from . import dtw

    best = None
    trace = []
    history = []
    stale = 0
    n_iter = 0
    for it in range(max_iter):
        mon.check()
        a, b, rho, mx, my = _cca(x[pairs[:, 0]], y[pairs[:, 1]], k_max, reg)
        k = _select(rho, k_fixed)
        a, b, rho = a[:, :k], b[:, :k], rho[:k]
        px = (x - mx) @ a
        py = (y - my) @ b
        al = dtw(px, py, metric="sqeuclidean", step_pattern="symmetric1", window=window,
                 cancel=mon.check_callback)
        path = np.asarray(al.path)
        value = _objective(px, py, path)
        trace.append(value)
        n_iter = it + 1
        mon.report(n_iter / max_iter)
        if best is None or value < best["objective"] * (1.0 - tol):
            history.append(value)
            best = dict(objective=value, path=path, a=a, b=b, rho=rho, mx=mx, my=my, k=k)
            stale = 0
        else:
            if value < best["objective"]:
                history.append(value)
                best = dict(objective=value, path=path, a=a, b=b, rho=rho, mx=mx, my=my, k=k)
            stale += 1
            if stale >= patience:
                break
        if len(path) == len(pairs) and np.array_equal(path, pairs):
            break
        pairs = path
    return best, history, trace, n_iter


def ctw(x, y, *, n_components=None, reg=0.01, max_iter=30, tol=1e-4, multiscale=True,
        min_frames=64, window=None, rate_a_hz=1.0, rate_b_hz=1.0, progress=None,
        cancel=None):
    """Canonical Time Warping of two sequences that may have different feature spaces.

    Parameters
    ----------
    x : ndarray, shape (N, Dx)
        Features of A.
    y : ndarray, shape (M, Dy)
        Features of B; ``Dy`` may differ from ``Dx``.
    n_components : int, optional
        Number of canonical components used by the DTW step. Default: at each
        iteration, the components (among the first ``min(Dx, Dy, 10)``) whose canonical
        correlation is at least half the largest one.
    reg : float
        Ridge added to each covariance, relative to its mean variance (> 0): keeps CCA
        well posed when a dimension exceeds the number of aligned pairs.
    max_iter : int
        Most CCA + DTW iterations per resolution level (>= 1).
    tol : float
        An iteration counts as an improvement when it lowers the objective by more
        than ``tol`` relative; two iterations without one end a level.
    multiscale : bool
        Start at a coarse frame rate (frames averaged in groups of 2, 4, 8, ... while
        both sequences keep at least ``min_frames`` frames) and refine level by level;
        the full-rate level starts from the coarser path. Without it, the full-rate
        loop starts from a uniform warp.
    min_frames : int
        Shortest sequence length at the coarsest level.
    window : optional
        A window for the full-rate DTW steps, as in :func:`core.dtw`.
    rate_a_hz, rate_b_hz : float
    progress, cancel : callables, optional

    Returns
    -------
    Alignment
        ``path`` of the best full-rate iterate; ``distance`` its objective J;
        ``diagnostics`` hold ``projection_a`` (Dx, k), ``projection_b`` (Dy, k),
        ``mean_a``, ``mean_b``, ``correlations`` (k,), ``objective_history`` (the
        accepted full-rate iterates: never increasing), ``objective_trace`` (every
        full-rate iterate, rejected ones included), ``levels`` (factor, iterations,
        best objective per level), ``n_iter`` (full rate), ``elapsed_s``.

    Raises
    ------
    ValueError
        Bad features or parameters. ``core.Cancelled`` on cancel.

    Notes
    -----
    The objective is ``J = mean over path pairs (i, j) of |A^T (x_i - mu_x) - B^T
    (y_j - mu_y)|^2 / k``, with A, B the regularized CCA projections fitted on the
    pairs of the previous path (so ``J ~ 2 (1 - mean canonical correlation)``). Each
    iteration costs one DTW on the (N, k) x (M, k) projections (symmetric1 steps on
    squared euclidean costs: the DTW cost is the sum of J's terms) plus
    O(L (Dx + Dy)^2 + Dx^3 + Dy^3) for the CCA on L pairs. The coarse levels cost a
    fraction of one full-rate iteration each.

    References
    ----------
    Zhou, F. & De la Torre, F. (2009). Canonical time warping for alignment of human
    behavior. NeurIPS.
    """
    t0 = time.perf_counter()
    mon = _Mon(progress, cancel)
    x = _check_features("x", x).astype(np.float64)
    y = _check_features("y", y).astype(np.float64)
    n, dx = x.shape
    m, dy = y.shape
    reg = _check_positive("reg", reg)
    tol = _check_positive("tol", tol)
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter: expected a positive integer, got {max_iter!r}")
    if isinstance(min_frames, bool) or not isinstance(min_frames, (int, np.integer)) \
            or min_frames < 2:
        raise ValueError(f"min_frames: expected an integer >= 2, got {min_frames!r}")
    k_lim = min(dx, dy)
    if n_components is None:
        k_fixed, k_max = None, min(k_lim, 10)
    else:
        if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) \
                or not 1 <= n_components <= k_lim:
            raise ValueError(f"n_components: expected an integer in [1, {k_lim}], "
                             f"got {n_components!r}")
        k_fixed = k_max = int(n_components)
    factors = [1]
    if multiscale:
        while min(n, m) // (factors[-1] * 2) >= min_frames:
            factors.append(factors[-1] * 2)
    factors = factors[::-1]
    levels = []
    pairs = None
    best = history = trace = None
    n_iter = 0
    for li, f in enumerate(factors):
        xs, ys = _pool(x, f), _pool(y, f)
        if pairs is None:
            pairs = _uniform_path(len(xs), len(ys))
        else:
            pairs = _upsample_pairs(best["path"], 2, len(xs), len(ys))
        final = f == 1
        sub = mon.sub(li / len(factors), (li + 1) / len(factors)) if not final else \
            mon.sub(li / len(factors), 1.0)
        best, history, trace, n_iter = _level(
            xs, ys, pairs, k_max, k_fixed, reg, int(max_iter), tol,
            window if final else None, sub, patience=2)
        levels.append({"factor": f, "iterations": n_iter, "objective": best["objective"]})
    mon.report(1.0)
    diag = {"projection_a": best["a"], "projection_b": best["b"], "mean_a": best["mx"],
            "mean_b": best["my"], "correlations": best["rho"],
            "objective_history": tuple(history), "objective_trace": tuple(trace),
            "levels": tuple(levels), "n_iter": n_iter, "n_components": best["k"],
            "elapsed_s": time.perf_counter() - t0}
    for key in ("projection_a", "projection_b", "mean_a", "mean_b", "correlations"):
        diag[key] = np.array(diag[key])
        diag[key].setflags(write=False)
    return Alignment(best["path"], rate_a_hz, rate_b_hz, n_a=n, n_b=m, method="ctw",
                     params={"n_components": n_components, "reg": reg,
                             "max_iter": int(max_iter), "tol": tol,
                             "multiscale": bool(multiscale), "min_frames": int(min_frames),
                             "window": repr(window)},
                     distance=best["objective"], diagnostics=diag)


class _Mon(Monitor):
    """A Monitor that can also hand a plain ``cancel`` callable to core.dtw."""

    __slots__ = ()

    def check_callback(self):
        return self._cancel is not None and bool(self._cancel())

    def sub(self, start, stop):
        span = self.stop - self.start
        return _Mon(self._progress, self._cancel, self.start + span * start,
                    self.start + span * stop)
