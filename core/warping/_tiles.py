"""Driver of the anti-diagonal tile kernel: strips of rows, column chunks, two threads.

Strip ``s`` (rows ``s*H .. s*H+H-1``) covers the columns its rows admit, cut into chunks
of at most ``W`` columns. A chunk needs the last row of the strip above over its columns,
so strips are pipelined: with two threads, strip s+1 runs one chunk behind strip s. The
kernels release the GIL; progress and cancellation are handled by the calling thread
between chunks.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from .._blas import set_local_blas_threads
from .._kernels import lazy
from ..errors import AlignmentError, Cancelled

_k = lazy("dtw_tiles")  # numba: imported where a kernel first runs

_PARALLEL_CELLS = 1 << 20  # below this many cells one thread is faster


def n_workers():
    return max(1, min(2, os.cpu_count() or 1))


def choose_shape(lo, hi):
    """Strip height and chunk width for a window (narrow corridors get short strips)."""
    width = float(np.mean(hi - lo)) if lo.size else 1.0
    strip = int(np.clip(2 ** np.floor(np.log2(max(width, 1.0) / 2)), 16, 512))
    return strip, 2048


class TilePlan:
    """Tiles covering a window; byte offsets of their packed step codes."""

    def __init__(self, lo, hi, strip_rows, chunk_cols):
        n = lo.shape[0]
        self.n = n
        self.strip_rows = int(strip_rows)
        self.n_strips = -(-n // self.strip_rows)
        starts = np.arange(0, n, self.strip_rows)
        self.c0 = np.minimum.reduceat(lo, starts)
        self.c1 = np.maximum.reduceat(hi, starts)
        heights = np.minimum(starts + self.strip_rows, n) - starts
        widths = self.c1 - self.c0
        n_chunks = np.maximum(1, -(-widths // chunk_cols))
        self.strip_first = np.zeros(self.n_strips + 1, dtype=np.int64)
        np.cumsum(n_chunks, out=self.strip_first[1:])
        n_tiles = int(self.strip_first[-1])
        strip_of = np.repeat(np.arange(self.n_strips), n_chunks)
        k = np.arange(n_tiles) - self.strip_first[strip_of]
        self.tile_j0 = (self.c0[strip_of] + k * chunk_cols).astype(np.int64)
        self.tile_w = np.minimum(chunk_cols, self.c1[strip_of] - self.tile_j0).astype(np.int64)
        self.tile_w = np.maximum(self.tile_w, 0)
        self.tile_h = heights[strip_of].astype(np.int64)
        nbytes = (self.tile_h * self.tile_w + 3) // 4
        self.tile_off = np.zeros(n_tiles + 1, dtype=np.int64)
        np.cumsum(nbytes, out=self.tile_off[1:])
        self.n_bytes = int(self.tile_off[-1])
        self.cells = int(np.sum(self.tile_h * self.tile_w))
        self.heights = heights

    def strip_tiles(self, s):
        return range(int(self.strip_first[s]), int(self.strip_first[s + 1]))


def plan_bytes(plan, m):
    """Peak memory of a tile solve: codes, row buffers, per-thread scratch."""
    scratch = n_workers() * (4 * plan.strip_rows * 8 + plan.strip_rows * 4096 + 64)
    return plan.n_bytes + 4 * (m + 1) * 8 + scratch


class TileSolution:
    def __init__(self, last_row, plan, bp, lo, hi):
        self.last_row = last_row
        self.plan, self.bp, self.lo, self.hi = plan, bp, lo, hi

    def path(self, j_end):
        plan = self.plan
        out = np.empty((plan.n + int(j_end) + 2, 2), dtype=np.int64)
        length, i, j, status = _k.tiles_backtrack(
            plan.n - 1, int(j_end), plan.strip_rows, plan.n, plan.strip_first, plan.tile_j0,
            plan.tile_w, plan.tile_off, self.bp, 0, out)
        if status < 0:
            raise AlignmentError("internal error: broken step chain")
        if status == 1:  # left through the virtual row -1 (open begin)
            length -= 1
        return out[:length][::-1].copy()


def _features(source, dtype=np.float64):
    """Transposed x and reversed transposed y of the whole problem (cached, shared with
    the sub-problems)."""
    key = ("tile_features", np.dtype(dtype).str)
    cache = source._cache.get(key)
    if cache is None:
        xt = np.ascontiguousarray(source.x.T, dtype=dtype)
        yr = np.ascontiguousarray(source.y[::-1].T, dtype=dtype)
        cache = (xt, yr)
        source._cache[key] = cache
    return cache


def is_multi(source):
    """Whether the kernels compute this source's costs in float32 over many dimensions
    (else one float64 dimension with a plain metric); as the kernels' ``_is_multi``."""
    return source.groups.shape[0] > 1 or source.dims > 1 or source.metric == "cosine" \
        or source.group_weights[0] != 1.0


