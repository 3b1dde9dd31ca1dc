"""Alignment of recordings whose order differs: pieces found with jumps, then each piece
aligned by the default pipeline's engine.

``align_structure(rec_a, rec_b, structure="auto")``:

1. The default pipeline's features (``core.pipeline``), computed once; the monotone
   result (``structure="auto"``) is the default pipeline's, exactly.
2. At about 10 frames per second, the local costs are averaged along the diagonal over
   ``_SMOOTH_S`` either side (speech: along lines of the slopes ``_SLOPES``, the least
   mean kept, since two speakers seldom keep one tempo); for music each B frame's costs
   are centred on their median over A (``_CENTRED``: an onset term costs more in every
   row where B's notes start loudly), and the rows of A dearer than most (their median
   above the ``_DEAR_ROWS_QUANTILE`` of the rows' medians: where A's notes start loudly)
   are lowered to that quantile; then shifted and scaled so that a typical match
   (the median cost along the monotone path) is 0 and a typical unrelated pair of frames
   (the median of all costs) is 1.
3. A jump DP (:mod:`core._kernels.jumps`, after JumpDTW): every frame of B is matched
   to one frame of A, monotonically within a piece; a new piece starts anywhere on A for
   ``jump_s`` seconds' worth of mismatch (1.5 s; speech 1.0 s), and B frames may be
   matched to nothing (0.5 per frame, half the jump penalty to enter and to leave). The
   path's ends are pinned to A's (``_ENDS_W``: starting or ending elsewhere costs up to
   half a jump), so a first section is not placed on a copy just before the next one to
   save a jump.
4. Pieces shorter than ``min_piece_s`` are dropped, pieces that continue one another
   (a small slip on A) are merged; each remaining piece is solved by the engine
   (:func:`core.warping.staged_dtw`, the pipeline's recipe) from its first to its last
   cell, at the full rate, on parts that overlap their neighbours; each junction is then
   re-solved at the full rate by a local JumpDTW (:mod:`core.structure.junctions`:
   within ``_REFINE_S`` seconds either side, one jump anywhere, A ends free; on the
   global weights, as the path search, not the local stages'), which also closes a gap
   of up to ``_GAP_S`` seconds that the pieces left between them.
   A split there gains ``_SPLICE_W`` times how much more discontinuous B itself is
   across it, over ``_SPLICE_S`` seconds, than A is where the pieces leave and join it
   (a splice bonus; see ``benchmarks/structure/results.md``), and pays
   ``_SPLICE_MATCH_W`` times how far that discontinuity of B is from A's across the
   jump the split makes. A junction that moved
   more than ``_SETTLE_S`` is re-solved once in a window centred on its new place.
5. Units (:mod:`core.structure.segments`) of both recordings, their kinds and a
   unit-level assignment (normalized unit DTW distances, ``linear_sum_assignment`` with
   a no-match cost, each A unit usable twice) are computed and reported in
   ``diagnostics["units"]`` for display; the path does not depend on them (cut points
   in B need not fall on unit boundaries).
6. ``"auto"`` switches to the pieces only when the DP found a jump and the monotone path
   has a stretch of at least ``min_stretch_s`` of high cost (normalized cost above 0.5,
   smoothed over 1 s), and says why in ``diagnostics["structure"]``.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings

import numpy as np

from .._progress import Monitor
from ..options import STRUCTURES
from .junctions import refine_junctions, self_costs
from .order import _MIN_STRETCH_S, high_cost_runs
from .piecewise import PiecewiseAlignment
from .segments import cluster_units, frame_costs, segment, unit_costs

__all__ = ["align_structure", "find_pieces", "analyse_units", "assign_units", "unit_features",
           "STRUCTURES"]


_DP_RATE_HZ = 10.0
_UNIT_RATE_HZ = 2.0
_JUMP_S = 1.5
# per material, the jump's price where it differs (seconds): speech, on the sharper costs
# of its slopes, pays less, so that a moved section of 4 s pays its two jumps (issue 17,
# results.md: on the diagonal alone a 1.0 s jump made extra jumps)
_JUMP_S_OF = {"speech": 1.0}
_ENDS_W = 0.5
_NULL_COST = 0.5
_HOLD_W = 0.5
_MIN_PIECE_S = 2.0
_SMOOTH_S = 0.5
# per material, the slopes (rows of A per column of B) of the lines the local costs are
# averaged along, the least mean kept; a material not listed: the diagonal alone. Speech:
# seven slopes 2^-0.75 .. 2^0.75 (0.59-1.68) in quarter octaves (chosen on the structure
# benchmark's speech pairs, seeds 0-1, 4-5, 6-7; five in half octaves lost a moved
# section of speech_p02 move 7). Music keeps the diagonal: with the slopes music_p01 lost
# its copies (repeat 0 8 -> 77x, drop 0 1.1 -> 150x; issue 17, results.md)
_SLOPES = {"speech": tuple(2.0 ** (k / 4) for k in range(-3, 4))}
# the slopes follow the monotone path's tempo (_path_tempo) when it is more than
# _TEMPO_TOL away from 1 and its median over windows of _TEMPO_WINDOW_S seconds of B
# agrees with its overall slope within _TEMPO_AGREE (the public pairs: 0.85-1.29; changed
# pairs of benchmarks/structure/pairs.py, seeds 0-2: 0.64-1.57 where they agree, 6 of 270
# of seeds 3-21 beyond, repeats that make B half as long again; copies at 0.5-0.7x or
# 1.5x the tempo: beyond)
_TEMPO_WINDOW_S = 1.0
_TEMPO_TOL = 1.6
_TEMPO_AGREE = 1.15
# materials whose DP costs are centred per column of B (each B frame's costs less their
# median over A): music's DLNCO term (euclidean on onsets) costs more in every row where
# B's notes start loudly, so without it a stretch of B after a cut cost as much on its
# right place as unrelated frames and was left matched to nothing (issue 17,
# benchmarks/structure/results.md, music17f)
_CENTRED = ("music",)
_CENTRE_ROWS = 400
# for those materials, after the centring, the rows of A whose median cost lies above
# this quantile of the rows' medians are lowered to it (A's loud attacks; 1.0: none).
# The column centring took B's onset loudness out, not A's: in music_p01 A's rows at
# 21.2-21.6 s cost 2.4-2.6 against every B frame (the rows' median 1.1), so B went to
# A's other copy of that line (issue 17, benchmarks/structure/results.md, struct17g)
_DEAR_ROWS_QUANTILE = 0.8
_MERGE_S = 1.0
_GAP_S = 3.0
_JUNCTION_S = 1.0
_OVERLAP_S = 1.5
_REFINE_S = 2.5
# the junctions are refined on the global weights (those of the path search; for music
# chroma-led), not on the local stages' (for music with sharp onsets): together with the
# pinned ends, more junctions within 0.5 s (issue 17, benchmarks/structure/results.md)
_REFINE_GLOBAL = True
# 1.0: with the local weights it was not kept (no gain held out); on the global weights
# with the pinned ends it gains 3 cases within 1.5x on the tuning seeds (results.md)
_SPLICE_W = 1.0
_SPLICE_S = 0.1
# a split also pays _SPLICE_MATCH_W times how far B's discontinuity across it is from
# A's across the jump it makes (issue 17, results.md: the splice bonus alone pulled
# splits to sharp onsets of B just after a cut)
_SPLICE_MATCH_W = 1.0
# a junction that moved more than _SETTLE_S is re-solved once in a window centred on
# its new place: the first window's ends may lie on a stretch of a piece that the
# pieces' junction, now known to be off, had placed wrongly (issue 17, results.md)
_SETTLE_S = 0.5
# music: a refined split at most _SNAP_S after an onset of B moves back to it, so that a
# note starting just after a cut goes to the second piece (issue 17, results.md)
_SNAP_S = 0.02
_ONSET_SHARE = 0.1
_ONSET_LEVEL = 0.25
_BLOCK_COLUMNS = 256
_STATS_COLUMNS = 400
_STATS_BLOCKS = 16


class _DiagonalMean:
    """Local costs averaged along the diagonal over ``2 * radius + 1`` cells (the
    path enhancement of music structure analysis): a match must hold for about a
    second, so chords or phonemes that recur elsewhere stop looking like matches.

    With ``slopes`` (rows of A per column of B) other than ``(1.0,)``, the mean is taken
    along a line of each slope and the least kept (Müller and Kurth's multiple-tempo
    smoothing): where the two recordings go at different tempi the true path is not
    a diagonal, and a diagonal mean blurs it with its neighbours (issue 17, speech
    read by two speakers: benchmarks/structure/results.md)."""

    def __init__(self, source, radius, slopes=(1.0,)):
        self.source, self.radius = source, int(radius)
        self.n, self.m = source.n, source.m
        steps = np.arange(-self.radius, self.radius + 1)
        self.offsets = np.array([np.round(s * steps) for s in slopes], dtype=np.int64)

    def costs(self, r0, r1, c0, c1):
        n, m, L = self.n, self.m, self.radius
        reach = int(np.abs(self.offsets).max())
        a0, a1 = max(0, r0 - reach), min(n, r1 + reach)
        b0, b1 = max(0, c0 - L), min(m, c1 + L)
        from .._kernels.jumps import diagonal_mean, slope_mean

        c = np.ascontiguousarray(self.source.costs(a0, a1, b0, b1), dtype=np.float64)
        out = np.empty((r1 - r0, c1 - c0))
        if len(self.offsets) == 1 and np.array_equal(self.offsets[0], np.arange(-L, L + 1)):
            diagonal_mean(c, L, r0 - a0, c0 - b0, out)
        else:
            slope_mean(c, self.offsets, r0 - a0, c0 - b0, out)
        return out


def _sampled_medians(source, axis, count):
    """The median cost of each column of ``source`` over its rows (``axis=0``) or of
    each row over its columns (``axis=1``), taken on ``count`` rows (columns) spread
    over them in ``_STATS_BLOCKS`` blocks (all of them when there are no more)."""
    size, other = (source.n, source.m) if axis == 0 else (source.m, source.n)
    width = max(1, min(size, count // _STATS_BLOCKS))
    if size <= count:
        blocks = [(0, size)]
    else:
        starts = np.unique(np.linspace(0, size - width, _STATS_BLOCKS).astype(np.int64))
        blocks = [(int(s), int(s) + width) for s in starts]
    medians = np.empty(other)
    for o0 in range(0, other, _BLOCK_COLUMNS):
        o1 = min(other, o0 + _BLOCK_COLUMNS)
        if axis == 0:
            sample = np.vstack([source.costs(s0, s1, o0, o1) for s0, s1 in blocks])
        else:
            sample = np.hstack([source.costs(o0, o1, s0, s1) for s0, s1 in blocks])
        medians[o0:o1] = np.median(sample, axis=axis)
    return medians


class _ColumnCentred:
    """Costs less each column's median over the rows, plus the median of those medians:
    a B frame that costs much against every A frame (a loud attack, say, on an onset
    feature's euclidean distance) costs no more on its right place than others do on
    theirs. The medians are taken over ``rows`` rows of A spread over it (in
    ``_STATS_BLOCKS`` blocks; all rows when A has no more)."""

    def __init__(self, source, rows=_CENTRE_ROWS):
        self.source, self.n, self.m = source, source.n, source.m
        medians = _sampled_medians(source, 0, rows)
        self.shift = float(np.median(medians)) - medians

    def costs(self, r0, r1, c0, c1):
        return self.source.costs(r0, r1, c0, c1) + self.shift[None, c0:c1]


class _DearRowsLowered:
    """Costs with each row of A whose median over B's columns lies above the
    ``quantile`` of all the rows' medians lowered by the excess: an A frame that costs
    much against every B frame (A's own loud attack on the onset term) costs no more on
    its right place than the dearer rows of the ``quantile`` do. Rows below it are left
    as they are: raising A's cheap rows (two-sided centring) made true matches there look
    worse (issue 17, benchmarks/structure/results.md, music17f and struct17g). The
    medians are taken over ``columns`` columns of B spread over it."""

    def __init__(self, source, quantile, columns=_CENTRE_ROWS):
        self.source, self.n, self.m = source, source.n, source.m
        medians = _sampled_medians(source, 1, columns)
        self.shift = -np.maximum(0.0, medians - np.quantile(medians, quantile))

    def costs(self, r0, r1, c0, c1):
        return self.source.costs(r0, r1, c0, c1) + self.shift[r0:r1, None]


def _normalizer(source):
    """(c_on, c_off): median of every B frame's best cost, median of all costs (on
    ``_STATS_BLOCKS`` blocks of columns spread over B)."""
    n, m = source.n, source.m
    width = max(1, min(m, _STATS_COLUMNS // _STATS_BLOCKS))
    starts = np.unique(np.linspace(0, m - width, _STATS_BLOCKS).astype(np.int64))
    mins, samples = [], []
    for c in starts:
        block = source.costs(0, n, int(c), int(c) + width)
        mins.append(block.min(axis=0))
        samples.append(block[:: max(1, n // 400)].ravel())
    c_on = float(np.median(np.concatenate(mins)))
    c_off = float(np.median(np.concatenate(samples)))
    if not c_off > c_on:
        c_off = c_on + 1e-6
    return c_on, c_off


def find_pieces(source, rate_hz, *, jump_s=_JUMP_S, null_cost=_NULL_COST,
                min_piece_s=_MIN_PIECE_S, merge_s=_MERGE_S, ends_w=_ENDS_W, c_on=None,
                c_off=None, monitor=None):
    """The jump DP on a (coarse) cost source.

    Parameters
    ----------
    source : core.warping.FeatureTerms or CostSource
        Local costs, A rows and B columns, at ``rate_hz`` frames per second.

    ends_w : float
        Pinned ends: the path starting on A ``k`` frames after A's first frame (or ending
        ``k`` frames before its last) costs ``min(k * hold, ends_w * jump)`` (what ``k``
        held frames cost, at most ``ends_w`` jumps); starting or ending in the null state
        is free. 0: the path may start and end anywhere on A.
    c_on, c_off : float, optional
        The costs of a typical match and of typical unrelated frames (default: the
        median of every B frame's best cost and the median of all costs).

    Returns
    -------
    pieces : list of (i0, i1, j0, j1)
        Inclusive frame ranges, in B's order.
    match : ndarray (M,)
        Matched A frame of each B frame (-1: nothing), before dropping and merging.
    info : dict
        ``c_on``, ``c_off`` and the normalized DP cost.
    """
    from .._kernels.jumps import jump_backtrack, jump_columns

    if not (isinstance(ends_w, int | float) and math.isfinite(ends_w) and ends_w >= 0):
        raise ValueError(f"ends_w: expected a number >= 0, got {ends_w!r}")
    monitor = monitor or Monitor(None, None)
    n, m = source.n, source.m
    if c_on is None or c_off is None:
        on, off = _normalizer(source)
        c_on = on if c_on is None else c_on
        c_off = off if c_off is None else c_off
    c_off = max(c_off, c_on + 1e-9)
    scale = 1.0 / (c_off - c_on)
    acc = np.zeros(n)
    null = np.zeros(1)
    back = np.zeros((m, n), dtype=np.int8)
    jump_from = np.zeros(m, dtype=np.int64)
    null_back = np.zeros(m, dtype=np.int8)
    jump_p = float(jump_s * rate_hz)
    ramp = np.minimum(_HOLD_W * np.arange(n, dtype=np.float64), float(ends_w) * jump_p)
    for c0 in range(0, m, _BLOCK_COLUMNS):
        c1 = min(m, c0 + _BLOCK_COLUMNS)
        block = (source.costs(0, n, c0, c1) - c_on) * scale
        jump_columns(np.ascontiguousarray(block), c0, acc, null, back, jump_from, null_back,
                     _HOLD_W, _HOLD_W, jump_p, float(null_cost), 0.5 * jump_p, ramp, 0.0)
        monitor.report(c1 / m)
        monitor.check()
    ended = acc + ramp[::-1]
    end_i = int(np.argmin(ended))
    total = float(ended[end_i])
    if null[0] < total:
        end_i, total = -1, float(null[0])
    match = np.empty(m, dtype=np.int64)
    jump_backtrack(back, jump_from, null_back, end_i, match)
    pieces = _runs(match)
    pieces = _tidy(pieces, max(1, int(round(min_piece_s * rate_hz))),
                   int(round(merge_s * rate_hz)))
    pieces = _close_gaps(pieces, source, int(round(_GAP_S * rate_hz)))
    return pieces, match, {"c_on": c_on, "c_off": c_off, "dp_cost": total}


def _runs(match):
    """Monotone runs of the DP's matches (a jump, or null, ends a run)."""
    out = []
    start = None
    for j in range(len(match) + 1):
        cur = match[j] if j < len(match) else -1
        if start is not None:
            prev = match[j - 1]
            step = cur - prev
            if cur < 0 or step < 0 or step > 2:
                out.append([int(match[start]), int(prev), start, j - 1])
                start = None
        if start is None and cur >= 0:
            start = j
    return out


def _tidy(pieces, min_len, merge_tol):
    """Drop pieces shorter than ``min_len`` B frames; merge neighbours that continue one
    another within ``merge_tol`` frames (a slip, not a jump)."""
    pieces = [p for p in pieces if p[3] - p[2] + 1 >= min_len]
    out = []
    for p in pieces:
        if out:
            q = out[-1]
            expected = q[1] + (p[2] - q[3])
            if abs(p[0] - expected) <= merge_tol and p[0] >= q[0] and p[1] >= q[1]:
                out[-1] = [q[0], p[1], q[2], p[3]]
                continue
        out.append(list(p))
    return out


def _close_gaps(pieces, source, max_gap):
    """Where at most ``max_gap`` B frames lie between two pieces (frames the DP left to
    nothing, or a dropped short piece), extend both pieces diagonally into the gap and
    meet where the sum of the two extensions' costs is least."""
    n = source.n
    out = [list(p) for p in pieces]
    for k in range(len(out) - 1):
        p, q = out[k], out[k + 1]
        gap = q[2] - p[3] - 1
        if gap <= 0 or gap > max_gap:
            continue
        cols = np.arange(p[3] + 1, q[2])
        ia = np.clip(p[1] + np.arange(1, gap + 1), 0, n - 1)  # p continued
        ib = np.clip(q[0] - np.arange(gap, 0, -1), 0, n - 1)  # q started earlier
        block = source.costs(0, n, int(cols[0]), int(cols[-1]) + 1)
        ca = block[ia, np.arange(gap)]
        cb = block[ib, np.arange(gap)]
        # split s: p takes the first s frames of the gap, q the rest
        totals = [ca[:s].sum() + cb[s:].sum() for s in range(gap + 1)]
        s = int(np.argmin(totals))
        if s:
            p[1], p[3] = int(min(n - 1, p[1] + s)), int(p[3] + s)
        if gap - s:
            q[0], q[2] = int(max(0, q[0] - (gap - s))), int(q[2] - (gap - s))
    return out


def _refine_junctions(parts, source, radius):
    """Move each junction between consecutive parts (full rate, ``[i0, i1, j0, j1]``)
    to where B passes best from the first piece's line (continued at its mean slope)
    to the second's, within ``radius`` B frames; returns new parts."""
    n = source.n
    out = [list(p) for p in parts]
    for k in range(len(out) - 1):
        p, q = out[k], out[k + 1]
        if q[2] != p[3] + 1:
            continue
        lo = max(p[2] + 2, q[2] - radius)
        hi = min(q[3] - 1, q[2] + radius)
        if hi <= lo:
            continue
        cols = np.arange(lo, hi + 1)
        slope_p = (p[1] - p[0]) / max(1, p[3] - p[2])
        slope_q = (q[1] - q[0]) / max(1, q[3] - q[2])
        ip = np.clip(np.round(p[1] + (cols - p[3]) * slope_p).astype(np.int64), 0, n - 1)
        iq = np.clip(np.round(q[0] + (cols - q[2]) * slope_q).astype(np.int64), 0, n - 1)
        costs = []
        for rows in (ip, iq):
            r0, r1 = int(rows.min()), int(rows.max()) + 1
            block = source.costs(r0, r1, int(cols[0]), int(cols[-1]) + 1)
            costs.append(block[rows - r0, np.arange(len(cols))])
        # split at s: columns before s on p's line, from s on q's
        before = np.r_[0.0, np.cumsum(costs[0])]
        after = np.r_[np.cumsum(costs[1][::-1])[::-1], 0.0]
        s = int(np.argmin(before + after))
        split = int(cols[0]) + s
        p1 = int(round(p[1] + (split - 1 - p[3]) * slope_p))
        q0 = int(round(q[0] + (split - q[2]) * slope_q))
        p[1], p[3] = int(min(max(p[0], p1), n - 1)), split - 1
        q[0], q[2] = int(max(0, min(q[1], q0))), split
    return out


def _path_costs(mono, source, rate_a, rate_b, axis=1):
    """The local cost of ``source`` on the monotone path at each frame of B (``axis=1``)
    or of A (``axis=0``: a section of A that B skips shows there)."""
    count = source.m if axis == 1 else source.n
    rate, other_rate = (rate_b, rate_a) if axis == 1 else (rate_a, rate_b)
    t = np.arange(count) / rate
    mapped = mono.map_b_to_a(t) if axis == 1 else mono.map_a_to_b(t)
    limit = source.n if axis == 1 else source.m
    other = np.clip(np.round(np.asarray(mapped) * other_rate).astype(np.int64), 0, limit - 1)
    cost = np.empty(count)
    for c0 in range(0, count, _BLOCK_COLUMNS):
        c1 = min(count, c0 + _BLOCK_COLUMNS)
        lo, hi = int(other[c0:c1].min()), int(other[c0:c1].max()) + 1
        if axis == 1:
            block = source.costs(lo, hi, c0, c1)
            cost[c0:c1] = block[other[c0:c1] - lo, np.arange(c1 - c0)]
        else:
            block = source.costs(c0, c1, lo, hi)
            cost[c0:c1] = block[np.arange(c1 - c0), other[c0:c1] - lo]
    return cost


def _extended(parts, n, m, radius):
    """Parts grown by ``radius`` B frames (and as many A frames at their slope) towards
    each neighbour, so that the solved paths overlap around each junction."""
    out = []
    for k, (i0, i1, j0, j1) in enumerate(parts):
        slope = (i1 - i0) / max(1, j1 - j0)
        if k > 0:
            d = min(radius, j0)
            j0, i0 = j0 - d, max(0, i0 - int(round(d * slope)))
        if k < len(parts) - 1:
            d = min(radius, m - 1 - j1)
            j1, i1 = j1 + d, min(n - 1, i1 + int(round(d * slope)))
        out.append([i0, i1, j0, j1])
    return out


def _column_costs(piece, source, c0, c1):
    """Mean local cost of ``piece``'s rows in each B column c0..c1-1 (inf where the path
    has none)."""
    path = piece.path
    sel = (path[:, 1] >= c0) & (path[:, 1] < c1)
    out = np.full(c1 - c0, np.inf)
    if not np.any(sel):
        return out
    rows = path[sel]
    r0, r1 = int(rows[:, 0].min()), int(rows[:, 0].max()) + 1
    block = source.costs(r0, r1, c0, c1)
    cost = block[rows[:, 0] - r0, rows[:, 1] - c0]
    sums = np.bincount(rows[:, 1] - c0, weights=cost, minlength=c1 - c0)
    counts = np.bincount(rows[:, 1] - c0, minlength=c1 - c0)
    have = counts > 0
    out[have] = sums[have] / counts[have]
    return out


def _split_overlaps(pieces, junctions, source):
    """Pieces solved on overlapping parts, cut where B passes at least cost from one
    path to the next (around each planned junction), then trimmed to their share."""
    starts = [int(p.path[0, 1]) for p in pieces]
    ends = [int(p.path[-1, 1]) for p in pieces]
    cuts = []
    for k in range(len(pieces) - 1):
        c0, c1 = starts[k + 1], ends[k] + 1  # columns both paths cover
        if c1 <= c0:
            cuts.append(junctions[k])
            continue
        cp = _column_costs(pieces[k], source, c0, c1)
        cq = _column_costs(pieces[k + 1], source, c0, c1)
        before = np.r_[0.0, np.cumsum(cp)]
        after = np.r_[np.cumsum(cq[::-1])[::-1], 0.0]
        total = before + after
        # a cut needs a row of each piece on its side
        total[0] = total[-1] = np.inf if len(total) > 2 else total[0]
        cuts.append(c0 + int(np.argmin(total)))
    out = []
    for k, p in enumerate(pieces):
        lo = cuts[k - 1] if k > 0 else -1
        hi = cuts[k] if k < len(pieces) - 1 else p.n_b + 1
        keep = (p.path[:, 1] >= lo) & (p.path[:, 1] < hi)
        if not np.any(keep):
            continue
        out.append(p.replace(path=p.path[keep], confidence=None if p.confidence is None
                             else p.confidence[keep]))
    return out


def _onset_frames_b(rec_b, mono, rate_hz):
    """Where B's notes start, in B frames at ``rate_hz``, for music whose features are
    the pitch energies (a tuning was estimated); else None. A note's start is where its
    onset novelty peak (:func:`core.pipeline.attack.novelty`; weaker peaks too, down to
    ``_ONSET_SHARE`` of the strongest within 3 s) rises through ``_ONSET_LEVEL`` of its
    height: the foot of the rise, where the note begins, rather than the peak, which
    comes 10-30 ms later. Where the attack compensation moved B's features earlier, the
    onsets move with them."""
    if not _SNAP_S or mono.diagnostics.get("material") != "music":
        return None
    from ..pipeline import attack

    tuning = attack.feature_tuning(mono.diagnostics.get("features", ()), "b")
    if tuning is None:
        return None
    nov = attack.cached_novelty(rec_b.audio(mono=True), rec_b.rate_hz, tuning)
    if nov is None:
        return None
    edges = attack.onset_edges_s(nov, level=_ONSET_LEVEL, min_share=_ONSET_SHARE)
    moved = mono.diagnostics.get("attack") or {}
    shift_b = (moved.get("shift_frames") or [0, 0])[1] / float(moved.get("rate_hz") or 1.0)
    return (edges - shift_b) * rate_hz


def _high_cost_stretch(cost, rate_b, c_on, c_off):
    """Longest stretch (seconds of B) over which the monotone path's normalized local
    cost (smoothed) stays high (:func:`core.structure.order.high_cost_runs`, the order
    check's threshold and smoothing); and its B range."""
    runs = high_cost_runs((cost - c_on) / (c_off - c_on), rate_b)
    s, e = max(runs, key=lambda r: r[1] - r[0], default=(0, 0))
    return (e - s) / rate_b, (None if e == s else (s / rate_b, e / rate_b))


def analyse_units(x, y, rate_hz, *, min_unit_s=2.0):
    """Units, kinds and a unit-level assignment of two feature sequences.

    Parameters
    ----------
    x, y : ndarray (N, D), (M, D)
        Features of A and B at ``rate_hz`` (a few frames per second).

    Returns
    -------
    dict
        ``units_a``, ``units_b`` (lists of Unit with their kinds, shared between A and
        B), ``costs`` (unit DTW distances, A units x B units), ``matches`` (for each B
        unit the matched A unit, or -1) and ``no_match`` (the cost of leaving a unit
        unmatched).
    """
    return assign_units(x, y, segment(x, rate_hz, min_unit_s=min_unit_s),
                        segment(y, rate_hz, min_unit_s=min_unit_s))


def assign_units(x, y, units_a, units_b):
    """Kinds and the unit-level assignment of :func:`analyse_units` for given units
    (``units_a``, ``units_b``: lists of Unit covering frames of ``x`` and ``y``, e.g.
    after the user moved, split or merged some)."""
    from scipy.optimize import linear_sum_assignment

    units_a, units_b = list(units_a), list(units_b)
    both = np.vstack([x, y])
    shifted = [type(u)(u.start + len(x), u.end + len(x), u.rate_hz) for u in units_b]
    all_units = [*units_a, *shifted]
    d_all = unit_costs(frame_costs(both, both), all_units, all_units)
    na = len(units_a)
    cross = d_all[:na, na:]
    if cross.size:
        c_on = float(np.median(cross.min(axis=0)))
        off = cross[~np.isclose(cross, cross.min(axis=0, keepdims=True))]
        c_off = float(np.median(off)) if off.size else c_on * 2 + 1e-6
        no_match = 0.5 * (c_on + c_off)
    else:
        no_match = 0.5
    kinds = cluster_units(d_all, no_match)
    units_a = [type(u)(u.start, u.end, u.rate_hz, int(k)) for u, k in zip(units_a, kinds[:na],
                                                                          strict=True)]
    units_b = [type(u)(u.start, u.end, u.rate_hz, int(k)) for u, k in zip(units_b, kinds[na:],
                                                                          strict=True)]
    matches = np.full(len(units_b), -1, dtype=np.int64)
    if cross.size:
        # rows: B units; columns: each A unit twice (a repeat uses it again, for a little
        # more), then one "no match" column per B unit
        nb = len(units_b)
        big = 1e9
        table = np.full((nb, 2 * na + nb), big)
        table[:, :na] = cross.T
        table[:, na:2 * na] = cross.T + 0.05 * no_match
        table[np.arange(nb), 2 * na + np.arange(nb)] = no_match
        rows, cols = linear_sum_assignment(table)
        for r, c in zip(rows, cols, strict=True):
            if c < 2 * na:
                matches[r] = c % na
    return {"units_a": units_a, "units_b": units_b, "costs": cross, "matches": matches,
            "no_match": float(no_match)}


def unit_features(rec_a, rec_b, *, feature="auto", progress=None, cancel=None):
    """The features :func:`align_structure` cuts into units: the default pipeline's,
    pooled to about ``_UNIT_RATE_HZ`` frames per second; returns ``(x, y, rate_hz)``."""
    from ..pipeline import _stacked
    from ..warping import FeatureTerms

    monitor = Monitor(progress, cancel)
    terms, weights, _local, rates, _info = _prepare(rec_a, rec_b, feature, None, None,
                                                   monitor.sub(0.0, 0.9))
    source = FeatureTerms(terms, weights)
    factor = max(1, int(round(min(rates) / _DP_RATE_HZ)))
    coarse = source.pooled(factor)
    rate = min(rates) / factor
    ufactor = max(1, int(round(rate / _UNIT_RATE_HZ)))
    x, y = _stacked(coarse.pooled(ufactor))
    monitor.check()
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), rate / ufactor


