"""Kernels of the structure analysis (no validation here).

``jump_columns``: a B-driven dynamic programme in which every frame j of B is matched to
one frame i of A, or to nothing (the null state). Between neighbouring frames of B the
match moves on monotonically (diagonal, A holds, A skips one), or jumps anywhere on A
for a penalty (from the best cell of the previous column), or leaves or enters the null
state for a penalty. The first column pays ``start_cost[i]`` for starting on row i (a
path pinned to A's start: 0 there, a penalty elsewhere) or ``null_start`` for starting in
the null state. Every path covers each B frame exactly once, so costs may be
negative (shifted by a threshold) without favouring long or short paths. Columns are
given in blocks of local costs; the state carries over between calls.

``unit_dtw``: the DTW distance (symmetric2 steps, normalized by n + m) of a block of a
precomputed cost matrix: units of different lengths compare fairly.
"""

import numpy as np

from ._jit import njit

# codes in ``back``
START, DIAG, HOLD, SKIP, JUMP, FROM_NULL = 0, 1, 2, 3, 4, 5


@njit(cache=True, nogil=True)
def jump_columns(cost, j0, acc, null, back, jump_from, null_back, hold_w, skip_w, jump_p,
                 null_c, null_p, start_cost, null_start):
    """Advance the DP over columns ``j0 .. j0 + cost.shape[1] - 1``.

    ``start_cost`` (N,) is added to column 0's cost on each row, ``null_start`` to the
    null state's in column 0 (zeros: the path may start anywhere).

    ``acc`` (N,) holds the previous column's totals (written with the last column's),
    ``null`` (1,) the null state's; ``back`` (M, N) int8 codes, ``jump_from`` (M,) the
    previous column's best row (where a jump comes from), ``null_back`` (M,) int8
    (0 start, 1 stayed null, 2 came from the best cell)."""
    n, b = cost.shape
    prev = np.empty(n)
    for c in range(b):
        j = j0 + c
        if j == 0:
            for i in range(n):
                acc[i] = cost[i, 0] + start_cost[i]
                back[0, i] = START
            null[0] = null_c + null_start
            null_back[0] = 0
            jump_from[0] = 0
            continue
        best = np.inf
        arg = 0
        for i in range(n):
            prev[i] = acc[i]
            if acc[i] < best:
                best = acc[i]
                arg = i
        jump_from[j] = arg
        pn = null[0]
        for i in range(n):
            v = prev[i] + hold_w
            code = HOLD
            if i >= 1 and prev[i - 1] <= v:
                v = prev[i - 1]
                code = DIAG
            if i >= 2 and prev[i - 2] + skip_w < v:
                v = prev[i - 2] + skip_w
                code = SKIP
            if best + jump_p < v:
                v = best + jump_p
                code = JUMP
            if pn + null_p < v:
                v = pn + null_p
                code = FROM_NULL
            acc[i] = v + cost[i, c]
            back[j, i] = code
        if pn <= best + null_p:
            null[0] = pn + null_c
            null_back[j] = 1
        else:
            null[0] = best + null_p + null_c
            null_back[j] = 2


@njit(cache=True, nogil=True)
def jump_backtrack(back, jump_from, null_back, end_i, out):
    """Write the matched row of A for every column of B into ``out`` (M,) (-1: null),
    from the end cell ``end_i`` (-1: the null state); returns nothing."""
    m = back.shape[0]
    i = end_i
    for j in range(m - 1, -1, -1):
        out[j] = i
        if j == 0:
            break
        if i < 0:
            if null_back[j] == 2:
                i = jump_from[j]
            continue
        code = back[j, i]
        if code == DIAG:
            i -= 1
        elif code == SKIP:
            i -= 2
        elif code == JUMP:
            i = jump_from[j]
        elif code == FROM_NULL:
            i = -1


@njit(cache=True, nogil=True)
def unit_dtw(cost, i0, i1, j0, j1):
    """Normalized DTW distance (symmetric2: diagonal steps count twice, divided by
    n + m) between rows i0..i1-1 and columns j0..j1-1 of ``cost``."""
    n = i1 - i0
    m = j1 - j0
    acc = np.empty(m)
    for i in range(n):
        left = np.inf
        diag_prev = np.inf
        for j in range(m):
            c = cost[i0 + i, j0 + j]
            up = acc[j] if i > 0 else np.inf
            if i == 0 and j == 0:
                v = c
            else:
                v = min(up + c, left + c, diag_prev + 2.0 * c)
            diag_prev = up
            acc[j] = v
            left = v
    return acc[m - 1] / (n + m)


