"""Anti-diagonal DTW kernels for the three unit steps (1,1), (1,0), (0,1) with weights.

A tile of ``h`` rows and ``w`` columns is swept diagonal by diagonal: the cells of one
anti-diagonal do not depend on each other, so the inner loops vectorize. Local costs are
computed per diagonal from the features (x rows forwards, y rows backwards, so both are
read contiguously) or read from a precomputed matrix. Step codes (0 none, 1 diagonal,
2 from the row above, 3 from the left) are packed four per byte in the tile's diagonal
order.
"""

import numpy as np

from . import CITYBLOCK, COSINE, EUCLIDEAN, SQEUCLIDEAN  # noqa: F401 - the kernels read them
from ._jit import njit


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


@njit(cache=True, nogil=True, inline="always")
def _step(c, vd, vl, vu, wd, wl, wu):
    """Best of the three steps into a cell of cost c; ties go to the diagonal, then the
    left, then the upper step (dtw-python's order). Branch-free so loops vectorize."""
    vd = vd + wd * c
    vl = vl + wl * c
    vu = vu + wu * c
    m1 = min(vd, vl)
    best = min(m1, vu)
    code = np.uint8(3) if vl < vd else np.uint8(1)
    code = np.uint8(2) if vu < m1 else code
    return best, code


@njit(cache=True, nogil=True)
def _diagonal_costs(acc, xt, yr, xb, yb, count, metric, d_start, d_stop):
    """Raw sums (dot products, squared differences, absolute differences) over the
    dimensions ``d_start .. d_stop-1`` of ``count`` cells along an anti-diagonal from
    features (D, .) in float32: cell k pairs ``xt[:, xb + k]`` with ``yr[:, yb + k]``.
    Four dimensions per pass keep the accumulator traffic low; 2-D indexing with unsigned
    indices (no row views, whose reference counting would cost more than the
    arithmetic)."""
    for k in range(count):
        acc[k] = 0.0
    dd = d_start
    one = np.uint64(1)
    two = np.uint64(2)
    three = np.uint64(3)
    four = np.uint64(4)
    while dd + four <= d_stop:
        if metric == COSINE:
            for k in range(count):
                i = xb + k
                j = yb + k
                acc[k] += ((xt[dd, i] * yr[dd, j] + xt[dd + one, i] * yr[dd + one, j])
                           + (xt[dd + two, i] * yr[dd + two, j]
                              + xt[dd + three, i] * yr[dd + three, j]))
        elif metric == CITYBLOCK:
            for k in range(count):
                i = xb + k
                j = yb + k
                acc[k] += ((abs(xt[dd, i] - yr[dd, j]) + abs(xt[dd + one, i] - yr[dd + one, j]))
                           + (abs(xt[dd + two, i] - yr[dd + two, j])
                              + abs(xt[dd + three, i] - yr[dd + three, j])))
        else:
            for k in range(count):
                i = xb + k
                j = yb + k
                t0 = xt[dd, i] - yr[dd, j]
                t1 = xt[dd + one, i] - yr[dd + one, j]
                t2 = xt[dd + two, i] - yr[dd + two, j]
                t3 = xt[dd + three, i] - yr[dd + three, j]
                acc[k] += (t0 * t0 + t1 * t1) + (t2 * t2 + t3 * t3)
        dd += four
    while dd < d_stop:
        if metric == COSINE:
            for k in range(count):
                acc[k] += xt[dd, xb + k] * yr[dd, yb + k]
        elif metric == CITYBLOCK:
            for k in range(count):
                acc[k] += abs(xt[dd, xb + k] - yr[dd, yb + k])
        else:
            for k in range(count):
                t0 = xt[dd, xb + k] - yr[dd, yb + k]
                acc[k] += t0 * t0
        dd += one


@njit(cache=True, nogil=True, inline="always")
def _finish(out, count, kind):
    """Raw sums to distances: square root for euclidean, ``1 - dot`` clipped to [0, 2]
    for cosine (unit rows)."""
    if kind == EUCLIDEAN:
        for k in range(count):
            out[k] = np.sqrt(out[k])
    elif kind == COSINE:
        for k in range(count):
            out[k] = min(max(np.float32(1.0) - out[k], np.float32(0.0)), np.float32(2.0))


