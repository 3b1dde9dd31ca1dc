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
from numba import njit

from .vexp import FAST, vexp_inplace

BIG = 1e300
_LN2 = 0.6931471805599453


@njit(cache=True, nogil=True, fastmath=FAST, inline="always")
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


@njit(cache=True, nogil=True, fastmath=FAST, inline="always")
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
            for t in range(cnt):
                v = np.float64(xT[f, p0 + t - 1]) - yRT[f, jr0 + t]
                out[t] += v * v
    for t in range(cnt):
        i = p0 + t - 1
        j = k - p0 - t - 1
        if j < wlo[i] or j >= whi[i]:
            out[t] = BIG


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True, fastmath=FAST)
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
        b0 = off[k] - lo[k]
        b1 = off[k - 1] - lo[k - 1]
        b2 = off[k - 2] - lo[k - 2]
        for t in range(cnt):
            p = p0 + t
            r_left = R[b1 + p]
            r_up = R[b1 + p - 1]
            r_diag = R[b2 + p - 1]
            lo_v = min(r_left, min(r_up, r_diag))
            mn[t] = lo_v
            e0[t] = (lo_v - r_left) * ig
            e1[t] = (lo_v - r_up) * ig
            e2[t] = (lo_v - r_diag) * ig
        vexp_inplace(e0, bits, cnt)
        vexp_inplace(e1, bits, cnt)
        vexp_inplace(e2, bits, cnt)
        for t in range(cnt):
            e0[t] = e0[t] + e1[t] + e2[t]
        _log_1_3(e0, cnt)
        for t in range(cnt):
            v = dbuf[t] + mn[t] - gamma * e0[t]
            if dbuf[t] >= BIG or v > BIG:
                v = BIG
            R[b0 + p0 + t] = v


@njit(cache=True, nogil=True, fastmath=FAST)
def backward(xT, yRT, metric, gamma, R, off, lo, n, m, wlo, whi, E, state, k0, k1):
    """Expected alignment on interior diagonals ``k1 > k >= k0`` (descending; start at
    k1 = N + M + 1). ``state`` (4, N + 2) holds E and D of the two diagonals after the
    current one between calls; initialise it with zeros and ``state[0, N + 1] = 1``
    (E of the far corner) before the first call. ``E`` is the (N, M) output."""
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
        b0 = off[k] - lo[k]
        b1 = off[k + 1] - lo[k + 1]
        b2 = off[k + 2] - lo[k + 2]
        for t in range(cnt):
            p = p0 + t
            rij = R[b0 + p]
            ea[t] = (R[b1 + p + 1] - rij - d1[p + 1]) * ig
            eb[t] = (R[b1 + p] - rij - d1[p]) * ig
            ec[t] = (R[b2 + p + 1] - rij - d2[p + 1]) * ig
        vexp_inplace(ea, bits, cnt)
        vexp_inplace(eb, bits, cnt)
        vexp_inplace(ec, bits, cnt)
        # rotate: diagonal k + 2 is no longer needed, its arrays take diagonal k
        e2, e1 = e1, e2
        d2, d1 = d1, d2
        for t in range(cnt):
            p = p0 + t
            v = e2[p + 1] * ea[t] + e2[p] * eb[t] + e1[p + 1] * ec[t]
            if R[b0 + p] >= BIG:
                v = 0.0
            ea[t] = v
        for t in range(cnt):
            p = p0 + t
            e1[p] = ea[t]
            d1[p] = 0.0 if dbuf[t] >= BIG else dbuf[t]
            E[p - 1, k - p - 1] = ea[t]
        # border cells of diagonal k (p = N + 1 or q = M + 1) carry nothing
        if k - m - 1 >= 0:
            e1[k - m - 1] = 0.0
            d1[k - m - 1] = 0.0
        if k - n - 1 >= 0:
            e1[n + 1] = 0.0
            d1[n + 1] = 0.0
    state[0, :] = e2
    state[1, :] = d2
    state[2, :] = e1
    state[3, :] = d1
