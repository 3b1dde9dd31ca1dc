"""Canonical Time Warping (``core.ctw``): DTW for streams whose features live in
different spaces (Zhou & De la Torre 2009).

CTW alternates regularized CCA on the frame pairs of the current path (projections
A, B into a shared space) and DTW on the two projected sequences (a new path),
starting from a uniform warp (and, by default, also from the DTW path between 1-D
energy curves of the two streams), at a coarse frame rate first and then refined
level by level; among the runs, the path with the lowest held-out CCA misfit is kept.
The objective J (mean squared distance of the projections along the
path, per component) is tracked at every iteration; the best iterate is kept, so the
reported history never increases. Unlike tslearn's ``ctw`` (its issue #728), the loop
really iterates: the path of each DTW step feeds the next CCA."""

from __future__ import annotations

import time

import numpy as np

from ._progress import Monitor
from .alignment import Alignment, path_knots
from .cost import check_features
from .transport import _check_positive

__all__ = ["ctw"]


def _uniform_path(n, m):
    L = max(n, m)
    i = np.round(np.linspace(0, n - 1, L)).astype(np.int64)
    j = np.round(np.linspace(0, m - 1, L)).astype(np.int64)
    return np.stack([i, j], axis=1)


def _novelty_curve(x, kind, sigma):
    """A 1-D curve of a stream that does not depend on its feature space: the norm of
    the frame-to-frame change (``"novelty"``) or of the frame (``"energy"``) of the
    standardized features, smoothed by a Gaussian of ``sigma`` frames, standardized."""
    from scipy.ndimage import gaussian_filter1d

    s = x.std(0)
    xz = (x - x.mean(0)) / np.where(s > 0, s, 1.0)
    if kind == "novelty":
        c = np.zeros(len(x))
        c[1:] = np.linalg.norm(np.diff(xz, axis=0), axis=1)
    else:
        c = np.linalg.norm(xz, axis=1)
    if sigma > 0:
        c = gaussian_filter1d(c, sigma)
    sd = c.std()
    return ((c - c.mean()) / (sd if sd > 0 else 1.0))[:, None]


def _init_path(kind, x, y, sigma):
    """A full-rate starting path: the uniform warp, or DTW on 1-D curves of each stream."""
    n, m = len(x), len(y)
    if kind == "uniform":
        return _uniform_path(n, m)
    from . import dtw

    cx, cy = _novelty_curve(x, kind, sigma), _novelty_curve(y, kind, sigma)
    return np.asarray(dtw(cx, cy, metric="sqeuclidean").path)


