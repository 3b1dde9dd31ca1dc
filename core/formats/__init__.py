"""Readers and writers of alignment and annotation files, and annotation transfer.

Alignments
    ``write_alignment(alignment, path, format=None)`` and ``read_alignment(path)`` for
    ``csv`` (``time_a_s,time_b_s``; also reads two-column time pairs from other tools),
    ``json`` (everything: sources, parameters, path in frames and seconds, diagnostics),
    ``svl`` (Sonic Visualiser time-value layer), ``sv-csv`` (a CSV Sonic Visualiser's
    layer importer reads; also the output of its external aligner programs),
    ``audacity`` (label track), ``textgrid`` (Praat; two point tiers with matching marks)
    and ``eaf`` (ELAN 3.0).

Annotations
    ``read_annotation(path)``, ``write_annotation(annotation, path)`` for ``audacity``,
    ``textgrid``, ``eaf``, ``sv-csv`` (Sonic Visualiser CSV layers) and ``labels-csv``
    (CSV with a header naming ``start``/``end``/``time`` and ``label`` columns), and
    ``transfer_annotation(annotation, alignment)`` to map them to the other recording.

Every write goes through :mod:`core.paths` (atomic for files, direct for devices and
standard output): a failing export leaves the previous file untouched.
"""

from __future__ import annotations

import contextlib
import os

from ..alignment import Alignment
from ..errors import FormatError, OutputError
from ..paths import STDOUT, display_path
from .annotations import Annotation, Interval, Point, Tier
from .transfer import TransferResult, transfer_annotation

__all__ = ["write_alignment", "read_alignment", "read_alignment_or_project", "read_recipe",
           "format_from_path", "output_format", "read_annotation",
           "write_annotation", "transfer_annotation", "transfer_file", "TransferResult",
           "Annotation", "Interval", "Point", "Tier", "write_sv_pairs",
           "ALIGNMENT_FORMATS", "ANNOTATION_FORMATS"]

ALIGNMENT_FORMATS = ("csv", "json", "svl", "sv-csv", "audacity", "textgrid", "eaf")
ANNOTATION_FORMATS = ("audacity", "textgrid", "eaf", "sv-csv", "labels-csv")

_ALIASES = {"txt": "audacity", "labels": "audacity", "praat": "textgrid", "elan": "eaf",
            "sv": "sv-csv", "svcsv": "sv-csv", "tsv": "csv"}


def _normalize(fmt: str, allowed) -> str:
    name = _ALIASES.get(str(fmt).lower(), str(fmt).lower())
    if name not in allowed:
        raise ValueError(f"format: expected one of {', '.join(allowed)}, got {fmt!r}")
    return name


def _name(path) -> str:
    """The last part of ``path`` in lower case (any path type, any bytes)."""
    return os.path.basename(os.fsdecode(path)).lower()


def _suffix(path) -> str:
    name = _name(path)
    return ".sv.csv" if name.endswith(".sv.csv") else os.path.splitext(name)[1]


#: The formats a file with this extension may hold; other clients go by the extension
#: (Sonic Visualiser reads a .svl as XML, Praat a .TextGrid as a TextGrid).
_EXTENSION_FORMATS = {
    ".json": ("json",), ".svl": ("svl",), ".eaf": ("eaf",), ".textgrid": ("textgrid",),
    ".sv.csv": ("sv-csv",), ".csv": ("csv", "sv-csv", "labels-csv"),
    ".tsv": ("csv", "sv-csv", "labels-csv"), ".txt": ("audacity", "csv", "sv-csv", "labels-csv"),
}


