"""Driver of the anti-diagonal band kernel (monotone windows: bands and corridors)."""

from __future__ import annotations

import numpy as np

from .._kernels import lazy
from ..errors import AlignmentError
from ._tiles import NO_FEATURES, _features, _groups, batch_cells, is_multi

_k = lazy("dtw_band")  # numba: imported where a kernel first runs

_BATCH_CELLS = 1 << 22


def is_monotone(lo, hi):
    return bool(np.all(np.diff(lo) >= 0) and np.all(np.diff(hi) >= 0))


class BandPlan:
    """Rows of every anti-diagonal inside a monotone window, byte offsets of its codes."""

    def __init__(self, lo, hi, m):
        n = lo.shape[0]
        rows = np.arange(n, dtype=np.int64)
        t = np.arange(n + m - 1, dtype=np.int64)
        self.n, self.m = n, m
        # row i is on diagonal t iff lo[i] + i <= t < hi[i] + i (both strictly increasing)
        self.last = np.searchsorted(lo + rows, t, side="right").astype(np.int64) - 1
        self.first = np.searchsorted(hi + rows, t, side="right").astype(np.int64)
        self.last = np.minimum(self.last, n - 1)
        lengths = np.maximum(self.last - self.first + 1, 0)
        self.cells = int(lengths.sum())
        self.diag_byte = np.zeros(t.shape[0] + 1, dtype=np.int64)
        np.cumsum((lengths + 3) // 4, out=self.diag_byte[1:])
        self.n_bytes = int(self.diag_byte[-1])
        self.max_len = int(lengths.max(initial=1))

    @property
    def memory_bytes(self):
        return self.n_bytes + 3 * (self.n + 2) * 8 + 3 * 8 * (self.n + self.m) \
            + 13 * self.max_len + 8 * self.m


class BandSolution:
    def __init__(self, last_row, plan, bp, open_begin):
        self.last_row, self.plan, self.bp, self.open_begin = last_row, plan, bp, open_begin

    def path(self, j_end):
        plan = self.plan
        out = np.empty((plan.n + int(j_end) + 2, 2), dtype=np.int64)
        length = _k.band_backtrack(plan.n - 1, int(j_end), plan.first, plan.diag_byte,
                                   self.bp, self.open_begin, out)
        if length < 0:
            raise AlignmentError("internal error: broken step chain")
        return out[:length][::-1].copy()


def _kernel_inputs(source, weights, n, open_begin):
    """What both band kernels take: the cost matrix or the (transposed, reversed)
    features, the groups of terms with their weights, the step weights and the three
    anti-diagonal buffers."""
    use_matrix = source.cost is not None
    if use_matrix:
        cmat = source.cost
        xt = yr = NO_FEATURES
    else:
        cmat = np.zeros((1, 1))
        xt, yr = _features(source, np.float32 if is_multi(source) else np.float64)
    groups = _groups(source)
    step_weights = tuple(float(v) for v in weights)
    buffers = np.full((3, n + 2), np.inf)
    if open_begin:
        buffers[:, 0] = 0.0
        buffers[(-2) % 3, 0] = np.inf  # the corner (-1, -1) is not a start
    return use_matrix, cmat, xt, yr, groups, step_weights, buffers


def solve_band(source, weights, lo, hi, *, open_begin, origin_value, monitor, plan=None):
    """Exact solve over a monotone window; returns a :class:`BandSolution`."""
    n, m = source.n, source.m
    if plan is None:
        plan = BandPlan(lo, hi, m)
    use_matrix, cmat, xt, yr, (groups, gweights), (wd, wu, wl), buffers = _kernel_inputs(
        source, weights, n, open_begin)
    size = plan.max_len + 4
    cbuf = np.empty(size)
    acc = np.empty(size, dtype=np.float32)
    codes = np.empty(size, dtype=np.uint8)
    bp = np.empty(max(plan.n_bytes, 1), dtype=np.uint8)
    last_row = np.full(m, np.inf)
    n_diag = n + m - 1
    lengths = np.maximum(plan.last - plan.first + 1, 0)
    cum = np.cumsum(lengths)
    batch = batch_cells(int(cum[-1]))
    stops = list(np.searchsorted(cum, np.arange(batch, cum[-1], batch)) + 1)
    stops = sorted({int(s) for s in stops if 0 < s < n_diag}) + [n_diag]
    t0 = 0
    for t1 in stops:
        _k.band_sweep(t0, t1, n, plan.first, plan.last, plan.diag_byte, use_matrix, cmat,
                      source.i_off, source.j_off, xt, yr, source.i_off, source.j_off, groups,
                      gweights, wd, wu, wl, open_begin, float(origin_value), buffers, cbuf, acc,
                      codes, bp, last_row)
        monitor.report(cum[t1 - 1] / max(cum[-1], 1))
        t0 = t1
    last_row[:lo[n - 1]] = np.inf
    last_row[hi[n - 1]:] = np.inf
    return BandSolution(last_row, plan, bp, open_begin)


BAND_MAX_WIDTH = 1536  # mean window width up to which the band kernel beats tiles


def use_band(lo, hi):
    return lo.shape[0] > 1 and float(np.mean(hi - lo)) <= BAND_MAX_WIDTH \
        and is_monotone(lo, hi)


def solve_fast(source, weights, lo, hi, *, open_begin, origin_value, monitor):
    """Exact solve with the kernel that suits the window (band or tiles)."""
    from ._tiles import solve_tiles

    if use_band(lo, hi):
        return solve_band(source, weights, lo, hi, open_begin=open_begin,
                          origin_value=origin_value, monitor=monitor)
    return solve_tiles(source, weights, lo, hi, open_begin=open_begin,
                       origin_value=origin_value, monitor=monitor)


class _PrunedPlan:
    def __init__(self, n, first, diag_byte):
        self.n, self.first, self.diag_byte = n, first, diag_byte


def solve_pruned(source, weights, lo, hi, *, open_begin, origin_value, bound, capacity,
                 monitor=None):
    """Exact solve skipping cells above ``bound`` (the cost of any known path).

    Returns ``(solution, cells)``, or ``(None, 0)`` when the codes of the cells that
    cannot be pruned would exceed ``capacity`` bytes. Progress and cancellation between
    batches of diagonals (progress as the share of diagonals done)."""
    n, m = source.n, source.m
    plan = BandPlan(lo, hi, m)
    use_matrix, cmat, xt, yr, (groups, gweights), (wd, wu, wl), buffers = _kernel_inputs(
        source, weights, n, open_begin)
    size = plan.max_len + 4
    n_diag = n + m - 1
    first = np.zeros(n_diag + 1, dtype=np.int64)
    counts = np.zeros(n_diag + 1, dtype=np.int64)
    diag_byte = np.zeros(n_diag + 1, dtype=np.int64)
    bp = np.empty(int(capacity), dtype=np.uint8)
    last_row = np.full(m, np.inf)
    state = np.array([0, -1, 0, -1, 0, 0], dtype=np.int64)
    cbuf = np.empty(size)
    acc = np.empty(size, dtype=np.float32)
    codes = np.empty(size, dtype=np.uint8)
    step = max(1, _BATCH_CELLS // max(plan.max_len, 1))
    cells = 0
    for t0 in range(0, n_diag, step):
        t1 = min(n_diag, t0 + step)
        cells = _k.pruned_sweep(t0, t1, state, n, m, plan.first, plan.last, use_matrix, cmat,
                                source.i_off, source.j_off, xt, yr, source.i_off, source.j_off,
                                groups, gweights, wd, wu, wl, open_begin, float(origin_value),
                                float(bound), buffers, cbuf, acc, codes, bp, first, counts,
                                diag_byte, last_row)
        if cells < 0:
            return None, 0
        if monitor is not None:
            monitor.report(t1 / n_diag)
    last_row[:lo[n - 1]] = np.inf
    last_row[hi[n - 1]:] = np.inf
    return BandSolution(last_row, _PrunedPlan(n, first, diag_byte), bp, open_begin), cells
