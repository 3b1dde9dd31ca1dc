"""Qt-free checks of a file read in the window against the recordings it is opened on.

An alignment or annotation file made for another recording is refused with a message
that names the file and the problem (its times run past the end of the recording, or
the durations it records are not the recording's); nothing in the window changes.
"""

from __future__ import annotations

import math
import os

from core.alignment import Alignment
from core.errors import FormatError
from core.formats import Annotation
from core.project import RecordingInfo
from core.structure import PiecewiseAlignment
from core.structure import carrier as _carrier

__all__ = ["tolerance_s", "check_alignment", "check_annotation", "AlignmentFit"]


def tolerance_s(duration_s: float, rate_hz: float | None = None) -> float:
    """How far past a recording's end a time may fall and still be its own: 0.1 s or
    0.5 % of the duration, whichever is larger, plus two frames at ``rate_hz``."""
    frames = 2.0 / rate_hz if rate_hz and rate_hz > 0 else 0.0
    return max(0.1, 0.005 * float(duration_s)) + frames


def _recorded_duration(alignment: Alignment, side: str) -> float | None:
    source = alignment.sources.get(side) or {}
    if not hasattr(source, "get"):
        return None
    for key in ("duration_s", "duration"):
        try:
            value = float(source.get(key))
        except (TypeError, ValueError):
            continue
        if math.isfinite(value) and value > 0:
            return value
    return None


def _name(info: RecordingInfo) -> str:
    return os.path.basename(info.path)


class AlignmentFit:
    """What :func:`check_alignment` found: ``alignment`` (a plain Alignment: the carrier
    of the pieces, :mod:`core.structure.carrier`, when the file holds a path with jumps;
    transposed when the file had A and B the other way round) and ``notes`` (lines for
    the status bar)."""

    def __init__(self, alignment: Alignment, notes: list[str]):
        self.alignment = alignment
        self.notes = notes


def _swapped(alignment: Alignment, a: RecordingInfo, b: RecordingInfo) -> bool:
    """The file names A's recording as B's and B's as A's (by file name)."""
    names = {}
    for side in ("a", "b"):
        source = alignment.sources.get(side) or {}
        path = source.get("path") if hasattr(source, "get") else None
        names[side] = os.path.basename(str(path)) if path else None
    return (names["a"] is not None and names["b"] is not None and names["a"] != names["b"]
            and names["a"] == _name(b) and names["b"] == _name(a))


def check_alignment(path, alignment: Alignment, a: RecordingInfo,
                    b: RecordingInfo) -> AlignmentFit:
    """Check that ``alignment`` (read from ``path``) belongs to recordings ``a`` and ``b``.

    Refused (FormatError naming ``path``): a path whose times run past the end of a
    recording, or durations recorded in the file that differ from the recordings'.
    Accepted with a note: a path that ends well before a recording's end (a partial
    alignment), a file that had A and B the other way round (transposed, its pieces
    too). A file with pieces (a :class:`~core.structure.PiecewiseAlignment`) becomes a
    carrier of them: the window stores, lists and undoes plain Alignments.
    """
    if isinstance(alignment, PiecewiseAlignment):  # a path with jumps: carried, jumps kept
        alignment = _carrier.to_carrier(alignment)
    notes = []
    if _swapped(alignment, a, b):
        alignment = _carrier.transposed(alignment)
        notes.append(f"{os.path.basename(os.fspath(path))}: made with A and B the other "
                     f"way round; transposed")
    end = alignment.times_s[-1]
    for k, (side, info) in enumerate((("A", a), ("B", b))):
        rate = alignment.rate_a_hz if k == 0 else alignment.rate_b_hz
        tol = tolerance_s(info.duration_s, rate)
        recorded = _recorded_duration(alignment, side.lower())
        if recorded is not None and abs(recorded - info.duration_s) > tol:
            raise FormatError(path, f"made for a recording {side} of {recorded:.3f} s, but "
                                    f"{side} ({_name(info)}) lasts {info.duration_s:.3f} s: "
                                    f"an alignment of other recordings? Not imported")
        if end[k] > info.duration_s + tol:
            raise FormatError(path, f"its path reaches {end[k]:.3f} s on {side}, past the "
                                    f"end of {_name(info)} ({info.duration_s:.3f} s): an "
                                    f"alignment of other recordings? Not imported")
        if end[k] < info.duration_s - max(1.0, 0.05 * info.duration_s):
            notes.append(f"{os.path.basename(os.fspath(path))}: the path ends at "
                         f"{end[k]:.3f} s on {side}, before the end of {_name(info)} "
                         f"({info.duration_s:.3f} s): only part of it is aligned")
    return AlignmentFit(alignment, notes)


def check_annotation(path, annotation: Annotation, slot: str, info: RecordingInfo) -> None:
    """Refuse (FormatError naming ``path``) annotations whose times run past the end of
    recording ``info`` (opened on ``slot``), or that hold nothing."""
    times = [t for tier in annotation.tiers for t in tier.times]
    if not annotation.tiers or not times:
        raise FormatError(path, "holds no labels (no tier with an interval or a point)")
    latest, earliest = max(times), min(times)
    tol = tolerance_s(info.duration_s)
    side = slot.upper()
    if latest > info.duration_s + tol:
        raise FormatError(path, f"its labels reach {latest:.3f} s, past the end of "
                                f"{side} ({_name(info)}, {info.duration_s:.3f} s): "
                                f"annotations of another recording? Not opened")
    if earliest < -tol:
        raise FormatError(path, f"a label starts at {earliest:.3f} s, before the start of "
                                f"{side}: annotations of another recording? Not opened")
