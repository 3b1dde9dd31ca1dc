"""A first exact DTW kernel (full accumulated-cost matrix, symmetric2 steps)."""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def accumulate_symmetric2(cost, acc):
    n, m = cost.shape
    inf = np.inf
    for i in range(n):
        for j in range(m):
            c = cost[i, j]
            if i == 0 and j == 0:
                acc[0, 0] = c
                continue
            best = inf
            if i > 0 and j > 0:
                best = acc[i - 1, j - 1] + 2.0 * c
            if i > 0:
                v = acc[i - 1, j] + c
                if v < best:
                    best = v
            if j > 0:
                v = acc[i, j - 1] + c
                if v < best:
                    best = v
            acc[i, j] = best


@njit(cache=True, nogil=True)
def backtrack_symmetric2(cost, acc, path):
    """Writes the path backwards into ``path`` and returns its length."""
    i = acc.shape[0] - 1
    j = acc.shape[1] - 1
    k = 0
    path[k, 0] = i
    path[k, 1] = j
    while i > 0 or j > 0:
        if i == 0:
            j -= 1
        elif j == 0:
            i -= 1
        else:
            c = cost[i, j]
            d = acc[i - 1, j - 1] + 2.0 * c
            u = acc[i - 1, j] + c
            l = acc[i, j - 1] + c
            if d <= u and d <= l:
                i -= 1
                j -= 1
            elif u <= l:
                i -= 1
            else:
                j -= 1
        k += 1
        path[k, 0] = i
        path[k, 1] = j
    return k + 1
