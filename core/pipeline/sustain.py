"""A held low voice one side sustains and the other lets decay (issue 16): a music pair
whose first search gets a chroma-change term.

A bass held under a melody (an organ's or a bowed string's pedal note) keeps its pitch
classes in every frame of the bar on a sustaining side, while a piano's or a plucked
string's dies away within a second. Strongly compressed chroma then differs along the
whole bar between the two sides, and the first search prefers a wrong path
(``benchmarks/accuracy/results.md``, "A held bass under the melody": generated pairs
with a bass at half a melody note's level, 18.0 -> 90.3 ms on the tuning split). The
positive change of the unit-normalized chroma (:func:`chroma_change`) does not see how
long a note sounds, only which pitch classes rose. Weighed beside the chroma in the first
search of every pair (branch ``bass16b``) it helped the pairs with a bass and cost pairs
without one (held out 29.1 -> 33.0 ms), so it is added only where this check finds the
cause: there, at weight ``_WEIGHT``, the four tuning pairs it fires on (piano against
organ, bowed string against piano, bass at half a melody note's level) went from 67.8 to
16.2 ms on average (weights 1, 2, 4, 8, 16: 43.7, 23.1, 16.2, 16.2, 19.4; chosen on
those pairs), the four held-out ones from 202.0 to 45.4 ms; on fresh held-out seeds
(``heldout2``, ``heldout3``, four per case) the 16 it fires on went from 96.6 to 41.2 ms
(9 better, 3 the same, 4 worse by 0.6-23.2 ms): a gain on most pairs, not on every one.

The measure (:func:`held_low_share`): the pitch energies of the low register (MIDI
``_LOW``, where a bass sounds), each pitch's held part the minimum over ``_HOLD_S``
around the frame (energy that stays that long) less the median of those over the
register (what every low pitch holds alike, a steady noise, is not a held note), as a
share of the frame's whole energy, averaged over the frames that sound, and the low
register's share itself. On the generated pairs of
``benchmarks/accuracy/generalize.py`` a side holding a bass (organ, bowed string) keeps
0.004-0.08 of its energy there at a tenth of a melody note's level, 0.026-0.073 at a
quarter and 0.056-0.15 at half; a side letting the same bass decay (piano, plucked
string, marimba) at most a fortieth of that, and no pair without a bass more than 0.0006
on either side (a melody's lowest chord notes come and go). The check fires
(:func:`held_low_mismatch`) when one side holds at least ``_MIN_HELD``, the other less
than ``_RATIO`` of that, and the other's low register sounds all the same
(``_PRESENT``): of a side without one (a band-limited copy) nothing tells whether it
would hold or let decay. Without that condition the check fired on the generated organ
against a band-limited piano (where the term helped: tuning 147.4 -> 6.8 and 103.9 ->
66.3 ms, held out 303.9 -> 201.5 on one pair, within 0.3 ms on three) and on every copy
of the real "Vibe Ace" recording against its band-limited copy
(``benchmarks/accuracy/unseen.py``), where it took the copy stretched to half speed from
26.8 to 206.0 ms. Until ``bass16d`` the check needed 0.02 and missed a bass at a tenth
of a melody note's level on the bowed side; the threshold came down to ``_MIN_HELD``
with the median (without it pink noise before a copy of K.545 or BWV 66.6 held 0.0100)
and ``_RATIO`` from 0.2 to 0.1 (BWV 66.6's strings slowed to 0.6 or in a 2 s room hold
0.006 against the piano's 0.0009). The pairs it then fires on besides (bass at a tenth,
four splits) went from 62.4 to 39.1 ms on average (9 of 11 better; tuning bowed_piano
145.2 -> 167.6, where the attack compensation does not run, see results.md).

A bass held by a sung vowel (its formants leave the low register nearly empty:
0.0001-0.0002) is seen the other way (branch ``audio16g``): from the decaying side, whose
low register shows the bass line (a plucked string's, at least ``_BASS_SHOWS`` of its
energy) while the sung side's is empty and the sung side holds, over all its pitches,
``_HOLDS_MORE`` times what the plucked side holds. Nothing in the sung side alone tells
a held bass from long sung melody notes (its held share over all pitches: 0.079-0.133
without a bass, 0.104-0.239 with one at a tenth); the plucked side's low register does.
There the chroma-change term helped at half level and cost at a quarter and a tenth
(tuning split: 280.1 -> 102.8, 191.0 -> 130.0 ms; 56.7 -> 147.9, 32.6 -> 140.8), and on
held-out seeds 5 of 10 pairs better, 5 worse; instead the sung side's chroma is made
without the energy each pitch holds for ``_HOLD_S`` (:func:`held_part`): the bass's
harmonics drop out, the moving melody stays, the plucked side (which holds nothing) is
unchanged. Tuning split 280.1 -> 68.3 and 191.0 -> 36.9 ms; the ten held-out voice
pairs with a bass at half level (heldout, heldout2, heldout3) 272.0 -> 208.2 ms on
average, 8 better, 2 worse (84.3 -> 132.2, 814.1 -> 826.6). Below half level the removal
cost as the term did (tuning: 26.5 -> 72.9, 32.6 -> 49.3), hence ``_BASS_SHOWS`` between
the quarter's 0.030 and the half's 0.067; it fires on no generated pair without a
bass or with a quieter one and on none of ``unseen.py``'s 114 music copies.

A held bass against a side that lost its band (the generated organ against a piano
band-limited to 300-3400 Hz) is seen the third way: the other side's low register says
nothing, but the holding side's is mostly held (``_MOSTLY_HELD``), which a decaying bass
with a little left after a second (Vibe Ace's, against its band-limited copy, where the
term hurt) is not; the remedy is the term. Tuning split, the six pairs it fires on
73.0 -> 29.6 ms; held out, the 30 it fires on (bass at a tenth, a quarter, half)
36.6 -> 22.8, 62.6 -> 37.4, 91.2 -> 49.9 ms, 16 better, 12 the same, 2 worse by 0.3 ms
(``benchmarks/accuracy/results.md``, branch ``audio16g``). On the real recordings of
../shared/data the closest to firing is the Bach chorale BWV 269 (an organ: 0.0040 held
against 0.0003, under the threshold, and the woodwinds' low register nearly empty),
whose error the term would raise from 21.7 to 39.2 ms.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import convolve1d, minimum_filter1d

from ..features.audio import _positive_change

__all__ = ["chroma_change", "held_all_share", "held_low_mismatch", "held_low_share",
           "held_part", "needs_held_all"]

# the low register: MIDI 36-47 (C2-B2, 65-123 Hz), a bass line's octave
_LOW = (36, 47)
# energy held this long (s) counts as held: longer than most melody notes, shorter
# than a bar at the usual tempi
_HOLD_S = 1.0
# a frame sounds when its energy is above this share of the side's loud frames' (99th
# percentile of the frames' energy)
_ACTIVE = 1e-3
# between the most a side without a held bass keeps (0.0006 generated; real recordings:
# 0.0040 the organ of BWV 269, 0.0063 the strings of BWV 66.6 slowed to 0.6) and the
# least a side holding one keeps (0.0085 and 0.011 at a tenth of a melody note's level on
# the tuning split's bowed side, 0.036 at a quarter)
_MIN_HELD = 0.005
# the other side: a decaying bass keeps at most a fortieth of a held one (0.025 at a
# tenth, 0.012 at half level); a chorale's bass voice on strings against a piano, slowed
# or in a 2 s room, a seventh (0.14-0.15: BWV 66.6's copies, not a bass line's mismatch)
_RATIO = 0.1
# ... while its low register sounds: a piano's decaying bass carries 0.5-0.65 of the
# organ's or bowed string's share of the energy there; a copy that lost its bass band
# (Vibe Ace's B, 300-3400 Hz piano) 0-0.01
_PRESENT = 0.1
# the second way (the bass shows on the decaying side only; branch audio16g, chosen on
# the tuning split): a plucked side's low register has 0.067-0.072 of its energy with a
# bass at half a melody note's level, 0.029-0.030 at a quarter, 0.005-0.006 at a tenth,
# and up to 0.0035 without one (a chord's lowest notes); the change term helped the
# sung pairs at half level (280.1 -> 102.8 and 191.0 -> 130.0 ms) and cost one at a
# quarter and a tenth (56.7 -> 147.9, 32.6 -> 140.8; weights 0.5-16 all cost it)
_BASS_SHOWS = 0.05
# the third way (branch audio16g, chosen on the tuning split): where the other side's
# low register is nearly empty (a lost band: nothing tells whether it holds or lets
# decay), a side whose low register is mostly held: an organ's or a bowed string's held
# bass keeps 0.42-0.85 of that register's energy for _HOLD_S on the tuning pairs, a
# piano's or a plucked string's decaying bass at most 0.03, the real "Vibe Ace" (its
# plucked bass against a band-limited copy; the term took its half-speed copy from 26.8
# to 206.0 ms) 0.049
_MOSTLY_HELD = 0.2
# ... and the side without a low register holds over all its pitches this many times
# what the decaying side holds: a sung vowel against a plucked string 14-60 times (with
# or without a bass: which is why the bass must show on the other side), a bowed string
# or an organ against a piano 1.5-8 times
_HOLDS_MORE = 4.0
# the change term: the positive part of the unit-normalized chroma's change over
# _RISE_S (centred), smoothed by a Hann window of _SMOOTH_S (bass16b's best: 0.2 / 0.4),
# euclidean, weight _WEIGHT in the first search only (the chroma's cosine distance
# between random frames is about 0.27, this term's euclidean about 0.18: 4 makes it
# lead; 4 and 8 tie on the tuning pairs, see above)
_RISE_S = 0.2
_SMOOTH_S = 0.4
_WEIGHT = 4.0


def held_low_share(energy, rate_hz, midi_min=21) -> tuple[float, float]:
    """How much of a side's energy the low register holds for ``_HOLD_S``, and how
    much it has at all.

    Parameters
    ----------
    energy : numpy.ndarray, shape (T, P)
        Linear pitch energies per frame, column ``k`` for MIDI pitch ``midi_min + k``
        (:func:`core.features.audio.pitch_energy`).
    rate_hz : float
        Frames per second.
    midi_min : int
        The MIDI pitch of column 0.

    Returns
    -------
    (held, share) : (float, float)
        Means over the frames that sound of (the low register's held energy) / (the
        frame's energy) and of (the low register's energy) / (the frame's energy);
        both 0 when no frame sounds. The held energy: each low pitch's minimum over
        ``_HOLD_S`` around the frame, less the median of those minima over the low
        register, summed over the pitches above it.

    Notes
    -----
    The median leaves out what every low pitch holds alike: a steady noise (pink noise
    before a copy of K.545 held 0.0100 of its energy without it, 0.0008 with it), not a
    held note. O(T P) time, O(T L) memory beyond the input (L = 12 low pitches).
    """
    energy, total, active = _sounding(energy, rate_hz)
    lo = max(0, _LOW[0] - int(midi_min))
    hi = max(0, min(energy.shape[1], _LOW[1] + 1 - int(midi_min)))
    if active is None or hi <= lo:
        return 0.0, 0.0
    low = energy[:, lo:hi]
    return (_held_share(held_part(low, rate_hz), total, active),
            float(np.mean(low.sum(axis=1)[active] / total[active])))


def held_all_share(energy, rate_hz) -> float:
    """How much of a side's energy all its pitches hold for ``_HOLD_S``: as the
    ``held`` of :func:`held_low_share`, over every pitch of ``energy`` (T, P) instead of
    the low register (the median taken over them all). O(T P) time and memory."""
    energy, total, active = _sounding(energy, rate_hz)
    if active is None:
        return 0.0
    return _held_share(held_part(energy, rate_hz), total, active)


def _sounding(energy, rate_hz):
    """``energy`` as float64, the frames' energy and the frames that sound (None when
    none does), after checking the input."""
    energy = np.asarray(energy, dtype=np.float64)
    if energy.ndim != 2:
        raise ValueError(f"energy: expected (frames, pitches), got shape {energy.shape}")
    if not (np.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError(f"rate_hz: expected a positive frame rate, got {rate_hz}")
    if energy.shape[0] == 0:
        return energy, None, None
    total = energy.sum(axis=1)
    ref = float(np.percentile(total, 99))
    active = total > _ACTIVE * ref
    if ref <= 0 or not np.any(active):
        return energy, total, None
    return energy, total, active


def _held_share(held, total, active):
    # a held note stands out of its pitches; a steady noise fills every pitch alike
    # (pink noise: the same energy per semitone), and that part is not a held voice
    tonal = np.clip(held - np.median(held, axis=1, keepdims=True), 0.0, None).sum(axis=1)
    return float(np.mean(tonal[active] / total[active]))


def held_part(energy, rate_hz):
    """Each pitch's energy held for ``_HOLD_S``: its minimum over ``_HOLD_S`` around the
    frame, shape and dtype of ``energy`` (T, P)."""
    return minimum_filter1d(energy, max(1, int(round(_HOLD_S * rate_hz))), axis=0,
                            mode="nearest")


def _low_register_decision(held, share):
    """``(side, seen_in)`` from the low registers alone, or ``(decaying, None)`` where
    the decaying-side way needs :func:`held_all_share`, or ``(None, None)``."""
    high = int(held[1] > held[0])
    if held[high] >= _MIN_HELD and held[1 - high] < _RATIO * held[high]:
        if share[1 - high] >= _PRESENT * share[high]:
            return high, "low register"
        if held[high] >= _MOSTLY_HELD * share[high]:
            return high, "holding side"
    shown = int(share[1] > share[0])  # the side whose low register sounds more
    if (share[shown] >= _BASS_SHOWS and held[shown] < _RATIO * share[shown]
            and share[1 - shown] < _PRESENT * share[shown]):
        return shown, None
    return None, None


def needs_held_all(low_a, low_b) -> bool:
    """Whether :func:`held_low_mismatch` needs both sides' :func:`held_all_share` for
    the decaying-side way (one side's low register sounds and decays, the other's is
    nearly empty); for every other pair it decides without them."""
    (held_a, share_a), (held_b, share_b) = low_a, low_b
    side, seen_in = _low_register_decision([held_a, held_b], [share_a, share_b])
    return side is not None and seen_in is None


def held_low_mismatch(low_a, low_b, held_all=None) -> dict:
    """The decision from both sides' :func:`held_low_share` (``(held, share)`` each)
    and, where :func:`needs_held_all` says so, their :func:`held_all_share`
    (``held_all``, a pair). ``applied`` when

    - (``seen_in`` "low register") one side holds at least ``_MIN_HELD`` of its energy
      in the low register and the other less than ``_RATIO`` times as much, though that
      other side's low register sounds (its share at least ``_PRESENT`` times the
      first's: it lets the notes decay, it did not lose the band); or
    - (``seen_in`` "holding side") as the first, but the other side's low register is
      nearly empty (a lost band) and the first side's is mostly held (its held energy
      at least ``_MOSTLY_HELD`` of its low register's): a held bass line, whatever the
      other side does with it; or
    - (``seen_in`` "decaying side") one side's low register sounds (a share of at least
      ``_BASS_SHOWS``) and lets its notes decay (holds less than ``_RATIO`` of that
      share), while the other side's low register is nearly empty (less than
      ``_PRESENT`` times the first's share: a sung bass's fundamental, or a lost band)
      and that side holds, over all pitches, at least ``_MIN_HELD`` of its energy and
      ``_HOLDS_MORE`` times what the decaying side holds: the bass the first side
      shows is held on the other, heard through its harmonics.

    Returns ``held`` and ``share`` (both sides', rounded; ``held_all`` too when given)
    and, when it fires, ``side`` (the side that holds), ``seen_in`` and either
    ``weight`` (the low register or the holding side: the chroma-change term's weight
    in the first search) or ``hold_s`` (the decaying side: the holding side's chroma is
    made without the energy it holds this long, :func:`held_part`)."""
    (held_a, share_a), (held_b, share_b) = low_a, low_b
    held, share = [float(held_a), float(held_b)], [float(share_a), float(share_b)]
    info = {"applied": False, "held": [round(h, 4) for h in held],
            "share": [round(s, 4) for s in share]}
    side, seen_in = _low_register_decision(held, share)
    if seen_in is not None:
        info.update(applied=True, side="ab"[side], seen_in=seen_in, weight=_WEIGHT)
        return info
    if held_all is None:
        return info
    whole = [float(h) for h in held_all]
    info["held_all"] = [round(h, 4) for h in whole]
    if side is not None and whole[1 - side] >= max(_MIN_HELD, _HOLDS_MORE * whole[side]):
        info.update(applied=True, side="ab"[1 - side], seen_in="decaying side",
                    hold_s=_HOLD_S)
    return info


def chroma_change(chroma, rate_hz):
    """Where pitch classes rose: the positive part of the unit-normalized chroma's
    change over ``_RISE_S`` (centred on the frame), smoothed by a Hann window of
    ``_SMOOTH_S``.

    Parameters
    ----------
    chroma : numpy.ndarray, shape (T, 12)
    rate_hz : float
        Frames per second.

    Returns
    -------
    numpy.ndarray, shape (T, 12), float64
        Silent frames (zero chroma) stay zero before the change.
    """
    c = np.asarray(chroma, dtype=np.float64)
    norm = np.linalg.norm(c, axis=1, keepdims=True)
    c = np.where(norm > 0, c / np.maximum(norm, 1e-12), 0.0)
    rise = _positive_change(c, max(1, int(round(0.5 * _RISE_S * rate_hz))))
    width = max(1, int(round(_SMOOTH_S * rate_hz)))
    if width > 1:
        kernel = np.hanning(width + 2)[1:-1]
        rise = convolve1d(rise, kernel / kernel.sum(), axis=0, mode="constant")
    return rise
