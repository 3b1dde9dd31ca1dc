"""Sonic Visualiser: time-value layers (``.svl``), CSV layers, and external-aligner output.

External aligner
    Sonic Visualiser (and Sonic Lineup) run an external alignment program as
    ``PROGRAM REF OTHER`` and read its standard output as CSV without quoting: two
    columns of seconds, the time in the reference first and the time in the other file
    second, one mapping per line, exit status 0 on success (its stderr is logged). It
    loads the lines into a sparse time-value model keyed on the *second* column, so
    :func:`write_sv_pairs` prints one line per distinct time of the other file (strictly
    increasing), mapped to the middle of the reference's run, like
    :meth:`Alignment.map_b_to_a`.

Layers
    A headerless Sonic Visualiser CSV layer has, per line, ``time[,label]`` (time
    instants), ``time,value[,label]`` (time values), ``time,value,duration[,label]``
    (regions) or ``time,value,duration,level[,label]`` (notes); its ``.txt`` export is the
    same with tabs, told apart from Audacity labels by content (:func:`is_sv_layer_text`).
    A CSV with a header line is read as a plain table of times and labels
    (:func:`read_labels_csv`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from xml.sax.saxutils import quoteattr

import numpy as np

from ..alignment import Alignment, path_knots
from ..errors import FormatError
from ..paths import open_output
from ._xml import parse_xml
from .annotations import Annotation, Interval, Point, Tier
from .csv_pairs import alignment_from_times, parse_time_pairs, read_text

__all__ = ["write_svl", "read_svl", "write_sv_csv", "read_sv_pairs", "write_sv_pairs",
           "read_sv_layer_csv", "write_sv_layer_csv", "read_labels_csv", "write_labels_csv",
           "csv_has_header", "is_sv_layer_text", "is_sv_layer_file"]

_DEFAULT_SAMPLE_RATE = 48000


def _num(x: float) -> str:
    return np.format_float_positional(float(x), trim="-")


# ------------------------------------------------------------------ external aligner
def sv_pairs(alignment: Alignment) -> np.ndarray:
    """``(t_ref, t_other)`` rows, strictly increasing in ``t_other`` (A is the reference)."""
    kb, ka = path_knots(alignment.path, 1)
    return np.stack([ka / alignment.rate_a_hz, kb / alignment.rate_b_hz], axis=1)


def write_sv_pairs(alignment: Alignment, stream) -> None:
    """Write ``t_ref,t_other`` lines (seconds, no header) to a text stream; A is REF."""
    rows = sv_pairs(alignment)
    stream.write("".join(f"{a:.6f},{b:.6f}\n" for a, b in rows))


def read_sv_pairs(path, *, rate_a_hz=None, rate_b_hz=None) -> Alignment:
    """Read external-aligner output (``t_ref,t_other`` lines) or our ``sv-csv`` export
    as an alignment whose A is the reference."""
    times, lines, resolution = parse_time_pairs(read_text(path), path)
    return alignment_from_times(times, path, lines=lines, rate_a_hz=rate_a_hz,
                                rate_b_hz=rate_b_hz, resolution_s=resolution,
                                diagnostics={"file": str(path), "format": "sv-csv"})


def write_sv_csv(alignment: Alignment, path) -> None:
    """A CSV Sonic Visualiser imports as a time-value layer on A: ``t_a,t_b`` per path
    step, no header (time in the first column, value = time in B)."""
    times = alignment.times_s
    with open_output(path) as stream:
        stream.write("".join(f"{a:.9f},{b:.9f}\n" for a, b in times))


# ------------------------------------------------------------------ .svl
def _sample_rate(alignment: Alignment) -> int:
    source = alignment.sources.get("a") or {}
    rate = source.get("rate_hz") if hasattr(source, "get") else None
    kind = source.get("kind", "audio") if hasattr(source, "get") else "audio"
    if rate and kind == "audio" and float(rate) == int(rate):
        return int(rate)
    return _DEFAULT_SAMPLE_RATE


def write_svl(alignment: Alignment, path) -> None:
    """Write a Sonic Visualiser layer file: a time-value layer on A's timeline whose
    value is the corresponding time in B (seconds), one point per path step.

    The layer's sample rate is A's audio sample rate when known (else 48 kHz); when it
    is a whole multiple of A's frame rate, the model ``resolution`` is that multiple so
    the reader recovers the frame rate exactly.
    """
    sr = _sample_rate(alignment)
    ratio = sr / alignment.rate_a_hz
    resolution = int(round(ratio)) if abs(ratio - round(ratio)) < 1e-9 and ratio >= 1 else 1
    frames = np.round(alignment.times_s[:, 0] * sr).astype(np.int64)
    tb = alignment.times_s[:, 1]
    end = int(round(alignment.duration_a_s * sr))
    name = "Alignment Inspector: time in B (s)"
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<!DOCTYPE sonic-visualiser>", "<sv>",
           "  <data>",
           f'    <model id="1" name={quoteattr(name)} sampleRate="{sr}" start="0" '
           f'end="{end}" type="sparse" dimensions="2" resolution="{resolution}" '
           f'notifyOnAdd="true" dataset="0" minimum="{_num(tb.min())}" '
           f'maximum="{_num(tb.max())}" units="s" />',
           '    <dataset id="0" dimensions="2">']
    out += [f'      <point frame="{f}" value="{_num(v)}" label="" />'
            for f, v in zip(frames, tb, strict=True)]
    out += ["    </dataset>", "  </data>", "  <display>",
            f'    <layer id="2" type="timevalues" name={quoteattr(name)} model="1" />',
            "  </display>", "</sv>"]
    with open_output(path) as stream:
        stream.write("\n".join(out) + "\n")


def read_svl(path, *, rate_a_hz=None, rate_b_hz=None) -> Alignment:
    """Read a time-value layer (``.svl``) whose value is the time in B (seconds)."""
    root = parse_xml(path)
    model = next((m for m in root.iter("model")
                  if m.get("type") == "sparse" and m.get("dimensions") == "2"), None)
    if root.tag != "sv" or model is None:
        raise FormatError(path, "not a Sonic Visualiser time-value layer (no sparse "
                          "2-dimensional model)")
    try:
        sr = float(model.get("sampleRate"))
        resolution = int(model.get("resolution", "1"))
    except (TypeError, ValueError):
        raise FormatError(path, "model: sampleRate or resolution is not a number") from None
    if not (math.isfinite(sr) and sr > 0 and resolution >= 1):
        raise FormatError(path, f"model: bad sampleRate {sr} or resolution {resolution}")
    dataset = next((d for d in root.iter("dataset") if d.get("id") == model.get("dataset")),
                   None)
    if dataset is None:
        raise FormatError(path, f"dataset {model.get('dataset')!r} of the model is missing")
    rows = []
    for k, point in enumerate(dataset.iter("point"), start=1):
        try:
            rows.append((int(point.get("frame")) / sr, float(point.get("value"))))
        except (TypeError, ValueError):
            raise FormatError(path, f"point {k}: frame or value missing or not a "
                              f"number") from None
    if not rows:
        raise FormatError(path, "the layer has no points")
    times = np.array(rows)
    if rate_a_hz is None and resolution > 1:
        rate_a_hz = sr / resolution
    return alignment_from_times(times, path, rate_a_hz=rate_a_hz, rate_b_hz=rate_b_hz,
                                resolution_s=min(1e-9, 0.5 / sr),
                                diagnostics={"file": str(path), "format": "svl"})


# ------------------------------------------------------------------ CSV layers
def _sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV layer: the one that makes the first field of the first line
    a number (a time), else (a header) the one that splits it into the most fields; a
    label may hold the others, quoted."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    candidates = ("\t", ",", ";")
    fields = {d: next(csv.reader([first], delimiter=d), [""]) for d in candidates}
    for delimiter in candidates:
        if len(fields[delimiter]) > 1 and _is_number(fields[delimiter][0].strip()):
            return delimiter
    best = max(candidates, key=lambda d: len(fields[d]))
    return best if len(fields[best]) > 1 else ","


def _is_number(token: str) -> bool:
    try:
        return math.isfinite(float(token))
    except ValueError:
        return False


#: Sonic Visualiser writes times as RealTime::toString: seconds with nine decimals.
_REALTIME = re.compile(r"^-?\d+\.\d{9}$")


def is_sv_layer_text(text: str) -> bool:
    """Whether ``text`` is a layer Sonic Visualiser exported as text (``.txt``: fields
    separated by tabs) rather than Audacity labels.

    Both are tab-separated with a time first. Sonic Visualiser writes every time as
    seconds with nine decimals and a layer's value in the second field (a plain number,
    never nine fixed decimals); Audacity writes start and end times with six decimals.
    So: every line's first field has nine decimals and no line's second field does.
    """
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return False
    for line in lines:
        fields = line.split("\t")
        if not _REALTIME.match(fields[0].strip()):
            return False
        if len(fields) > 1 and _REALTIME.match(fields[1].strip()):
            return False
    return True


def is_sv_layer_file(path) -> bool:
    """:func:`is_sv_layer_text` of a file's first 64 KiB (False when it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(1 << 16)
    except OSError:
        return False
    text = data.decode("utf-8", "replace")
    if len(data) == 1 << 16:  # a line cut at the end of the sample is not evidence
        text = text.rsplit("\n", 1)[0]
    return is_sv_layer_text(text)


