"""The project file (``.alignproj``): a whole :class:`core.project.Project` on disk.

Format (version :data:`FORMAT_VERSION`)
---------------------------------------
One UTF-8 JSON object::

    {"format": "alignment-inspector-project", "version": 1,
     "saved_at": "2026-12-05T06:10:00Z", "engine_version": "0.1.0",
     "media": {"a": {"path": "/abs/a.wav", "relative": "media/a.wav", "size": 123,
                     "quick_hash": "blake2b-...", "sha256": "...", "kind": "audio",
                     "duration_s": 3600.0, "rate_hz": 44100.0}, "b": ...},
     "state": <the project's snapshot, encoded>,
     "arrays": {"<digest>": {"dtype": "<i8", "shape": [L, 2], "codec": "steps",
                             "data": "<base64>"}, ...}}

``state`` is :meth:`Project.snapshot` encoded generically, so that whatever plain data
the snapshot holds round-trips: dicts with text keys stay JSON objects; a tuple is
``{"$tuple": [...]}``, a dict with other keys ``{"$dict": [[k, v], ...]}``, a float
that JSON cannot carry (NaN, infinities) ``{"$float": "nan"}``, a numpy scalar
``{"$scalar": dtype, "v": value}`` and a numpy array ``{"$array": digest}``, a key
of ``arrays`` (the same array, e.g. a plan kept in the undo history, is stored once).

Array codecs (all lossless, then zlib and base64):

- ``steps``: an integer (L, 2) array whose rows only grow by 0 or 1 (an alignment
  path): the first row, then one byte per step (1: A advances, 2: B, 3: both),
  run-length coded. A one-hour path at 50 Hz takes a few tens of kB.
- ``delta``: other integer arrays, differences along the first axis.
- ``shuffle``: any other array, its bytes regrouped by significance (as blosc does),
  which lets zlib compress floats.

Recordings: ``media`` records each one by absolute path, path relative to the project's
folder, size, a quick content hash (BLAKE2b of the size and the first and last MiB:
reading 2 MiB, milliseconds even for hours of video) and the full SHA-256 the window
computed when it opened the file (``null`` when unknown), kind, duration and rate.
Opening looks for a recording at its absolute path, then relative to the project, then
in the folders given as ``search_dirs`` (the window passes the folder of the last file
the user located), and accepts a file whose size and quick hash match.

Reading never changes the file. A file that is truncated, is not JSON or not a project,
or was written by a newer format version raises :class:`ProjectError` naming the file
and the problem. A recording that is missing or whose content changed, or a result
whose path leaves its recordings, is reported in :attr:`LoadedProject.problems` and the
rest of the project opens (the recording's slot stays empty; the result is left out).

Writing goes through :mod:`core.paths` (temporary file, fsync, rename): a project file
is always the old or the new one. Recovery files (:func:`write_recovery`) rotate three
backups.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import hashlib
import json
import math
import os
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, paths
from .errors import FormatError
from .project import SLOTS, Project, alignment_from_data

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "SUFFIX", "ProjectError", "MediaStatus",
           "LoadedProject", "encode_state", "decode_state", "project_to_data",
           "dumps_project", "save_project", "read_project", "load_project",
           "is_project_file", "read_active_alignment", "recovery_path",
           "quick_hash", "find_media", "recovery_files", "write_recovery",
           "remove_recovery", "read_recovery"]

FORMAT_NAME = "alignment-inspector-project"
FORMAT_VERSION = 1
SUFFIX = ".alignproj"
RECOVERY_SUFFIX = ".recovery"
N_BACKUPS = 3
_QUICK_BYTES = 1 << 20


class ProjectError(FormatError):
    """A project file cannot be read (the message names the file and the problem)."""


# ---------------------------------------------------------------------- hashing
def quick_hash(path) -> tuple[int, str]:
    """``(size, "blake2b-<hex>")`` of a file: BLAKE2b of its size and its first and
    last MiB (raises OSError when it cannot be read)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        digest = hashlib.blake2b(str(size).encode(), digest_size=16)
        digest.update(handle.read(_QUICK_BYTES))
        if size > _QUICK_BYTES:
            handle.seek(max(_QUICK_BYTES, size - _QUICK_BYTES))
            digest.update(handle.read(_QUICK_BYTES))
    return size, "blake2b-" + digest.hexdigest()