def format_from_path(path, kind: str = "alignment", *, option: str = "the format") -> str:
    """The format named by ``path``'s extension (and, for annotations, its content).

    ``.csv`` is ``csv`` for alignments; for annotations it is ``labels-csv`` when the
    file exists and starts with a header line, else ``sv-csv``. ``.sv.csv`` is always
    ``sv-csv``. ``.txt`` is ``audacity``, except annotations exported by Sonic
    Visualiser as text (tab-separated layers whose times have nine decimals, see
    :func:`core.formats.sonic_visualiser.is_sv_layer_text`), which are ``sv-csv``.
    ``.textgrid`` (any case), ``.eaf``, ``.json`` and ``.svl`` name themselves.

    ``option`` is how the caller takes a format instead (the command line's
    ``--labels-format``), named in the message.

    Raises
    ------
    ValueError
        For an extension that names no format of this ``kind``.
    """
    if kind not in ("alignment", "annotation"):
        raise ValueError(f"kind: expected 'alignment' or 'annotation', got {kind!r}")
    allowed = ALIGNMENT_FORMATS if kind == "alignment" else ANNOTATION_FORMATS
    suffix = _suffix(path)
    if suffix == ".sv.csv":
        return "sv-csv"
    if suffix == ".csv" and kind == "annotation":
        from .sonic_visualiser import csv_has_header
        return "labels-csv" if csv_has_header(path) else "sv-csv"
    if suffix == ".txt" and kind == "annotation":
        from .sonic_visualiser import is_sv_layer_file
        return "sv-csv" if is_sv_layer_file(path) else "audacity"
    fmt = {".csv": "csv", ".json": "json", ".svl": "svl", ".txt": "audacity",
           ".textgrid": "textgrid", ".eaf": "eaf", ".tsv": "csv"}.get(suffix)
    if fmt is None or fmt not in allowed:
        raise ValueError(f"{display_path(path)}: cannot tell the {kind} format from the "
                         f"extension {suffix or '(none)'}; give {option}, one of "
                         f"{', '.join(allowed)}")
    return fmt


def output_format(path, format: str | None = None, kind: str = "alignment", *,
                  input_format: str | None = None) -> str:
    """The format an output will be written in, checked before any work.

    ``format`` if given, else ``path``'s extension; for annotations an extension that
    names no format (or ``"-"``, standard output) takes ``input_format``. The format must
    be one a file of that extension holds: a ``.svl`` is XML for Sonic Visualiser, so an
    annotation (which has no ``.svl`` form here) or ``--format csv`` is refused rather
    than written into it.

    Raises
    ------
    core.errors.OutputError
        Naming the output: the extension and the format disagree, or no format is known.
    """
    allowed = ALIGNMENT_FORMATS if kind == "alignment" else ANNOTATION_FORMATS
    stdout = isinstance(path, str) and path == STDOUT
    suffix = "" if stdout else _suffix(path)
    holds = _EXTENSION_FORMATS.get(suffix)
    if format:
        fmt = _normalize(format, allowed)
    elif stdout:
        fmt = "csv" if kind == "alignment" else input_format
    elif kind == "annotation" and suffix in (".csv", ".tsv"):
        fmt = input_format if input_format in ("sv-csv", "labels-csv") else "labels-csv"
    elif kind == "annotation" and suffix == ".txt":
        fmt = "audacity"
    elif holds and holds[0] in allowed:
        fmt = holds[0]
    elif holds is None and kind == "annotation":
        fmt = input_format
    else:
        fmt = None
    if fmt is None:
        if holds:
            raise OutputError(path, f"a {suffix} file cannot hold annotations here; name the "
                              f"output .txt (Audacity), .TextGrid, .eaf, .sv.csv or .csv, or "
                              f"give the format")
        raise OutputError(path, f"cannot tell the {kind} format from the extension "
                          f"{suffix or '(none)'}; give the format, one of "
                          f"{', '.join(allowed)}")
    if holds and fmt not in holds:
        raise OutputError(path, f"a {suffix} file holds {' or '.join(holds)}, not {fmt}: "
                          f"other programs would misread it; change the name or the format")
    return fmt


@contextlib.contextmanager
def _reading(path):
    """Every failure of a reader becomes a FormatError naming the file (one mechanism for
    all formats: values the model refuses, numbers too large, nesting too deep)."""
    try:
        yield
    except FormatError:
        raise
    except (ValueError, OverflowError, RecursionError) as err:
        text = str(err) or type(err).__name__
        raise FormatError(path, text) from None
    except OSError as err:
        raise FormatError(path, f"cannot be read ({err.strerror or err})") from None