#: the features the kernels are given with a cost matrix (or tiles of costs from BLAS):
#: never read; float32 like real many-dimension features, so that these calls share
#: that compiled specialisation instead of compiling another one (a first run compiles
#: each kernel signature once, ~5-10 s for the band and tile sweeps)
NO_FEATURES = np.zeros((1, 1), dtype=np.float32)

_NO_GROUPS = (np.zeros((1, 3), dtype=np.int64), np.ones(1))


def _groups(source):
    """The kernels' ``groups`` and ``weights`` (placeholders for a cost matrix)."""
    if source.cost is not None:
        return _NO_GROUPS
    return source.groups, source.group_weights


_GEMM_DIMS = 48  # from this feature dimension on, tiles of costs come from BLAS


def _block_features(source):
    """float32 copies for tile costs: x (N, D), y transposed (D, M), squared norms."""
    cache = source._cache.get("block_features")
    if cache is None:
        x32 = np.ascontiguousarray(source.x, dtype=np.float32)
        y32 = np.ascontiguousarray(source.y, dtype=np.float32)
        yt32 = np.ascontiguousarray(y32.T)
        xsq = np.einsum("ij,ij->i", x32, x32)
        ysq = np.einsum("ij,ij->i", y32, y32)
        cache = (x32, y32, yt32, xsq, ysq)
        source._cache["block_features"] = cache
    return cache


_GEMM_KIND = {"sqeuclidean": 1, "euclidean": 2, "cosine": 3}
_NO_NORMS = np.zeros(1, dtype=np.float32)


def _tile_costs(source, r0, h, j0, w, acc, out):
    """Local costs of a tile for large D: ``(block, gemm_kind, xsq, ysq)``.

    Euclidean-type and cosine costs come from one float32 matrix multiply (BLAS), the
    kernel turning dot products into costs (|x|^2 + |y|^2 - 2 x.y, rounding error about
    1e-7 of the squared norms); cityblock and several groups of terms from a vectorized
    loop (:func:`~core._kernels.dtw_tiles.band_costs`)."""
    x32, y32, yt32, xsq, ysq = _block_features(source)
    i_abs, j_abs = source.i_off + r0, source.j_off + j0
    xs = x32[i_abs:i_abs + h]
    kind = _GEMM_KIND.get(source.metric, 0)
    if kind == 0:  # cityblock, or several groups of terms
        _k.band_costs(xs, yt32, np.full(h, j_abs, dtype=np.int64),
                      np.full(h, j_abs + w, dtype=np.int64), source.groups, source.group_weights,
                      acc, out)
        return out, 0, _NO_NORMS, _NO_NORMS
    g = xs @ y32[j_abs:j_abs + w].T
    return g, kind, xsq[i_abs:i_abs + h], ysq[j_abs:j_abs + w]


