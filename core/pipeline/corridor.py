"""Multi-term corridor DTW: the machinery of the default pipelines.

A *term* is one feature with its metric and weight; the local cost is the weighted sum of
the terms' distances, computed only inside a band (per-row column intervals). The
functions here find the shared part of two recordings, a coarse-to-fine path, the local
corridors around it and a confidence per step. They keep their own numba kernels
(``core._kernels.features``) because the engine's ``core.dtw`` takes one metric at a time.
"""

from __future__ import annotations

import math

import numpy as np

from .._kernels.features import band_accumulate, band_backtrack, overlap_accumulate
from ..errors import AlignmentError

# cells of the first (coarse) pass; above this the pass runs at a lower frame rate
_COARSE_CELLS = 3_000_000
_STEP_WEIGHTS = (1.0, 1.0, 1.0)
# the local re-search: a corridor of _LOCAL_RADIUS_S around the global path, widened up to
# _AMBIGUOUS_MAX_S where the spectral shape next to the path is within _AMBIGUOUS_TOL
_LOCAL_RADIUS_S = 0.5
_AMBIGUOUS_MAX_S = 1.5
_AMBIGUOUS_TOL = 0.02


class _Term:
    """One feature's contribution to the local cost."""

    def __init__(self, name, a, b, metric, weight, local_weight=None):
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        if metric == "cosine":
            a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
            b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
        self.name, self.a, self.b, self.metric, self.weight = name, a, b, metric, float(weight)
        self.local_weight = self.weight if local_weight is None else float(local_weight)
        self.a_sq = (a * a).sum(axis=1)
        self.b_sq = (b * b).sum(axis=1)

    def block(self, i0, i1, j0, j1):
        dot = self.a[i0:i1] @ self.b[j0:j1].T
        if self.metric == "cosine":
            return 1.0 - dot
        d2 = self.a_sq[i0:i1, None] + self.b_sq[None, j0:j1] - 2.0 * dot
        return np.sqrt(np.maximum(d2, 0.0))

    def sliced(self, i0, i1, j0, j1):
        """The term restricted to frames i0..i1 of A and j0..j1 of B (inclusive)."""
        t = _Term.__new__(_Term)
        t.name, t.metric, t.weight = self.name, self.metric, self.weight
        t.local_weight = self.local_weight
        t.a, t.b = self.a[i0:i1 + 1], self.b[j0:j1 + 1]
        t.a_sq, t.b_sq = self.a_sq[i0:i1 + 1], self.b_sq[j0:j1 + 1]
        return t

    def reweighted(self, weight):
        """The same features with another weight."""
        t = self.sliced(0, self.a.shape[0] - 1, 0, self.b.shape[0] - 1)
        t.weight = float(weight)
        return t

    def pooled(self, factor):
        """The same term at a rate ``factor`` times lower: spectral shapes are averaged,
        onset features keep their peaks (max)."""
        how = "mean" if self.metric == "cosine" else "max"
        return _Term(self.name, _pool(self.a, factor, how), _pool(self.b, factor, how),
                     self.metric, self.weight, self.local_weight)


def _pool(x, factor, how="mean"):
    if factor <= 1:
        return x
    n = x.shape[0]
    n_out = -(-n // factor)
    pad = n_out * factor - n
    if pad:
        x = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)])
    blocks = x.reshape(n_out, factor, x.shape[1])
    return blocks.mean(axis=1) if how == "mean" else blocks.max(axis=1)


