"""Long inputs: exact solving in linear memory (checkpoints) and the multiscale method."""

from __future__ import annotations

import numpy as np

from .._kernels import lazy
from ..errors import AlignmentError
from ._tiles import TilePlan, choose_shape, sweep

_tiles_k = lazy("dtw_tiles")  # numba: imported where a kernel first runs

MULTISCALE_FACTOR = 4  # frames per coarse frame between levels
MULTISCALE_RADIUS = 3  # corridor half-width around the coarse path, in coarse frames
COARSEST_CELLS = 1 << 22  # solve exactly once a level has at most this many cells


# ------------------------------------------------------------------ checkpoints
CORRIDOR_PAD = 256  # columns kept on each side of the guide corridor's codes


def _corridor_offsets(plan, lo_c, hi_c, pad, max_bytes):
    """Byte offsets of the tiles that meet a guide corridor widened by ``pad`` columns
    (-1 for the others; the last entry is the total), or None above ``max_bytes``."""
    starts = np.arange(0, plan.n, plan.strip_rows)
    c_lo = np.minimum.reduceat(lo_c, starts) - pad
    c_hi = np.maximum.reduceat(hi_c, starts) + pad
    n_tiles = plan.tile_j0.shape[0]
    strip_of = np.repeat(np.arange(plan.n_strips), np.diff(plan.strip_first))
    j0, j1 = plan.tile_j0, plan.tile_j0 + plan.tile_w
    keep = (j1 > c_lo[strip_of]) & (j0 < c_hi[strip_of]) & (plan.tile_w > 0)
    nbytes = np.where(keep, (plan.tile_h * plan.tile_w + 3) // 4, 0)
    offsets = np.full(n_tiles + 1, -1, dtype=np.int64)
    cum = np.concatenate([[0], np.cumsum(nbytes)])
    offsets[:-1] = np.where(keep, cum[:-1], -1)
    offsets[-1] = cum[-1]
    if cum[-1] > max_bytes:
        return None
    return offsets


def solve_checkpointed(source, weights, lo, hi, *, open_begin, origin_value, monitor,
                       budget, open_end=False):
    """Exact DTW in O(sqrt-ish) memory: a forward sweep keeps the last row of every group
    of strips; then, from the last group back, each group is swept again with its step
    codes (columns right of the path's current column skipped) and backtracked.

    With features, the forward sweep also keeps the step codes of the tiles around a
    multiscale guide path (about 1-3 tiles per strip): the backtrack follows them as long
    as the optimal path stays there (usually all the way: then no group is swept again)
    and falls back to the groups from the first cell outside. The result is exact either
    way.

    Returns (solution, plan); the solution has ``last_row``, ``path(j_end)`` and
    ``resweeps`` (the number of groups swept again, after ``path``)."""
    n, m = lo.shape[0], source.m
    strip, chunk = choose_shape(lo, hi)
    plan = TilePlan(lo, hi, strip, chunk)
    mean_width = max(1.0, plan.cells / max(n, 1))
    rows_per_group = int(max(strip, (budget // 2) * 4 // max(1, int(mean_width))))
    strips_per_group = max(1, rows_per_group // strip)
    n_groups = -(-plan.n_strips // strips_per_group)
    keep = [g * strips_per_group - 1 for g in range(1, n_groups)]
    offsets = None
    forward = monitor.sub(0.0, 0.6)
    if source.cost is None and plan.cells > COARSEST_CELLS:
        try:
            lo_c, hi_c, _ = multiscale_window(source, weights, lo, hi,
                                              open_begin=open_begin, open_end=open_end,
                                              monitor=monitor.sub(0.0, 0.02))
        except AlignmentError:  # a coarse level admits no path: no guide, groups only
            pass
        else:
            offsets = _corridor_offsets(plan, lo_c, hi_c, CORRIDOR_PAD, max(budget // 2, 1))
        forward = monitor.sub(0.02, 0.6)
    bp_c, last, kept = sweep(source, weights, lo, hi, plan, open_begin=open_begin,
                             origin_value=origin_value, monitor=forward,
                             store=offsets is not None, keep_rows=keep, tile_offsets=offsets)
    back = monitor.sub(0.6, 1.0)

    class _Solution:
        last_row = last
        resweeps = 0

        @classmethod
        def path(cls, j_end):
            pieces = []
            i, j = n - 1, int(j_end)
            if offsets is not None:
                out = np.empty((n + j + 2, 2), dtype=np.int64)
                length, i_out, j_out, status = _tiles_k.tiles_backtrack(
                    i, j, plan.strip_rows, plan.n, plan.strip_first, plan.tile_j0,
                    plan.tile_w, offsets, bp_c, 0, out)
                if status < 0:
                    raise AlignmentError("internal error: broken step chain")
                if status in (0, 1):
                    back.report(1.0)
                    return out[:length - status][::-1].copy()
                pieces.append(out[:length - 1].copy())  # the last cell is not resolved
                i, j = int(i_out), int(j_out)
            g_first = (i // strip) // strips_per_group
            for g in range(g_first, -1, -1):
                back.report((g_first - g) / (g_first + 1))
                s0 = g * strips_per_group
                r0 = s0 * strip
                r1 = i + 1 if g == g_first else min(n, (g + 1) * strips_per_group * strip)
                sub = source.sub(r0, 0, r1 - r0, m)
                lo_g = lo[r0:r1].copy()
                hi_g = np.minimum(hi[r0:r1], j + 1)
                hi_g = np.maximum(hi_g, lo_g)
                plan_g = TilePlan(lo_g, hi_g, strip, chunk)
                top = None if g == 0 else kept[s0 - 1]
                bp, _, _ = sweep(sub, weights, lo_g, hi_g, plan_g,
                                 open_begin=open_begin and g == 0,
                                 origin_value=origin_value, monitor=back.sub(0, 0), top=top)
                cls.resweeps += 1
                out = np.empty((r1 - r0 + j + 2, 2), dtype=np.int64)
                length, _, j_next, status = _tiles_k.tiles_backtrack(
                    r1 - r0 - 1, j, plan_g.strip_rows, plan_g.n, plan_g.strip_first,
                    plan_g.tile_j0, plan_g.tile_w, plan_g.tile_off, bp, 0, out)
                if status < 0:
                    raise AlignmentError("internal error: broken step chain")
                piece = out[:length - 1] if status == 1 else out[:length]
                piece = piece.copy()
                piece[:, 0] += r0
                pieces.append(piece)
                if status == 0:
                    break
                j = int(j_next)
            back.report(1.0)
            return np.concatenate(pieces)[::-1].copy()

    return _Solution(), plan


# ------------------------------------------------------------------ multiscale
def corridor(coarse_path, factor, n, m, *, radius_rows, radius_cols):
    """Per-row column intervals at the fine level around a coarse path.

    Each coarse cell (I, J) on the path admits the fine cells of rows
    ``I * factor - radius_rows .. (I + 1) * factor - 1 + radius_rows`` and columns
    ``J * factor - radius_cols .. (J + 1) * factor - 1 + radius_cols`` (fine frames). The
    engine's multiscale method dilates both ways by the same radius (a square around
    every coarse cell, symmetric in A and B: the fine optimum stays inside however the
    path turns); the default pipelines dilate columns only, which measured better as a
    model (see :mod:`core.pipeline`). The path must be monotone and continuous from
    (0, 0) to the last coarse cell; the intervals are then monotone and connected.
    """
    n_c = -(-n // factor)
    lo_c = np.full(n_c, np.iinfo(np.int64).max)
    hi_c = np.full(n_c, -1)
    np.minimum.at(lo_c, coarse_path[:, 0], coarse_path[:, 1])
    np.maximum.at(hi_c, coarse_path[:, 0], coarse_path[:, 1])
    rows = np.arange(n, dtype=np.int64)
    # along a monotone path the smallest column over coarse rows first..last is that of
    # the first, the largest that of the last
    first = np.clip((rows - radius_rows) // factor, 0, n_c - 1)
    last = np.clip((rows + radius_rows) // factor, 0, n_c - 1)
    lo = np.clip(lo_c[first] * factor - radius_cols, 0, m)
    hi = np.clip((hi_c[last] + 1) * factor + radius_cols, 0, m)
    return lo.astype(np.int64), hi.astype(np.int64)


def pool_window(lo, hi, factor):
    """A window's row intervals at a rate ``factor`` times lower (the hull of each block
    of rows)."""
    starts = np.arange(0, lo.shape[0], factor)
    return (np.minimum.reduceat(lo, starts) // factor,
            -(-np.maximum.reduceat(hi, starts) // factor))


def engine_step(n, m, cells, radius):
    """The multiscale method's levels: pool by ``MULTISCALE_FACTOR`` while a level has
    more than ``COARSEST_CELLS`` cells (and both sides at least 4 coarse frames); the
    corridor is a square of ``MULTISCALE_RADIUS`` coarse frames around every coarse cell.
    Returns ``(factor, (radius_rows, radius_cols), next radius)`` or None."""
    if n * m > COARSEST_CELLS and min(n, m) >= 4 * MULTISCALE_FACTOR:
        r = MULTISCALE_RADIUS * MULTISCALE_FACTOR
        return MULTISCALE_FACTOR, (r, r), radius
    return None


def coarse_to_fine(source, weights, lo, hi, *, open_begin, open_end, monitor,
                   step=engine_step, radius=None):
    """A corridor around a coarse path, built level by level (features only).

    ``step(n, m, cells, radius)`` plans each level from the finest: None (solve this
    level in its window) or ``(factor, (radius_rows, radius_cols), next_radius)``: pool by
    ``factor`` (:meth:`CostSource.pooled`, :func:`pool_window`), and search this level
    in the :func:`corridor` of those radii around the coarser path. ``radius`` is handed
    to the first step. Every level but the finest is solved exactly in its window.

    Returns (lo, hi) of the finest level, intersected with the given window, and the
    pooling factors from the finest level on (none: the window is the corridor)."""
    from ._band import solve_fast

    levels = [(source, lo, hi)]
    plans = []
    while True:
        src_k, lo_k, hi_k = levels[-1]
        planned = step(src_k.n, src_k.m, int(np.sum(hi_k - lo_k)), radius)
        if planned is None:
            break
        factor, radii, radius = planned
        lo_n, hi_n = pool_window(lo_k, hi_k, factor)
        coarse = src_k.pooled(factor)
        levels.append((coarse, lo_n, np.minimum(hi_n, coarse.m)))
        plans.append((factor, radii))
    n_levels = len(levels)
    monitor.report(0.02)
    if n_levels == 1:  # small enough to solve exactly: the corridor is the whole window
        return lo, hi, []
    # progress in proportion to the expected cells of each level (the coarsest solves its
    # whole window, the others a corridor)
    work = [0.0] + [_level_cells(lv[1], lv[2], k == n_levels - 1,
                                 *plans[min(k, len(plans) - 1)])
                    for k, lv in enumerate(levels) if k > 0]
    done = np.concatenate([[0.0], np.cumsum(work[::-1])])  # coarsest first
    total = max(done[-1], 1.0) / 0.98  # the first 2 % for pooling
    done += 0.02 * total
    path = None
    for k in range(n_levels - 1, 0, -1):
        src, lo_c, hi_c = levels[k]
        if path is not None:
            factor, (rr, rc) = plans[k]
            lo_k, hi_k = corridor(path, factor, src.n, src.m, radius_rows=rr, radius_cols=rc)
            lo_k = np.maximum(lo_k, lo_c)
            hi_k = np.maximum(np.minimum(hi_k, hi_c), lo_k)
        else:
            lo_k, hi_k = lo_c, hi_c
        step_k = n_levels - 1 - k
        mon = monitor.sub(done[step_k] / total, done[step_k + 1] / total)
        origin = src.cell(0, 0)
        sol = solve_fast(src, weights, lo_k, hi_k, open_begin=open_begin,
                         origin_value=origin, monitor=mon)
        last = sol.last_row
        if open_end:
            j_end = int(np.argmin(last / (src.n + np.arange(src.m) + 1)))
        else:
            j_end = src.m - 1
        if not np.isfinite(last[j_end]):
            raise AlignmentError("window: no warping path at a coarse level")
        path = sol.path(j_end)
    factor, (rr, rc) = plans[0]
    lo_f, hi_f = corridor(path, factor, source.n, source.m, radius_rows=rr, radius_cols=rc)
    lo_f = np.maximum(lo_f, lo)
    hi_f = np.maximum(np.minimum(hi_f, hi), lo_f)
    monitor.report(1.0)
    return lo_f, hi_f, [factor for factor, _ in plans]


def multiscale_window(source, weights, lo, hi, *, open_begin, open_end, monitor):
    """The multiscale method's corridor (:func:`coarse_to_fine` with
    :func:`engine_step`) and its number of levels."""
    lo_f, hi_f, factors = coarse_to_fine(source, weights, lo, hi, open_begin=open_begin,
                                         open_end=open_end, monitor=monitor)
    return lo_f, hi_f, len(factors) + 1


def _level_cells(lo, hi, coarsest, factor, radii):
    """Expected cells of one level: its whole window when coarsest, else a corridor
    (about twice its nominal width, for the path's slope)."""
    area = float(np.sum(hi - lo))
    if coarsest:
        return area
    return min(area, lo.shape[0] * 2.0 * (radii[0] + radii[1] + factor))


def coarse_share(n, m, lo, hi, factor=MULTISCALE_FACTOR, radius=MULTISCALE_RADIUS):
    """Share of a multiscale solve's work spent on the coarse levels (for progress)."""
    fine = _level_cells(lo, hi, False, factor, (radius * factor, radius * factor))
    coarse = float(COARSEST_CELLS) + fine / factor * 1.4  # coarsest + the levels between
    return float(np.clip(coarse / (coarse + fine), 0.05, 0.95))
