"""Annotations of one recording: named tiers of labelled intervals or points.

This is the common model that every annotation reader returns and every writer takes,
so that labels read from one format (Audacity, Praat, ELAN, Sonic Visualiser, CSV) can
be moved through an alignment and written to any other.
"""

from __future__ import annotations

import dataclasses
import math

__all__ = ["Interval", "Point", "Tier", "Annotation", "MAX_TIME_S"]

#: Times beyond three years (either sign) come from broken files, not recordings.
MAX_TIME_S = 1e8


def _time(value, what: str) -> float:
    t = float(value)
    if not (math.isfinite(t) and abs(t) <= MAX_TIME_S):
        raise ValueError(f"{what} must be finite seconds within +-{MAX_TIME_S:g}, got {value}")
    return t


@dataclasses.dataclass(frozen=True)
class Interval:
    """A labelled stretch of time ``[start_s, end_s]`` (seconds, ``start_s <= end_s``).

    ``collapsed`` is True when a transfer mapped a positive-length interval to zero
    length (the recording it was mapped to holds still there); such intervals are kept,
    never dropped.
    """

    start_s: float
    end_s: float
    label: str = ""
    collapsed: bool = False

    def __post_init__(self):
        start = _time(self.start_s, f"interval {self.label!r}: start")
        end = _time(self.end_s, f"interval {self.label!r}: end")
        if end < start:
            raise ValueError(f"interval {self.label!r}: end {end} before start {start}")
        object.__setattr__(self, "start_s", start)
        object.__setattr__(self, "end_s", end)
        object.__setattr__(self, "label", str(self.label))


@dataclasses.dataclass(frozen=True)
class Point:
    """A labelled instant ``time_s`` (seconds), with an optional numeric ``value``
    (Sonic Visualiser time-value layers)."""

    time_s: float
    label: str = ""
    value: float | None = None

    def __post_init__(self):
        t = _time(self.time_s, f"point {self.label!r}: time")
        object.__setattr__(self, "time_s", t)
        object.__setattr__(self, "label", str(self.label))


@dataclasses.dataclass(frozen=True)
class Tier:
    """A named tier: ``kind`` is ``"interval"`` (items are :class:`Interval`) or
    ``"point"`` (items are :class:`Point`). Items are kept in the order given."""

    name: str
    kind: str
    items: tuple = ()

    def __post_init__(self):
        if self.kind not in ("interval", "point"):
            raise ValueError(f"tier {self.name!r}: kind must be 'interval' or 'point', "
                             f"got {self.kind!r}")
        items = tuple(self.items)
        expected = Interval if self.kind == "interval" else Point
        for k, item in enumerate(items):
            if not isinstance(item, expected):
                raise ValueError(f"tier {self.name!r}: item {k} is not a {expected.__name__}")
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "name", str(self.name))

    @property
    def times(self) -> list[float]:
        """Every time in the tier (starts and ends of intervals, or point times)."""
        if self.kind == "interval":
            return [t for it in self.items for t in (it.start_s, it.end_s)]
        return [p.time_s for p in self.items]


@dataclasses.dataclass(frozen=True)
class Annotation:
    """Tiers of one recording, spanning ``[start_s, end_s]`` seconds.

    ``end_s`` defaults to the latest time in any tier. ``media`` names the recording
    when the file said so.
    """

    tiers: tuple = ()
    start_s: float = 0.0
    end_s: float | None = None
    media: str | None = None

    def __post_init__(self):
        tiers = tuple(self.tiers)
        for tier in tiers:
            if not isinstance(tier, Tier):
                raise ValueError("tiers: expected Tier objects")
        object.__setattr__(self, "tiers", tiers)
        times = [t for tier in tiers for t in tier.times]
        for name, value in (("start_s", self.start_s), ("end_s", self.end_s)):
            if value is not None:
                _time(value, f"annotation: {name}")
        start = float(self.start_s)
        if times:
            start = min(start, min(times))
        end = max(times, default=start) if self.end_s is None else float(self.end_s)
        if times:
            end = max(end, max(times))
        object.__setattr__(self, "start_s", start)
        object.__setattr__(self, "end_s", max(end, start))

    def tier(self, name: str) -> Tier:
        """The tier called ``name`` (KeyError if absent)."""
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise KeyError(name)
