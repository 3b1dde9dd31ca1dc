"""Laying a corrected path onto the base path: the knots a path passes through on a
diagonal, the engine's re-solve bounded to the stretches next to the knots that left the
base path, and the splice back onto the base path where the new path meets it.

:func:`core.constraints.recompute` uses these; they work on cells ``(i, j)`` of one frame
grid and on :class:`~core.alignment.Alignment` results of :func:`core.warping.resolve`
(their ``diagnostics["segments"]``).
"""

from __future__ import annotations

import math

import numpy as np

from .alignment import Alignment
from .errors import AlignmentError

__all__ = ["BOUNDED_SPAN_S", "SPLICE_RUN", "THROUGH_FRAMES", "bounded_resolve",
           "diagonal_knot_steps", "has_cell", "index_of", "linear_cells", "path_rows",
           "splice_engine", "splice_to_base", "through_knots"]


def linear_cells(start, end) -> np.ndarray:
    """A straight, continuous path of cells from ``start`` to ``end`` (inclusive)."""
    (i0, j0), (i1, j1) = start, end
    n = max(i1 - i0, j1 - j0) + 1
    k = np.arange(n)
    d = max(n - 1, 1)
    i = np.round(i0 + (i1 - i0) * k / d).astype(np.int64)
    j = np.round(j0 + (j1 - j0) * k / d).astype(np.int64)
    return np.column_stack([i, j])


#: the path runs diagonally through the cells (i + d, j + d), |d| <= this, of an anchor
THROUGH_FRAMES = 2


def through_knots(knots, anchors, n_a, n_b):
    """The knots plus, for each anchor, its diagonal neighbours (i + d, j + d) for
    0 < |d| <= :data:`THROUGH_FRAMES`, where they fit: the path crosses the anchor on a
    diagonal, so that both the A -> B and the B -> A mappings pass through it. A path
    that reached the anchor cell in the middle of a vertical or horizontal run would map
    its time elsewhere; so would one whose run ends at (i - 1, j - 1): a mapping that
    averages the cells of a frame (as scorers do) and interpolates between frames reads
    frames i - 1 and i + 1 for a time of frame i, and with the diagonal two frames wide
    each of them holds a single cell (measured: an anchor 220 ms off the features' path
    mapped 14 ms away with one diagonal frame, 2 ms with two)."""
    out = set(knots)
    order = [d for k in range(1, THROUGH_FRAMES + 1) for d in (-k, k)]
    for i, j in anchors:
        for d in order:
            c = (i + d, j + d)
            if not (0 <= c[0] < n_a and 0 <= c[1] < n_b) or c in out:
                continue
            inner = d - (1 if d > 0 else -1)
            if inner and (i + inner, j + inner) not in out:
                continue  # the diagonal stops where a knot is in the way
            trial = sorted(out | {c})
            k = trial.index(c)
            prev = trial[k - 1] if k else None
            nxt = trial[k + 1] if k + 1 < len(trial) else None
            if (prev is None or (prev[0] < c[0] and prev[1] < c[1])) \
                    and (nxt is None or (c[0] < nxt[0] and c[1] < nxt[1])):
                out.add(c)
    return sorted(out)


def _map_segments(engine: Alignment, change) -> Alignment:
    """``engine`` with the piece of each of its segments replaced by ``change(record,
    piece)`` (a new piece with the same ends, or None to keep it; the confidence of a
    new cell is the engine's at the nearest row of the old piece); the segment records
    follow. The engine itself when nothing changed or the records do not tile the path."""
    segs = engine.diagnostics.get("segments")
    if not segs:
        return engine
    path = np.asarray(engine.path)
    conf = None if engine.confidence is None else np.asarray(engine.confidence)
    pieces, cpieces, records, length, changed = [], [], [], 0, False
    for k, rec in enumerate(segs):
        a, n = rec["path_start"], rec["path_length"]
        piece = path[a:a + n]
        cpiece = None if conf is None else conf[a:a + n]
        new = change(rec, piece) if n > 2 and tuple(piece[0]) == tuple(rec["start"]) \
            and tuple(piece[-1]) == tuple(rec["end"]) else None
        if new is not None and (len(new) != n or not np.array_equal(new, piece)):
            if cpiece is not None:
                cpiece = cpiece[np.clip(np.searchsorted(piece[:, 0], new[:, 0]), 0, n - 1)]
            piece = new
            changed = True
        records.append(dict(rec, path_start=length - (1 if k else 0), path_length=len(piece)))
        pieces.append(piece if k == 0 else piece[1:])
        if cpiece is not None:
            cpieces.append(cpiece if k == 0 else cpiece[1:])
        length += len(piece) - (1 if k else 0)
    if not changed or length != sum(len(p) for p in pieces):
        return engine
    return engine.replace(path=np.concatenate(pieces),
                          confidence=None if conf is None else np.concatenate(cpieces),
                          diagnostics=dict(engine.diagnostics, segments=records))


