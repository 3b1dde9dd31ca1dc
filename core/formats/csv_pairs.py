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
from .annotations import MAX_TIME_S

__all__ = ["write_csv", "read_csv", "parse_time_pairs", "alignment_from_times",
           "infer_rate", "read_text", "decode_text", "check_rate", "FALLBACK_RATE_HZ",
           "MAX_RATE_HZ"]

#: Grid used when no frame rate explains the times of a seconds-only file.
FALLBACK_RATE_HZ = 1000.0
#: Highest frame rate of an alignment file (above any audio sample rate in use).
MAX_RATE_HZ = 1e6
#: Frame indices stay exact in float64 below this.
_MAX_FRAME = 2.0 ** 53
#: A two-row file is a path saved in synctoolbox's (2, L) layout only from this length
#: on (shorter, it is as likely a table with more than two columns: refused).
MIN_TRANSPOSED_STEPS = 10

HEADER = "time_a_s,time_b_s"
_SAMPLE_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000)
_A_NAMES = ("time_a_s", "time_a", "t_a", "a", "ref", "reference", "t_ref", "time_ref_s")
_B_NAMES = ("time_b_s", "time_b", "t_b", "b", "other", "t_other", "time_other_s")


def read_text(path) -> str:
    """Read a text file as UTF-8 (a BOM is skipped) or UTF-16 (with a BOM); FormatError
    naming the file if it cannot be read or is not text."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise FormatError(path, "file not found") from None
    except IsADirectoryError:
        raise FormatError(path, "is a folder, not a file") from None
    except OSError as err:
        raise FormatError(path, f"cannot be read ({err.strerror or err})") from None
    return decode_text(data, path)


def decode_text(data: bytes, path, encoding: str | None = None) -> str:
    """``data`` as text: UTF-16 after its BOM, else ``encoding`` (default UTF-8, a BOM
    skipped); FormatError naming the file and the line where decoding fails."""
    if encoding is None and data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    encoding = encoding or "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        if encoding.startswith("utf-16"):
            if len(data) % 2:
                problem = "not valid UTF-16 text: an odd number of bytes (the file is cut?)"
            else:
                problem = f"not valid UTF-16 text ({err.reason})"
            line = data[:err.start].decode(encoding, "replace").count("\n") + 1
        else:
            problem = f"not {encoding.upper().replace('-SIG', '')} text"
            line = data[:err.start].count(b"\n") + 1
        raise FormatError(path, problem, line=line) from None


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
    """A path saved as two rows (synctoolbox's (2, L) layout) as two columns, else None.

    Only two rows of at least :data:`MIN_TRANSPOSED_STEPS` numbers that both go forward
    are such a path; two short rows are as likely a table with extra columns."""
    content = [ln.strip() for ln in text.splitlines()
               if ln.strip() and not ln.strip().startswith("#")]
    if len(content) != 2:
        return None
    for delimiter in ("\t", ";", ",", None):
        rows = [ln.split(delimiter) for ln in content]
        if len(rows[0]) > 2 and len(rows[0]) == len(rows[1]):
            if len(rows[0]) < MIN_TRANSPOSED_STEPS or not all(
                    _NUMBER.match(f.strip()) for row in rows for f in row):
                return None
            values = np.array([[float(f) for f in row] for row in rows])
            if np.any(np.diff(values, axis=1) < 0):
                return None
            return "\n".join(f"{a.strip()},{b.strip()}"
                              for a, b in zip(rows[0], rows[1], strict=True))
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
    if not gap > 1.0 / MAX_RATE_HZ:  # no rate in range separates the closest times
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


def check_rate(rate, path, which: str, source: str) -> float:
    rate = float(rate)
    if not (math.isfinite(rate) and 0 < rate <= MAX_RATE_HZ):
        raise FormatError(path, f"the frame rate of {which} ({source}: {rate:g} Hz) is not a "
                          f"positive rate up to {MAX_RATE_HZ:g} Hz")
    return rate


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
        Naming the file (and line): a time that is negative, NaN or infinite; times that
        go back in either column; a frame rate that is not positive and finite or that
        puts two distinct times on one frame (the file's times need a finer rate); times
        too large for frame indices.
    """
    times = np.asarray(times, dtype=np.float64).reshape(-1, 2)
    lines = np.arange(1, len(times) + 1) if lines is None else np.asarray(lines)
    if not times.size:
        raise FormatError(path, "no time pairs found")
    bad = np.flatnonzero(~np.all(np.isfinite(times) & (times >= 0), axis=1))
    if bad.size:
        k = int(bad[0])
        raise FormatError(path, f"time pair ({times[k, 0]:g}, {times[k, 1]:g}) s is not two "
                          f"finite non-negative numbers of seconds", line=int(lines[k]))
    late = np.flatnonzero(np.any(times > MAX_TIME_S, axis=1))
    if late.size:
        k = int(late[0])
        raise FormatError(path, f"time pair ({times[k, 0]:g}, {times[k, 1]:g}) s is beyond "
                          f"{MAX_TIME_S:g} s (three years)", line=int(lines[k]))
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
            rates.append((check_rate(given, path, "AB"[col], "given"), "given"))
            continue
        rate = infer_rate(times[:, col], resolution_s)
        rates.append((rate, "inferred") if rate and rate <= MAX_RATE_HZ else (None, "fallback"))
    for col in (0, 1):
        if rates[col][0] is None:
            u = np.unique(times[:, col])
            other = rates[1 - col][0]
            rate = _single_rate(float(u[0]), other) if u.size == 1 else FALLBACK_RATE_HZ
            rates[col] = (min(rate, MAX_RATE_HZ), "single time" if u.size == 1
                          else "fallback 1 kHz grid")
    rate_a, rate_b = rates[0][0], rates[1][0]
    scaled = times * np.array([rate_a, rate_b])
    if float(scaled.max()) >= _MAX_FRAME:
        k = int(np.argmax(scaled.max(axis=1)))
        raise FormatError(path, f"time pair ({times[k, 0]:g}, {times[k, 1]:g}) s is too large "
                          f"for frame indices at {rate_a:g} and {rate_b:g} Hz",
                          line=int(lines[k]))
    frames = np.round(scaled).astype(np.int64)
    for col in (0, 1):
        if rates[col][1] != "given":
            continue
        # (times closer than a microsecond are one frame written twice with float noise)
        noise = min(0.25 / rates[col][0], 1e-6)
        same = np.flatnonzero((np.diff(frames[:, col]) == 0) & (steps[:, col] > noise))
        if same.size:
            k = int(same[0])
            raise FormatError(path, f"the frame rate given for {'AB'[col]} ({rates[col][0]:g} "
                              f"Hz) puts the distinct times {times[k, col]:g} s and "
                              f"{times[k + 1, col]:g} s on one frame: the file's times need "
                              f"a finer rate", line=int(lines[k + 1]))
    keep = np.r_[True, np.any(np.diff(frames, axis=0) != 0, axis=1)]
    info.update({"rate_a": rates[0][1], "rate_b": rates[1][1], "rows": int(len(times)),
                 "merged_rows": int(np.count_nonzero(~keep))})
    try:
        return Alignment(frames[keep], rate_a, rate_b, method=method, params=params or {},
                         sources=sources or {}, diagnostics={"import": info})
    except ValueError as err:
        raise FormatError(path, f"not a valid alignment: {err}") from None


def read_csv(path, *, rate_a_hz=None, rate_b_hz=None) -> Alignment:
    """Read our CSV or any two-column time-pairs file (see :func:`parse_time_pairs`)."""
    times, lines, resolution = parse_time_pairs(read_text(path), path)
    return alignment_from_times(times, path, lines=lines, rate_a_hz=rate_a_hz,
                                rate_b_hz=rate_b_hz, resolution_s=resolution,
                                diagnostics={"file": str(path), "format": "csv"})
