"""Kernels that shape corridors (no validation here)."""

from ._jit import njit


@njit(cache=True, nogil=True)
def widen_ambiguous(cost, wlo, whi, jmin, jmax, tol, lo, hi):
    """Widen the row intervals ``lo[i] .. hi[i]`` over the columns next to a path whose
    cost is within ``tol`` of the path's own cell.

    ``cost[i, :whi[i] - wlo[i]]`` holds the costs of row ``i``'s columns ``wlo[i] ..
    whi[i]-1``; the path occupies columns ``jmin[i] .. jmax[i]`` of row ``i``. The interval
    grows left to the nearest column left of ``jmin[i]`` whose cost exceeds
    ``cost(i, jmin[i]) + tol`` (exclusive) and right likewise from ``jmax[i]``, at most to
    ``wlo[i]`` and ``whi[i]``."""
    for i in range(cost.shape[0]):
        start = wlo[i]
        width = whi[i] - start
        ref = cost[i, jmin[i] - start] + tol
        left = 0
        for c in range(jmin[i] - start - 1, -1, -1):
            if cost[i, c] > ref:
                left = c + 1
                break
        right = width
        for c in range(jmax[i] - start + 1, width):
            if cost[i, c] > ref:
                right = c
                break
        lo[i] = min(lo[i], start + left)
        hi[i] = max(hi[i], start + right)
