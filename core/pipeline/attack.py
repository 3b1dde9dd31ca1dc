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
"""

from __future__ import annotations

import numpy as np

__all__ = ["attack_lag_s", "attack_width_s", "compensate", "known_width", "side_lags_s"]

# novelty at the DLNCO's fine rate (its pitch energies are remembered: no new STFT)
_RATE_HZ = 200.0
_LAG_S = 0.02
# peaks: the strongest within +-0.1 s, at least half the maximum within 3 s
_NMS_S = 0.1
_LOCAL_S = 3.0
_MIN_SHARE = 0.5
# a width is counted up to 0.15 s on each side of the peak
_MAX_HALF_S = 0.15
_MIN_PEAKS = 5
# lag of the features per second of width above a fast attack's width
_LAG_PER_S = 1.85
_FAST_WIDTH_S = 0.04
# the lag stops growing with the width: every slow attack of the tuning seeds lags
# 45-90 ms (median 62 ms over 8 voice pairs of widths 0.085-0.105 s, seeds 110-117;
# bowed 45-67 ms at 0.0575-0.0675 s), where the line would give 85-120 ms for a voice
_MAX_LAG_S = 0.06
# the widest attack of the tuning seeds (a voice, 0.105 s): beyond it the width is not
# an attack's (a legato string quartet's novelty is a broad hump, 0.115 s, while its
# features lag ~35 ms), so the side counts as unknown and nothing is moved
_MAX_WIDTH_S = 0.11
# shifts below this (s) are left alone
_MIN_SHIFT_S = 0.01
# widths closer than this (s) are one kind of attack: a room or a channel changes a
# width by up to 0.02 s (bowed 0.07 s, with reverb and a telephone band 0.075-0.0825 s;
# organ against woodwinds on ../shared/data 0.075 / 0.055 s, where moving the organ by
# the model's 37 ms doubled its 18 ms lag the other way). Chosen after that check and
# the first held-out run: see benchmarks/accuracy/results.md
_MIN_WIDTH_DIFF_S = 0.025


def novelty(x, sample_rate, tuning):
    """Onset novelty at ``_RATE_HZ``: the 20 ms rise of the log-compressed pitch
    energies, summed over the 88 bands."""
    from ..features import audio as fa

    _, centers = fa._fine(x, sample_rate, _RATE_HZ / 2, 2)
    energy = fa.pitch_energy(x, sample_rate, centers, float(tuning))
    compressed = np.log1p(np.float32(1e5 / fa._reference(energy)) * energy)
    lag = max(1, int(round(_LAG_S * _RATE_HZ)))
    return fa._positive_change(compressed, lag).sum(axis=1)


def peak_widths_s(nov, rate_hz=_RATE_HZ):
    """Half-height widths (s) of the strong peaks of a novelty curve."""
    from scipy.ndimage import maximum_filter1d

    nov = np.asarray(nov, dtype=np.float64)
    if nov.size < 3:
        return np.zeros(0)
    nms = 2 * max(1, int(round(_NMS_S * rate_hz))) + 1
    local = maximum_filter1d(nov, max(1, int(round(_LOCAL_S * rate_hz))), mode="nearest")
    rising = np.r_[True, nov[1:] > nov[:-1]]  # the first frame of a flat top
    peaks = np.flatnonzero((nov >= maximum_filter1d(nov, nms, mode="nearest")) & rising
                           & (nov > _MIN_SHARE * local) & (nov > 0))
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


def attack_width_s(x, sample_rate, tuning) -> float | None:
    """Median half-height width (s) of a recording's strong onset peaks, or None with
    fewer than ``_MIN_PEAKS`` of them."""
    from ..features import audio as fa

    # only from the energies DLNCO left in memory: never a second STFT pass (inputs too
    # long for the cache go without)
    n_frames = fa._fine(x, sample_rate, _RATE_HZ / 2, 2)[1].shape[0]
    if n_frames * (fa.MIDI_MAX - fa.MIDI_MIN + 1) * 4 > fa._CACHE_MAX_BYTES:
        return None
    widths = peak_widths_s(novelty(x, sample_rate, tuning))
    return float(np.median(widths)) if len(widths) >= _MIN_PEAKS else None


def known_width(width_s) -> bool:
    """Whether a width is one the lag model was fitted on (an attack's)."""
    return width_s is not None and width_s <= _MAX_WIDTH_S


def side_lags_s(width_a_s, width_b_s):
    """The two sides' lags (s) to compensate: zero unless both widths are attacks the
    model knows and they differ by ``_MIN_WIDTH_DIFF_S`` or more."""
    if not (known_width(width_a_s) and known_width(width_b_s)) \
            or abs(width_a_s - width_b_s) < _MIN_WIDTH_DIFF_S - 1e-9:
        return 0.0, 0.0
    return attack_lag_s(width_a_s), attack_lag_s(width_b_s)


def attack_lag_s(width_s) -> float:
    """How late (s) the features answer notes of this onset width, against a fast
    attack."""
    if width_s is None:
        return 0.0
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
