"""General step-pattern DTW kernels (any dtw-python pattern), row-major over row intervals.

Accumulated costs live in a ring of full-width rows (``ring[i % R]``); backpointers (the
1-based step index, 0 for none) are packed ``8 // bits`` per byte in window order:
cell ``(i, j)`` has index ``rowstart[i] + j - lo[i]``.
"""

import numpy as np

from ._jit import njit


@njit(cache=True, nogil=True)
def steps_rows(i0, i1, lo, hi, rowstart, mask, has_mask, cost, ci0, cj0,
               start_di, start_dj, cell_first, cell_di, cell_dj, cell_w,
               origin_value, open_begin, ring, bp, bits):
    """Fill rows ``i0 .. i1-1``. ``cost[a, b]`` is the local cost of cell
    ``(ci0 + a, cj0 + b)``; the origin (0, 0) gets ``origin_value`` unless ``open_begin``
    (then a virtual row -1 of zeros precedes row 0)."""
    inf = np.inf
    n_ring = ring.shape[0]
    n_steps = start_di.shape[0]
    per_byte = 8 // bits
    for i in range(i0, i1):
        row = ring[i % n_ring]
        for j in range(lo[i], hi[i]):
            best = inf
            best_p = 0
            if has_mask and not mask[i, j]:
                row[j] = inf
                continue
            if i == 0 and j == 0 and not open_begin:
                row[j] = origin_value
                continue
            for p in range(n_steps):
                si = i - start_di[p]
                sj = j - start_dj[p]
                if sj < 0 or si < -1:
                    continue
                if si == -1:
                    if not open_begin:
                        continue
                    g = 0.0
                else:
                    if sj < lo[si] or sj >= hi[si]:
                        continue
                    if has_mask and not mask[si, sj]:
                        continue
                    g = ring[si % n_ring, sj]
                    if g == inf:
                        continue
                for q in range(cell_first[p], cell_first[p + 1]):
                    ii = i - cell_di[q]
                    if ii >= 0:
                        g += cell_w[q] * cost[ii - ci0, j - cell_dj[q] - cj0]
                if g < best:
                    best = g
                    best_p = p + 1
            row[j] = best
            k = rowstart[i] + j - lo[i]
            bp[k // per_byte] |= np.uint8(best_p << ((k % per_byte) * bits))


@njit(cache=True, nogil=True)
def steps_backtrack(i, j, lo, rowstart, bp, bits, start_di, start_dj, cell_first,
                    cell_di, cell_dj, open_begin, path):
    """Write the path ending at ``(i, j)`` backwards into ``path``; return its length, or
    -1 when a cell without backpointer is met before the start."""
    per_byte = 8 // bits
    code_mask = (1 << bits) - 1
    k = 0
    path[0, 0] = i
    path[0, 1] = j
    while True:
        if i == 0 and j == 0 and not open_begin:
            return k + 1
        idx = rowstart[i] + j - lo[i]
        p = ((bp[idx // per_byte] >> ((idx % per_byte) * bits)) & code_mask) - 1
        if p < 0:
            return -1
        for q in range(cell_first[p + 1] - 1, cell_first[p] - 1, -1):
            di = cell_di[q]
            dj = cell_dj[q]
            if di == 0 and dj == 0:
                continue
            if i - di < 0:
                break
            k += 1
            path[k, 0] = i - di
            path[k, 1] = j - dj
        ni = i - start_di[p]
        nj = j - start_dj[p]
        if ni < 0:
            return k + 1
        i = ni
        j = nj
        k += 1
        path[k, 0] = i
        path[k, 1] = j
