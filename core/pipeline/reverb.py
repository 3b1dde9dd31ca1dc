"""Reverberation: one side recorded in a much more reverberant room than the other has
its late reverberation subtracted before its features are computed (issue 16).

A reverberant side's features trail the dry side's: every note or syllable lingers for
the room's decay time, so the path reaches B's next event late (the public pairs with
B in a 1.2 s room: late by 10-160 ms on average; K.545 11.9, the Bach chorale 162.1,
the Harvard sentences 64.5 ms mean error against 5.6, 60.4 and 7.1 dry). On speech the
lag grows through a sentence (100-370 ms at its end) and resets in the pause.

The measure is how fast a side can fall silent. A room's sound decays at most at its
rate, whatever is played in it: the steepest decays of a side's band levels (the
``_PERCENTILE``-th percentile of least-squares slopes over ``_WINDOW_S`` of third-octave
bands from 250 Hz to 8 kHz, frames of about 23 ms, starting at least ``_ABOVE_DB``
above the band's floor) give a decay time (60 dB at that slope): 0.27-0.39 s for dry
speech (the window's length bounds it), 0.49-0.95 s for the public pairs' dry music
(synthesized pianos decay slowly; real recordings have their own room), 0.59-1.31 s
for their B in rooms of 0.6-2 s. Instruments' own decays overlap a room's, so one side
is taken for reverberant only on clear evidence: its decay time is at least
``_MIN_DECAY_S`` and ``_RATIO`` times the other side's (the dry public pairs' sides
differ by at most 1.27 times, generated dry pairs, an organ's clean releases against a
piano's slow decays, by up to 2.63). That finds speech in a room, and music only
falsely: a reverberant copy of a piano or a band is within 1.6 times of the other side
dry, but a piano ringing 60 dB in 2 s against an organ's short releases (the demo pair,
``assets/demo``: 2.0 against 0.43 s) is 4.7 times slower. So the pipeline leaves a music
pair's sound as it is (``material`` of :func:`core.pipeline.conditions.prepare_sides`,
:func:`room_kept`; the subtraction took the demo pair from 19.1 to 31.0 ms): the
decision stays in the diagnostics (``side``, and ``kept`` with the reason). Dry speech
falls silent fast whoever speaks (0.27-0.39 s; the two sides of every dry speech pair
measured differ by at most 1.24 times), so a speech pair needs only ``_SPEECH_RATIO``:
a room of 0.6-0.9 s, 2.1-2.95 times dry speech's decay, is found too (the Harvard
sentences in 0.6 s: 26.5 -> 10.9 ms, in 0.9 s: 41.5 -> 13.2).

Then the late reverberation of that side is estimated from its own spectrum
``_DELAY_S`` earlier, decayed at the measured rate, and subtracted (the late-reverberation
spectral subtraction of Lebart et al., 2001), the gain kept above ``_MIN_GAIN``, and the
default plan's onset strength weighs ``_ONSET_WEIGHT`` (:func:`reverb_plan`).

What the subtraction leaves (the early reverberation, and the late part where the
measured decay time falls short of the room's: 0.98 s measured in a 1.2 s room, 1.31 s
in a 2.0 s one) still makes the reverberant side's sound build up and linger where the
dry side's starts and stops: a syllable's energy grows for tens of milliseconds and the
end of a sentence rings on, so the path falls behind within a sentence (the Harvard
sentences in a 2.0 s room: 80 ms mean error, up to 545 ms at a sentence's end). The dry
side is therefore put in a room too (:func:`add_room`): its power spectrum smeared by
an exponential decaying 60 dB in ``_DRY_ROOM_SHARE`` times the measured decay time,
so both sides build up and ring alike (Harvard sentences in 1.2 s, the tuning case:
17.6 -> 14.4 ms; in 2.0 s, held out: 80.3 -> 24.8 ms; ``benchmarks/accuracy/unseen.md``).

References
----------
K. Lebart, J. M. Boucher, P. N. Denbigh, "A new method based on spectral subtraction
for speech dereverberation", Acta Acustica 87 (2001), 359-366.
"""

from __future__ import annotations

import math

import numpy as np

from .frames import hann
from .noise import filter_spectrum, stft_hop

__all__ = ["add_room", "decay_time_s", "dry_room_s", "remove_reverb", "reverb_plan",
           "reverberant_side", "room_kept"]

