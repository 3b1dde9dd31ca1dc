"""Anti-diagonal DTW over a monotone window (bands, corridors), one diagonal at a time.

When every row's column interval ``[lo[i], hi[i])`` moves right with ``i`` (both ends
non-decreasing), the window cells of anti-diagonal ``t = i + j`` are the rows
``first[t] .. last[t]``: contiguous, independent of each other, so the loop vectorizes and
only window cells are visited and stored, whatever the window's shape. Accumulated costs
live in three buffers indexed by ``i + 1`` (index 0 is the virtual row -1 of open begin).
Step codes (1 diagonal, 2 up, 3 left) are packed four per byte, each diagonal starting on
a byte boundary at ``diag_byte[t]``.
"""

import numpy as np
from numba import njit

from .dtw_tiles import COSINE, EUCLIDEAN, SQEUCLIDEAN, _diagonal_costs, _dp_diagonal


@njit(cache=True, nogil=True)
def band_sweep(t0, t1, n, first, last, diag_byte, use_matrix, cmat, ci, cj, xt, yr, xo,
               yo, metric, wd, wu, wl, open_begin, origin_value, buffers, cbuf, acc,
               codes, bp, last_row):
    """Diagonals ``t0 .. t1-1``; ``buffers`` (3, n + 2) must hold inf (row -1: 0 for open
    begin) before ``t0 = 0``. Cell (i, j) costs ``cmat[ci + i, cj + j]`` or the ``metric``
    distance of ``xt[:, xo + i]`` and ``yr[:, ym - 1 - (yo + j)]``. Writes the last row's
    accumulated costs into ``last_row``."""
    inf = np.inf
    ym = yr.shape[1]
    cols = cmat.shape[1]
    flat = cmat.ravel()
    multi = xt.shape[0] > 1 or metric == COSINE
    square = metric == SQEUCLIDEAN
    xrow = xt[0]
    yrow = yr[0]
    row_start = 0.0 if open_begin else inf
    for t in range(t0, t1):
        r0 = np.uint64(t % 3)
        r1 = np.uint64((t + 2) % 3)
        r2 = np.uint64((t + 1) % 3)
        # forget diagonal t - 3 (the buffer's previous content): outside cells read inf
        if t >= 3:
            for i in range(first[t - 3], last[t - 3] + 1):
                buffers[r0, i + 1] = inf
        buffers[r0, 0] = row_start
        a = first[t]
        b = last[t]
        if b < a:
            continue
        count = np.uint64(b - a + 1)
        if use_matrix:
            start = np.uint64((ci + a) * cols + cj + t - a)
            stride = np.uint64(cols - 1)
            for k in range(count):
                cbuf[k] = flat[start + k * stride]
        elif multi:
            _diagonal_costs(acc, xt, yr, np.uint64(xo + a), np.uint64(ym - 1 - yo - t + a),
                            count, metric)
            if metric == EUCLIDEAN:
                for k in range(count):
                    acc[k] = np.sqrt(acc[k])
            elif metric == COSINE:
                for k in range(count):
                    acc[k] = min(max(np.float32(1.0) - acc[k], np.float32(0.0)),
                                 np.float32(2.0))
        else:
            xb = np.uint64(xo + a)
            yb = np.uint64(ym - 1 - yo - t + a)
            if square:
                for k in range(count):
                    d = xrow[xb + k] - yrow[yb + k]
                    cbuf[k] = d * d
            else:
                for k in range(count):
                    cbuf[k] = abs(xrow[xb + k] - yrow[yb + k])
        um = np.uint64(a)
        ub = np.uint64(a + 1)
        if multi and not use_matrix:
            _dp_diagonal(acc, buffers, r0, r1, r2, ub, um, count, False, first, first, 0, 0,
                         codes, np.uint64(0), wd, wl, wu)
        else:
            _dp_diagonal(cbuf, buffers, r0, r1, r2, ub, um, count, False, first, first, 0, 0,
                         codes, np.uint64(0), wd, wl, wu)
        if t == 0 and not open_begin:
            buffers[r0, 1] = origin_value
            codes[0] = 0
        n_cells = b - a + 1
        for k in range(n_cells, (n_cells + 3) // 4 * 4):
            codes[k] = 0
        out = diag_byte[t]
        for k in range((n_cells + 3) // 4):
            bp[out + k] = (codes[4 * k] | (codes[4 * k + 1] << 2) | (codes[4 * k + 2] << 4)
                           | (codes[4 * k + 3] << 6))
        if b == n - 1:
            last_row[t - (n - 1)] = buffers[r0, n]


@njit(cache=True, nogil=True)
def band_backtrack(i, j, first, diag_byte, bp, open_begin, path):
    """Follow the codes back from (i, j); returns the path length (written backwards) or
    -1 for a broken chain."""
    k = 0
    path[0, 0] = i
    path[0, 1] = j
    while True:
        t = i + j
        idx = i - first[t]
        code = (bp[diag_byte[t] + idx // 4] >> ((idx % 4) * 2)) & 3
        if code == 0:
            if i == 0 and j == 0 and not open_begin:
                return k + 1
            return -1
        if code == 1:
            i -= 1
            j -= 1
        elif code == 2:
            i -= 1
        else:
            j -= 1
        if i < 0:
            return k + 1
        k += 1
        path[k, 0] = i
        path[k, 1] = j
