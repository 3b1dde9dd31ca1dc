"""Onset-level refinement of a path next to a hard anchor.

A hard anchor is a true correspondence the user gave. Frame features (chroma, DLNCO)
place the events around it only as well as they place them anywhere (33-81 ms on the
hardest pair of the data); but near the anchor the local tempo is known from the anchor
itself, so the notes can be matched one by one. :func:`refine_near_anchors` detects the
onsets of both streams within :data:`WINDOW_S` of each hard anchor (a spectral flux of the
solve's own features), matches the two onset sequences in order with a small dynamic
programme (the anchor fixed; a match costs its distance from the time the local tempo
predicts and the dissimilarity of the two onsets' pitch-class content), and lays the
path piecewise-linearly through the matched onsets. Where no onset pair is convincing the
path is left as it was. Qt-free; used by :func:`core.constraints.recompute`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["refine_near_anchors", "onset_frames", "match_onsets", "WINDOW_S"]

#: half-width (s of A) of the span re-estimated around each hard anchor
WINDOW_S = 2.5
#: an onset pair further than this (s of B) from the local tempo's prediction is no match
MAX_DEVIATION_S = 0.25
#: the tempo between two consecutive matches stays within this factor of the local one
SLOPE_FACTOR = 2.0
#: onsets closer than this (s) are one onset
MIN_GAP_S = 0.1
#: the re-laid path rejoins the old one at least this many frames of A past the last match
JOIN_FRAMES = 5
#: a matched onset moves the path only when the old path maps it at least this far off
MIN_SHIFT_S = 0.03


def _novelty(feats, lo: int, hi: int) -> np.ndarray:
    """Spectral flux of frames ``lo..hi-1``: the half-wave rectified frame difference of
    every feature, each scaled by its largest value in the span, summed."""
    out = np.zeros(hi - lo)
    for f in feats:
        seg = np.asarray(f[max(lo - 1, 0):hi], dtype=np.float64)
        if seg.ndim == 1:
            seg = seg[:, None]
        d = np.maximum(np.diff(seg, axis=0), 0.0).sum(axis=1)
        if lo == 0:
            d = np.concatenate([[0.0], d])
        top = float(d.max()) if d.size else 0.0
        if top > 0:
            out[:len(d)] += d / top
    return out


def onset_frames(feats, lo: int, hi: int, rate_hz: float) -> np.ndarray:
    """Onset frames in ``[lo, hi)``: peaks of the flux (:func:`_novelty`) above its mean
    plus half a standard deviation, at least :data:`MIN_GAP_S` apart (the stronger kept)."""
    lo, hi = max(int(lo), 0), int(hi)
    if hi - lo < 3:
        return np.zeros(0, np.int64)
    nov = _novelty(feats, lo, hi)
    thr = nov.mean() + 0.5 * nov.std()
    cand = [k for k in range(1, len(nov) - 1)
            if nov[k] >= thr and nov[k] >= nov[k - 1] and nov[k] > nov[k + 1]]
    gap = max(1, int(round(MIN_GAP_S * rate_hz)))
    kept: list[int] = []
    for k in sorted(cand, key=lambda k: -nov[k]):
        if all(abs(k - q) >= gap for q in kept):
            kept.append(k)
    return np.array(sorted(kept), dtype=np.int64) + lo


def _profiles(x, frames, span: int) -> np.ndarray:
    """Unit mean feature rows of the ``span`` frames from each of ``frames``."""
    x = np.asarray(x)
    idx = np.minimum(np.asarray(frames)[:, None] + np.arange(span)[None, :], len(x) - 1)
    v = x[idx].astype(np.float64).mean(axis=1)
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 0)


def match_onsets(oa, ob, start, end, rates, chroma=None, span: int = 4, predict=None):
    """Matched onset cells ``(i, j)`` strictly between the cells ``start`` and ``end``,
    in order: the best-scoring increasing chain of onset pairs. A pair scores
    ``1 - dev / MAX_DEVIATION - (1 - cos)`` (``dev`` its distance in s from the straight
    line ``start`` -> ``end``, ``cos`` the similarity of the pitch-class profiles of the
    ``span`` frames after each onset, from ``chroma = (x, y)``), and only pairs scoring
    above 0 count; the slope between consecutive cells of the chain (ends included) stays
    within :data:`SLOPE_FACTOR` of the line's."""
    (i0, j0), (i1, j1) = start, end
    if i1 <= i0 or j1 <= j0:
        return []
    ra, rb = rates
    slope = (j1 - j0) / (i1 - i0)
    oa = np.asarray([a for a in oa if i0 < a < i1], dtype=np.int64)
    ob = np.asarray([b for b in ob if j0 < b < j1], dtype=np.int64)
    if not len(oa) or not len(ob):
        return []
    pred = j0 + slope * (oa - i0) if predict is None else np.asarray(predict(oa), float)
    dev = np.abs(ob[None, :] - pred[:, None]) / rb
    score = 1.0 - dev / MAX_DEVIATION_S
    if chroma is not None:
        pa, pb = _profiles(chroma[0], oa, span), _profiles(chroma[1], ob, span)
        score -= 1.0 - pa @ pb.T
    good = (dev <= MAX_DEVIATION_S) & (score > 0)
    # only unambiguous pairs: each onset the other's best-scoring partner
    masked = np.where(good, score, -np.inf)
    good &= (masked == masked.max(axis=1, keepdims=True)) \
        & (masked == masked.max(axis=0, keepdims=True))
    ka, kb = np.nonzero(good)
    cands = [(int(oa[x]), int(ob[y]), float(score[x, y])) for x, y in zip(ka, kb, strict=True)]
    cands.sort()

    def ok(p, q):
        di, dj = q[0] - p[0], q[1] - p[1]
        if di <= 0 or dj <= 0:
            return False
        s = dj / di
        return slope / SLOPE_FACTOR <= s <= slope * SLOPE_FACTOR

    n = len(cands)
    best = np.full(n, -np.inf)
    back = np.full(n, -1)
    for k, c in enumerate(cands):
        if ok(start, c):
            best[k] = c[2]
        for q in range(k):
            if best[q] > -np.inf and ok(cands[q], c) and best[q] + c[2] > best[k]:
                best[k] = best[q] + c[2]
                back[k] = q
    ends = [k for k in range(n) if best[k] > -np.inf and ok(cands[k], end)]
    if not ends:
        return []
    k = max(ends, key=lambda k: best[k])
    chain = []
    while k >= 0:
        chain.append((cands[k][0], cands[k][1]))
        k = int(back[k])
    return chain[::-1]


