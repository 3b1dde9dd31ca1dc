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
path is left as it was.

:func:`refine_at_changes` (``recompute(refine="changes")``) takes its cells from the audio
instead: the chord changes of A near the anchor, located in the semitone spectra of both
recordings (:func:`semitone_energies`, :func:`change_time`), their lags behind the truth
measured at the anchors themselves. Qt-free; used by :func:`core.constraints.recompute`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["refine_near_anchors", "onset_frames", "match_onsets", "WINDOW_S",
           "refine_at_changes", "semitone_energies", "change_frames", "change_time"]

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
    return _connected(first, last, lo, hi, start, end)


def _laid(seg, start, chain, end, predict, min_shift: int, every: bool = False):
    """The old path ``seg`` (``start`` to ``end``) laid through measured cells: between
    two consecutive cells (the ends included) of which one is at least ``min_shift``
    frames off the old path, a straight line (the old path's turns there are the
    features' errors the cells correct; a cell within ``min_shift`` stays where the old
    path has it); elsewhere the old path. With ``every``, once one cell is that far off
    every cell moves (the old path is wrong there: that it maps a neighbour close to its
    cell is no evidence). None when no cell is that far off."""
    pts = [tuple(map(float, start))]
    moved = [False]
    if every and any(abs(b - float(predict(a))) >= min_shift for a, b in chain):
        min_shift = 1
    for a, b in chain:
        off = abs(b - float(predict(a))) >= min_shift
        pts.append((float(a), float(b) if off else float(predict(a))))
        moved.append(off)
    pts.append(tuple(map(float, end)))
    moved.append(False)
    if not any(moved):
        return None
    rows = seg[:, 0]
    first, last = int(rows[0]), int(rows[-1])
    lo = np.full(last - first + 1, np.inf)
    hi = np.full(last - first + 1, -np.inf)
    np.minimum.at(lo, rows - first, seg[:, 1].astype(np.float64))
    np.maximum.at(hi, rows - first, seg[:, 1].astype(np.float64))
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return None  # a path that skips rows of A: not one of the engine's
    for k in range(len(pts) - 1):
        if not (moved[k] or moved[k + 1]):
            continue
        (a0, b0), (a1, b1) = pts[k], pts[k + 1]
        r = np.arange(int(np.ceil(a0)), int(np.floor(a1)) + 1)
        r = r[(r >= first) & (r <= last)]
        js = np.interp(r, [a0, a1], [b0, b1])
        lo[r - first] = js
        hi[r - first] = js
    return _connected(first, last, lo, hi, start, end)


def _connected(first, last, lo, hi, start, end):
    """The connected monotone path over the rows ``first..last`` whose row r spans about
    ``lo[r - first]..hi[r - first]`` (rounded, then made monotone), from ``start`` to
    ``end``."""
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
                        through: int = 2, reused=(), chains=None,
                        min_shift_s: float = MIN_SHIFT_S, every: bool = False):
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
    chains : dict or None
        Per anchor cell, the cells the path must pass near instead of matched onsets
        (:func:`refine_at_changes`); the features are then not read.
    min_shift_s : float
        A matched cell moves the path only where the old path maps it at least this far
        (s of B) off.
    every : bool
        With ``chains``: once one cell of a side is ``min_shift_s`` off, every cell of
        the side moves the path.

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
            seg = path[ks:ke + 1]
            rows, inv = np.unique(seg[:, 0], return_inverse=True)
            cols = np.bincount(inv, weights=seg[:, 1]) / np.bincount(inv)

            def predict(a, rows=rows, cols=cols):
                return np.interp(a, rows, cols)

            if chains is not None:
                chain = _monotone([c for c in chains.get((ai, aj), ())
                                   if start[0] < c[0] < end[0] and start[1] < c[1] < end[1]],
                                  start, end)
            else:
                oa = onset_frames(feats_a, start[0], end[0] + 1, ra)
                ob = onset_frames(feats_b, start[1], end[1] + 1, rb)
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
            if chains is not None:
                new = _laid(path[ks:ke + 1], start, chain, end, predict,
                            max(1, int(round(min_shift_s * rb))), every)
            else:
                new = _shifted(path[ks:ke + 1], start, chain, end, predict,
                               max(1, int(round(min_shift_s * rb))))
            if new is None:
                continue
            path = np.concatenate([path[:ks], new, path[ke + 1:]])
        report.append({"anchor": [ai, aj], "matched_before": counts[0],
                       "matched_after": counts[1]})
    return path, report


