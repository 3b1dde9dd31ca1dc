"""The phase vocoder's frame loop with identity phase locking, as libtsm's ``pv_tsm``.

libtsm runs it in Python, one frame at a time (``np.angle``, ``find_peaks`` and a loop
over peaks per frame: 40 % of its ``hps_tsm`` time). This kernel computes the same
output spectrogram, including libtsm's own region bounds (the last peak's region ends at
the *number* of peaks, so the bins after the last peak usually keep a zero phase
correction).
"""

import math

import numpy as np

from ._jit import njit


@njit(cache=True, nogil=True)
def pv_locked(x_spec, ana_hop, omega, syn_hop, y_spec):
    """Fill ``y_spec`` (K, T) from the input spectrogram ``x_spec`` (K, T) complex128;
    ``ana_hop`` (T,) analysis hops in samples, ``omega`` (K,) bin frequencies in radians
    per sample, ``syn_hop`` the synthesis hop."""
    n_bins, n_frames = x_spec.shape
    two_pi = 2.0 * math.pi
    for k in range(n_bins):
        y_spec[k, 0] = x_spec[k, 0]
    ph_last = np.empty(n_bins)
    ph_syn = np.empty(n_bins)
    ph_curr = np.empty(n_bins)
    ipa_hop = np.empty(n_bins)
    mag = np.zeros(n_bins + 4)
    peaks = np.empty(n_bins, dtype=np.int64)
    for k in range(n_bins):
        ph_last[k] = math.atan2(x_spec[k, 0].imag, x_spec[k, 0].real)
        ph_syn[k] = math.atan2(y_spec[k, 0].imag, y_spec[k, 0].real)
    for i in range(1, n_frames):
        hop = ana_hop[i]
        for k in range(n_bins):
            value = x_spec[k, i]
            ph_curr[k] = math.atan2(value.imag, value.real)
            hpi = (ph_curr[k] - ph_last[k]) - omega[k] * hop
            hpi = hpi - two_pi * np.rint(hpi / two_pi)
            ipa_hop[k] = (omega[k] + hpi / hop) * syn_hop
            mag[k + 2] = abs(value)
        n_peaks = 0
        for k in range(n_bins):
            m = mag[k + 2]
            if mag[k + 4] < m and mag[k + 3] < m and mag[k + 1] < m and mag[k] < m:
                peaks[n_peaks] = k
                n_peaks += 1
        theta = np.zeros(n_bins)
        for n in range(n_peaks):
            start = 0 if n == 0 else int(math.ceil((peaks[n] + peaks[n - 1]) / 2))
            if n < n_peaks - 1:
                stop = int(math.ceil((peaks[n + 1] + peaks[n]) / 2))
            else:
                stop = n_peaks  # (libtsm's bound)
            p = peaks[n]
            value = ph_syn[p] + ipa_hop[p] - ph_curr[p]
            for k in range(start, min(stop, n_bins)):
                theta[k] = value
        for k in range(n_bins):
            y_spec[k, i] = complex(math.cos(theta[k]), math.sin(theta[k])) * x_spec[k, i]
            ph_syn[k] = math.atan2(y_spec[k, i].imag, y_spec[k, i].real)
            ph_last[k] = ph_curr[k]
