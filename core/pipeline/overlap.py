"""The shared part of two recordings: where one may have extra material at its start or
end (an intro, applause, a missing ending)."""

from __future__ import annotations

import math

import numpy as np

from .._kernels import lazy
from ..warping._engine import solve_window
from ..warping._source import CostSource

_k = lazy("overlap")  # numba: imported where a kernel first runs

# cells of the coarse full cost matrix the search looks at
_OVERLAP_CELLS = 1_000_000


def find_overlap(source, monitor, *, share=0.5, min_skip_s=1.0, margin_s=0.5, rate=1.0,
                 step_share=0.1):
    """Find the part of A and B that correspond.

    On a coarse full cost matrix (``source`` pooled to about a million cells): a
    closed-end DTW (symmetric1, through the engine) gives the typical cost of matching
    frames ``c_on`` (median along its path), the matrix the cost of unrelated frames
    ``c_off`` (median of all cells); costs are shifted by the threshold
    ``tau = c_on + share * (c_off - c_on)`` so that matching frames earn and unrelated
    frames cost, and a DP with symmetric2 weights (every path from border to border has
    the same total weight per frame covered) that may start anywhere on the first row or
    column and end anywhere on the last row or column picks the stretch worth aligning
    (horizontal and vertical steps may pay for mismatches but never earn, see
    :mod:`core._kernels.overlap`, and each pays ``step_share * (c_off - c_on)`` more).

    Why the step penalty: the DP may otherwise zigzag through unrelated material at no
    cost, collecting the frames that happen to match. Unrelated speech in the voice of
    A's speaker (8-14 s before B, whose own speaker is another voice) matches A
    frame by frame better than B's shared part does (median best match per frame 0.08
    against 0.27 on harvard1), so without the penalty the shared part began inside the
    lead-in (at 6 s of B instead of 14.6 s; the two paths' totals 436 and 431).
    Penalised, a path must earn its non-diagonal steps; the shared part's own slope
    changes (B at 0.6-1.7 times A's tempo) pay little next to its diagonal earnings.

    Parameters
    ----------
    source : FeatureTerms
        The terms at the rate of the search (``rate`` frames per second), weighted.
    monitor : Monitor
    share : float
        Where the threshold lies between the matching and the typical cost.
    min_skip_s, margin_s : float
        Ends trimmed by less than ``min_skip_s`` stay whole; trimmed ends get
        ``margin_s`` back.
    rate : float
        Frames per second of ``source``.
    step_share : float
        The penalty of a horizontal or vertical step, as a share of ``c_off - c_on``
        (0: none).

    Returns
    -------
    (i0, i1, j0, j1) : inclusive frame ranges of A and B at the source's rate, and a dict
    of diagnostics.
    """
    n, m = source.n, source.m
    factor = max(1, int(math.ceil(math.sqrt(n * m / _OVERLAP_CELLS))))
    coarse = source.pooled(factor) if factor > 1 else source
    n_c, m_c = coarse.n, coarse.m
    cost = coarse.costs(0, n_c, 0, m_c)
    monitor.report(0.3)
    lo = np.zeros(n_c, dtype=np.int64)
    hi = np.full(n_c, m_c, dtype=np.int64)
    path, _, _ = solve_window(CostSource(cost=cost), "symmetric1", lo, hi,
                              monitor.sub(0.3, 0.8))
    c_on = float(np.median(cost[path[:, 0], path[:, 1]]))
    c_off = float(np.median(cost))
    info = {"cost_on_path": round(c_on, 4), "cost_typical": round(c_off, 4)}
    full = (0, n - 1, 0, m - 1)
    if not c_off > c_on or n_c < 4 or m_c < 4:
        return full, dict(info, trimmed=False)
    tau = c_on + share * (c_off - c_on)
    shifted = cost - tau
    acc = np.empty_like(shifted)
    back = np.empty(shifted.shape, dtype=np.int8)
    _k.overlap_accumulate(shifted, acc, back, step_share * (c_off - c_on))
    monitor.report(0.9)
    last_row = acc[n_c - 1]
    last_col = acc[:, m_c - 1]
    if float(last_row.min()) <= float(last_col.min()):
        i_end, j_end = n_c - 1, int(np.argmin(last_row))
    else:
        i_end, j_end = int(np.argmin(last_col)), m_c - 1
    p = np.empty((n_c + m_c + 1, 2), dtype=np.int64)
    length = _k.overlap_backtrack(back, i_end, j_end, p)
    (i0c, j0c), (i1c, j1c) = p[length - 1], p[0]
    # trim an end only if the closed-end path really pays for it there: with repetitive
    # material (a repeated section, a loop) shifting by one period is as cheap as the
    # right alignment, and only the closed path tells the two apart. It pays where it is
    # squeezed into a vertical or horizontal run (under half its steps diagonal): a
    # lead-in or a tail one side lacks (2-44 % diagonal steps on the unseen.py copies);
    # a one-period shift of repeated material is not. A high cost along a diagonal
    # closed path does not pay: the DP starts on the first row or column and ends on
    # the last, so a trimmed end is one side's with the other kept whole, and where the
    # closed path goes on diagonally both sides go on together (a pad's held last chord,
    # 3 s against a piano's decaying one: 100 % diagonal; left out, the pad's last
    # second took the piano's whole tail and that onset was 1.8 s off)
    closed_diagonal = np.r_[True, np.diff(path, axis=0).sum(axis=1) == 2]

    def pays(mask):
        return bool(mask.any()) and float(np.mean(closed_diagonal[mask])) < 0.5

    if not pays((path[:, 0] < i0c) | (path[:, 1] < j0c)):
        i0c, j0c = 0, 0
    if not pays((path[:, 0] > i1c) | (path[:, 1] > j1c)):
        i1c, j1c = n_c - 1, m_c - 1
    i0, j0 = int(i0c) * factor, int(j0c) * factor
    i1 = min(n - 1, (int(i1c) + 1) * factor - 1) if i1c < n_c - 1 else n - 1
    j1 = min(m - 1, (int(j1c) + 1) * factor - 1) if j1c < m_c - 1 else m - 1
    # the shared part ends where costs exceed the threshold, a little early for a fading
    # last note or word: give each trimmed end a margin back
    margin = int(round(margin_s * rate))
    i0, j0 = max(0, i0 - margin), max(0, j0 - margin)
    i1, j1 = min(n - 1, i1 + margin), min(m - 1, j1 + margin)
    min_skip = max(1, int(round(min_skip_s * rate)))
    # small skips at the ends are silence or reverberation: keep the closed ends there
    i0 = i0 if i0 >= min_skip else 0
    j0 = j0 if j0 >= min_skip else 0
    i1 = i1 if n - 1 - i1 >= min_skip else n - 1
    j1 = j1 if m - 1 - j1 >= min_skip else m - 1
    monitor.report(1.0)
    trimmed = (i0, i1, j0, j1) != full
    return (i0, i1, j0, j1), dict(info, trimmed=trimmed, threshold=round(tau, 4),
                                  step_penalty=round(step_share * (c_off - c_on), 4))


