"""Praat TextGrid files: interval and point tiers, long and short text formats.

Reading accepts UTF-8 (with or without BOM) and UTF-16 (Praat writes UTF-16 when a label
is not ASCII), the long format (``xmin = 0``) and the short one (bare values), comments
after ``!``, and Praat's binary format ("Save as binary file": big-endian doubles,
labels in ASCII or UTF-16). Writing gives the long format, UTF-8 without BOM; interval tiers
always tile ``[xmin, xmax]`` (gaps become empty intervals, overlapping intervals move to
extra tiers, zero-length intervals get a width of :data:`MIN_WIDTH_S` taken from their
neighbours, with a warning).
"""

from __future__ import annotations

import math
import re
import struct
from pathlib import Path

import numpy as np

from ..alignment import Alignment
from ..errors import FormatError
from ..paths import open_output
from ._anchors import fill_path, path_anchors
from .annotations import Annotation, Interval, Point, Tier
from .csv_pairs import alignment_from_times, decode_text, infer_rate

__all__ = ["read_textgrid", "write_textgrid", "write_alignment_textgrid",
           "read_alignment_textgrid", "decode_praat_text", "MIN_WIDTH_S"]

#: Width given to a zero-length interval in an interval tier (Praat needs xmin < xmax).
MIN_WIDTH_S = 0.001
_TOL = 1e-9

