"""Speech: where one side pauses longer than the other between two words, the lead-in
of the next word re-timed at the speech's own pace.

A speaker who pauses between words (or is made to: espeak-ng's word gaps) stops
sounding between them; one who runs the words together glides from one into the next,
and the glide (the formant transition into a stop, the stop's closure) already belongs
to the next word. DTW matches that glide with the other side's fading previous word or
with the quiet of its pause, and crosses the rest of the pause standing on one frame
of the fluent side: a word start of the fluent side is then mapped up to a whole pause
early (speech_s02 of the same-kind pairs, the same voice at 190 wpm against 120-140 wpm
with 20-80 ms word gaps: 16 word starts 100-170 ms off, all early). The sound after the
pause is matched well (the path leaves the pause on it); what lies before it on the
fluent side has nothing to match in the pause. So, where the path crosses a quiet
stretch of one side (at least ``_MIN_PAUSE_S``, not the recording's lead-in) that is
more than ``_MIN_EXTRA_S`` longer than the local pace of the speech explains for the
other side's frames the path gives it, the path before the pause's end is replaced by
a line at that pace (the path's slope over the frames where both sides sound,
:func:`local_slope`), back from the first step after the pause until it reaches the
pause's start or ``_MAX_LEAD_S`` of sound before the other side's own quiet stretch
there (a closure); the path stands on that frame for the rest of the pause.

Quiet frames are found on each side's level (:func:`quiet_frames`), near its noise
floor: a sonorant that a telephone band leaves 4 dB above the floor is no pause
(realaudio_s03, an /l/). The same level, above the quiet threshold, is a cost term of
the speech plan (:func:`level_values`): the log-mel term has each frame's level removed,
so a pause's noise and a faint sound (a voiced closure, a fricative's start) look alike
to it. Measured in ``benchmarks/accuracy/results.md``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Levels", "frame_levels", "level_values", "local_slope", "place_pauses",
           "quiet_frames"]

# a frame is quiet below the side's loud level (99th percentile of frame levels) by
# _QUIET_DB, or within _FLOOR_DB of its noise floor (5th percentile), whichever is
# higher (a 20 ms window: a noise floor's level varies well under 1 dB there); no frame
# is quiet where the floor is not _MIN_RANGE_DB below the loud level (noise that fills
# the pauses)
_QUIET_DB = 30.0
_FLOOR_DB = 3.0
_MIN_RANGE_DB = 25.0
_WINDOW_S = 0.02
# level_values: 0 at the quiet threshold, 1 _LEVEL_SPAN_DB above it; only for a side
# whose floor lies _LEVEL_RANGE_DB or more below its loud level (below 35 dB the term
# moved the real recordings: realaudio_s03, B over a telephone band at 25 dB SNR, 5.4 ->
# 5.9 ms at 30 dB, with a weight of 0.5)
_LEVEL_SPAN_DB = 30.0
_LEVEL_RANGE_DB = 35.0
# a pause: a quiet stretch of at least _MIN_PAUSE_S on the pausing side, more than
# _MIN_EXTRA_S longer than the local pace gives the other side's frames the path puts
# on it
_MIN_PAUSE_S = 0.05
_MIN_EXTRA_S = 0.02
# the line back from a pause's end crosses at most this much sound of the other side
# before that side's own quiet stretch (a stop's transition and closure at a fast pace)
_MAX_LEAD_S = 0.05
# the local pace: the path's slope over this much of the other side around the pause,
# at steps where both sides sound, clipped to a factor of _MAX_SLOPE either way
_SLOPE_WINDOW_S = 1.0
_MAX_SLOPE = 3.0


class Levels(NamedTuple):
    """A side's :func:`frame_levels`: each frame's level (dB), the loud level (99th
    percentile), the floor (5th percentile) and the frame rate they were measured at."""

    level: np.ndarray
    loud: float
    floor: float
    rate_hz: float


def quiet_frames(signal, sample_rate, rate_hz, n_frames, levels=None):
    """Which of ``n_frames`` frames at ``rate_hz`` (frame ``k`` centred at sample
    ``round(k * sample_rate / rate_hz)``) are quiet: the signal's level over
    ``_WINDOW_S`` around the frame below the side's loud level by ``_QUIET_DB`` or
    within ``_FLOOR_DB`` of its floor.

    Parameters
    ----------
    signal : ndarray (n_samples,)
    sample_rate, rate_hz : float
    n_frames : int
    levels : Levels, optional
        The side's :func:`frame_levels`, if already measured: used when they are at
        ``rate_hz`` and ``n_frames``, else measured again.

    Returns
    -------
    quiet : ndarray of bool (n_frames,)
        All False where the floor is less than ``_MIN_RANGE_DB`` below the loud level.

    Notes
    -----
    O(n_samples + n_frames) time and memory (a running sum of the power).
    """
    levels = _levels_at(signal, sample_rate, rate_hz, n_frames, levels)
    if levels.level.size == 0 or levels.loud - levels.floor < _MIN_RANGE_DB:
        return np.zeros(n_frames, dtype=bool)
    return levels.level < _threshold(levels)


def level_values(signal, sample_rate, rate_hz, n_frames, levels=None):
    """How far each frame sounds above the quiet threshold of :func:`quiet_frames`, in
    ``[0, 1]`` (0: quiet, 1: ``_LEVEL_SPAN_DB`` above the threshold or louder), shape
    ``(n_frames, 1)``: a cost term (euclidean) that keeps a quiet stretch of one side
    from matching the other side's sound. None where the side's floor lies less than
    ``_LEVEL_RANGE_DB`` below its loud level: there a quiet frame and a faint sound
    differ by a few dB only (a sonorant a telephone band leaves near a 25 dB noise
    floor), and the term would say "pause" of speech.

    Parameters and cost: as :func:`quiet_frames`.

    Returns
    -------
    values : ndarray (n_frames, 1) or None
    """
    levels = _levels_at(signal, sample_rate, rate_hz, n_frames, levels)
    if levels.level.size == 0 or levels.loud - levels.floor < _LEVEL_RANGE_DB:
        return None
    return np.clip((levels.level - _threshold(levels)) / _LEVEL_SPAN_DB, 0.0, 1.0)[:, None]


def _threshold(levels):
    """The level (dB) below which a frame is quiet: ``_QUIET_DB`` below the loud level
    or ``_FLOOR_DB`` above the floor, whichever is higher."""
    return max(levels.loud - _QUIET_DB, levels.floor + _FLOOR_DB)


def _levels_at(signal, sample_rate, rate_hz, n_frames, levels):
    if levels is not None and levels.rate_hz == rate_hz and levels.level.size == n_frames:
        return levels
    return frame_levels(signal, sample_rate, rate_hz, n_frames)


def frame_levels(signal, sample_rate, rate_hz, n_frames) -> Levels:
    """Each of ``n_frames`` frames' level (dB, over ``_WINDOW_S``) at ``rate_hz``, the
    side's loud level (99th percentile) and its floor (5th percentile), as
    :class:`Levels`: measured once, they serve :func:`level_values` and
    :func:`quiet_frames` alike."""
    x = np.asarray(signal)
    half = max(1, int(round(0.5 * _WINDOW_S * sample_rate)))
    centers = np.round(np.arange(n_frames) * (sample_rate / rate_hz)).astype(np.int64)
    lo = np.clip(centers - half, 0, x.shape[0])
    hi = np.clip(centers + half, 0, x.shape[0])
    mean = (_power_prefix(x, hi) - _power_prefix(x, lo)) / np.maximum(hi - lo, 1)
    level = 10.0 * np.log10(mean + 1e-20)
    if level.size == 0:
        return Levels(level, 0.0, 0.0, float(rate_hz))
    return Levels(level, float(np.percentile(level, 99)), float(np.percentile(level, 5)),
                  float(rate_hz))


_CHUNK = 1 << 22  # samples per float64 copy: an hour's signal is not copied whole


def _power_prefix(x, at):
    """The sum of ``x ** 2`` over ``x[:k]`` for each ``k`` of the non-decreasing ``at``,
    in float64, over chunks of ``_CHUNK`` samples."""
    out = np.zeros(at.shape[0])
    total = 0.0
    for start in range(0, x.shape[0], _CHUNK):
        chunk = np.asarray(x[start:start + _CHUNK], dtype=np.float64)
        prefix = np.concatenate([[0.0], np.cumsum(chunk * chunk)]) + total
        first, last = np.searchsorted(at, [start, start + chunk.shape[0]], side="left")
        if start + chunk.shape[0] >= x.shape[0]:  # the end itself belongs to the last
            last = at.shape[0]
        out[first:last] = prefix[at[first:last] - start]
        total = float(prefix[-1])
    return out


def _runs(mask):
    """(start, stop) of the runs of True in a boolean array (stop exclusive)."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])
    return edges[0::2], edges[1::2]


