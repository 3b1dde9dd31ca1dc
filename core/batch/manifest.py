"""The batch manifest: a CSV naming the pairs to align, checked before any work starts.

Layout
------
A header line, then one pair per line (RFC 4180 CSV, UTF-8 with or without a BOM,
comma-separated, fields may be quoted)::

    id,a,b,method,feature,rate,band,anchors,structure
    bwv66-take1,ref/bwv66.wav,takes/bwv66-1.wav,,,,,,
    bwv66-take2,ref/bwv66.wav,takes/bwv66-2.wav,default,chroma,50,2.5,anchors/take2.csv,
    bwv66-live,ref/bwv66.wav,takes/bwv66-live.wav,,,,,,auto

``a`` and ``b`` are required; every other column is optional and an empty field means
the batch's default. Column names are case-insensitive; blank lines are ignored.

=========  ===========================================================================
column     meaning
=========  ===========================================================================
a, b       the two recordings (audio or video), relative to the manifest's folder
           (absolute paths are accepted unless ``strict``)
id         the pair's name: its output is ``OUTDIR/<id>.<ext>``. Default: made from
           the file names (``<a without extension>--<b without extension>``, the
           folders B shares with A left out, ``/`` turned into ``_``)
method     a method of :mod:`core.registry`, as ``align --method`` (``default``: the
           default pipeline)
anchors    a CSV of ``time_a_s,time_b_s`` pairs the path must pass through, relative to
           the manifest's folder (methods that take anchors)
structure  as ``align --structure``: ``monotone`` (one path), ``auto`` (a path with
           jumps when a section is repeated, skipped or moved) or ``pieces`` (always
           a path with jumps); not with anchors, as ``align`` refuses them together
feature,   any option of ``align``, named as its flag without the dashes (``feature``,
rate,      ``rate``, ``band``, ``solver``, ``step-pattern`` or ``step_pattern``, ...),
band, ...  with the same values and ranges (:mod:`core.options`)
=========  ===========================================================================

Refused, with one :class:`ManifestError` naming the manifest, the line and the problem:
a file that is missing, not text or empty; a header without ``a`` or ``b``, with a
column named twice or a column that is neither of the above (a misspelt ``band`` would
otherwise be ignored silently); a line with more or fewer fields than the header; an
empty ``a`` or ``b``; an unknown method, an option the line's method does not take, a
value out of its range; a ``structure`` that ``align --structure`` does not take, or
one other than ``monotone`` on a line with anchors; an id that is not a plain file name
(empty, a ``/``, a control character, a leading dot, longer than 200 bytes, or
``summary``, which names the batch's summary); two pairs with the same id (also when
they differ only in case: some file systems would give them one file); and with
``strict``, a path that leads outside the manifest's folder (compared after resolving
symbolic links, so a link inside that points outside is refused too).

Missing or unreadable media are NOT manifest errors, nor are options that do not suit a
recording's kind (an audio feature for a video): such a pair fails alone when the batch
runs, with its reason in the summary, and the other pairs go on.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from types import MappingProxyType

from .. import options as _options
from .. import registry
from ..errors import FormatError

__all__ = ["ManifestError", "Pair", "read_manifest", "as_pairs", "columns",
           "RESERVED_IDS", "MAX_ID_BYTES"]

#: Columns besides the options (``a`` and ``b`` are required).
FIXED_COLUMNS = ("id", "a", "b", "method", "anchors", "structure")
#: Ids that would collide with the batch's own files (compared case-insensitively).
RESERVED_IDS = ("summary",)
#: Longest id in bytes (UTF-8): the output name adds an extension and temporary files
#: a few more characters, and most file systems allow 255 bytes.
MAX_ID_BYTES = 200


def columns() -> tuple[str, ...]:
    """Every column a manifest may have: :data:`FIXED_COLUMNS` and the options."""
    return FIXED_COLUMNS + tuple(_options.option_table())


class ManifestError(FormatError):
    """A manifest is malformed: the message names the file, the line and the problem."""


@dataclasses.dataclass(frozen=True)
class Pair:
    """One pair of a batch.

    Attributes
    ----------
    id : str
        A plain file name (no folder): the output is ``<id>.<ext>``.
    a, b : str
        The two recordings (absolute paths for pairs read from a manifest).
    method : str or None
        A method of :mod:`core.registry`; None means the batch's default.
    options : mapping
        Options of this pair by name (:mod:`core.options`), as text from a
        manifest or typed from Python; the batch's defaults fill the others.
    anchors : str or None
        A CSV of ``time_a_s,time_b_s`` pairs, or None.
    line : int or None
        The manifest line (for messages), None for pairs given from Python.
    structure : str or None
        One of :data:`core.options.STRUCTURES` (as ``align --structure``); None means the batch's
        default.
    """

    id: str
    a: str
    b: str
    method: str | None = None
    options: Mapping[str, object] = dataclasses.field(default_factory=dict)
    anchors: str | None = None
    line: int | None = None
    structure: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def __reduce__(self):  # read-only mappings do not pickle
        return (_pair, (self.id, self.a, self.b, self.method, dict(self.options),
                        self.anchors, self.line, self.structure))


def _pair(*fields) -> Pair:
    return Pair(*fields)


# ------------------------------------------------------------------------ values
def check_method(value: str) -> str:
    """``value`` if it names a method of the registry, else ValueError."""
    registry.get(value)
    return value


def check_id(value: str) -> str:
    """``value`` if it can name an output file by itself, else ValueError."""
    if not value:
        raise ValueError("id: is empty")
    bad = next((c for c in value if ord(c) < 32 or ord(c) == 127 or c in "/\\"), None)
    if bad is not None:
        raise ValueError(f"id {value!r}: may not contain {bad!r} (it names a file in the "
                         f"output folder)")
    if value.startswith("."):
        raise ValueError(f"id {value!r}: may not start with a dot (hidden and temporary "
                         f"files start with one)")
    if value.lower() in RESERVED_IDS:
        raise ValueError(f"id {value!r}: is reserved for the batch's summary; choose "
                         f"another")
    if len(value.encode("utf-8", "surrogateescape")) > MAX_ID_BYTES:
        raise ValueError(f"id {value[:40]!r}...: is longer than {MAX_ID_BYTES} bytes")
    return value


def derive_id(a: str, b: str) -> str:
    """The default id of a pair: ``<a without extension>--<b without extension>``.

    Folders are joined by ``_``; the folders B shares with A are left out of B's part
    (``take/x.wav`` against ``take/y.wav`` gives ``take_x--y``). Characters an id may not
    hold become ``_``; an id longer than :data:`MAX_ID_BYTES` is cut and ends with a
    short hash of the whole, so it stays unique.
    """
    skip = (os.sep, "/", ".", "..")
    pa = [p for p in PurePath(a).parts if p not in skip]
    pb = [p for p in PurePath(b).parts if p not in skip]
    pa = pa[:-1] + [_stem(pa[-1])] if pa else ["a"]
    pb = pb[:-1] + [_stem(pb[-1])] if pb else ["b"]
    common = 0
    while common < min(len(pa), len(pb)) - 1 and pa[common] == pb[common]:
        common += 1
    text = "_".join(pa) + "--" + "_".join(pb[common:])
    text = "".join("_" if ord(c) < 32 or ord(c) == 127 or c in "/\\" else c for c in text)
    text = text.lstrip(".") or "pair"
    if text.lower() in RESERVED_IDS:
        text += "-pair"
    raw = text.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_ID_BYTES:
        digest = hashlib.sha256(raw).hexdigest()[:10]
        head = raw[:MAX_ID_BYTES - 11].decode("utf-8", "ignore")
        text = f"{head}-{digest}"
    return text


def _stem(name: str) -> str:
    stem, _ = os.path.splitext(name)
    return stem or name


# ------------------------------------------------------------------------ reading
def read_manifest(path, *, strict: bool = False) -> list[Pair]:
    """Read and check a batch manifest (see the module docstring for its layout).

    Parameters
    ----------
    path : str or os.PathLike
        The manifest (CSV).
    strict : bool
        Refuse paths (media and anchors) that lead outside the manifest's folder.

    Returns
    -------
    list of Pair
        In the manifest's order; ``a``, ``b`` and ``anchors`` are absolute (relative
        paths are taken from the manifest's folder); options left empty are None.

    Raises
    ------
    ManifestError
        Naming the manifest, the line (when there is one) and the problem; nothing in
        the manifest is used unless all of it is valid.
    """
    from ..formats.csv_pairs import read_text

    try:
        text = read_text(path)
    except FormatError as err:
        raise ManifestError(path, err.problem, line=err.line) from None
    except OSError as err:
        raise ManifestError(path, f"cannot be read ({err.strerror or err})") from None
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    reader = csv.reader(text.splitlines(), skipinitialspace=True, strict=True)
    header, columns, pairs = None, {}, []
    seen: dict[str, tuple[str, int]] = {}
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            fields = [f.strip() for f in fields]
            if header is None:
                header = fields
                columns = _columns(path, header, line)
                continue
            if len(fields) != len(header):
                raise ManifestError(path, f"expected {len(header)} fields (as the header "
                                          f"has), found {len(fields)}", line=line)
            values = {name: fields[index] for name, index in columns.items()}
            pair = _row_pair(path, folder, values, line, strict)
            _check_unique(path, pair, seen, explicit="id" in columns and values["id"] != "")
            pairs.append(pair)
    except csv.Error as err:
        raise ManifestError(path, f"not valid CSV: {err}", line=reader.line_num) from None
    if header is None:
        raise ManifestError(path, "is empty (expected a header line with columns a,b)")
    if not pairs:
        raise ManifestError(path, "has a header but no pairs")
    return pairs


def _columns(path, header: list[str], line: int) -> dict[str, int]:
    known = columns()
    found: dict[str, int] = {}
    for index, text in enumerate(header):
        name = text.lower() if text.lower() in FIXED_COLUMNS else _options.normalize(text)
        if name not in known:
            shown = text or "(an empty name)"
            raise ManifestError(path, f"unknown column {shown!r}; the columns are "
                                      f"{', '.join(known)} (a and b required)", line=line)
        if name in found:
            raise ManifestError(path, f"column {name!r} appears twice", line=line)
        found[name] = index
    missing = [name for name in ("a", "b") if name not in found]
    if missing:
        raise ManifestError(path, f"missing column {' and '.join(map(repr, missing))} (the "
                                  f"header must name a and b; it is: {','.join(header)})",
                            line=line)
    return found


def _row_pair(path, folder: str, values: Mapping[str, str], line: int, strict: bool) -> Pair:
    for name in ("a", "b"):
        if not values[name]:
            raise ManifestError(path, f"column {name} is empty (a pair needs both files)",
                                line=line)
    located = {}
    for name in ("a", "b", "anchors"):
        value = values.get(name) or ""
        if not value:
            continue
        if "\x00" in value:
            raise ManifestError(path, f"column {name}: a path cannot contain a NUL byte",
                                line=line)
        full = os.path.normpath(os.path.join(folder, os.path.expanduser(value)))
        if strict and not _inside(full, folder):
            raise ManifestError(path, f"column {name}: {value!r} is outside the manifest's "
                                      f"folder (refused with --strict)", line=line)
        located[name] = full
    options = {name: text for name, text in values.items()
               if name not in FIXED_COLUMNS and text != ""}
    try:
        ident = check_id(values["id"]) if values.get("id") else derive_id(values["a"],
                                                                            values["b"])
        method = check_method(values["method"]) if values.get("method") else None
        _check_options(method, options)
    except ValueError as err:
        raise ManifestError(path, str(err), line=line) from None
    structure = values.get("structure") or None
    try:
        if structure is not None:
            _options.check_structure(structure)
        _options.check_structure_run(structure or "monotone",
                                     anchors=bool(located.get("anchors")))
    except ValueError as err:
        raise ManifestError(path, f"column {err}", line=line) from None
    return Pair(ident, located["a"], located["b"], method, options, located.get("anchors"),
                line, structure)


def _check_options(method: str | None, options: Mapping[str, object]) -> None:
    """Each value in its range; with a method, options it takes, checked together."""
    if method is not None:
        _options.split_options(method, options)
    else:
        for name, value in options.items():
            _options.check_value(name, value)


def _inside(full: str, folder: str) -> bool:
    real, base = os.path.realpath(full), os.path.realpath(folder)
    return os.path.commonpath([real, base]) == base


def _check_unique(path, pair: Pair, seen: dict, *, explicit: bool) -> None:
    key = pair.id.casefold()
    if key in seen:
        other, line = seen[key]
        same = "the same id" if other == pair.id else f"an id that differs only in case " \
                                                     f"({other!r})"
        how = "" if explicit else " (made from the file names; add an id column to tell " \
                                  "the pairs apart)"
        raise ManifestError(path, f"id {pair.id!r}{how}: line {line} has {same}",
                            line=pair.line)
    seen[key] = (pair.id, pair.line)


# ------------------------------------------------------------------------ from Python
def as_pairs(pairs: Iterable) -> list[Pair]:
    """Pairs given from Python (:class:`Pair` objects or mappings) as checked Pairs.

    A mapping needs ``a`` and ``b`` and may have ``id``, ``method``, ``anchors``,
    ``structure`` and options by name (``feature``, ``rate``, ``band``, ...:
    :mod:`core.options`); relative paths are taken from the current folder.

    Raises
    ------
    ValueError
        Naming the item (its index, or its manifest line) and the problem, as
        :func:`read_manifest` checks it.
    """
    if isinstance(pairs, str | bytes | os.PathLike):
        raise ValueError("pairs: expected pairs (Pair objects or mappings); read a "
                         "manifest file with read_manifest()")
    out: list[Pair] = []
    seen: dict[str, tuple[str, int]] = {}
    for index, item in enumerate(pairs):
        where = f"pairs[{index}]" if getattr(item, "line", None) is None else \
            f"pairs[{index}] (manifest line {item.line})"
        try:
            pair = _pair_from(item)
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        key = pair.id.casefold()
        if key in seen:
            raise ValueError(f"{where}: id {pair.id!r} is also the id of pairs[{seen[key][1]}]")
        seen[key] = (pair.id, index)
        out.append(pair)
    if not out:
        raise ValueError("pairs: no pairs given")
    return out


def _pair_from(item) -> Pair:
    if isinstance(item, Pair):
        fields = {f.name: getattr(item, f.name) for f in dataclasses.fields(Pair)}
    elif isinstance(item, Mapping):
        fields = {name: item.get(name) for name in ("id", "a", "b", "method", "anchors",
                                                    "line", "structure")}
        options = {_options.normalize(k): v for k, v in item.items() if k not in fields}
        unknown = sorted(set(options) - set(_options.option_table()))
        if unknown:
            raise ValueError(f"unknown keys {unknown} (options: "
                             f"{', '.join(_options.option_table())})")
        fields["options"] = {k: v for k, v in options.items() if v is not None}
    else:
        raise ValueError(f"expected a Pair or a mapping, got {type(item).__name__}")
    for name in ("a", "b"):
        value = fields[name]
        if value is None or (isinstance(value, str) and not value):
            raise ValueError(f"{name}: is missing")
        fields[name] = os.path.abspath(os.fspath(value))
    if fields["anchors"] not in (None, ""):
        fields["anchors"] = os.path.abspath(os.fspath(fields["anchors"]))
    else:
        fields["anchors"] = None
    fields["id"] = check_id(str(fields["id"])) if fields["id"] not in (None, "") else \
        derive_id(os.path.relpath(fields["a"]), os.path.relpath(fields["b"]))
    if fields["method"] is not None:
        check_method(fields["method"])
    if fields["structure"] in (None, ""):
        fields["structure"] = None
    else:
        fields["structure"] = _options.check_structure(fields["structure"])
    _options.check_structure_run(fields["structure"] or "monotone",
                                 anchors=bool(fields["anchors"]))
    _check_options(fields["method"], fields["options"])
    return Pair(**fields)