_TOKEN = re.compile(r'"(?:[^"]|"")*"?|![^\n]*|\[[^\]\n]*\]?|<[^>\n]*>?|[^\s"!\[<]+')
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def decode_praat_text(data: bytes, path) -> str:
    """Decode a Praat text file: UTF-8 (BOM optional), UTF-16 (BOM, or NULs without one),
    else Latin-1 (old Praat versions wrote the platform's 8-bit encoding).

    Raises
    ------
    FormatError
        For UTF-16 or BOM-marked UTF-8 that does not decode (naming the file and line).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return decode_text(data, path, "utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        return decode_text(data[3:], path, "utf-8")
    head = data[:200]
    if head.count(b"\x00") > len(head) // 4:
        return decode_text(data, path, "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class _Tokens:
    """Numbers, strings and ``<flags>`` of a Praat text file, read as they are asked for
    (a broken file fails at its first bad value without scanning the rest). Values come
    with their offset in the text; :meth:`line` turns an offset into a line number."""

    def __init__(self, text: str, path):
        self.path = path
        self.text = text
        self._scan = self._tokens()
        self._ahead = None
        self._last = 0

    def _tokens(self):
        previous = ""
        for m in _TOKEN.finditer(self.text):
            tok = m.group()
            first = tok[0]
            after_equals, previous = previous.endswith("="), tok
            if first == '"':
                if len(tok) < 2 or not tok.endswith('"') or tok.count('"') % 2:
                    raise FormatError(self.path, "unterminated string",
                                      line=self.line(m.start()))
                yield "str", tok[1:-1].replace('""', '"'), m.start()
            elif first == "<":
                yield "flag", tok, m.start()
            elif first in "![":
                continue
            elif _NUMBER.match(tok):
                yield "num", tok, m.start()
            elif after_equals:  # "xmax = two": a value that is not a number
                yield "word", tok, m.start()
            # anything else is a field name, "=", ":" or "?": Praat treats it as a comment

    def line(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def _peek(self):
        if self._ahead is None:
            self._ahead = next(self._scan, False)
        return self._ahead

    def _next(self, what: str):
        item = self._peek()
        if not item:
            raise FormatError(self.path, f"file ends where {what} was expected",
                              line=self.line(self._last))
        self._ahead = None
        self._last = item[2]
        return item

    def number(self, what: str) -> tuple[float, int]:
        kind, value, at = self._next(what)
        if kind != "num":
            raise FormatError(self.path, f"expected {what} (a number), found {value!r}",
                              line=self.line(at))
        number = float(value)
        if not math.isfinite(number):
            raise FormatError(self.path, f"{what} {value} is not a finite number",
                              line=self.line(at))
        return number, at

    def count(self, what: str) -> int:
        """A number of items: a whole number that the rest of the file can hold (every
        item takes at least two characters)."""
        number, at = self.number(what)
        if number != int(number) or number < 0:
            raise FormatError(self.path, f"{what} {number:g} is not a whole number",
                              line=self.line(at))
        left = len(self.text) - at
        if number > left // 2:
            raise FormatError(self.path, f"{what} is {int(number)} but the file ends "
                              f"{left} characters later", line=self.line(at))
        return int(number)

    def string(self, what: str) -> tuple[str, int]:
        kind, value, at = self._next(what)
        if kind != "str":
            raise FormatError(self.path, f"expected {what} (a quoted text), found {value!r}",
                              line=self.line(at))
        return value, at

    def flag(self) -> str | None:
        item = self._peek()
        if item and item[0] == "flag":
            self._ahead = None
            return item[1]
        return None


def read_textgrid(path) -> Annotation:
    """Read a Praat TextGrid (long or short text format, any of Praat's encodings).

    Raises
    ------
    FormatError
        Naming the line: not a TextGrid, a missing or non-numeric value, an unknown tier
        class, an interval whose end is before its start, intervals that do not tile
        (a gap or an overlap between neighbours), points out of time order.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise FormatError(path, err.strerror or "cannot be read") from None
    if data.startswith(_BINARY_MAGIC):
        return _read_binary(data, path)
    tokens = _Tokens(decode_praat_text(data, path), path)
    file_type, at = tokens.string("the file type")
    if not file_type.startswith("ooTextFile"):
        raise FormatError(path, f"not a Praat text file (file type {file_type!r})",
                          line=tokens.line(at))
    object_class, at = tokens.string("the object class")
    if not object_class.startswith("TextGrid"):
        raise FormatError(path, f"not a TextGrid (object class {object_class!r})",
                          line=tokens.line(at))
    xmin, _ = tokens.number("xmin")
    xmax, at = tokens.number("xmax")
    if xmax < xmin:
        raise FormatError(path, f"xmax {xmax:g} is before xmin {xmin:g}",
                          line=tokens.line(at))
    flag = tokens.flag()
    tiers = []
    if flag != "<absent>":
        size = tokens.count("the number of tiers")
        for t in range(size):
            tiers.append(_read_tier(tokens, path, t + 1))
    return Annotation(tuple(tiers), start_s=xmin, end_s=xmax)


def _read_tier(tokens: _Tokens, path, index: int) -> Tier:
    kind, at = tokens.string(f"the class of tier {index}")
    name, _ = tokens.string(f"the name of tier {index}")
    tokens.number(f"xmin of tier {name!r}")
    tokens.number(f"xmax of tier {name!r}")
    count = tokens.count(f"the size of tier {name!r}")
    items = []
    if kind == "IntervalTier":
        prev_end = None
        for k in range(1, count + 1):
            start, at = tokens.number(f"xmin of interval {k} in tier {name!r}")
            end, _ = tokens.number(f"xmax of interval {k} in tier {name!r}")
            text, _ = tokens.string(f"the text of interval {k} in tier {name!r}")
            if end < start:
                raise FormatError(path, f"tier {name!r}, interval {k}: xmax {end:g} is before "
                                  f"xmin {start:g}", line=tokens.line(at))
            if prev_end is not None and abs(start - prev_end) > _TOL * max(1.0, abs(start)):
                problem = "a gap" if start > prev_end else "an overlap"
                raise FormatError(path, f"tier {name!r}: intervals do not tile ({problem}): "
                                  f"interval {k} starts at {start:g} s but interval {k - 1} "
                                  f"ends at {prev_end:g} s", line=tokens.line(at))
            items.append(Interval(start, end, text))
            prev_end = end
        return Tier(name, "interval", tuple(items))
    if kind == "TextTier":
        prev = None
        for k in range(1, count + 1):
            time, at = tokens.number(f"the time of point {k} in tier {name!r}")
            mark, _ = tokens.string(f"the mark of point {k} in tier {name!r}")
            if prev is not None and time < prev:
                raise FormatError(path, f"tier {name!r}: point {k} at {time:g} s comes before "
                                  f"point {k - 1} at {prev:g} s", line=tokens.line(at))
            items.append(Point(time, mark))
            prev = time
        return Tier(name, "point", tuple(items))
    raise FormatError(path, f"tier {index}: unknown tier class {kind!r} (expected "
                      f"IntervalTier or TextTier)", line=tokens.line(at))


# ---------------------------------------------------------------------------- binary
_BINARY_MAGIC = b"ooBinaryFile"


class _Binary:
    """Big-endian fields of a Praat binary file, each read checked against the end."""

    def __init__(self, data: bytes, path):
        self.data, self.path, self.pos = data, path, len(_BINARY_MAGIC)

    def _take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise FormatError(self.path, f"binary TextGrid: the file ends at byte "
                              f"{len(self.data)} where {what} was expected")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str):
        return struct.unpack(">" + fmt, self._take(struct.calcsize(">" + fmt), what))[0]

    def number(self, what: str) -> float:
        value = self.unpack("d", what)
        if not math.isfinite(value):
            raise FormatError(self.path, f"binary TextGrid: {what} {value} is not a finite "
                              f"number (byte {self.pos - 8})")
        return value

    def count(self, what: str, smallest_item: int) -> int:
        value = self.unpack("i", what)
        if value < 0 or value * smallest_item > len(self.data) - self.pos:
            raise FormatError(self.path, f"binary TextGrid: {what} {value} does not fit in "
                              f"the file (byte {self.pos - 4})")
        return value

    def word(self, what: str) -> str:
        """A class name: a length byte and ASCII."""
        return self._take(self.unpack("B", what), what).decode("latin-1")

    def text(self, what: str) -> str:
        """Praat's 16-bit string: a length and ASCII, or 0xFFFF, a number of characters
        and UTF-16 (characters beyond the BMP take two units)."""
        length = self.unpack("H", what)
        if length != 0xFFFF:
            return self._take(length, what).decode("latin-1")
        n_chars = self.unpack("H", what)
        units = []
        for _ in range(n_chars):
            unit = self._take(2, what)
            units.append(unit)
            if 0xD8 <= unit[0] <= 0xDB:  # a high surrogate: its pair follows
                units.append(self._take(2, what))
        raw = b"".join(units)
        try:
            return raw.decode("utf-16-be")
        except UnicodeDecodeError:
            raise FormatError(self.path, f"binary TextGrid: {what} is not valid UTF-16 "
                              f"(byte {self.pos - len(raw)})") from None


