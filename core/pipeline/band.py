"""Band limits: when one side of a pair lost the low or the high frequencies (a telephone
line, a low-pass), the pitch features of both sides are computed in the band the two
still share (issue 16; :func:`band_options` says which features and why).

Features of the full band compare what only one side has: a telephone copy (300-3400 Hz)
has no bass fundamentals, so A's chroma holds pitch classes B's lacks (the Bach chorale
through a telephone band: 120 instead of 60 ms mean error, "Vibe Ace" 17.9 instead of
12.3). The band is found by comparing the long-term spectra of the two sides
in sixth-octave bands, after removing their level difference in the middle band
(``_MID_HZ``, which every such copy keeps). A side lost an end of the spectrum when it
falls more than ``_DEEP_DB`` below the other from some band to the end of the spectrum
(or down to its start): two recordings of the same content on other instruments, voices,
rooms or microphones differ by far less (at most 56 dB on the public pairs, at their
extreme bands), a filter's stop band by more (80-130 dB). The shared band then ends
where the drop towards that stop band passes ``_EDGE_DB`` (the filter's transition).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.fft import rfft

from .frames import frame_starts, spread_frames, symmetric_hann

__all__ = ["band_edges", "band_levels", "band_of_levels", "band_options", "shared_band"]

_N_FFT = 4096
_MAX_FRAMES = 200
_FMIN_HZ = 40.0
_BANDS_PER_OCTAVE = 6
_MID_HZ = (500.0, 2500.0)
_DEEP_DB = 65.0  # a filter's stop band: this far below the other side, to the end
_EDGE_DB = 20.0  # the band ends where the drop passes this
_MIDI_RANGE = (36, 96)  # chroma's default


def band_levels(x, sample_rate, edges):
    """One side's mean power (dB) in each band ``edges[k]..edges[k+1]``
    (:func:`band_edges`) over up to ``_MAX_FRAMES`` frames spread over the signal, for
    :func:`band_of_levels` (each side on its own: :mod:`.conditions` measures the two
    sides at once)."""
    sample_rate = float(sample_rate)
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[0]
    if n < _N_FFT:
        x = np.pad(x, (0, _N_FFT - n))
        n = _N_FFT
    frames = spread_frames(x, frame_starts(n, _N_FFT, min(_MAX_FRAMES, max(1, n // _N_FFT))),
                           symmetric_hann(_N_FFT))
    power = np.mean(np.abs(rfft(frames, axis=1)) ** 2, axis=0, dtype=np.float64)
    freqs = np.arange(power.shape[0]) * sample_rate / _N_FFT
    levels = np.full(len(edges) - 1, np.nan)
    # the bins of each band: a slice (the bins' frequencies increase)
    bounds = np.searchsorted(freqs, edges, side="left")
    for k in range(len(edges) - 1):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if hi > lo:
            levels[k] = 10 * np.log10(max(float(power[lo:hi].mean()), 1e-20))
    return levels


def shared_band(xa, sr_a, xb, sr_b):
    """The band both sides still hold, or None when neither lost part of the spectrum.

    Parameters
    ----------
    xa, xb : numpy.ndarray, shape (n,)
        Mono signals of A and B.
    sr_a, sr_b : float
        Their sample rates.

    Returns
    -------
    band : (float, float) or None
        ``(fmin_hz, fmax_hz)``: the lowest and highest frequency both sides keep;
        ``fmin_hz`` is 0 and ``fmax_hz`` the lower Nyquist frequency where nothing is
        cut; None when nothing is cut at either end.
    info : dict
        The band, the side that lost each end and the level differences.

    Notes
    -----
    One FFT of 4096 samples on up to 200 frames per side: O(F n log n), milliseconds.
    """
    edges = band_edges(sr_a, sr_b)
    return band_of_levels(band_levels(xa, sr_a, edges), band_levels(xb, sr_b, edges),
                          sr_a, sr_b)


def band_edges(sr_a, sr_b):
    """The edges (Hz) of the sixth-octave bands :func:`shared_band` compares, from
    ``_FMIN_HZ`` up to the lower Nyquist frequency."""
    nyquist = 0.5 * min(float(sr_a), float(sr_b))
    n_bands = int(math.floor(_BANDS_PER_OCTAVE * math.log2(nyquist / _FMIN_HZ)))
    return _FMIN_HZ * 2.0 ** (np.arange(n_bands + 1) / _BANDS_PER_OCTAVE)


def band_of_levels(la, lb, sr_a, sr_b):
    """:func:`shared_band` from the two sides' :func:`band_levels`."""
    nyquist = 0.5 * min(float(sr_a), float(sr_b))
    edges = band_edges(sr_a, sr_b)
    centres = np.sqrt(edges[:-1] * edges[1:])
    diff = lb - la
    mid = (centres >= _MID_HZ[0]) & (centres <= _MID_HZ[1]) & np.isfinite(diff)
    if not mid.any():
        return None, {"applied": False}
    diff = diff - float(np.median(diff[mid]))
    drop = np.where(np.isfinite(diff), np.abs(diff), 0.0)
    deep, edge = drop > _DEEP_DB, drop > _EDGE_DB
    fmin, fmax = 0.0, nyquist
    lost = {}
    # the high end: the first band above the middle from which every band up is deep,
    # then down to the last band within the edge drop
    above = np.flatnonzero(centres > _MID_HZ[1])
    for k in above:
        if deep[k:].all():
            while k > above[0] and edge[k - 1]:
                k -= 1
            fmax = float(edges[k])
            lost["high"] = "b" if diff[k] < 0 else "a"
            break
    below = np.flatnonzero(centres < _MID_HZ[0])
    for k in below[::-1]:
        if deep[:k + 1].all():
            while k < below[-1] and edge[k + 1]:
                k += 1
            fmin = float(edges[k + 1])
            lost["low"] = "b" if diff[k] < 0 else "a"
            break
    info = {"applied": bool(lost), "fmin_hz": round(fmin, 1), "fmax_hz": round(fmax, 1),
            "lost": lost}
    if not lost:
        return None, info
    return (fmin, fmax), info


def band_options(name, options, band):
    """A feature's options limited to the shared ``band`` (:func:`shared_band`).

    Only pitch bands (``chroma``, ``cens``, ``dlnco``) are limited, and only at the low
    end, through ``midi_range``: a side without its bass lacks the fundamentals, which
    chroma weighs most. Mel features (``logmel``, ``onset``) remove each band's mean in
    dB, and a filter's slope is such a gain: limiting them, or the top of the pitch
    range, cost 0.4-2.5 ms on the low-pass copies of ``benchmarks/accuracy/unseen.py``.
    """
    fmin = band[0]
    if name not in ("chroma", "cens", "dlnco") or fmin <= 0:
        return options
    given = tuple(options.get("midi_range", _MIDI_RANGE if name != "dlnco" else (21, 108)))
    lo = max(given[0], int(math.ceil(69 + 12 * math.log2(fmin / 440.0))))
    if lo > given[1] or lo == given[0]:
        return options
    return dict(options, midi_range=(lo, given[1]))