def _path_tempo(mono, rate_a, rate_b):
    """The monotone path's tempo in frames (rows of A per column of B at these rates),
    where the two recordings are at clearly different tempi, else 1.0 (most pairs: their
    costs as before). A performance at another tempo (a copy at 0.5x, a speaker at
    1.5x) was averaged along the wrong lines: the right path looked dear, and ``auto``
    switched to pieces with errors of seconds (k545 at 0.5x: 6.9 -> 4830 ms).

    Two estimates must agree: the path's overall slope (its A length over its B length)
    and the median of its slopes over windows of ``_TEMPO_WINDOW_S`` of B; the tempo is
    taken when they lie within ``_TEMPO_AGREE`` of each other and more than
    ``_TEMPO_TOL`` away from 1. A repeated, dropped or moved section bends the path over
    a part of it, which moves one estimate and not the other."""
    t = np.asarray(mono.times_s, dtype=np.float64)
    if len(t) < 2 or t[-1, 1] <= t[0, 1] or t[-1, 0] <= t[0, 0]:
        return 1.0
    edges = np.arange(t[0, 1], t[-1, 1] + 1e-9, _TEMPO_WINDOW_S)
    if len(edges) < 5:
        return 1.0
    a = np.interp(edges, t[:, 1], t[:, 0])
    local = float(np.median(np.diff(a) / np.diff(edges)))  # seconds of A per second of B
    overall = (t[-1, 0] - t[0, 0]) / (t[-1, 1] - t[0, 1])
    if not local > 0 or abs(np.log(local / overall)) > np.log(_TEMPO_AGREE) \
            or abs(np.log(overall)) <= np.log(_TEMPO_TOL):
        return 1.0
    return float(overall) * rate_a / rate_b