def local_slope(path, quiet_a, quiet_b, step, window):
    """The path's pace around step ``step``: B frames per A frame over the steps within
    ``window`` A frames of it where both sides sound (1.0 where there are too few),
    clipped to ``[1 / _MAX_SLOPE, _MAX_SLOPE]``."""
    i0 = path[step, 0]
    lo = int(np.searchsorted(path[:, 0], i0 - window, side="left"))
    hi = int(np.searchsorted(path[:, 0], i0 + window, side="right"))
    near = path[lo:hi]
    sounding = ~quiet_a[near[:, 0]] & ~quiet_b[near[:, 1]]
    k = np.flatnonzero(sounding[1:] & sounding[:-1])
    if k.size < 4:
        return 1.0
    d = near[k + 1] - near[k]
    da, db = int(d[:, 0].sum()), int(d[:, 1].sum())
    if da == 0 or db == 0:
        return 1.0
    return float(np.clip(db / da, 1.0 / _MAX_SLOPE, _MAX_SLOPE))


def _line(i_from, j_from, i_to, j_to):
    """A monotone staircase from (i_from, j_from) to (i_to, j_to), both included, as
    close to the straight line as unit steps allow."""
    n = max(i_to - i_from, j_to - j_from) + 1
    t = np.linspace(0.0, 1.0, n)
    i = np.round(i_from + t * (i_to - i_from)).astype(np.int64)
    j = np.round(j_from + t * (j_to - j_from)).astype(np.int64)
    keep = np.ones(n, dtype=bool)
    keep[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1])
    return np.stack([i[keep], j[keep]], axis=1)


