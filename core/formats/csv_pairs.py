"""Time-pair CSV files: our ``time_a_s,time_b_s`` export and two-column time pairs from
anywhere (synctoolbox, librosa, dtw-python paths saved as seconds, spreadsheets).

Seconds-only files do not say at which frame rate the path was computed, so the reader
infers it (the smallest rate that puts every time on a frame grid, to the precision the
file was written with) unless the caller gives it; when no grid fits, the times are
quantized to a 1 kHz grid. What was done is recorded in ``diagnostics["import"]``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from ..alignment import Alignment
from ..errors import FormatError
from ..paths import open_output

__all__ = ["write_csv", "read_csv", "parse_time_pairs", "alignment_from_times",
           "infer_rate", "read_text", "FALLBACK_RATE_HZ"]

#: Grid used when no frame rate explains the times of a seconds-only file.
FALLBACK_RATE_HZ = 1000.0

HEADER = "time_a_s,time_b_s"
_SAMPLE_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000)
_A_NAMES = ("time_a_s", "time_a", "t_a", "a", "ref", "reference", "t_ref", "time_ref_s")
_B_NAMES = ("time_b_s", "time_b", "t_b", "b", "other", "t_other", "time_other_s")


def read_text(path) -> str:
    """Read a text file as UTF-8 (a BOM is skipped); FormatError if it is not text."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise FormatError(path, "file not found") from None
    except IsADirectoryError:
        raise FormatError(path, "is a folder, not a file") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise FormatError(path, "not UTF-8 text", line=line) from None


def _fmt(values: np.ndarray) -> list[str]:
    return [f"{v:.9f}" for v in values]