@njit(cache=True, nogil=True)
def _diagonal_terms(acc, tmp, xt, yr, xb, yb, count, groups, weights):
    """Local costs of ``count`` cells along an anti-diagonal: the weighted sum over the
    groups of dimensions ``groups[g] = (start, stop, metric)`` of each group's distance
    (``sqrt`` of the squared sum for euclidean, ``1 - dot`` clipped to [0, 2] for cosine
    on unit rows), times ``weights[g]`` (groups of weight 0 skipped); float32 into
    ``acc``, ``tmp`` a scratch of the same length (used from the second group on). One
    group of weight 1 is exactly the single-metric cost."""
    n_groups = groups.shape[0]
    g0 = 0
    while g0 < n_groups - 1 and weights[g0] == 0.0:
        g0 += 1
    kind = groups[g0, 2]
    _diagonal_costs(acc, xt, yr, xb, yb, count, kind, np.uint64(groups[g0, 0]),
                    np.uint64(groups[g0, 1]))
    _finish(acc, count, kind)
    w = np.float32(weights[g0])
    if w != np.float32(1.0):
        for k in range(count):
            acc[k] *= w
    for g in range(g0 + 1, n_groups):
        if weights[g] == 0.0:
            continue
        kind = groups[g, 2]
        _diagonal_costs(tmp, xt, yr, xb, yb, count, kind, np.uint64(groups[g, 0]),
                        np.uint64(groups[g, 1]))
        _finish(tmp, count, kind)
        w = np.float32(weights[g])
        for k in range(count):
            acc[k] += w * tmp[k]


@njit(cache=True, nogil=True)
def _is_multi(xt, groups, weights):
    """Whether costs take the float32 many-dimension path (else one float64 dimension
    with a plain metric)."""
    return groups.shape[0] > 1 or xt.shape[0] > 1 or groups[0, 2] == COSINE \
        or weights[0] != 1.0


@njit(cache=True, nogil=True)
def _dp_diagonal(costs, buf, r0, r1, r2, ub, um, count, check, lo, hi, i_first, j_first,
                 codes, cb, wd, wl, wu):
    """The steps of one anti-diagonal: cell k (row i_first + k, column j_first - k) has
    cost ``costs[k]``, its diagonal, left and upper neighbours ``buf[r2, um + k]``,
    ``buf[r1, ub + k]``, ``buf[r1, um + k]``; writes ``buf[r0, ub + k]`` and
    ``codes[cb + k]``. Rows of ``buf`` are indexed, not sliced (no views to count)."""
    inf = np.inf
    if check:
        ib = np.uint64(i_first)
        for k in range(count):
            best, code = _step(np.float64(costs[k]), buf[r2, um + k], buf[r1, ub + k],
                               buf[r1, um + k], wd, wl, wu)
            j = j_first - np.int64(k)
            outside = (j < lo[ib + k]) | (j >= hi[ib + k])
            buf[r0, ub + k] = inf if outside else best
            codes[cb + k] = np.uint8(0) if outside else code
    else:
        for k in range(count):
            best, code = _step(np.float64(costs[k]), buf[r2, um + k], buf[r1, ub + k],
                               buf[r1, um + k], wd, wl, wu)
            buf[r0, ub + k] = best
            codes[cb + k] = code


