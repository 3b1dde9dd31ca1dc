"""Mains hum: a stationary line at 50 or 60 Hz and its harmonics, found and notched out of
a recording before its features are computed (issue 16).

Hum sits in the lowest pitch bands and mel bands at a constant level: in chroma it is a
pitch class sounding everywhere (60 Hz is between A#1 and B1, its harmonics near B and
F#), in the log-mel a floor that hides quiet passages, so the cost loses its contrast
(the Bach chorale with hum at the signal's level: 194 instead of 60 ms mean error).

A line stands out when its power is ``_LINE_RATIO`` above the median of its
neighbourhood (±10 Hz). There is hum when one multiple of 50 or 60 Hz (up to 1 kHz)
stands out in at least ``_STATIONARY_SHARE`` of up to ``_MAX_SEGMENTS`` segments spread
over the recording: a note at that pitch does not sound for the whole recording, mains
hum does. Then every multiple standing out in at least ``_HARMONIC_SHARE`` of the
segments (speech or notes above a weak harmonic mask it at times) is removed with a
notch ``_NOTCH_WIDTH_HZ`` wide (narrow: a note a semitone away keeps its energy), applied
forwards in blocks (the phase changes only near the notches).
"""

from __future__ import annotations

import functools

import numpy as np

from .frames import frame_starts, spread_frames, symmetric_hann

__all__ = ["MAINS_HZ", "detect_hum", "remove_hum"]

MAINS_HZ = (50.0, 60.0)
_SEGMENT_S = 1.0  # at least this long (a power of two in samples): < 1 Hz resolution
_MAX_SEGMENTS = 32
_MIN_SEGMENTS = 4
_MAX_HARMONIC_HZ = 1000.0
_NEIGHBOURHOOD_HZ = 10.0
_LINE_HZ = 0.75  # the line's own bins (at most this far from h x mains)
_GAP_HZ = 2.0  # excluded from the neighbourhood
_LINE_RATIO = 10.0  # 10 dB
_STATIONARY_SHARE = 0.9  # one line this steady: hum
_HARMONIC_SHARE = 0.7  # then every harmonic this steady (speech or notes mask some)
_NOTCH_WIDTH_HZ = 1.5
_BLOCK = 1 << 18
_CHUNK = 4  # segments per FFT call (the search may stop after any chunk)