def _dp_costs(source, rates, material, mono):
    """The jump DP's costs: ``source`` (the pipeline's features at ``rates``) pooled
    ``factor`` times to about ``_DP_RATE_HZ``, averaged along lines (``_DiagonalMean``,
    the material's ``_SLOPES``), centred per column for the materials of ``_CENTRED``
    (``_ColumnCentred``), and their normalizer: a typical match is the median cost
    along the monotone path ``mono`` (mostly right even where the order differs),
    unrelated frames the median of all costs. Returns ``(factor, coarse, smoothed,
    path_cost, c_on, c_off)``."""
    factor = max(1, int(round(min(rates) / _DP_RATE_HZ)))
    coarse = source.pooled(factor)
    ca, cb = rates[0] / factor, rates[1] / factor
    tempo = _path_tempo(mono, ca, cb)
    slopes = tuple(s * tempo for s in _SLOPES.get(material, (1.0,)))
    smoothed = _DiagonalMean(coarse, int(round(_SMOOTH_S * min(ca, cb))), slopes)
    if material in _CENTRED:
        smoothed = _ColumnCentred(smoothed)
        if _DEAR_ROWS_QUANTILE < 1.0:
            smoothed = _DearRowsLowered(smoothed, _DEAR_ROWS_QUANTILE)
    path_cost = _path_costs(mono, smoothed, ca, cb)
    c_on = float(np.median(path_cost))
    c_off = _normalizer(smoothed)[1]
    return factor, coarse, smoothed, path_cost, c_on, c_off