def _monotone(cells, start, end):
    """The longest chain of ``cells`` (sorted by A) strictly increasing on both axes
    strictly between ``start`` and ``end`` (ties: the earlier cells)."""
    cells = sorted(set(cells))
    n = len(cells)
    length = [0] * n
    back = [-1] * n
    for k, c in enumerate(cells):
        if not (start[0] < c[0] < end[0] and start[1] < c[1] < end[1]):
            continue
        length[k] = 1
        for q in range(k):
            if length[q] and cells[q][0] < c[0] and cells[q][1] < c[1] \
                    and length[q] + 1 > length[k]:
                length[k], back[k] = length[q] + 1, q
    if not any(length):
        return []
    k = int(np.argmax(length))
    chain = []
    while k >= 0:
        chain.append(cells[k])
        k = back[k]
    return chain[::-1]


# -- chord changes measured in the audio --------------------------------------------------

#: the spectra compared across a change are taken from this far (s) on either side of it
CHANGE_GAP_S = 0.1
#: and at most this far (s)
CHANGE_SPAN_S = 0.6
#: a change is looked for on B within this (s) of where the old path puts it
CHANGE_SEARCH_S = 0.15
#: and within this share of the time to the nearest other change (s): a change further
#: off than half the way to the next one is more likely that one than this one
CHANGE_SEARCH_SHARE = 0.5
#: an anchor calibrates the lags when a change of A is within this (s) of it
CHANGE_AT_ANCHOR_S = 0.05
#: a lag measured at an anchor longer than this (s) is a change mistaken, not a lag
CHANGE_MAX_LAG_S = 0.1
#: the spectra before and after a change differ at least this much (1 - cosine)
CHANGE_CONTRAST = 0.02


def semitone_energies(signal, sample_rate: float, rate_hz: float) -> np.ndarray:
    """Log energies in the 88 semitone bands (MIDI 21-108) of a recording at ``rate_hz``
    (frame k centred at k / rate_hz s), float32 (T, 88): the spectra
    :func:`refine_at_changes` locates chord changes in.

    Notes
    -----
    The energies of :func:`core.features.audio.pitch_energy` (the chroma and DLNCO
    features' own, tuned, three STFT resolutions; memoized there), compressed as
    ``log(1 + 1e4 e / ref)`` with ``ref`` the 99th percentile of the frame totals. O(T)
    FFTs; about 0.3 s for a minute of audio.
    """
    from ..features.audio import estimate_tuning, frame_centers, pitch_energy

    x = np.asarray(signal, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"signal: expected a non-empty mono signal, got shape {x.shape}")
    centers = frame_centers(x.shape[0], float(sample_rate), float(rate_hz))
    tuning = estimate_tuning(x, float(sample_rate))
    return pitch_energy(x, float(sample_rate), centers, float(tuning)).astype(np.float32)


def _compressed(energy, lo: int, hi: int):
    """``log(1 + 1e4 e / ref)`` of the frames ``lo..hi-1`` (clipped), ``ref`` the 99th
    percentile of their frame totals: the level of the passage, not of the recording."""
    e = np.asarray(energy[max(lo, 0):max(min(hi, len(energy)), max(lo, 0))], np.float64)
    total = e.sum(axis=1)
    ref = float(np.percentile(total, 99)) if total.size else 0.0
    return np.log1p(1e4 * e / (ref if ref > 0 else 1.0))


