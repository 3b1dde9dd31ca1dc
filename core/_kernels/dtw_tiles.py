"""Anti-diagonal DTW kernels for the three unit steps (1,1), (1,0), (0,1) with weights.

A tile of ``h`` rows and ``w`` columns is swept diagonal by diagonal: the cells of one
anti-diagonal do not depend on each other, so the inner loops vectorize. Local costs are
computed per diagonal from the features (x rows forwards, y rows backwards, so both are
read contiguously) or read from a precomputed matrix. Step codes (0 none, 1 diagonal,
2 from the row above, 3 from the left) are packed four per byte in the tile's diagonal
order.
"""

import numpy as np
from numba import njit

SQEUCLIDEAN, EUCLIDEAN, CITYBLOCK, COSINE = 0, 1, 2, 3


@njit(cache=True, nogil=True, inline="always")
def diag_offset(t, h, w):
    """Number of cells of an h x w tile on anti-diagonals before ``t``."""
    if t <= h:
        first = t * (t + 1) // 2
    else:
        first = h * (h + 1) // 2 + (t - h) * h
    if t > w:
        k = t - w
        first -= k * (k + 1) // 2
    return first


@njit(cache=True, nogil=True)
def _diagonal_costs(cbuf, xt, yr, xb, yb, ulo, uhi, metric):
    # loops run over k = 0 .. count-1 on slices: with indices known to be non-negative
    # numba drops its negative-index wraparound and LLVM emits plain vector loads
    count = uhi - ulo + 1
    out = cbuf[ulo:uhi + 1]
    for k in range(count):
        out[k] = 0.0
    for dd in range(xt.shape[0]):
        xs = xt[dd][xb + ulo:xb + uhi + 1]
        ys = yr[dd][yb + ulo:yb + uhi + 1]
        if metric == COSINE:
            for k in range(count):
                out[k] += xs[k] * ys[k]
        elif metric == CITYBLOCK:
            for k in range(count):
                out[k] += abs(xs[k] - ys[k])
        else:
            for k in range(count):
                t = xs[k] - ys[k]
                out[k] += t * t
    if metric == EUCLIDEAN:
        for k in range(count):
            out[k] = np.sqrt(out[k])
    elif metric == COSINE:
        for k in range(count):
            out[k] = min(max(1.0 - out[k], 0.0), 2.0)


@njit(cache=True, nogil=True)
def _diagonal_steps(e0, e1, e2, cbuf, lo, hi, codes, base, ulo, uhi, i0, js, wd, wu, wl,
                    check):
    """One anti-diagonal: cell u is (i0 + u - 1, js - u - 1). Branch-free so it vectorizes;
    ties go to the diagonal, then the left, then the upper step (dtw-python's order)."""
    inf = np.inf
    count = uhi - ulo + 1
    c_s = cbuf[ulo:uhi + 1]
    d_s = e2[ulo - 1:uhi]
    l_s = e1[ulo:uhi + 1]
    u_s = e1[ulo - 1:uhi]
    out = e0[ulo:uhi + 1]
    lo_s = lo[i0 + ulo - 1:i0 + uhi]
    hi_s = hi[i0 + ulo - 1:i0 + uhi]
    code_s = codes[base + ulo:base + uhi + 1]
    j_first = js - ulo - 1
    if not check:
        for k in range(count):
            c = c_s[k]
            vd = d_s[k] + wd * c
            vl = l_s[k] + wl * c
            vu = u_s[k] + wu * c
            m1 = min(vd, vl)
            out[k] = min(m1, vu)
            code = np.uint8(3) if vl < vd else np.uint8(1)
            code_s[k] = np.uint8(2) if vu < m1 else code
        return
    for k in range(count):
        c = c_s[k]
        vd = d_s[k] + wd * c
        vl = l_s[k] + wl * c
        vu = u_s[k] + wu * c
        m1 = min(vd, vl)
        best = min(m1, vu)
        code = np.uint8(3) if vl < vd else np.uint8(1)
        code = np.uint8(2) if vu < m1 else code
        j = j_first - k
        outside = (j < lo_s[k]) | (j >= hi_s[k])
        out[k] = inf if outside else best
        code_s[k] = np.uint8(0) if outside else code