def csv_has_header(path) -> bool:
    """True when the first non-empty line of a CSV file starts with a non-number."""
    try:
        text = read_text(path)
    except FormatError:
        return False
    rows = list(csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(text)))
    first = next((r for r in rows if r and any(c.strip() for c in r)), None)
    return bool(first) and not _is_number(first[0].strip())


def _csv_rows(path):
    text = read_text(path)
    reader = csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(text))
    try:
        return [(reader.line_num, row) for row in reader if row and any(c.strip() for c in row)]
    except csv.Error as err:
        raise FormatError(path, f"CSV: {err}", line=reader.line_num) from None


def _float(token: str, path, line: int, what: str) -> float:
    token = token.strip()
    if not _is_number(token):
        raise FormatError(path, f"{what} {token!r} is not a number", line=line)
    return float(token)


def read_sv_layer_csv(path) -> Annotation:
    """Read a headerless Sonic Visualiser CSV layer (instants, values, regions, notes)."""
    rows = _csv_rows(path)
    if not rows:  # an empty layer
        return Annotation((Tier("layer", "point", ()),), start_s=0.0)
    first_line, first = rows[0]
    n = len(first)
    # an empty field is a missing value (or level) when a label follows it or other rows
    # have numbers in that column
    numeric = [_is_number(c.strip()) or (k > 0 and not c.strip() and (k < n - 1 or any(
        len(r) > k and _is_number(r[k].strip()) for _, r in rows)))
        for k, c in enumerate(first)]
    if not _is_number(first[0].strip()):
        raise FormatError(path, f"time {first[0]!r} is not a number", line=first_line)
    # the number of leading numeric columns tells the layer type (at most 4: notes); an
    # empty second column in every row is a layer of points without values whose labels
    # read as numbers (as we write them)
    n_num = min(next((k for k, ok in enumerate(numeric) if not ok), n), 4)
    if all(len(r) >= 3 and not r[1].strip() for _, r in rows):
        n_num = 2
    name = "layer"
    items = []
    if n_num >= 3:  # regions (time, value, duration) or notes (time, value, duration, level)
        for line, row in rows:
            if len(row) < 3:
                raise FormatError(path, f"expected time,value,duration[,label], found "
                                  f"{len(row)} columns", line=line)
            t = _float(row[0], path, line, "time")
            duration = _float(row[2], path, line, "duration")
            if duration < 0:
                raise FormatError(path, f"negative duration {duration:g}", line=line)
            label = row[n_num] if len(row) > n_num else ""
            items.append(Interval(t, t + duration, label))
        tier = Tier(name, "interval", tuple(items))
    else:
        prev = -math.inf
        for line, row in rows:
            t = _float(row[0], path, line, "time")
            if t < prev:
                raise FormatError(path, f"time {t:g} s goes back (previous {prev:g} s)",
                                  line=line)
            prev = t
            value = (_float(row[1], path, line, "value")
                     if n_num == 2 and len(row) > 1 and row[1].strip() else None)
            label = row[n_num] if len(row) > n_num else ""
            items.append(Point(t, label, value))
        tier = Tier(name, "point", tuple(items))
    return Annotation((tier,), start_s=0.0)