def _row_index(path, i: int, side: str) -> int:
    if side == "first":
        return int(np.searchsorted(path[:, 0], i, side="left"))
    return int(np.searchsorted(path[:, 0], i, side="right")) - 1


def _shifted(seg, start, chain, end, predict, min_shift: int):
    """The old path ``seg`` (from ``start`` to ``end``) moved on B by a correction that is
    0 at both ends and ``b - old(a)`` at each matched onset ``(a, b)`` whose old mapping
    is at least ``min_shift`` frames off (else 0: the features already put it there),
    linear in A between them; the old path's own shape is kept in between. None when no
    onset needs a correction."""
    ci = [start[0]] + [a for a, _ in chain] + [end[0]]
    corr = [0.0] + [float(b - predict(a)) for a, b in chain] + [0.0]
    corr = [c if abs(c) >= min_shift else 0.0 for c in corr]
    if not any(corr):
        return None
    rows = seg[:, 0]
    j = seg[:, 1] + np.interp(rows, ci, corr)
    first, last = rows[0], rows[-1]
    n = last - first + 1
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    np.minimum.at(lo, rows - first, j)
    np.maximum.at(hi, rows - first, j)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return None  # a path that skips rows of A: not one of the engine's
    lo = np.round(lo).astype(np.int64)
    hi = np.round(hi).astype(np.int64)
    lo[0], hi[-1] = start[1], end[1]
    lo = np.minimum(np.maximum.accumulate(lo), end[1])
    hi = np.minimum(np.maximum(np.maximum.accumulate(hi), lo), end[1])
    lo[0] = start[1]
    hi[-1] = end[1]
    # a row's run reaches up to the next row's first cell (minus one): a connected path
    hi[:-1] = np.maximum(hi[:-1], lo[1:] - 1)
    lo[1:] = np.maximum(lo[1:], hi[:-1])
    lo[1:] = np.minimum(lo[1:], hi[:-1] + 1)
    counts = hi - lo + 1
    i_out = np.repeat(np.arange(first, last + 1), counts)
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    j_out = starts + np.arange(len(i_out))
    return np.column_stack([i_out, j_out]).astype(np.int64)


def _cell_index(path, cell):
    k = int(np.searchsorted(path[:, 0], cell[0], side="left"))
    while k < len(path) and path[k, 0] == cell[0]:
        if path[k, 1] == cell[1]:
            return k
        k += 1
    return None