def diagonal_knot_steps(engine: Alignment) -> Alignment:
    """The engine's path with every segment between two diagonally adjacent knots made
    one diagonal step (a step pattern may prefer a horizontal and a vertical step there,
    which :func:`through_knots` means to rule out); its segment records follow."""
    return _map_segments(engine, lambda rec, piece: piece[[0, -1]] if tuple(
        np.subtract(rec["end"], rec["start"])) == (1, 1) else None)


#: the exact re-solve of a knot off the base path first solves only this far (s of A)
#: each side of it, to a cell of the base path (the splice keeps the base beyond the
#: place where the new path meets it), or 2.5 times as far as the knot is off the base
#: path (on B); a stretch is doubled while the new path meets the base only in its half
#: next to the stop
BOUNDED_SPAN_S = 8.0
_BOUNDED_OFF = 2.5


def bounded_resolve(start: Alignment, base: Alignment, knots, inputs, progress,
                     cancel) -> Alignment:
    """The exact re-solve through ``knots``, spliced back onto the base path, solving
    only near the knots that left it.

    Splicing keeps the base path wherever the new one meets it, so a segment of
    :func:`core.warping.resolve` needs solving only from a knot off the base path to
    where the path rejoins the base. Each such knot gets a stop on the base path
    :data:`BOUNDED_SPAN_S` away on A on each side (further for a knot far off the base;
    none where another knot comes first); the base path between stops is kept as it is
    (``resolve(..., kept=...)``), the pieces from a knot to its stops are solved. Where
    a solved piece meets the base only in the half of its stretch next to the stop (the
    stop may have bent it), that stretch is doubled and solved again, until its stop
    reaches the next knot or an end: then it is the spliced whole-segment re-solve.
    Moving an anchor between two 60 s segments thus solves about 8 s each side instead
    of 60 s."""
    from .warping import resolve

    base_path = np.asarray(base.path, dtype=np.int64)
    table = path_rows(base_path)
    knots = [tuple(map(int, k)) for k in knots]
    on_base = [has_cell(base_path, k) for k in knots]
    off_base = {k for k, b in zip(knots, on_base, strict=True) if not b}
    corners = (tuple(map(int, base_path[0])), tuple(map(int, base_path[-1])))
    conf = None if base.confidence is None else np.asarray(base.confidence)
    per_cell = (float(base.distance) / max(len(base_path) - 1, 1)
                if math.isfinite(float(base.distance)) else 0.0)
    base_segs = base.diagnostics.get("segments") or [{}]
    record = {k: v for k, v in base_segs[0].items() if k not in ("stages", "search_window")}
    span0 = max(1, int(round(BOUNDED_SPAN_S * float(base.rate_a_hz))))
    b_to_a = float(base.rate_a_hz) / float(base.rate_b_hz)
    spans = {}
    for k in off_base:  # as far again as the knot is off the base path, and more
        r = min(max(k[0] - table[0], 0), len(table[1]) - 1)
        off = max(table[1][r] - k[1], k[1] - table[2][r], 0) * b_to_a
        spans[k] = max(span0, int(math.ceil(_BOUNDED_OFF * off)))
    while True:
        stops = _bounded_stops(knots, on_base, corners, base_path, spans)
        kept = {}
        points = sorted(set(knots) | {s for s, _, _ in stops})
        ends = sorted(set(points) | {c for c in corners
                                     if all(c[0] <= p[0] and c[1] <= p[1] for p in points)
                                     or all(c[0] >= p[0] and c[1] >= p[1] for p in points)})
        for a, b in zip(ends[:-1], ends[1:], strict=False):
            if a in off_base or b in off_base:
                continue  # next to a knot off the base path: solved (or from ``start``)
            ka, kb = index_of(base_path, a), index_of(base_path, b)
            piece = base_path[ka:kb + 1]
            rec = dict(record, start=a, end=b, reused=True, cells=0, memory_bytes=0)
            outline = _outline_rows(base_segs, a[0], b[0])
            if outline is not None:
                rec["search_window"] = outline  # where the base's search looked there
            kept[(a, b)] = (piece, per_cell * (len(piece) - 1), rec,
                            None if conf is None else conf[ka:kb + 1])
        engine = resolve(start, np.array(points, dtype=np.int64).reshape(-1, 2),
                         progress=progress, cancel=cancel, kept=kept, **inputs)
        engine = splice_engine(diagonal_knot_steps(engine), base_path)
        path = np.asarray(engine.path)
        bent = {knot for stop, side, knot in stops
                if not _meets_early(path, stop, side, knot[0], table)}
        if not bent:
            break
        for knot in bent:
            spans[knot] *= 2
        start = engine  # its segments next to the other knots are reused
    if stops:  # the stops are not the user's: the result's anchors are the knots
        params = dict(engine.params)
        params["anchors"] = [tuple(k) for k in knots]
        params["anchors_s"] = [[k[0] / float(engine.rate_a_hz), k[1] / float(engine.rate_b_hz)]
                               for k in knots]
        engine = engine.replace(params=params)
    return engine


