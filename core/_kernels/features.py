"""Kernels of the feature-based alignment pipeline (no validation here).

A banded DTW with weighted steps, used by ``core.pipeline`` for its coarse pass (band =
whole rows) and its refinement inside a corridor: row ``i`` admits columns
``lo[i] <= j < hi[i]``; the cost of cell (i, j) is ``cost[i, j - lo[i]]``.

Steps: (1, 0) weight ``w_v``, (0, 1) weight ``w_h``, (1, 1) weight ``w_d``; each step
adds ``weight * cost`` of the cell it enters. With ``open_begin`` a path may start on any
cell of the first row or first column (paying only that cell's cost); the wrapper picks
the end cell.

``overlap_accumulate`` is the open-begin DP on threshold-shifted costs with which the
pipeline finds the shared part of two recordings.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def band_accumulate(cost, lo, hi, w_v, w_h, w_d, open_begin, acc, back):
    """Fill ``acc`` (N, W) and ``back`` (N, W) int8 (0 start, 1 vertical, 2 horizontal,
    3 diagonal) for the banded DP; cells outside the band stay +inf."""
    n = cost.shape[0]
    inf = np.inf
    for i in range(n):
        l0 = lo[i]
        h0 = hi[i]
        for jj in range(acc.shape[1]):
            acc[i, jj] = inf
            back[i, jj] = -1
        for j in range(l0, h0):
            c = cost[i, j - l0]
            best = inf
            arg = -1
            if i == 0 and (j == 0 or open_begin):
                best = c
                arg = 0
            elif j == 0 and open_begin:
                best = c
                arg = 0
            if i > 0:
                pl = lo[i - 1]
                ph = hi[i - 1]
                if pl <= j < ph:
                    v = acc[i - 1, j - pl] + w_v * c
                    if v < best:
                        best = v
                        arg = 1
                if pl <= j - 1 < ph:
                    v = acc[i - 1, j - 1 - pl] + w_d * c
                    if v < best:
                        best = v
                        arg = 3
            if j > l0:
                v = acc[i, j - 1 - l0] + w_h * c
                if v < best:
                    best = v
                    arg = 2
            acc[i, j - l0] = best
            back[i, j - l0] = arg


@njit(cache=True, nogil=True)
def band_backtrack(back, lo, i_end, j_end, path):
    """Write the path ending at (i_end, j_end) backwards into ``path``; returns its
    length (rows path[:length] in reverse order), or -1 if the cell is unreachable."""
    i = i_end
    j = j_end
    k = 0
    while True:
        path[k, 0] = i
        path[k, 1] = j
        k += 1
        b = back[i, j - lo[i]]
        if b == 0:
            return k
        if b == 1:
            i -= 1
        elif b == 2:
            j -= 1
        elif b == 3:
            i -= 1
            j -= 1
        else:
            return -1


@njit(cache=True, nogil=True)
def overlap_accumulate(cost, acc, back):
    """Open-begin DP for finding the shared part of two sequences on a full (N, M) cost
    matrix already shifted by a threshold (negative = frames that match).

    Diagonal steps add ``2 * cost``; horizontal and vertical steps add
    ``max(cost, 0)``: they may pay for a mismatch but never earn, so one frame that
    happens to resemble a long stretch of unrelated material cannot pull the path along
    it. A path may start on any cell of the first row or column. ``back`` codes as in
    :func:`band_accumulate`.
    """
    n, m = cost.shape
    for i in range(n):
        for j in range(m):
            c = cost[i, j]
            hv = c if c > 0.0 else 0.0
            if i == 0 or j == 0:
                best = c
                arg = 0
            else:
                best = np.inf
                arg = -1
            if i > 0:
                v = acc[i - 1, j] + hv
                if v < best:
                    best = v
                    arg = 1
                if j > 0:
                    v = acc[i - 1, j - 1] + 2.0 * c
                    if v < best:
                        best = v
                        arg = 3
            if j > 0:
                v = acc[i, j - 1] + hv
                if v < best:
                    best = v
                    arg = 2
            acc[i, j] = best
            back[i, j] = arg