def _prepare(rec_a, rec_b, feature, rate_hz, band_s, monitor):
    from ..pipeline import _check_args, _plan_terms

    rate_hz, band_s = _check_args("dtw", feature, rate_hz, band_s, rec_a, rec_b)
    return _plan_terms(rec_a, rec_b, feature, rate_hz, monitor)


def align_structure(rec_a, rec_b, *, structure="auto", feature="auto", rate_hz=None,
                    band_s=None, method="dtw", anchors=None, jump_s=None,
                    min_piece_s=_MIN_PIECE_S, progress=None, cancel=None):
    """Align two recordings whose order may differ.

    Parameters
    ----------
    rec_a, rec_b : core.media.Recording
    structure : {"auto", "pieces", "monotone"}
        ``"monotone"``: the default pipeline, exactly (:func:`core.align_recordings`).
        ``"auto"``: the default pipeline's result unless the order differs (a jump found
        and a long stretch of high cost on the monotone path), then the pieces.
        ``"pieces"``: always the pieces (one piece when there is no jump).
    feature, rate_hz, band_s, method, anchors :
        As for :func:`core.align_recordings`; the pieces take ``feature`` and ``rate_hz``
        (``method`` other than ``"dtw"`` and anchors: only ``"monotone"``).
    jump_s : float, optional
        Penalty of a jump, in seconds of mismatched frames (default: ``_JUMP_S``, 1.5 s;
        speech ``_JUMP_S_OF["speech"]``, 1.0 s).
    min_piece_s : float
        Shortest piece kept.

    Returns
    -------
    Alignment or PiecewiseAlignment
        ``diagnostics["structure"]`` says what was found and why the result is what it
        is (for ``"auto"`` also on a monotone result).
    """
    from ..pipeline import _recipe, align_recordings
    from ..warping import FeatureTerms, staged_dtw

    if structure not in STRUCTURES:
        raise ValueError(f"structure: expected one of {STRUCTURES}, got {structure!r}")
    if structure == "monotone":
        return align_recordings(rec_a, rec_b, method=method, feature=feature,
                                rate_hz=rate_hz, band_s=band_s, anchors=anchors,
                                progress=progress, cancel=cancel)
    if method != "dtw":
        raise ValueError(f"method: structure {structure!r} needs method 'dtw', not "
                         f"{method!r}")
    if anchors is not None and len(np.asarray(anchors).reshape(-1)):
        raise ValueError(f"anchors: structure {structure!r} takes no anchors")
    for name, value in (("jump_s", jump_s), ("min_piece_s", min_piece_s)):
        if name == "jump_s" and value is None:
            continue
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name}: expected a positive number of seconds, got {value!r}")
    t0 = time.perf_counter()
    monitor = Monitor(progress, cancel)
    planned = _prepare(rec_a, rec_b, feature, rate_hz, band_s, monitor.sub(0.0, 0.4))
    terms, weights, local, rates, info = planned
    if jump_s is None:
        jump_s = _JUMP_S_OF.get(info.get("material"), _JUMP_S)
    mono = align_recordings(rec_a, rec_b, feature=feature, rate_hz=rate_hz, band_s=band_s,
                            progress=monitor.sub(0.4, 0.7).report, cancel=cancel,
                            _terms=(terms, weights, local, rates, dict(info)),
                            _quiet_ends=True,  # warned below, for the result returned
                            _check_order=False)  # decided here, with the jump DP
    t1 = time.perf_counter()
    source = FeatureTerms(terms, weights)
    factor, coarse, smoothed, path_cost, c_on, c_off = _dp_costs(source, rates,
                                                                 info.get("material"), mono)
    ca, cb = rates[0] / factor, rates[1] / factor
    pieces, match, dp = find_pieces(smoothed, min(ca, cb), jump_s=jump_s,
                                    min_piece_s=min_piece_s, ends_w=_ENDS_W, c_on=c_on,
                                    c_off=c_off,
                                    monitor=monitor.sub(0.7, 0.85))
    # a repeat or a move shows as a stretch of B, a skipped section as one of A
    stretch_s, stretch = _high_cost_stretch(path_cost, cb, dp["c_on"], dp["c_off"])
    stretch_a_s, stretch_a = _high_cost_stretch(_path_costs(mono, smoothed, ca, cb, axis=0),
                                                ca, dp["c_on"], dp["c_off"])
    jumps = len(pieces) - 1
    # units, at a few frames per second
    from ..pipeline import _stacked

    ufactor = max(1, int(round(min(ca, cb) / _UNIT_RATE_HZ)))
    ux, uy = _stacked(coarse.pooled(ufactor))
    units = analyse_units(ux, uy, min(ca, cb) / ufactor)
    t_units = time.perf_counter()
    found = jumps > 0 and max(stretch_s, stretch_a_s) >= _MIN_STRETCH_S
    report = {
        "requested": structure, "jumps_found": jumps, "dp_rate_hz": [ca, cb],
        "dp_pieces_s": [[p[0] / ca, (p[1] + 1) / ca, p[2] / cb, (p[3] + 1) / cb]
                        for p in pieces],
        "monotone_high_cost_s": round(stretch_s, 3),
        "monotone_high_cost_range_s": None if stretch is None else [round(v, 3)
                                                                      for v in stretch],
        "monotone_high_cost_a_s": round(stretch_a_s, 3),
        "monotone_high_cost_range_a_s": None if stretch_a is None else [
            round(v, 3) for v in stretch_a],
        "normalizer": {"c_on": dp["c_on"], "c_off": dp["c_off"]},
        "analysis_s": round(t_units - t1, 3),
        "units": {"a": [u.as_dict() for u in units["units_a"]],
                  "b": [u.as_dict() for u in units["units_b"]],
                  "matches": units["matches"].tolist(), "no_match": units["no_match"],
                  "costs": np.round(units["costs"], 5).tolist()}}
    if structure == "auto" and not found:
        report["result"] = "monotone"
        report["reason"] = ("no jump found" if jumps == 0 else
                            f"{jumps} jump(s) found, but the monotone path has no long "
                            f"stretch of high cost ({max(stretch_s, stretch_a_s):.1f} s < "
                            f"{_MIN_STRETCH_S} s)")
        if mono.diagnostics.get("warning"):  # the ends the monotone result left out
            from ..errors import PartialOverlapWarning

            warnings.warn(mono.diagnostics["warning"], PartialOverlapWarning, stacklevel=3)
        return mono.replace(diagnostics=dict(mono.diagnostics, structure=report))
    if not pieces or (jumps == 0 and structure == "pieces"):
        out = [mono]
    else:
        recipe = _recipe(weights, local, int(info.get("refine_factor", 1)),
                         min(rates) / int(info.get("refine_factor", 1)), min(rates), source)
        out = []
        n, m = source.n, source.m
        sub = monitor.sub(0.85, 1.0)
        parts = [[i0 * factor, min(n - 1, (i1 + 1) * factor - 1),
                  j0 * factor, min(m - 1, (j1 + 1) * factor - 1)]
                 for i0, i1, j0, j1 in pieces]
        local_source = source.reweighted(local)
        parts = _refine_junctions(parts, local_source, int(round(_JUNCTION_S * rates[1])))
        ext = _extended(parts, n, m, int(round(_OVERLAP_S * rates[1])))
        for k, part in enumerate(ext):
            piece = staged_dtw(source, dict(recipe, part=part), rate_a_hz=rates[0],
                               rate_b_hz=rates[1],
                               params={"feature": feature, "rate_hz": rate_hz},
                               diagnostics={}, sources=mono.sources,
                               progress=sub.sub(k / len(pieces), (k + 1) / len(pieces)).report,
                               cancel=monitor.check)
            out.append(piece)
        out = _split_overlaps(out, [p[2] for p in parts[1:]], local_source)
        t_ref = time.perf_counter()
        ref_source = source if _REFINE_GLOBAL else local_source
        out = refine_junctions(out, ref_source, int(round(_REFINE_S * rates[1])),
                               int(round(_GAP_S * rates[1])),
                               self_b=self_costs(ref_source, "b") if _SPLICE_W else None,
                               self_a=self_costs(ref_source, "a") if _SPLICE_W else None,
                               splice_w=_SPLICE_W, match_w=_SPLICE_MATCH_W,
                               splice_width=max(1, int(round(_SPLICE_S * rates[1]))),
                               passes=2, settle=int(round(_SETTLE_S * rates[1])),
                               onsets_b=_onset_frames_b(rec_b, mono, rates[1]),
                               snap=int(round(_SNAP_S * rates[1])))
        report["junctions_s"] = round(time.perf_counter() - t_ref, 3)
    report["result"] = "pieces"
    report["reason"] = (f"{jumps} jump(s) found; the monotone path has "
                        f"{max(stretch_s, stretch_a_s):.1f} s of high cost" if jumps
                        else "no jump found")
    report["elapsed_s"] = round(time.perf_counter() - t0, 3)
    diag = {k: v for k, v in mono.diagnostics.items()
            if k in ("material", "features", "rate_hz", "base_rate_hz", "rate_a_hz",
                     "rate_b_hz")}
    diag["structure"] = report
    params = {"structure": structure, "feature": feature, "rate_hz": rate_hz,
              "band_s": band_s, "jump_s": jump_s, "min_piece_s": min_piece_s}
    result = PiecewiseAlignment(tuple(out), params=params, diagnostics=diag,
                                sources=dict(mono.sources))
    return _with_unshared_ends(result, rec_a, rec_b)


def _with_unshared_ends(result, rec_a, rec_b):
    """``result`` (with jumps) with ``diagnostics["aligned_part"]`` (the first and last
    A frames any piece reaches, B's first and last) and the ends it leaves out, as a
    monotone result has them (``unshared``; ``warning`` where they are not silence: a
    lead-in B has and A lacks, say, which the jump DP leaves unmatched)."""
    from ..alignment import aligned_part
    from ..pipeline import _unshared_info

    path = result.path
    part = aligned_part((path[:, 0].min(), path[:, 0].max()), (path[0, 1], path[-1, 1]),
                        result.n_a, result.n_b, result.rate_a_hz, result.rate_b_hz)
    diag = dict(result.diagnostics, aligned_part=part)
    diag.update(_unshared_info(part, (rec_a, rec_b), result.sources, stacklevel=4))
    return dataclasses.replace(result, diagnostics=diag)