def _read_binary(data: bytes, path) -> Annotation:
    """A TextGrid saved with Praat's "Save as binary file"."""
    b = _Binary(data, path)
    object_class = b.word("the object class")
    if object_class != "TextGrid":
        raise FormatError(path, f"not a TextGrid (binary object class {object_class!r})")
    xmin, xmax = b.number("xmin"), b.number("xmax")
    if xmax < xmin:
        raise FormatError(path, f"xmax {xmax:g} is before xmin {xmin:g}")
    tiers = []
    if b.unpack("B", "the tiers flag"):
        for t in range(1, b.count("the number of tiers", 25) + 1):
            kind = b.word(f"the class of tier {t}")
            name = b.text(f"the name of tier {t}")
            b.number(f"xmin of tier {name!r}")
            b.number(f"xmax of tier {name!r}")
            if kind == "IntervalTier":
                items, prev_end = [], None
                for k in range(1, b.count(f"the size of tier {name!r}", 18) + 1):
                    start = b.number(f"xmin of interval {k} in tier {name!r}")
                    end = b.number(f"xmax of interval {k} in tier {name!r}")
                    label = b.text(f"the text of interval {k} in tier {name!r}")
                    if end < start or (prev_end is not None and abs(start - prev_end) >
                                       _TOL * max(1.0, abs(start))):
                        raise FormatError(path, f"tier {name!r}, interval {k} "
                                          f"({start:g}-{end:g} s) does not follow interval "
                                          f"{k - 1}")
                    items.append(Interval(start, end, label))
                    prev_end = end
                tiers.append(Tier(name, "interval", tuple(items)))
            elif kind == "TextTier":
                items, prev = [], None
                for k in range(1, b.count(f"the size of tier {name!r}", 10) + 1):
                    time = b.number(f"the time of point {k} in tier {name!r}")
                    mark = b.text(f"the mark of point {k} in tier {name!r}")
                    if prev is not None and time < prev:
                        raise FormatError(path, f"tier {name!r}: point {k} at {time:g} s "
                                          f"comes before point {k - 1} at {prev:g} s")
                    items.append(Point(time, mark))
                    prev = time
                tiers.append(Tier(name, "point", tuple(items)))
            else:
                raise FormatError(path, f"tier {t}: unknown tier class {kind!r} (expected "
                                  f"IntervalTier or TextTier)")
    if b.pos != len(data):
        raise FormatError(path, f"binary TextGrid: {len(data) - b.pos} unexpected bytes "
                          f"after the last tier (byte {b.pos})")
    return Annotation(tuple(tiers), start_s=xmin, end_s=xmax)


