"""Windowed frames spread over a recording: the measuring unit the recording-condition
checks (:mod:`.hum`, :mod:`.noise`, :mod:`.band`) share.

Each check looks at the spectra of a few dozen to a few hundred frames spread evenly over
the signal rather than at a full STFT: the conditions they look for (a steady line, a
noise floor, a lost band) hold over the whole recording. They need different frames (a
hum line wants segments of about a second for a resolution under 1 Hz, a noise floor
frames of 46 ms to see the quiet moments between words or notes, the band's sixth-octave
levels 4096 samples), so each asks for its own, through the functions here: one way to
place, cut, centre and window them, in batches (one FFT call for many frames). A further
check (reverb, say) cuts its frames the same way; one whose frames equal another's could
take that check's spectra instead of computing them again.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["frame_starts", "hann", "spread_frames", "symmetric_hann"]


def frame_starts(n_samples, n_fft, n_frames):
    """The first samples of ``n_frames`` frames of ``n_fft`` samples spread evenly over
    ``n_samples`` (the first at 0, the last ending at the signal's end): int64
    ``(n_frames,)``."""
    return np.linspace(0, n_samples - n_fft, n_frames).astype(np.int64)


@functools.lru_cache(maxsize=8)
def symmetric_hann(n):
    """``numpy.hanning(n)`` as float32, read-only (remembered)."""
    window = np.hanning(n).astype(np.float32)
    window.flags.writeable = False
    return window


@functools.lru_cache(maxsize=8)
def hann(n):
    """The periodic Hann window (scipy.signal's ``"hann"``, without importing it) as
    float32, read-only (remembered)."""
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)
    window.flags.writeable = False
    return window


def spread_frames(x, starts, window, *, remove_mean=False):
    """The frames of ``x`` that begin at ``starts``, each times ``window``.

    Parameters
    ----------
    x : numpy.ndarray, shape (n,)
        A float32 mono signal, at least ``window.size`` samples long.
    starts : numpy.ndarray of int, shape (F,)
        First samples (:func:`frame_starts`), each at most ``n - window.size``.
    window : numpy.ndarray, shape (n_fft,)
        float32.
    remove_mean : bool
        Subtract each frame's own mean before the window (a DC offset then leaves no
        trace at the lowest bins).

    Returns
    -------
    numpy.ndarray, float32 (F, n_fft)
        A new array (``scipy.fft.rfft(frames, axis=1)`` gives the frames' spectra).
    """
    frames = np.lib.stride_tricks.sliding_window_view(x, window.shape[0])[starts]  # a copy
    if remove_mean:
        frames -= frames.mean(axis=1, keepdims=True)
    frames *= window
    return frames
