"""Matching two trains of events (times, sorted) with gaps and a tempo-smoothness cost
(no validation here; :func:`core.pipeline.crossmodal.match_events` wraps it).

A chain is a sequence of matched pairs (i, j), increasing on both sides. Each pair
earns ``1``; an event skipped between two matched pairs costs ``skip_a`` / ``skip_b``;
starting a chain costs ``start``. The log tempo ratio of a step from one pair to the
next, ``log((tb[j] - tb[j']) / (ta[i] - ta[i']))``, must lie in ``[lo, hi]``, and it
may differ from the previous step's by up to ``tol * (1 / da + 1 / db)`` (the jitter of
the event times over the steps' lengths) for free; beyond that it costs ``lam`` per unit
of log ratio, at most ``cap`` (an abrupt change of tempo). A held interval (a fermata,
a breath, held longer on one side) changes the tempo for one step and returns: with
``hold`` > 0, a step is charged for its change from the step before the previous one
(the tempo held before the note) where that is smaller, but at least ``1 - hold`` times
its change from the previous step, when the previous step (the held one) lasts more
than ``long`` times the step before it on at least one side, follows at least
``min_depth - 1`` steps of the chain (the tempo to return to is not the chain's first
guess) and was not itself such a return (alternating tempi pay every other change).
A held note then costs one change of tempo, not two. Steps skip at most ``k - 1``
events on either side. B is restricted to a band of ``width`` events starting at
``jlo[i]`` for every A event ``i``.
"""

import numpy as np

from ._jit import njit


@njit(cache=True, nogil=True)
def _longer(ta, tb, back, i2, jj2, pa, pb, j2, long):
    """Whether the step into state (i2, jj2, pa, pb) lasts ``long`` times the step
    before it on at least one side (a held note is longer there)."""
    i3 = i2 - pa
    j3 = j2 - pb
    pa0 = np.int64(back[i2, jj2, pa, pb, 0])
    pb0 = np.int64(back[i2, jj2, pa, pb, 1])
    if pa0 == 0:
        return False
    da1 = ta[i3] - ta[i3 - pa0]
    db1 = tb[j3] - tb[j3 - pb0]
    return ta[i2] - ta[i3] > long * da1 or tb[j2] - tb[j3] > long * db1


@njit(cache=True, nogil=True)
def event_chain(ta, tb, jlo, width, k, skip_a, skip_b, start, lam, cap, tol, lo, hi,
                hold, min_depth, long):
    """Returns the best chain as an (L, 2) int64 array of (i, j)."""
    n = ta.shape[0]
    m = tb.shape[0]
    neg = -1e18
    score = np.full((n, width, k, k), neg)
    back = np.zeros((n, width, k, k, 2), dtype=np.int8)
    # the log tempo ratio of the step before a state's step (NaN: the chain starts there)
    before = np.full((n, width, k, k), np.nan)
    # whether a state's step was charged against the step before the previous one (then
    # the next step may not be: alternating tempi are not a run of holds)
    returned = np.zeros((n, width, k, k), dtype=np.bool_)
    # a state's step is the chain's first, second or a later one (1, 2, 3)
    depth = np.zeros((n, width, k, k), dtype=np.int8)
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
                    lr_prev = np.nan
                    was_hold = False
                    prev_depth = 0
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
                            change = abs(lr - lr2)
                            is_hold = False
                            lr0 = before[i2, jj2, pa, pb]
                            if hold > 0.0 and lr0 == lr0 and depth[i2, jj2, pa, pb] >= min_depth \
                                    and not returned[i2, jj2, pa, pb] \
                                    and _longer(ta, tb, back, i2, jj2, pa, pb, j2, long):
                                back_to = max(abs(lr - lr0), (1.0 - hold) * change)
                                if back_to < change:
                                    change = back_to
                                    is_hold = True
                            dev = change - free
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
                                lr_prev = lr2
                                was_hold = is_hold
                                prev_depth = depth[i2, jj2, pa, pb]
                    total = val + 1.0 - skip_a * (di - 1) - skip_b * (dj - 1)
                    score[i, jj, di, dj] = total
                    before[i, jj, di, dj] = lr_prev
                    returned[i, jj, di, dj] = was_hold
                    depth[i, jj, di, dj] = min(prev_depth + 1, 3)
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