@njit(cache=True, nogil=True)
def tile_sweep(i0, h, j0, w, lo, hi, top, left, bottom,
               use_matrix, cmat, ci, cj, xt, yr, xo, yo, groups, weights,
               wd, wu, wl, origin_here, origin_value,
               scratch, cbuf, acc, codes, store, bp, bp_off, gemm_kind, xsq, ysq):
    """Sweep one tile; see the module docstring.

    ``top[j + 1]`` holds the accumulated cost of row ``i0 - 1`` at column ``j`` (index 0
    is column -1); ``left[a]`` that of column ``j0 - 1`` at row ``i0 + a`` and receives the
    tile's last column; ``bottom[j + 1]`` receives its last row. Rows and columns are
    those of the (sub)problem; its cell (i, j) has cost ``cmat[ci + i, cj + j]`` or, for
    features the cost of :func:`_diagonal_terms` (the ``groups`` of dimensions with their
    metrics and ``weights``; one group of weight 1 for a plain metric) between
    x = ``xt[:, xo + i]`` and y = ``yr[:, ym - 1 - (yo + j)]`` (``yr`` holds y reversed,
    ``ym`` its length); with several dimensions, groups or weights (or cosine) the features
    are float32 and ``acc`` a float32 scratch.

    ``gemm_kind`` > 0: ``cmat`` holds dot products x.y of the tile, turned into costs here
    (1 squared euclidean, 2 euclidean from ``xsq[i] + ysq[j] - 2 x.y`` with ``xsq``, ``ysq``
    indexed like ``cmat``'s rows and columns; 3 cosine ``1 - x.y``).

    Inner loops index with unsigned integers: numba then skips its negative-index
    wraparound and LLVM emits plain vector loads.
    """
    ym = yr.shape[1]
    xrow = xt[0]
    yrow = yr[0]
    cols = cmat.shape[1]
    flat = cmat.ravel()
    square = groups[0, 2] == SQEUCLIDEAN
    multi = _is_multi(xt, groups, weights)
    tmp = np.empty(acc.shape[0] if groups.shape[0] > 1 else 1, dtype=np.float32)
    check = False
    for a in range(h):
        if lo[i0 + a] > j0 or hi[i0 + a] < j0 + w:
            check = True
            break
    one = np.uint64(1)
    for s in range(h + w + 1):
        r0 = np.uint64(s % 3)
        r1 = np.uint64((s + 2) % 3)
        r2 = np.uint64((s + 1) % 3)
        ulo = max(1, s - w)
        uhi = min(h, s - 1)
        if uhi >= ulo:
            count = np.uint64(uhi - ulo + 1)
            ub = np.uint64(ulo)
            um = np.uint64(ulo - 1)
            cb = np.uint64(diag_offset(s - 2, h, w))
            if use_matrix:
                first = np.uint64((ci + i0 + ulo - 1) * cols + cj + j0 + s - ulo - 1)
                stride = np.uint64(cols - 1)
                for k in range(count):
                    cbuf[k] = flat[first + k * stride]
                if gemm_kind == 3:
                    for k in range(count):
                        cbuf[k] = min(max(1.0 - cbuf[k], 0.0), 2.0)
                elif gemm_kind > 0:
                    xi = np.uint64(ci + i0 + ulo - 1)
                    yj = cj + j0 + s - ulo - 1
                    for k in range(count):
                        v = max(np.float64(xsq[xi + k]) + np.float64(ysq[yj - np.int64(k)])
                                - 2.0 * cbuf[k], 0.0)
                        cbuf[k] = np.sqrt(v) if gemm_kind == 2 else v
            elif multi:
                xb = np.uint64(xo + i0 + ulo - 1)
                yb = np.uint64(ym - yo - j0 - s + ulo)
                _diagonal_terms(acc, tmp, xt, yr, xb, yb, count, groups, weights)
            else:
                xb = np.uint64(xo + i0 + ulo - 1)
                yb = np.uint64(ym - yo - j0 - s + ulo)
                if square:
                    for k in range(count):
                        t = xrow[xb + k] - yrow[yb + k]
                        cbuf[k] = t * t
                else:
                    for k in range(count):
                        cbuf[k] = abs(xrow[xb + k] - yrow[yb + k])
            if multi and not use_matrix:
                _dp_diagonal(acc, scratch, r0, r1, r2, ub, um, count, check, lo, hi,
                             i0 + ulo - 1, j0 + s - ulo - 1, codes, cb, wd, wl, wu)
            else:
                _dp_diagonal(cbuf, scratch, r0, r1, r2, ub, um, count, check, lo, hi,
                             i0 + ulo - 1, j0 + s - ulo - 1, codes, cb, wd, wl, wu)
        if s <= w:
            scratch[r0, 0] = top[j0 + s]
        if 1 <= s <= h:
            scratch[r0, s] = left[s - 1]
        if origin_here and s == 2:
            scratch[r0, 1] = origin_value
            codes[0] = 0
        if 1 <= s - h <= w:
            bottom[j0 + s - h] = scratch[r0, h]
        if 1 <= s - w <= h:
            left[s - w - 1] = scratch[r0, s - w]
    if store:
        n_bytes = (h * w + 3) // 4
        for k in range(h * w, 4 * n_bytes):
            codes[k] = 0
        out = np.uint64(bp_off)
        for k in range(np.uint64(n_bytes)):
            q = k * np.uint64(4)
            bp[out + k] = (codes[q] | (codes[q + one] << 2) | (codes[q + np.uint64(2)] << 4)
                           | (codes[q + np.uint64(3)] << 6))