def _place_vertical(path, quiet_a, quiet_b, rate_a, rate_b, min_pause, min_extra,
                    max_lead, window, edge):
    """One pass of :func:`place_pauses` for pauses of B (vertical runs); returns the new
    path and the pauses placed."""
    starts, stops = _runs(quiet_b)
    placed = []
    pieces = []
    pos = 0  # path steps before pos are settled
    for b0, b1 in zip(starts, stops, strict=True):
        if b1 - b0 < min_pause or not (~quiet_b[:b0]).any():  # (a lead-in)
            continue
        # the path's steps on the pause's B frames and the first step after it
        first = int(np.searchsorted(path[:, 1], b0, side="left"))
        exit_k = int(np.searchsorted(path[:, 1], b1, side="left"))
        if exit_k <= first or first < pos or exit_k >= path.shape[0]:
            continue
        ia0, ia1 = path[first, 0], path[exit_k - 1, 0]
        slope = local_slope(path, quiet_a, quiet_b, exit_k, window)
        # longer than the pace explains: the other side did not pause as long
        if (b1 - b0) - slope * (ia1 - ia0 + 1) < min_extra:
            continue
        ie, je = path[exit_k]
        # the other side's quiet stretch (a closure) ending within a level window of
        # the exit (the window smears the quiet's edges), if any: the line may cross it
        # and max_lead frames of sound before it
        a_start = ie
        near = max(0, ie - edge)
        before = np.flatnonzero(quiet_a[near:ie])
        if before.size:
            a_start = near + int(before[-1])
            while a_start > 0 and quiet_a[a_start - 1]:
                a_start -= 1
        a_limit = max(0, a_start - max_lead)
        # back from the exit along the slope while the line stays in the pause and
        # within the other side's limit
        best = 0
        for d in range(1, ie - a_limit + 1):
            if je - slope * d < b0:
                break
            best = d
        if best < 1:
            continue
        i_h = ie - best
        j_h = int(round(je - slope * best))
        if not (~quiet_a[:i_h]).any():  # no word before it on the other side: a lead-in
            continue
        # the old path up to its last step left of and below (i_h, j_h), a staircase
        # from there to it (where the old path stood on the other side's frame), the
        # line, then the exit and what follows
        k_h = pos + int(np.searchsorted(
            ~((path[pos:exit_k, 0] <= i_h) & (path[pos:exit_k, 1] <= j_h)), True)) - 1
        if k_h < pos:
            continue
        head = path[pos:k_h + 1]
        stand = _line(int(path[k_h, 0]), int(path[k_h, 1]), i_h, j_h)[1:]
        line = _line(i_h, j_h, int(ie), int(je))[1:-1]
        pieces += [head, stand, line]
        pos = exit_k
        placed.append({"pause_s": [round(float(b0) / rate_b, 3), round(float(b1) / rate_b, 3)],
                       "stand_s": round(float(i_h) / rate_a, 3), "slope": round(slope, 3)})
    pieces.append(path[pos:])
    out = np.concatenate([p.reshape(-1, 2) for p in pieces]).astype(path.dtype)
    return out, placed


