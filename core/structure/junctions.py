"""Frame-level refinement of the junctions between solved pieces: a local JumpDTW.

The jump DP works at about 10 frames per second on costs averaged along the diagonal, so
its jumps can sit a second or two away from the true cut (a pause, a held chord, a
jump penalty that delays the jump while both sides look alike). Around each junction,
:func:`refine_junction` re-solves the passage at the full rate: from a cell of the first
piece ``radius`` frames before the junction, every B frame is matched to one A frame
(A advancing 0, 1 or 2 frames per B frame), first on the first piece's side and then,
after one jump anywhere, on the second piece's side, ending on a cell of the second piece
``radius`` frames after the junction. The jump goes where the sum of the two local paths'
costs is least; a gap that the pieces left between them is closed the same way.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cross_costs", "refine_junction", "refine_junctions", "self_costs", "splice_costs"]

# a step that holds or skips on A costs this share of the window's median local cost
_STEP_PENALTY = 0.3
# the splice match pays only for the part of the difference between B's discontinuity
# and A's across the jump beyond this share of the larger (two recordings never change
# equally sharply at the same place)
_MATCH_TOL = 0.3


def _forward(block, start):
    """Accumulated cost of B-driven paths from row ``start`` of column 0: A advances
    0, 1 or 2 rows per column, never 0 twice in a row (the slope stays between 1/2 and
    2, so a path cannot sit on a held chord or a pause for long); a step of 0 or 2 costs
    ``_STEP_PENALTY`` times the block's median local cost.

    Returns (acc, held, back): acc the best cost per column and row, held whether that
    best arrived with an A step of 0, back the step into a cell arrived moving (1 or 2
    from a moving cell, 3: one from a held cell)."""
    from .._kernels.jumps import junction_forward

    block = np.ascontiguousarray(block, dtype=np.float64)
    rows, cols = block.shape
    acc = np.empty((cols, rows))
    was_held = np.empty((cols, rows), dtype=np.bool_)
    back = np.empty((cols, rows), dtype=np.int8)
    junction_forward(block, int(start), _STEP_PENALTY * float(np.median(block)), acc,
                     was_held, back)
    return acc, was_held, back


def _trace(fwd, t_end, row):
    """Rows of the best forward path ending at (row, t_end), columns 0..t_end."""
    _acc, was_held, back = fwd
    out = np.empty(t_end + 1, dtype=np.int64)
    held = bool(was_held[t_end, row])
    for t in range(t_end, 0, -1):
        out[t] = row
        if held:
            held = False
        else:
            step = int(back[t, row])
            row -= 1 if step == 3 else step
            held = step == 3
    out[0] = row
    return out


def refine_junction(costs, start_row, end_row, splice=None, *, onsets=None, snap=0):
    """A local JumpDTW on a window of local costs.

    Parameters
    ----------
    costs : (ndarray, ndarray)
        ``(block_p, block_q)``: local costs (A rows x the window's B columns) around
        the first and the second piece.
    start_row : int
        Row of ``block_p`` where the first piece is anchored in column 0.
    end_row : int
        Row of ``block_q`` where the second piece is anchored in the last column.
    splice : ndarray (columns - 1,) or callable, optional
        A bonus subtracted from the cost of each split (entry ``t``: the second piece
        starting at column ``t + 1``), e.g. how discontinuous B itself is there; a
        callable is given ``(ends_p, starts_q)``, the rows (of ``block_p`` and
        ``block_q``) where the best first piece ends at column ``t`` and the best second
        piece starts at column ``t + 1``, and returns the bonus.

    Returns
    -------
    split : int
        First column of the second piece (1 <= split <= columns - 1).
    rows_p : ndarray
        Rows (of ``block_p``) of the first piece, columns 0..split-1.
    rows_q : ndarray
        Rows (of ``block_q``) of the second piece, columns split..columns-1.
    """
    block_p, block_q = (np.asarray(b, dtype=np.float64) for b in costs)
    cols = block_p.shape[1]
    if cols < 2 or block_q.shape[1] != cols:
        raise ValueError("refine_junction: expected two blocks of the same >= 2 columns")
    fwd = _forward(block_p, int(start_row))
    # the second piece, solved backwards: reverse rows and columns
    rev = block_q[::-1, ::-1]
    bwd = _forward(rev, rev.shape[0] - 1 - int(end_row))
    best_f = fwd[0].min(axis=1)           # P ends at column t
    best_b = bwd[0].min(axis=1)[::-1]     # Q starts at column t
    total = best_f[:-1] + best_b[1:]      # split = t + 1
    if callable(splice):
        ends_p = np.argmin(fwd[0][:-1], axis=1)
        starts_q = rev.shape[0] - 1 - np.argmin(bwd[0], axis=1)[::-1][1:]
        splice = splice(ends_p, starts_q)
    if splice is not None:
        total = total - np.asarray(splice, dtype=np.float64)
    split = int(np.argmin(total)) + 1
    split = _snapped(split, onsets, snap, cols)
    t_end = split - 1
    rows_p = _trace(fwd, t_end, int(np.argmin(fwd[0][t_end])))
    t_rev = cols - 1 - split
    rows_rev = _trace(bwd, t_rev, int(np.argmin(bwd[0][t_rev])))
    rows_q = (rev.shape[0] - 1 - rows_rev)[::-1]
    return split, rows_p, rows_q


def _snapped(split, onsets, snap, cols):
    """The split moved back to the latest onset at most ``snap`` columns before it.

    The costs place a split to about a frame or two, and a note that starts just after a
    cut then goes to the first piece, whose path maps it to where A continues: a whole
    section off. Material just before a cut is the end of a note that started earlier
    (a note starting a frame or two before a cut is cut off), so moving the split back
    to an onset costs nothing there."""
    if onsets is None or snap <= 0:
        return split
    onsets = np.asarray(onsets, dtype=np.int64)
    near = onsets[(onsets >= max(1, split - int(snap))) & (onsets < split)
                  & (onsets <= cols - 1)]
    return int(near.max()) if near.size else split


def _cells(rows, cols):
    """Path cells for one row per column, with A steps of 2 filled in (a (1, 0) step
    then a (1, 1) one) so that the path stays continuous."""
    out = []
    for k, (i, j) in enumerate(zip(rows, cols, strict=True)):
        if k and i - out[-1][0] == 2:
            out.append((i - 1, j - 1))
        out.append((int(i), int(j)))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def splice_costs(self_b, c0, c1, width):
    """How discontinuous B is between columns ``t`` and ``t + 1`` for ``t`` in
    ``c0 .. c1 - 1``: the sum over ``i < width`` of the local cost between B frames
    ``t - i`` and ``t + 1 + i`` (``self_b``: B's frames against themselves). Where B was
    cut and joined, the frames either side are unrelated; inside continuous material
    they are alike."""
    ends = np.arange(c0, c1)
    return cross_costs(self_b, ends, ends + 1, width)


def cross_costs(own_costs, ends, starts, width):
    """How unlike a recording is across a jump from frame ``ends[k]`` to frame
    ``starts[k]``: the sum over ``i < width`` of the local cost between its frames
    ``ends[k] - i`` and ``starts[k] + i`` (``own_costs``: the recording's frames
    against themselves); with ``starts = ends + 1``, how discontinuous it is there
    (:func:`splice_costs`). A pair cut off by the recording's ends counts as the mean
    of the others."""
    ends = np.asarray(ends, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    out = np.zeros(len(ends))
    if not len(ends):
        return out
    size = own_costs.n
    r0, r1 = max(0, int(ends.min()) - width + 1), min(size, int(ends.max()) + 1)
    s0, s1 = max(0, int(starts.min())), min(size, int(starts.max()) + width)
    if r1 <= r0 or s1 <= s0:
        return out
    block = np.asarray(own_costs.costs(r0, r1, s0, s1), dtype=np.float64)
    i = np.arange(width)[None, :]
    left, right = ends[:, None] - i, starts[:, None] + i
    ok = (left >= r0) & (left < r1) & (right >= s0) & (right < s1)
    vals = block[np.clip(left - r0, 0, r1 - r0 - 1), np.clip(right - s0, 0, s1 - s0 - 1)]
    sums = np.where(ok, vals, 0.0).sum(axis=1)
    counts = ok.sum(axis=1)
    return np.where(counts > 0, sums * width / np.maximum(counts, 1), 0.0)


def self_costs(source, side="b"):
    """A's (``side="a"``) or B's frames against themselves with ``source``'s features
    and weights (a :class:`core.warping.FeatureTerms` over the whole recordings), or
    None."""
    from ..warping import FeatureTerms
    from ..warping._source import Term

    if not isinstance(source, FeatureTerms) or not source.is_root:
        return None
    return FeatureTerms._trusted([Term(t.name, *((t.x, t.x) if side == "a" else (t.y, t.y)),
                                       t.metric, t.pool) for t in source.terms],
                                 source.weights)


def _excess_splice(self_a, self_b, c0, c1, r0p, r1p, r0q, r1q, width, weight, match_w=0.0):
    """The bonus of each split of columns ``c0 .. c1`` (see :func:`refine_junctions`):
    ``weight`` times how much more discontinuous B is there than A is where the two
    pieces leave and join it (a note or word that starts in both is not a cut), less
    ``match_w`` times how far B's discontinuity there is from A's across the jump."""
    nov_b = splice_costs(self_b, c0, c1, width)
    if self_a is None:
        return weight * nov_b
    from scipy.ndimage import maximum_filter1d

    # A continuing past row r, A arriving at row r; the most discontinuous A is within
    # ``width`` rows (a note's or word's onset a few frames off still explains B's)
    tol = width
    nov_p = splice_costs(self_a, r0p, r1p, width)
    nov_q = splice_costs(self_a, max(0, r0q - 1), r1q, width)
    if tol:
        nov_p = maximum_filter1d(nov_p, 2 * tol + 1, mode="nearest")
        nov_q = maximum_filter1d(nov_q, 2 * tol + 1, mode="nearest")

    def bonus(ends_p, starts_q):
        a_p = nov_p[np.clip(ends_p, 0, len(nov_p) - 1)]
        iq = np.clip(starts_q + r0q - 1 - max(0, r0q - 1), 0, len(nov_q) - 1)
        a_q = nov_q[iq]
        out = weight * np.maximum(0.0, nov_b - np.maximum(a_p, a_q))
        if match_w:
            # a split claims that B's frames before it are A's before ``ends_p`` and
            # those after it A's from ``starts_q`` on, so B across the split should be
            # as unlike itself as A is across that jump: a cut in the middle of a note
            # of similar harmony is barely a discontinuity in B, and a sharp onset of B
            # a little after the cut (which A plays more softly) is no jump
            across = cross_costs(self_a, ends_p + r0p, starts_q + r0q, width)
            gap = np.abs(nov_b - across) - _MATCH_TOL * np.maximum(nov_b, across)
            out = out - match_w * np.maximum(0.0, gap)
        return out

    return bonus


def refine_junctions(pieces, source, radius, max_gap, *, self_b=None, self_a=None,
                     splice_w=0.0, splice_width=1, match_w=0.0, passes=1, settle=0,
                     onsets_b=None, snap=0):
    """Refine every junction between consecutive solved pieces (:class:`core.Alignment`
    with paths in the full recordings' frames) on ``source`` (local costs at the pieces'
    rate): the window spans ``radius`` B frames either side of the junction (and any gap
    of at most ``max_gap`` frames between the pieces). With ``self_b`` (B against
    itself, e.g. :func:`self_costs`) and ``splice_w`` > 0, a split gains ``splice_w``
    times :func:`splice_costs` over ``splice_width`` frames: the jump prefers a place
    where B itself is discontinuous (a cut and join); with ``self_a`` too, only by as
    much as B is more discontinuous there than A is where the first piece leaves it and
    where the second joins it (a note or a word that starts in both is no cut). With
    ``match_w`` > 0 (and ``self_a``, ``splice_w`` > 0), a split also pays ``match_w``
    times how far B's discontinuity across it is from A's across the jump it makes
    (:func:`cross_costs` from the row where the first piece leaves A to the row where
    the second joins it): the pieces model B there as A's frames before the one and
    A's frames from the other on, and B should be as (dis)continuous as that model.

    With ``passes`` > 1, a junction whose split moved more than ``settle`` frames is
    re-solved (up to ``passes`` times in all) in a window centred on its new place: the
    first window's ends lie on the pieces' paths as placed around a junction now known
    to be off, and a piece's path near a misplaced junction may be off too (its second
    piece may start on a stray line that the window's end then holds it to).

    With ``onsets_b`` (B's note or word onsets, in B frames, e.g. from
    :func:`core.pipeline.attack.recording_onsets_s`) and ``snap`` > 0, a split that falls
    at most ``snap`` frames after an onset moves back to it (see :func:`refine_junction`).
    Returns new pieces.
    """
    window = {"radius": radius, "max_gap": max_gap, "self_b": self_b, "self_a": self_a,
              "splice_w": splice_w, "splice_width": splice_width, "match_w": match_w,
              "onsets_b": onsets_b, "snap": snap}
    out = list(pieces)
    for k in range(len(out) - 1):
        before = int(out[k + 1].path[0, 1])
        new = _refine_pair(out[k], out[k + 1], source, **window)
        for _ in range(int(passes) - 1):
            if new is None or abs(int(new[1].path[0, 1]) - before) <= settle:
                break
            before = int(new[1].path[0, 1])
            new = _refine_pair(new[0], new[1], source, **window) or new
        if new is not None:
            out[k], out[k + 1] = new
    return out


def _refine_pair(p, q, source, *, radius, max_gap, self_b=None, self_a=None, splice_w=0.0,
                 splice_width=1, match_w=0.0, onsets_b=None, snap=0):
    """The junction between pieces ``p`` and ``q`` re-solved in a window of ``radius``
    B frames either side (see :func:`refine_junctions`); returns ``(new_p, new_q)``, or
    None when it is left as is."""
    n = source.n
    pp, qp = np.asarray(p.path), np.asarray(q.path)
    p_end, q_start = int(pp[-1, 1]), int(qp[0, 1])
    if q_start - p_end - 1 > max_gap:
        return None
    c0 = max(int(pp[0, 1]) + 1, p_end - radius)
    c1 = min(int(qp[-1, 1]) - 1, q_start + radius)
    if c1 - c0 < 2 or c0 > p_end or c1 < q_start:
        return None
    cols = c1 - c0 + 1
    ip = int(np.argmax(pp[:, 1] == c0))                 # first cell of P in column c0
    iq = len(qp) - 1 - int(np.argmax(qp[::-1, 1] == c1))  # last cell of Q in column c1
    row_p, row_q = int(pp[ip, 0]), int(qp[iq, 0])
    p0, p1 = row_p, min(n, row_p + 2 * cols)
    q0, q1 = max(0, row_q - 2 * cols + 1), row_q + 1
    block_p = source.costs(p0, p1, c0, c1 + 1)
    block_q = source.costs(q0, q1, c0, c1 + 1)
    splice = None
    if self_b is not None and splice_w > 0:
        splice = _excess_splice(self_a, self_b, c0, c1, p0, p1, q0, q1, int(splice_width),
                                splice_w, match_w)
    onsets = None
    if onsets_b is not None:
        onsets = np.round(np.asarray(onsets_b, dtype=np.float64)).astype(np.int64) - c0
        onsets = onsets[(onsets >= 1) & (onsets < cols)]
    split, rows_p, rows_q = refine_junction((block_p, block_q), 0, row_q - q0, splice,
                                            onsets=onsets, snap=snap)
    cells_p = _cells(rows_p + p0, np.arange(c0, c0 + split))
    cells_q = _cells(rows_q + q0, np.arange(c0 + split, c1 + 1))
    new_p = p.replace(path=np.vstack([pp[:ip], cells_p]),
                      confidence=_confidence(p, ip, len(cells_p), True))
    new_q = q.replace(path=np.vstack([cells_q, qp[iq + 1:]]),
                      confidence=_confidence(q, iq, len(cells_q), False))
    return new_p, new_q


def _confidence(piece, index, count, head):
    """The piece's confidence with the refined cells taking the anchor's value."""
    if piece.confidence is None:
        return None
    conf = np.asarray(piece.confidence)
    if head:
        return np.r_[conf[:index], np.full(count, conf[index])]
    return np.r_[np.full(count, conf[index]), conf[index + 1:]]