@njit(cache=True, nogil=True)
def tile_sweep(i0, h, j0, w, lo, hi, top, left, bottom,
               use_matrix, cmat, ci, cj, xt, yr, xo, yo, metric,
               wd, wu, wl, origin_here, origin_value,
               scratch, cbuf, codes, store, bp, bp_off):
    """Sweep one tile; see the module docstring.

    ``top[j + 1]`` holds the accumulated cost of row ``i0 - 1`` at column ``j`` (index 0
    is column -1); ``left[a]`` that of column ``j0 - 1`` at row ``i0 + a`` and receives the
    tile's last column; ``bottom[j + 1]`` receives its last row. Rows and columns are
    those of the (sub)problem; its cell (i, j) has cost ``cmat[ci + i, cj + j]`` or the
    distance between ``xt[:, xo + i]`` and ``yr[:, ym - 1 - (yo + j)]`` (``yr`` holds y
    reversed, ``ym`` its length).
    """
    n_dims = xt.shape[0]
    ym = yr.shape[1]
    e2 = scratch[0]
    e1 = scratch[1]
    e0 = scratch[2]
    check = False
    for a in range(h):
        if lo[i0 + a] > j0 or hi[i0 + a] < j0 + w:
            check = True
            break
    for s in range(h + w + 1):
        tmp = e2
        e2 = e1
        e1 = e0
        e0 = tmp
        ulo = max(1, s - w)
        uhi = min(h, s - 1)
        if uhi >= ulo:
            base = diag_offset(s - 2, h, w) - ulo
            if use_matrix:
                # cell u sits at flat index first + (u - ulo) * (cols - 1) of cmat
                cols = cmat.shape[1]
                flat = cmat.ravel()
                first = np.uint64((ci + i0 + ulo - 1) * cols + cj + j0 + s - ulo - 1)
                stride = np.uint64(cols - 1)
                out = cbuf[ulo:uhi + 1]
                for k in range(np.uint64(uhi - ulo + 1)):
                    out[k] = flat[first + k * stride]
            elif n_dims == 1 and metric != COSINE:
                xb = xo + i0 - 1
                yb = ym - yo - j0 - s
                xs = xt[0][xb + ulo:xb + uhi + 1]
                ys = yr[0][yb + ulo:yb + uhi + 1]
                out = cbuf[ulo:uhi + 1]
                if metric == SQEUCLIDEAN:
                    for k in range(uhi - ulo + 1):
                        t = xs[k] - ys[k]
                        out[k] = t * t
                else:
                    for k in range(uhi - ulo + 1):
                        out[k] = abs(xs[k] - ys[k])
            else:
                _diagonal_costs(cbuf, xt, yr, xo + i0 - 1, ym - yo - j0 - s, ulo, uhi,
                                metric)
            _diagonal_steps(e0, e1, e2, cbuf, lo, hi, codes, base, ulo, uhi, i0, j0 + s,
                            wd, wu, wl, check)
        if s <= w:
            e0[0] = top[j0 + s]
        if 1 <= s <= h:
            e0[s] = left[s - 1]
        if origin_here and s == 2:
            e0[1] = origin_value
            codes[0] = 0
        if 1 <= s - h <= w:
            bottom[j0 + s - h] = e0[h]
        if 1 <= s - w <= h:
            left[s - w - 1] = e0[s - w]
    if store:
        n_bytes = (h * w + 3) // 4
        for k in range(h * w, 4 * n_bytes):
            codes[k] = 0
        for k in range(n_bytes):
            bp[bp_off + k] = (codes[4 * k] | (codes[4 * k + 1] << 2)
                              | (codes[4 * k + 2] << 4) | (codes[4 * k + 3] << 6))


@njit(cache=True, nogil=True)
def tiles_backtrack(i, j, strip_rows, n_rows, strip_first, tile_j0, tile_w, tile_off, bp,
                    stop_row, path):
    """Follow step codes back from (i, j) while ``i >= stop_row``; writes the visited
    cells backwards into ``path``. Returns ``(length, i, j, status)``: status 0 reached
    the origin (code 0 at (0, 0)), 1 left through row ``stop_row - 1`` (that cell is the
    last one written), -1 a broken chain."""
    k = 0
    path[0, 0] = i
    path[0, 1] = j
    while True:
        s = i // strip_rows
        r0 = s * strip_rows
        h = min(strip_rows, n_rows - r0)
        t0 = strip_first[s]
        t1 = strip_first[s + 1]
        tile = t0
        while tile + 1 < t1 and tile_j0[tile + 1] <= j:
            tile += 1
        w = tile_w[tile]
        a = i - r0
        b = j - tile_j0[tile]
        if b < 0 or b >= w:
            return k + 1, i, j, -1
        t = a + b
        idx = diag_offset(t, h, w) + a - max(0, t - w + 1)
        code = (bp[tile_off[tile] + idx // 4] >> ((idx % 4) * 2)) & 3
        if code == 0:
            if i == 0 and j == 0:
                return k + 1, i, j, 0
            return k + 1, i, j, -1
        if code == 1:
            i -= 1
            j -= 1
        elif code == 2:
            i -= 1
        else:
            j -= 1
        k += 1
        path[k, 0] = i
        path[k, 1] = j
        if i < stop_row:
            return k + 1, i, j, 1


@njit(cache=True, nogil=True)
def block_costs(xs, yt, j0, w, metric, acc, out):
    """Local costs of rows ``xs`` (h, D) against columns ``j0 .. j0+w-1`` of ``yt`` (D, M)
    into ``out[:h, :w]``; float32 arithmetic vectorized along the columns, ``acc`` a
    float32 scratch row of length >= w."""
    h = xs.shape[0]
    n_dims = xs.shape[1]
    a_s = acc[:w]
    for a in range(h):
        for b in range(w):
            a_s[b] = 0.0
        for k in range(n_dims):
            xv = xs[a, k]
            ys = yt[k][j0:j0 + w]
            if metric == COSINE:
                for b in range(w):
                    a_s[b] += xv * ys[b]
            elif metric == CITYBLOCK:
                for b in range(w):
                    a_s[b] += abs(xv - ys[b])
            else:
                for b in range(w):
                    t = xv - ys[b]
                    a_s[b] += t * t
        row = out[a]
        if metric == EUCLIDEAN:
            for b in range(w):
                row[b] = np.sqrt(np.float64(a_s[b]))
        elif metric == COSINE:
            for b in range(w):
                row[b] = min(max(1.0 - np.float64(a_s[b]), 0.0), 2.0)
        else:
            for b in range(w):
                row[b] = a_s[b]