def _band_cost(terms, lo, hi, monitor=None):
    n = lo.shape[0]
    width = int((hi - lo).max())
    cost = np.zeros((n, width))
    block_rows = max(1, 4_000_000 // max(1, int(hi.max() - lo.min())))
    block_rows = min(block_rows, 512)
    for i0 in range(0, n, block_rows):
        i1 = min(n, i0 + block_rows)
        j0, j1 = int(lo[i0:i1].min()), int(hi[i0:i1].max())
        block = np.zeros((i1 - i0, j1 - j0))
        for term in terms:
            block += term.weight * term.block(i0, i1, j0, j1)
        for i in range(i0, i1):
            cost[i, :hi[i] - lo[i]] = block[i - i0, lo[i] - j0:hi[i] - j0]
        if monitor is not None:
            monitor.report(i1 / n)
    return cost


def _band_path(cost, lo, hi, monitor=None, weights=_STEP_WEIGHTS):
    """Exact DTW (symmetric1 steps unless ``weights`` says otherwise) over the band;
    returns the (L, 2) path and the accumulated cost."""
    n = cost.shape[0]
    acc = np.empty_like(cost)
    back = np.empty(cost.shape, dtype=np.int8)
    w_v, w_h, w_d = weights
    band_accumulate(cost, lo, hi, w_v, w_h, w_d, False, acc, back)
    if monitor is not None:
        monitor.check()
    path = np.empty((n + int(hi[-1]) + 1, 2), dtype=np.int64)
    end_j = int(hi[-1]) - 1
    length = band_backtrack(back, lo, n - 1, end_j, path)
    if length < 0:
        raise AlignmentError("the corridor admits no path")
    return path[:length][::-1].copy(), float(acc[n - 1, end_j - lo[n - 1]])


def _corridor(coarse_path, factor, n, m, radius):
    """Per-row column intervals at the fine rate around a coarse path."""
    ic = coarse_path[:, 0]
    jc = coarse_path[:, 1]
    n_c = int(ic.max()) + 1
    cmin = np.full(n_c, np.iinfo(np.int64).max)
    cmax = np.full(n_c, -1)
    np.minimum.at(cmin, ic, jc)
    np.maximum.at(cmax, ic, jc)
    rows = np.arange(n) // factor
    rows = np.minimum(rows, n_c - 1)
    lo = cmin[rows] * factor - radius
    hi = (cmax[rows] + 1) * factor + radius
    lo = np.clip(lo, 0, m - 1)
    hi = np.clip(hi, 1, m)
    lo = np.maximum.accumulate(lo)
    hi = np.minimum.accumulate(hi[::-1])[::-1]
    hi = np.maximum(hi, lo + 1)
    lo[0] = 0
    hi[-1] = m
    # consecutive rows must overlap (a path moves at most one row per step)
    lo[1:] = np.minimum(lo[1:], hi[:-1])
    return lo.astype(np.int64), hi.astype(np.int64)


def _local_corridor(path, shape_terms, n, m, rate):
    """Column intervals for the local re-search: ``_LOCAL_RADIUS_S`` around the path,
    widened (up to ``_AMBIGUOUS_MAX_S``) over the columns next to the path whose
    spectral shape (the cosine terms) matches the path's own cell almost as well
    (within ``_AMBIGUOUS_TOL`` cosine distance): a chord struck several times, where
    the spectral shape cannot tell the strokes apart and the global path may be off by
    more than the radius."""
    r_min = int(round(_LOCAL_RADIUS_S * rate))
    r_max = int(round(_AMBIGUOUS_MAX_S * rate))
    ip, jp = path[:, 0], path[:, 1]
    jmin = np.full(n, np.iinfo(np.int64).max)
    jmax = np.full(n, -1)
    np.minimum.at(jmin, ip, jp)
    np.maximum.at(jmax, ip, jp)
    lo = np.clip(jmin - r_min, 0, m - 1)
    hi = np.clip(jmax + 1 + r_min, 1, m)
    if shape_terms and r_max > r_min:
        total = sum(t.weight for t in shape_terms)
        terms = [t.reweighted(t.weight / total) for t in shape_terms]
        wlo = np.clip(jmin - r_max, 0, m - 1)
        whi = np.clip(jmax + 1 + r_max, 1, m)
        cost = _band_cost(terms, wlo, whi)
        width = cost.shape[1]
        cols = np.arange(width)[None, :]
        for r0 in range(0, n, 8192):  # in row blocks: long inputs, bounded temporaries
            r1 = min(n, r0 + 8192)
            c = cost[r0:r1]
            start, first, last = wlo[r0:r1], jmin[r0:r1], jmax[r0:r1]
            ref = c[np.arange(r1 - r0), first - start]
            bad = (c > ref[:, None] + _AMBIGUOUS_TOL) | (cols >= (whi[r0:r1] - start)[:, None])
            left = np.where(bad & (cols < (first - start)[:, None]), cols, -1).max(axis=1) + 1
            right = np.where(bad & (cols > (last - start)[:, None]), cols, width).min(axis=1)
            lo[r0:r1] = np.minimum(lo[r0:r1], start + left)
            hi[r0:r1] = np.maximum(hi[r0:r1], start + right)
    lo = np.maximum.accumulate(lo)
    hi = np.minimum.accumulate(hi[::-1])[::-1]
    hi = np.maximum(hi, lo + 1)
    lo[0] = 0
    hi[-1] = m
    lo[1:] = np.minimum(lo[1:], hi[:-1])
    return lo.astype(np.int64), hi.astype(np.int64)


def _overlap(terms, n, m, monitor, *, share=0.5, min_skip_s=1.0, margin_s=0.5, rate=1.0):
    """Find the part of A and B that correspond when one may have extra material at its
    start or end.

    On a coarse full cost matrix: a closed-end DTW gives the typical cost of matching
    frames ``c_on`` (median along its path), the matrix the cost of unrelated frames
    ``c_off`` (median of all cells); costs are shifted by the threshold
    ``tau = c_on + share * (c_off - c_on)`` so that matching frames earn and unrelated
    frames cost, and a DTW with symmetric2 weights (every path from border to border
    has the same total weight per frame covered) that may start anywhere on the first
    row or column and end anywhere on the last row or column picks the stretch worth
    aligning (horizontal and vertical steps may pay for mismatches but never earn, see
    :func:`core._kernels.features.overlap_accumulate`).

    Returns
    -------
    (i0, i1, j0, j1) : inclusive frame ranges of A and B (full rate), and a dict of
    diagnostics.
    """
    factor = max(1, int(math.ceil(math.sqrt(n * m / 1_000_000))))
    coarse = [t.pooled(factor) for t in terms] if factor > 1 else terms
    n_c, m_c = coarse[0].a.shape[0], coarse[0].b.shape[0]
    lo = np.zeros(n_c, dtype=np.int64)
    hi = np.full(n_c, m_c, dtype=np.int64)
    cost = _band_cost(coarse, lo, hi, monitor)
    path, _ = _band_path(cost, lo, hi, monitor)
    c_on = float(np.median(cost[path[:, 0], path[:, 1]]))
    c_off = float(np.median(cost))
    info = {"cost_on_path": round(c_on, 4), "cost_typical": round(c_off, 4)}
    full = (0, n - 1, 0, m - 1)
    if not c_off > c_on or n_c < 4 or m_c < 4:
        return full, dict(info, trimmed=False)
    tau = c_on + share * (c_off - c_on)
    shifted = cost - tau
    acc = np.empty_like(shifted)
    back = np.empty(shifted.shape, dtype=np.int8)
    overlap_accumulate(shifted, acc, back)
    last_row = acc[n_c - 1]
    last_col = acc[:, m_c - 1]
    if float(last_row.min()) <= float(last_col.min()):
        i_end, j_end = n_c - 1, int(np.argmin(last_row))
    else:
        i_end, j_end = int(np.argmin(last_col)), m_c - 1
    p = np.empty((n_c + m_c + 1, 2), dtype=np.int64)
    length = band_backtrack(back, lo, i_end, j_end, p)
    (i0c, j0c), (i1c, j1c) = p[length - 1], p[0]
    # trim an end only if the closed-end path really pays for it there: with repetitive
    # material (a repeated section, a loop) shifting by one period is as cheap as the
    # right alignment, and only the closed path tells the two apart
    # (the closed path crosses unmatched material at a high cost, or squeezed into a
    # vertical or horizontal run; a one-period shift of repeated material is neither)
    closed = cost[path[:, 0], path[:, 1]]
    diagonal = np.r_[True, np.diff(path, axis=0).sum(axis=1) == 2]

    def pays(mask):
        return bool(mask.any()) and (float(np.mean(closed[mask])) > tau
                                     or float(np.mean(diagonal[mask])) < 0.5)

    if not pays((path[:, 0] < i0c) | (path[:, 1] < j0c)):
        i0c, j0c = 0, 0
    if not pays((path[:, 0] > i1c) | (path[:, 1] > j1c)):
        i1c, j1c = n_c - 1, m_c - 1
    i0, j0 = int(i0c) * factor, int(j0c) * factor
    i1 = min(n - 1, (int(i1c) + 1) * factor - 1) if i1c < n_c - 1 else n - 1
    j1 = min(m - 1, (int(j1c) + 1) * factor - 1) if j1c < m_c - 1 else m - 1
    # the shared part ends where costs exceed the threshold, a little early for a fading
    # last note or word: give each trimmed end a margin back
    margin = int(round(margin_s * rate))
    i0, j0 = max(0, i0 - margin), max(0, j0 - margin)
    i1, j1 = min(n - 1, i1 + margin), min(m - 1, j1 + margin)
    min_skip = max(1, int(round(min_skip_s * rate)))
    # small skips at the ends are silence or reverberation: keep the closed ends there
    i0 = i0 if i0 >= min_skip else 0
    j0 = j0 if j0 >= min_skip else 0
    i1 = i1 if n - 1 - i1 >= min_skip else n - 1
    j1 = j1 if m - 1 - j1 >= min_skip else m - 1
    trimmed = (i0, i1, j0, j1) != full
    return (i0, i1, j0, j1), dict(info, trimmed=trimmed, threshold=round(tau, 4))


def _slanted_band(n, m, band):
    """Rows' column intervals of |j - i (m - 1) / (n - 1)| <= band (connected)."""
    centre = np.arange(n) * ((m - 1) / max(n - 1, 1))
    lo = np.clip(np.floor(centre - band), 0, m - 1).astype(np.int64)
    hi = np.clip(np.ceil(centre + band) + 1, 1, m).astype(np.int64)
    lo[0] = 0
    hi[-1] = m
    lo[1:] = np.minimum(lo[1:], hi[:-1])
    return lo, hi


def _multiscale_path(terms, n, m, radius, monitor, band=None):
    """DTW by successive refinement: when the full matrix is larger than
    ``_COARSE_CELLS``, align features mean-pooled by a factor of at most 8 first (itself
    recursively), then search the full-rate path in a corridor of ``radius`` frames
    around the coarse path (plus one coarse frame). Memory O((N + M) * corridor width).
    ``band`` (frames) restricts every level to a slanted Sakoe-Chiba band.
    """
    needed = max(1, int(math.ceil(math.sqrt(n * m / _COARSE_CELLS))))
    if band is not None:  # a band makes the full-rate problem smaller
        needed = max(1, int(math.ceil((n * (2 * band + 1)) / _COARSE_CELLS)))
    factor = min(needed, 8)
    diag = {"coarse_factor": factor, "corridor_radius_frames": int(radius)}
    if band is not None:
        diag["band_frames"] = int(band)
    if factor == 1:
        if band is None:
            lo = np.zeros(n, dtype=np.int64)
            hi = np.full(n, m, dtype=np.int64)
        else:
            lo, hi = _slanted_band(n, m, band)
        cost = _band_cost(terms, lo, hi, monitor.sub(0.0, 0.6))
        path, total = _band_path(cost, lo, hi, monitor)
        return path, total, cost, lo, hi, diag
    coarse = [t.pooled(factor) for t in terms]
    n_c, m_c = coarse[0].a.shape[0], coarse[0].b.shape[0]
    coarse_radius = max(2, int(math.ceil(radius / factor)))
    coarse_band = None if band is None else max(1, int(math.ceil(band / factor)))
    coarse_path, *_, coarse_diag = _multiscale_path(coarse, n_c, m_c, coarse_radius,
                                                    monitor.sub(0.0, 0.4), band=coarse_band)
    if coarse_diag["coarse_factor"] > 1:
        diag["coarser"] = coarse_diag
    lo, hi = _corridor(coarse_path, factor, n, m, radius + factor)
    if band is not None:
        band_lo, band_hi = _slanted_band(n, m, band)
        lo, hi = np.maximum(lo, band_lo), np.minimum(hi, band_hi)
        hi = np.maximum(hi, lo + 1)
        lo[1:] = np.minimum(lo[1:], hi[:-1])
    cost = _band_cost(terms, lo, hi, monitor.sub(0.4, 0.8))
    path, total = _band_path(cost, lo, hi, monitor)
    diag["corridor_cells"] = int((hi - lo).sum())
    return path, total, cost, lo, hi, diag


def _mean_column(path, n):
    """Mean column of the path in every row, shape (n,)."""
    total = np.bincount(path[:, 0], weights=path[:, 1], minlength=n)
    count = np.bincount(path[:, 0], minlength=n)
    return total / np.maximum(count, 1)


def _agreement_confidence(path, terms, lo, hi, cost, rate, scale_s=0.05):
    """Confidence of every row of A from the agreement of alternative paths, in [0, 1].

    The path is recomputed in the same band with other choices that are about as good
    a priori: symmetric2 steps instead of symmetric1, and each feature alone when there
    are several. Where the cost valley is sharp they all agree; where it is flat or
    ambiguous (sustained notes, pauses, repeated material, unrelated content) they
    drift apart. ``confidence = exp(-(d / scale) ** 2)`` with ``d`` the mean distance in
    seconds between the alternatives and the path.
    """
    n = cost.shape[0]
    ref = _mean_column(path, n)
    alternatives = [_band_path(cost, lo, hi, weights=(1.0, 1.0, 2.0))[0]]
    if len(terms) > 1:
        for term in terms:
            alternatives.append(_band_path(_band_cost([term], lo, hi), lo, hi)[0])
    dist = np.zeros(n)
    for alt in alternatives:
        dist += np.abs(_mean_column(alt, n) - ref)
    dist /= len(alternatives) * rate
    # a little smoothing: an isolated agreeing frame inside a drifting stretch is luck
    from scipy.ndimage import uniform_filter1d

    dist = uniform_filter1d(dist, max(1, int(round(0.2 * rate))), mode="nearest")
    return np.exp(-(dist / scale_s) ** 2)


# ---------------------------------------------------------------- feature plans