def write_alignment(alignment: Alignment, path, format: str | None = None, *,
                    recipe=None) -> None:
    """Write ``alignment`` to ``path`` through :mod:`core.paths` (``"-"``: standard
    output, CSV unless ``format`` says otherwise).

    Parameters
    ----------
    alignment : Alignment
    path : str or Path
    format : str, optional
        One of :data:`ALIGNMENT_FORMATS`; default from the extension
        (:func:`format_from_path`).
    recipe : core.registry.Recipe, optional
        The settings that made the alignment (method, its values, the features): JSON
        keeps them (:func:`read_recipe` reads them back); the other formats have no
        place for them.

    Raises
    ------
    ValueError
        Unknown format, a format the extension cannot hold (:func:`output_format`), or
        not an Alignment (or ``recipe`` not a Recipe).
    OSError
        The folder is missing or not writable (the previous file is left intact).
    """
    if _is_pieces(alignment):  # a path with jumps (core.structure)
        from .pieces import write_pieces
        write_pieces(alignment, path, output_format(path, format, "alignment"), recipe=recipe)
        return
    if not isinstance(alignment, Alignment):
        raise ValueError("alignment: expected a core.Alignment")
    fmt = output_format(path, format, "alignment")
    if fmt == "csv":
        from .csv_pairs import write_csv
        write_csv(alignment, path)
    elif fmt == "json":
        from .json_format import write_json
        write_json(alignment, path, recipe=recipe)
    elif fmt == "svl":
        from .sonic_visualiser import write_svl
        write_svl(alignment, path)
    elif fmt == "sv-csv":
        from .sonic_visualiser import write_sv_csv
        write_sv_csv(alignment, path)
    elif fmt == "audacity":
        from .audacity import write_alignment_labels
        write_alignment_labels(alignment, path)
    elif fmt == "textgrid":
        from .textgrid import write_alignment_textgrid
        write_alignment_textgrid(alignment, path)
    elif fmt == "eaf":
        from .eaf import write_alignment_eaf
        write_alignment_eaf(alignment, path)


def _is_pieces(alignment) -> bool:
    from ..structure.piecewise import PiecewiseAlignment
    return isinstance(alignment, PiecewiseAlignment)


def read_recipe(path, format: str | None = None):
    """The settings that made the alignment in ``path`` (a :class:`core.registry.Recipe`:
    the method, its values, the features of A and B), or None when the file holds none
    (every format but JSON, and JSON files written without one, e.g. before it existed).

    Raises
    ------
    FormatError
        Naming the file: a JSON file that is not one of ours, or a malformed recipe.
    """
    fmt = _normalize(format, ALIGNMENT_FORMATS) if format else format_from_path(path)
    if fmt != "json":
        return None
    from .json_format import read_recipe as read_json_recipe
    with _reading(path):
        return read_json_recipe(path)


def read_alignment_or_project(path) -> Alignment:
    """An alignment file (:func:`read_alignment`, format from the extension), or a
    project's active result (:func:`core.project_file.read_active_alignment`): what the
    commands that take an ALIGNMENT read (``convert``, ``transfer``, ``render
    --alignment``, ``align --base``), so that a path corrected and saved in the window
    needs no export first.

    Raises
    ------
    FormatError
        Naming the file and the problem (a ``ProjectError`` for a project).
    """
    from ..project_file import is_project_file, read_active_alignment

    if is_project_file(path):
        return read_active_alignment(path)
    return read_alignment(path)


def read_alignment(path, format: str | None = None, *, rate_a_hz: float | None = None,
                   rate_b_hz: float | None = None) -> Alignment:
    """Read an alignment file.

    Parameters
    ----------
    path : str or Path
    format : str, optional
        One of :data:`ALIGNMENT_FORMATS`; default from the extension. ``csv`` reads any
        two-column time-pairs file (header optional, comma, semicolon or tab).
    rate_a_hz, rate_b_hz : float, optional
        Frame rates for formats that store seconds only; inferred when not given (see
        :mod:`core.formats.csv_pairs`). JSON files carry their own rates.

    Returns
    -------
    Alignment
        Re-imports a file we wrote to the same path, to the format's time resolution
        (tier formats store anchors: see :mod:`core.formats._anchors`).

    Raises
    ------
    FormatError
        Naming the file, the line where known, and the problem (whatever the content:
        every reader's failure is one).
    """
    fmt = _normalize(format, ALIGNMENT_FORMATS) if format else format_from_path(path)
    if not os.path.isfile(path):
        raise FormatError(path, "file not found" if not os.path.exists(path)
                          else "is not a regular file")
    rates = {"rate_a_hz": rate_a_hz, "rate_b_hz": rate_b_hz}
    with _reading(path):
        if fmt == "csv":
            from .pieces import is_pieces_csv, read_pieces_csv
            if is_pieces_csv(path):  # time_a_s,time_b_s,piece: a path with jumps
                return read_pieces_csv(path, **rates)
            from .csv_pairs import read_csv
            return read_csv(path, **rates)
        if fmt == "json":
            from .pieces import is_pieces_json, read_pieces_json
            if is_pieces_json(path):
                return read_pieces_json(path)
            from .json_format import read_json
            return read_json(path)
        if fmt == "svl":
            from .sonic_visualiser import read_svl
            return read_svl(path, **rates)
        if fmt == "sv-csv":
            from .sonic_visualiser import read_sv_pairs
            return read_sv_pairs(path, **rates)
        if fmt == "audacity":
            from .audacity import read_alignment_labels
            return read_alignment_labels(path, **rates)
        if fmt == "textgrid":
            from .textgrid import read_alignment_textgrid
            return read_alignment_textgrid(path, **rates)
        from .eaf import read_alignment_eaf
        return read_alignment_eaf(path, **rates)