def change_frames(energy, lo: int, hi: int, rate_hz: float) -> np.ndarray:
    """Frames in ``[lo, hi)`` where the spectrum changes: peaks of the summed positive
    difference of ``energy`` (T, D) (3-frame mean) above its mean plus half a standard
    deviation over the span, at least :data:`MIN_GAP_S` apart (the stronger kept)."""
    lo, hi = max(int(lo), 1), min(int(hi), len(energy))
    if hi - lo < 3:
        return np.zeros(0, np.int64)
    rise = np.maximum(np.diff(np.asarray(energy[lo - 1:hi], np.float64), axis=0), 0.0)
    nov = np.convolve(rise.sum(axis=1), np.ones(3) / 3.0, mode="same")
    thr = nov.mean() + 0.5 * nov.std()
    cand = [k for k in range(1, len(nov) - 1)
            if nov[k] >= thr and nov[k] >= nov[k - 1] and nov[k] > nov[k + 1]]
    gap = max(1, int(round(MIN_GAP_S * rate_hz)))
    kept: list[int] = []
    for k in sorted(cand, key=lambda k: -nov[k]):
        if all(abs(k - q) >= gap for q in kept):
            kept.append(k)
    return np.array(sorted(kept), dtype=np.int64) + lo


def _unit(v):
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 0)


def change_time(energy, guess: float, before: float, after: float, rate_hz: float,
                search_s: float = CHANGE_SEARCH_S):
    """The frame (fractional) where the spectrum of ``energy`` turns from the one before
    a change near ``guess`` to the one after it, or None.

    The mean spectrum of the frames from ``max(before, guess - CHANGE_SPAN_S)`` to
    ``guess - CHANGE_GAP_S`` is the old state, that of ``guess + CHANGE_GAP_S`` to
    ``min(after, guess + CHANGE_SPAN_S)`` the new one; within ``search_s`` of ``guess``
    the time is where the cosine to the new state overtakes the cosine to the old one
    (the crossing nearest the steepest rise of their difference, interpolated between
    frames). A slow attack (bowed strings) or a long release moves this point by
    a lag that is much the same at every change of a recording: :func:`refine_at_changes`
    measures it at the anchors.
    """
    energy = np.asarray(energy)
    n = len(energy)
    gap, span = CHANGE_GAP_S * rate_hz, CHANGE_SPAN_S * rate_hz
    search = search_s * rate_hz

    def state(t0, t1):
        j0, j1 = int(round(max(t0, 0))), int(round(min(t1, n)))
        if j1 - j0 < 4:
            return None
        return _unit(np.asarray(energy[j0:j1], np.float64).mean(axis=0))

    old = state(max(before, guess - span) + gap, guess - gap)
    new = state(guess + gap, min(after, guess + span) - gap)
    if old is None or new is None or 1.0 - float(old @ new) < CHANGE_CONTRAST:
        return None
    j0 = max(int(round(guess - search)), 0)
    j1 = min(int(round(guess + search)) + 1, n)
    if j1 - j0 < 4:
        return None
    frames = _unit(np.asarray(energy[j0:j1], np.float64))
    d = frames @ new - frames @ old
    d = np.convolve(d, np.ones(3) / 3.0, mode="same")
    if d[1] >= 0 or d[-2] <= 0:
        return None  # no turn from the old state to the new one in the span
    up = np.nonzero((d[1:-2] < 0) & (d[2:-1] >= 0))[0] + 1
    if not len(up):
        return None
    k = int(up[np.argmin(np.abs(up - int(np.argmax(np.diff(d)))))])
    return j0 + k + float(d[k] / (d[k] - d[k + 1]))


#: change_time is re-run from the time it found this many times (its states re-centred)
CHANGE_ITERATIONS = 3
#: and may move off the first guess by this share of the search (s) in all
LOCATED_DRIFT = 1.5


def _located(energy, guess, before, after, rate, search, iterations=CHANGE_ITERATIONS):
    """:func:`change_time` re-run from the time it found (the spectra before and after
    re-centred on it) until it moves less than a frame, at most ``iterations`` times;
    None when a run finds nothing or the time leaves ``guess +- LOCATED_DRIFT * search``
    (s)."""
    t = guess
    for _ in range(iterations):
        nt = change_time(energy, t, before, after, rate, search)
        if nt is None or abs(nt - guess) > LOCATED_DRIFT * search * rate:
            return None
        done = abs(nt - t) < 1.0
        t = nt
        if done:
            break
    return t