def write_sv_layer_csv(annotation: Annotation, path) -> list[str]:
    """Write a headerless CSV Sonic Visualiser imports: ``time,label`` (or
    ``time,value,label``) for points, ``time,value,duration,label`` for intervals
    (value 0). Several tiers are merged in time order."""
    warnings = []
    if len(annotation.tiers) > 1:
        warnings.append(f"{len(annotation.tiers)} tiers merged into one Sonic Visualiser "
                        f"layer")
    has_interval = any(t.kind == "interval" for t in annotation.tiers)
    has_value = any(isinstance(p, Point) and p.value is not None
                    for t in annotation.tiers for p in t.items)
    # a label that reads as a number would be read as a value (or a note's level): such
    # layers keep an empty column before the label (read back as "no value"/"no level")
    numeric_labels = any(_is_number(it.label.strip()) for t in annotation.tiers
                         for it in t.items)
    rows = []
    for tier in annotation.tiers:
        for it in tier.items:
            if has_interval:
                start, end = ((it.time_s, it.time_s) if isinstance(it, Point)
                              else (it.start_s, it.end_s))
                level = [""] if numeric_labels else []
                rows.append((start, [f"{start:.9f}", "0", f"{end - start:.9f}", *level,
                                     it.label]))
            elif has_value or numeric_labels:
                value = "" if it.value is None else _num(it.value)
                rows.append((it.time_s, [f"{it.time_s:.9f}", value, it.label]))
            else:
                rows.append((it.time_s, [f"{it.time_s:.9f}", it.label]))
    rows.sort(key=lambda r: r[0])
    with open_output(path) as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerows(r for _, r in rows)
    return warnings