_FRAME_S = 0.023
_FMIN_HZ = 250.0
_FMAX_HZ = 8000.0
_BANDS_PER_OCTAVE = 3
_SMOOTH_FRAMES = 2  # band powers averaged over two frames (a diffuse tail fluctuates)
_WINDOW_S = 0.3
_ABOVE_DB = 25.0  # a window starts this far above the band's floor (its 10th percentile)
_FLOOR_PERCENTILE = 10.0
_PERCENTILE = 3.0
_MIN_WINDOWS = 200
_MIN_DECAY_S = 0.5
_RATIO = 3.0
# speech pairs: the dry ones' sides differ by at most 1.24 times (../shared/data: harvard1
# 1.24, harvard2 1.02, arctic 1.03; false_alarms.py's formant speech at most 1.16, its
# decays under 0.5 s); other sounds were not measured and keep _RATIO
_SPEECH_RATIO = 2.0
_DELAY_S = 0.05  # the late reverberation starts this long after the direct sound
_MIN_GAIN = 0.1
# the dry side's room, as a share of the reverberant side's measured decay time (the
# Harvard sentences in a 1.2 s room, B subtracted, A in a room of this share: 0.3: 16.3
# ms, 0.4: 16.2, 0.5: 14.4, 0.6: 16.2, 0.7: 16.4, 1: 31.0; none: 17.6)
_DRY_ROOM_SHARE = 0.5
# the onset strength's weight beside the log-mel (speech 0.25, other sounds 0.5): on the
# Harvard sentences in a 1.2 s room (subtracted) 0.25: 30.3 ms, 0.5: 25.6, 1: 21.6,
# 2: 17.6, 4: 38.9, 8: 48.8
_ONSET_WEIGHT = 2.0


def decay_time_s(x, sample_rate):
    """How fast ``x`` can fall silent: the time (s) to decay by 60 dB at its steepest
    band-level slopes, or None when it has fewer than ``_MIN_WINDOWS`` windows to tell.

    Parameters
    ----------
    x : numpy.ndarray, shape (n,)
        A mono signal.
    sample_rate : float

    Returns
    -------
    float or None
        ``-60 / slope``, ``slope`` (dB/s) the ``_PERCENTILE``-th percentile of the
        least-squares slopes of third-octave band levels over windows of ``_WINDOW_S``;
        None too when not even those fall (a drone, steady noise: nothing to tell).

    Notes
    -----
    One FFT of about 23 ms per frame, frames back to back: O(n log n), a few
    milliseconds for 30 s at 44.1 kHz.
    """
    from scipy.fft import rfft

    sr = float(sample_rate)
    x = np.asarray(x, dtype=np.float32)
    n_fft = 1 << int(round(math.log2(_FRAME_S * sr)))
    hop_s = n_fft / sr
    width = max(3, int(round(_WINDOW_S / hop_s)))
    n_frames = x.shape[0] // n_fft
    top = min(_FMAX_HZ, 0.45 * sr)
    if n_frames < width + _SMOOTH_FRAMES or top <= _FMIN_HZ:
        return None
    frames = x[:n_frames * n_fft].reshape(n_frames, n_fft) * hann(n_fft)
    power = np.abs(rfft(frames, axis=1)) ** 2
    n_bands = int(math.floor(_BANDS_PER_OCTAVE * math.log2(top / _FMIN_HZ)))
    edges = _FMIN_HZ * 2.0 ** (np.arange(n_bands + 1) / _BANDS_PER_OCTAVE)
    bounds = np.searchsorted(np.arange(power.shape[1]) * sr / n_fft, edges)
    keep = bounds[1:] > bounds[:-1]
    # each band's power: the sum of its bins (reduceat over the bins from the first edge;
    # an empty band's sum is meaningless and dropped)
    bands = np.add.reduceat(power[:, bounds[0]:bounds[-1]], bounds[:-1] - bounds[0],
                            axis=1)[:, keep].T  # (bands, frames)
    smooth = np.lib.stride_tricks.sliding_window_view(bands, _SMOOTH_FRAMES, axis=1)
    level = 10.0 * np.log10(smooth.mean(axis=-1) + 1e-20)
    floor = np.percentile(level, _FLOOR_PERCENTILE, axis=1, keepdims=True)
    n_windows = level.shape[1] - width + 1
    start = level[:, :n_windows] > floor + _ABOVE_DB
    if np.count_nonzero(start) < _MIN_WINDOWS:
        return None
    # every window's least-squares slope from running sums: sum_k (k - c) level[i + k]
    # = (sum_j j level[j] - (i + c) sum_j level[j]) over j = i .. i + width - 1
    index = np.arange(level.shape[1])
    sums = np.pad(np.cumsum(level, axis=1), ((0, 0), (1, 0)))
    moments = np.pad(np.cumsum(level * index, axis=1), ((0, 0), (1, 0)))
    centre = 0.5 * (width - 1)
    k = np.arange(width) - centre
    first = index[:n_windows] + centre
    slopes = ((moments[:, width:] - moments[:, :n_windows])
              - first * (sums[:, width:] - sums[:, :n_windows]))[start]
    slopes /= float(np.sum(k * k)) * hop_s
    steepest = float(np.percentile(slopes, _PERCENTILE))
    return -60.0 / steepest if steepest < 0 else None


