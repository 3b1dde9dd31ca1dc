"""Kernels of the structure analysis (no validation here).

``jump_columns``: a B-driven dynamic programme in which every frame j of B is matched to
one frame i of A, or to nothing (the null state). Between neighbouring frames of B the
match moves on monotonically (diagonal, A holds, A skips one), or jumps anywhere on A
for a penalty (a fixed part, and a part linear in the distance between where it lands
and where the monotone continuation would have been), or enters the null state (matched
to nothing, A held) or leaves it (landing anywhere, for the same length penalty) for a
penalty. Every path covers each B frame exactly once, so costs may be
negative (shifted by a threshold) without favouring long or short paths. Columns are
given in blocks of local costs; the state carries over between calls.

``unit_dtw``: the DTW distance (symmetric2 steps, normalized by n + m) of a block of a
precomputed cost matrix: units of different lengths compare fairly.
"""

import numpy as np

from ._jit import njit

# codes in ``back``
START, DIAG, HOLD, SKIP, JUMP = 0, 1, 2, 3, 4
STEP_MASK = 7
# bits in ``back``: a jump's origin through the distance transform, the null state
JUMP_F, JUMP_G, FROM_NULL_ROW, NULL_ENTER = 8, 16, 32, 64


@njit(cache=True, nogil=True)
def jump_columns(cost, j0, acc, null, back, hold_w, skip_w, jump_p, null_c, null_p, jump_w):
    """Advance the DP over columns ``j0 .. j0 + cost.shape[1] - 1``.

    ``acc`` (N,) holds the previous column's totals (written with the last column's),
    ``null`` (N,) the null state's (B matched to nothing, A held where it was left, so
    that a path through the null state pays for how far it lands as a jump does);
    ``back`` (M, N) int8: the step into cell (j, i) in the low three bits, ``NULL_ENTER``
    where the null state at row i was entered from the matched row i (else it stayed
    null), and the bits that trace a jump's origin (below).

    A jump into row i costs ``jump_p`` from row k of the previous column, or ``null_p``
    from the null state at row k, plus ``jump_w * |i - (k + 1)|`` (``jump_w`` per row
    between where it lands and where the monotone continuation would be). Its best
    origin for every i is an L1 distance transform of ``h[k]`` = the cheaper of the two
    (``FROM_NULL_ROW`` set at row k where it is the null state) in two passes: ``f[p] =
    min(h[p - 1], f[p - 1] + jump_w)`` upwards (``JUMP_F`` where ``f[p]`` came from
    ``f[p - 1]``), then ``g[p] = min(f[p], g[p + 1] + jump_w)`` downwards (``JUMP_G``
    where it came from ``g[p + 1]``; at the top row, from row N - 1 continued to N)."""
    n, b = cost.shape
    h = np.empty(n)
    f = np.empty(n)
    g = np.empty(n)
    bits = np.zeros(n, dtype=np.int8)
    for c in range(b):
        j = j0 + c
        if j == 0:
            for i in range(n):
                acc[i] = cost[i, 0]
                null[i] = null_c
                back[0, i] = START
            continue
        for k in range(n):
            bits[k] = 0
            a = acc[k] + jump_p
            z = null[k] + null_p
            if z < a:
                h[k] = z
                bits[k] = FROM_NULL_ROW
            else:
                h[k] = a
        # L1 distance transform of h shifted by one row (the continuation's row)
        f[0] = np.inf
        for p in range(1, n):
            up = f[p - 1] + jump_w
            if h[p - 1] <= up:
                f[p] = h[p - 1]
            else:
                f[p] = up
                bits[p] |= JUMP_F
        g[n - 1] = f[n - 1]
        top = h[n - 1] + jump_w
        if top < g[n - 1]:
            g[n - 1] = top
            bits[n - 1] |= JUMP_G
        for p in range(n - 2, -1, -1):
            down = g[p + 1] + jump_w
            if down < f[p]:
                g[p] = down
                bits[p] |= JUMP_G
            else:
                g[p] = f[p]
        # the null state (A held), then the matched states; acc[i - 1], acc[i - 2] are
        # still the previous column's while row i is written (rows go downwards)
        for i in range(n):
            stay = null[i]
            enter = acc[i] + null_p
            if enter < stay:
                null[i] = enter + null_c
                bits[i] |= NULL_ENTER
            else:
                null[i] = stay + null_c
        for i in range(n - 1, -1, -1):
            v = acc[i] + hold_w
            code = HOLD
            if i >= 1 and acc[i - 1] <= v:
                v = acc[i - 1]
                code = DIAG
            if i >= 2 and acc[i - 2] + skip_w < v:
                v = acc[i - 2] + skip_w
                code = SKIP
            if g[i] < v:
                v = g[i]
                code = JUMP
            acc[i] = v + cost[i, c]
            back[j, i] = code | bits[i]


@njit(cache=True, nogil=True)
def jump_origin(back, j, i):
    """Where the jump into cell (j, i) came from: the row k of column ``j - 1`` (follow
    ``JUMP_G`` up, then ``JUMP_F`` down; k is the row below the one reached), and
    whether it came from the null state at row k."""
    n = back.shape[1]
    p = i
    while back[j, p] & JUMP_G:
        if p == n - 1:
            return n - 1, (back[j, n - 1] & FROM_NULL_ROW) != 0
        p += 1
    while back[j, p] & JUMP_F:
        p -= 1
    return p - 1, (back[j, p - 1] & FROM_NULL_ROW) != 0


@njit(cache=True, nogil=True)
def jump_backtrack(back, end_i, end_null, out):
    """Write the matched row of A for every column of B into ``out`` (M,) (-1: the
    null state), from the end cell ``end_i`` (in the null state if ``end_null``)."""
    m = back.shape[0]
    i = end_i
    in_null = end_null
    for j in range(m - 1, -1, -1):
        out[j] = -1 if in_null else i
        if j == 0:
            break
        if in_null:
            if back[j, i] & NULL_ENTER:
                in_null = False
            continue
        code = back[j, i] & STEP_MASK
        if code == DIAG:
            i -= 1
        elif code == SKIP:
            i -= 2
        elif code == JUMP:
            i, in_null = jump_origin(back, j, i)


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
