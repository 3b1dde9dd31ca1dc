"""Kernel of the skip-aware DTW of video pairs (no validation here).

``skip_dtw``: DTW (symmetric1 steps: every visited cell costs once) in a corridor of
rows per column, in which the path may also jump forward on A between neighbouring
columns (from row ``i'`` of column ``j - 1`` to row ``i >= i' + min_jump[j]`` of column
``j``) for a fixed penalty: B skipped A's frames in between. A running prefix minimum
over the previous column keeps it O(cells). The path may start on any row of the first
column from ``start_row`` to ``start_last``: its begin open, as its end is. Where B runs
faster than A, steps of 2 to ``pace_step[j]`` rows from the previous column cost the cell
plus ``pace_weight`` times the cells (of column ``j``) of the rows stepped over: B showed
only some of A's frames there, and with unit steps each A frame it left out cost a whole
cell of its own (in a slow shot the path lagged behind rather than pay them).
"""

import numpy as np

from ._jit import njit

# codes in ``back``
START, HORIZ, VERT, DIAG, JUMP = 0, 1, 2, 3, 4


@njit(cache=True, nogil=True)
def skip_dtw(cost, lo, width, start_row, penalty, min_jump, acc, back, jump_from, start_last,
             pace_step, pace_weight):
    """Fill ``acc`` and ``back`` (both (M, W)) for columns ``0 .. M-1``.

    ``cost[j, r]`` is the cost of row ``lo[j] + r`` of column ``j`` for ``r < width[j]``
    (``lo`` non-decreasing, ``lo[j] + width[j]`` non-decreasing); the path starts at row
    ``start_row`` of column 0, or at any row up to ``start_last`` (that cell's cost alone:
    the A frames before it are left out). ``jump_from[j, r]`` receives the row (absolute)
    a jump into that cell (or a pace step) comes from; ``min_jump`` (M,) the shortest jump
    into each column; ``pace_step`` (M,) the longest step without a penalty into each
    column (1: the unit steps alone), ``pace_weight`` the share of the rows' cells it
    steps over that such a step adds."""
    m = cost.shape[0]
    for j in range(m):
        w = width[j]
        for r in range(w):
            acc[j, r] = np.inf
            back[j, r] = START
            jump_from[j, r] = -1
        if j == 0:
            r0 = start_row - lo[0]
            acc[0, r0] = cost[0, r0]
            for r in range(r0 + 1, w):
                if lo[0] + r <= start_last:
                    acc[0, r] = cost[0, r]
                else:
                    acc[0, r] = acc[0, r - 1] + cost[0, r]
                    back[0, r] = HORIZ
            continue
        plo = lo[j - 1]
        pw = width[j - 1]
        # prefix minimum of the previous column, up to row i - min_jump[j]
        best = np.inf
        arg = -1
        k = 0  # next row of the previous column (relative) to fold into the minimum
        for r in range(w):
            i = lo[j] + r
            while k < pw and plo + k <= i - min_jump[j]:
                if acc[j - 1, k] < best:
                    best = acc[j - 1, k]
                    arg = plo + k
                k += 1
            v = np.inf
            code = START
            rp = i - plo  # the same row in the previous column
            if 0 <= rp < pw and acc[j - 1, rp] < v:
                v = acc[j - 1, rp]
                code = VERT
            if 0 <= rp - 1 < pw and acc[j - 1, rp - 1] <= v:
                v = acc[j - 1, rp - 1]
                code = DIAG
            skipped = 0.0
            for s in range(2, pace_step[j] + 1):  # B's pace: A frames it showed none of
                if r - s + 1 < 0:
                    break
                skipped += cost[j, r - s + 1]
                if 0 <= rp - s < pw and acc[j - 1, rp - s] + pace_weight * skipped < v:
                    v = acc[j - 1, rp - s] + pace_weight * skipped
                    code = JUMP
                    jump_from[j, r] = plo + rp - s
            if r >= 1 and acc[j, r - 1] < v:
                v = acc[j, r - 1]
                code = HORIZ
            if arg >= 0 and best + penalty < v:
                v = best + penalty
                code = JUMP
                jump_from[j, r] = arg
            if code != START:
                acc[j, r] = v + cost[j, r]
                back[j, r] = code


@njit(cache=True, nogil=True)
def skip_backtrack(lo, back, jump_from, end_row, out):
    """Write the path (rows ``(i, j)`` with ``j`` relative to the first column) into
    ``out`` backwards from row ``end_row`` of the last column; returns the number of rows
    written at the end of ``out`` (they start at ``out.shape[0] - count``)."""
    j = back.shape[0] - 1
    i = end_row
    k = out.shape[0]
    while True:
        k -= 1
        out[k, 0] = i
        out[k, 1] = j
        code = back[j, i - lo[j]]
        if code == START:
            break
        if code == HORIZ:
            i -= 1
        elif code == VERT:
            j -= 1
        elif code == DIAG:
            i -= 1
            j -= 1
        else:
            i = jump_from[j, i - lo[j]]
            j -= 1
    return out.shape[0] - k


@njit(cache=True, nogil=True)
def corridor_costs(x, y, lo, width, j0, out):
    """``out[j, r] = 0.5 * |x[lo[j] + r] - y[j0 + j]|^2`` (the cosine distance, weighted,
    for unit rows scaled by the square root of their weight)."""
    d = x.shape[1]
    for j in range(out.shape[0]):
        for r in range(width[j]):
            i = lo[j] + r
            s = 0.0
            for k in range(d):
                t = x[i, k] - y[j0 + j, k]
                s += t * t
            out[j, r] = 0.5 * s
