"""How late a recording's onset features answer its notes: slow attacks.

A bowed string or a voice builds its sound up over 50-120 ms; in the pitch-band energies
(and so in chroma and DLNCO) its notes start where the sound has grown, 50-80 ms after a
piano's would. Aligned against a fast-attack recording the path then carries that lag
(measured on generated pairs: bowed against piano -75 ms, voice against plucked -60 ms).

The lag shows in the shape of the onset novelty (positive change of the log-compressed
pitch energies, summed over the bands): a fast attack gives a spike as wide as the
analysis window (35-40 ms at half height), a slow one a plateau as long as its build-up
(70-85 ms). :func:`attack_width_s` measures the median half-height width of the strong
novelty peaks of a recording; :func:`attack_lag_s` turns it into the lag of its
features, ``_LAG_PER_S x (width - _FAST_WIDTH_S)`` above the width of a fast attack
(fitted on the tuning pairs of ``benchmarks/accuracy/generalize.py``, feature peak
against the true note start: mean residual 7 ms over 12 recordings), at most
``_MAX_LAG_S``: a slower attack than a bowed string's (a voice) does not lag more, its
novelty peak is only wider (measured on more tuning seeds). The music pipeline
moves the later side's features earlier by the difference of the two lags
(:func:`compensate`), so the path pairs note starts, not the points where the sound has
grown.

A fast attack that is not instant (an organ's 20 ms ramp) keeps a fast attack's width,
yet its features answer 7-10 ms after a piano's, and its novelty peaks ~17 ms after
(tuning pairs). Where nothing was moved for the widths, the music pipeline maps A's
novelty peaks (:func:`onset_times_s`) through the path to B's (:func:`onset_lag_s`):
the path pairs the features, so the peaks are left ``d_peaks - d_features`` apart,
about the features' own lag, and the pipeline moves the path by it in whole frames
(:func:`onset_shift_frames`, :func:`shift_path`) when it is consistent and the peaks'
rising edges (:func:`onset_edges_s`) and each side's own rise time
(:func:`rise_time_s`) show an attack difference too; :func:`shift_terms`
moves B's features as much for a re-solve. Where the path pairs the two sides' peaks
themselves (no lag left to see), each side's attack ramp, read on its own signal at its
onsets (:func:`ramp_times_s`, :func:`attack_ramp_s`), tells a ramped fast attack from an
instant one, and :func:`ramp_shift_frames` moves the path by the ramp's lag.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["OnsetLag", "Onsets", "attack_lag_s", "attack_ramp_s", "attack_width_s",
           "cached_novelty", "compensate", "feature_tuning", "is_monophonic", "known_width",
           "loud_peaks", "may_be_monophonic", "monophonic_share",
           "onset_edges_s", "onset_lag_s", "onset_shift_frames", "onset_times_s",
           "ramp_shift_frames", "ramp_times_s", "ramps_can_move", "recording_onsets_s",
           "rise_time_s", "shift_path", "shift_terms", "side_lags_s"]

# novelty at the DLNCO's fine rate (its pitch energies are remembered: no new STFT)
_RATE_HZ = 200.0
_LAG_S = 0.02
# peaks: the strongest within +-0.1 s, at least half the maximum within 3 s
_NMS_S = 0.1
_LOCAL_S = 3.0
_MIN_SHARE = 0.5
# a width is counted up to 0.15 s on each side of the peak
_MAX_HALF_S = 0.15
# a peak counts for the width when the sound within 0.02 s before to 0.1 s after it
# reaches at most this far (dB) below the loud part of the recording (the 95th
# percentile of its 10 ms levels): the novelty is log-compressed, so a room tone's
# fluctuations make peaks as high as the notes' (a piano's 8 s tail of room tone 45 dB
# under its peak: its peaks 31-32 dB under the loud part, widths 50-305 ms, the median
# width 0.065 s instead of 0.035-0.04, and the piano was moved 5 frames as if bowed);
# notes of the public and generated music reach within 18 dB, digital near-silence
# before and after them 43-57 dB down
_QUIET_PEAK_DB = 25.0
_LEVEL_SPAN_S = (0.02, 0.1)
_LOUD_PERCENTILE = 95.0
_MIN_PEAKS = 5
# lag of the features per second of width above a fast attack's width
_LAG_PER_S = 1.85
_FAST_WIDTH_S = 0.04
# the lag stops growing with the width: every slow attack of the tuning seeds lags
# 45-90 ms (median 62 ms over 8 voice pairs of widths 0.085-0.105 s, seeds 110-117;
# bowed 45-67 ms at 0.0575-0.0675 s), where the line would give 85-120 ms for a voice
_MAX_LAG_S = 0.06
# the widest attack of the tuning seeds (a voice, 0.105 s): beyond it the width is not
# an attack's but a legato section's broad hump (a string quartet 0.115-0.12 s), whose
# features lag _WIDE_LAG_S whatever the width (~35 ms on music_p01; left uncompensated,
# its piano against strings mean signed error +43.5 ms, the samekind tuning pair
# music_s05's strings against piano -27.6 ms; with 30-40 ms +3.5..+12.2 and -4.5..+2.9)
_MAX_WIDTH_S = 0.11
_WIDE_LAG_S = 0.035
# shifts below this (s) are left alone
_MIN_SHIFT_S = 0.01
# widths closer than this (s) are one kind of attack: a room or a channel changes a
# width by up to 0.02 s (bowed 0.07 s, with reverb and a telephone band 0.075-0.0825 s;
# organ against woodwinds on ../shared/data 0.075 / 0.055 s, where moving the organ by
# the model's 37 ms doubled its 18 ms lag the other way). Chosen after that check and
# the first held-out run: see benchmarks/accuracy/results.md
_MIN_WIDTH_DIFF_S = 0.025
# two monophonic sides (:func:`monophonic_share` at least _MONO_SHARE) need a smaller
# difference: each novelty peak is one note's attack, not the spread of a chord's voices
# and rooms. A real monophonic recording (width 0.04 s) against a rendered violin
# (0.05 s) left the violin's notes 14-20 ms late, as the width model says (18.5 ms), on
# the tuning pair of benchmarks/accuracy/samekind.py (realsynth_s03)
_MONO_MIN_WIDTH_DIFF_S = 0.01
# and their lags, where only that smaller difference moves them (widths under
# _MIN_WIDTH_DIFF_S apart), differ by at most this (s): the lag model's line was fitted
# on widths far apart, and two monophonic sides 0.01-0.02 s apart left the wider side
# late by about the same whatever the difference (uncompensated, the mean signed
# error of the realsynth pairs' 15 well-placed notes: width 0.05 against the real
# recording's 0.04 -13.5..+21.3 ms over violin, clarinet, oboe, strings, cello, 0.0525
# +15.1, a harmonica's 0.055 +16.9, a trombone's 0.06 +1.5), where the line gives 18.5,
# 23, 28 and 37 ms: the trombone, moved 4 frames, came out 28.5 ms early (see
# benchmarks/accuracy/results.md, "tb16")
_MONO_MAX_LAG_DIFF_S = 0.02
# one note's harmonics 1-10 (semitones above it, rounded; a clarinet's odd ones reach
# the 9th) and the band on either side of each (the pitch bands leak into their
# neighbours), of the frames' pitch energy: the 25th percentile over the louder frames.
# The sides of the monophonic pairs measured 0.95-1.0 (the real recording, rendered
# flute, violin, piano, clarinet); a side of polyphonic music of ../shared/data and
# samekind 0.65-0.94 (an electric piano's chorale, its chords decaying to single notes,
# 0.94), the smaller of a polyphonic pair's two at most 0.83: both sides must pass
_MONO_SHARE = 0.9
_MONO_HARMONICS = (0, 12, 19, 24, 28, 31, 34, 36, 38, 40)
_MONO_PERCENTILE = 25.0
# the louder frames: total pitch energy at least this share of the 95th percentile's
_MONO_LOUD_SHARE = 0.1
# every this many frames of the 200 Hz energies (a percentile needs no more)
_MONO_STEP = 4
# onset lag of a path: onsets paired within this (s)
_PAIR_TOL_S = 0.05
# a path is moved for a lag of this many frames or more, from this many pairs or more,
# whose lags agree (interquartile range on one side of zero, or at most this wide, s)
_MIN_LAG_FRAMES = 0.4
_MIN_PAIRS = 8
_MAX_SPREAD_S = 0.02
# and A's peaks rise at least this much longer (s) than B's, the way of the lag; and the
# rise is at least this share of the lag or of the difference of the sides' own rise
# times (each side's peaks less their rising edges, median), the smaller: organ against
# piano 0.81-1.49, a piano against its reverberant copy 0.80-1.29; copies of music_p03
# whose peaks drift with a degradation and their features not (a 60 Hz hum, 8 kHz
# sampling, noise at 10 dB SNR) 0.45-0.54
_MIN_RISE_S = 0.0025
_MIN_RISE_SHARE = 0.65
# and the sides' own rise times differ by at most this (s) plus this share of the
# difference of their attack widths (a rise is part of a width): an organ's ramp against a
# piano's makes 4.9-8.2 ms (widths within 5 ms), reverb on a piano 6-9 ms; noise at 0 dB
# SNR (after its subtraction) 18 ms on music_p03 (widths 0.04 / 0.05 s), where the peaks
# are smeared and the features not late; a slow legato attack (music_p01's B, widths
# 0.12-0.14 s against 0.04) 26-35 ms
_MAX_OWN_RISE_S = 0.01
_OWN_RISE_PER_WIDTH = 0.5
# attack ramps (:func:`ramp_times_s`): the signal high-passed above mains hum and its
# first harmonics (a 60 Hz hum at the music's level made a harpsichord's ramps 19 ms
# instead of 11), its RMS envelope over 4 ms every 1 ms; at each strong onset the
# envelope's largest value from 0.04 s before the novelty peak to 0.06 s after, its
# smallest from 0.08 s before up to that maximum, and the ramp the time from 10 % to 50 %
# of the way between them (50 %, not 90 %: a room's tail builds up after the direct
# sound, a reverberant marimba's 10-90 % ramps were 17-30 ms, its 10-50 % 3 ms)
_RAMP_HIGHPASS_HZ = 400.0
_RAMP_WINDOW_S = 0.004
_RAMP_HOP_S = 0.001
# each onset's piece of signal is filtered with this much (s) on either side (the
# filter's start-up stays outside the span read)
_RAMP_MARGIN_S = 0.05
_RAMP_BEFORE_S = 0.08
_RAMP_AFTER_S = 0.06
_RAMP_TOP_FROM_S = 0.04
_RAMP_LEVELS = (0.1, 0.5)
# an onset counts when its envelope at least doubles (over a held note, or noise)
_RAMP_MIN_RISE = 2.0
# a side's ramp is known from this many onsets, this share of its strong peaks or more
# (noise at 0 dB SNR on music_p03's harpsichord: about a third of its 108)
_RAMP_MIN_ONSETS = 8
_RAMP_MIN_SHARE = 0.6
# the ramp shift (:func:`ramp_shift_frames`): both attacks fast by their novelty widths,
# the longer ramp at least this many times the shorter and this much longer (s); the
# features lag by this share of the ramps' difference (an organ's 20 ms ramp: 10-50 %
# in 10-16 ms against a piano's 2.5-3 ms, its features 7-10 ms late). 3, not 2.5: a
# real recording's phase-vocoder copies (vibeace slowed to 0.6-0.7, or after 8 s of
# speech) ramp 2.7-2.8 times longer than its original and were right unmoved. Fast
# up to 0.065 s (0.05 before): widths that close to a piano's (0.035-0.04 s) are left
# by the attack compensation (_MIN_WIDTH_DIFF_S), and a bowed string of width 0.055 s
# (ramps 30-36 ms against a piano's 3-5 ms) was moved by neither (its features ~20 ms
# late: samekind tuning music_s10 20.8 -> 11.1 ms, generalize heldout3 bowed_piano
# 80.7 -> 60.7, heldout.py --demo organ_bowed 71.2 -> 62.5; nothing else moved)
_RAMP_MAX_WIDTH_S = 0.065
_RAMP_MIN_RATIO = 3.0
_RAMP_MIN_DIFF_S = 0.005
_RAMP_LAG_SHARE = 0.7


def feature_tuning(features, side):
    """The tuning of side ``"a"`` or ``"b"`` (cents) its pitch features were computed
    with: the first of ``features`` (a result's ``diagnostics["features"]``, or the
    features a plan used) whose ``params_a`` / ``params_b`` carry one; None without."""
    key = f"params_{side}"
    return next((u[key]["tuning"] for u in features if "tuning" in u.get(key, {})), None)


def novelty(x, sample_rate, tuning):
    """Onset novelty at ``_RATE_HZ``: the 20 ms rise of the log-compressed pitch
    energies, summed over the 88 bands."""
    from ..features import audio as fa

    _, centers = fa._fine(x, sample_rate, _RATE_HZ / 2, 2)
    energy = fa.pitch_energy(x, sample_rate, centers, float(tuning))
    compressed = np.log1p(np.float32(1e5 / fa._reference(energy)) * energy)
    lag = max(1, int(round(_LAG_S * _RATE_HZ)))
    return fa._positive_change(compressed, lag).sum(axis=1)


def _strong_peaks(nov, rate_hz, min_share=_MIN_SHARE):
    """Frames of the strong peaks of a novelty curve: the largest within +-``_NMS_S``
    and above ``min_share`` of the maximum within ``_LOCAL_S`` (the first frame of a
    flat top)."""
    from scipy.ndimage import maximum_filter1d

    if nov.size < 3:
        return np.zeros(0, dtype=np.int64)
    nms = 2 * max(1, int(round(_NMS_S * rate_hz))) + 1
    local = maximum_filter1d(nov, max(1, int(round(_LOCAL_S * rate_hz))), mode="nearest")
    rising = np.r_[True, nov[1:] > nov[:-1]]
    return np.flatnonzero((nov >= maximum_filter1d(nov, nms, mode="nearest")) & rising
                          & (nov > min_share * local) & (nov > 0))


def peak_widths_s(nov, rate_hz=_RATE_HZ, *, peaks=None):
    """Half-height widths (s) of the strong peaks of a novelty curve (or of ``peaks``,
    frames of some of them)."""
    nov = np.asarray(nov, dtype=np.float64)
    if peaks is None:
        peaks = _strong_peaks(nov, rate_hz)
    reach = max(1, int(round(_MAX_HALF_S * rate_hz)))
    out = np.empty(len(peaks))
    for k, p in enumerate(peaks):
        half = 0.5 * nov[p]
        lo = p
        while lo > 0 and p - lo < reach and nov[lo - 1] >= half:
            lo -= 1
        hi = p
        while hi < len(nov) - 1 and hi - p < reach and nov[hi + 1] >= half:
            hi += 1
        out[k] = (hi - lo + 1) / rate_hz
    return out


def cached_novelty(x, sample_rate, tuning):
    """:func:`novelty` from the energies DLNCO left in memory, or None when they were
    too long for the feature cache (never a second STFT pass)."""
    from ..features import audio as fa

    n_frames = fa._fine(x, sample_rate, _RATE_HZ / 2, 2)[1].shape[0]
    if n_frames * (fa.MIDI_MAX - fa.MIDI_MIN + 1) * 4 > fa._CACHE_MAX_BYTES:
        return None
    return novelty(x, sample_rate, tuning)


def loud_peaks(x, sample_rate, nov):
    """Frames of the strong peaks of ``x``'s novelty curve ``nov`` (:func:`novelty`)
    whose sound reaches within ``_QUIET_PEAK_DB`` of the recording's loud part.

    The level at a novelty frame is the mean power of ``x`` over the two hops (10 ms)
    around its centre (blocks of ``sample_rate / 200`` samples); a peak's is the largest
    from ``_LEVEL_SPAN_S[0]`` before it to ``_LEVEL_SPAN_S[1]`` after (the note it
    starts), the loud part's the ``_LOUD_PERCENTILE``-th percentile of all. O(n) time,
    O(n / hop) memory.
    """
    from ..features import audio as fa

    peaks = _strong_peaks(np.asarray(nov, dtype=np.float64), _RATE_HZ)
    if not len(peaks):
        return peaks
    centers = np.asarray(fa._fine(x, sample_rate, _RATE_HZ / 2, 2)[1][:len(nov)])
    hop = max(1, int(float(sample_rate) / _RATE_HZ))
    x = np.asarray(x, dtype=np.float32)
    blocks = x[:x.shape[0] // hop * hop].reshape(-1, hop)
    block_power = np.einsum("ij,ij->i", blocks, blocks) / hop  # no float64 copy of x
    if not block_power.size:
        return peaks[:0]
    at = np.clip(centers // hop, 1, block_power.size - 1)
    power = 0.5 * (block_power[at - 1] + block_power[at])
    before, after = (max(0, int(round(t * _RATE_HZ))) for t in _LEVEL_SPAN_S)
    reached = np.array([power[max(0, p - before):p + after + 1].max() for p in peaks])
    loud = float(np.percentile(power, _LOUD_PERCENTILE))
    return peaks[reached >= loud * 10.0 ** (-_QUIET_PEAK_DB / 10.0)]


def attack_width_s(x, sample_rate, tuning, *, nov=None) -> float | None:
    """Median half-height width (s) of a recording's strong onset peaks that are not far
    below its loud part (:func:`loud_peaks`), or None with fewer than ``_MIN_PEAKS`` of
    them (or inputs too long for the feature cache). ``nov``: the recording's
    :func:`cached_novelty`, when already computed."""
    if nov is None:
        nov = cached_novelty(x, sample_rate, tuning)
        if nov is None:
            return None
    widths = peak_widths_s(nov, peaks=loud_peaks(x, sample_rate, nov))
    return float(np.median(widths)) if len(widths) >= _MIN_PEAKS else None


def known_width(width_s) -> bool:
    """Whether a width is one the lag model was fitted on (an attack's)."""
    return width_s is not None and width_s <= _MAX_WIDTH_S


def side_lags_s(width_a_s, width_b_s, *, monophonic=False):
    """The two sides' lags (s) to compensate: zero unless both widths are measured and
    they differ by ``_MIN_WIDTH_DIFF_S`` or more (``_MONO_MIN_WIDTH_DIFF_S`` where both
    sides are ``monophonic``: :func:`is_monophonic`; their lags then differ by at most
    ``_MONO_MAX_LAG_DIFF_S``)."""
    least = _MONO_MIN_WIDTH_DIFF_S if monophonic else _MIN_WIDTH_DIFF_S
    if width_a_s is None or width_b_s is None \
            or abs(width_a_s - width_b_s) < least - 1e-9:
        return 0.0, 0.0
    lag_a, lag_b = attack_lag_s(width_a_s), attack_lag_s(width_b_s)
    if abs(width_a_s - width_b_s) < _MIN_WIDTH_DIFF_S - 1e-9:  # the monophonic rule
        most = min(lag_a, lag_b) + _MONO_MAX_LAG_DIFF_S
        lag_a, lag_b = min(lag_a, most), min(lag_b, most)
    return lag_a, lag_b


def may_be_monophonic(width_a_s, width_b_s) -> bool:
    """Whether two widths are compensated only if both sides are monophonic (known
    attacks, ``_MONO_MIN_WIDTH_DIFF_S`` to ``_MIN_WIDTH_DIFF_S`` apart): where not, the
    sides' :func:`monophonic_share` need not be measured."""
    return (known_width(width_a_s) and known_width(width_b_s)
            and _MONO_MIN_WIDTH_DIFF_S - 1e-9 <= abs(width_a_s - width_b_s)
            < _MIN_WIDTH_DIFF_S - 1e-9)


def monophonic_share(x, sample_rate, tuning) -> float | None:
    """How much of a recording's sound is one note at a time.

    Per louder frame (total pitch energy at least ``_MONO_LOUD_SHARE`` of the 95th
    percentile), the largest share of its pitch energy (MIDI 21-108, the novelty's
    200 Hz energies, every ``_MONO_STEP``-th frame) that lies on one note's first ten
    harmonics (``_MONO_HARMONICS``) or a band next to one; the ``_MONO_PERCENTILE``-th
    percentile over the frames. None without such frames or for inputs too long for
    the feature cache.

    Notes
    -----
    A single instrument playing a melody gives 0.95-1.0 (a real recording and rendered
    flute, violin, piano and clarinet, generated melodies); the chorales, quartets and
    sonatas of ../shared/data and benchmarks/accuracy/samekind.py 0.65-0.94, where a
    frame's notes are not one note's harmonics (0.94: an electric piano whose chords
    decay to single notes; the smaller of a pair's two sides at most 0.83).
    O(T x 88 x 30) for T frames.
    """
    from ..features import audio as fa

    _, centers = fa._fine(x, sample_rate, _RATE_HZ / 2, 2)
    n_bands = fa.MIDI_MAX - fa.MIDI_MIN + 1
    if centers.shape[0] * n_bands * 4 > fa._CACHE_MAX_BYTES:
        return None
    energy = fa.pitch_energy(x, sample_rate, centers, float(tuning))[::_MONO_STEP]
    total = energy.sum(axis=1)
    if not total.size:
        return None
    loud = (total >= _MONO_LOUD_SHARE * float(np.percentile(total, 95))) & (total > 0)
    if not loud.any():
        return None
    energy, total = np.asarray(energy[loud], dtype=np.float64), total[loud]
    best = np.zeros(len(energy))
    for root in range(n_bands):
        bands = sorted({root + h + d for h in _MONO_HARMONICS for d in (-1, 0, 1)
                        if 0 <= root + h + d < n_bands})
        best = np.maximum(best, energy[:, bands].sum(axis=1))
    return float(np.percentile(best / total, _MONO_PERCENTILE))


def is_monophonic(share) -> bool:
    """Whether a :func:`monophonic_share` is a single line's."""
    return share is not None and share >= _MONO_SHARE


def attack_lag_s(width_s) -> float:
    """How late (s) the features answer notes of this onset width, against a fast
    attack (a width beyond an attack's, a legato section's hump: ``_WIDE_LAG_S``)."""
    if width_s is None:
        return 0.0
    if not known_width(width_s):
        return _WIDE_LAG_S
    return min(_LAG_PER_S * max(float(width_s) - _FAST_WIDTH_S, 0.0), _MAX_LAG_S)


def shift_earlier(values, frames):
    """``values`` (T, D) moved ``frames`` earlier: row t holds row t + frames; the last
    row repeats at the end."""
    frames = int(frames)
    if frames <= 0 or len(values) == 0:
        return values
    frames = min(frames, len(values) - 1)
    return np.concatenate([values[frames:], np.repeat(values[-1:], frames, axis=0)])


def compensate(terms, lag_a_s, lag_b_s, rate_hz):
    """The terms with the later side's features moved earlier by the difference of the
    lags; returns ``(terms, (frames_a, frames_b))``."""
    rel = float(lag_a_s) - float(lag_b_s)
    if abs(rel) < _MIN_SHIFT_S:
        return terms, (0, 0)
    frames = int(round(abs(rel) * rate_hz))
    fa, fb = (frames, 0) if rel > 0 else (0, frames)
    out = [t._replace(x=shift_earlier(t.x, fa), y=shift_earlier(t.y, fb)) for t in terms]
    return out, (fa, fb)


# ------------------------------------------------------------------ onset lag

class OnsetLag(NamedTuple):
    """How late a path maps A's onsets into B: the median signed lag (s) of the paired
    onsets, their number and the lags' quartiles (s)."""

    lag_s: float
    n_pairs: int
    quartiles_s: tuple[float, float]


def onset_times_s(nov, rate_hz=_RATE_HZ):
    """Times (s) of the strong peaks of a novelty curve (the peaks whose widths
    :func:`peak_widths_s` measures), shape (K,), increasing: each peak's frame moved by
    the vertex of the parabola through it and its neighbours (a 200 Hz frame is half a
    path frame: the lags measured are a few ms)."""
    nov = np.asarray(nov, dtype=np.float64)
    peaks = _strong_peaks(nov, rate_hz)
    inner = peaks[(peaks > 0) & (peaks < len(nov) - 1)]
    left, mid, right = nov[inner - 1], nov[inner], nov[inner + 1]
    curve = left - 2 * mid + right
    offset = np.where(curve < 0, 0.5 * (left - right) / np.where(curve < 0, curve, -1.0),
                      0.0)
    times = peaks.astype(np.float64)
    times[(peaks > 0) & (peaks < len(nov) - 1)] += offset
    return times / float(rate_hz)


def onset_edges_s(nov, rate_hz=_RATE_HZ, *, level=0.5, min_share=_MIN_SHARE):
    """Times (s) where the strong peaks of a novelty curve (:func:`onset_times_s`) rise
    through ``level`` times their height (linear between frames; at most
    ``_MAX_HALF_S`` before the peak), shape (K,). ``min_share``: a peak counts when it
    is above that share of the maximum within ``_LOCAL_S`` (lower: weaker onsets too)."""
    nov = np.asarray(nov, dtype=np.float64)
    peaks = _strong_peaks(nov, rate_hz, min_share)
    reach = max(1, int(round(_MAX_HALF_S * rate_hz)))
    out = np.empty(len(peaks))
    for k, p in enumerate(peaks):
        threshold = level * nov[p]
        lo = p
        while lo > 0 and p - lo < reach and nov[lo - 1] >= threshold:
            lo -= 1
        out[k] = lo
        if lo > 0 and nov[lo - 1] < threshold:
            out[k] -= (nov[lo] - threshold) / (nov[lo] - nov[lo - 1])
    return out / float(rate_hz)


class Onsets(NamedTuple):
    """A recording's onsets (s): its novelty peaks, where they rise through half
    their height and, given the signal, each peak's attack ramp (:func:`ramp_times_s`;
    NaN where not measured)."""

    peaks_s: np.ndarray
    edges_s: np.ndarray
    ramps_s: np.ndarray | None = None


def recording_onsets_s(x, sample_rate, tuning, *, nov=None, ramps=True):
    """A recording's :class:`Onsets` from its :func:`novelty`, or None when its pitch
    energies are too long for the feature cache (no second STFT pass). ``nov``: the
    recording's :func:`cached_novelty`, when already computed (the attack widths');
    ``x`` None or ``ramps`` False: no ramps (:func:`ramps_can_move` says when they
    cannot move a path)."""
    if nov is None:
        nov = cached_novelty(x, sample_rate, tuning)
        if nov is None:
            return None
    peaks = onset_times_s(nov)
    ramps = None if x is None or not ramps else ramp_times_s(x, sample_rate, peaks)
    return Onsets(peaks, onset_edges_s(nov), ramps)


def ramp_times_s(x, sample_rate, onsets_s):
    """How long each onset's sound takes to build up: the attack ramp (s) of ``x`` at
    each of ``onsets_s`` (novelty peaks, :func:`onset_times_s`).

    Parameters
    ----------
    x : ndarray, shape (n,)
        Mono signal.
    sample_rate : float
        Its sample rate (Hz).
    onsets_s : array_like, shape (K,)
        Onset times (s).

    Returns
    -------
    ndarray of float64, shape (K,)
        Per onset the time (s) the RMS envelope of ``x`` high-passed at
        ``_RAMP_HIGHPASS_HZ`` (``_RAMP_WINDOW_S`` windows every ``_RAMP_HOP_S``) takes
        to rise from ``_RAMP_LEVELS[0]`` to ``_RAMP_LEVELS[1]`` of the way from its
        smallest value (``_RAMP_BEFORE_S`` before the onset, up to the top) to its top
        (the largest from ``_RAMP_TOP_FROM_S`` before to ``_RAMP_AFTER_S`` after the
        onset); NaN where the envelope does not rise ``_RAMP_MIN_RISE`` times or the
        span leaves the signal.

    Notes
    -----
    The pitch energies the features and the novelty are made of are smoothed over
    their STFT windows (46 ms and more), far longer than an attack ramp: an organ's
    20 ms ramp and a piano's 3 ms give novelty peaks of one width. On the signal itself
    a linear ramp of ``R`` s rises from 10 % to 50 % in ``0.4 R`` plus about the
    envelope's window. Only the spans around the onsets are filtered (in the frequency
    domain, :func:`_highpass_gain`; the margins keep the piece's circular wrap out of
    the span read): O(K) time and O(1) memory for K onsets (a piece of 0.24 s each).
    """
    onsets = np.asarray(onsets_s, dtype=np.float64).reshape(-1)
    out = np.full(onsets.shape, np.nan)
    x = np.asarray(x).reshape(-1)
    rate = float(sample_rate)
    hop = max(1, int(round(_RAMP_HOP_S * rate)))
    window = max(hop, int(round(_RAMP_WINDOW_S * rate)))
    if not len(onsets) or _RAMP_HIGHPASS_HZ >= 0.5 * rate:
        return out
    margin = int(round(_RAMP_MARGIN_S * rate))
    n_values = int(round((_RAMP_BEFORE_S + _RAMP_AFTER_S) / _RAMP_HOP_S)) + 1
    length = (n_values - 1) * hop + window + 2 * margin  # every piece's
    gain = _highpass_gain(length, rate)
    top_from = int(round((_RAMP_BEFORE_S - _RAMP_TOP_FROM_S) / _RAMP_HOP_S))
    lo_level, hi_level = _RAMP_LEVELS
    for k, t in enumerate(onsets):
        # envelope values centred from _RAMP_BEFORE_S before the onset, every hop
        first = int(round((t - _RAMP_BEFORE_S) * rate)) - window // 2
        last = first + (n_values - 1) * hop + window
        if first - margin < 0 or last + margin > x.size:
            continue
        piece = np.fft.irfft(np.fft.rfft(np.asarray(x[first - margin:last + margin],
                                                dtype=np.float64)) * gain,
                           length)[margin:margin + last - first]
        power = np.concatenate([[0.0], np.cumsum(piece * piece)])
        starts = np.arange(n_values) * hop
        span = np.sqrt(np.maximum(power[starts + window] - power[starts], 0.0) / window)
        top = top_from + int(np.argmax(span[top_from:]))
        low = int(np.argmin(span[:top + 1]))
        lo, hi = span[low], span[top]
        if not hi > _RAMP_MIN_RISE * lo:
            continue
        rise = span[low:top + 1]
        begin = np.flatnonzero(rise < lo + lo_level * (hi - lo))[-1]
        end = np.flatnonzero(rise < lo + hi_level * (hi - lo))[-1] + 1
        out[k] = (end - begin) * hop / rate
    return out


def _highpass_gain(length, rate):
    """The gain per ``rfft`` bin of ``length`` samples at ``rate`` of a 4th-order
    Butterworth high-pass at ``_RAMP_HIGHPASS_HZ`` run forward and back (zero phase:
    ``1 / (1 + (tan(pi fc / rate) / tan(pi f / rate)) ** 8)``, the digital filter's
    response through the bilinear transform), applied in the frequency domain
    (scipy.signal, whose filters would do it in time, takes 0.45 s of CPU to import)."""
    warped = np.tan(np.pi * np.fft.rfftfreq(length, 1.0 / rate) / rate)
    with np.errstate(divide="ignore"):
        return 1.0 / (1.0 + (np.tan(np.pi * _RAMP_HIGHPASS_HZ / rate) / warped) ** 8)


def attack_ramp_s(onsets) -> float | None:
    """A recording's attack ramp (s): the median of its :class:`Onsets`' ramps, or
    None with fewer than ``_RAMP_MIN_ONSETS`` measured or under ``_RAMP_MIN_SHARE`` of
    its peaks (without ramps, or without onsets)."""
    if onsets is None or onsets.ramps_s is None or not len(onsets.ramps_s):
        return None
    ramps = np.asarray(onsets.ramps_s, dtype=np.float64)
    ramps = ramps[np.isfinite(ramps)]
    if len(ramps) < _RAMP_MIN_ONSETS or len(ramps) < _RAMP_MIN_SHARE * len(onsets.ramps_s):
        return None
    return float(np.median(ramps))


def ramps_can_move(widths_s, max_width_s=_RAMP_MAX_WIDTH_S) -> bool:
    """Whether two sides of attack widths ``widths_s`` (:func:`attack_width_s`) may have
    their path moved by their attack ramps (:func:`ramp_shift_frames`): both widths
    known and at most ``max_width_s``, two fast attacks. Where not, the ramps need not
    be read (:func:`ramp_times_s` filters a piece of signal per onset)."""
    width_a, width_b = widths_s
    return (known_width(width_a) and known_width(width_b)
            and max(width_a, width_b) <= max_width_s + 1e-9)


def ramp_shift_frames(ramp_a_s, ramp_b_s, rate_hz, *, widths_s=(None, None),
                      min_ratio=_RAMP_MIN_RATIO, min_diff_s=_RAMP_MIN_DIFF_S,
                      max_width_s=_RAMP_MAX_WIDTH_S, lag_share=_RAMP_LAG_SHARE):
    """The frames to add to a path's B index for the sides' attack ramps, or 0.

    Parameters
    ----------
    ramp_a_s, ramp_b_s : float or None
        Each side's :func:`attack_ramp_s`.
    rate_hz : float
        The path's frame rate on B.
    widths_s : (float or None, float or None)
        The sides' attack widths (:func:`attack_width_s`).
    min_ratio, min_diff_s, max_width_s, lag_share :
        A shift is made only where both widths are known and at most ``max_width_s``
        (two fast attacks: slower ones are the attack compensation's) and the longer
        ramp is ``min_ratio`` times the shorter or more and ``min_diff_s`` longer;
        it is ``lag_share`` of the ramps' difference, at least one frame.

    Returns
    -------
    int
        Positive where A's ramp is the longer (A's features answer late, the path maps
        A's notes early into B), negative where B's is.

    Notes
    -----
    For a path that the onset lag (:func:`onset_shift_frames`) left alone: there the
    path may pair the two sides' novelty peaks themselves, and no lag is left to see
    (the held-out piano_organ of ``benchmarks/accuracy/generalize.py``: peaks' lag
    +1.3 ms, notes +10.9 ms late on the organ's side). The ramps are read on each
    recording alone, whatever the path. The ratio keeps two attacks of one kind apart:
    a piano against a harpsichord (music_p03, 9 and 12 ms; with noise at 10-20 dB SNR
    or a 60 Hz hum on the harpsichord 11-14 ms) and a real recording against its
    stretched copy (vibeace, 7.5 and 11-15.5 ms; 20-21 ms slowed by a phase vocoder)
    were right unmoved; an organ against a piano is 10-16 ms against 2.5-3 ms.
    """
    if ramp_a_s is None or ramp_b_s is None or not (
            np.isfinite(ramp_a_s) and np.isfinite(ramp_b_s)):
        return 0
    if not ramps_can_move(widths_s, max_width_s):
        return 0
    short, long_ = sorted((float(ramp_a_s), float(ramp_b_s)))
    if long_ - short < min_diff_s - 1e-12 or long_ < min_ratio * short - 1e-12:
        return 0
    frames = max(1, int(round(lag_share * (long_ - short) * float(rate_hz))))
    return frames if ramp_a_s > ramp_b_s else -frames


def rise_time_s(onsets) -> float | None:
    """How long (s) a recording's strong novelty peaks take to rise from half their height:
    the median of its :class:`Onsets`' peaks less their edges, None without onsets."""
    if onsets is None or not len(onsets.peaks_s):
        return None
    return float(np.median(np.asarray(onsets.peaks_s) - np.asarray(onsets.edges_s)))


def _path_map(path, rate_a_hz, rate_b_hz, times_a_s):
    """B times (s) the path gives A times (s): :meth:`core.alignment.Alignment.map_a_to_b`'s
    knots (the middle of each row's columns, linear in between), NaN outside the path's
    rows instead of clamped."""
    from ..alignment import path_knots

    rows, middle = path_knots(np.asarray(path), 0)
    frames = np.asarray(times_a_s, dtype=np.float64) * rate_a_hz
    out = np.interp(frames, rows, middle) / rate_b_hz
    out[(frames < rows[0]) | (frames > rows[-1])] = np.nan
    return out


def onset_lag_s(path, rate_hz, onsets_a_s, onsets_b_s, *, tolerance_s=_PAIR_TOL_S):
    """How late the path maps A's onsets into B.

    Each onset of A is mapped through the path to B and paired with the nearest onset of
    B within ``tolerance_s``, when that onset of B has no nearer mapped onset of A
    (mutual nearest neighbours).

    Parameters
    ----------
    path : ndarray of int, shape (L, 2)
        Monotone path, rows (i, j).
    rate_hz : float or (float, float)
        Frame rate of the path (or of A and B).
    onsets_a_s, onsets_b_s : array_like, shape (K,) and (K',)
        Increasing onset times (s) of A and B.
    tolerance_s : float
        Largest distance (s) between a mapped onset of A and its onset of B.

    Returns
    -------
    OnsetLag or None
        The median of ``mapped - onset_b`` (s; positive: the path maps A's onsets after
        B's), the number of pairs and the lags' quartiles; None without a pair.

    Notes
    -----
    O(L + K log K') time.
    """
    rate_a, rate_b = (rate_hz, rate_hz) if np.isscalar(rate_hz) else rate_hz
    b = np.asarray(onsets_b_s, dtype=np.float64)
    mapped = _path_map(path, float(rate_a), float(rate_b), onsets_a_s)
    mapped = mapped[np.isfinite(mapped)]
    if not len(mapped) or not len(b):
        return None
    nearest_b = _nearest(b, mapped)
    nearest_a = _nearest(mapped, b)
    mutual = nearest_a[nearest_b] == np.arange(len(mapped))
    lags = mapped - b[nearest_b]
    lags = lags[mutual & (np.abs(lags) <= tolerance_s)]
    if not len(lags):
        return None
    q1, q3 = np.percentile(lags, [25, 75])
    return OnsetLag(float(np.median(lags)), int(len(lags)), (float(q1), float(q3)))


def _nearest(sorted_values, queries):
    """Index of the nearest value of ``sorted_values`` (increasing) to each query."""
    k = np.clip(np.searchsorted(sorted_values, queries), 1, len(sorted_values) - 1)
    if len(sorted_values) == 1:
        return np.zeros(len(queries), dtype=np.int64)
    left = sorted_values[k - 1]
    return np.where(np.abs(queries - left) <= np.abs(sorted_values[k] - queries), k - 1, k)


def onset_shift_frames(lag_s, rate_hz, n_pairs, *, quartiles_s=None, rise_s=None,
                       own_rise_s=None, width_diff_s=0.0, min_frames=_MIN_LAG_FRAMES,
                       min_pairs=_MIN_PAIRS, max_spread_s=_MAX_SPREAD_S,
                       min_rise_s=_MIN_RISE_S, min_rise_share=_MIN_RISE_SHARE,
                       max_own_rise_s=_MAX_OWN_RISE_S):
    """The frames to add to a path's B index for the onset lag it leaves, or 0.

    Parameters
    ----------
    lag_s : float or None
        Median signed lag (s) of :func:`onset_lag_s`.
    rate_hz : float
        The path's frame rate on B.
    n_pairs : int
        Number of paired onsets the lag comes from.
    quartiles_s : (float, float), optional
        The lags' quartiles (s).
    rise_s : float, optional
        The lag of the peaks less the lag of their half-height rising edges (s, both
        through the same path): how much longer A's peaks take to rise than B's.
    own_rise_s : float, optional
        A's :func:`rise_time_s` less B's (s), each measured on its own recording.
    width_diff_s : float
        The difference of the two sides' attack widths (s, :func:`attack_width_s`; 0
        where one is not known).
    min_frames, min_pairs, max_spread_s, min_rise_s, min_rise_share, max_own_rise_s :
        A shift is made only for a lag of ``min_frames`` frames or more, from
        ``min_pairs`` pairs or more, whose lags agree (the interquartile range lies on
        the median's side of zero, or spans at most ``max_spread_s``) and, given
        ``rise_s``, that comes from a difference of attacks: A's peaks rise
        ``min_rise_s`` longer than B's (or shorter) the way of the lag. Given
        ``own_rise_s`` too, the rise is at least ``min_rise_share`` of the lag or of
        ``own_rise_s``, the smaller, and ``own_rise_s`` is at most ``max_own_rise_s``
        plus ``_OWN_RISE_PER_WIDTH`` of ``width_diff_s`` in size.

    Returns
    -------
    int
        ``round(lag_s * rate_hz)`` (at least one frame), or 0.

    Notes
    -----
    The shift goes the way of the lag, not against it. The path follows the features,
    and both the features and the novelty peaks answer a slower attack later, the
    features by less (chroma and DLNCO are smoothed over their STFT windows): an organ's
    20 ms ramp puts its novelty peaks ~17 ms after a piano's, its features ~7-10 ms
    (tuning pairs of ``benchmarks/accuracy/generalize.py``, organ against piano). The path
    pairs the features, which leaves the peaks ``lag = d_peaks - d_features`` apart
    (+5-10 ms with the organ as A), while the true notes are ``-d_features`` (-7-10 ms)
    apart; with ``d_features`` about half ``d_peaks``, the lag left on the peaks is the
    features' own lag, and moving the path by it, the same way, pairs the notes.
    Measured on 15 tuning pairs (three seeds per case, attack compensation not applied)
    and ../shared/data's music: shifting against the lag made every moved pair worse.
    The rise condition keeps timing noise of the peaks from moving a path: a lag that an
    attack difference leaves shows between the peaks and their rising edges too (organ
    against piano 3.5-8 ms; music_p03, piano against harpsichord, lag -5 ms where the
    path was right: 1.3 ms). Each side's own peaks tell an attack difference too
    (:func:`rise_time_s`: an organ's rise 5-8 ms longer than a piano's). Where the path
    follows the attack, the rise through the path is most of the lag, or most of that
    own difference (0.8-1.5 of the smaller on the organ/piano tuning pairs and a piano
    against its reverberant copy). A copy whose peaks drift with a degradation and its
    features not (music_p03's harpsichord with a 60 Hz hum, sampled at 8 kHz, with noise
    at 10 dB SNR: lags -5 to -10 ms, which moving doubled the error) has its rising edges
    drift nearly as far: a rise of 0.45-0.54 of both. Noise as loud as the music smears a
    side's peaks (music_p03 at 0 dB SNR: its peaks rise 18 ms longer than A's, the attack
    widths 10 ms apart): the own rise times may differ by ``max_own_rise_s`` plus half the
    widths' difference at most (a rise is one flank of a width; a slow legato attack,
    width 0.12-0.14 s against 0.04, rises 26-35 ms longer and its lag is moved).
    """
    if lag_s is None or not np.isfinite(lag_s) or n_pairs < min_pairs:
        return 0
    frames = float(lag_s) * float(rate_hz)
    if abs(frames) < min_frames:
        return 0
    if quartiles_s is not None:
        q1, q3 = (float(q) for q in quartiles_s)
        one_side = q1 > 0 if frames > 0 else q3 < 0
        if not (one_side or q3 - q1 <= max_spread_s):
            return 0
    if rise_s is not None and not (np.sign(rise_s) == np.sign(frames)
                                   and abs(rise_s) >= min_rise_s):
        return 0
    if own_rise_s is not None and rise_s is not None and not (
            abs(rise_s) >= min_rise_share * min(abs(lag_s), abs(own_rise_s)) - 1e-12
            and abs(own_rise_s) <= max_own_rise_s
            + _OWN_RISE_PER_WIDTH * abs(float(width_diff_s)) + 1e-12):
        return 0
    return int(np.sign(frames)) * max(1, int(round(abs(frames))))


def shift_path(path, shift, n_a, n_b):
    """A path with its B index moved by ``shift`` frames, between the same corners.

    Parameters
    ----------
    path : ndarray of int, shape (L, 2)
        Monotone path with steps (1, 0), (0, 1) and (1, 1).
    shift : int
        Frames added to every column (positive: later in B).
    n_a, n_b : int
        Frames of A and B.

    Returns
    -------
    path : ndarray of int64, shape (L', 2)
        Columns moved and clipped to the path's first and last column; the path still
        starts and ends at the same cells (vertical steps at the ends fill the moved
        columns in), is monotone and has no repeated cell.
    steps : ndarray of int64, shape (L',)
        The step of ``path`` each new step comes from (to carry per-step values).

    Raises
    ------
    ValueError
        When the path does not fit ``n_a`` x ``n_b`` frames.
    """
    path = np.asarray(path, dtype=np.int64)
    if path.ndim != 2 or path.shape[1] != 2 or not len(path):
        raise ValueError(f"path: expected shape (L, 2), got {path.shape}")
    if path.min() < 0 or path[:, 0].max() >= n_a or path[:, 1].max() >= n_b:
        raise ValueError(f"path: does not fit {n_a} x {n_b} frames")
    shift = int(shift)
    steps = np.arange(len(path))
    if shift == 0:
        return path.copy(), steps
    (i0, j0), (i1, j1) = path[0], path[-1]
    cols = np.clip(path[:, 1] + shift, j0, j1)
    head = np.arange(j0, cols[0])  # moved later: climb from the first corner
    tail = np.arange(cols[-1] + 1, j1 + 1)  # moved earlier: climb to the last corner
    rows = np.concatenate([np.full(len(head), i0), path[:, 0], np.full(len(tail), i1)])
    cols = np.concatenate([head, cols, tail])
    steps = np.concatenate([np.zeros(len(head), np.int64), steps,
                            np.full(len(tail), len(path) - 1)])
    keep = np.r_[True, (np.diff(rows) != 0) | (np.diff(cols) != 0)]
    return np.column_stack([rows[keep], cols[keep]]), steps[keep]


def shift_terms(terms, shift):
    """Terms whose B features are moved so that a path solved on them is the path
    solved on ``terms`` with its B index moved by ``shift`` frames (row ``j`` holds row
    ``j - shift``, the edge rows repeated)."""
    shift = int(shift)
    if shift == 0:
        return list(terms)
    out = []
    for t in terms:
        index = np.clip(np.arange(len(t.y)) - shift, 0, max(len(t.y) - 1, 0))
        out.append(t._replace(y=t.y[index]))
    return out