def sweep(source, weights, lo, hi, plan, *, open_begin, origin_value, monitor,
          store=True, top=None, keep_rows=None, tile_offsets=None):
    """Run every tile of ``plan``. Returns (bp, bottom row of the last strip, kept rows).

    ``top``: accumulated costs of the row above row 0 (index j + 1 for column j), default
    the problem's start (inf, or zeros for open begin). ``keep_rows``: strip indices whose
    bottom rows are copied out (checkpoints). ``tile_offsets`` (with ``store``): byte
    offsets of the tiles whose codes are kept (-1: not kept), the last entry the total,
    instead of every tile's."""
    m = source.m
    wd, wu, wl = (float(v) for v in weights)
    use_matrix = source.cost is not None
    blocks = (not use_matrix) and source.dims >= _GEMM_DIMS
    if use_matrix:
        cmat = source.cost
        xt = yr = NO_FEATURES
    elif blocks:
        cmat = np.zeros((1, 1))
        xt = yr = NO_FEATURES
    elif is_multi(source):
        cmat = np.zeros((1, 1))
        xt, yr = _features(source, np.float32)
    else:
        cmat = np.zeros((1, 1))
        xt, yr = _features(source)
    groups, gweights = _groups(source)
    offsets = plan.tile_off if tile_offsets is None else tile_offsets
    bp = np.empty(max(1, int(offsets[-1])) if store else 1, dtype=np.uint8)
    rows = np.full((3, m + 1), np.inf)
    if top is None:
        if open_begin:
            rows[2][1:] = 0.0
    else:
        rows[2][:] = top
    kept = {}
    keep = set(keep_rows or ())
    # strips pipeline over two threads only when each has several chunks to overlap
    wide = plan.n_strips > 1 and int(plan.strip_first[-1]) >= 2 * plan.n_strips
    n_threads = n_workers() if plan.cells >= _PARALLEL_CELLS and wide else 1
    cond = threading.Condition()
    done_col = np.full(plan.n_strips + 1, -1, dtype=np.int64)  # index s+1 for strip s
    done_col[0] = m + 1  # the start row is complete
    state = {"abort": False, "error": None, "cells": 0}
    total = max(plan.cells, 1)
    origin = not open_begin and top is None

    def run(worker):
        if blocks and n_threads > 1:
            previous = set_local_blas_threads(1)
            try:
                return _run(worker)
            finally:
                if previous is not None:
                    set_local_blas_threads(previous)
        return _run(worker)

    def _run(worker):
        h_max = plan.strip_rows
        scratch = np.empty((3, h_max + 1))
        cbuf = np.empty(h_max + 1)
        acc32 = np.empty(h_max + 1, dtype=np.float32)
        codes = np.empty(h_max * max(1, int(plan.tile_w.max(initial=1))) + 4, dtype=np.uint8)
        left = np.empty(h_max)
        w_max = max(1, int(plan.tile_w.max(initial=1)))
        acc = np.empty(w_max if blocks else 1, dtype=np.float32)
        block_buf = np.empty(h_max * w_max if blocks else 1)
        for s in range(worker, plan.n_strips, n_threads):
            r0 = s * plan.strip_rows
            h = int(plan.heights[s])
            top_row = rows[(s + 2) % 3]
            bottom = rows[s % 3]
            c0, c1 = int(plan.c0[s]), int(plan.c1[s])
            if s > 0:
                # columns the strip above never writes are outside its window: inf
                p0, p1 = int(plan.c0[s - 1]), int(plan.c1[s - 1])
                a, b = c0, c1 + 1
                if a < p0 + 1:
                    top_row[a:min(b, p0 + 1)] = np.inf
                if b > p1 + 1:
                    top_row[max(a, p1 + 1):b] = np.inf
            left[:h] = np.inf
            lo_s = lo
            for tile in plan.strip_tiles(s):
                j0 = int(plan.tile_j0[tile])
                w = int(plan.tile_w[tile])
                need = min(j0 + w, int(plan.c1[s - 1]) if s > 0 else m) + 1
                with cond:
                    while done_col[s] < need and not state["abort"]:
                        cond.wait(0.05)
                    if state["abort"]:
                        return
                offset = int(offsets[tile]) if store else 0
                keep_codes = store and offset >= 0
                if w > 0 and blocks:
                    block, kind, xsq_t, ysq_t = _tile_costs(
                        source, r0, h, j0, w, acc, block_buf[:h * w].reshape(h, w))
                    _k.tile_sweep(r0, h, j0, w, lo_s, hi, top_row, left, bottom,
                                  True, block, -r0, -j0, xt, yr,
                                  source.i_off, source.j_off, groups, gweights, wd, wu, wl,
                                  origin and r0 == 0 and j0 == 0, float(origin_value),
                                  scratch, cbuf, acc32, codes, keep_codes, bp,
                                  max(offset, 0), kind, xsq_t, ysq_t)
                elif w > 0:
                    _k.tile_sweep(r0, h, j0, w, lo_s, hi, top_row, left, bottom,
                                  use_matrix, cmat, source.i_off, source.j_off, xt, yr,
                                  source.i_off, source.j_off, groups, gweights, wd, wu, wl,
                                  origin and r0 == 0 and j0 == 0, float(origin_value),
                                  scratch, cbuf, acc32, codes, keep_codes, bp,
                                  max(offset, 0), 0, _NO_NORMS, _NO_NORMS)
                with cond:
                    done_col[s + 1] = j0 + w + 1
                    state["cells"] += h * w
                    cond.notify_all()
                if worker == 0:
                    try:
                        monitor.report(state["cells"] / total)
                    except BaseException:
                        with cond:
                            state["abort"] = True
                            cond.notify_all()
                        raise
            with cond:
                done_col[s + 1] = m + 1
                if s in keep:
                    kept[s] = bottom.copy()
                cond.notify_all()

    def helper(worker):
        try:
            run(worker)
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller
            with cond:
                state["error"] = err
                state["abort"] = True
                cond.notify_all()

    if n_threads == 1 and not blocks and tile_offsets is None:
        _sweep_batched(plan, rows, lo, hi, use_matrix, cmat, source, xt, yr, groups, gweights,
                       (wd, wu, wl), origin, float(origin_value), store, bp, keep, kept,
                       monitor)
        return bp, _last_row(rows, plan, lo, hi), kept
    threads = [threading.Thread(target=helper, args=(k,), daemon=True)
               for k in range(1, n_threads)]
    for t in threads:
        t.start()
    try:
        run(0)
    finally:
        if state["abort"]:
            pass
        for t in threads:
            t.join()
    if state["error"] is not None:
        raise state["error"]
    if state["abort"]:
        raise Cancelled("cancelled")
    return bp, _last_row(rows, plan, lo, hi), kept


