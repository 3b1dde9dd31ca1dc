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

from pathlib import Path

from ..alignment import Alignment
from ..errors import FormatError
from .annotations import Annotation, Interval, Point, Tier
from .transfer import TransferResult, transfer_annotation

__all__ = ["write_alignment", "read_alignment", "format_from_path", "read_annotation",
           "write_annotation", "transfer_annotation", "transfer_file", "TransferResult",
           "Annotation", "Interval", "Point", "Tier", "write_sv_pairs",
           "ALIGNMENT_FORMATS", "ANNOTATION_FORMATS"]

ALIGNMENT_FORMATS = ("csv", "json", "svl", "sv-csv", "audacity", "textgrid", "eaf")
ANNOTATION_FORMATS = ("audacity", "textgrid", "eaf", "sv-csv", "labels-csv")

_ALIASES = {"txt": "audacity", "labels": "audacity", "praat": "textgrid", "elan": "eaf",
            "sv": "sv-csv", "svcsv": "sv-csv", "tsv": "csv"}


def _normalize(fmt: str, allowed) -> str:
    name = _ALIASES.get(fmt.lower(), fmt.lower())
    if name not in allowed:
        raise ValueError(f"format: expected one of {', '.join(allowed)}, got {fmt!r}")
    return name


def format_from_path(path, kind: str = "alignment") -> str:
    """The format named by ``path``'s extension.

    ``.csv`` is ``csv`` for alignments; for annotations it is ``labels-csv`` when the
    file exists and starts with a header line, else ``sv-csv``. ``.sv.csv`` is always
    ``sv-csv``; ``.txt`` is ``audacity``; ``.textgrid`` (any case), ``.eaf``, ``.json``
    and ``.svl`` name themselves.

    Raises
    ------
    ValueError
        For an extension that names no format of this ``kind``.
    """
    if kind not in ("alignment", "annotation"):
        raise ValueError(f"kind: expected 'alignment' or 'annotation', got {kind!r}")
    name = Path(path).name.lower()
    allowed = ALIGNMENT_FORMATS if kind == "alignment" else ANNOTATION_FORMATS
    if name.endswith(".sv.csv"):
        return "sv-csv"
    suffix = Path(name).suffix.lstrip(".")
    if suffix == "csv" and kind == "annotation":
        from .sonic_visualiser import csv_has_header
        return "labels-csv" if csv_has_header(path) else "sv-csv"
    fmt = {"csv": "csv", "json": "json", "svl": "svl", "txt": "audacity",
           "textgrid": "textgrid", "eaf": "eaf", "tsv": "csv"}.get(suffix)
    if fmt is None or fmt not in allowed:
        raise ValueError(f"{path}: cannot tell the {kind} format from the extension "
                         f"{'.' + suffix if suffix else '(none)'}; give the format, one of "
                         f"{', '.join(allowed)}")
    return fmt


def write_alignment(alignment: Alignment, path, format: str | None = None) -> None:
    """Write ``alignment`` to ``path`` atomically.

    Parameters
    ----------
    alignment : Alignment
    path : str or Path
    format : str, optional
        One of :data:`ALIGNMENT_FORMATS`; default from the extension
        (:func:`format_from_path`).

    Raises
    ------
    ValueError
        Unknown format or not an Alignment.
    OSError
        The folder is missing or not writable (the previous file is left intact).
    """
    if not isinstance(alignment, Alignment):
        raise ValueError("alignment: expected a core.Alignment")
    fmt = _normalize(format, ALIGNMENT_FORMATS) if format else format_from_path(path)
    if fmt == "csv":
        from .csv_pairs import write_csv
        write_csv(alignment, path)
    elif fmt == "json":
        from .json_format import write_json
        write_json(alignment, path)
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
        Naming the file, the line where known, and the problem.
    """
    fmt = _normalize(format, ALIGNMENT_FORMATS) if format else format_from_path(path)
    if not Path(path).is_file():
        raise FormatError(path, "file not found")
    rates = {"rate_a_hz": rate_a_hz, "rate_b_hz": rate_b_hz}
    if fmt == "csv":
        from .csv_pairs import read_csv
        return read_csv(path, **rates)
    if fmt == "json":
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
    if not Path(path).is_file():
        raise FormatError(path, "file not found")
    fmt = (_normalize(format, ANNOTATION_FORMATS) if format
           else format_from_path(path, "annotation"))
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
    """Write ``annotation`` atomically; returns warnings (e.g. tiers merged or split).

    ``.csv`` without ``format`` writes ``labels-csv``.
    """
    if format:
        fmt = _normalize(format, ANNOTATION_FORMATS)
    elif Path(path).name.lower().endswith(".csv") and not Path(path).name.lower().endswith(
            ".sv.csv"):
        fmt = "labels-csv"
    else:
        fmt = format_from_path(path, "annotation")
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
    """Read annotations, map them through an alignment file, write them; returns warnings.

    The output format is ``format``, else ``out_path``'s extension (a ``.csv`` keeps the
    input's kind of CSV), else the input's format.
    """
    alignment = read_alignment(alignment_path)
    in_format = (_normalize(labels_format, ANNOTATION_FORMATS) if labels_format
                 else format_from_path(labels_path, "annotation"))
    annotation = read_annotation(labels_path, in_format)
    result = transfer_annotation(annotation, alignment, direction=direction,
                                 collapsed_marker=collapsed_marker)
    name = Path(out_path).name.lower()
    if format is None:
        if name.endswith(".csv") and not name.endswith(".sv.csv"):
            format = in_format if in_format in ("sv-csv", "labels-csv") else "labels-csv"
        elif not name.endswith((".txt", ".textgrid", ".eaf", ".sv.csv")):
            format = in_format
    warnings = list(result.warnings)
    warnings += write_annotation(result.annotation, out_path, format)
    return warnings


def write_sv_pairs(alignment: Alignment, stream) -> None:
    """Print ``t_ref,t_other`` lines (no header) for Sonic Visualiser's external aligner.

    See :func:`core.formats.sonic_visualiser.write_sv_pairs`.
    """
    from .sonic_visualiser import write_sv_pairs as _write
    _write(alignment, stream)