# ---------------------------------------------------------------------- arrays
def _rle(codes: np.ndarray) -> bytes:
    """Runs of equal bytes (values below 128) as (value, length) pairs, each length a
    LEB128 varint (vectorized: a one-hour path has a few hundred thousand runs)."""
    if codes.size == 0:
        return b""
    change = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [codes.size]))).astype(np.uint64)
    nbytes = np.ones(len(lengths), dtype=np.int64)
    for k in range(1, 10):
        nbytes += lengths >= (np.uint64(1) << np.uint64(7 * k))
    offsets = np.concatenate(([0], np.cumsum(1 + nbytes)[:-1]))
    out = np.zeros(int((1 + nbytes).sum()), dtype=np.uint8)
    out[offsets] = codes[starts]
    for b in range(int(nbytes.max())):
        mask = nbytes > b
        byte = (lengths[mask] >> np.uint64(7 * b)) & np.uint64(0x7F)
        byte |= np.where(nbytes[mask] > b + 1, np.uint64(0x80), np.uint64(0))
        out[offsets[mask] + 1 + b] = byte.astype(np.uint8)
    return out.tobytes()


def _unrle(data: bytes) -> np.ndarray:
    """The inverse of :func:`_rle`. Bytes below 128 alternate: a value, then the last
    byte of its length."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size == 0:
        return np.zeros(0, dtype=np.uint8)
    low = np.flatnonzero(raw < 128)
    if len(low) % 2:
        raise ValueError("run-length data ends in the middle of a run")
    value_pos, end_pos = low[0::2], low[1::2]
    if np.any(end_pos <= value_pos):
        raise ValueError("run-length data is malformed")
    # each length byte: its run and its place in the varint
    record = np.zeros(raw.size, dtype=np.int64)
    record[value_pos[1:]] = 1
    record = np.cumsum(record)
    is_length = np.ones(raw.size, dtype=bool)
    is_length[value_pos] = False
    idx = np.flatnonzero(is_length)
    place = idx - value_pos[record[idx]] - 1
    if place.size and place.max() > 9:
        raise ValueError("run-length data is malformed")
    parts = (raw[idx] & 0x7F).astype(np.uint64) << (7 * place).astype(np.uint64)
    lengths = np.zeros(len(value_pos), dtype=np.uint64)
    np.add.at(lengths, record[idx], parts)
    return np.repeat(raw[value_pos], lengths.astype(np.int64))


def _encode_array(a: np.ndarray) -> dict:
    a = np.ascontiguousarray(a)
    dtype = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
    a = a.astype(dtype, copy=False)
    entry = {"dtype": dtype.str, "shape": list(a.shape)}
    if a.dtype.kind == "O":
        raise TypeError("arrays of Python objects cannot be saved")
    if a.dtype.kind in "iu" and a.ndim == 2 and a.shape[1] == 2 and a.shape[0] >= 1:
        steps = np.diff(a.astype(np.int64), axis=0)
        if np.all((steps == 0) | (steps == 1)) and not np.any(np.all(steps == 0, axis=1)):
            codes = (steps[:, 0] + 2 * steps[:, 1]).astype(np.uint8)
            first = a[0].astype("<i8").tobytes()
            entry.update(codec="steps", data=first + _rle(codes))
            return entry
    if a.dtype.kind in "iu" and a.ndim >= 1 and a.shape[0] > 1:
        wide = a.astype("<i8")
        body = np.concatenate((wide[:1], np.diff(wide, axis=0)), axis=0)
        entry.update(codec="delta", data=body.tobytes())
        return entry
    raw = np.frombuffer(a.tobytes(), dtype=np.uint8)
    size = a.dtype.itemsize
    if size > 1 and raw.size:
        raw = raw.reshape(-1, size).T
    entry.update(codec="shuffle", data=np.ascontiguousarray(raw).tobytes())
    return entry


def _encode_unit8(a: np.ndarray) -> dict:
    """A confidence (values in [0, 1] or NaN) to 1/254: codes 0..254, 255 for NaN, as
    differences modulo 256 (a smooth curve gives runs of zeros)."""
    codes = np.where(np.isnan(a), 255, np.round(np.nan_to_num(a) * 254)).astype(np.uint8)
    body = np.diff(codes, prepend=np.uint8(0)).astype(np.uint8)
    return {"dtype": np.dtype(a.dtype).newbyteorder("<").str, "shape": list(a.shape),
            "codec": "unit8", "data": body.tobytes()}


def _is_unit(a: np.ndarray) -> bool:
    if a.dtype.kind != "f" or a.ndim != 1:
        return False
    finite = a[~np.isnan(a)]
    return bool(np.all((finite >= 0) & (finite <= 1)))


def _pack(entry: dict) -> dict:
    entry = dict(entry)
    entry["data"] = base64.b64encode(zlib.compress(entry["data"], 6)).decode("ascii")
    return entry


def _decode_array(entry: Mapping) -> np.ndarray:
    dtype = np.dtype(str(entry["dtype"]))
    shape = tuple(int(n) for n in entry["shape"])
    if dtype.kind == "O" or any(n < 0 for n in shape):
        raise ValueError("bad array header")
    data = zlib.decompress(base64.b64decode(entry["data"], validate=True))
    codec = entry["codec"]
    count = int(np.prod(shape, dtype=np.int64))
    if codec == "steps":
        first = np.frombuffer(data[:16], dtype="<i8")
        codes = _unrle(data[16:])
        if len(first) != 2 or shape != (codes.size + 1, 2):
            raise ValueError("path length does not match its shape")
        steps = np.stack((codes & 1, codes >> 1), axis=1).astype(np.int64)
        out = np.concatenate((first[None, :], steps)).cumsum(axis=0)
        return out.astype(dtype)
    if codec == "unit8":
        body = np.frombuffer(data, dtype=np.uint8)
        if body.size != count:
            raise ValueError("array size does not match its shape")
        codes = np.cumsum(body, dtype=np.uint8)
        out = np.where(codes == 255, np.nan, codes / 254.0)
        return out.reshape(shape).astype(dtype)
    if codec == "delta":
        body = np.frombuffer(data, dtype="<i8")
        if body.size != count:
            raise ValueError("array size does not match its shape")
        return body.reshape(shape).cumsum(axis=0).astype(dtype)
    if codec == "shuffle":
        if len(data) != count * dtype.itemsize:
            raise ValueError("array size does not match its shape")
        raw = np.frombuffer(data, dtype=np.uint8)
        if dtype.itemsize > 1 and raw.size:
            raw = np.ascontiguousarray(raw.reshape(dtype.itemsize, -1).T)
        return np.frombuffer(raw.tobytes(), dtype=dtype).reshape(shape).copy()
    raise ValueError(f"unknown array codec {codec!r}")


# ---------------------------------------------------------------------- plain data
#: arrays under these keys are kept to 1/254 when their values lie in [0, 1]: an
#: alignment's confidence, one float per path step, takes more room than its path and
#: is only shown (colour) and never computed with
LOSSY_UNIT_KEYS = ("confidence",)


def encode_state(value, arrays: dict, _where: str = "state"):
    """``value`` (plain data with numpy arrays) as JSON-able data; arrays go to
    ``arrays`` by content digest (see :data:`LOSSY_UNIT_KEYS`)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            raise TypeError(f"{_where}: arrays of Python objects cannot be saved")
        lossy = _where.rsplit(".", 1)[-1] in LOSSY_UNIT_KEYS and _is_unit(value)
        digest = ("q" if lossy else "") + hashlib.blake2b(
            value.dtype.str.encode() + repr(value.shape).encode()
            + np.ascontiguousarray(value).tobytes(), digest_size=12).hexdigest()
        if digest not in arrays:
            arrays[digest] = _pack(_encode_unit8(value) if lossy else _encode_array(value))
        return {"$array": digest}
    if isinstance(value, np.generic):
        return {"$scalar": value.dtype.str, "v": encode_state(value.item(), arrays, _where)}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode_state(v, arrays, f"{_where}.{k}") for k, v in value.items()}
        return {"$dict": [[encode_state(k, arrays, _where), encode_state(v, arrays, _where)]
                          for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"$tuple": [encode_state(v, arrays, _where) for v in value]}
    if isinstance(value, (list, Sequence)) and not isinstance(value, (bytes, bytearray)):
        return [encode_state(v, arrays, f"{_where}[{k}]") for k, v in enumerate(value)]
    raise TypeError(f"{_where}: a {type(value).__name__} cannot be saved in a project")


def decode_state(value, arrays: Mapping, _cache: dict | None = None):
    """The inverse of :func:`encode_state` (arrays decoded once each, read-only)."""
    cache = {} if _cache is None else _cache
    if isinstance(value, list):
        return [decode_state(v, arrays, cache) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, inner), = value.items()
        if tag == "$array":
            if inner not in cache:
                if inner not in arrays:
                    raise ValueError(f"array {inner!r} is missing")
                array = _decode_array(arrays[inner])
                array.setflags(write=False)
                cache[inner] = array
            return cache[inner]
        if tag == "$tuple":
            return tuple(decode_state(v, arrays, cache) for v in inner)
        if tag == "$float":
            return float(inner)
        if tag == "$dict":
            return {_hashable(decode_state(k, arrays, cache)): decode_state(v, arrays, cache)
                    for k, v in inner}
    if set(value) == {"$scalar", "v"}:
        return np.dtype(value["$scalar"]).type(decode_state(value["v"], arrays, cache))
    return {k: decode_state(v, arrays, cache) for k, v in value.items()}


def _hashable(key):
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


# ---------------------------------------------------------------------- writing
def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _media_entry(info: Mapping, project_dir: Path | None) -> dict:
    path = Path(info["path"])
    entry: dict[str, Any] = {"path": str(path.absolute()), "relative": None, "size": None,
                             "quick_hash": None, "sha256": info.get("content_hash"),
                             "kind": info.get("kind"), "duration_s": info.get("duration_s"),
                             "rate_hz": info.get("rate_hz")}
    if project_dir is not None:
        try:
            entry["relative"] = Path(os.path.relpath(path.absolute(), project_dir)).as_posix()
        except ValueError:  # another drive (Windows)
            pass
    try:
        entry["size"], entry["quick_hash"] = quick_hash(path)
    except OSError:
        pass  # saved anyway: a recording that vanished is still the project's
    return entry


def project_to_data(project: Project | Mapping, path=None, *, extra: Mapping | None = None,
                    media: Mapping | None = None) -> dict:
    """The project file's content (a dict) for ``project`` (or a snapshot of one) saved
    at ``path`` (which makes the relative media paths).

    ``media``: entries to keep for slots whose recording is not open (a project opened
    with a missing file saves that file's entry again). ``extra``: more top-level keys.
    """
    snapshot = project.snapshot() if isinstance(project, Project) else project
    project_dir = None if path is None else Path(os.path.abspath(path)).parent
    arrays: dict[str, dict] = {}
    state = encode_state(snapshot, arrays)
    entries = {}
    for slot in SLOTS:
        info = snapshot["recordings"].get(slot)
        if info is not None:
            entries[slot] = _media_entry(info, project_dir)
        elif media and media.get(slot):
            entries[slot] = dict(media[slot])
            if project_dir is not None and entries[slot].get("path"):
                try:
                    entries[slot]["relative"] = Path(os.path.relpath(
                        entries[slot]["path"], project_dir)).as_posix()
                except ValueError:
                    pass
        else:
            entries[slot] = None
    data = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "saved_at": _now(),
            "engine_version": __version__, "media": entries, "state": state,
            "arrays": arrays}
    if extra:
        data.update({k: v for k, v in extra.items() if k not in data})
    return data


