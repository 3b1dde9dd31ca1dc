"""Long inputs: exact solving in linear memory (checkpoints) and the multiscale method."""

from __future__ import annotations

import numpy as np

from .._kernels.dtw_tiles import tiles_backtrack
from ..errors import AlignmentError
from ._source import CostSource
from ._tiles import TilePlan, choose_shape, sweep

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
                length, i_out, j_out, status = tiles_backtrack(
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
                length, _, j_next, status = tiles_backtrack(
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
def pool_frames(a, factor):
    """Average consecutive blocks of ``factor`` frames (the last block may be shorter)."""
    n, d = a.shape
    full = n // factor
    out = np.empty((-(-n // factor), d))
    # a reshape and a sum over the middle axis: several times faster than reduceat
    np.sum(a[:full * factor].reshape(full, factor, d), axis=1, out=out[:full])
    out[:full] /= factor
    if full < out.shape[0]:
        out[full] = a[full * factor:].mean(axis=0)
    return out


def corridor(coarse_path, factor, radius, n, m):
    """Per-row column intervals at the fine level around a coarse path.

    Each coarse cell (I, J) on the path admits the fine cells of coarse columns
    J - radius .. J + radius in coarse rows I - radius .. I + radius."""
    n_c = -(-n // factor)
    lo_c = np.full(n_c, np.iinfo(np.int64).max)
    hi_c = np.full(n_c, -1)
    np.minimum.at(lo_c, coarse_path[:, 0], coarse_path[:, 1])
    np.maximum.at(hi_c, coarse_path[:, 0], coarse_path[:, 1])
    # dilate along rows: a coarse row also takes its neighbours' columns
    lo_d = lo_c.copy()
    hi_d = hi_c.copy()
    for k in range(1, radius + 1):
        lo_d[k:] = np.minimum(lo_d[k:], lo_c[:-k])
        lo_d[:-k] = np.minimum(lo_d[:-k], lo_c[k:])
        hi_d[k:] = np.maximum(hi_d[k:], hi_c[:-k])
        hi_d[:-k] = np.maximum(hi_d[:-k], hi_c[k:])
    lo_f = np.clip((lo_d - radius) * factor, 0, m)
    hi_f = np.clip((hi_d + radius + 1) * factor, 0, m)
    rows = np.arange(n) // factor
    return lo_f[rows].astype(np.int64), hi_f[rows].astype(np.int64)


def multiscale_window(source, weights, lo, hi, *, open_begin, open_end, monitor,
                      factor=MULTISCALE_FACTOR, radius=MULTISCALE_RADIUS):
    """A corridor around a coarse path, built level by level (features only).

    Returns (lo, hi) of the finest level, intersected with the given window, and the
    number of levels."""
    from ._band import solve_fast

    n, m = source.n, source.m
    x = source.x[source.i_off:source.i_off + n]
    y = source.y[source.j_off:source.j_off + m]
    levels = [(x, y, lo, hi)]
    while levels[-1][0].shape[0] * levels[-1][1].shape[0] > COARSEST_CELLS \
            and min(levels[-1][0].shape[0], levels[-1][1].shape[0]) >= 4 * factor:
        xc, yc, lo_c, hi_c = levels[-1]
        nc = xc.shape[0]
        starts = np.arange(0, nc, factor)
        lo_n = np.minimum.reduceat(lo_c, starts) // factor
        hi_n = -(-np.maximum.reduceat(hi_c, starts) // factor)
        levels.append((pool_frames(xc, factor), pool_frames(yc, factor), lo_n, hi_n))
    n_levels = len(levels)
    monitor.report(0.02)
    if n_levels == 1:  # small enough to solve exactly: the corridor is the whole window
        return lo, hi, 1
    # progress in proportion to the expected cells of each level (the coarsest solves its
    # whole window, the others a corridor)
    work = [0.0] + [_level_cells(lv[2], lv[3], k == n_levels - 1, factor, radius)
                    for k, lv in enumerate(levels) if k > 0]
    done = np.concatenate([[0.0], np.cumsum(work[::-1])])  # coarsest first
    total = max(done[-1], 1.0) / 0.98  # the first 2 % for pooling
    done += 0.02 * total
    path = None
    for k in range(n_levels - 1, 0, -1):
        xc, yc, lo_c, hi_c = levels[k]
        if path is not None:
            lo_k, hi_k = corridor(path, factor, radius, xc.shape[0], yc.shape[0])
            lo_k = np.maximum(lo_k, lo_c)
            hi_k = np.maximum(np.minimum(hi_k, hi_c), lo_k)
        else:
            lo_k, hi_k = lo_c, hi_c
        src = CostSource(x=xc, y=yc, metric=source.metric)  # (re-normalizes for cosine)
        step = n_levels - 1 - k
        mon = monitor.sub(done[step] / total, done[step + 1] / total)
        origin = src.cell(0, 0)
        sol = solve_fast(src, weights, lo_k, hi_k, open_begin=open_begin,
                         origin_value=origin, monitor=mon)
        last = sol.last_row
        if open_end:
            j_end = int(np.argmin(last / (xc.shape[0] + np.arange(yc.shape[0]) + 1)))
        else:
            j_end = yc.shape[0] - 1
        if not np.isfinite(last[j_end]):
            raise AlignmentError("window: no warping path at a coarse level")
        path = sol.path(j_end)
    lo_f, hi_f = corridor(path, factor, radius, n, m)
    lo_f = np.maximum(lo_f, lo)
    hi_f = np.maximum(np.minimum(hi_f, hi), lo_f)
    monitor.report(1.0)
    return lo_f, hi_f, n_levels


def _level_cells(lo, hi, coarsest, factor=MULTISCALE_FACTOR, radius=MULTISCALE_RADIUS):
    """Expected cells of one level: its whole window when coarsest, else a corridor
    (about twice its nominal width, for the path's slope)."""
    area = float(np.sum(hi - lo))
    if coarsest:
        return area
    return min(area, lo.shape[0] * 2.0 * (2 * radius + 1) * factor)


def coarse_share(n, m, lo, hi, factor=MULTISCALE_FACTOR, radius=MULTISCALE_RADIUS):
    """Share of a multiscale solve's work spent on the coarse levels (for progress)."""
    fine = _level_cells(lo, hi, False, factor, radius)
    coarse = float(COARSEST_CELLS) + fine / factor * 1.4  # coarsest + the levels between
    return float(np.clip(coarse / (coarse + fine), 0.05, 0.95))