def write_csv(alignment: Alignment, path) -> None:
    """Write the path in seconds as ``time_a_s,time_b_s`` rows (one per path step)."""
    times = alignment.times_s
    a, b = _fmt(times[:, 0]), _fmt(times[:, 1])
    with open_output(path) as stream:
        stream.write(HEADER + "\n")
        stream.write("".join(f"{x},{y}\n" for x, y in zip(a, b, strict=True)))


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _decimals(token: str) -> int:
    mantissa = token.lower().split("e")[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def parse_time_pairs(text: str, path) -> tuple[np.ndarray, np.ndarray, float]:
    """Parse two columns of seconds (header optional; comma, semicolon, tab or spaces).

    Two rows of many numbers (a path saved in synctoolbox's (2, L) layout) are read as
    two columns (then "line" in errors means the column). A header (first non-empty line
    that is not numeric) may name the columns; with more than two columns it must contain
    ``time_a_s`` and ``time_b_s`` (or ``t_ref`` / ``t_other``). Lines starting with ``#``
    are comments. A semicolon file may use the decimal comma.

    Returns
    -------
    times : ndarray, shape (L, 2)
    lines : ndarray of int, shape (L,)
        The file line of each row (1-based), for error messages.
    resolution_s : float
        The finest decimal step the numbers were written with.

    Raises
    ------
    FormatError
        Naming the line: wrong number of columns, text in a number field, a time that is
        negative, NaN or infinite, or no rows at all.
    """
    transposed = _transposed_pairs(text)
    if transposed is not None:
        text = transposed
    rows: list[tuple[float, float]] = []
    lines: list[int] = []
    delimiter = None
    columns = (0, 1)
    n_columns = None
    decimal_comma = False
    max_decimals = 0
    seen_data = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if delimiter is None:
            for candidate in ("\t", ";", ","):
                if candidate in line:
                    delimiter = candidate
                    break
            else:
                delimiter = " "
        fields = line.split() if delimiter == " " else [f.strip() for f in line.split(delimiter)]
        fields = [f.strip('"').strip("'") if len(f) >= 2 and f[0] == f[-1] and f[0] in "\"'"
                  else f for f in fields]
        if not seen_data and not _NUMBER.match(fields[0].replace(",", ".")):
            if rows or n_columns is not None:
                raise FormatError(path, f"text {fields[0]!r} where a time was expected",
                                  line=number)
            names = [f.strip().lower() for f in fields]
            n_columns = len(names)
            a = next((names.index(n) for n in _A_NAMES if n in names), None)
            b = next((names.index(n) for n in _B_NAMES if n in names), None)
            if a is not None and b is not None:
                columns = (a, b)
            elif len(names) != 2:
                raise FormatError(path, f"expected 2 columns (time in A, time in B) or a "
                                  f"header naming time_a_s and time_b_s, got {fields}",
                                  line=number)
            continue
        if not seen_data:
            decimal_comma = delimiter == ";" and any("," in f for f in fields)
        seen_data = True
        if n_columns is None:
            n_columns = len(fields)
            if n_columns != 2:
                raise FormatError(path, f"expected 2 columns (time in A, time in B), found "
                                  f"{n_columns}", line=number)
        if len(fields) != n_columns:
            raise FormatError(path, f"expected {n_columns} columns, found {len(fields)}",
                              line=number)
        pair = []
        for col in columns:
            token = fields[col].replace(",", ".") if decimal_comma else fields[col]
            if not _NUMBER.match(token):
                raise FormatError(path, f"{fields[col]!r} in column {col + 1} is not a number",
                                  line=number)
            value = float(token)
            if not math.isfinite(value) or value < 0:
                raise FormatError(path, f"time {fields[col]} in column {col + 1} is not a "
                                  f"finite non-negative number of seconds", line=number)
            max_decimals = max(max_decimals, _decimals(token))
            pair.append(value)
        rows.append((pair[0], pair[1]))
        lines.append(number)
    if not rows:
        raise FormatError(path, "no time pairs found")
    return np.array(rows, dtype=np.float64), np.array(lines), 10.0 ** -max_decimals


def _transposed_pairs(text: str) -> str | None:
    """A path saved as two rows (synctoolbox's (2, L) layout) as two columns, else None."""
    content = [ln.strip() for ln in text.splitlines()
               if ln.strip() and not ln.strip().startswith("#")]
    if len(content) != 2:
        return None
    for delimiter in ("\t", ";", ",", None):
        rows = [ln.split(delimiter) for ln in content]
        if len(rows[0]) > 2 and len(rows[0]) == len(rows[1]):
            if all(_NUMBER.match(f.strip()) for row in rows for f in row):
                return "\n".join(f"{a.strip()},{b.strip()}"
                                 for a, b in zip(rows[0], rows[1], strict=True))
            return None
    return None


def infer_rate(times, resolution_s: float = 1e-9) -> float | None:
    """The smallest frame rate (Hz) that puts every time on its grid, or None.

    A time ``t`` is on the grid of ``rate`` when ``|t - round(t * rate) / rate|`` is at
    most half the resolution the file was written with. Candidates are ``k / d`` for
    ``k = 1 .. 64``, ``d`` the smallest gap between distinct times, each refined by least
    squares and snapped to an integer or a round decimal when that still fits.
    """
    u = np.unique(np.asarray(times, dtype=np.float64))
    if u.size < 2:
        return None
    gap = float(np.min(np.diff(u)))
    if gap <= 0:
        return None
    tol = 0.5 * resolution_s + 1e-12 * max(1.0, float(u[-1]))

    def fits(rate):
        k = np.round(u * rate)
        return float(np.max(np.abs(u - k / rate))) <= tol

    for k in range(1, 65):
        rate = k / gap
        idx = np.round(u * rate)
        den = float(np.dot(idx, u))
        if den > 0:
            rate = float(np.dot(idx, idx)) / den
        if not fits(rate):
            continue
        candidates = [round(rate)]
        for sr in _SAMPLE_RATES:  # audio feature rates are sample rate / hop
            hop = round(sr / rate)
            if hop >= 1:
                candidates.append(sr / hop)
        for nice in (*candidates, round(rate, 3), round(rate, 6)):
            if nice > 0 and abs(nice - rate) <= 1e-4 * rate and fits(nice):
                return float(nice)
        return float(rate)
    return None


def _single_rate(value: float, other: float | None) -> float:
    """A rate for a column holding one distinct time."""
    for rate in (other, FALLBACK_RATE_HZ):
        if rate and abs(value * rate - round(value * rate)) < 1e-6:
            return float(rate)
    return 1.0 / value if value > 0 else FALLBACK_RATE_HZ


def alignment_from_times(times, path, *, lines=None, rate_a_hz=None, rate_b_hz=None,
                         resolution_s: float = 1e-9, method: str = "imported",
                         sources=None, params=None, diagnostics=None,
                         allow_reversed: bool = True) -> Alignment:
    """Build an :class:`Alignment` from time pairs in seconds.

    A path listed from its end to its start (librosa's ``wp`` order) is reversed. Rows
    that round to the same frames as the previous row are merged.

    Raises
    ------
    FormatError
        If the times go back in either column (naming the file line).
    """
    times = np.asarray(times, dtype=np.float64).reshape(-1, 2)
    lines = np.arange(1, len(times) + 1) if lines is None else np.asarray(lines)
    info = dict(diagnostics or {})
    steps = np.diff(times, axis=0)
    if (allow_reversed and len(times) > 1 and np.all(steps <= 0) and np.any(steps < 0)):
        times, lines = times[::-1], lines[::-1]
        steps = np.diff(times, axis=0)
        info["reversed"] = True
    back = np.flatnonzero(np.any(steps < 0, axis=1))
    if back.size:
        k = int(back[0])
        col = 0 if steps[k, 0] < 0 else 1
        raise FormatError(path, f"times are not monotone: time in {'AB'[col]} goes back from "
                          f"{times[k, col]:g} to {times[k + 1, col]:g} s", line=int(lines[k + 1]))
    rates = []
    for col, given in ((0, rate_a_hz), (1, rate_b_hz)):
        if given is not None:
            rates.append((float(given), "given"))
            continue
        rate = infer_rate(times[:, col], resolution_s)
        rates.append((rate, "inferred") if rate else (None, "fallback"))
    for col in (0, 1):
        if rates[col][0] is None:
            u = np.unique(times[:, col])
            other = rates[1 - col][0]
            rate = _single_rate(float(u[0]), other) if u.size == 1 else FALLBACK_RATE_HZ
            rates[col] = (rate, "single time" if u.size == 1 else "fallback 1 kHz grid")
    rate_a, rate_b = rates[0][0], rates[1][0]
    frames = np.round(times * np.array([rate_a, rate_b])).astype(np.int64)
    keep = np.r_[True, np.any(np.diff(frames, axis=0) != 0, axis=1)]
    info.update({"rate_a": rates[0][1], "rate_b": rates[1][1], "rows": int(len(times)),
                 "merged_rows": int(np.count_nonzero(~keep))})
    return Alignment(frames[keep], rate_a, rate_b, method=method, params=params or {},
                     sources=sources or {}, diagnostics={"import": info})


def read_csv(path, *, rate_a_hz=None, rate_b_hz=None) -> Alignment:
    """Read our CSV or any two-column time-pairs file (see :func:`parse_time_pairs`)."""
    times, lines, resolution = parse_time_pairs(read_text(path), path)
    return alignment_from_times(times, path, lines=lines, rate_a_hz=rate_a_hz,
                                rate_b_hz=rate_b_hz, resolution_s=resolution,
                                diagnostics={"file": str(path), "format": "csv"})