def read_annotation(path, format: str | None = None) -> Annotation:
    """Read annotations (tiers of labelled intervals or points) from ``path``.

    Raises
    ------
    FormatError
        Naming the file, the line where known, and the problem.
    """
    if not os.path.isfile(path):
        raise FormatError(path, "file not found" if not os.path.exists(path)
                          else "is not a regular file")
    fmt = (_normalize(format, ANNOTATION_FORMATS) if format
           else format_from_path(path, "annotation"))
    with _reading(path):
        if fmt == "audacity":
            from .audacity import read_labels
            return read_labels(path)
        if fmt == "textgrid":
            from .textgrid import read_textgrid
            return read_textgrid(path)
        if fmt == "eaf":
            from .eaf import read_eaf
            return read_eaf(path)
        from .sonic_visualiser import read_labels_csv, read_sv_layer_csv
        return read_sv_layer_csv(path) if fmt == "sv-csv" else read_labels_csv(path)


def write_annotation(annotation: Annotation, path, format: str | None = None) -> list[str]:
    """Write ``annotation`` through :mod:`core.paths`; returns warnings (e.g. tiers
    merged or split).

    ``.csv`` without ``format`` writes ``labels-csv``; ``format`` must be one the
    extension holds (:func:`output_format`).
    """
    fmt = output_format(path, format, "annotation")
    if fmt == "audacity":
        from .audacity import write_labels
        return write_labels(annotation, path)
    if fmt == "textgrid":
        from .textgrid import write_textgrid
        return write_textgrid(annotation, path)
    if fmt == "eaf":
        from .eaf import write_eaf
        return write_eaf(annotation, path)
    from .sonic_visualiser import write_labels_csv, write_sv_layer_csv
    if fmt == "sv-csv":
        return write_sv_layer_csv(annotation, path)
    return write_labels_csv(annotation, path)


def transfer_file(alignment_path, labels_path, out_path, *, format: str | None = None,
                  direction: str = "a2b", labels_format: str | None = None,
                  collapsed_marker: str | None = None) -> list[str]:
    """Read annotations, map them through an alignment file (or a project's active
    result), write them; returns warnings.

    The output format is ``format``, else ``out_path``'s extension (a ``.csv`` keeps the
    input's kind of CSV), else (an extension that names no format) the input's format;
    a format the extension cannot hold is refused before anything is read
    (:func:`output_format`).
    """
    in_format = (_normalize(labels_format, ANNOTATION_FORMATS) if labels_format
                 else format_from_path(labels_path, "annotation"))
    out_format = output_format(out_path, format, "annotation", input_format=in_format)
    alignment = read_alignment_or_project(alignment_path)
    annotation = read_annotation(labels_path, in_format)
    result = transfer_annotation(annotation, alignment, direction=direction,
                                 collapsed_marker=collapsed_marker)
    warnings = list(result.warnings)
    warnings += write_annotation(result.annotation, out_path, out_format)
    return warnings


def write_sv_pairs(alignment: Alignment, stream) -> None:
    """Print ``t_ref,t_other`` lines (no header) for Sonic Visualiser's external aligner.

    See :func:`core.formats.sonic_visualiser.write_sv_pairs`.
    """
    from .sonic_visualiser import write_sv_pairs as _write
    _write(alignment, stream)