_START = ("start", "start_s", "start_time", "onset", "onset_s", "begin", "begin_s", "time",
          "time_s", "t", "tmin", "xmin", "time_a_s")
_END = ("end", "end_s", "end_time", "offset", "offset_s", "stop", "tmax", "xmax", "end_a_s")
_DURATION = ("duration", "duration_s", "dur")
_LABEL = ("label", "text", "word", "name", "annotation", "mark")
_TIER = ("tier", "tier_name", "layer")


def _column(names, candidates):
    return next((names.index(c) for c in candidates if c in names), None)


def read_labels_csv(path) -> Annotation:
    """Read a CSV whose header names a start (or time) column, optionally an end or
    duration, a label and a tier column; rows without an end are points."""
    rows = _csv_rows(path)
    if not rows:
        raise FormatError(path, "no rows")
    header_line, header = rows[0]
    names = [h.strip().lower() for h in header]
    start_col, end_col = _column(names, _START), _column(names, _END)
    dur_col, label_col = _column(names, _DURATION), _column(names, _LABEL)
    tier_col = _column(names, _TIER)
    if start_col is None:
        raise FormatError(path, f"the header names no start or time column (one of "
                          f"{', '.join(_START[:8])}): {header}", line=header_line)
    tiers: dict[str, list] = {}
    kinds: dict[str, set] = {}
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise FormatError(path, f"expected {len(header)} columns, found {len(row)}",
                              line=line)
        start = _float(row[start_col], path, line, "start time")
        label = row[label_col] if label_col is not None else ""
        tier = row[tier_col] if tier_col is not None else "labels"
        end = None
        if end_col is not None and row[end_col].strip():
            end = _float(row[end_col], path, line, "end time")
        elif dur_col is not None and row[dur_col].strip():
            end = start + _float(row[dur_col], path, line, "duration")
        if end is not None and end < start:
            raise FormatError(path, f"end {end:g} s is before start {start:g} s", line=line)
        tiers.setdefault(tier, []).append((start, end, label))
        kinds.setdefault(tier, set()).add(end is None)
    out = []
    for tier, items in tiers.items():
        if kinds[tier] == {True}:
            out.append(Tier(tier, "point", tuple(Point(s, lab) for s, _, lab in items)))
        else:
            out.append(Tier(tier, "interval", tuple(
                Interval(s, s if e is None else e, lab) for s, e, lab in items)))
    return Annotation(tuple(out), start_s=0.0)


def write_labels_csv(annotation: Annotation, path) -> list[str]:
    """Write ``tier,start_s,end_s,label`` rows (``end_s`` empty for points)."""
    with open_output(path) as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["tier", "start_s", "end_s", "label"])
        for tier in annotation.tiers:
            for it in tier.items:
                if isinstance(it, Point):
                    writer.writerow([tier.name, f"{it.time_s:.9f}", "", it.label])
                else:
                    writer.writerow([tier.name, f"{it.start_s:.9f}", f"{it.end_s:.9f}",
                                     it.label])
    return []