def place_pauses(path, quiet_a, quiet_b, rate_a_hz, rate_b_hz):
    """The path with the lead-in before each pause's end re-timed (module docstring).

    Parameters
    ----------
    path : ndarray (L, 2)
        A monotone warping path with unit steps, rows ``(i, j)``.
    quiet_a, quiet_b : ndarray of bool (n,), (m,)
        :func:`quiet_frames` of each side, on the path's frames.
    rate_a_hz, rate_b_hz : float
        The frame rates of the two sides.

    Returns
    -------
    path : ndarray (L', 2)
        A monotone path with unit steps and the same end points.
    placed : list of dict
        Each pause placed: its span on the pausing side (``pause_s``), the other side's
        time the path stands on before the line (``stand_s``), the line's pace
        (``slope``, frames of the pausing side per frame of the other) and the pausing
        side (``"a"`` or ``"b"``).

    Notes
    -----
    O(n + m + L) time and memory, and O(log L) plus the steps within the local slope's
    window per quiet stretch.
    """
    path = np.asarray(path, dtype=np.int64)
    qa, qb = np.asarray(quiet_a, dtype=bool), np.asarray(quiet_b, dtype=bool)
    out, placed = path, []
    for side in "ba":
        if side == "b":
            rates, quiet, p = (rate_a_hz, rate_b_hz), (qa, qb), out
        else:  # A's pauses: the same on the transposed path (rows sorted again)
            rates, quiet, p = (rate_b_hz, rate_a_hz), (qb, qa), out[:, ::-1]
            p = p[np.lexsort((p[:, 1], p[:, 0]))]
        min_pause = max(1, int(round(_MIN_PAUSE_S * rates[1])))
        min_extra = max(1, int(round(_MIN_EXTRA_S * rates[1])))
        max_lead = int(round(_MAX_LEAD_S * rates[0]))
        window = int(round(_SLOPE_WINDOW_S * rates[0]))
        edge = max(1, int(round(_WINDOW_S * rates[0])))
        p, found = _place_vertical(p, *quiet, *rates, min_pause, min_extra, max_lead,
                                   window, edge)
        if side == "a":
            p = p[:, ::-1]
            p = p[np.lexsort((p[:, 1], p[:, 0]))]
        placed += [dict(f, side=side) for f in found]
        out = np.ascontiguousarray(p)
    return out, placed
