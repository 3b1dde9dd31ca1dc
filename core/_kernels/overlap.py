"""The open-begin, open-end DP with which the pipelines find the shared part of two
recordings (no validation here).

On a full (N, M) cost matrix already shifted by a threshold (negative = frames that
match): a path may start on any cell of the first row or column; diagonal steps add
``2 * cost``, horizontal and vertical steps ``max(cost, 0) + step_penalty``: they may pay
for a mismatch but never earn, so one frame that happens to resemble a long stretch of
unrelated material cannot pull the path along it, and with a penalty a path that zigzags
between scattered matching frames (unrelated speech of a similar voice) costs more than
one that runs along a diagonal. Unlike the DTW kernels it earns on negative costs, which
is why it is a kernel of its own.
"""

import numpy as np

from ._jit import njit


@njit(cache=True, nogil=True)
def overlap_accumulate(cost, acc, back, step_penalty):
    """Fill ``acc`` (N, M) and ``back`` (N, M) int8 (0 start, 1 vertical, 2 horizontal,
    3 diagonal); ``step_penalty`` (>= 0) is added to every horizontal or vertical step."""
    n, m = cost.shape
    for i in range(n):
        for j in range(m):
            c = cost[i, j]
            hv = (c if c > 0.0 else 0.0) + step_penalty
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


@njit(cache=True, nogil=True)
def overlap_backtrack(back, i_end, j_end, path):
    """Write the path ending at (i_end, j_end) backwards into ``path``; returns its
    length (rows path[:length] in reverse order), or -1 for a broken chain."""
    i = i_end
    j = j_end
    k = 0
    while True:
        path[k, 0] = i
        path[k, 1] = j
        k += 1
        b = back[i, j]
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