def _downsample_pairs(path, f, n, m):
    """Pairs of a level ``f`` times coarser from a full-rate path."""
    if f == 1:
        return path
    p = np.minimum(path // f, [n - 1, m - 1])
    return np.unique(p, axis=0)


def _held_out_score(xr, yr, path, reg, folds=5):
    """Cross-validated misfit of a path: CCA's first component fitted on the pairs of
    all but one of ``folds`` contiguous stretches of A, evaluated on the left-out one
    (standardized projections: ``2 (1 - held-out correlation)``), averaged over pairs.

    The in-sample objective rewards paths that the CCA has been fitted to (a
    high-dimensional CCA confirms whatever path it was given); this score does not."""
    n = len(xr)
    fold = np.minimum(path[:, 0] * folds // n, folds - 1)
    total = 0.0
    count = 0
    for f in range(folds):
        train, test = path[fold != f], path[fold == f]
        if len(test) < 2 or len(train) < 2:
            continue
        a, b, _, mx, my = _cca(xr[train[:, 0]], yr[train[:, 1]], 1, reg)
        px = (xr[test[:, 0]] - mx) @ a
        py = (yr[test[:, 1]] - my) @ b
        sx, sy = float(px.std()), float(py.std())
        if sx <= 0 or sy <= 0:
            total += 2.0 * len(test)
        else:
            total += float(np.sum(((px - px.mean()) / sx - (py - py.mean()) / sy) ** 2))
        count += len(test)
    return total / max(count, 1)


def _shrinkage(xc, c):
    """Ledoit-Wolf shrinkage intensity of the covariance ``c`` of centred rows ``xc``."""
    L, d = xc.shape
    mu = float(np.trace(c)) / d
    dist = float(np.sum((c - mu * np.eye(d)) ** 2))
    if dist <= 0:
        return 1.0
    sq = np.sum(xc * xc, axis=1)
    b_bar = max(float(np.sum(sq * sq)) - L * float(np.sum(c * c)), 0.0) / (L * L)
    return min(b_bar, dist) / dist


def _inv_sqrt(xc, reg):
    """Inverse square root of the shrunk covariance of centred rows ``xc``:
    ``((1 - s) C + s mu I)^(-1/2)`` with ``mu = tr(C)/d`` and ``s`` Ledoit-Wolf's
    intensity (``reg="auto"``) or ``reg / (1 + reg)`` (a ridge of ``reg * mu``)."""
    L, d = xc.shape
    c = xc.T @ xc / L
    s = _shrinkage(xc, c) if reg == "auto" else reg / (1.0 + reg)
    mu = max(float(np.trace(c)) / d, 1e-300)
    w, v = np.linalg.eigh((1.0 - s) * c + s * mu * np.eye(d))
    w = np.maximum(w, mu * 1e-10)
    return (v / np.sqrt(w)) @ v.T, s


def _cca(xw, yw, k, reg):
    """Regularized CCA of paired rows; returns A (dx, k), B (dy, k), rho (k,), means."""
    mx, my = xw.mean(0), yw.mean(0)
    xc, yc = xw - mx, yw - my
    L = len(xw)
    cxy = xc.T @ yc / L
    wx, _ = _inv_sqrt(xc, reg)
    wy, _ = _inv_sqrt(yc, reg)
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


def _pair_correlations(px, py, path):
    """Pearson correlation of each projected component over the path's pairs."""
    a = px[path[:, 0]]
    b = py[path[:, 1]]
    a = a - a.mean(0)
    b = b - b.mean(0)
    den = np.sqrt(np.sum(a * a, 0) * np.sum(b * b, 0))
    return np.sum(a * b, 0) / np.where(den > 0, den, 1.0)


def _select(rho, k_fixed):
    """Components whose correlation is at least half the largest (at most k_fixed):
    weak components are mostly noise, and from a poor path they pull it astray."""
    k = max(1, int(np.sum(rho >= 0.5 * rho[0])))
    return k if k_fixed is None else min(k, k_fixed)


def _reduce(x, energy, max_dims):
    """Mean and orthonormal PCA basis keeping ``energy`` of the variance (at most
    ``max_dims`` components); the identity when ``energy`` is None and D fits."""
    mean = x.mean(0)
    d = x.shape[1]
    if energy is None and d <= max_dims:
        return mean, None
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    k = d if energy is None else int(np.searchsorted(np.cumsum(s * s) / max(np.sum(s * s),
                                                                        1e-300), energy) + 1)
    k = max(1, min(k, max_dims, len(s)))
    if energy is None and k == d:
        return mean, None
    return mean, vt[:k].T


def _level(x, y, pairs, k_max, k_fixed, reg, max_iter, tol, window, mon, patience,
           pca_energy, dims_per_pair):
    """CTW iterations at one resolution; returns the best iterate and the trace."""
    from . import dtw

    # fewer dimensions than pairs / dims_per_pair: CCA on few pairs in many dimensions
    # finds spurious correlations that confirm whatever path it was fitted on
    cap = max(1, int(max(len(x), len(y)) / dims_per_pair))
    mean_x, basis_x = _reduce(x, pca_energy, cap)
    mean_y, basis_y = _reduce(y, pca_energy, cap)
    xr = x - mean_x if basis_x is None else (x - mean_x) @ basis_x
    yr = y - mean_y if basis_y is None else (y - mean_y) @ basis_y
    k_max = min(k_max, xr.shape[1], yr.shape[1])
    if k_fixed is not None:
        k_fixed = min(k_fixed, k_max)

    best = None
    trace = []
    history = []
    stale = 0
    n_iter = 0
    for it in range(max_iter):
        mon.check()
        a, b, rho, mx, my = _cca(xr[pairs[:, 0]], yr[pairs[:, 1]], k_max, reg)
        k = _select(rho, k_fixed)
        a, b, rho = a[:, :k], b[:, :k], rho[:k]
        px = (xr - mx) @ a
        py = (yr - my) @ b
        if basis_x is not None:
            a, mx = basis_x @ a, basis_x @ mx
        if basis_y is not None:
            b, my = basis_y @ b, basis_y @ my
        mx, my = mx + mean_x, my + mean_y
        al = dtw(px, py, metric="sqeuclidean", step_pattern="symmetric1", window=window,
                 cancel=mon.check_callback)
        path = np.asarray(al.path)
        value = _objective(px, py, path)
        rho = _pair_correlations(px, py, path)
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


def ctw(x, y, *, n_components=None, reg="auto", max_iter=30, tol=1e-4, multiscale=True,
        min_frames=64, coarse_reg=(None, 0.3, 1.0), init=("uniform", "energy"),
        init_sigma=2.0, pca_energy=None, dims_per_pair=10.0,
        window=None, rate_a_hz=1.0, rate_b_hz=1.0, progress=None, cancel=None):
    """Canonical Time Warping of two sequences that may have different feature spaces.

    Parameters
    ----------
    x : ndarray, shape (N, Dx)
        Features of A.
    y : ndarray, shape (M, Dy)
        Features of B; ``Dy`` may differ from ``Dx``.
    n_components : int, optional
        Most canonical components used by the DTW step (default ``min(Dx, Dy, 10)``).
        At each iteration the components whose canonical correlation is at least half
        the largest one are used, up to this number.
    reg : "auto" or float
        Regularization of each covariance ``C`` in the CCA: ``"auto"`` shrinks it toward
        ``mu I`` (``mu`` its mean variance) with the Ledoit-Wolf intensity estimated
        from the aligned pairs (strong for many noisy dimensions, weak for few clean
        ones); a float ``r > 0`` adds the ridge ``r mu I`` instead. Keeps CCA well posed
        when a dimension exceeds the number of pairs.
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
    coarse_reg : "auto", float, None or a sequence of them
        ``reg`` for the coarse levels (None: ``reg``). A strong value makes the coarse
        CCA closer to PLS: it follows the dominant shared structure rather than fitting
        the current path, which helps high-dimensional inputs such as video thumbnails
        but can hurt clean low-dimensional ones. With several values, the whole
        coarse-to-fine loop runs once per value and the run with the lowest full-rate
        objective is kept (``diagnostics["runs"]``); default: ``reg``, 0.3 and 1.0.
        With several runs (coarse_reg values x init values) the run kept is the one with
        the lowest held-out misfit (first canonical component fitted on 4/5 of the
        path's pairs, tested on the remaining contiguous fifth, 5 folds), not the lowest
        in-sample objective, which favours paths the CCA has over-fitted.
    init : str or sequence of str
        Starting paths, each giving its own run(s): ``"uniform"`` (the uniform warp),
        ``"energy"`` (DTW between the per-stream 1-D curves of frame norms of the
        standardized features), ``"novelty"`` (same with the norm of the frame-to-frame
        change). These curves exist whatever the feature spaces, so they give CTW a
        start away from the uniform warp when the streams differ in kind. Default:
        uniform and energy.
    init_sigma : float
        Gaussian smoothing (frames) of those curves.
    pca_energy : float or None
        Before the CCA of each level, reduce each input to the principal components
        that keep this fraction of its variance (as in Zhou & De la Torre); None keeps
        every dimension (up to the cap below).
    dims_per_pair : float
        At most one dimension per ``dims_per_pair`` frames at each level: CCA on few
        pairs in many dimensions finds spurious correlations that confirm whatever path
        it was fitted on.
    window : optional
        A window for the full-rate DTW steps, as in :func:`core.dtw`.
    rate_a_hz, rate_b_hz : float
    progress, cancel : callables, optional

    Returns
    -------
    Alignment
        ``path`` of the best full-rate iterate; ``distance`` its objective J;
        ``diagnostics`` hold ``projection_a`` (Dx, k), ``projection_b`` (Dy, k),
        ``mean_a``, ``mean_b``, ``correlations`` (k,: per component, over the path's
        pairs), ``objective_history`` (the
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
    x = check_features("x", x)
    y = check_features("y", y)
    n, dx = x.shape
    m, dy = y.shape
    if not (isinstance(reg, str) and reg == "auto"):
        reg = _check_positive("reg", reg)
    tol = _check_positive("tol", tol)
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter: expected a positive integer, got {max_iter!r}")
    if coarse_reg is None or isinstance(coarse_reg, (str, int, float)):
        coarse_reg = (coarse_reg,)
    coarse_values = []
    for value in coarse_reg:
        if value is None:
            value = reg
        elif not (isinstance(value, str) and value == "auto"):
            value = _check_positive("coarse_reg", value)
        if value not in coarse_values:
            coarse_values.append(value)
    if not coarse_values:
        raise ValueError("coarse_reg: expected at least one value")
    if pca_energy is not None:
        pca_energy = float(pca_energy)
        if not 0 < pca_energy <= 1:
            raise ValueError(f"pca_energy: expected a fraction in (0, 1] or None, "
                             f"got {pca_energy!r}")
    dims_per_pair = _check_positive("dims_per_pair", dims_per_pair)
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
    if isinstance(init, str):
        init = (init,)
    init = tuple(init)
    if not init or any(v not in ("uniform", "novelty", "energy") for v in init):
        raise ValueError(f"init: expected 'uniform', 'novelty', 'energy' or a sequence of "
                         f"them, got {init!r}")
    init_sigma = float(init_sigma)
    if not (np.isfinite(init_sigma) and init_sigma >= 0):
        raise ValueError(f"init_sigma: expected a number >= 0, got {init_sigma!r}")
    factors = [1]
    if multiscale:
        while min(n, m) // (factors[-1] * 2) >= min_frames:
            factors.append(factors[-1] * 2)
    factors = factors[::-1]
    if len(factors) == 1:
        coarse_values = coarse_values[:1]  # no coarse level: one run
    runs = []
    result = None
    cap = max(1, int(max(n, m) / dims_per_pair))
    mean_x, basis_x = _reduce(x, pca_energy, cap)
    mean_y, basis_y = _reduce(y, pca_energy, cap)
    x_red = x - mean_x if basis_x is None else (x - mean_x) @ basis_x
    y_red = y - mean_y if basis_y is None else (y - mean_y) @ basis_y
    configs = [(c, ini) for ini in init for c in coarse_values]
    for ri, (c_reg, ini) in enumerate(configs):
        run_mon = mon.sub(ri / len(configs), (ri + 1) / len(configs))
        start = _init_path(ini, x, y, init_sigma)
        levels = []
        pairs = None
        best = history = trace = None
        n_iter = 0
        for li, f in enumerate(factors):
            xs, ys = _pool(x, f), _pool(y, f)
            if pairs is None:
                pairs = _downsample_pairs(start, f, len(xs), len(ys))
            else:
                pairs = _upsample_pairs(best["path"], 2, len(xs), len(ys))
            final = f == 1
            sub = run_mon.sub(li / len(factors), (li + 1) / len(factors))
            best, history, trace, n_iter = _level(
                xs, ys, pairs, k_max, k_fixed, reg if final else c_reg, int(max_iter), tol,
                window if final else None, sub, 2, pca_energy, dims_per_pair)
            levels.append({"factor": f, "iterations": n_iter,
                           "objective": best["objective"]})
        score = (_held_out_score(x_red, y_red, best["path"], reg) if len(configs) > 1
                 else best["objective"])
        runs.append({"coarse_reg": c_reg, "init": ini, "objective": best["objective"],
                     "held_out": score})
        if result is None or score < result[0]:
            result = (score, best, history, trace, n_iter, levels)
    _, best, history, trace, n_iter, levels = result
    mon.report(1.0)
    diag = {"projection_a": best["a"], "projection_b": best["b"], "mean_a": best["mx"],
            "mean_b": best["my"], "correlations": best["rho"],
            "objective_history": tuple(history), "objective_trace": tuple(trace),
            "levels": tuple(levels), "runs": tuple(runs), "n_iter": n_iter,
            "n_components": best["k"],
            "elapsed_s": time.perf_counter() - t0}
    for key in ("projection_a", "projection_b", "mean_a", "mean_b", "correlations"):
        diag[key] = np.array(diag[key])
        diag[key].setflags(write=False)
    return Alignment(best["path"], rate_a_hz, rate_b_hz, n_a=n, n_b=m, method="ctw",
                     params={"n_components": n_components, "reg": reg,
                             "max_iter": int(max_iter), "tol": tol,
                             "multiscale": bool(multiscale), "min_frames": int(min_frames),
                             "coarse_reg": tuple(coarse_values), "pca_energy": pca_energy,
                             "dims_per_pair": dims_per_pair,
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
