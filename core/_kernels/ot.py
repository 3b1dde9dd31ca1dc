"""Numba kernels for optimal transport: log-domain Sinkhorn passes with costs computed
on the fly, plan rows, and the max-probability monotone path through a plan.

Conventions: ``x`` is (N, D), ``yT`` is (D, M) (features of B transposed so the inner
loop over ``j`` is contiguous and vectorizes). ``metric`` 0 = squared euclidean,
1 = euclidean, 2 = precomputed (then ``x`` is the (N, M) cost and ``yT`` is unused).
``prior_w`` adds ``prior_w * (i / (N - 1) - j / (M - 1)) ** 2`` to every cost.
Log scalings ``U`` (N,) and ``V`` (M,) define the plan ``exp(U_i + V_j - C_ij / reg)``.
No validation here: the public wrappers in ``core.transport`` validate.
"""

import numpy as np

from ._jit import njit
from .vexp import FAST, vexp_inplace, vlog_inplace

_LO = 1e-280
_HI = 1e280


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST, inline="always")
def _cost_row(x, yT, i, metric, prior_w, n, m, buf):
    if metric == 2:
        for j in range(m):
            buf[j] = x[i, j]
    else:
        for j in range(m):
            buf[j] = 0.0
        d = x.shape[1]
        for k in range(d):
            xik = np.float64(x[i, k])
            for j in range(m):
                t = xik - yT[k, j]
                buf[j] += t * t
        if metric == 1:
            for j in range(m):
                buf[j] = np.sqrt(buf[j])
    if prior_w != 0.0:
        fi = i / (n - 1) if n > 1 else 0.0
        sm = 1.0 / (m - 1) if m > 1 else 0.0
        for j in range(m):
            t = fi - j * sm
            buf[j] += prior_w * t * t


