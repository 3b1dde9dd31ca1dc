"""Move annotations from one recording to the other through an alignment."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..alignment import Alignment
from .annotations import Annotation, Interval, Tier

__all__ = ["TransferResult", "transfer_annotation", "ZERO_LENGTH_S"]

#: An interval shorter than this on the target recording counts as collapsed.
ZERO_LENGTH_S = 1e-9


@dataclasses.dataclass(frozen=True)
class TransferResult:
    """The transferred annotation and one warning per interval that collapsed."""

    annotation: Annotation
    warnings: tuple[str, ...] = ()


def _duration(alignment: Alignment, which: str) -> float:
    """The recording's duration as its file described it, else the path's end (a value
    read from a file that is not a finite, non-negative number is ignored)."""
    source = alignment.sources.get(which) or {}
    for key in ("duration_s", "duration"):
        value = source.get(key) if hasattr(source, "get") else None
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(value) and value >= 0:
            return value
    return alignment.duration_a_s if which == "a" else alignment.duration_b_s


def transfer_annotation(annotation: Annotation, alignment: Alignment, *,
                        direction: str = "a2b",
                        collapsed_marker: str | None = None) -> TransferResult:
    """Map every time of ``annotation`` through ``alignment`` to the other recording.

    Parameters
    ----------
    annotation : Annotation
        Tiers on recording A (``direction="a2b"``) or B (``"b2a"``).
    alignment : Alignment
        The correspondence; times go through :meth:`Alignment.map_a_to_b` (or
        :meth:`~Alignment.map_b_to_a`), which is non-decreasing, so the order of
        boundaries is kept and boundaries shared by neighbouring intervals stay shared
        (a tier that tiles still tiles). Times outside the path are clamped to its ends.
    direction : {"a2b", "b2a"}
    collapsed_marker : str, optional
        Appended to the label of every interval that collapses to zero length (for
        formats that cannot carry the :attr:`Interval.collapsed` flag).

    Returns
    -------
    TransferResult
        ``annotation`` on the other recording (spanning 0 to its duration) and a
        warning per collapsed interval. Collapsed intervals are kept with
        ``collapsed=True``; nothing is dropped.
    """
    if direction not in ("a2b", "b2a"):
        raise ValueError(f"direction: expected 'a2b' or 'b2a', got {direction!r}")
    from ..structure.piecewise import PiecewiseAlignment
    if isinstance(alignment, PiecewiseAlignment):  # a path with jumps
        from ..structure.transfer import transfer_pieces
        return transfer_pieces(annotation, alignment, direction=direction,
                               collapsed_marker=collapsed_marker)
    if not isinstance(alignment, Alignment):
        raise ValueError("alignment: expected a core.Alignment")
    mapper = alignment.map_a_to_b if direction == "a2b" else alignment.map_b_to_a
    target = "b" if direction == "a2b" else "a"
    warnings: list[str] = []
    tiers = []
    for tier in annotation.tiers:
        times = np.asarray(tier.times, dtype=np.float64)
        mapped = np.atleast_1d(mapper(times)) if times.size else times
        if tier.kind == "point":
            items = tuple(dataclasses.replace(p, time_s=float(t))
                          for p, t in zip(tier.items, mapped, strict=True))
        else:
            items = []
            for k, it in enumerate(tier.items):
                start, end = float(mapped[2 * k]), float(mapped[2 * k + 1])
                end = max(end, start)  # the map is monotone; guard against rounding
                collapsed = it.collapsed or (
                    it.end_s - it.start_s > ZERO_LENGTH_S and end - start <= ZERO_LENGTH_S)
                label = it.label
                if collapsed and not it.collapsed:
                    warnings.append(
                        f"tier {tier.name!r}, interval {k + 1} ({it.label!r}, "
                        f"{it.start_s:.6f}-{it.end_s:.6f} s) collapses to zero length at "
                        f"{start:.6f} s on {target.upper()}; kept and flagged")
                    if collapsed_marker:
                        label = label + collapsed_marker
                items.append(Interval(start, end, label, collapsed))
            items = tuple(items)
        tiers.append(Tier(tier.name, tier.kind, items))
    source = alignment.sources.get(target) or {}
    media = source.get("path") if hasattr(source, "get") else None
    result = Annotation(tuple(tiers), start_s=0.0, end_s=_duration(alignment, target),
                        media=None if media is None else str(media))
    return TransferResult(result, tuple(warnings))