#: A's crossing (:func:`change_time`) and flux peak (:func:`change_frames`) of a change
#: lie as far apart as at the anchor's change within this (s), or the change of A is
#: not located (a slow attack, bowed: a crossing off by tens of milliseconds)
CHANGE_AGREE_S = 0.02
#: from this many anchors whose lags were measured on, one cell of a side of an anchor
#: :data:`MIN_SHIFT_S` off the old path moves every cell of the side (``_laid(every=)``)
CHANGE_EVERY_ANCHORS = 2
#: a change whose spectrum before is this much weaker than after is an entry after a rest
CHANGE_ENTRY_RATIO = 0.05


def _entry(compressed, t, rate):
    """Whether the change at frame ``t`` of a compressed spectrum (:func:`_compressed`) is
    an entry after a rest: the energy of the 0.08-0.3 s before it under
    :data:`CHANGE_ENTRY_RATIO` times that of the 0.08-0.3 s after it. There the
    spectra's windows hear the new notes before they start, and the crossing comes
    early (bwv66.6: 2-84 ms before the note instead of 30-60 ms after), so an entry is
    not located."""
    e = np.expm1(np.asarray(compressed, np.float64)).sum(axis=1)
    near, far = int(round(0.08 * rate)), int(round(0.3 * rate))
    t = int(round(t))
    before, after = e[max(t - far, 0):max(t - near, 0)], e[t + near:t + far]
    if not len(before) or not len(after):
        return False
    return float(before.mean()) < CHANGE_ENTRY_RATIO * float(after.mean())


def _propagated(la, lb, a0, b0, cps, k_at, anchor, lag, rates, on_b, slope, window):
    """The changes ``cps`` of A (absolute frames) located in A and B outward from the
    anchor's own change, one after the other: a change is looked for on B where the last
    one located and the local tempo put it (the mean tempo from the anchor to the last
    change located, within :data:`SLOPE_FACTOR` of the path's overall ``slope``), or,
    when that finds nothing, where the old path ``on_b`` maps it; the first change of a
    side is looked for where the old path maps it first, then where the path's overall
    ``slope`` from the anchor puts it. A side stops at its first change not located
    (an entry after a rest, :func:`_entry`, is not located): neither the tempo nor a
    straight line of the path is carried over a change the audio cannot place. Only
    changes within ``window`` (frames of A) are located; the first beyond each of its
    ends only bounds the spectra.
    Returns ``(ta, c, tb)`` per change located (absolute frames)."""
    ra, rb = rates
    ai, aj = anchor
    ta0, tb0 = ai + lag[0], aj + lag[2]
    out = []
    for direction in (1, -1):
        seq = cps[k_at + 1:] if direction > 0 else cps[:k_at][::-1]
        pa, pb, pc, s = ta0, tb0, cps[k_at], None
        for k, c in enumerate(seq):
            if not window[0] <= c < window[1]:
                break  # beyond the window: only the bound of the last change inside
            outer = seq[k + 1] if k + 1 < len(seq) else c + direction * CHANGE_SPAN_S * ra
            lo_a, hi_a = (pc, outer) if direction > 0 else (outer, pc)
            search = min(CHANGE_SEARCH_S,
                         CHANGE_SEARCH_SHARE * min(abs(c - pc), abs(outer - c)) / ra)
            ta = change_time(la, c - a0, lo_a - a0, hi_a - a0, ra, search)
            if ta is None or abs(ta + a0 - c - (lag[0] - lag[1])) > CHANGE_AGREE_S * ra:
                break  # a change not located: neither tempo nor line is carried over it
            ta += a0
            guesses = [on_b(ta) + lag[2]]
            guesses.insert(0 if s is not None else 1, pb + (s or slope) * (ta - pa))
            tb = None
            for guess in guesses:
                loc = s if s is not None else slope
                out_b = guess + loc * (outer - c)
                lo_b, hi_b = (pb, out_b) if direction > 0 else (out_b, pb)
                tb = _located(lb, guess - b0, lo_b - b0, hi_b - b0, rb,
                              search * loc * ra / rb)
                if tb is not None:
                    break
            if tb is not None:
                tb += b0
                if (tb - pb) * direction <= 0 or _entry(la, ta - a0, ra) \
                        or _entry(lb, tb - b0, rb):
                    tb = None
            if tb is None:
                break
            out.append((ta, float(c), tb))
            pa, pb, pc = ta, tb, c
            s = min(max((tb - tb0) / (ta - ta0), slope / SLOPE_FACTOR), slope * SLOPE_FACTOR)
    return sorted(out)