# ---------------------------------------------------------------------------- writing
def _num(x: float) -> str:
    return np.format_float_positional(float(x), trim="-")


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _layers(items) -> list[list[Interval]]:
    """Split intervals into non-overlapping layers (first fit, in start order)."""
    layers: list[list[Interval]] = []
    for it in sorted(items, key=lambda it: (it.start_s, it.end_s)):
        for layer in layers:
            if layer[-1].end_s <= it.start_s + _TOL:
                layer.append(it)
                break
        else:
            layers.append([it])
    return layers or [[]]


def _tile(layer: list[Interval], xmin: float, xmax: float, name: str,
          warnings: list[str]) -> list[tuple[float, float, str]]:
    """Intervals of one layer as a tiling of ``[xmin, xmax]`` with widths >= MIN_WIDTH_S.

    Gaps become empty intervals. A zero-length interval (e.g. one that collapsed in a
    transfer) is widened by moving the boundaries around it: first later boundaries move
    forward, then, at the end of the tier, earlier ones move back.
    """
    rows: list[list] = []
    cursor = xmin
    for it in layer:
        if it.start_s > cursor + _TOL:
            rows.append([cursor, it.start_s, ""])
        rows.append([max(it.start_s, cursor), max(it.end_s, cursor), it.label])
        cursor = rows[-1][1]
    if xmax > cursor + _TOL or not rows:
        rows.append([cursor, max(xmax, cursor), ""])
    n = len(rows)
    bounds = [rows[0][0]] + [r[1] for r in rows]
    narrow = [k for k in range(n) if bounds[k + 1] - bounds[k] < MIN_WIDTH_S * 0.999]
    if narrow:
        for k in narrow:
            if rows[k][2]:
                warnings.append(f"tier {name!r}: zero-length interval {rows[k][2]!r} at "
                                f"{rows[k][0]:.6f} s widened to {MIN_WIDTH_S * 1000:g} ms")
        for k in range(1, n + 1):
            bounds[k] = max(bounds[k], bounds[k - 1] + MIN_WIDTH_S)
        bounds[n] = max(xmax, bounds[0] + n * MIN_WIDTH_S)
        for k in range(n - 1, 0, -1):
            bounds[k] = min(bounds[k], bounds[k + 1] - MIN_WIDTH_S)
    return [(bounds[k], bounds[k + 1], rows[k][2]) for k in range(n)]


