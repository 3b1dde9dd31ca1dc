"""Strong steady noise: a side buried in broadband noise (hiss at about the signal's
level) has the noise's spectrum subtracted before its features are computed (issue 16).

Strongly compressed chroma and onsets see a noise floor as loud as the music itself: K.545
with white noise at 0 dB SNR was 67 ms off (5.6 clean). The noise floor of every
frequency bin is a low percentile (``_PERCENTILE``) of its magnitude over frames spread
over the recording (each frame's mean removed). Held chords (an organ pad, bowed
strings) put their partials into that floor too: they sound in almost every frame. What
tells them from noise is the quietest moments: steady noise is there at the same level
(the tenth of the frames with the least energy, ``_QUIET_SHARE``, hold it as they hold
any other frame: a bin's magnitude is Rayleigh distributed, its 20th percentile 0.57
times its median), a chord's partials fall at its changes and rests. So each bin counts
in the decision up to ``_RAYLEIGH_RATIO`` times its median over the quiet frames, and
the share of that counted floor in the energy of 100 Hz-8 kHz tells steady broadband
noise from music: 0.085-0.090 with white noise at 0 dB SNR, 0.014-0.020 at 10 dB, at
most 0.009 on the public recordings and 0.005-0.014 on held pads and bowed chords with
breath noise (without the quiet frames' bound: 0.109-0.120 at 0 dB, up to 0.038 on the
public recordings, 0.04-0.11 on the held chords; ``benchmarks/accuracy/false_alarms.md``).
A DC offset or hum, notched before, is not counted. Above ``_SHARE`` the floor (all of
it) is subtracted from every frame's magnitude, ``_OVER`` times over (spectral
subtraction, the gain kept above ``_MIN_GAIN``). Below it nothing changes: subtracting
(once over) on clean or mildly noisy recordings cost 0.4-4 ms on the public pairs and
helped only some 10 dB copies.
"""

from __future__ import annotations

import numpy as np

from .frames import frame_starts, hann, spread_frames

__all__ = ["filter_spectrum", "noise_floor", "remove_noise", "stft_hop"]

_WINDOW_S = 0.046
_MAX_FRAMES = 400
_PERCENTILE = 20.0
# the quietest tenth of the frames (by their energy in the band); at least this many
_QUIET_SHARE = 0.1
_MIN_QUIET = 4
# a Rayleigh-distributed magnitude (a bin of steady noise): 20th percentile / median
_RAYLEIGH_RATIO = float(np.sqrt(np.log(1.0 / 0.8) / np.log(2.0)))
# the share with white noise at 0 dB SNR is 0.085-0.090, at 10 dB 0.014-0.020: at 0.06 the
# check fires about where it fired before the quiet frames' bound (0.08 of the unbounded
# share, 0.109-0.120 at 0 dB), with a wider margin on both sides
_SHARE = 0.06
_SHARE_BAND_HZ = (100.0, 8000.0)  # (a DC offset or mains hum is no broadband noise)
_MIN_GAIN = 0.05
# the floor (a low percentile) is about half the noise's mean magnitude: subtract it
# three times over (over-subtraction as at low SNR in Berouti et al.; 1x left K.545 at
# 0 dB SNR 17 ms off, 2x 11.5, 3x 10.9)
_OVER = 3.0
_BLOCK = 1 << 19


def _n_fft(sample_rate):
    return 1 << int(np.ceil(np.log2(_WINDOW_S * float(sample_rate))))


