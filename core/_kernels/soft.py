"""Numba kernels for soft-DTW: forward (value) and backward (expected alignment) by
anti-diagonal wavefronts, so the inner loop over a diagonal has no dependency and
vectorizes (with :mod:`vexp` and a short-range logarithm).

Storage: the accumulated cost ``R`` lives in an (N+2) x (M+2) padded grid stored
diagonal by diagonal: padded cell (p, q) (p = i + 1, q = j + 1 for frame pair (i, j))
is at ``off[p + q] + p - lo[p + q]``. Border row/column 0 hold ``BIG`` (``R[0, 0]
= 0``), border row N+1/column M+1 hold ``-BIG`` (``R[N+1, M+1] = R[N, M]``).
``BIG`` stands for infinity and keeps the arithmetic NaN-free. Frames: ``xT`` (D, N),
``yRT`` (D, M) = features of B reversed in time and transposed, so cells along a
diagonal read both contiguously. ``metric`` 0 = squared euclidean, 2 = precomputed
(``xT`` is then the (N, M) cost). Windows: cell (i, j) is admitted when
``wlo[i] <= j < whi[i]``.
"""

import numpy as np

from ._jit import njit
from .vexp import FAST, vexp_inplace

BIG = 1e300
_LN2 = 0.6931471805599453


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST, inline="always")
def _log_1_3(s, cnt):
    """``s[:cnt] = log(s[:cnt])`` for values in [1, 3] (atanh series, ~1 ulp)."""
    for t in range(cnt):
        v = s[t]
        big = v > 1.5
        f = v * 0.5 if big else v
        e = _LN2 if big else 0.0
        z = (f - 1.0) / (f + 1.0)
        z2 = z * z
        p = 1.0 / 23.0
        p = p * z2 + 1.0 / 21.0
        p = p * z2 + 1.0 / 19.0
        p = p * z2 + 1.0 / 17.0
        p = p * z2 + 1.0 / 15.0
        p = p * z2 + 1.0 / 13.0
        p = p * z2 + 1.0 / 11.0
        p = p * z2 + 1.0 / 9.0
        p = p * z2 + 1.0 / 7.0
        p = p * z2 + 1.0 / 5.0
        p = p * z2 + 1.0 / 3.0
        p = p * z2 + 1.0
        s[t] = e + 2.0 * z * p


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST, inline="always")
def _diag_cost(xT, yRT, metric, k, p0, cnt, n, m, wlo, whi, out):
    """Local costs of padded cells (p0 + t, k - p0 - t), t < cnt; BIG outside window."""
    if metric == 2:
        for t in range(cnt):
            i = p0 + t - 1
            out[t] = xT[i, k - p0 - t - 1]
    else:
        for t in range(cnt):
            out[t] = 0.0
        d = xT.shape[0]
        jr0 = m - k + p0  # reversed column of B for t = 0
        for f in range(d):
            xa = xT[f, p0 - 1:p0 - 1 + cnt]
            yb = yRT[f, jr0:jr0 + cnt]
            for t in range(cnt):
                v = np.float64(xa[t]) - yb[t]
                out[t] += v * v
    wl = wlo[p0 - 1:p0 - 1 + cnt]
    wh = whi[p0 - 1:p0 - 1 + cnt]
    j0 = k - p0 - 1
    for t in range(cnt):
        j = j0 - t
        if j < wl[t] or j >= wh[t]:
            out[t] = BIG


@njit(cache=True, nogil=True, error_model="numpy")
def init_borders(R, off, lo, n, m):
    for p in range(n + 2):
        for q in (0, m + 1):
            k = p + q
            R[off[k] + p - lo[k]] = BIG if q == 0 else -BIG
    for q in range(m + 2):
        for p in (0, n + 1):
            k = p + q
            R[off[k] + p - lo[k]] = BIG if p == 0 else -BIG
    R[0] = 0.0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _store_diag(R, off, lo, n, m, k, e):
    if k > n + m:
        return
    base = off[k] - lo[k]
    for p in range(max(1, k - m), min(k - 1, n) + 1):
        R[base + p] = e[p]