def _outline_rows(segments, r0, r1):
    """The search outline (``{"rows", "lo", "hi"}``, row blocks) of the base's segment
    records cut to rows ``r0 .. r1``, or None where the base recorded none."""
    for rec in segments:
        outline = rec.get("search_window")
        if outline is None or not len(outline.get("lo", ())):
            continue
        rows = np.asarray(outline["rows"], dtype=np.int64)
        if rows[0] > r0 or rows[-1] <= r1:
            continue
        k0 = int(np.searchsorted(rows, r0, side="right")) - 1
        k1 = int(np.searchsorted(rows, r1, side="right")) - 1
        cut = rows[k0:k1 + 2].copy()
        cut[0], cut[-1] = r0, r1 + 1
        return {"rows": cut.tolist(), "lo": list(outline["lo"][k0:k1 + 1]),
                "hi": list(outline["hi"][k0:k1 + 1])}
    return None


def _bounded_stops(knots, on_base, corners, base_path, spans):
    """The stops of :func:`bounded_resolve`: ``[(cell, side, knot)]``, cells of the
    base path at least ``spans[knot]`` rows after (side +1) a knot off the base path,
    and past its column, or before (side -1) one; strictly between the knot and its
    neighbouring knot (or corner, or that neighbour's own stop); none where the two
    knots' stretches would overlap."""
    stops = []
    pts = [corners[0]] + list(knots) + [corners[1]]
    off = [False] + list(not b for b in on_base) + [False]
    rows, cols = base_path[:, 0], base_path[:, 1]
    last = len(base_path) - 1
    for k in range(len(pts) - 1):
        a, b = pts[k], pts[k + 1]
        sa = spans.get(a, 0) if off[k] else 0
        sb = spans.get(b, 0) if off[k + 1] else 0
        if b[0] - a[0] <= sa + sb + 2:
            continue
        lo = a
        if off[k]:
            # the first base cell span rows on and past the knot's column
            q = max(int(np.searchsorted(rows, a[0] + sa, side="left")),
                    int(np.searchsorted(cols, a[1], side="right")))
            c = tuple(map(int, base_path[min(q, last)]))
            if a[0] < c[0] < b[0] and a[1] < c[1] <= b[1]:
                stops.append((c, 1, a))
                lo = c
        if off[k + 1]:
            # the last base cell span rows back and before the knot's column
            q = min(int(np.searchsorted(rows, b[0] - sb, side="right")),
                    int(np.searchsorted(cols, b[1], side="left"))) - 1
            c = tuple(map(int, base_path[max(q, 0)]))
            if lo[0] < c[0] < b[0] and lo[1] < c[1] < b[1]:
                stops.append((c, -1, b))
    return stops


def _meets_early(path, stop, side, knot_row, table) -> bool:
    """Whether ``path`` meets the base path (:data:`SPLICE_RUN` steps within a frame)
    in the half of a stop's stretch (knot to stop) next to the knot: the stop, in the
    other half, did not bend it."""
    rows = path[:, 0]
    mid = (int(stop[0]) + int(knot_row)) // 2
    if side > 0:
        lo = int(np.searchsorted(rows, knot_row, side="left"))
        hi = int(np.searchsorted(rows, mid, side="right"))
    else:
        lo = int(np.searchsorted(rows, mid, side="left"))
        hi = int(np.searchsorted(rows, knot_row, side="right"))
    piece = path[lo:hi]
    if len(piece) == 0:
        return True
    return _first_run(_near_base(piece, table), SPLICE_RUN) is not None


def splice_engine(engine: Alignment, base_path: np.ndarray) -> Alignment:
    """The exact re-solve with each newly solved segment spliced back onto the base path
    where it meets it (:func:`splice_to_base`); the confidence of a cell is the engine's
    at its row, the segment records follow (a later re-solve reuses the spliced
    segments)."""
    table = path_rows(base_path)
    return _map_segments(engine, lambda rec, piece: None if rec.get("reused") else
                         splice_to_base(piece, base_path, table=table))


