"""Driver of the general step-pattern kernel (any pattern, row strips, packed steps)."""

from __future__ import annotations

import numpy as np

from .._kernels import lazy
from ..errors import AlignmentError

_k = lazy("dtw_steps")  # numba: imported where a kernel first runs

_BLOCK_CELLS = 1 << 21


def code_bits(n_steps):
    return 2 if n_steps <= 3 else 4 if n_steps <= 15 else 8


def generic_bytes(pattern, lo, hi, m):
    bits = code_bits(pattern.n_steps)
    cells = int(np.sum(hi - lo))
    return cells * bits // 8 + 1 + (pattern.max_di + 1) * m * 8 + _BLOCK_CELLS * 8


class GenericSolution:
    """Accumulated costs of the last row and the packed steps of one (sub)problem."""

    def __init__(self, last_row, lo, hi, rowstart, bp, bits, pattern, open_begin):
        self.last_row = last_row
        self.lo, self.hi, self.rowstart = lo, hi, rowstart
        self.bp, self.bits, self.pattern, self.open_begin = bp, bits, pattern, open_begin

    def path(self, j_end):
        n = self.lo.shape[0]
        p = self.pattern
        out = np.empty((n + int(j_end) + 2, 2), dtype=np.int64)
        length = _k.steps_backtrack(n - 1, int(j_end), self.lo, self.rowstart, self.bp, self.bits,
                                    p.start_di, p.start_dj, p.cell_first, p.cell_di, p.cell_dj,
                                    self.open_begin, out)
        if length < 0:
            raise AlignmentError("internal error: broken backpointer chain")
        return out[:length][::-1].copy()


def solve_generic(source, pattern, lo, hi, mask, *, open_begin, origin_value, monitor):
    """Run the general kernel over rows of a problem whose local costs ``source.block``
    gives; returns a :class:`GenericSolution`."""
    n = lo.shape[0]
    m = source.m
    bits = code_bits(pattern.n_steps)
    sizes = hi - lo
    rowstart = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=rowstart[1:])
    bp = np.zeros(int(rowstart[-1]) * bits // 8 + 1, dtype=np.uint8)
    ring = np.full((pattern.max_di + 1, m), np.inf)
    has_mask = mask is not None
    mask_arr = mask if has_mask else np.zeros((1, 1), dtype=bool)
    width = max(1, int(sizes.max()) + pattern.max_dj) if n else 1
    strip = max(1, _BLOCK_CELLS // width)
    i0 = 0
    while i0 < n:
        i1 = min(n, i0 + strip)
        monitor.report(i0 / n)
        r0 = max(0, i0 - pattern.max_di)
        nz = sizes[r0:i1] > 0
        if np.any(nz):
            c0 = max(0, int(lo[r0:i1][nz].min()) - pattern.max_dj)
            c1 = int(hi[r0:i1][nz].max())
        else:
            c0, c1 = 0, 1
        cost, ci0, cj0 = source.block(r0, i1, c0, max(c1, c0 + 1))
        _k.steps_rows(i0, i1, lo, hi, rowstart, mask_arr, has_mask, cost, ci0, cj0,
                      pattern.start_di, pattern.start_dj, pattern.cell_first, pattern.cell_di,
                      pattern.cell_dj, pattern.cell_w, float(origin_value), bool(open_begin),
                      ring, bp, bits)
        i0 = i1
    monitor.report(1.0)
    last = ring[(n - 1) % ring.shape[0]].copy()
    last[:lo[n - 1]] = np.inf
    last[hi[n - 1]:] = np.inf
    if mask is not None:
        last[~mask[n - 1]] = np.inf
    return GenericSolution(last, lo, hi, rowstart, bp, bits, pattern, open_begin)