def refine_near_anchors(path, anchors, knots, feats_a, feats_b, rates, chroma=None,
                        through: int = 2, reused=()):
    """``path`` with the span within :data:`WINDOW_S` of each anchor cell re-laid through
    matched onsets (see the module).

    Parameters
    ----------
    path : (K, 2) int array
        Passes through every knot.
    anchors : sequence of (i, j)
        The hard anchors' cells.
    knots : sequence of (i, j)
        Every cell the path must keep (anchors, their diagonal cells, region ends): a
        window stops at the nearest knot that is not its own anchor's.
    feats_a, feats_b : sequences of (N, D) / (M, D) arrays
        The features the onsets are found in (same order on both sides).
    rates : (rate_a_hz, rate_b_hz)
    chroma : (x, y) or None
        Pitch-class (or any) features the matched onsets must resemble in.
    through : int
        Frames of the anchor's diagonal the path keeps each side.
    reused : set of ((i, j), (i, j))
        Segments (start, end cells) taken over from an earlier refined result: a side of
        an anchor whose segment is one of them was refined then and is left alone (so a
        re-solve of other segments gives the same path there).

    Returns
    -------
    (path, report) : the new path (every knot still on it) and, per anchor, the number of
    onsets matched before and after it.
    """
    path = np.asarray(path, dtype=np.int64)
    ra, rb = float(rates[0]), float(rates[1])
    w = int(round(WINDOW_S * ra))
    knots = sorted({tuple(map(int, k)) for k in knots})
    report = []
    for ai, aj in sorted({tuple(map(int, a)) for a in anchors}):
        own = {(ai + d, aj + d) for d in range(-through, through + 1)}
        left_in = (ai - through, aj - through) if (ai - through, aj - through) in own \
            and _cell_index(path, (ai - through, aj - through)) is not None else (ai, aj)
        right_in = (ai + through, aj + through) \
            if _cell_index(path, (ai + through, aj + through)) is not None else (ai, aj)
        others = [k for k in knots if k not in own]
        lo_i = max([ai - w, int(path[0, 0])] + [k[0] for k in others if k[0] < ai])
        hi_i = min([ai + w, int(path[-1, 0])] + [k[0] for k in others if k[0] > ai])
        counts = []
        for side in ("before", "after"):
            if side == "before":
                k0 = int(np.searchsorted(path[:, 0], lo_i, side="right")) - 1
                k0 = max(k0, 0)
                start = tuple(map(int, path[k0]))
                end = left_in
            else:
                k1 = int(np.searchsorted(path[:, 0], hi_i, side="left"))
                k1 = min(k1, len(path) - 1)
                start = right_in
                end = tuple(map(int, path[k1]))
            if any((side == "before" and tuple(e) == end)
                   or (side == "after" and tuple(b) == start) for b, e in reused):
                counts.append(0)
                continue
            ks, ke = _cell_index(path, start), _cell_index(path, end)
            if ks is None or ke is None or ke - ks < 2 or end[0] <= start[0] \
                    or end[1] <= start[1]:
                counts.append(0)
                continue
            oa = onset_frames(feats_a, start[0], end[0] + 1, ra)
            ob = onset_frames(feats_b, start[1], end[1] + 1, rb)
            seg = path[ks:ke + 1]
            rows, inv = np.unique(seg[:, 0], return_inverse=True)
            cols = np.bincount(inv, weights=seg[:, 1]) / np.bincount(inv)

            def predict(a, rows=rows, cols=cols):
                return np.interp(a, rows, cols)

            chain = match_onsets(oa, ob, start, end, (ra, rb), chroma, predict=predict)
            counts.append(len(chain))
            if not chain:
                continue
            # the outer end: the old path a little beyond the outermost match (it is kept
            # from there on), not the window's edge: a straight line to the edge would
            # smear a held note (a fermata) over the whole span
            if side == "before":
                mi, mj = chain[0]
                join = max(JOIN_FRAMES, int(abs(float(predict(mi)) - mj)))
                k = _row_index(path, mi - join, "last")
                while k > ks and not (path[k, 0] < mi and path[k, 1] < mj):
                    k -= 1
                if k > ks:
                    start, ks = tuple(map(int, path[k])), k
            else:
                mi, mj = chain[-1]
                join = max(JOIN_FRAMES, int(abs(float(predict(mi)) - mj)))
                k = _row_index(path, mi + join, "first")
                while k < ke and not (path[k, 0] > mi and path[k, 1] > mj):
                    k += 1
                if k < ke:
                    end, ke = tuple(map(int, path[k])), k
            new = _shifted(path[ks:ke + 1], start, chain, end, predict,
                           max(1, int(round(MIN_SHIFT_S * rb))))
            if new is None:
                continue
            path = np.concatenate([path[:ks], new, path[ke + 1:]])
        report.append({"anchor": [ai, aj], "matched_before": counts[0],
                       "matched_after": counts[1]})
    return path, report