@njit(cache=True, nogil=True, error_model="numpy")
def cost_rows(x, yT, metric, prior_w, n, out, i0, i1):
    """Rows ``i0:i1`` of the (N, M) cost matrix into ``out[0:i1 - i0]``."""
    m = out.shape[1]
    buf = np.empty(m)
    for i in range(i0, i1):
        _cost_row(x, yT, i, metric, prior_w, n, m, buf)
        for j in range(m):
            out[i - i0, j] = buf[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def fused_pass(x, yT, metric, prior_w, n, inv_reg, U, V, la, fi, U_new, acc, i0, i1):
    """One Sinkhorn half-iteration on the rows plus the column sums it implies.

    For rows ``i0:i1``: ``U_new[i] = la[i] - fi * log sum_j exp(V_j - C_ij / reg)``,
    then ``acc[j] += exp(U_new[i] + V_j - C_ij / reg)`` (the column sums of the plan
    after the row update). The exponentials of the row pass are reused, so a full
    Sinkhorn iteration costs one pass over the cells instead of two.
    """
    m = V.shape[0]
    buf = np.empty(m)
    bits = np.empty(m, dtype=np.int64)
    for i in range(i0, i1):
        _cost_row(x, yT, i, metric, prior_w, n, m, buf)
        ui = U[i]
        for j in range(m):
            buf[j] = ui + V[j] - buf[j] * inv_reg
        vexp_inplace(buf, bits, m)
        s = 0.0
        for j in range(m):
            s += buf[j]
        if s > _LO and s < _HI:
            u_new = la[i] - fi * (np.log(s) - ui)
            shift = ui
        else:
            _cost_row(x, yT, i, metric, prior_w, n, m, buf)
            mx = -np.inf
            for j in range(m):
                buf[j] = V[j] - buf[j] * inv_reg
                if buf[j] > mx:
                    mx = buf[j]
            for j in range(m):
                buf[j] -= mx
            vexp_inplace(buf, bits, m)
            s = 0.0
            for j in range(m):
                s += buf[j]
            u_new = la[i] - fi * (mx + np.log(s))
            shift = -mx
        U_new[i] = u_new
        scale = np.exp(min(u_new - shift, 709.0))
        for j in range(m):
            acc[j] += buf[j] * scale


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def acc_cols(x, yT, metric, prior_w, n, inv_reg, U, shift, acc, i0, i1):
    """``acc[j] += sum_{i0 <= i < i1} exp(U_i + shift_j - C_ij / reg)``."""
    m = shift.shape[0]
    buf = np.empty(m)
    bits = np.empty(m, dtype=np.int64)
    for i in range(i0, i1):
        _cost_row(x, yT, i, metric, prior_w, n, m, buf)
        ui = U[i]
        for j in range(m):
            buf[j] = ui + shift[j] - buf[j] * inv_reg
        vexp_inplace(buf, bits, m)
        for j in range(m):
            acc[j] += buf[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def max_cols(x, yT, metric, prior_w, n, inv_reg, U, out, i0, i1):
    """``out[j] = max(out[j], max_{i0 <= i < i1} U_i - C_ij / reg)``."""
    m = out.shape[0]
    buf = np.empty(m)
    for i in range(i0, i1):
        _cost_row(x, yT, i, metric, prior_w, n, m, buf)
        ui = U[i]
        for j in range(m):
            v = ui - buf[j] * inv_reg
            if v > out[j]:
                out[j] = v


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def plan_rows(x, yT, metric, prior_w, n, inv_reg, U, V, plan, store, row_cost, row_mass,
              i0, i1):
    """Rows ``i0:i1`` of ``exp(U_i + V_j - C_ij / reg)`` into ``plan`` (if ``store``);
    ``row_cost[i] = sum_j P_ij C_ij`` and ``row_mass[i] = sum_j P_ij``."""
    m = V.shape[0]
    buf = np.empty(m)
    c = np.empty(m)
    bits = np.empty(m, dtype=np.int64)
    for i in range(i0, i1):
        _cost_row(x, yT, i, metric, prior_w, n, m, c)
        ui = U[i]
        for j in range(m):
            buf[j] = ui + V[j] - c[j] * inv_reg
        vexp_inplace(buf, bits, m)
        sc = 0.0
        sm = 0.0
        for j in range(m):
            sc += buf[j] * c[j]
            sm += buf[j]
        row_cost[i] = sc
        row_mass[i] = sm
        if store:
            for j in range(m):
                plan[i, j] = buf[j]


@njit(cache=True, nogil=True, error_model="numpy")
def max_prob_path(plan, scale, back, path):
    """Monotone continuous path from (0, 0) to (N-1, M-1) minimizing
    ``sum -log(plan_ij * scale)`` over visited cells (each cell once, floor 1e-300).

    Writes the path backwards into ``path`` (N + M, 2) and returns its length;
    ``back`` is an (N, M) int8 scratch array. Diagonal steps win ties.
    """
    n, m = plan.shape
    prev = np.empty(m)
    cur = np.empty(m)
    cost = np.empty(m)
    bits = np.empty(m, dtype=np.int64)
    for i in range(n):
        for j in range(m):
            cost[j] = max(plan[i, j] * scale, 1e-300)
        vlog_inplace(cost, bits, m)
        if i == 0:
            acc = 0.0
            for j in range(m):
                acc -= cost[j]
                cur[j] = acc
                back[0, j] = 2
            back[0, 0] = 0
        else:
            cur[0] = prev[0] - cost[0]
            back[i, 0] = 1
            left = cur[0]
            for j in range(1, m):
                best = prev[j - 1]
                b = 0
                up = prev[j]
                if up < best:
                    best = up
                    b = 1
                if left < best:
                    best = left
                    b = 2
                left = best - cost[j]
                cur[j] = left
                back[i, j] = b
        prev, cur = cur, prev
    i = n - 1
    j = m - 1
    k = 0
    path[0, 0] = i
    path[0, 1] = j
    while i > 0 or j > 0:
        b = back[i, j]
        if b == 0:
            i -= 1
            j -= 1
        elif b == 1:
            i -= 1
        else:
            j -= 1
        k += 1
        path[k, 0] = i
        path[k, 1] = j
    return k + 1


@njit(cache=True, nogil=True, error_model="numpy")
def greedy_path(plan, path):
    """Monotone continuous path from (0, 0) to (N-1, M-1) that steps, at each cell, to
    the successor ((1, 1), (1, 0) or (0, 1)) with the most mass; diagonal wins ties.
    Writes into ``path`` (N + M, 2) and returns the length. O(N + M)."""
    n, m = plan.shape
    i = 0
    j = 0
    k = 0
    path[0, 0] = 0
    path[0, 1] = 0
    while i < n - 1 or j < m - 1:
        if i == n - 1:
            j += 1
        elif j == m - 1:
            i += 1
        else:
            d = plan[i + 1, j + 1]
            u = plan[i + 1, j]
            r = plan[i, j + 1]
            if d >= u and d >= r:
                i += 1
                j += 1
            elif u >= r:
                i += 1
            else:
                j += 1
        k += 1
        path[k, 0] = i
        path[k, 1] = j
    return k + 1


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def row_argmax(x, yT, metric, prior_w, n, inv_reg, V, out, i0, i1):
    """``out[i] = argmax_j (V_j - C_ij / reg)``: the column of row i's largest plan
    entry (U_i does not change the argmax), costs on the fly."""
    m = V.shape[0]
    buf = np.empty(m)
    for i in range(i0, i1):
        _cost_row(x, yT, i, metric, prior_w, n, m, buf)
        best = -np.inf
        arg = 0
        for j in range(m):
            v = V[j] - buf[j] * inv_reg
            if v > best:
                best = v
                arg = j
        out[i] = arg


@njit(cache=True, nogil=True, error_model="numpy")
def knots_to_path(cols, m, path):
    """Continuous monotone path through (i, running max of cols[i]) from (0, 0) to
    (N-1, M-1); writes into ``path`` (N + M, 2) and returns the length."""
    n = cols.shape[0]
    k = 0
    i = 0
    j = 0
    path[0, 0] = 0
    path[0, 1] = 0
    target = max(cols[0], 0)
    while j < target:
        j += 1
        k += 1
        path[k, 0] = i
        path[k, 1] = j
    for i in range(1, n):
        target = max(cols[i], j)
        if i == n - 1:
            target = m - 1
        if target > j:
            j += 1
        k += 1
        path[k, 0] = i
        path[k, 1] = j
        while j < target:
            j += 1
            k += 1
            path[k, 0] = i
            path[k, 1] = j
    while j < m - 1:
        j += 1
        k += 1
        path[k, 0] = n - 1
        path[k, 1] = j
    return k + 1
