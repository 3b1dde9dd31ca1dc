"""The batch manifest: a CSV naming the pairs to align, checked before any work starts.

Layout
------
A header line, then one pair per line (RFC 4180 CSV, UTF-8 with or without a BOM,
comma-separated, fields may be quoted)::

    id,a,b,method,feature,rate,band,anchors
    bwv66-take1,ref/bwv66.wav,takes/bwv66-1.wav,,,,,
    bwv66-take2,ref/bwv66.wav,takes/bwv66-2.wav,dtw,chroma,50,2.5,anchors/take2.csv

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
method     ``dtw``, ``ctw`` or ``ot``
feature    ``auto`` or feature names joined by ``+`` (``chroma``, ``logmel+onset``, ...)
rate       feature frame rate in Hz (a positive number)
band       band radius in seconds (a positive number)
anchors    a CSV of ``time_a_s,time_b_s`` pairs the path must pass through, relative to
           the manifest's folder
=========  ===========================================================================

Refused, with one :class:`ManifestError` naming the manifest, the line and the problem:
a file that is missing, not text or empty; a header without ``a`` or ``b``, with a
column named twice or a column this program does not know (a misspelt ``band`` would
otherwise be ignored silently); a line with more or fewer fields than the header; an
empty ``a`` or ``b``; a bad ``method``, ``feature``, ``rate`` or ``band``; an id that is
not a plain file name (empty, a ``/``, a control character, a leading dot, longer than
200 bytes, or ``summary``, which names the batch's summary); two pairs with the same id
(also when they differ only in case: some file systems would give them one file); and
with ``strict``, a path that leads outside the manifest's folder (compared after
resolving symbolic links, so a link inside that points outside is refused too).

Missing or unreadable media are NOT manifest errors: such a pair fails alone when the
batch runs, with its reason in the summary, and the other pairs go on.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import PurePath

from ..errors import FormatError

__all__ = ["ManifestError", "Pair", "read_manifest", "as_pairs", "COLUMNS", "METHODS",
           "RESERVED_IDS", "MAX_ID_BYTES"]

#: The columns a manifest may have (``a`` and ``b`` are required).
COLUMNS = ("id", "a", "b", "method", "feature", "rate", "band", "anchors")
#: Methods of the default pipeline (:func:`core.align_files`).
METHODS = ("dtw", "ctw", "ot")
#: Ids that would collide with the batch's own files (compared case-insensitively).
RESERVED_IDS = ("summary",)
#: Longest id in bytes (UTF-8): the output name adds an extension and temporary files
#: a few more characters, and most file systems allow 255 bytes.
MAX_ID_BYTES = 200


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
    method, feature : str or None
        Pipeline options; None means the batch's default.
    rate_hz, band_s : float or None
        Pipeline options; None means the batch's default.
    anchors : str or None
        A CSV of ``time_a_s,time_b_s`` pairs, or None.
    line : int or None
        The manifest line (for messages), None for pairs given from Python.
    """

    id: str
    a: str
    b: str
    method: str | None = None
    feature: str | None = None
    rate_hz: float | None = None
    band_s: float | None = None
    anchors: str | None = None
    line: int | None = None


# ------------------------------------------------------------------------ values
def check_method(value: str) -> str:
    """``value`` if it names a method, else ValueError."""
    if value not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {value!r}")
    return value


def check_feature(value: str) -> str:
    """``value`` if it is ``auto`` or known feature names joined by ``+``, else ValueError.

    Whether the features suit the pair's material (audio or video) is known only when
    the files are opened: a mismatch fails that pair when the batch runs.
    """
    from ..features import AUDIO_FEATURES, VIDEO_FEATURES

    if value == "auto":
        return value
    names = [name.strip() for name in value.split("+")]
    known = AUDIO_FEATURES + VIDEO_FEATURES
    if not names or any(name not in known for name in names):
        raise ValueError(f"feature: expected 'auto' or names joined by '+' among "
                         f"{', '.join(known)}, got {value!r}")
    return "+".join(names)


def check_positive(value, name: str) -> float:
    """``value`` as a positive finite float, else ValueError naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a positive number, got {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name}: expected a positive number, got {value!r}")
    return number


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
    except UnicodeError:  # a UTF-16 byte-order mark before bytes that are not UTF-16
        raise ManifestError(path, "not text (neither UTF-8 nor UTF-16)") from None
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
            pair = _pair(path, folder, values, line, strict)
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
    names = [name.lower() for name in header]
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        if name not in COLUMNS:
            shown = header[index] or "(an empty name)"
            raise ManifestError(path, f"unknown column {shown!r}; the columns are "
                                      f"{', '.join(COLUMNS)} (a and b required)", line=line)
        if name in columns:
            raise ManifestError(path, f"column {name!r} appears twice", line=line)
        columns[name] = index
    missing = [name for name in ("a", "b") if name not in columns]
    if missing:
        raise ManifestError(path, f"missing column {' and '.join(map(repr, missing))} (the "
                                  f"header must name a and b; it is: {','.join(header)})",
                            line=line)
    return columns


def _pair(path, folder: str, values: Mapping[str, str], line: int, strict: bool) -> Pair:
    def where(name: str) -> str:
        return f"column {name}"

    for name in ("a", "b"):
        if not values[name]:
            raise ManifestError(path, f"{where(name)} is empty (a pair needs both files)",
                                line=line)
    located = {}
    for name in ("a", "b", "anchors"):
        value = values.get(name) or ""
        if not value:
            continue
        if "\x00" in value:
            raise ManifestError(path, f"{where(name)}: a path cannot contain a NUL byte",
                                line=line)
        full = os.path.normpath(os.path.join(folder, os.path.expanduser(value)))
        if strict and not _inside(full, folder):
            raise ManifestError(path, f"{where(name)}: {value!r} is outside the manifest's "
                                      f"folder (refused with --strict)", line=line)
        located[name] = full
    try:
        ident = check_id(values["id"]) if values.get("id") else derive_id(values["a"],
                                                                            values["b"])
        method = check_method(values["method"]) if values.get("method") else None
        feature = check_feature(values["feature"]) if values.get("feature") else None
        rate = check_positive(values["rate"], "rate") if values.get("rate") else None
        band = check_positive(values["band"], "band") if values.get("band") else None
    except ValueError as err:
        raise ManifestError(path, str(err), line=line) from None
    return Pair(ident, located["a"], located["b"], method, feature, rate, band,
                located.get("anchors"), line)


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

    A mapping needs ``a`` and ``b`` and may have ``id``, ``method``, ``feature``,
    ``rate_hz`` (or ``rate``), ``band_s`` (or ``band``) and ``anchors``; relative paths
    are taken from the current folder.

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
        fields = dataclasses.asdict(item)
    elif isinstance(item, Mapping):
        unknown = set(item) - {"id", "a", "b", "method", "feature", "rate_hz", "rate",
                               "band_s", "band", "anchors", "line"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        fields = {"id": item.get("id"), "a": item.get("a"), "b": item.get("b"),
                  "method": item.get("method"), "feature": item.get("feature"),
                  "rate_hz": item.get("rate_hz", item.get("rate")),
                  "band_s": item.get("band_s", item.get("band")),
                  "anchors": item.get("anchors"), "line": item.get("line")}
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
    if fields["feature"] is not None:
        fields["feature"] = check_feature(str(fields["feature"]))
    for name, label in (("rate_hz", "rate_hz"), ("band_s", "band_s")):
        if fields[name] is not None:
            fields[name] = check_positive(fields[name], label)
    return Pair(**fields)