def reverberant_side(decay_a, decay_b, *, speech=False):
    """``"a"``, ``"b"`` or None: the side that is clearly more reverberant, from both
    sides' :func:`decay_time_s` (None where either is unknown): its decay time at least
    ``_MIN_DECAY_S`` and ``_RATIO`` times the other's (``_SPEECH_RATIO`` for a pair that
    is, or may be, ``speech``: the caller asks the material only then)."""
    if decay_a is None or decay_b is None:
        return None
    ratio = _SPEECH_RATIO if speech else _RATIO
    for side, wet, dry in (("a", decay_a, decay_b), ("b", decay_b, decay_a)):
        if wet >= _MIN_DECAY_S and wet >= ratio * dry:
            return side
    return None


def room_kept(material):
    """Why a pair found reverberant keeps its room (a str), or None when the room is to
    be taken out: music keeps it, an instrument's own decay not being told from a room's
    (``material``: ``"music"``, ``"speech"``, ``"other"`` or None where unknown)."""
    if material == "music":
        return "music: an instrument's own decay is not told from a room's"
    return None


def remove_reverb(x, sample_rate, decay_s):
    """``x`` (float32) with its late reverberation subtracted, for a room whose sound
    decays by 60 dB in ``decay_s``.

    Notes
    -----
    Each STFT frame's late reverberation is the power of the frame ``_DELAY_S`` earlier
    times ``10 ** (-6 _DELAY_S / decay_s)``; the gain is ``sqrt(1 - late / power)``,
    at least ``_MIN_GAIN`` (:func:`core.pipeline.noise.filter_spectrum`'s frames and
    blocks): O(n log n).
    """
    if not 0 < decay_s < math.inf:
        raise ValueError(f"decay_s: expected a positive time, got {decay_s!r}")
    hop_s = stft_hop(sample_rate) / float(sample_rate)
    delay = max(1, int(round(_DELAY_S / hop_s)))
    decay = 10.0 ** (-6.0 * delay * hop_s / float(decay_s))

    def gain(mag):
        power = mag * mag
        late = np.zeros_like(power)
        late[:, delay:] = decay * power[:, :-delay]
        return np.sqrt(np.maximum(1.0 - late / np.maximum(power, 1e-20), _MIN_GAIN ** 2))

    return filter_spectrum(x, sample_rate, gain)


def add_room(x, sample_rate, decay_s):
    """``x`` (float32) as heard in a room whose sound decays by 60 dB in ``decay_s``:
    every STFT bin's power replaced by its exponentially decaying sum over the frames
    before (the expected power of a diffuse tail, unit gain for a steady sound).

    Parameters
    ----------
    x : numpy.ndarray, shape (n,)
        A mono signal.
    sample_rate : float
    decay_s : float
        The room's decay time (s), positive and finite.

    Returns
    -------
    numpy.ndarray, shape (n,), float32

    Raises
    ------
    ValueError
        When ``decay_s`` is not a positive, finite time.

    Notes
    -----
    ``P'[t] = (1 - r) sum_k r^k P[t - k]`` with ``r = 10 ** (-6 hop / decay_s)``, a
    first-order recursion along the frames of :func:`core.pipeline.noise.filter_spectrum`,
    the gain ``sqrt(P' / P)`` (the phases are the frame's own, so the tail rings over
    the recording's own noise floor; digital silence, having no phase to carry it, stays
    silent): O(n log n). The recursion
    starts again with each of that function's blocks (2^19 samples, 12-24 s), eight
    frames before the samples it keeps, so there a tail older than ~0.1 s is missed.
    """
    if not 0 < decay_s < math.inf:
        raise ValueError(f"decay_s: expected a positive time, got {decay_s!r}")
    from scipy.signal import lfilter

    hop_s = stft_hop(sample_rate) / float(sample_rate)
    r = 10.0 ** (-6.0 * hop_s / float(decay_s))

    def gain(mag):
        power = mag * mag
        room = lfilter([1.0 - r], [1.0, -r], power, axis=1)
        return np.sqrt(room / np.maximum(power, 1e-20))

    return filter_spectrum(x, sample_rate, gain)


def dry_room_s(decay_s):
    """The decay time (s) the dry side's room gets (:func:`add_room`) beside a
    reverberant side whose measured decay time is ``decay_s``."""
    return _DRY_ROOM_SHARE * float(decay_s)


def reverb_plan(plan):
    """A default feature plan (:data:`core.pipeline._AUDIO_PLANS`'s entries) for a pair
    with a reverberant side: the onset strength (``onset``) weighs at least
    ``_ONSET_WEIGHT``.

    The subtraction leaves the early reverberation, and the log-mel of the reverberant
    side still changes more slowly than the dry side's: the path falls behind within a
    sentence and catches up in the pause. The onsets, whose rises the room smears
    least, keep it in step (measured on speech; other sounds get the same weight
    unmeasured: no pair of that material in the benchmarks is reverberant). Music plans
    have no ``onset`` term and are returned as they are (their DLNCO onsets were not
    tried: no music pair of the benchmarks is found reverberant).
    """
    return [(name, metric, max(weight, _ONSET_WEIGHT), *rest) if name == "onset"
            else (name, metric, weight, *rest) for name, metric, weight, *rest in plan]
