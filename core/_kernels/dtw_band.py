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

from ._jit import njit
from .dtw_tiles import SQEUCLIDEAN, _diagonal_terms, _dp_diagonal, _is_multi


@njit(cache=True, nogil=True)
def band_sweep(t0, t1, n, first, last, diag_byte, use_matrix, cmat, ci, cj, xt, yr, xo,
               yo, groups, weights, wd, wu, wl, open_begin, origin_value, buffers, cbuf, acc,
               codes, bp, last_row):
    """Diagonals ``t0 .. t1-1``; ``buffers`` (3, n + 2) must hold inf (row -1: 0 for open
    begin) before ``t0 = 0``. Cell (i, j) costs ``cmat[ci + i, cj + j]`` or the weighted
    sum of the groups' distances (``groups``, ``weights``: see
    :func:`~core._kernels.dtw_tiles._diagonal_terms`) of ``xt[:, xo + i]`` and
    ``yr[:, ym - 1 - (yo + j)]``. Writes the last row's
    accumulated costs into ``last_row``."""
    inf = np.inf
    ym = yr.shape[1]
    cols = cmat.shape[1]
    flat = cmat.ravel()
    multi = _is_multi(xt, groups, weights)
    square = groups[0, 2] == SQEUCLIDEAN
    tmp = np.empty(acc.shape[0] if groups.shape[0] > 1 else 1, dtype=np.float32)
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
            _diagonal_terms(acc, tmp, xt, yr, np.uint64(xo + a),
                            np.uint64(ym - 1 - yo - t + a), count, groups, weights)
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


@njit(cache=True, nogil=True)
def pruned_sweep(t_start, t_stop, state, n, m, wfirst, wlast, use_matrix, cmat, ci, cj, xt,
                 yr, xo, yo, groups, weights, wd, wu, wl, open_begin, origin_value, bound,
                 buffers,
                 cbuf, acc, codes, bp, first, count_out, diag_byte, last_row):
    """Exact DTW that skips cells which cannot lie on a path cheaper than ``bound``
    (costs are non-negative, so a cell whose accumulated cost exceeds the bound has only
    successors that do too; PrunedDTW, Silva & Batista 2016), anti-diagonal by
    anti-diagonal inside the window rows ``wfirst[t] .. wlast[t]``.

    Runs diagonals ``t_start .. t_stop-1``; ``state`` (int64, 6) carries the live rows of
    the two previous diagonals, the bytes used and the cells computed between calls
    (start with ``[0, -1, 0, -1, 0, 0]``). Fills ``first[t]``, ``count_out[t]`` (rows
    computed), ``diag_byte[t]`` and the packed codes in ``bp``; returns the number of
    cells computed so far, or -1 when ``bp`` is too small.
    """
    inf = np.inf
    ym = yr.shape[1]
    cols = cmat.shape[1]
    flat = cmat.ravel()
    multi = _is_multi(xt, groups, weights)
    square = groups[0, 2] == SQEUCLIDEAN
    tmp = np.empty(acc.shape[0] if groups.shape[0] > 1 else 1, dtype=np.float32)
    xrow = xt[0]
    yrow = yr[0]
    row_start = 0.0 if open_begin else inf
    live_a1 = state[0]  # live rows of diagonal t-1
    live_b1 = state[1]
    live_a2 = state[2]  # and t-2
    live_b2 = state[3]
    used = state[4]
    cells = state[5]
    capacity = bp.shape[0]
    for t in range(t_start, t_stop):
        r0 = np.uint64(t % 3)
        r1 = np.uint64((t + 2) % 3)
        r2 = np.uint64((t + 1) % 3)
        if t >= 3:
            for i in range(first[t - 3], first[t - 3] + count_out[t - 3]):
                buffers[r0, i + 1] = inf
        buffers[r0, 0] = row_start
        if t == 0:
            a = 0
            b = 0
        else:
            a = n
            b = -1
            if live_b1 >= live_a1:
                a = min(a, live_a1)
                b = max(b, live_b1 + 1)
            if live_b2 >= live_a2:
                a = min(a, live_a2 + 1)
                b = max(b, live_b2 + 1)
            if open_begin:
                a = 0
                b = max(b, 0)
        a = max(a, wfirst[t])
        b = min(b, wlast[t])
        first[t] = a
        diag_byte[t] = used
        if b < a:
            count_out[t] = 0
            live_a2, live_b2 = live_a1, live_b1
            live_a1, live_b1 = 0, -1
            continue
        n_cells = b - a + 1
        need = (n_cells + 3) // 4
        if used + need > capacity:
            return -1
        count_out[t] = n_cells
        count = np.uint64(n_cells)
        if use_matrix:
            start = np.uint64((ci + a) * cols + cj + t - a)
            stride = np.uint64(cols - 1)
            for k in range(count):
                cbuf[k] = flat[start + k * stride]
        elif multi:
            _diagonal_terms(acc, tmp, xt, yr, np.uint64(xo + a),
                            np.uint64(ym - 1 - yo - t + a), count, groups, weights)
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
        for k in range(n_cells, need * 4):
            codes[k] = 0
        for k in range(need):
            bp[used + k] = (codes[4 * k] | (codes[4 * k + 1] << 2) | (codes[4 * k + 2] << 4)
                            | (codes[4 * k + 3] << 6))
        used += need
        cells += n_cells
        if b == n - 1:
            last_row[t - (n - 1)] = buffers[r0, n]
        # live rows: the first and last cell not above the bound
        la = b + 1
        for i in range(a, b + 1):
            if buffers[r0, i + 1] <= bound:
                la = i
                break
        lb = a - 1
        for i in range(b, a - 1, -1):
            if buffers[r0, i + 1] <= bound:
                lb = i
                break
        live_a2, live_b2 = live_a1, live_b1
        live_a1, live_b1 = la, lb
    state[0] = live_a1
    state[1] = live_b1
    state[2] = live_a2
    state[3] = live_b2
    state[4] = used
    state[5] = cells
    diag_byte[t_stop] = used
    return cells
