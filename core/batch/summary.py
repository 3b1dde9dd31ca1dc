"""A batch's ``summary.csv``: one row per pair, written by the batch, read by the window.

Columns (in this order; a header line names them)
--------------------------------------------------
``id``
    The pair's id (from the manifest, or made from the file names).
``status``
    ``ok`` (aligned by this run), ``failed`` (see ``error``) or ``skipped`` (an output
    made by an earlier run with the same files, parameters and engine version was kept;
    its other columns are that run's).
``error``
    One line: why the pair failed (names the file and the problem); empty otherwise.
``duration_a_s``, ``duration_b_s``
    The recordings' durations in seconds (empty when a file could not be opened).
``seconds``
    Wall-clock seconds the pair took on its worker (opening, aligning, writing).
``mean_confidence``
    The mean of the alignment's per-step confidence in [0, 1] (1 = sure); empty when
    the method gives none.
``low_confidence_fraction``
    The share of doubtful path steps: whose expected error is above the threshold the
    calibration of the pair's material chose
    (:func:`core.pipeline.confidence.doubtful_error_ms`; a confidence below
    :data:`LOW_CONFIDENCE`, 0.5 = 50 ms, for a result without a calibrated model). Sort
    by it (or by ``mean_confidence``) to look at the most doubtful pairs first.
``material``
    What the default pipeline detected: ``music``, ``speech``, ``other``, ``video`` or
    ``video-vs-audio`` (empty for the other methods).
``output``
    The alignment file's name, in the summary's folder (empty for a failed pair).
``a``, ``b``
    The recordings' absolute paths, so that a pair can be opened from the summary alone.
``jumps``
    For a ``structure`` ``auto`` or ``pieces`` run, how many jumps its path has (the
    order of the recordings differs), 0 when it found none (its path is monotone);
    empty for a ``structure`` ``monotone`` run (older summaries left it empty for a
    structure run without jumps too).
``warning``
    One line: the engine's warning about the result (its ``diagnostics["warning"]``:
    an end of one recording the alignment left out that is not silence, a lead-in or
    tail the other recording seems to lack; a solver that did not converge); empty
    when there is none.
``unshared_s``
    Seconds of A and B together that the alignment left out and that are not silence
    (:func:`core.alignment.unshared_seconds` of ``diagnostics["unshared"]``); empty
    when there are none.
``corrected``
    When a correction of the pair was saved back from the window (File ▸ Save to batch,
    :func:`core.batch.mark_corrected`), as UTC ``YYYY-MM-DDTHH:MM:SSZ``; empty for an
    output as the batch wrote it. A batch run again keeps a corrected output (and this
    column) as it keeps any finished pair.
``order_differs``
    For a monotone result, the stretches where its order seems to differ from the
    other recording's (:mod:`core.structure.order`: a section of B repeated or moved,
    one of A that B skips), e.g. ``B 22.3-40.1 s; A 7.4-19.1 s``; their steps count as
    doubtful in ``low_confidence_fraction``. Run such a pair with ``structure`` auto.
    Empty when there are none (and for a result with jumps).

A summary written before a column existed reads back with that column empty.

Numbers are written with a dot and no thousands separator; missing values are empty
fields. :func:`read_summary` reads the file back into :class:`SummaryRow` objects.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os

from ..errors import FormatError

__all__ = ["SummaryRow", "SUMMARY_COLUMNS", "SUMMARY_NAME", "STATUSES", "LOW_CONFIDENCE",
           "write_summary", "read_summary", "format_rows"]

SUMMARY_NAME = "summary.csv"
STATUSES = ("ok", "failed", "skipped")
#: Confidence below which a path step counts as doubtful (a result without a calibrated
#: confidence model; the default pipeline's results carry their own threshold).
LOW_CONFIDENCE = 0.5


@dataclasses.dataclass(frozen=True)
class SummaryRow:
    """One pair's line of ``summary.csv`` (see the module docstring for each field)."""

    id: str
    status: str
    error: str = ""
    duration_a_s: float | None = None
    duration_b_s: float | None = None
    seconds: float | None = None
    mean_confidence: float | None = None
    low_confidence_fraction: float | None = None
    material: str = ""
    output: str = ""
    a: str = ""
    b: str = ""
    jumps: int | None = None
    warning: str = ""
    unshared_s: float | None = None
    corrected: str = ""
    order_differs: str = ""

    def output_in(self, folder) -> str | None:
        """The output file's path in the batch folder ``folder``, None if there is none."""
        return os.path.join(os.fspath(folder), self.output) if self.output else None

    @property
    def audio_s(self) -> float:
        """Seconds of media in this pair (A and B together; 0 when unknown)."""
        return sum(d for d in (self.duration_a_s, self.duration_b_s) if d is not None)