def _separate(points, name: str, warnings: list[str]) -> list[tuple[float, str]]:
    """Points in time order, a point at the time of the previous one moved 1 us later
    (Praat keeps a single point per time)."""
    rows: list[tuple[float, str]] = []
    for p in sorted(points, key=lambda p: p.time_s):
        t = p.time_s
        if rows and t <= rows[-1][0]:
            t = rows[-1][0] + 1e-6
            warnings.append(f"tier {name!r}: point {p.label!r} at {p.time_s:.6f} s shares its "
                            f"time with the previous point; moved to {t:.6f} s")
        rows.append((t, p.label))
    return rows


def write_textgrid(annotation: Annotation, path, *, short: bool = False) -> list[str]:
    """Write ``annotation`` as a TextGrid (long format unless ``short``), UTF-8 without BOM.

    Returns
    -------
    list of str
        Warnings: tiers split because intervals overlapped, zero-length intervals widened.
    """
    warnings: list[str] = []
    xmin, xmax = annotation.start_s, annotation.end_s
    tiers = []  # (class, name, rows)
    for tier in annotation.tiers:
        if tier.kind == "point":
            tiers.append(("TextTier", tier.name, _separate(tier.items, tier.name, warnings)))
            continue
        layers = _layers(tier.items)
        if len(layers) > 1:
            warnings.append(f"tier {tier.name!r}: overlapping intervals split over "
                            f"{len(layers)} interval tiers")
        for k, layer in enumerate(layers):
            name = tier.name if k == 0 else f"{tier.name} ({k + 1})"
            rows = _tile(layer, xmin, xmax, name, warnings)
            tiers.append(("IntervalTier", name, rows))
    for cls, _, rows in tiers:  # widening or separating may have moved the last time
        if rows:
            xmax = max(xmax, rows[-1][1] if cls == "IntervalTier" else rows[-1][0])
    for cls, _, rows in tiers:  # every interval tier ends at the common xmax
        if cls == "IntervalTier" and rows[-1][1] < xmax:
            start, _, label = rows[-1]
            rows[-1] = (start, xmax, label)
    out: list[str] = []
    if short:
        out += ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", _num(xmin),
                _num(xmax), "<exists>" if tiers else "<absent>"]
        out += [str(len(tiers))] if tiers else []
        for cls, name, rows in tiers:
            out += [_quote(cls), _quote(name), _num(xmin), _num(xmax), str(len(rows))]
            for row in rows:
                out += [_num(v) for v in row[:-1]] + [_quote(row[-1])]
    else:
        out += ['File type = "ooTextFile"', 'Object class = "TextGrid"', "",
                f"xmin = {_num(xmin)} ", f"xmax = {_num(xmax)} "]
        if not tiers:
            out.append("tiers? <absent> ")
        else:
            out += ["tiers? <exists> ", f"size = {len(tiers)} ", "item []: "]
        for t, (cls, name, rows) in enumerate(tiers, start=1):
            out += [f"    item [{t}]:", f"        class = {_quote(cls)} ",
                    f"        name = {_quote(name)} ", f"        xmin = {_num(xmin)} ",
                    f"        xmax = {_num(xmax)} "]
            if cls == "IntervalTier":
                out.append(f"        intervals: size = {len(rows)} ")
                for k, (start, end, text) in enumerate(rows, start=1):
                    out += [f"        intervals [{k}]:", f"            xmin = {_num(start)} ",
                            f"            xmax = {_num(end)} ",
                            f"            text = {_quote(text)} "]
            else:
                out.append(f"        points: size = {len(rows)} ")
                for k, (time, mark) in enumerate(rows, start=1):
                    out += [f"        points [{k}]:", f"            number = {_num(time)} ",
                            f"            mark = {_quote(mark)} "]
    with open_output(path) as stream:
        stream.write("\n".join(out) + "\n")
    return warnings