def dumps_project(project, path=None, **kwargs) -> str:
    return json.dumps(project_to_data(project, path, **kwargs), separators=(",", ":"),
                      allow_nan=False) + "\n"


def save_project(project, path, **kwargs) -> None:
    """Write ``project`` to ``path`` through :func:`core.paths.write_text` (temporary
    file, fsync, rename: the file is the old or the new one, never a mix)."""
    text = dumps_project(project, path, **kwargs)
    paths.write_text(path, text)


# ---------------------------------------------------------------------- reading
@dataclasses.dataclass
class MediaStatus:
    """Where a project's recording was found: ``status`` is ``"ok"``, ``"missing"``,
    ``"changed"`` (a file is there but its content differs) or ``"unreadable"``;
    ``found`` is the path that matched (or the changed file)."""

    slot: str
    entry: dict
    status: str
    found: str | None = None

    @property
    def problem(self) -> str | None:
        shown = paths.display_path(self.entry.get("path") or "?")
        if self.status == "missing":
            return f"recording {self.slot.upper()} {shown} not found"
        if self.status == "changed":
            where = paths.display_path(self.found or shown)
            return (f"recording {self.slot.upper()} {where} changed since the project was "
                    f"saved (its content hash differs)")
        if self.status == "unreadable":
            return f"recording {self.slot.upper()} {shown} cannot be read"
        return None


