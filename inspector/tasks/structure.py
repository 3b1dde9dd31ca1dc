"""Worker functions of the structure view: an alignment with structure, units (features,
segmentation, kinds, assignment) and the assignment of edited units. No Qt.

A structure run and finding units hold the GIL for long stretches (the pipeline's
features, the jump DP, segmentation: pauses of 0.2-0.5 s in the window's event loop on a
3-minute pair, benchmarks/structure/gui_pause.md), so from :data:`PROCESS_MIN_TOTAL_S`
of both recordings together they run in a spawned child process
(:func:`inspector.tasks.process.in_child`: progress through a pipe, cancel terminates
it); the window's worker thread only unpacks the result.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from core._progress import Monitor
from core.display import prepare_path
from core.structure import PiecewiseAlignment
from core.structure.align import align_structure, assign_units, unit_features
from core.structure.carrier import piecewise_of, to_carrier

from .media import recording_lock
from .process import in_child

__all__ = ["Units", "structure_job", "units_job", "assign_job", "use_process",
           "PROCESS_MIN_TOTAL_S"]

#: from this total duration of A and B (seconds) structure runs and units are computed
#: in a child process; below it the process start-up (~1 s) would cost more than the
#: pauses it saves
PROCESS_MIN_TOTAL_S = 60.0


def use_process(rec_a, rec_b) -> bool:
    """Whether :func:`structure_job` and :func:`units_job` run in a child process."""
    return float(rec_a.duration_s) + float(rec_b.duration_s) >= PROCESS_MIN_TOTAL_S


@dataclasses.dataclass(frozen=True)
class Units:
    """Units of A and B with their kinds, the unit cost matrix (A units x B units), for
    each B unit the matched A unit (-1: none), and the features they were cut from."""

    units_a: tuple
    units_b: tuple
    costs: np.ndarray
    matches: np.ndarray
    no_match: float
    x: np.ndarray
    y: np.ndarray
    rate_hz: float

    @property
    def unmatched_a(self) -> list[int]:
        used = {int(m) for m in self.matches if m >= 0}
        return [k for k in range(len(self.units_a)) if k not in used]

    @property
    def unmatched_b(self) -> list[int]:
        return [k for k, m in enumerate(self.matches) if m < 0]


def _units(x, y, rate, units_a, units_b) -> Units:
    out = assign_units(x, y, units_a, units_b)
    return Units(tuple(out["units_a"]), tuple(out["units_b"]), np.asarray(out["costs"]),
                 np.asarray(out["matches"]), float(out["no_match"]), x, y, float(rate))


def _locked(rec_a, rec_b):
    first, second = sorted((rec_a, rec_b), key=id)
    return recording_lock(first), recording_lock(second)


def _rebuilt(starts_s, n_frames: int, rate: float) -> list:
    """Units from their start times (s; the first at 0), the last one to ``n_frames``."""
    from core.structure import Unit

    starts = {int(round(float(t) * rate)) for t in starts_s}
    starts = sorted({s for s in starts if 0 <= s < n_frames} | {0})
    ends = [*starts[1:], n_frames]
    return [Unit(a, b, rate) for a, b in zip(starts, ends, strict=True)]


def units_job(rec_a, rec_b, boundaries=None, *, progress=None, cancel=None) -> Units:
    """Units of both recordings from the default pipeline's features (see
    :func:`core.structure.align.analyse_units`); ``boundaries``: ``{"a": starts, "b":
    starts}`` (start times in seconds, e.g. a project's saved edits) instead of the
    segmentation's. In a child process from :data:`PROCESS_MIN_TOTAL_S`."""
    if use_process(rec_a, rec_b):
        return in_child(_units_in_child, (str(rec_a.path), str(rec_b.path), boundaries),
                        progress=progress, cancel=cancel)
    return _units_here(rec_a, rec_b, boundaries, progress=progress, cancel=cancel)


def _units_here(rec_a, rec_b, boundaries=None, *, progress=None, cancel=None) -> Units:
    from core.structure.segments import segment

    mon = Monitor(progress, cancel)
    la, lb = _locked(rec_a, rec_b)
    with la, lb:
        x, y, rate = unit_features(rec_a, rec_b, progress=mon.sub(0.0, 0.8).report,
                                   cancel=cancel)
    mon.check()
    if boundaries:
        ua = _rebuilt(boundaries["a"], len(x), rate)
        ub = _rebuilt(boundaries["b"], len(y), rate)
    else:
        ua, ub = segment(x, rate), segment(y, rate)
    out = _units(x, y, rate, ua, ub)
    mon.report(1.0)
    return out


def _units_in_child(path_a: str, path_b: str, boundaries, *, progress=None) -> Units:
    from core.media import open_recording

    return _units_here(open_recording(path_a), open_recording(path_b), boundaries,
                       progress=progress)


def assign_job(units: Units, units_a, units_b, *, progress=None, cancel=None) -> Units:
    """The kinds and assignment of edited units (the same features)."""
    Monitor(progress, cancel).check()
    return _units(units.x, units.y, units.rate_hz, units_a, units_b)


def structure_job(rec_a, rec_b, structure: str, *, progress=None, cancel=None):
    """The default pipeline with ``structure`` ("auto" or "pieces"); returns
    ``(alignment, units)``: a plain Alignment (a carrier of the pieces when the result has
    jumps, :mod:`core.structure.carrier`) and the units the analysis found. In a child
    process from :data:`PROCESS_MIN_TOTAL_S` (the carrier travels as plain data; its
    pieces and what the views derive are rebuilt here, on the worker thread)."""
    if not use_process(rec_a, rec_b):
        al, units = _structure_here(rec_a, rec_b, structure, progress=progress,
                                    cancel=cancel)
    else:
        al, units = in_child(_structure_in_child, (str(rec_a.path), str(rec_b.path),
                                                   structure),
                             progress=progress, cancel=cancel)
    pw = piecewise_of(al)
    if pw is not None:
        for piece in pw.pieces:  # what the views derive, paid here, not by the GUI
            prepare_path(piece)
    return prepare_path(al), units


def _structure_in_child(path_a: str, path_b: str, structure: str, *, progress=None):
    from core.media import open_recording

    return _structure_here(open_recording(path_a), open_recording(path_b), structure,
                           progress=progress)


def _structure_here(rec_a, rec_b, structure: str, *, progress=None, cancel=None):
    mon = Monitor(progress, cancel)
    la, lb = _locked(rec_a, rec_b)
    with la, lb:
        al = align_structure(rec_a, rec_b, structure=structure,
                             progress=mon.sub(0.0, 0.85).report, cancel=cancel)
        x, y, rate = unit_features(rec_a, rec_b, progress=mon.sub(0.85, 0.95).report,
                                   cancel=cancel)
    if isinstance(al, PiecewiseAlignment):
        al = to_carrier(al)
    from core.structure import Unit

    found = (al.diagnostics.get("structure") or {}).get("units")
    if found and found.get("a") and found.get("b"):
        def rebuild(rows):
            return [Unit(int(round(u["start_s"] * rate)), int(round(u["end_s"] * rate)), rate)
                    for u in rows]
        ua, ub = rebuild(found["a"]), rebuild(found["b"])
        ua[-1] = Unit(ua[-1].start, len(x), rate)
        ub[-1] = Unit(ub[-1].start, len(y), rate)
    else:
        from core.structure.segments import segment

        ua, ub = segment(x, rate), segment(y, rate)
    units = _units(x, y, rate, ua, ub)
    mon.report(1.0)
    return al, units
