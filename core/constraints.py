"""Manual corrections as constraints: anchors and regions, and the path recomputed from
them (Qt-free).

A correction is never a hand-drawn path: it is a constraint the path is recomputed
from, so a new analysis (other features, another method, new parameters) keeps it.

- An :class:`Anchor` is a point (time on A, time on B) the path passes through (within
  one frame). A *hard* anchor always holds; a *soft* one holds unless it contradicts the
  hard ones (it would make the path go back in time), then it is left out. ``origin`` says
  who made it: ``"hand"`` or ``"proposed"`` (by the program, e.g. at a doubtful spot).
- A :class:`Region` is a span of A marked ``"locked"`` (the path as it was when locked,
  cell for cell), ``"linear"`` (a straight line between its ends) or ``"free"`` (no
  constraint: marking a span free removes other marks there).

:func:`recompute` makes a result's path from a base result and its
:class:`Constraints`:

- ``mode="exact"`` for a DTW result that keeps its segments (the default pipeline's and
  :func:`core.dtw`'s): :func:`core.warping.resolve` solves the segments between the
  anchors with the result's own recipe; only segments next to a change are solved.
- ``mode="corridor"`` for every result (CTW, OT, soft-DTW, a file of another tool): the
  base path is the starting path; a segment between two knots (anchors, ends, region
  ends) that the base path already passes through is kept as it is, any other one is
  solved by exact DTW on the given features inside a corridor around the base path
  stretched to meet the knots, and where the solved path meets the base path again
  (within one frame) the base is kept from there on (``splice``). A segment of an
  earlier recompute with the same ends is reused (``previous``): moving one anchor
  solves the two segments next to it.

Locked and linear regions are then laid in, cell for cell, between their end knots.
Everything here is plain data (:meth:`Constraints.to_data`), stored with a result in
:class:`core.project.Project`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence

import numpy as np

from .alignment import Alignment
from .errors import AlignmentError, FormatError
from .splicing import (
    THROUGH_FRAMES,
    bounded_resolve,
    diagonal_knot_steps,
    has_cell,
    index_of,
    linear_cells,
    path_rows,
    splice_to_base,
    through_knots,
)

__all__ = ["Anchor", "Region", "Constraints", "ORIGINS", "REGION_KINDS", "read_anchor_file",
           "parse_anchor_text", "recompute", "anchor_cells", "can_resolve_exactly",
           "lock_region", "linear_cells", "doubtful_spots", "ranked_doubtful_spots",
           "splice_to_base"]

ORIGINS = ("hand", "proposed")
REGION_KINDS = ("locked", "linear", "free")
#: corridor around the stretched base path, seconds each side
DEFAULT_RADIUS_S = 1.0


def _time(name: str, value) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a time in seconds, got {value!r}") from None
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"{name}: expected a finite non-negative time, got {value!r}")
    return t


@dataclasses.dataclass(frozen=True)
class Anchor:
    """A point the path passes through: ``time_a_s`` on A, ``time_b_s`` on B."""

    time_a_s: float
    time_b_s: float
    hard: bool = True
    origin: str = "hand"

    def __post_init__(self):
        object.__setattr__(self, "time_a_s", _time("anchor time_a_s", self.time_a_s))
        object.__setattr__(self, "time_b_s", _time("anchor time_b_s", self.time_b_s))
        object.__setattr__(self, "hard", bool(self.hard))
        if self.origin not in ORIGINS:
            raise ValueError(f"anchor origin: expected one of {ORIGINS}, got {self.origin!r}")

    def to_data(self) -> dict:
        return {"time_a_s": self.time_a_s, "time_b_s": self.time_b_s, "hard": self.hard,
                "origin": self.origin}

    @classmethod
    def from_data(cls, data: Mapping) -> Anchor:
        return cls(data["time_a_s"], data["time_b_s"], bool(data.get("hard", True)),
                   data.get("origin", "hand"))

    def transposed(self) -> Anchor:
        return dataclasses.replace(self, time_a_s=self.time_b_s, time_b_s=self.time_a_s)


@dataclasses.dataclass(frozen=True)
class Region:
    """A span ``[start_a_s, end_a_s]`` of A marked ``kind``.

    ``start_b_s`` / ``end_b_s`` (optional) fix the B times of the ends (a linear region
    then runs between the two given points; without them the ends are where the path
    enters and leaves the span). A locked region keeps ``cells``, the path inside it when
    it was locked (rows ``(i, j)`` on a grid of ``rates`` Hz): :func:`lock_region` makes
    one.
    """

    start_a_s: float
    end_a_s: float
    kind: str
    start_b_s: float | None = None
    end_b_s: float | None = None
    cells: tuple[tuple[int, int], ...] | None = None
    rates: tuple[float, float] | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "start_a_s", _time("region start_a_s", self.start_a_s))
        set_(self, "end_a_s", _time("region end_a_s", self.end_a_s))
        if self.end_a_s <= self.start_a_s:
            raise ValueError(f"region: end {self.end_a_s} s is not after start "
                             f"{self.start_a_s} s")
        if self.kind not in REGION_KINDS:
            raise ValueError(f"region kind: expected one of {REGION_KINDS}, got {self.kind!r}")
        for name in ("start_b_s", "end_b_s"):
            if getattr(self, name) is not None:
                set_(self, name, _time(f"region {name}", getattr(self, name)))
        if self.cells is not None:
            cells = np.asarray(self.cells, dtype=np.int64).reshape(-1, 2)
            set_(self, "cells", tuple(map(tuple, cells.tolist())))
            if self.rates is None:
                raise ValueError("region: locked cells need their rates")
        if self.rates is not None:
            set_(self, "rates", (float(self.rates[0]), float(self.rates[1])))
        if self.kind == "locked" and not self.cells:
            raise ValueError("region: a locked region keeps the path it locks (cells); "
                             "make one with lock_region")

    def to_data(self) -> dict:
        return {"start_a_s": self.start_a_s, "end_a_s": self.end_a_s, "kind": self.kind,
                "start_b_s": self.start_b_s, "end_b_s": self.end_b_s,
                "cells": None if self.cells is None else [list(c) for c in self.cells],
                "rates": None if self.rates is None else list(self.rates)}

    @classmethod
    def from_data(cls, data: Mapping) -> Region:
        cells = data.get("cells")
        rates = data.get("rates")
        return cls(data["start_a_s"], data["end_a_s"], data["kind"], data.get("start_b_s"),
                   data.get("end_b_s"), None if cells is None else tuple(map(tuple, cells)),
                   None if rates is None else tuple(rates))

    def transposed(self) -> Region:
        """Seen from B; a region without B ends cannot be turned (ValueError)."""
        if self.kind == "locked":
            ta = np.asarray(self.cells)[:, ::-1]
            return Region(self.cells[0][1] / self.rates[1], self.cells[-1][1] / self.rates[1],
                          "locked", self.start_a_s, self.end_a_s,
                          tuple(map(tuple, ta.tolist())), (self.rates[1], self.rates[0]))
        if self.start_b_s is None or self.end_b_s is None:
            raise ValueError("region: needs its B ends to be seen from B")
        return Region(self.start_b_s, self.end_b_s, self.kind, self.start_a_s, self.end_a_s)


@dataclasses.dataclass(frozen=True)
class Constraints:
    """The anchors (sorted by A) and regions (sorted, not overlapping) of a result."""

    anchors: tuple[Anchor, ...] = ()
    regions: tuple[Region, ...] = ()

    def __post_init__(self):
        anchors = tuple(sorted(self.anchors, key=lambda a: (a.time_a_s, a.time_b_s)))
        regions = tuple(r for r in sorted(self.regions, key=lambda r: r.start_a_s)
                        if r.kind != "free")
        for a in anchors:
            if not isinstance(a, Anchor):
                raise TypeError(f"anchors: expected Anchor, got {type(a).__name__}")
        for r0, r1 in zip(regions, regions[1:], strict=False):
            if r1.start_a_s < r0.end_a_s:
                raise ValueError("regions: overlapping regions")
        object.__setattr__(self, "anchors", anchors)
        object.__setattr__(self, "regions", regions)

    def __bool__(self) -> bool:
        return bool(self.anchors or self.regions)

    # ------------------------------------------------------------------ edits
    def with_anchor(self, anchor: Anchor) -> Constraints:
        """Add an anchor; one at the same time of A (within 1 ms) is replaced."""
        kept = [a for a in self.anchors if abs(a.time_a_s - anchor.time_a_s) > 1e-3]
        return dataclasses.replace(self, anchors=(*kept, anchor))

    def without_anchor(self, index: int) -> Constraints:
        anchors = list(self.anchors)
        del anchors[index]
        return dataclasses.replace(self, anchors=tuple(anchors))

    def moved_anchor(self, index: int, time_a_s: float, time_b_s: float) -> Constraints:
        """Move anchor ``index``; it stays strictly between its neighbours."""
        lo_a, hi_a, lo_b, hi_b = self.bounds(index)
        eps = 1e-3
        ta = min(max(float(time_a_s), lo_a + eps), hi_a - eps) if hi_a - lo_a > 2 * eps \
            else 0.5 * (lo_a + hi_a)
        tb = min(max(float(time_b_s), lo_b + eps), hi_b - eps) if hi_b - lo_b > 2 * eps \
            else 0.5 * (lo_b + hi_b)
        anchors = list(self.anchors)
        anchors[index] = dataclasses.replace(anchors[index], time_a_s=max(ta, 0.0),
                                             time_b_s=max(tb, 0.0))
        return dataclasses.replace(self, anchors=tuple(anchors))

    def bounds(self, index: int) -> tuple[float, float, float, float]:
        """The box anchor ``index`` may move in: between its neighbours (A and B)."""
        prev = self.anchors[index - 1] if index > 0 else None
        nxt = self.anchors[index + 1] if index + 1 < len(self.anchors) else None
        return (prev.time_a_s if prev else 0.0, nxt.time_a_s if nxt else math.inf,
                prev.time_b_s if prev else 0.0, nxt.time_b_s if nxt else math.inf)

    def with_region(self, region: Region) -> Constraints:
        """Mark a span: other regions are cut back where they overlap it (a ``"free"``
        region only clears the span)."""
        out = []
        for r in self.regions:
            if r.end_a_s <= region.start_a_s or r.start_a_s >= region.end_a_s:
                out.append(r)
            elif r.kind == "linear" and r.start_b_s is None:
                # the remaining parts of an open linear region
                if r.start_a_s < region.start_a_s:
                    out.append(dataclasses.replace(r, end_a_s=region.start_a_s))
                if r.end_a_s > region.end_a_s:
                    out.append(dataclasses.replace(r, start_a_s=region.end_a_s))
            # a locked region or a linear one with fixed ends is dropped whole
        if region.kind != "free":
            out.append(region)
        return dataclasses.replace(self, regions=tuple(out))

    def transposed(self) -> Constraints:
        return Constraints(tuple(a.transposed() for a in self.anchors),
                           tuple(r.transposed() for r in self.regions))

    def to_data(self) -> dict:
        return {"anchors": [a.to_data() for a in self.anchors],
                "regions": [r.to_data() for r in self.regions]}

    @classmethod
    def from_data(cls, data: Mapping | None) -> Constraints:
        if not data:
            return cls()
        return cls(tuple(Anchor.from_data(a) for a in data.get("anchors", ())),
                   tuple(Region.from_data(r) for r in data.get("regions", ())))

    @classmethod
    def of_times(cls, pairs, *, hard=True, origin="hand") -> Constraints:
        """Anchors from (time_a_s, time_b_s) pairs (or (ta, tb, hard) rows)."""
        out = []
        for row in pairs:
            row = tuple(row)
            out.append(Anchor(row[0], row[1], bool(row[2]) if len(row) > 2 else hard, origin))
        return cls(tuple(out))


# ---------------------------------------------------------------------------- files
_TRUE = ("1", "true", "yes", "hard", "y", "t")
_FALSE = ("0", "false", "no", "soft", "n", "f", "")


def parse_anchor_text(text: str, path) -> tuple[Anchor, ...]:
    """Anchors from CSV text: ``time_a_s,time_b_s`` and an optional ``hard`` column
    (1/0, true/false, yes/no, hard/soft; default hard). A header is optional when the
    columns are in that order; ``#`` starts a comment line.

    Raises
    ------
    FormatError
        Naming the file, the line and the problem.
    """
    from .formats.csv_pairs import parse_time_pairs

    lines = [ln for ln in text.splitlines()]
    header = None
    delimiter = None
    first_data = None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        delimiter = next((d for d in ("\t", ";", ",") if d in line), " ")
        fields = line.split() if delimiter == " " else [f.strip() for f in line.split(delimiter)]
        try:
            float(fields[0].replace(",", "."))
            first_data = number
        except ValueError:
            header = [f.strip().strip('"').lower() for f in fields]
        break
    hard_col = None
    if header is not None and "hard" in header:
        hard_col = header.index("hard")
    elif header is None and first_data is not None:
        fields = _fields(lines[first_data - 1], delimiter)
        if len(fields) == 3:
            hard_col = 2
            header = ["time_a_s", "time_b_s", "hard"]
    pairs_text = text
    if hard_col is not None:
        # the times as a two-column text (same line numbers), the flags apart
        out_lines, flags = [], {}
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                out_lines.append("")
                continue
            fields = _fields(line, delimiter)
            if header is not None and [f.strip().strip('"').lower() for f in fields] == header:
                out_lines.append("time_a_s,time_b_s")
                continue
            if len(fields) != len(header):
                raise FormatError(path, f"expected {len(header)} columns, found {len(fields)}",
                                  line=number)
            a_col = header.index("time_a_s") if "time_a_s" in header else 0
            b_col = header.index("time_b_s") if "time_b_s" in header else 1
            out_lines.append(f"{fields[a_col]},{fields[b_col]}".replace(",", ";", 0))
            flag = fields[hard_col].strip().strip('"').lower()
            if flag in _TRUE:
                flags[number] = True
            elif flag in _FALSE:
                flags[number] = False
            else:
                raise FormatError(path, f"hard: expected 1/0, true/false, yes/no or "
                                  f"hard/soft, got {fields[hard_col]!r}", line=number)
        pairs_text = "\n".join(out_lines)
        if delimiter == ";":  # decimal commas: keep them apart from the separator
            pairs_text = "\n".join(ln.replace(",", ";", 1) if ln and ln[0].isdigit() else ln
                                   for ln in out_lines)
    times, line_numbers, _ = parse_time_pairs(pairs_text, path)
    out = []
    for (ta, tb), number in zip(times, line_numbers, strict=True):
        hard = True if hard_col is None else flags[int(number)]
        out.append(Anchor(float(ta), float(tb), hard, "hand"))
    check_monotone(out, path)
    return tuple(sorted(out, key=lambda a: a.time_a_s))


def _fields(line: str, delimiter: str | None) -> list[str]:
    line = line.strip()
    return line.split() if delimiter in (None, " ") else [f.strip() for f in line.split(delimiter)]


def check_monotone(anchors: Sequence[Anchor], path) -> None:
    """FormatError when two hard anchors contradict each other (one later on A and
    earlier on B than the other)."""
    hard = sorted((a for a in anchors if a.hard), key=lambda a: (a.time_a_s, a.time_b_s))
    for a0, a1 in zip(hard, hard[1:], strict=False):
        if a1.time_b_s < a0.time_b_s:
            raise FormatError(path, f"anchors ({a0.time_a_s:g}, {a0.time_b_s:g}) and "
                              f"({a1.time_a_s:g}, {a1.time_b_s:g}) contradict each other "
                              "(later on A, earlier on B): no path passes through both")


def read_anchor_file(path) -> tuple[Anchor, ...]:
    """The anchors of a CSV file (see :func:`parse_anchor_text`); FormatError naming the
    file and the problem."""
    from .formats.csv_pairs import read_text

    return parse_anchor_text(read_text(path), path)


# ---------------------------------------------------------------------------- solving
def _frames(t: float, rate: float, n: int) -> int:
    return int(min(max(round(t * rate), 0), n - 1))


def anchor_cells(constraints: Constraints, rate_a_hz: float, rate_b_hz: float, n_a: int,
                 n_b: int) -> np.ndarray:
    """The cells the path must pass through: every hard anchor, and the soft ones that
    agree with them (kept in order; a soft anchor that would make the path go back is
    left out). Shape (K, 2), sorted, unique."""
    hard = [(_frames(a.time_a_s, rate_a_hz, n_a), _frames(a.time_b_s, rate_b_hz, n_b))
            for a in constraints.anchors if a.hard]
    soft = [(_frames(a.time_a_s, rate_a_hz, n_a), _frames(a.time_b_s, rate_b_hz, n_b))
            for a in constraints.anchors if not a.hard]
    cells = sorted(set(hard))
    for c in soft:
        trial = sorted(set(cells) | {c})
        k = trial.index(c)
        before = trial[k - 1] if k > 0 else None
        after = trial[k + 1] if k + 1 < len(trial) else None
        if (before is None or before[1] <= c[1]) and (after is None or c[1] <= after[1]):
            cells = trial
    out = np.array(cells, dtype=np.int64).reshape(-1, 2)
    if out.shape[0] > 1 and np.any(np.diff(out[:, 1]) < 0):
        raise AlignmentError("anchors: the hard anchors contradict each other (one is "
                             "later on A and earlier on B than another)")
    return out


def can_resolve_exactly(base: Alignment) -> bool:
    """True when ``base`` is a DTW result that keeps its segments (default pipeline or
    :func:`core.dtw`), so :func:`core.warping.resolve` can re-solve it."""
    return base.method == "dtw" and "segments" in base.diagnostics


def lock_region(alignment: Alignment, start_a_s: float, end_a_s: float) -> Region:
    """A locked region: the path of ``alignment`` over ``[start_a_s, end_a_s]`` on A,
    kept cell for cell from now on.

    Raises
    ------
    ValueError
        When the path has no step in the span.
    """
    t = alignment.path[:, 0] / alignment.rate_a_hz
    sel = np.flatnonzero((t >= start_a_s) & (t <= end_a_s))
    if sel.size < 2:
        raise ValueError(f"region: the path has no steps between {start_a_s:g} and "
                         f"{end_a_s:g} s of A")
    cells = alignment.path[sel[0]:sel[-1] + 1]
    rates = (alignment.rate_a_hz, alignment.rate_b_hz)
    return Region(float(cells[0, 0] / rates[0]), float(cells[-1, 0] / rates[0]), "locked",
                  float(cells[0, 1] / rates[1]), float(cells[-1, 1] / rates[1]),
                  tuple(map(tuple, cells.tolist())), rates)


def _region_cells(region: Region, rates, n_a, n_b) -> np.ndarray:
    """A locked region's cells on the grid ``rates`` (the same cells when the grid is
    theirs; else through seconds, made monotone and without repeats)."""
    cells = np.asarray(region.cells, dtype=np.int64)
    if region.rates == (float(rates[0]), float(rates[1])):
        return cells
    i = np.clip(np.round(cells[:, 0] / region.rates[0] * rates[0]), 0, n_a - 1)
    j = np.clip(np.round(cells[:, 1] / region.rates[1] * rates[1]), 0, n_b - 1)
    out = np.column_stack([np.maximum.accumulate(i), np.maximum.accumulate(j)]).astype(np.int64)
    keep = np.concatenate([[True], np.any(np.diff(out, axis=0) != 0, axis=1)])
    return out[keep]


def _path_j_at(path: np.ndarray, i: int, side: str = "first") -> int:
    """The column of the path at row ``i`` (first or last step on that row; the
    nearest row when the path skips it)."""
    rows = path[:, 0]
    if side == "first":
        k = int(np.searchsorted(rows, i, side="left"))
        k = min(k, len(path) - 1)
    else:
        k = int(np.searchsorted(rows, i, side="right")) - 1
        k = max(k, 0)
    return int(path[k, 1])


def _region_knots(constraints, path, rates, n_a, n_b):
    """Each non-free region as (start cell, end cell, kind, cells or None)."""
    out = []
    for r in constraints.regions:
        if r.kind == "locked":
            cells = _region_cells(r, rates, n_a, n_b)
            out.append((tuple(map(int, cells[0])), tuple(map(int, cells[-1])), "locked", cells))
            continue
        i0 = _frames(r.start_a_s, rates[0], n_a)
        i1 = _frames(r.end_a_s, rates[0], n_a)
        j0 = _frames(r.start_b_s, rates[1], n_b) if r.start_b_s is not None \
            else _path_j_at(path, i0, "first")
        j1 = _frames(r.end_b_s, rates[1], n_b) if r.end_b_s is not None \
            else _path_j_at(path, i1, "last")
        if i1 <= i0 or j1 < j0:
            continue
        out.append(((i0, j0), (i1, j1), r.kind, None))
    return out


def _guide(base_path: np.ndarray, start, end):
    """Per row of ``start..end``, the lowest and highest column of ``base_path``
    stretched (affinely in B) so that it starts at ``start`` and ends at ``end``."""
    (i0, j0), (i1, j1) = start, end
    rows = np.arange(i0, i1 + 1)
    p = base_path
    # lowest and highest column per row where the base path has steps, interpolated
    # between rows it skips
    r, first = np.unique(p[:, 0], return_index=True)
    last = np.concatenate([first[1:] - 1, [len(p) - 1]])
    lo_b = np.interp(rows, r, p[first, 1])
    hi_b = np.interp(rows, r, p[last, 1])
    g0, g1 = float(lo_b[0]), float(hi_b[-1])
    if g1 - g0 > 0:
        scale = (j1 - j0) / (g1 - g0)
        lo_b = j0 + (lo_b - g0) * scale
        hi_b = j0 + (hi_b - g0) * scale
    else:  # the base path is flat here: the straight line
        line = j0 + (j1 - j0) * (rows - i0) / max(i1 - i0, 1)
        lo_b, hi_b = line, line
    return lo_b, hi_b


def _corridor_window(base_path, start, end, radius):
    """Row intervals [lo, hi) (local to the segment) of a corridor of ``radius`` columns
    around the stretched base path, connected, from ``start`` to ``end``."""
    j0, j1 = start[1], end[1]
    m = j1 - j0 + 1
    lo_b, hi_b = _guide(base_path, start, end)
    lo = np.floor(lo_b - j0 - radius).astype(np.int64)
    hi = np.ceil(hi_b - j0 + radius).astype(np.int64) + 1
    lo = np.clip(lo, 0, m - 1)
    hi = np.clip(hi, 1, m)
    lo[0], hi[-1] = 0, m
    lo = np.maximum.accumulate(lo)
    hi = np.minimum.accumulate(hi[::-1])[::-1]
    hi = np.maximum(hi, lo + 1)
    # consecutive rows overlap (a step moves one row at most)
    lo[1:] = np.minimum(lo[1:], hi[:-1])
    lo[0] = 0
    hi[-1] = m
    return lo, hi


def _solve_corridor(source, base_path, start, end, radius, step_pattern, cancel=None):
    """Exact DTW from ``start`` to ``end`` (cells, inclusive) inside a corridor around
    the stretched base path (the engine's corridor solver on the sub-problem). Returns
    the path (global cells) and the cells visited."""
    from ._progress import Monitor
    from .warping._engine import solve_window

    (i0, j0), (i1, j1) = start, end
    if i1 == i0 or j1 == j0:  # a straight row or column: only one path
        return linear_cells(start, end), 0
    lo, hi = _corridor_window(base_path, start, end, radius)
    sub = source.sub(i0, j0, i1 - i0 + 1, j1 - j0 + 1)
    path, _, _ = solve_window(sub, step_pattern, lo, hi, Monitor(None, cancel))
    return np.asarray(path) + np.array([i0, j0]), int(np.sum(hi - lo))


def _as_source(source):
    """A CostSource from a FeatureTerms / CostSource, an (x, y[, metric]) tuple or a
    mapping with x, y, metric."""
    from .cost import check_metric, check_pair
    from .warping import FeatureTerms
    from .warping._source import CostSource

    if isinstance(source, CostSource):
        return source
    if isinstance(source, FeatureTerms):
        return source
    if isinstance(source, Mapping):
        x, y, metric = source["x"], source["y"], source.get("metric", "euclidean")
    else:
        x, y, *rest = source
        metric = rest[0] if rest else "euclidean"
    # the same read-only feature arrays come with every edit of a result: their checked
    # copies and the kernels' arrays are kept (the last few pairs)
    key = (id(x), id(y), metric)
    hit = _SOURCES.get(key)
    if hit is not None and hit[0] is x and hit[1] is y:
        return hit[2]
    xc, yc = check_pair(x, y)
    out = CostSource(x=xc, y=yc, metric=check_metric(metric))
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray) \
            and not x.flags.writeable and not y.flags.writeable:
        while len(_SOURCES) >= 4:
            _SOURCES.pop(next(iter(_SOURCES)))
        _SOURCES[key] = (x, y, out)
    return out


_SOURCES: dict = {}


def _on_grid(base: Alignment, rates, n_a, n_b) -> np.ndarray:
    """``base``'s path on the grid ``rates`` (n_a x n_b): the same cells when the grids
    agree, else through seconds (monotone, continuous)."""
    if (base.rate_a_hz, base.rate_b_hz) == (float(rates[0]), float(rates[1])) \
            and (base.n_a, base.n_b) == (n_a, n_b):
        return np.asarray(base.path)
    t = base.times_s
    i = np.clip(np.round(t[:, 0] * rates[0]), 0, n_a - 1).astype(np.int64)
    j = np.clip(np.round(t[:, 1] * rates[1]), 0, n_b - 1).astype(np.int64)
    i, j = np.maximum.accumulate(i), np.maximum.accumulate(j)
    cells = np.column_stack([i, j])
    keep = np.concatenate([[True], np.any(np.diff(cells, axis=0) != 0, axis=1)])
    cells = cells[keep]
    # join jumps with straight pieces
    pieces = [cells[:1]]
    for a, b in zip(cells[:-1], cells[1:], strict=True):
        if np.all(b - a <= 1):
            pieces.append(b[None])
        else:
            pieces.append(linear_cells(tuple(a), tuple(b))[1:])
    return np.concatenate(pieces)


def recompute(base: Alignment, constraints: Constraints, source=None, *, previous=None,
              mode: str | None = None, rate_a_hz: float | None = None,
              rate_b_hz: float | None = None, radius_s: float = DEFAULT_RADIUS_S,
              step_pattern: str = "symmetric2", refine: bool | str = False, energies=None,
              splice: bool = True, progress=None, cancel=None) -> Alignment:
    """The path of ``base`` recomputed from ``constraints``.

    Parameters
    ----------
    base : Alignment
        The automatic result (any method, or read from a file).
    constraints : Constraints
    source : FeatureTerms, CostSource, (x, y[, metric]) or None
        The features the segments are solved on. ``mode="exact"`` needs the terms
        ``base`` was made from (:func:`core.pipeline.cost_source` for a default result);
        ``"corridor"`` takes any features of the two streams (the result then is on
        their frame grid).
    rate_a_hz, rate_b_hz : float, optional
        The frame rates of ``source`` (default: the base's).
    previous : Alignment, optional
        An earlier :func:`recompute` of the same base and source: its segments with
        unchanged ends are reused (``"exact"``: when it had no regions).
    mode : {"exact", "corridor"}, optional
        Default: ``"exact"`` when :func:`can_resolve_exactly` and the source are
        :class:`~core.warping.FeatureTerms` or features of the base's own grid, else
        ``"corridor"``.
    radius_s : float
        Corridor half-width in seconds of B (``"corridor"``).
    step_pattern : str
        The corridor solve's step pattern (steps (1,1), (1,0), (0,1) with any weights).
    refine : bool or {"onsets", "changes"}
        Re-lay the path within a few seconds of each hard anchor
        (:mod:`core.warping.refine_anchor`); ``diagnostics["anchor_refinement"]`` says
        how many cells were matched each side. ``"onsets"`` (or True): through the onsets
        of the solve's features matched there (bwv66.6: 55-75 -> 25-62 ms within 2 s,
        but worse than the plain re-solve near 13 of 34 other anchors). ``"changes"``:
        through the chord changes located in the audio's spectra (``energies``), their
        lags calibrated at the anchors (bwv66.6: 33-75 -> 13-17 ms within 2 s, and no
        more than 2 ms worse than the plain re-solve near 124 other anchors;
        benchmarks/accuracy/anchors.md). Off here (the spectra need the recordings);
        :mod:`core.correcting` asks for ``"changes"`` by default.
    energies : ((N, 88) array, (M, 88) array), optional
        :func:`core.warping.refine_anchor.semitone_energies` of A and B on the frame
        grids of the result; needed by ``refine="changes"``.
    splice : bool
        Where a re-solved segment meets the base path again (within one frame, for
        :data:`SPLICE_RUN` steps), keep the base path from there on
        (:func:`splice_to_base`): the re-solve only changes the path near the knots, and
        the base's accuracy away from them is kept (bowed_piano, one correct anchor at the
        worst event, chroma at 100 Hz: pair MAE 16.5 -> 239.5 ms without, 15.7 ms with;
        benchmarks/accuracy/anchors.md).

    Returns
    -------
    Alignment
        ``method`` ``"manual"`` (when there are constraints), ``params["constraints"]``
        the constraints as data, ``params["base_method"]``, ``diagnostics`` with
        ``constraint_segments`` (each ``start``, ``end``, ``kind`` ``solved``/
        ``kept``/``reused``/``locked``/``linear``, ``path_start``, ``path_length``),
        ``n_solved`` and ``elapsed_s``.

    Raises
    ------
    ValueError
        Bad source or mode; AlignmentError when hard anchors contradict each other.
    """
    t0 = time.perf_counter()
    from .warping import resolve
    from .warping._source import CostSource

    if not isinstance(base, Alignment):
        raise TypeError(f"base: expected an Alignment, got {type(base).__name__}")
    if not isinstance(constraints, Constraints):
        raise TypeError("constraints: expected a Constraints")
    if source is None:
        raise ValueError("source: the features to solve on are needed")
    src = _as_source(source)
    if mode is None:
        mode = "exact" if can_resolve_exactly(base) and (src.n, src.m) == (base.n_a, base.n_b) \
            else "corridor"
    if mode not in ("exact", "corridor"):
        raise ValueError(f"mode: expected 'exact' or 'corridor', got {mode!r}")
    if refine is True:
        refine = "onsets"
    if refine not in (False, None, "onsets", "changes"):
        raise ValueError(f"refine: expected False, True, 'onsets' or 'changes', got {refine!r}")
    if refine == "changes" and energies is None:
        raise ValueError("refine: 'changes' needs the energies of both recordings")

    if mode == "exact":
        rates = (base.rate_a_hz, base.rate_b_hz)
        n_a, n_b = base.n_a, base.n_b
        start_path = np.asarray(base.path)
    else:
        rates = (float(base.rate_a_hz if rate_a_hz is None else rate_a_hz),
                 float(base.rate_b_hz if rate_b_hz is None else rate_b_hz))
        n_a, n_b = src.n, src.m
        start_path = _on_grid(base, rates, n_a, n_b)

    anchors = anchor_cells(constraints, rates[0], rates[1], n_a, n_b)
    regions = _region_knots(constraints, start_path, rates, n_a, n_b)
    # knots: anchors and region ends; a region swallows the anchors inside it
    spans = [(s, e) for s, e, _, _ in regions]
    inside = [any(s[0] < c[0] < e[0] for s, e in spans) for c in anchors]
    knots = {tuple(map(int, c)) for c, inn in zip(anchors, inside, strict=True) if not inn}
    for s, e, _, _ in regions:
        knots.add(s)
        knots.add(e)
    knots = sorted(knots)
    for a, b in zip(knots, knots[1:], strict=False):
        if b[1] < a[1]:
            raise AlignmentError("constraints: an anchor contradicts a region (later on A, "
                                 "earlier on B)")
    knots = through_knots(knots, [tuple(map(int, c)) for c, inn in zip(anchors, inside, strict=True)
                             if not inn], n_a, n_b)

    if mode == "exact":
        if progress is not None:
            progress(0.0)
        start = base
        if previous is not None and previous.diagnostics.get("constraint_mode") == "exact" \
                and "segments" in previous.diagnostics \
                and not Constraints.from_data(previous.params.get("constraints")).regions:
            # an earlier exact recompute without regions: its engine segments hold
            start = previous.replace(method="dtw")
        inputs = dict(source=src if isinstance(src, CostSource) and hasattr(src, "terms")
                      else None, **({} if hasattr(src, "terms") else _raw_xy(source, src)))
        if splice:
            engine = bounded_resolve(start, base, knots, inputs, progress, cancel)
        else:
            engine = resolve(start, np.array(knots, dtype=np.int64).reshape(-1, 2),
                             progress=progress, cancel=cancel, **inputs)
            engine = diagonal_knot_steps(engine)
        if refine:
            engine = _refine_engine(engine, src, constraints, knots, anchors, inside,
                                    refine, energies)
        path = np.asarray(engine.path)
        out_base = engine
        segs = _segments_from_path(path, knots, "solved")
        n_solved = int(engine.diagnostics.get("n_segments_solved", 0))
    else:
        radius = max(1, int(round(radius_s * rates[1])))
        first, last = tuple(map(int, start_path[0])), tuple(map(int, start_path[-1]))
        points = list(knots)
        # the base path's ends, unless a knot lies beyond one of them
        if not points or (first[0] <= points[0][0] and first[1] <= points[0][1]):
            points.insert(0, first)
        if last[0] >= points[-1][0] and last[1] >= points[-1][1]:
            points.append(last)
        points = sorted(set(points))
        reuse = {}
        if previous is not None:
            segs_prev = previous.diagnostics.get("constraint_segments") or ()
            pp = np.asarray(previous.path)
            for rec in segs_prev:
                if rec["kind"] in ("solved", "kept", "reused"):
                    a = rec["path_start"]
                    reuse[(tuple(rec["start"]), tuple(rec["end"]))] = pp[a:a + rec["path_length"]]
        segs, n_solved, table = [], 0, None
        region_at = {(s, e): (kind, cells) for s, e, kind, cells in regions}
        base_rows = start_path[:, 0]
        for a, b in zip(points[:-1], points[1:], strict=True):
            if cancel is not None and cancel():
                from .errors import Cancelled

                raise Cancelled()
            if (a, b) in region_at:
                continue  # laid in below
            seg_kind = "solved"
            k0 = int(np.searchsorted(base_rows, a[0], side="left"))
            k1 = int(np.searchsorted(base_rows, b[0], side="right"))
            on_base = has_cell(start_path, a) and has_cell(start_path, b)
            if on_base:
                ka = index_of(start_path, a)
                kb = index_of(start_path, b)
                piece = start_path[ka:kb + 1]
                seg_kind = "kept"
            elif (a, b) in reuse:
                piece = reuse[(a, b)]
                seg_kind = "reused"
            elif b[0] - a[0] <= 1 and b[1] - a[1] <= 1:
                piece = np.array([a, b])  # one step: nothing to solve
            else:
                guide = start_path[max(0, k0 - 1):min(len(start_path), k1 + 1)]
                if len(guide) < 2:
                    guide = np.array([a, b])
                piece, _cells = _solve_corridor(src, guide, a, b, radius, step_pattern,
                                                cancel)
                if splice:
                    if table is None:
                        table = path_rows(start_path)
                    piece = splice_to_base(piece, start_path, table=table)
                n_solved += 1
            segs.append({"start": list(a), "end": list(b), "kind": seg_kind, "piece": piece})
        for s, e, kind, cells in regions:
            piece = cells if kind == "locked" else linear_cells(s, e)
            segs.append({"start": list(s), "end": list(e), "kind": kind, "piece": piece})
        segs.sort(key=lambda r: (r["start"][0], r["start"][1]))
        path_parts = []
        length = 0
        for k, rec in enumerate(segs):
            piece = np.asarray(rec.pop("piece"), dtype=np.int64)
            if k > 0:
                piece = piece[1:]  # the knot is the previous segment's last cell
            rec["path_start"] = length - (1 if k > 0 else 0)
            rec["path_length"] = len(piece) + (1 if k > 0 else 0)
            length += len(piece)
            path_parts.append(piece)
        path = np.concatenate(path_parts) if path_parts else start_path
        reused = {(tuple(r["start"]), tuple(r["end"])) for r in segs
                  if r["kind"] == "reused"}
        refined, refine_report = _refine_path(path, src, constraints, knots, anchors,
                                              inside, rates, reused, refine, energies) \
            if refine else (path, [])
        if refine_report:
            path = refined
            segs = _segments_from_path(path, knots, None, kinds={
                (tuple(r["start"]), tuple(r["end"])): r["kind"] for r in segs})
        out_base = base
    if mode == "exact":
        # lay the regions in (the engine solved a segment there; replace it cell for cell)
        parts = []
        for s, e, kind, cells in regions:
            ks, ke = index_of(path, s), index_of(path, e)
            piece = cells if kind == "locked" else linear_cells(s, e)
            parts.append((ks, ke, piece))
        if parts:
            out, last = [], 0
            for ks, ke, piece in sorted(parts, key=lambda p: p[0]):
                out.append(path[last:ks])
                out.append(piece)
                last = ke + 1
            out.append(path[last:])
            path = np.concatenate(out)
            for rec in segs:
                rec["kind"] = next((kind for s, e, kind, _ in regions
                                    if list(s) == rec["start"] and list(e) == rec["end"]),
                                   rec["kind"])
            segs = _segments_from_path(path, knots, None, kinds={
                (tuple(r["start"]), tuple(r["end"])): r["kind"] for r in segs})
    if mode == "exact":
        refine_report = engine.diagnostics.get("anchor_refinement", [])
    params = dict(out_base.params)
    params["constraints"] = constraints.to_data()
    params["base_method"] = base.params.get("base_method", base.method)
    diagnostics = dict(out_base.diagnostics)
    if mode == "corridor":
        diagnostics.pop("segments", None)
    diagnostics.update(constraint_segments=segs, n_solved=n_solved, constraint_mode=mode,
                       anchor_refinement=refine_report,
                       elapsed_s=round(time.perf_counter() - t0, 4))
    confidence = None
    if mode == "exact" and out_base.confidence is not None \
            and len(out_base.confidence) == len(path):
        confidence = out_base.confidence
    elif base.confidence is not None:
        # the base's confidence at the nearest step of the base path, 1 at the anchors
        bt = base.times_s[:, 0]
        k = np.clip(np.searchsorted(bt, path[:, 0] / rates[0]), 0, len(bt) - 1)
        confidence = np.array(base.confidence)[k]
        if anchors.shape[0]:
            hit = np.isin(path[:, 0], anchors[:, 0])
            confidence = np.where(hit, 1.0, confidence)
    out = Alignment(path, rates[0], rates[1], n_a=n_a, n_b=n_b,
                    method="manual" if constraints else base.method, params=params,
                    distance=math.nan, normalized_distance=math.nan, confidence=confidence,
                    diagnostics=diagnostics, sources=dict(base.sources))
    if diagnostics.get("order_check") and confidence is not None:
        # the base's order check (core.structure.order) is about the pair, which anchors
        # on a monotone path do not change: the steps of its stretches stay doubtful
        # where a segment was solved again too (the window's notice is still shown)
        from .structure.order import with_order_check

        out = with_order_check(out, diagnostics["order_check"])
    return out


def _onset_features(src):
    """(features of A, features of B, pitch-class pair or None) the onsets near a hard
    anchor are found and compared in (:mod:`core.warping.refine_anchor`): the first
    onset-like term of a multi-term source (pooled by max, e.g. DLNCO; else the first) and its
    first cosine term (chroma); the two feature streams of a plain source. None when the
    source is a bare cost matrix."""
    terms = getattr(src, "terms", None)
    if terms:
        onset = next((t for t in terms if t.pool == "max"), terms[0])
        cos = next((t for t in terms if t.metric == "cosine"), None)
        return ([onset.x], [onset.y],
                None if cos is None else (cos.x, cos.y))
    x, y = getattr(src, "x", None), getattr(src, "y", None)
    if x is None or y is None:
        return None
    return [x], [y], ((x, y) if getattr(src, "metric", None) == "cosine" else None)


def _refine_path(path, src, constraints, knots, anchors, inside, rates, reused=(),
                 how="onsets", energies=None):
    """``path`` re-laid near each hard anchor that is not inside a region, through
    matched onsets (``how="onsets"``, :func:`core.warping.refine_anchor.
    refine_near_anchors`) or chord changes (``"changes"``, :func:`core.warping.
    refine_anchor.refine_at_changes`), and the per-anchor report (empty when nothing
    was refined)."""
    from .warping.refine_anchor import refine_at_changes, refine_near_anchors

    feats = _onset_features(src) if how == "onsets" else None
    if (how == "onsets" and feats is None) or not anchors.shape[0]:
        return path, []
    hard = {(_frames(a.time_a_s, rates[0], src.n), _frames(a.time_b_s, rates[1], src.m))
            for a in constraints.anchors if a.hard}
    cells = [tuple(map(int, c)) for c, inn in zip(anchors, inside, strict=True)
             if not inn and tuple(map(int, c)) in hard]
    if not cells:
        return path, []
    if how == "changes":
        return refine_at_changes(path, cells, knots, energies, rates, through=THROUGH_FRAMES,
                                 reused=reused)
    return refine_near_anchors(path, cells, knots, feats[0], feats[1], rates, feats[2],
                               through=THROUGH_FRAMES, reused=reused)


def _refine_engine(engine: Alignment, src, constraints, knots, anchors, inside,
                   how="onsets", energies=None) -> Alignment:
    """:func:`_refine_path` on an exact re-solve: its path, confidence (of the nearest old
    step) and segment records follow."""
    old = np.asarray(engine.path)
    reused = {(tuple(r["start"]), tuple(r["end"]))
              for r in engine.diagnostics.get("segments") or () if r.get("reused")}
    path, report = _refine_path(old, src, constraints, knots, anchors, inside,
                                (engine.rate_a_hz, engine.rate_b_hz), reused, how, energies)
    if not any(r["matched_before"] or r["matched_after"] for r in report):
        return engine.replace(diagnostics=dict(engine.diagnostics, anchor_refinement=report))
    conf = engine.confidence
    if conf is not None:
        k = np.clip(np.searchsorted(old[:, 0], path[:, 0]), 0, len(old) - 1)
        conf = np.asarray(conf)[k]
    diagnostics = dict(engine.diagnostics, anchor_refinement=report)
    segs = diagnostics.get("segments")
    if segs:
        records = []
        for rec in segs:
            try:
                a, b = index_of(path, rec["start"]), index_of(path, rec["end"])
            except AlignmentError:  # a segment end the windows did not keep: leave it
                return engine.replace(diagnostics=dict(engine.diagnostics,
                                                       anchor_refinement=[]))
            records.append(dict(rec, path_start=a, path_length=b - a + 1))
        diagnostics["segments"] = records
    return engine.replace(path=path, confidence=conf, diagnostics=diagnostics)


def _raw_xy(source, src):
    """The features of ``source`` as given (x, y) for :func:`core.warping.resolve`, which
    checks them against the result's fingerprint of its own inputs: a CostSource keeps
    cosine rows normalized, which would not match; else :func:`_xy`."""
    if isinstance(source, Mapping):
        return {"x": source["x"], "y": source["y"]}
    if isinstance(source, (tuple, list)):
        return {"x": source[0], "y": source[1]}
    return _xy(src)


def _xy(src):
    if getattr(src, "cost", None) is not None:
        return {"cost": src.cost}
    return {"x": src.x, "y": src.y}


def _segments_from_path(path, knots, kind, kinds=None):
    """Segment records of a path that passes through every knot."""
    points = [tuple(map(int, path[0]))] + [k for k in knots] + [tuple(map(int, path[-1]))]
    points = sorted(set(points))
    out = []
    for a, b in zip(points[:-1], points[1:], strict=True):
        ka, kb = index_of(path, a), index_of(path, b)
        k = kind if kinds is None else kinds.get((a, b), "solved")
        out.append({"start": list(a), "end": list(b), "kind": k, "path_start": ka,
                    "path_length": kb - ka + 1})
    return out


# ---------------------------------------------------------------------------- doubt
def doubtful_spots(alignment: Alignment, *, threshold: float | None = None,
                   min_length_s: float = 0.2) -> list[tuple[float, float]]:
    """Stretches of the path whose confidence stays below ``threshold`` for at least
    ``min_length_s`` seconds of A, as (start, end) times on A, in order. Empty when the
    result has no confidence. ``threshold`` None: the result's own
    (:func:`core.pipeline.confidence.doubtful_confidence`, 0.5 without a calibrated
    model)."""
    conf = alignment.confidence
    if conf is None:
        return []
    if threshold is None:
        from .pipeline.confidence import doubtful_confidence

        threshold = doubtful_confidence(alignment)
    low = np.asarray(conf) < threshold
    if not low.any():
        return []
    edges = np.diff(np.concatenate([[0], low.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    t = alignment.times_s[:, 0]
    out = []
    for s, e in zip(starts, ends, strict=True):
        if t[e] - t[s] >= min_length_s:
            out.append((float(t[s]), float(t[e])))
    return out


def ranked_doubtful_spots(alignment: Alignment, *, threshold: float | None = None,
                          min_length_s: float = 0.2) -> list[tuple[float, float, float]]:
    """The :func:`doubtful_spots` as ``(start, end, expected error ms)``, the worst
    first: the expected error is the largest along the stretch
    (:func:`core.pipeline.confidence.expected_error_ms` of its lowest confidence); ties
    in time order."""
    from .pipeline.confidence import expected_error_ms

    spots = doubtful_spots(alignment, threshold=threshold, min_length_s=min_length_s)
    if not spots:
        return []
    conf = np.asarray(alignment.confidence, dtype=np.float64)
    t = alignment.times_s[:, 0]
    out = []
    for t0, t1 in spots:
        k0 = int(np.searchsorted(t, t0, side="left"))
        k1 = int(np.searchsorted(t, t1, side="right"))
        worst = float(expected_error_ms(conf[k0:max(k1, k0 + 1)].min()))
        out.append((t0, t1, worst))
    return sorted(out, key=lambda s: -s[2])