@dataclasses.dataclass
class LoadedProject:
    """What :func:`read_project` found: the snapshot to restore (media paths resolved,
    slots of recordings not found emptied, results that could not be read left out),
    the media statuses, the problems as sentences, and the file's header."""

    path: str
    snapshot: dict
    media: dict[str, MediaStatus | None]
    problems: list[str]
    saved_at: str
    header: dict

    @property
    def missing(self) -> dict[str, dict]:
        """Entries of the recordings not opened, by slot (kept for the next save)."""
        return {s: m.entry for s, m in self.media.items() if m is not None and m.status != "ok"}


def _candidates(entry: Mapping, project_dir: Path | None, search_dirs: Sequence) -> list[Path]:
    out = []
    if entry.get("path"):
        out.append(Path(entry["path"]))
    if entry.get("relative") and project_dir is not None:
        out.append(project_dir / entry["relative"])
    name = Path(entry.get("path") or entry.get("relative") or "").name
    if name:
        out.extend(Path(d) / name for d in search_dirs if d)
    seen, unique = set(), []
    for p in out:
        key = os.path.normpath(str(p))
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def find_media(entry: Mapping, project_dir=None,
               search_dirs: Sequence = ()) -> tuple[str, str | None]:
    """Look for a recording: its absolute path, then relative to the project's folder,
    then its name in each of ``search_dirs``. Returns ``(status, path)``: ``"ok"`` with
    the first file whose size and quick hash match, else ``"changed"`` with the first
    file found, else ``("missing", None)``."""
    changed = None
    project_dir = None if project_dir is None else Path(project_dir)
    try:
        candidates = _candidates(entry, project_dir, search_dirs)
    except (TypeError, ValueError):  # a damaged entry: a path that is not text
        return "missing", None
    for candidate in candidates:
        try:
            if not candidate.is_file():
                continue
        except (OSError, ValueError):  # a name too long for the system, a NUL byte
            continue
        if entry.get("quick_hash") is None:
            return "ok", str(candidate.absolute())
        try:
            size, digest = quick_hash(candidate)
        except OSError:
            changed = changed or str(candidate)
            continue
        if size == entry.get("size") and digest == entry.get("quick_hash"):
            return "ok", str(candidate.absolute())
        changed = changed or str(candidate.absolute())
    return ("changed", changed) if changed else ("missing", None)