@njit(cache=True, nogil=True)
def tiles_backtrack(i, j, strip_rows, n_rows, strip_first, tile_j0, tile_w, tile_off, bp,
                    stop_row, path):
    """Follow step codes back from (i, j) while ``i >= stop_row``; writes the visited
    cells backwards into ``path``. Returns ``(length, i, j, status)``: status 0 reached
    the origin (code 0 at (0, 0)), 1 left through row ``stop_row - 1`` (that cell is the
    last one written), 2 reached a tile whose codes were not stored (``tile_off`` < 0;
    that cell, the last one written, is not resolved), -1 a broken chain."""
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
        if tile_off[tile] < 0:
            return k + 1, i, j, 2
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
def band_costs(xs, yt, lo, hi, groups, weights, acc, out):
    """Local costs of the rows ``xs`` (h, D) against the columns ``lo[a] .. hi[a]-1`` of
    ``yt`` (D, M) into ``out[a, :hi[a] - lo[a]]`` (float64): the weighted sum over the
    groups of dimensions (as :func:`_diagonal_terms`; groups of weight 0 skipped), sums in
    float32 vectorized along the columns, ``acc`` a float32 scratch row of length >= the
    widest row."""
    h = xs.shape[0]
    for a in range(h):
        j0 = lo[a]
        w = hi[a] - j0
        row = out[a]
        first = True
        for g in range(groups.shape[0]):
            wg = weights[g]
            if wg == 0.0:
                continue
            kind = groups[g, 2]
            a_s = acc[:w]
            for b in range(w):
                a_s[b] = 0.0
            for k in range(groups[g, 0], groups[g, 1]):
                xv = xs[a, k]
                ys = yt[k][j0:j0 + w]
                if kind == COSINE:
                    for b in range(w):
                        a_s[b] += xv * ys[b]
                elif kind == CITYBLOCK:
                    for b in range(w):
                        a_s[b] += abs(xv - ys[b])
                else:
                    for b in range(w):
                        t = xv - ys[b]
                        a_s[b] += t * t
            for b in range(w):
                v = np.float64(a_s[b])
                if kind == EUCLIDEAN:
                    v = np.sqrt(v)
                elif kind == COSINE:
                    v = min(max(1.0 - v, 0.0), 2.0)
                if wg != 1.0:
                    v *= wg
                row[b] = v if first else row[b] + v
            first = False


@njit(cache=True, nogil=True)
def strips_sweep(s0, s1, strip_rows, heights, c0, c1, strip_first, tile_j0, tile_w,
                 tile_off, rows, lo, hi, use_matrix, cmat, ci, cj, xt, yr, xo, yo, groups,
                 weights, wd, wu, wl, origin, origin_value, scratch, cbuf, acc, codes, left, store,
                 bp, dummy):
    """Strips ``s0 .. s1-1`` one after the other in one call (no Python between tiles);
    ``rows`` (3, m + 1) is the ring of strip bottom rows (strip s writes ``rows[s % 3]``
    and reads ``rows[(s + 2) % 3]``). Returns the number of cells swept."""
    inf = np.inf
    cells = 0
    for s in range(s0, s1):
        r0 = s * strip_rows
        h = heights[s]
        top_row = rows[(s + 2) % 3]
        bottom = rows[s % 3]
        a = c0[s]
        b = c1[s] + 1
        if s > 0:
            # columns the strip above never wrote lie outside its window
            p0 = c0[s - 1] + 1
            p1 = c1[s - 1] + 1
            for j in range(a, min(b, p0)):
                top_row[j] = inf
            for j in range(max(a, p1), b):
                top_row[j] = inf
        for k in range(h):
            left[k] = inf
        for tile in range(strip_first[s], strip_first[s + 1]):
            w = tile_w[tile]
            if w <= 0:
                continue
            j0 = tile_j0[tile]
            offset = tile_off[tile] if store else 0
            here = origin and r0 == 0 and j0 == 0
            tile_sweep(r0, h, j0, w, lo, hi, top_row, left, bottom,
                       use_matrix, cmat, ci, cj, xt, yr, xo, yo, groups, weights, wd, wu, wl,
                       here, origin_value, scratch, cbuf, acc, codes, store, bp,
                       offset, 0, dummy, dummy)
            cells += h * w
    return cells