@njit(cache=True, nogil=True, error_model="numpy")
def diag_to_rows(Rd, off, lo, n, m, out, i0, i1):
    """Rows ``i0:i1`` of the (N, M) matrix stored by diagonals in ``Rd`` (padded grid),
    in 64 x 64 tiles so that reads along diagonals stay in cache."""
    for ib in range(i0, i1, 64):
        ie = min(ib + 64, i1)
        for jb in range(0, m, 64):
            je = min(jb + 64, m)
            for i in range(ib, ie):
                for j in range(jb, je):
                    k = i + j + 2
                    out[i, j] = Rd[off[k] + i + 1 - lo[k]]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def forward(xT, yRT, metric, gamma, R, off, lo, n, m, wlo, whi, k0, k1):
    """Fill R on interior diagonals ``k0 <= k < k1`` (start at k0 = 2)."""
    cap = min(n, m) + 1
    dbuf = np.empty(cap)
    e0 = np.empty(cap)
    e1 = np.empty(cap)
    e2 = np.empty(cap)
    mn = np.empty(cap)
    bits = np.empty(cap, dtype=np.int64)
    ig = 1.0 / gamma
    for k in range(k0, k1):
        p0 = max(1, k - m)
        p1 = min(k - 1, n)
        cnt = p1 - p0 + 1
        if cnt <= 0:
            continue
        _diag_cost(xT, yRT, metric, k, p0, cnt, n, m, wlo, whi, dbuf)
        b0 = off[k] - lo[k] + p0
        b1 = off[k - 1] - lo[k - 1] + p0
        b2 = off[k - 2] - lo[k - 2] + p0
        # views so that the loops index with t >= 0 (contiguous loads, no gathers)
        r_l = R[b1:b1 + cnt]
        r_u = R[b1 - 1:b1 - 1 + cnt]
        r_d = R[b2 - 1:b2 - 1 + cnt]
        for t in range(cnt):
            r_left = r_l[t]
            r_up = r_u[t]
            r_diag = r_d[t]
            # softmin = lo - gamma log(1 + exp((lo - mid)/g) + exp((lo - hi)/g)): two exps
            a_lo = min(r_left, r_up)
            a_hi = max(r_left, r_up)
            lo_v = min(a_lo, r_diag)
            hi_v = max(a_hi, r_diag)
            mid_v = max(a_lo, min(a_hi, r_diag))
            mn[t] = lo_v
            e1[t] = (lo_v - mid_v) * ig
            e2[t] = (lo_v - hi_v) * ig
        vexp_inplace(e1, bits, cnt)
        vexp_inplace(e2, bits, cnt)
        for t in range(cnt):
            e0[t] = 1.0 + e1[t] + e2[t]
        _log_1_3(e0, cnt)
        r_o = R[b0:b0 + cnt]
        for t in range(cnt):
            v = dbuf[t] + mn[t] - gamma * e0[t]
            if dbuf[t] >= BIG or v > BIG:
                v = BIG
            r_o[t] = v


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST)
def backward(xT, yRT, metric, gamma, R, off, lo, n, m, wlo, whi, state, grad, want_grad,
             k0, k1):
    """Expected alignment on interior diagonals ``k1 > k >= k0`` (descending; start at
    k1 = N + M + 1, end at k0 = 2). ``state`` (4, N + 2) holds E and D of the two
    diagonals after the current one between calls; initialise it with zeros and
    ``state[0, N + 1] = 1`` (E of the far corner) before the first call. Diagonals whose
    R is no longer needed are overwritten with E: after the last call R holds E on
    every interior cell (read it with :func:`diag_to_rows`). With ``want_grad`` (squared
    euclidean only), ``grad`` (D, N) accumulates ``sum_j E_ij (x_i - y_j)``."""
    cap = min(n, m) + 1
    dbuf = np.empty(cap)
    ea = np.empty(cap)
    eb = np.empty(cap)
    ec = np.empty(cap)
    bits = np.empty(cap, dtype=np.int64)
    ig = 1.0 / gamma
    e2 = state[0]  # E on diagonal k + 2, indexed by p
    d2 = state[1]
    e1 = state[2]  # diagonal k + 1
    d1 = state[3]
    for k in range(k1 - 1, k0 - 1, -1):
        p0 = max(1, k - m)
        p1 = min(k - 1, n)
        cnt = p1 - p0 + 1
        if cnt <= 0:
            continue
        _diag_cost(xT, yRT, metric, k, p0, cnt, n, m, wlo, whi, dbuf)
        b0 = off[k] - lo[k] + p0
        b1 = off[k + 1] - lo[k + 1] + p0
        b2 = off[k + 2] - lo[k + 2] + p0
        r_0 = R[b0:b0 + cnt]
        r_a = R[b1 + 1:b1 + 1 + cnt]
        r_b = R[b1:b1 + cnt]
        r_c = R[b2 + 1:b2 + 1 + cnt]
        d_a = d1[p0 + 1:p0 + 1 + cnt]
        d_b = d1[p0:p0 + cnt]
        d_c = d2[p0 + 1:p0 + 1 + cnt]
        for t in range(cnt):
            rij = r_0[t]
            ea[t] = (r_a[t] - rij - d_a[t]) * ig
            eb[t] = (r_b[t] - rij - d_b[t]) * ig
            ec[t] = (r_c[t] - rij - d_c[t]) * ig
        vexp_inplace(ea, bits, cnt)
        vexp_inplace(eb, bits, cnt)
        vexp_inplace(ec, bits, cnt)
        # R on diagonal k + 2 is no longer needed: it now stores E of that diagonal
        _store_diag(R, off, lo, n, m, k + 2, e2)
        # rotate: diagonal k + 2 is no longer needed, its arrays take diagonal k
        e2, e1 = e1, e2
        d2, d1 = d1, d2
        f_a = e2[p0 + 1:p0 + 1 + cnt]
        f_b = e2[p0:p0 + cnt]
        f_c = e1[p0 + 1:p0 + 1 + cnt]
        for t in range(cnt):
            v = f_a[t] * ea[t] + f_b[t] * eb[t] + f_c[t] * ec[t]
            if r_0[t] >= BIG:
                v = 0.0
            ea[t] = v
        if want_grad:
            jr0 = m - k + p0
            for f in range(xT.shape[0]):
                xa = xT[f, p0 - 1:p0 - 1 + cnt]
                yb = yRT[f, jr0:jr0 + cnt]
                g = grad[f, p0 - 1:p0 - 1 + cnt]
                for t in range(cnt):
                    g[t] += ea[t] * (np.float64(xa[t]) - yb[t])
        e_o = e1[p0:p0 + cnt]
        d_o = d1[p0:p0 + cnt]
        for t in range(cnt):
            e_o[t] = ea[t]
            d_o[t] = 0.0 if dbuf[t] >= BIG else dbuf[t]
        # border cells of diagonal k (p = N + 1 or q = M + 1) carry nothing
        if k - m - 1 >= 0:
            e1[k - m - 1] = 0.0
            d1[k - m - 1] = 0.0
        if k - n - 1 >= 0:
            e1[n + 1] = 0.0
            d1[n + 1] = 0.0
    if k0 == 2:
        # the last two diagonals: store their E too (R then holds E everywhere)
        _store_diag(R, off, lo, n, m, 3, e2)
        _store_diag(R, off, lo, n, m, 2, e1)
    state[0, :] = e2
    state[1, :] = d2
    state[2, :] = e1
    state[3, :] = d1