#: a re-solved corridor segment has met the base path when this many consecutive steps
#: lie within one frame of it (:func:`splice_to_base`). 2 on bowed_piano and bwv66.6
#: (benchmarks/accuracy/window_anchors.py): 1 and 2 give the same paths; 3 leaves one of
#: bowed_piano's anchors 188 ms off within 2 s (the chroma path runs beside the base
#: there and meets it only in short touches), 5 also the path away from the anchors
SPLICE_RUN = 2


def path_rows(base_path: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(first row, lowest column per row, highest column per row) of a continuous path:
    what :func:`splice_to_base` compares a piece with (compute it once per base)."""
    rows = base_path[:, 0]
    r0 = int(rows[0])
    n = int(rows[-1]) - r0 + 1
    lo = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    np.minimum.at(lo, rows - r0, base_path[:, 1])
    np.maximum.at(hi, rows - r0, base_path[:, 1])
    return r0, lo, hi


def _near_base(piece: np.ndarray, table) -> np.ndarray:
    """Per cell of ``piece``: within one frame (of B) of the base path on its row."""
    r0, lo, hi = table
    k = piece[:, 0] - r0
    ok = (k >= 0) & (k < len(lo))
    k = np.clip(k, 0, len(lo) - 1)
    return ok & (piece[:, 1] >= lo[k] - 1) & (piece[:, 1] <= hi[k] + 1)


def _first_run(flags: np.ndarray, run: int) -> int | None:
    """The first index that starts ``run`` consecutive True values of ``flags`` (or fewer
    that reach its end), None without one."""
    n = len(flags)
    if not n:
        return None
    false = np.flatnonzero(~flags)
    k = np.arange(n)
    nxt = np.searchsorted(false, k, side="left")
    end = np.where(nxt < len(false), false[np.minimum(nxt, max(len(false) - 1, 0))]
                   if len(false) else n, n)
    ok = flags & ((end - k >= run) | (end == n))
    hit = np.flatnonzero(ok)
    return int(hit[0]) if len(hit) else None


def splice_to_base(piece: np.ndarray, base_path: np.ndarray, run: int = SPLICE_RUN,
                   table=None) -> np.ndarray:
    """``piece`` (a re-solved segment, continuous and monotone) with the base path laid in
    wherever the piece has met it: from the first cell where it comes within one frame of
    ``base_path`` for ``run`` consecutive steps to the last such cell, the base's own cells
    (joined to the piece by straight steps). The ends of ``piece`` are kept, so the knots
    still hold; a piece that never meets the base is returned as it is. ``table``:
    :func:`path_rows` of ``base_path``, when already computed."""
    piece = np.asarray(piece, dtype=np.int64)
    base_path = np.asarray(base_path, dtype=np.int64)
    if len(piece) < 3 or len(base_path) < 2:
        return piece
    near = _near_base(piece, path_rows(base_path) if table is None else table)
    k1 = _first_run(near, run)
    back = _first_run(near[::-1], run)
    if k1 is None or back is None:
        return piece
    k2 = len(piece) - 1 - back
    if k2 <= k1:
        return piece
    p1, p2 = piece[k1], piece[k2]
    # the base path is monotone in both columns: the first of its cells at or after p1,
    # the last at or before p2
    q1 = max(int(np.searchsorted(base_path[:, 0], p1[0], side="left")),
             int(np.searchsorted(base_path[:, 1], p1[1], side="left")))
    q2 = min(int(np.searchsorted(base_path[:, 0], p2[0], side="right")),
             int(np.searchsorted(base_path[:, 1], p2[1], side="right"))) - 1
    if q1 >= len(base_path) or q2 < 0:
        return piece
    if q2 < q1 or np.any(base_path[q1] > base_path[q2]):
        return piece
    parts = [piece[:k1], linear_cells(tuple(p1), tuple(base_path[q1]))]
    if q2 > q1:
        parts.append(base_path[q1 + 1:q2 + 1])
    parts.append(linear_cells(tuple(base_path[q2]), tuple(p2))[1:])
    parts.append(piece[k2 + 1:])
    out = np.concatenate(parts).astype(np.int64)
    steps = np.diff(out, axis=0)
    if np.any(steps < 0) or np.any(steps > 1) or np.any(np.all(steps == 0, axis=1)):
        return piece  # not a valid path (cannot happen; kept safe)
    return out


def _find(path, cell) -> int:
    """The index of ``cell`` on ``path`` (rows non-decreasing), -1 when it is not there."""
    k = int(np.searchsorted(path[:, 0], cell[0], side="left"))
    while k < len(path) and path[k, 0] == cell[0]:
        if path[k, 1] == cell[1]:
            return k
        k += 1
    return -1


def has_cell(path, cell) -> bool:
    return _find(path, cell) >= 0


def index_of(path, cell) -> int:
    k = _find(path, cell)
    if k < 0:
        raise AlignmentError(f"constraints: the path misses the knot {cell}")
    return k
