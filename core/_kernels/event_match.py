"""Matching two trains of events (times, sorted) with gaps and a tempo-smoothness cost
(no validation here; :func:`core.pipeline.crossmodal.match_events` wraps it).

A chain is a sequence of matched pairs (i, j), increasing on both sides. Each pair
earns ``1``; an event skipped between two matched pairs costs ``skip_a`` / ``skip_b``;
starting a chain costs ``start``. The log tempo ratio of a step from one pair to the
next, ``log((tb[j] - tb[j']) / (ta[i] - ta[i']))``, must lie in ``[lo, hi]``, and it
may differ from the previous step's by up to ``tol * (1 / da + 1 / db)`` (the jitter of
the event times over the steps' lengths) for free; beyond that it costs ``lam`` per unit
of log ratio, at most ``cap`` (an abrupt change of tempo). Steps skip at most ``k - 1``
events on either side. B is restricted to a band of ``width`` events starting at
``jlo[i]`` for every A event ``i``.
"""

import numpy as np

from ._jit import njit


@njit(cache=True, nogil=True)
def event_chain(ta, tb, jlo, width, k, skip_a, skip_b, start, lam, cap, tol, lo, hi):
    """Returns the best chain as an (L, 2) int64 array of (i, j)."""
    n = ta.shape[0]
    m = tb.shape[0]
    neg = -1e18
    score = np.full((n, width, k, k), neg)
    back = np.zeros((n, width, k, k, 2), dtype=np.int8)
    best_val = neg
    best = np.array([-1, -1, 0, 0], dtype=np.int64)
    for i in range(n):
        for jj in range(width):
            j = jlo[i] + jj
            if j >= m:
                break
            # a chain that starts here
            if 1.0 - start > best_val:
                best_val = 1.0 - start
                best[0] = i
                best[1] = j
                best[2] = 0
                best[3] = 0
            for di in range(1, k):
                i2 = i - di
                if i2 < 0:
                    break
                da = ta[i] - ta[i2]
                if da <= 0.0:
                    continue
                for dj in range(1, k):
                    j2 = j - dj
                    if j2 < 0:
                        break
                    jj2 = j2 - jlo[i2]
                    if jj2 < 0 or jj2 >= width:
                        continue
                    db = tb[j] - tb[j2]
                    if db <= 0.0:
                        continue
                    lr = np.log(db / da)
                    if lr < lo or lr > hi:
                        continue
                    free = tol * (1.0 / da + 1.0 / db)
                    val = 1.0 - start  # from a chain starting at (i2, j2)
                    arg_a = 0
                    arg_b = 0
                    for pa in range(1, k):
                        i3 = i2 - pa
                        if i3 < 0:
                            break
                        for pb in range(1, k):
                            prev = score[i2, jj2, pa, pb]
                            if prev <= neg:
                                continue
                            j3 = j2 - pb
                            lr2 = np.log((tb[j2] - tb[j3]) / (ta[i2] - ta[i3]))
                            dev = abs(lr - lr2) - free
                            pen = 0.0
                            if dev > 0.0:
                                pen = lam * dev
                                if pen > cap:
                                    pen = cap
                            v = prev - pen
                            if v > val:
                                val = v
                                arg_a = pa
                                arg_b = pb
                    total = val + 1.0 - skip_a * (di - 1) - skip_b * (dj - 1)
                    score[i, jj, di, dj] = total
                    back[i, jj, di, dj, 0] = arg_a
                    back[i, jj, di, dj, 1] = arg_b
                    if total > best_val:
                        best_val = total
                        best[0] = i
                        best[1] = j
                        best[2] = di
                        best[3] = dj
    out = np.zeros((n + 1, 2), dtype=np.int64)
    count = 0
    i = best[0]
    j = best[1]
    di = best[2]
    dj = best[3]
    while i >= 0:
        out[count, 0] = i
        out[count, 1] = j
        count += 1
        if di == 0:
            break
        jj = j - jlo[i]
        pa = np.int64(back[i, jj, di, dj, 0])
        pb = np.int64(back[i, jj, di, dj, 1])
        i, j = i - di, j - dj
        di, dj = pa, pb
    return out[:count][::-1].copy()
