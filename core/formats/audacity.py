"""Audacity label tracks: one label per line, ``start<TAB>end<TAB>label`` in seconds.

Audacity writes six decimals and a point label as ``start == end``; a line starting with
a backslash carries the spectral selection of the label above (low and high frequency)
and is skipped here. Labels cannot contain tabs or line breaks: the writer turns them
into spaces.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..alignment import Alignment
from ..errors import FormatError
from ..paths import open_output
from .annotations import Annotation, Interval, Point, Tier
from .csv_pairs import alignment_from_times, read_text

__all__ = ["read_labels", "write_labels", "write_alignment_labels", "read_alignment_labels",
           "parse_labels"]


def _clean(label: str) -> str:
    return " ".join(label.replace("\t", " ").splitlines()).strip() if label else ""


def _num(token: str, path, line: int, what: str) -> float:
    try:
        value = float(token.replace(",", ".") if "." not in token else token)
    except ValueError:
        raise FormatError(path, f"{what} {token!r} is not a number", line=line) from None
    if not math.isfinite(value):
        raise FormatError(path, f"{what} {token!r} is not finite", line=line)
    return value


def parse_labels(text: str, path) -> list[tuple[float, float, str, int]]:
    """Parse label lines into ``(start_s, end_s, label, line)`` tuples.

    Raises
    ------
    FormatError
        On a line without a start and an end time, a time that is not a number, or an
        end before its start.
    """
    labels = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.startswith("\\"):
            continue
        fields = raw.split("\t")
        if len(fields) < 2:
            raise FormatError(path, "expected start<TAB>end<TAB>label", line=number)
        start = _num(fields[0].strip(), path, number, "start time")
        end = _num(fields[1].strip(), path, number, "end time")
        if end < start:
            raise FormatError(path, f"end {end:g} s is before start {start:g} s", line=number)
        labels.append((start, end, "\t".join(fields[2:]), number))
    return labels


def read_labels(path) -> Annotation:
    """Read an Audacity label file as one tier named after the file.

    The tier is a point tier when every label is a point (start == end), else an
    interval tier (where point labels are zero-length intervals).
    """
    labels = parse_labels(read_text(path), path)
    name = Path(path).stem or "labels"
    if labels and all(s == e for s, e, _, _ in labels):
        tier = Tier(name, "point", tuple(Point(s, lab) for s, _, lab, _ in labels))
    else:
        tier = Tier(name, "interval", tuple(Interval(s, e, lab) for s, e, lab, _ in labels))
    return Annotation((tier,), start_s=0.0)


def write_labels(annotation: Annotation, path) -> list[str]:
    """Write every tier's items as labels, in time order (Audacity has one track per
    file: several tiers are merged). Returns warnings."""
    rows = []
    for tier in annotation.tiers:
        for item in tier.items:
            if isinstance(item, Point):
                rows.append((item.time_s, item.time_s, item.label))
            else:
                rows.append((item.start_s, item.end_s, item.label))
    rows.sort(key=lambda r: (r[0], r[1]))
    warnings = []
    if len(annotation.tiers) > 1:
        warnings.append(f"{len(annotation.tiers)} tiers merged into one Audacity label track")
    with open_output(path) as stream:
        for start, end, label in rows:
            stream.write(f"{start:.6f}\t{end:.6f}\t{_clean(label)}\n")
    return warnings


def write_alignment_labels(alignment: Alignment, path) -> None:
    """Write the path as point labels on A's timeline whose text is the time in B.

    One label per path step: ``t_a<TAB>t_a<TAB>t_b`` (six decimals, as Audacity).
    """
    times = alignment.times_s
    with open_output(path) as stream:
        stream.write("".join(f"{a:.6f}\t{a:.6f}\t{b:.6f}\n" for a, b in times))


def read_alignment_labels(path, *, rate_a_hz=None, rate_b_hz=None) -> Alignment:
    """Read labels written by :func:`write_alignment_labels` (the label is B's time).

    A ``.txt`` file of bare time pairs (two columns, as ``numpy.savetxt`` writes them) is
    read as such: Audacity always writes three fields.
    """
    text = read_text(path)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("\\")]
    if lines and all(len(ln.split("\t")) < 3 for ln in lines):
        from .csv_pairs import read_csv
        return read_csv(path, rate_a_hz=rate_a_hz, rate_b_hz=rate_b_hz)
    labels = parse_labels(text, path)
    if not labels:
        raise FormatError(path, "no labels")
    times = np.empty((len(labels), 2))
    for k, (start, _, label, line) in enumerate(labels):
        times[k, 0] = start
        times[k, 1] = _num(label.strip(), path, line, "label (time in B)")
    return alignment_from_times(times, path, lines=[r[3] for r in labels],
                                rate_a_hz=rate_a_hz, rate_b_hz=rate_b_hz, resolution_s=1e-6,
                                diagnostics={"file": str(path), "format": "audacity"})