# ---------------------------------------------------------------------------- alignment
def _media_name(alignment: Alignment, which: str) -> str:
    source = alignment.sources.get(which) or {}
    return str(source.get("path", "")) if hasattr(source, "get") else ""


def write_alignment_textgrid(alignment: Alignment, path) -> None:
    """Write the path's anchors as two point tiers, ``A`` and ``B``, with matching marks
    (point k of A corresponds to point k of B; see :mod:`core.formats._anchors`)."""
    anchors = path_anchors(alignment.path)
    ta = anchors[:, 0] / alignment.rate_a_hz
    tb = anchors[:, 1] / alignment.rate_b_hz
    marks = [str(k) for k in range(1, len(anchors) + 1)]
    tier_a = Tier("A", "point", tuple(Point(t, m) for t, m in zip(ta, marks, strict=True)))
    tier_b = Tier("B", "point", tuple(Point(t, m) for t, m in zip(tb, marks, strict=True)))
    end = max(alignment.duration_a_s, alignment.duration_b_s)
    write_textgrid(Annotation((tier_a, tier_b), start_s=0.0, end_s=end), path)


def anchors_to_alignment(times_a, times_b, path, *, rate_a_hz=None, rate_b_hz=None,
                         resolution_s=1e-9, fmt="textgrid", sources=None) -> Alignment:
    """Alignment from matched anchor times (seconds) of a tier format."""
    times = np.stack([np.asarray(times_a, float), np.asarray(times_b, float)], axis=1)
    rate_a = rate_a_hz or infer_rate(times[:, 0], resolution_s)
    rate_b = rate_b_hz or infer_rate(times[:, 1], resolution_s)
    coarse = alignment_from_times(times, path, rate_a_hz=rate_a, rate_b_hz=rate_b,
                                  resolution_s=resolution_s, allow_reversed=False,
                                  diagnostics={"file": str(path), "format": fmt})
    anchors = path_anchors(coarse.path)
    filled = fill_path(anchors)
    info = dict(coarse.diagnostics["import"])
    info["anchors"] = int(len(anchors))
    return Alignment(filled, coarse.rate_a_hz, coarse.rate_b_hz, method="imported",
                     sources=sources or {}, diagnostics={"import": info})


def read_alignment_textgrid(path, *, rate_a_hz=None, rate_b_hz=None) -> Alignment:
    """Read an alignment written by :func:`write_alignment_textgrid`: point tiers ``A``
    and ``B`` (else the first two point tiers), points paired by matching marks."""
    ann = read_textgrid(path)
    points = [t for t in ann.tiers if t.kind == "point"]
    names = {t.name: t for t in points}
    if "A" in names and "B" in names:
        tier_a, tier_b = names["A"], names["B"]
    elif len(points) >= 2:
        tier_a, tier_b = points[0], points[1]
    else:
        raise FormatError(path, "an alignment TextGrid needs two point tiers (A and B)")
    pairs_b = {p.label: p.time_s for p in tier_b.items}
    if len(pairs_b) == len(tier_b.items) and all(p.label in pairs_b for p in tier_a.items):
        ta = [p.time_s for p in tier_a.items]
        tb = [pairs_b[p.label] for p in tier_a.items]
    elif len(tier_a.items) == len(tier_b.items):
        ta = [p.time_s for p in tier_a.items]
        tb = [p.time_s for p in tier_b.items]
    else:
        raise FormatError(path, f"tiers {tier_a.name!r} and {tier_b.name!r} have different "
                          f"numbers of points and their marks do not match")
    if not ta:
        raise FormatError(path, "the alignment tiers have no points")
    return anchors_to_alignment(ta, tb, path, rate_a_hz=rate_a_hz, rate_b_hz=rate_b_hz)