def refine_at_changes(path, anchors, knots, energies, rates, *, through: int = 2,
                      reused=()):
    """``path`` re-laid near each hard anchor through the chord changes of the two
    recordings (the audio's own spectra, not the solve's features).

    Within :data:`WINDOW_S` of each anchor, the changes of A (:func:`change_frames`) are
    located precisely in both recordings (:func:`change_time`), outward from the
    anchor's own change one after the other (:func:`_propagated`: on B where the last
    one located and the tempo since the anchor put them, the old path's mapping only a
    fallback; a side stops at its first change not located), and each pair becomes a
    cell the path is laid through (:func:`refine_near_anchors`, every knot kept; a
    straight line between consecutive cells when one of them is at least
    :data:`MIN_SHIFT_S` off the old path, the old path elsewhere and a little beyond the
    outermost cell; from :data:`CHANGE_EVERY_ANCHORS` anchors with measured lags on, one
    cell of a side that far off moves every cell of the side). Both recordings answer a
    change with a lag (an attack, a window);
    an anchor at a change of A measures the two lags (the anchor is the truth), and the
    median over the anchors corrects every pair. On A the change is the crossing of its
    spectra or the peak of its flux, whichever the anchors measure the steadier lag of
    (two anchors or more; else the crossing). An anchor at no change found in both
    recordings (or with a lag over :data:`CHANGE_MAX_LAG_S`) leaves its neighbourhood as
    it is; with none, nothing is re-laid.

    Parameters
    ----------
    path : (K, 2) int array
    anchors, knots, rates, through, reused
        As :func:`refine_near_anchors`.
    energies : ((N, D) array, (M, D) array)
        Spectra of A and B on the path's frame grids (:func:`semitone_energies`).

    Returns
    -------
    (path, report) : as :func:`refine_near_anchors`; each report also has ``changes``
    (the pairs found) and ``lag_s`` (the lags of A and B measured at the anchor, or None).

    Notes
    -----
    O(W D) per anchor (W the window in frames): a few milliseconds.
    """
    path = np.asarray(path, dtype=np.int64)
    ea, eb = energies
    ra, rb = float(rates[0]), float(rates[1])
    if len(ea) < path[-1, 0] + 1 or len(eb) < path[-1, 1] + 1:
        raise ValueError("energies: fewer frames than the path spans")
    w = int(round(WINDOW_S * ra))
    rows, inv = np.unique(path[:, 0], return_inverse=True)
    cols = np.bincount(inv, weights=path[:, 1]) / np.bincount(inv)

    def on_b(i):
        return float(np.interp(i, rows, cols))

    anchors = sorted({tuple(map(int, a)) for a in anchors})
    overall = (path[-1, 1] - path[0, 1]) / max(path[-1, 0] - path[0, 0], 1)
    found = {}
    lags = []
    margin_a = int(round((WINDOW_S + 2 * CHANGE_SPAN_S) * ra))
    for ai, aj in anchors:
        lo, hi = max(ai - w, int(path[0, 0])), min(ai + w + 1, int(path[-1, 0]) + 1)
        # the spectra of the passage, compressed relative to its own level
        a0 = max(ai - margin_a, 0)
        la = _compressed(ea, a0, ai + margin_a)
        b_lo = int(on_b(ai - margin_a)) - int(CHANGE_SPAN_S * rb)
        b0 = max(b_lo, 0)
        lb = _compressed(eb, b0, int(on_b(ai + margin_a)) + int(CHANGE_SPAN_S * rb) + 1)
        cps = [int(c) + a0 for c in change_frames(la, lo - a0, hi - a0, ra)]
        pairs, lag = [], None
        # the anchor's own change measures the two lags; its neighbours are located
        # outward from it (:func:`_propagated`)
        for k, c in enumerate(cps):
            if abs(c - ai) > CHANGE_AT_ANCHOR_S * ra:
                continue
            before = cps[k - 1] if k else c - CHANGE_SPAN_S * ra
            after = cps[k + 1] if k + 1 < len(cps) else c + CHANGE_SPAN_S * ra
            guess = aj + (c - ai) * rb / ra
            search = min(CHANGE_SEARCH_S,
                         CHANGE_SEARCH_SHARE * min(c - before, after - c) / ra)
            ta = change_time(la, c - a0, before - a0, after - a0, ra, search)
            tb = change_time(lb, guess - b0,
                             (on_b(before) if k else guess - CHANGE_SPAN_S * rb) - b0,
                             (on_b(after) if k + 1 < len(cps)
                              else guess + CHANGE_SPAN_S * rb) - b0, rb,
                             search * (on_b(after) - on_b(before)) / max(after - before, 1)
                             * ra / rb)
            if ta is None or tb is None:
                continue
            ta, tb = ta + a0, tb + b0
            if max(abs(ta - ai) / ra, abs(tb - aj) / rb) <= CHANGE_MAX_LAG_S:
                lag = (ta - ai, float(c) - ai, tb - aj)
                # the nearest change beyond each end of the window bounds the spectra
                # after the outermost changes inside
                span = int(round(CHANGE_SPAN_S * ra))
                out_lo = [int(x) + a0 for x in change_frames(la, lo - span - a0, lo - a0, ra)]
                out_hi = [int(x) + a0 for x in change_frames(la, hi - a0, hi + span - a0, ra)]
                pairs = _propagated(la, lb, a0, b0, out_lo[-1:] + cps + out_hi[:1],
                                    k + len(out_lo[-1:]), (ai, aj), lag, (ra, rb), on_b,
                                    overall, (lo, hi))
                break
        if lag is not None:
            lags.append(lag)
        found[(ai, aj)] = (pairs, lag)
    # A's change is at the crossing of its spectra or at the peak of its flux, whichever
    # the anchors measure the steadier lag of (a sharp onset: the peak; a slow one: the
    # crossing); with a single anchor, the crossing, as on B
    lags = np.array(lags).reshape(-1, 3)
    use = 0
    if len(lags) >= 2 and np.ptp(lags[:, 1]) < np.ptp(lags[:, 0]):
        use = 1
    report_extra = {a: {"changes": len(found[a][0]),
                        "lag_s": None if found[a][1] is None else
                        [round(found[a][1][use] / ra, 4), round(found[a][1][2] / rb, 4)]}
                    for a in anchors}
    if not len(lags):
        return path, [dict(anchor=list(a), matched_before=0, matched_after=0,
                           **report_extra[a]) for a in anchors]
    lag_a, lag_b = float(np.median(lags[:, use])), float(np.median(lags[:, 2]))
    # an anchor at no change located in both recordings is left alone: where the audio
    # cannot place the anchor's own event, it is not trusted to place its neighbours
    chains = {a: [(int(round(p[use] - lag_a)), int(round(p[2] - lag_b))) for p in found[a][0]]
              for a in anchors if found[a][1] is not None}
    new, report = refine_near_anchors(path, anchors, knots, None, None, rates,
                                      through=through, reused=reused, chains=chains,
                                      every=len(lags) >= CHANGE_EVERY_ANCHORS)
    for r in report:
        r.update(report_extra[tuple(r["anchor"])])
    return new, report