# a left-out span is quiet (no material to warn about) when its peaks stay below a
# hundredth of the aligned part's (digital silence, a pause before the first note)
_SILENT_RATIO = 0.01
# ends of a side shorter than this are where the path stops one or two frames before the
# recording does, not a part left out
_MIN_SPAN_S = 0.1


def unshared_ends(aligned_part, recordings):
    """The ends of each side an alignment left out, and whether they are quiet.

    Parameters
    ----------
    aligned_part : dict
        An engine result's ``diagnostics["aligned_part"]`` (``a_s``, ``b_s``: first and
        last aligned time per side; ``whole_a``, ``whole_b``).
    recordings : (Recording, Recording)
        A and B. The durations bound the spans; an audio side's peaks (its
        ``envelope``) tell a quiet span (silence) from one with material (video:
        always material).

    Returns
    -------
    list of dict
        One per left-out end: ``side`` (``"a"`` or ``"b"``), ``end`` (``"start"`` or
        ``"end"``), ``start_s``, ``end_s`` and ``quiet`` (bool).
    """
    spans = []
    for side, rec in zip("ab", recordings, strict=True):
        if aligned_part.get(f"whole_{side}", True):
            continue
        first, last = (float(t) for t in aligned_part[f"{side}_s"])
        duration = float(rec.duration_s)
        for end, (t0, t1) in (("start", (0.0, first)), ("end", (last, duration))):
            if t1 - t0 < _MIN_SPAN_S:
                continue
            spans.append({"side": side, "end": end, "start_s": round(t0, 2),
                          "end_s": round(t1, 2),
                          "quiet": _is_quiet(rec, (t0, t1), (first, last))})
    return spans


def _is_quiet(rec, span_s, part_s):
    """Whether an audio recording's ``span_s`` peaks below ``_SILENT_RATIO`` times its
    ``part_s``."""
    envelope = getattr(rec, "envelope", None)
    if rec.kind != "audio" or envelope is None:
        return False
    rate = float(rec.rate_hz)

    def peak(t0, t1):
        start = min(int(t0 * rate), rec.n_frames - 1)
        stop = max(start + 1, min(int(t1 * rate), rec.n_frames))
        # bins of about 512 samples: the envelope then reads its finest cache cells (a
        # bin may take in one neighbouring cell: with a single bin over the span, a
        # coarse cell reached far into the aligned part)
        lo, hi = envelope(max(1, min(100_000, (stop - start) // 512)), start, stop)
        return max(float(np.max(np.abs(lo))), float(np.max(np.abs(hi))))

    return peak(*span_s) < _SILENT_RATIO * peak(*part_s)