def _last_row(rows, plan, lo, hi):
    n = plan.n
    last = rows[(plan.n_strips - 1) % 3][1:].copy()
    last[:lo[n - 1]] = np.inf
    last[hi[n - 1]:] = np.inf
    return last




_BATCH_CELLS = 1 << 22
_MIN_BATCH_CELLS = 1 << 20


def batch_cells(total):
    """Cells per kernel call between progress reports: about 1/64 of the work (at least
    1M cells, where the Python between calls stays below ~2 %; at most 4M)."""
    return int(min(_BATCH_CELLS, max(_MIN_BATCH_CELLS, total // 64)))


def _sweep_batched(plan, rows, lo, hi, use_matrix, cmat, source, xt, yr, groups, gweights,
                   weights, origin, origin_value, store, bp, keep, kept, monitor):
    """One thread, many strips per kernel call (narrow windows have thousands of strips;
    Python between each would cost more than the sweep)."""
    h_max = plan.strip_rows
    scratch = np.empty((3, h_max + 1))
    cbuf = np.empty(h_max + 1)
    acc32 = np.empty(h_max + 1, dtype=np.float32)
    w_max = max(1, int(plan.tile_w.max(initial=1)))
    codes = np.empty(h_max * w_max + 4, dtype=np.uint8)
    left = np.empty(h_max)
    strip_cells = np.zeros(plan.n_strips, dtype=np.int64)
    np.add.at(strip_cells, np.repeat(np.arange(plan.n_strips), np.diff(plan.strip_first)),
              plan.tile_h * plan.tile_w)
    cum = np.cumsum(strip_cells)
    batch = batch_cells(int(cum[-1]))
    stops = set(np.searchsorted(cum, np.arange(batch, cum[-1], batch)) + 1)
    stops |= {s + 1 for s in keep}
    stops = sorted(s for s in stops if 0 < s < plan.n_strips) + [plan.n_strips]
    s0 = 0
    done = 0
    for s1 in stops:
        if s1 <= s0:
            continue
        done += _k.strips_sweep(s0, s1, plan.strip_rows, plan.heights, plan.c0, plan.c1,
                                plan.strip_first, plan.tile_j0, plan.tile_w, plan.tile_off,
                                rows, lo, hi, use_matrix, cmat, source.i_off, source.j_off, xt,
                                yr, source.i_off, source.j_off, groups, gweights, *weights,
                                origin,
                                origin_value, scratch, cbuf, acc32, codes, left, store, bp,
                                _NO_NORMS)
        if s1 - 1 in keep:
            kept[s1 - 1] = rows[(s1 - 1) % 3].copy()
        monitor.report(done / max(plan.cells, 1))
        s0 = s1


def solve_tiles(source, weights, lo, hi, *, open_begin, origin_value, monitor, plan=None):
    """Exact solve storing packed step codes; returns a :class:`TileSolution`."""
    if plan is None:
        plan = TilePlan(lo, hi, *choose_shape(lo, hi))
    bp, last, _ = sweep(source, weights, lo, hi, plan, open_begin=open_begin,
                        origin_value=origin_value, monitor=monitor)
    monitor.report(1.0)
    return TileSolution(last, plan, bp, lo, hi)