def _fail(path, problem: str):
    raise ProjectError(path, problem)


def _parse(path) -> dict:
    shown = path
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        _fail(shown, "file not found")
    except IsADirectoryError:
        _fail(shown, "is a folder, not a project file")
    except OSError as exc:
        _fail(shown, f"cannot be read ({exc.strerror or exc})")
    if not raw.strip():
        _fail(shown, "is empty (not a project file, or truncated to nothing)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _fail(shown, "is not a project file (not UTF-8 text: binary data or damaged)")
    try:
        data = json.loads(text)
    except RecursionError:
        _fail(shown, "is damaged (its JSON is nested too deeply to be a project)")
    except json.JSONDecodeError as exc:
        stripped = text.strip()
        if stripped.startswith("{") and not stripped.endswith("}"):
            _fail(shown, f"is truncated (it ends after {len(raw)} bytes, in the middle of "
                         f"the project: an interrupted copy or a full disk)")
        if stripped.startswith('{"format"'):
            _fail(shown, f"is damaged (not valid JSON at line {exc.lineno}, column "
                         f"{exc.colno}: {exc.msg})")
        _fail(shown, "is not a project file (not JSON)")
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        _fail(shown, f"is not an Alignment Inspector project (no \"format\": "
                     f"\"{FORMAT_NAME}\")")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        _fail(shown, f"has no valid format version (got {version!r})")
    if version > FORMAT_VERSION:
        _fail(shown, f"was written by a newer Alignment Inspector (project format "
                     f"version {version}; this one reads up to version {FORMAT_VERSION}): "
                     f"update Alignment Inspector to open it")
    for key, kind in (("state", dict), ("arrays", dict), ("media", dict)):
        if not isinstance(data.get(key), kind):
            _fail(shown, f"is damaged (its \"{key}\" part is missing or malformed)")
    return data


def _check_result(r: Mapping, recordings: Mapping) -> None:
    """Raise ValueError when a result's alignment cannot be made or its path leaves the
    recordings it was made from."""
    al = alignment_from_data(r["alignment"])
    for slot, rate in (("a", al.rate_a_hz), ("b", al.rate_b_hz)):
        info = recordings.get(slot)
        if info is None:
            continue
        end_s = (int(al.path[-1, 0 if slot == "a" else 1])) / rate
        if end_s > float(info["duration_s"]) + max(2.0 / rate, 0.05):
            raise ValueError(f"its path points outside recording {slot.upper()} "
                             f"(to {end_s:.3f} s of {float(info['duration_s']):.3f} s)")


def read_project(path, *, search_dirs: Sequence = (), check_media: bool = True) -> LoadedProject:
    """Read a project file without changing it.

    Raises
    ------
    ProjectError
        The file is missing, unreadable, truncated, not a project, of a newer format
        version, or its state is damaged beyond a single result.
    """
    data = _parse(path)
    project_dir = Path(os.path.abspath(path)).parent
    try:
        snapshot = decode_state(data["state"], data["arrays"])
    except (KeyError, TypeError, ValueError, OverflowError, RecursionError, zlib.error,
            base64.binascii.Error) as exc:
        _fail(path, f"is damaged (its state cannot be decoded: {exc})")
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("recordings"), dict) \
            or not isinstance(snapshot.get("results"), list):
        _fail(path, "is damaged (its state has no recordings or results)")
    problems: list[str] = []
    media: dict[str, MediaStatus | None] = {}
    for slot in SLOTS:
        entry = data["media"].get(slot)
        info = snapshot["recordings"].get(slot)
        if not entry or info is None:
            media[slot] = None
            continue
        if not isinstance(entry, dict):
            _fail(path, f"is damaged (its media entry {slot!r} is malformed)")
        if check_media:
            status, found = find_media(entry, project_dir, search_dirs)
        else:
            status, found = "ok", entry.get("path")
        media[slot] = MediaStatus(slot, dict(entry), status, found)
        if status == "ok":
            snapshot["recordings"][slot] = dict(info, path=found)
        else:
            problems.append(media[slot].problem)
    # results: each one alone (a damaged one is left out, the rest opens)
    kept, dropped = [], set()
    for r in snapshot["results"]:
        try:
            _check_result(r, snapshot["recordings"])
            kept.append(r)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            rid = r.get("id") if isinstance(r, dict) else "?"
            label = r.get("label") if isinstance(r, dict) else None
            problems.append(f"result {rid}{f' ({label})' if label else ''} left out: {exc}")
            dropped.add(rid)
    snapshot["results"] = kept
    undo = []
    for u in snapshot.get("undo", []):
        try:
            if u["id"] in dropped:
                continue
            alignment_from_data(u["alignment"])
            undo.append(u)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            problems.append(f"an undo step was left out: {exc}")
    snapshot["undo"] = undo
    ids = {r["id"] for r in kept}
    if snapshot.get("active") not in ids:
        snapshot["active"] = max(ids, default=-1)
    if snapshot.get("compared") not in ids or snapshot.get("compared") == snapshot["active"]:
        snapshot["compared"] = -1
    for slot in SLOTS:
        if media.get(slot) is not None and media[slot].status != "ok":
            snapshot["recordings"][slot] = None
            snapshot.get("display_features", {})[slot] = None
    return LoadedProject(str(path), snapshot, media, problems, str(data.get("saved_at", "")),
                         {k: v for k, v in data.items() if k not in ("state", "arrays")})


