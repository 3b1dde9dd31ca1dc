"""Clicks: a brief burst, louder than the music, on a real recording (a knock on the
microphone, a key or a bow tapping the instrument before the first note).

On a real monophonic recording against a synthetic rendering (the data set's
real-against-synthetic kind: music21's ``test_audio.wav`` against FluidSynth), a knock
90 ms before the first note is the loudest sound of the recording, 13 dB above its
loud part and 38 dB above the room tone around it, gone within 25 ms. Its spectrum is
broad, so the onset features (DLNCO) rise in every pitch class at once, more than at the
note that follows: the path paired the other side's first note with the knock, 59-117 ms
early on the three tuning pairs (``benchmarks/accuracy/samekind.py``, ``realsynth``);
with the knock taken out 2-17 ms. Its novelty peak also hides the next note's (the
onset peaks count against the largest within 3 s).

:func:`find_clicks` looks at the level in 2.5 ms blocks: a click peaks at least
``_ABOVE_LOUD_DB`` above the recording's loud part (the ``_LOUD_PERCENTILE``-th
percentile of the blocks) and at least ``_ABOVE_SIDES_DB`` above the sound both before
and after it (the median level over ``_BEFORE_S`` and ``_AFTER_S``), so a note, whose
sound goes on after its attack, is not one. A recording where such bursts are not rare
(more than one per ``_MIN_SPACING_S`` on average: a percussion part) is left alone.
:func:`remove_clicks` brings each click down to the level around it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["find_clicks", "remove_clicks"]

_BLOCK_S = 0.0025
_LOUD_PERCENTILE = 95.0
# the peak's block above the loud part (dB): a piano's or a plucked string's attacks make
# the loud part (the rendered piano of the tuning pairs peaks 4 dB above its 95th
# percentile), a knock on a real recording peaked 13 dB above
_ABOVE_LOUD_DB = 8.0
# and above the sound before and after it (dB): the knock stood 38 dB above the room
# tone; a note's sound, 40-120 ms after its attack, is within 10-15 dB of its peak
_ABOVE_SIDES_DB = 20.0
_BEFORE_S = (0.1, 0.02)  # from 0.1 s to 0.02 s before the peak
_AFTER_S = (0.04, 0.12)  # from 0.04 s to 0.12 s after it
# a click's span: the blocks around its peak above the louder side's level plus this
# (dB), at most _MAX_SPAN_S on each side of the peak, widened by _EDGE_S (the gain ramps)
_SPAN_DB = 6.0
_MAX_SPAN_S = 0.05
_EDGE_S = 0.005
# a recording with more clicks than one per this many seconds is left alone
_MIN_SPACING_S = 5.0


_CHUNK_BLOCKS = 1 << 16  # blocks per float64 copy: an hour's signal is not copied whole


def _block_levels_db(x, sample_rate):
    hop = max(1, int(round(_BLOCK_S * float(sample_rate))))
    n = x.shape[0] // hop
    power = np.empty(n)
    for start in range(0, n, _CHUNK_BLOCKS):
        stop = min(n, start + _CHUNK_BLOCKS)
        blocks = np.asarray(x[start * hop:stop * hop], dtype=np.float64).reshape(-1, hop)
        power[start:stop] = np.einsum("ij,ij->i", blocks, blocks) / hop
    return 10.0 * np.log10(power + 1e-12), hop


def find_clicks(x, sample_rate):
    """The clicks of a mono signal.

    Parameters
    ----------
    x : ndarray, shape (n,)
        Mono signal.
    sample_rate : float
        Its sample rate (Hz).

    Returns
    -------
    list of (int, int, float)
        Per click its first and last sample (a span) and the gain (< 1) that brings it
        to the level around it; empty where there is none, or where the bursts are too
        many to be clicks (more than one per ``_MIN_SPACING_S`` s).

    Notes
    -----
    O(n) time, O(n / block) memory.
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"x: expected a mono signal (n,), got shape {x.shape}")
    level, hop = _block_levels_db(x, sample_rate)
    if level.size < 3:
        return []
    block_rate = float(sample_rate) / hop

    def frames(t):
        return max(1, int(round(t * block_rate)))

    loud = float(np.percentile(level, _LOUD_PERCENTILE))
    candidates = np.flatnonzero(level >= loud + _ABOVE_LOUD_DB)
    clicks, taken_until = [], -1
    for p in candidates:
        if p <= taken_until:
            continue
        # the highest block nearby is the peak
        p = int(p + np.argmax(level[p:p + frames(0.01)]))
        before = level[max(0, p - frames(_BEFORE_S[0])):max(0, p - frames(_BEFORE_S[1]))]
        after = level[p + frames(_AFTER_S[0]):p + frames(_AFTER_S[1])]
        if not (before.size and after.size):
            continue
        side = max(float(np.median(before)), float(np.median(after)))
        if level[p] - side < _ABOVE_SIDES_DB:
            continue
        reach, lo, hi = frames(_MAX_SPAN_S), p, p
        while lo > 0 and p - lo < reach and level[lo - 1] > side + _SPAN_DB:
            lo -= 1
        while hi < level.size - 1 and hi - p < reach and level[hi + 1] > side + _SPAN_DB:
            hi += 1
        span = level[lo:hi + 1]
        burst = 10.0 * np.log10(np.mean(10.0 ** (span / 10.0)))
        gain = float(10.0 ** (-(burst - side) / 20.0))
        edge = int(round(_EDGE_S * float(sample_rate)))
        clicks.append((max(0, lo * hop - edge), min(x.shape[0], (hi + 1) * hop + edge), gain))
        taken_until = hi + frames(_AFTER_S[0])
    duration_s = x.shape[0] / float(sample_rate)
    if len(clicks) > max(1.0, duration_s / _MIN_SPACING_S):
        return []
    return clicks


def remove_clicks(x, sample_rate):
    """``x`` with its clicks (:func:`find_clicks`) brought down to the level around
    them (the gain ramps in and out over ``_EDGE_S``), and an info dict (``applied``,
    ``spans_s``: each click's span in seconds). The input itself where there is none."""
    clicks = find_clicks(x, sample_rate)
    if not clicks:
        return x, {"applied": False}
    out = np.array(x, copy=True)
    edge = max(1, int(round(_EDGE_S * float(sample_rate))))
    for first, last, gain in clicks:
        envelope = np.full(last - first, gain)
        ramp = min(edge, (last - first) // 2)
        if ramp:
            fade = 0.5 * (1.0 + np.cos(np.linspace(0.0, np.pi, ramp)))  # 1 -> 0
            envelope[:ramp] = gain + (1.0 - gain) * fade
            envelope[-ramp:] = gain + (1.0 - gain) * fade[::-1]
        out[first:last] = out[first:last] * envelope.astype(out.dtype, copy=False)
    rate = float(sample_rate)
    return out, {"applied": True,
                 "spans_s": [[round(f / rate, 3), round(la / rate, 3)] for f, la, _ in clicks]}