@functools.lru_cache(maxsize=8)
def _layout(sample_rate, n_fft, top):
    """Per mains frequency: the harmonics looked at and, grouped by their number of
    bins (so that one fancy index and one reduction serve a group), the bins of their
    lines and of their neighbourhoods (slices of evenly spaced bins)."""
    freqs = np.arange(top) * sample_rate / n_fft
    layout = {}
    for mains in MAINS_HZ:
        harmonics, lines, nears = [], {}, {}
        for h in range(1, int(min(_MAX_HARMONIC_HZ, 0.45 * sample_rate) // mains) + 1):
            f = h * mains
            lo = int(np.searchsorted(freqs, f - _NEIGHBOURHOOD_HZ - 1.0))
            hi = int(np.searchsorted(freqs, f + _NEIGHBOURHOOD_HZ + 1.0))
            dist = np.abs(freqs[lo:hi] - f)
            line = np.flatnonzero(dist <= _LINE_HZ)
            near = np.flatnonzero((dist <= _NEIGHBOURHOOD_HZ) & (dist > _GAP_HZ))
            if not line.size or near.size < 4:
                continue
            lines.setdefault(line.size, []).append((len(harmonics), lo + line))
            nears.setdefault(near.size, []).append((len(harmonics), lo + near))
            harmonics.append(f)
        layout[mains] = (harmonics, [_group(g) for g in lines.values()],
                         [_group(g) for g in nears.values()])
    return layout


def _group(members):
    index = np.array([k for k, _ in members])
    cols = np.stack([c for _, c in members])  # (H, K) bins
    index.flags.writeable = cols.flags.writeable = False
    return index, cols


def _stands_out(power, harmonics, lines, nears):
    """Whether each harmonic's line stands out of its neighbourhood in each segment:
    bool (S, H)."""
    line_max = np.empty((power.shape[0], len(harmonics)))
    medians = np.empty_like(line_max)
    for index, cols in lines:
        line_max[:, index] = power[:, cols].max(axis=2)
    for index, cols in nears:
        medians[:, index] = np.median(power[:, cols], axis=2)
    return line_max / np.maximum(medians, 1e-30) > _LINE_RATIO


def detect_hum(x, sample_rate):
    """The mains frequency and the harmonics of it that hum in ``x``.

    Parameters
    ----------
    x : numpy.ndarray, shape (n,)
        A mono signal.
    sample_rate : float

    Returns
    -------
    mains_hz : float or None
        50 or 60, or None when no stationary line is found (or ``x`` is shorter than
        four segments of about a second).
    harmonics_hz : list of float
        The humming harmonics (multiples of ``mains_hz`` up to 1 kHz), empty if none.

    Notes
    -----
    Up to 32 FFTs of about one second: O(S n log n), a few milliseconds. They are taken
    ``_CHUNK`` at a time, and the search stops as soon as every harmonic has stayed
    below its line ratio in too many segments to reach ``_STATIONARY_SHARE`` whatever
    the others show: then there is no hum, the answer it would give after all of them
    (a recording without hum shows that after the first few).
    """
    x = np.asarray(x, dtype=np.float32)
    sr = float(sample_rate)
    n_fft = 1 << int(np.ceil(np.log2(_SEGMENT_S * sr)))
    n_segments = min(_MAX_SEGMENTS, x.shape[0] // n_fft)
    if n_segments < _MIN_SEGMENTS:
        return None, []
    starts = frame_starts(x.shape[0], n_fft, n_segments)
    # only the bins up to the last harmonic's neighbourhood are looked at
    top = min(n_fft // 2 + 1, int(np.ceil((_MAX_HARMONIC_HZ + 2 * _NEIGHBOURHOOD_HZ)
                                          * n_fft / sr)))
    layout = _layout(sr, n_fft, top)
    out = {mains: np.zeros((n_segments, len(layout[mains][0])), dtype=bool)
           for mains in MAINS_HZ}
    from scipy.fft import rfft

    for c0 in range(0, n_segments, _CHUNK):
        chunk = slice(c0, min(n_segments, c0 + _CHUNK))
        frames = spread_frames(x, starts[chunk], symmetric_hann(n_fft), remove_mean=True)
        power = (np.abs(rfft(frames, axis=1)[:, :top]) ** 2).astype(np.float64)
        for mains in MAINS_HZ:
            out[mains][chunk] = _stands_out(power, *layout[mains])
        seen = chunk.stop
        # the most segments each harmonic can still stand out in
        best = [n_segments - seen + out[mains][:seen].sum(axis=0) for mains in MAINS_HZ]
        if not any(np.any(b / n_segments >= _STATIONARY_SHARE) for b in best):
            return None, []
    found = {}
    for mains in MAINS_HZ:
        shares = out[mains].sum(axis=0) / n_segments
        found[mains] = [(f, float(share)) for f, share in zip(layout[mains][0], shares,
                                                               strict=True)
                        if share >= _HARMONIC_SHARE]
    steady = {m: sum(share >= _STATIONARY_SHARE for _, share in found[m]) for m in MAINS_HZ}
    mains = max(MAINS_HZ, key=lambda m: (steady[m], len(found[m])))
    if not steady[mains]:
        return None, []
    return mains, [f for f, _ in found[mains]]


def remove_hum(x, sample_rate):
    """``x`` with its mains hum notched out, and what was done.

    Returns ``(y, info)``: ``y`` is ``x`` itself when no hum is found, else a new float32
    array; ``info`` has ``applied``, ``mains_hz`` and ``harmonics_hz``.
    """
    mains, harmonics = detect_hum(x, sample_rate)
    if mains is None:
        return x, {"applied": False}
    from scipy.signal import iirnotch, sosfilt, tf2sos  # (a slow import: only when needed)

    sos = np.vstack([tf2sos(*iirnotch(f, f / _NOTCH_WIDTH_HZ, fs=float(sample_rate)))
                     for f in harmonics])
    y = np.empty(x.shape[0], dtype=np.float32)
    zi = np.zeros((sos.shape[0], 2))
    for s in range(0, x.shape[0], _BLOCK):
        y[s:s + _BLOCK], zi = sosfilt(sos, x[s:s + _BLOCK], zi=zi)
    return y, {"applied": True, "mains_hz": mains, "harmonics_hz": harmonics}