def load_project(path, project: Project | None = None, **kwargs) -> tuple[Project, LoadedProject]:
    """Read ``path`` (:func:`read_project`) and restore it into ``project`` (a new one
    by default). Raises :class:`ProjectError` when the state cannot be restored."""
    loaded = read_project(path, **kwargs)
    project = Project() if project is None else project
    try:
        project.restore(loaded.snapshot)
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise ProjectError(path, f"is damaged ({exc})") from None
    return project, loaded


def is_project_file(path) -> bool:
    """Whether ``path`` names a project: its extension, or (any name) a file starting
    as one does."""
    if str(path).lower().endswith(SUFFIX):
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(64).lstrip().startswith(b'{"format":"' + FORMAT_NAME.encode())
    except OSError:
        return False


def read_active_alignment(path):
    """The active result's Alignment of a project file (its media are not needed).

    Raises
    ------
    ProjectError
        A bad project file, or one without a result."""
    loaded = read_project(path, check_media=False)
    active = loaded.snapshot.get("active")
    for r in loaded.snapshot["results"]:
        if r.get("id") == active:
            return alignment_from_data(r["alignment"])
    problems = f" ({'; '.join(loaded.problems)})" if loaded.problems else ""
    raise ProjectError(path, f"has no result to export{problems}")