@njit(cache=True, nogil=True)
def diagonal_mean(c, radius, i_off, j_off, out):
    """``out[a, b]`` = mean of ``c[i + k, j + k]`` over ``|k| <= radius`` inside ``c``,
    where ``(i, j) = (i_off + a, j_off + b)``: a running sum along each diagonal."""
    rows, cols = c.shape
    s = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            prev = s[i - 1, j - 1] if i > 0 and j > 0 else 0.0
            s[i, j] = c[i, j] + prev
    n_out, m_out = out.shape
    for a in range(n_out):
        i = i_off + a
        for b in range(m_out):
            j = j_off + b
            k_lo = max(-radius, max(-i, -j))
            k_hi = min(radius, min(rows - 1 - i, cols - 1 - j))
            total = s[i + k_hi, j + k_hi]
            if i + k_lo - 1 >= 0 and j + k_lo - 1 >= 0:
                total -= s[i + k_lo - 1, j + k_lo - 1]
            out[a, b] = total / (k_hi - k_lo + 1)


@njit(cache=True, nogil=True)
def slope_mean(c, offsets, i_off, j_off, out):
    """``out[a, b]`` = the least over lines ``s`` of the mean of ``c[i + offsets[s, k],
    j + k - radius]`` over ``k`` (``offsets`` (S, 2 * radius + 1) rows of A per column of
    B) inside ``c``, where ``(i, j) = (i_off + a, j_off + b)``: local costs averaged along
    lines of several slopes, the best kept (a diagonal mean that follows a tempo
    other than A's)."""
    rows, cols = c.shape
    n_lines, width = offsets.shape
    radius = width // 2
    n_out, m_out = out.shape
    acc = np.empty(m_out)
    # the columns whose window lies inside c for every k: their count is the number of
    # rows inside; the others (at c's first and last columns) are counted one by one
    inner_lo = min(m_out, max(0, radius - j_off))
    inner_hi = max(inner_lo, min(m_out, cols - j_off - radius))
    for a in range(n_out):
        i = i_off + a
        best = out[a]
        best[:] = np.inf
        for s in range(n_lines):
            acc[:] = 0.0
            n_rows = 0
            for k in range(width):
                ii = i + offsets[s, k]
                if ii < 0 or ii >= rows:
                    continue
                n_rows += 1
                shift = j_off + k - radius
                b_lo = max(0, -shift)
                b_hi = min(m_out, cols - shift)
                # whole-slice adds and the select below vectorize (3.3 times faster
                # than an element loop with a branch; the same values)
                if b_hi > b_lo:
                    seg = acc[b_lo:b_hi]
                    seg += c[ii, shift + b_lo:shift + b_hi]
            if n_rows == 0:
                continue
            for b in range(inner_lo, inner_hi):
                v = acc[b] / n_rows
                cur = best[b]
                best[b] = v if v < cur else cur
            # the edge columns, before inner_lo and from inner_hi
            for e in range(m_out - (inner_hi - inner_lo)):
                b = e if e < inner_lo else e + inner_hi - inner_lo
                count = 0
                for k in range(width):
                    ii = i + offsets[s, k]
                    jj = j_off + b + k - radius
                    if 0 <= ii < rows and 0 <= jj < cols:
                        count += 1
                if count > 0 and acc[b] / count < best[b]:
                    best[b] = acc[b] / count


@njit(cache=True, nogil=True)
def junction_forward(block, start, pen, acc, was_held, back):
    """B-driven paths from row ``start`` of column 0 of ``block`` (rows A, columns B):
    A advances 0, 1 or 2 rows per column (0 and 2 for ``pen`` more), never 0 twice in a
    row. Writes ``acc`` (cols, rows) the best totals, ``was_held`` whether that best
    arrived with a step of 0, ``back`` the step into a moving cell (1 or 2 from a moving
    cell, 3: one from a held cell)."""
    rows, cols = block.shape
    inf = np.inf
    moved = np.full(rows, inf)
    held = np.full(rows, inf)
    new_moved = np.empty(rows)
    new_held = np.empty(rows)
    moved[start] = block[start, 0]
    for i in range(rows):
        acc[0, i] = moved[i]
        was_held[0, i] = False
        back[0, i] = 1
    for t in range(1, cols):
        for i in range(rows):
            c = block[i, t]
            one_m = moved[i - 1] if i >= 1 else inf
            one_h = held[i - 1] if i >= 1 else inf
            two = moved[i - 2] + pen if i >= 2 else inf
            best = min(one_m, one_h, two)
            if best == two:
                back[t, i] = 2
            elif one_h < one_m:
                back[t, i] = 3
            else:
                back[t, i] = 1
            new_held[i] = moved[i] + pen + c
            new_moved[i] = best + c
        for i in range(rows):
            moved[i] = new_moved[i]
            held[i] = new_held[i]
            was_held[t, i] = held[i] < moved[i]
            acc[t, i] = min(moved[i], held[i])
