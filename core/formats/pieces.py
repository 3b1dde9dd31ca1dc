"""Files of a :class:`core.structure.PiecewiseAlignment` (a path with jumps).

- JSON: the envelope of :mod:`core.formats.json_format` with ``"method": "pieces"``, no
  top-level path, and ``"pieces"``: one entry per piece, in B's order, with its own
  ``path_frames``, ``path_s``, ``distance``, ``normalized_distance``, ``confidence``;
  ``diagnostics["structure"]`` holds the jumps, units and kinds.
- CSV: ``time_a_s,time_b_s,piece`` rows (the piece's index from 0).

Other formats hold one monotone path; writing pieces to them is refused.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from ..alignment import Alignment
from ..errors import FormatError
from ..paths import open_output
from .csv_pairs import alignment_from_times, check_rate, infer_rate, read_text
from .json_format import FORMAT_NAME, FORMAT_VERSION, _nan, recipe_data, to_jsonable

__all__ = ["write_pieces", "read_pieces_json", "read_pieces_csv", "is_pieces_json",
           "is_pieces_csv", "PIECE_FORMATS"]

PIECE_FORMATS = ("json", "csv")
CSV_HEADER = "time_a_s,time_b_s,piece"


def write_pieces(alignment, path, fmt: str, *, recipe=None) -> None:
    if fmt == "json":
        _write_json(alignment, path, recipe)
    elif fmt == "csv":
        _write_csv(alignment, path)
    else:
        raise ValueError(f"format: an alignment with jumps (pieces) is written as "
                         f"{' or '.join(PIECE_FORMATS)}, not {fmt}")


def _write_csv(alignment, path) -> None:
    with open_output(path) as stream:
        stream.write(CSV_HEADER + "\n")
        for k, piece in enumerate(alignment.pieces):
            t = piece.times_s
            stream.write("".join(f"{a:.9f},{b:.9f},{k}\n" for a, b in t))


def _write_json(alignment, path, recipe=None) -> None:
    from .. import __version__

    pieces = []
    for p in alignment.pieces:
        entry = {"method": p.method, "distance": to_jsonable(p.distance),
                 "normalized_distance": to_jsonable(p.normalized_distance),
                 "path_frames": p.path.tolist(), "path_s": p.times_s.tolist()}
        if p.confidence is not None:
            entry["confidence"] = to_jsonable(p.confidence)
        pieces.append(entry)
    doc = {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION,
        "program": "alignment-inspector", "program_version": __version__,
        "sources": to_jsonable(alignment.sources),
        "frames": {"a": {"rate_hz": alignment.rate_a_hz, "n": alignment.n_a,
                         "duration_s": alignment.duration_a_s},
                   "b": {"rate_hz": alignment.rate_b_hz, "n": alignment.n_b,
                         "duration_s": alignment.duration_b_s}},
        "method": alignment.method, "params": to_jsonable(alignment.params),
        "jumps": to_jsonable(alignment.jumps),
        "diagnostics": to_jsonable(alignment.diagnostics),
        "pieces": pieces,
    }
    if recipe is not None:
        doc["recipe"] = recipe_data(recipe)
    with open_output(path) as stream:
        stream.write(json.dumps(doc, indent=1, allow_nan=False, ensure_ascii=False) + "\n")


def is_pieces_json(path) -> bool:
    """True when ``path`` is one of our JSON files holding pieces."""
    try:
        doc = json.loads(read_text(path))
    except (ValueError, OSError, RecursionError):
        return False
    return isinstance(doc, dict) and doc.get("format") == FORMAT_NAME \
        and isinstance(doc.get("pieces"), list)


def read_pieces_json(path):
    from ..structure import PiecewiseAlignment

    doc = json.loads(read_text(path))
    version = doc.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise FormatError(path, f"format_version {version!r} is not supported")
    try:
        frames = doc["frames"]
        rates = [check_rate(frames[w]["rate_hz"], path, w.upper(), "frames") for w in "ab"]
        n_a, n_b = int(frames["a"]["n"]), int(frames["b"]["n"])
        pieces = []
        for k, e in enumerate(doc["pieces"]):
            pf = np.asarray(e["path_frames"])
            if pf.ndim != 2 or pf.shape[1:] != (2,) or pf.dtype.kind not in "iu":
                raise ValueError(f"pieces[{k}].path_frames: expected [i, j] pairs of whole "
                                 f"frame numbers")
            conf = e.get("confidence")
            pieces.append(Alignment(
                pf, rates[0], rates[1], n_a=n_a, n_b=n_b, method=str(e.get("method", "dtw")),
                distance=_nan(e.get("distance")),
                normalized_distance=_nan(e.get("normalized_distance")),
                confidence=None if conf is None else np.array([_nan(c) for c in conf])))
        return PiecewiseAlignment(tuple(pieces), method=str(doc.get("method", "pieces")),
                                  params=doc.get("params") or {},
                                  diagnostics=doc.get("diagnostics") or {},
                                  sources=doc.get("sources") or {})
    except KeyError as err:
        raise FormatError(path, f"missing field {err.args[0]!r}") from None
    except (TypeError, ValueError, AttributeError) as err:
        raise FormatError(path, f"malformed alignment with pieces: {err}") from None


def is_pieces_csv(path) -> bool:
    """True when the first line of ``path`` is our pieces header."""
    try:
        with open(path, "rb") as f:
            first = f.readline(200)
    except OSError:
        return False
    return first.strip().lower().replace(b" ", b"") == CSV_HEADER.encode()


def read_pieces_csv(path, *, rate_a_hz=None, rate_b_hz=None):
    from ..structure import PiecewiseAlignment

    rows = list(csv.reader(io.StringIO(read_text(path))))[1:]
    data, lines = [], []
    for k, row in enumerate(rows, start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 3:
            raise FormatError(path, "expected three fields: time_a_s,time_b_s,piece", line=k)
        try:
            data.append((float(row[0]), float(row[1]), int(row[2])))
        except ValueError:
            raise FormatError(path, f"not numbers: {','.join(row)!r}", line=k) from None
        lines.append(k)
    if not data:
        raise FormatError(path, "no time pairs found")
    arr = np.array(data)
    idx = arr[:, 2].astype(np.int64)
    if np.any(np.diff(idx) < 0) or idx[0] < 0:
        raise FormatError(path, "piece numbers must start at 0 or more and never go back")
    ra = rate_a_hz or infer_rate(arr[:, 0]) or 1000.0
    rb = rate_b_hz or infer_rate(arr[:, 1]) or 1000.0
    lines = np.array(lines)
    parts = []
    for k in np.unique(idx):
        sel = idx == k
        parts.append(alignment_from_times(arr[sel, :2], path, lines=lines[sel], rate_a_hz=ra,
                                          rate_b_hz=rb, allow_reversed=False,
                                          method="pieces"))
    n_a = max(p.n_a for p in parts)
    n_b = max(p.n_b for p in parts)
    pieces = tuple(p.replace(n_a=n_a, n_b=n_b) for p in parts)
    try:
        return PiecewiseAlignment(pieces, diagnostics={"import": {"file": str(path),
                                                                  "format": "csv"}})
    except ValueError as err:
        raise FormatError(path, str(err)) from None