# ---------------------------------------------------------------------- recovery
def recovery_path(project_path) -> Path:
    """The recovery file of a project saved at ``project_path`` (beside it)."""
    p = Path(project_path)
    return p.with_name(p.name + RECOVERY_SUFFIX)


def recovery_files(recovery) -> list[Path]:
    """The recovery file and its backups (``.1`` newest … ``.3``), those that exist."""
    recovery = Path(recovery)
    names = [recovery] + [recovery.with_name(f"{recovery.name}.{k}")
                          for k in range(1, N_BACKUPS + 1)]
    return [p for p in names if p.exists()]


def write_recovery(snapshot_or_project, recovery, *, project_path=None,
                   media: Mapping | None = None, edits: int = 0) -> None:
    """Write a recovery file: the previous ones move down one backup (``.1`` … ``.3``,
    the oldest dropped), then the new one is written by temporary file and rename. A
    kill at any moment leaves the newest complete file under one of these names."""
    recovery = Path(recovery)
    text = dumps_project(snapshot_or_project,
                         project_path if project_path is not None else recovery,
                         media=media,
                         extra={"recovery": {"project": None if project_path is None
                                             else str(Path(project_path).absolute()),
                                             "pid": os.getpid(), "edits": int(edits)}})
    names = [recovery] + [recovery.with_name(f"{recovery.name}.{k}")
                          for k in range(1, N_BACKUPS + 1)]
    for older, newer in zip(names[::-1][:-1], names[::-1][1:], strict=True):
        if newer.exists():
            os.replace(newer, older)
    paths.write_text(recovery, text)


def read_recovery(recovery, **kwargs) -> LoadedProject:
    """The newest readable file among a recovery file and its backups."""
    errors = []
    for candidate in recovery_files(recovery):
        try:
            return read_project(candidate, **kwargs)
        except ProjectError as exc:
            errors.append(str(exc))
    raise ProjectError(recovery, "no readable recovery file"
                       + (f" ({'; '.join(errors)})" if errors else ""))


def remove_recovery(recovery) -> None:
    for p in recovery_files(recovery):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