def noise_floor(x, sample_rate):
    """The steady noise floor of ``x``: per-bin magnitude and its share of the energy.

    Returns
    -------
    floor : numpy.ndarray, shape (n_fft // 2 + 1,)
        The ``_PERCENTILE``-th percentile over frames of each bin's magnitude (Hann
        window of about 46 ms, up to 400 frames spread over ``x``).
    share : float
        ``sum(min(floor, r * quiet) ** 2) / sum(mean power)`` over 100 Hz-8 kHz, where
        ``quiet`` is each bin's median magnitude over the tenth of the frames with the
        least energy there and ``r`` (0.57) the ratio of a Rayleigh distribution's 20th
        percentile to its median: near 0 for music or speech with quiet moments and for
        held chords (their partials fall at changes and rests), about 0.086 with white
        noise at the signal's level.
    """
    from scipy.fft import rfft

    n_fft = _n_fft(sample_rate)
    x = np.asarray(x, dtype=np.float32)
    if x.shape[0] < 2 * n_fft:
        return np.zeros(n_fft // 2 + 1), 0.0
    starts = frame_starts(x.shape[0], n_fft, min(_MAX_FRAMES, x.shape[0] // n_fft))
    mag = np.abs(rfft(spread_frames(x, starts, hann(n_fft), remove_mean=True), axis=1))
    # each bin's frames sorted first (contiguous rows: a vectorized sort), then the
    # percentile of the sorted rows: the same values as np.percentile(mag, q, axis=0),
    # whose selection along the frames took four times as long
    floor = np.percentile(np.sort(np.ascontiguousarray(mag.T), axis=1), _PERCENTILE, axis=1)
    freqs = np.arange(floor.shape[0]) * float(sample_rate) / n_fft
    band = (freqs >= _SHARE_BAND_HZ[0]) & (freqs <= min(_SHARE_BAND_HZ[1],
                                                          0.45 * float(sample_rate)))
    power = mag[:, band].astype(np.float64) ** 2
    total = float(np.sum(np.mean(power, axis=0)))
    if not total > 0:
        return floor, 0.0
    n_quiet = min(power.shape[0], max(_MIN_QUIET, int(_QUIET_SHARE * power.shape[0])))
    quiet = np.argpartition(power.sum(axis=1), n_quiet - 1)[:n_quiet]
    steady = np.minimum(floor[band], _RAYLEIGH_RATIO * np.median(mag[quiet][:, band], axis=0))
    share = float(np.sum(steady.astype(np.float64) ** 2)) / total
    return floor, share


def remove_noise(x, sample_rate):
    """``x`` with a strong steady noise floor subtracted, and what was done.

    Returns ``(y, info)``: ``y`` is ``x`` itself unless the floor's share of the energy
    is above ``_SHARE``, else a new float32 array of the same length; ``info`` has
    ``applied`` and ``share``.

    Notes
    -----
    Spectral subtraction (Hann windows of ~46 ms, hop a quarter of that) in blocks of
    2^19 samples with a window's overlap each side: O(n log n) time, O(block) memory.
    """
    floor, share = noise_floor(x, sample_rate)
    info = {"applied": share > _SHARE, "share": round(share, 4)}
    if not info["applied"]:
        return x, info
    return filter_spectrum(x, sample_rate, lambda mag: np.maximum(
        1.0 - _OVER * floor[:, None] / np.maximum(mag, 1e-12), _MIN_GAIN)), info


def stft_hop(sample_rate):
    """The hop (samples) of :func:`filter_spectrum`'s frames: a quarter of a Hann window
    of about 46 ms."""
    return _n_fft(sample_rate) // 4


def filter_spectrum(x, sample_rate, gain):
    """``x`` (float32) with every STFT frame's bins multiplied by ``gain(mag)``.

    ``mag`` (bins, frames) are the magnitudes of Hann-windowed frames of about 46 ms
    (unnormalized, as :func:`noise_floor` measures them), one every
    :func:`stft_hop` samples; ``gain`` returns an array of the same shape. It sees
    blocks of 2^19 samples with two windows' overlap each side (eight hops), so a gain
    may look up to eight frames back.

    Notes
    -----
    O(n log n) time, O(block) memory.
    """
    from scipy.signal import istft, stft

    n_fft = _n_fft(sample_rate)
    hop = n_fft // 4
    x = np.asarray(x, dtype=np.float32)
    if x.shape[0] < n_fft:  # shorter than one window: filtered as if followed by silence
        return filter_spectrum(np.pad(x, (0, n_fft - x.shape[0])), sample_rate,
                               gain)[:x.shape[0]]
    y = np.empty_like(x)
    window = hann(n_fft)
    pad = 2 * n_fft
    for s in range(0, x.shape[0], _BLOCK):
        lo, hi = max(0, s - pad), min(x.shape[0], s + _BLOCK + pad)
        _, _, z = stft(x[lo:hi], window=window, nperseg=n_fft, noverlap=n_fft - hop,
                       boundary="even")
        # scipy's stft divides by the window's sum; noise_floor's scale is without it
        mag = np.abs(z) * float(window.sum())
        _, block = istft(z * gain(mag), window=window, nperseg=n_fft, noverlap=n_fft - hop,
                         boundary=True)
        stop = min(s + _BLOCK, x.shape[0])
        y[s:stop] = block[s - lo:stop - lo]
    return y