SUMMARY_COLUMNS = tuple(field.name for field in dataclasses.fields(SummaryRow))
_FLOATS = {"duration_a_s": 3, "duration_b_s": 3, "seconds": 3, "mean_confidence": 4,
           "low_confidence_fraction": 4, "unshared_s": 2}
_INTS = ("jumps",)
# texts written on one line (a message may span several)
_LINES = ("error", "warning")
# how a numeric column is read back: (conversion, what its text must be)
_PARSE = {**{name: (float, "a number") for name in _FLOATS},
          **{name: (int, "a whole number") for name in _INTS}}


def _text(name: str, value) -> str:
    if value is None:
        return ""
    if name in _FLOATS:
        value = float(value)
        return f"{value:.{_FLOATS[name]}f}" if math.isfinite(value) else ""
    return " ".join(str(value).split()) if name in _LINES else str(value)


def format_rows(rows) -> str:
    """``rows`` (SummaryRow) as the text of a summary file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for row in rows:
        writer.writerow([_text(name, getattr(row, name)) for name in SUMMARY_COLUMNS])
    return buffer.getvalue()


def write_summary(rows, path) -> None:
    """Write ``rows`` to ``path`` atomically (through :mod:`core.paths`)."""
    from ..paths import write_text

    write_text(path, format_rows(rows))


def read_summary(path) -> list[SummaryRow]:
    """Read a batch's summary back into rows.

    Parameters
    ----------
    path : str or os.PathLike
        ``summary.csv``, or the batch folder that holds it.

    Returns
    -------
    list of SummaryRow
        In the file's order; numbers as floats, missing values as None (text as "").

    Raises
    ------
    FormatError
        The file is missing, not a summary (no ``id`` and ``status`` columns), or a line
        is malformed (a wrong field count, an unknown status, text where a number goes);
        the message names the file and the line.
    """
    from ..formats.csv_pairs import read_text

    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, SUMMARY_NAME)
    reader = csv.reader(read_text(path).splitlines(), strict=True)
    header = None
    rows = []
    try:
        for fields in reader:
            line = reader.line_num
            if not fields:
                continue
            if header is None:
                header = fields
                missing = [c for c in ("id", "status") if c not in header]
                if missing:
                    raise FormatError(path, f"not a batch summary (no column "
                                            f"{' or '.join(missing)})", line=line)
                continue
            if len(fields) != len(header):
                raise FormatError(path, f"expected {len(header)} fields, found "
                                        f"{len(fields)}", line=line)
            rows.append(_row(path, dict(zip(header, fields, strict=True)), line))
    except csv.Error as err:
        raise FormatError(path, f"not valid CSV: {err}", line=reader.line_num) from None
    if header is None:
        raise FormatError(path, "is empty (not a batch summary)")
    return rows


def _row(path, values: dict, line: int) -> SummaryRow:
    fields = {}
    for name in SUMMARY_COLUMNS:
        text = values.get(name, "")
        parse = _PARSE.get(name)
        if parse is None:
            fields[name] = text
        elif text == "":
            fields[name] = None
        else:
            convert, what = parse
            try:
                fields[name] = convert(text)
            except ValueError:
                raise FormatError(path, f"{name}: {text!r} is not {what}",
                                  line=line) from None
    if fields["status"] not in STATUSES:
        raise FormatError(path, f"status: expected one of {', '.join(STATUSES)}, got "
                                f"{fields['status']!r}", line=line)
    if not fields["id"]:
        raise FormatError(path, "id: is empty", line=line)
    return SummaryRow(**fields)
