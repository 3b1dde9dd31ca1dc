"""A vectorizable exponential for numba loops (no SVML in our LLVM).

``math.exp`` inside a numba loop is a scalar libm call; these helpers compute
``exp`` with a Cody-Waite range reduction, a degree-13 polynomial (relative error
below 2e-16 on the reduced range) and an exponent built from integer bits, so LLVM
turns the loop into AVX/AVX-512 code. Inputs are clamped to [-708, 709]: results
below 1e-307 come back as about 1e-308 instead of 0, which callers treat as
underflow (they check sums against a floor and redo such rows exactly).
"""

import numpy as np

from ._jit import njit

LOG2E = 1.4426950408889634
LN2_HI = 0.693147180369123816490
LN2_LO = 1.90821492927058770002e-10
FAST = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST, inline="always")
def vexp_inplace(vals, bits, m):
    """``vals[:m] = exp(vals[:m])``; ``bits`` is an int64 scratch array (len >= m)."""
    scale = bits.view(np.float64)
    for j in range(m):
        v = min(max(vals[j], -708.0), 709.0)
        kk = np.floor(v * LOG2E + 0.5)
        r = v - kk * LN2_HI
        r = r - kk * LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        vals[j] = p
        bits[j] = (np.int64(kk) + 1023) << 52
    for j in range(m):
        vals[j] *= scale[j]


_LN2 = 0.6931471805599453
_MANT = (1 << 52) - 1
_ONE_BITS = 1023 << 52


@njit(cache=True, nogil=True, error_model="numpy", fastmath=FAST, inline="always")
def vlog_inplace(vals, bits, m):
    """``vals[:m] = log(vals[:m])`` for positive normal doubles (about 1 ulp).

    The exponent and mantissa come from the bits (``vals`` viewed as int64); the
    mantissa's log is an atanh series on [sqrt(1/2), sqrt(2)).
    """
    ints = vals.view(np.int64)
    for j in range(m):
        b = ints[j]
        e = np.float64((b >> 52) - 1023)
        bits[j] = (b & _MANT) | _ONE_BITS
        vals[j] = e
    mant = bits.view(np.float64)
    for j in range(m):
        f = mant[j]
        big = f > 1.4142135623730951
        f = f * 0.5 if big else f
        e = vals[j] + 1.0 if big else vals[j]
        z = (f - 1.0) / (f + 1.0)
        z2 = z * z
        p = 1.0 / 21.0
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
        vals[j] = e * _LN2 + 2.0 * z * p
