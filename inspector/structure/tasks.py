"""Worker functions of the structure view: an alignment with structure, units (features,
segmentation, kinds, assignment) and the assignment of edited units. No Qt."""

from __future__ import annotations

import dataclasses

import numpy as np

from core._progress import Monitor
from core.display import prepare_path
from core.structure import PiecewiseAlignment
from core.structure.align import align_structure, assign_units, unit_features
from core.structure.carrier import to_carrier

from ..tasks.media import recording_lock

__all__ = ["Units", "structure_job", "units_job", "assign_job"]


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


def units_job(rec_a, rec_b, *, progress=None, cancel=None) -> Units:
    """Units of both recordings from the default pipeline's features (see
    :func:`core.structure.align.analyse_units`)."""
    from core.structure.segments import segment

    mon = Monitor(progress, cancel)
    la, lb = _locked(rec_a, rec_b)
    with la, lb:
        x, y, rate = unit_features(rec_a, rec_b, progress=mon.sub(0.0, 0.8).report,
                                   cancel=cancel)
    mon.check()
    out = _units(x, y, rate, segment(x, rate), segment(y, rate))
    mon.report(1.0)
    return out


def assign_job(units: Units, units_a, units_b, *, progress=None, cancel=None) -> Units:
    """The kinds and assignment of edited units (the same features)."""
    Monitor(progress, cancel).check()
    return _units(units.x, units.y, units.rate_hz, units_a, units_b)


def structure_job(rec_a, rec_b, structure: str, *, progress=None, cancel=None):
    """The default pipeline with ``structure`` ("auto" or "pieces"); returns
    ``(alignment, units)``: a plain Alignment (a carrier of the pieces when the result has
    jumps, :mod:`core.structure.carrier`) and the units the analysis found."""
    mon = Monitor(progress, cancel)
    la, lb = _locked(rec_a, rec_b)
    with la, lb:
        al = align_structure(rec_a, rec_b, structure=structure,
                             progress=mon.sub(0.0, 0.85).report, cancel=cancel)
        x, y, rate = unit_features(rec_a, rec_b, progress=mon.sub(0.85, 0.95).report,
                                   cancel=cancel)
    if isinstance(al, PiecewiseAlignment):
        for piece in al.pieces:  # what the views derive, paid here, not by the GUI
            prepare_path(piece)
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
    return prepare_path(al), units
