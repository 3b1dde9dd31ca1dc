"""Moving annotations through a path with jumps: an A label goes to every B occurrence.

Each piece maps the part of an item that falls in its span: with ``a2b`` an interval of A
that B plays twice (a repeat) appears twice on B, one that B skips does not appear (and
is reported); an interval that a jump cuts is split, each part keeping the label. Items
come out in time order on the target recording.
"""

from __future__ import annotations

import numpy as np

from ..formats.annotations import Annotation, Interval, Point, Tier
from ..formats.transfer import ZERO_LENGTH_S, TransferResult, _duration

__all__ = ["transfer_pieces"]


def _spans(alignment, axis):
    """Per piece: (lo, hi) on the source axis (seconds, half a frame beyond the ends),
    and the knots mapping it."""
    rate = (alignment.rate_a_hz, alignment.rate_b_hz)[axis]
    out = []
    for p in alignment.pieces:
        keys, values = p.mapping_knots(axis)
        out.append((keys[0] - 0.5 / rate, keys[-1] + 0.5 / rate, keys, values))
    return out


def transfer_pieces(annotation, alignment, *, direction="a2b", collapsed_marker=None):
    """:func:`core.formats.transfer.transfer_annotation` for a
    :class:`~core.structure.PiecewiseAlignment` (same parameters and result)."""
    axis = 0 if direction == "a2b" else 1
    target = "b" if direction == "a2b" else "a"
    spans = _spans(alignment, axis)
    warnings: list[str] = []
    tiers = []
    for tier in annotation.tiers:
        if tier.kind == "point":
            items = []
            for k, pt in enumerate(tier.items):
                hits = [float(np.interp(pt.time_s, keys, values))
                        for lo, hi, keys, values in spans if lo <= pt.time_s < hi]
                if not hits:
                    warnings.append(f"tier {tier.name!r}, point {k + 1} ({pt.label!r}, "
                                    f"{pt.time_s:.6f} s) is not on {target.upper()} (a "
                                    f"skipped section); left out")
                items += [Point(t, pt.label, pt.value) for t in hits]
            items.sort(key=lambda p: p.time_s)
        else:
            items = []
            for k, it in enumerate(tier.items):
                parts = []
                for lo, hi, keys, values in spans:
                    s, e = max(it.start_s, lo), min(it.end_s, hi)
                    if e < s or (e == s and it.end_s > it.start_s):
                        continue
                    ms = float(np.interp(s, keys, values))
                    me = max(ms, float(np.interp(e, keys, values)))
                    parts.append((ms, me))
                if not parts:
                    warnings.append(f"tier {tier.name!r}, interval {k + 1} ({it.label!r}, "
                                    f"{it.start_s:.6f}-{it.end_s:.6f} s) is not on "
                                    f"{target.upper()} (a skipped section); left out")
                for ms, me in parts:
                    collapsed = it.collapsed or (it.end_s - it.start_s > ZERO_LENGTH_S
                                                 and me - ms <= ZERO_LENGTH_S)
                    label = it.label
                    if collapsed and not it.collapsed:
                        warnings.append(f"tier {tier.name!r}, interval {k + 1} "
                                        f"({it.label!r}) collapses to zero length at "
                                        f"{ms:.6f} s on {target.upper()}; kept and flagged")
                        if collapsed_marker:
                            label += collapsed_marker
                    items.append(Interval(ms, me, label, collapsed))
            items.sort(key=lambda it: (it.start_s, it.end_s))
        tiers.append(Tier(tier.name, tier.kind, tuple(items)))
    source = alignment.sources.get(target) or {}
    media = source.get("path") if hasattr(source, "get") else None
    result = Annotation(tuple(tiers), start_s=0.0, end_s=_duration(alignment, target),
                        media=None if media is None else str(media))
    return TransferResult(result, tuple(warnings))
