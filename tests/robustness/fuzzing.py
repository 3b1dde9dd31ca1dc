"""Seeded fuzzing of every reader (issue 19): mutations of valid files, run in a child
process per reader so that a crash (a segmentation fault in a decoder) or a hang in C
code is caught and attributed to its case instead of taking the test run down.

Adding a reader is one entry: ``register(Reader(name, suffix, read, seeds, check))``
below.

Each case ``k`` of reader ``R`` with seed ``S`` is reproducible on its own::

    python tests/robustness/fuzzing.py R S k k+1 /tmp/somewhere

prints one JSON line per case. A case passes when the reader returns a result that
passes the reader's ``check`` (values finite and ordered, and the result written back
through our writers and read again), or raises a ``ValueError`` subclass whose message
names the file. Anything else fails: another exception type, a message without the
file's name, a warning (warnings are errors here), a case over ``CASE_TIMEOUT_S``, a
crash of the child, a temporary file left behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import signal
import struct
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PRAAT = ROOT / "tests" / "core" / "formats" / "praat"
#: A case running longer than this is a hang (small inputs: the issue's bound is 20 s).
CASE_TIMEOUT_S = 10.0


# ------------------------------------------------------------------ the registry
@dataclasses.dataclass(frozen=True)
class Reader:
    """One reader under fuzzing.

    Attributes
    ----------
    name : str
        Identifier (test ids, the child's command line).
    suffix : str
        Extension of the case file (readers choose formats by it).
    read : callable(path) -> result
        The reader; raises a ValueError subclass naming the file on bad input.
    seeds : callable(folder) -> list of bytes
        Valid files to mutate (``folder`` is scratch space).
    check : callable(result, path, folder, rng)
        Invariants of a result; raises AssertionError (write-back failures included).
    text : bool
        Whether text mutations (numbers, encodings, lines, nesting) apply.
    """

    name: str
    suffix: str
    read: Callable
    seeds: Callable
    check: Callable
    text: bool = True


READERS: dict[str, Reader] = {}


def register(reader: Reader) -> Reader:
    READERS[reader.name] = reader
    return reader


# ------------------------------------------------------------------ valid material
def _path(n: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    moves = np.array([[1, 0], [0, 1], [1, 1]])[rng.choice(3, size=n, p=[0.2, 0.2, 0.6])]
    return np.vstack([[0, 0], np.cumsum(moves, axis=0)])


def _alignments():
    from core import Alignment

    return [Alignment(_path(60, 0), 50.0, 22050 / 512, method="dtw"),
            Alignment(_path(40, 1), 100.0, 100.0, method="dtw",
                      sources={"a": {"path": "a.wav", "duration_s": 1.0, "rate_hz": 44100,
                                     "kind": "audio"}}),
            Alignment(np.array([[0, 0], [1, 1]]), 10.0, 25.0)]


def _annotations():
    from core.formats import Annotation, Interval, Point, Tier

    words = Tier("words", "interval", (Interval(0.0, 0.42, "hello"),
                                       Interval(0.42, 1.1, "wörld ☃"),
                                       Interval(1.1, 1.5, ""), Interval(1.5, 2.25, 'say "x"')))
    beats = Tier("beats", "point", (Point(0.25, "1"), Point(0.75, "2", value=3.5),
                                    Point(1.25, "")))
    return [Annotation((words, beats), end_s=2.5), Annotation((words,)),
            Annotation((beats,), end_s=3.0)]


def _written(folder: Path, items, writer, suffix: str, **kwargs) -> list[bytes]:
    out = []
    for k, item in enumerate(items):
        path = folder / f"seed{k}{suffix}"
        writer(item, path, **kwargs)
        out.append(path.read_bytes())
    return out


def alignment_seeds(fmt: str, suffix: str):
    def make(folder: Path) -> list[bytes]:
        from core.formats import write_alignment

        seeds = _written(folder, _alignments(), write_alignment, suffix, format=fmt)
        extra = {"csv": [b"0,0\n0.02,0.01\n0.04,0.05\n", b"# comment\n0\t0\n1\t2\n",
                         b"time_a;time_b\n0,5;0,25\n1,0;0,75\n",
                         (",".join(str(k / 50) for k in range(12)) + "\n" +
                          ",".join(str(k / 40) for k in range(12)) + "\n").encode()],
                 "audacity": [b"0.000000\t0.000000\t0.000000\n0.500000\t0.500000\t0.750000\n",
                              b"0\t0\n1\t1.5\n"]}
        return seeds + extra.get(fmt, [])
    return make


def annotation_seeds(fmt: str, suffix: str):
    def make(folder: Path) -> list[bytes]:
        from core.formats import write_annotation

        seeds = _written(folder, _annotations(), write_annotation, suffix, format=fmt)
        extra = {
            "textgrid": [(PRAAT / n).read_bytes() for n in
                         ("labels.binary.TextGrid", "labels.long.TextGrid",
                          "labels.short.TextGrid")],
            "audacity": [b"0.100000\t0.400000\tword\n\\\t100.0\t2000.0\n1.0\t1.0\tpoint\n"],
            "labels-csv": [b"start,end,label\n0.1,0.5,a\n0.5,,b\n",
                           b"onset;duration;word;tier\n0,1,x,t1\n1,0.5,y,t2\n"],
            "sv-csv": [b"0.5,a\n1.5,b\n", b"0,0,1,a\n1,0,0.5,b\n", b"0,440,1,0.8,note\n"],
        }
        return seeds + extra.get(fmt, [])
    return make


def audio_seeds(folder: Path) -> list[bytes]:
    import soundfile

    rng = np.random.default_rng(5)
    t = np.arange(4000) / 8000
    tone = (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    out = []
    for name, data, kwargs in [
            ("pcm16.wav", np.stack([tone, -tone], axis=1), {"subtype": "PCM_16"}),
            ("float.wav", tone, {"subtype": "FLOAT"}),
            ("pcm24.aiff", tone, {"subtype": "PCM_24"}),
            ("mono.flac", tone, {}),
            ("noise.ogg", (0.1 * rng.standard_normal(4000)).astype(np.float32), {})]:
        soundfile.write(str(folder / name), data, 8000, **kwargs)
        out.append((folder / name).read_bytes())
    return out


def video_seeds(folder: Path) -> list[bytes]:
    import cv2

    out = []
    for name, fourcc in (("v.avi", "MJPG"), ("v.mp4", "mp4v")):
        writer = cv2.VideoWriter(str(folder / name), cv2.VideoWriter_fourcc(*fourcc), 10.0,
                                 (48, 32))
        for k in range(12):
            frame = np.zeros((32, 48, 3), np.uint8)
            frame[:, 4 * k:4 * k + 4] = 255
            writer.write(frame)
        writer.release()
        out.append((folder / name).read_bytes())
    return out


# ------------------------------------------------------------------ checks
ALIGNMENT_SUFFIXES = {"csv": ".csv", "json": ".json", "svl": ".svl", "sv-csv": ".sv.csv",
                      "audacity": ".txt", "textgrid": ".TextGrid", "eaf": ".eaf"}
ANNOTATION_SUFFIXES = {"audacity": ".txt", "textgrid": ".TextGrid", "eaf": ".eaf",
                       "sv-csv": ".sv.csv", "labels-csv": ".csv"}


def _write_back(what: str, write, read, result, folder: Path, rng, suffixes: dict) -> None:
    """The result written in one of our formats (chosen by the case) reads back."""
    fmt = list(suffixes)[int(rng.integers(len(suffixes)))]
    out = folder / f"back{suffixes[fmt]}"
    try:
        write(result, out, format=fmt)
    except Exception as err:  # noqa: BLE001 - any failure of a writer is a finding
        raise AssertionError(f"writing the {what} back as {fmt} failed: "
                             f"{type(err).__name__}: {err}") from None
    try:
        read(out, fmt)
    except Exception as err:  # noqa: BLE001
        raise AssertionError(f"our own {fmt} file did not read back: {type(err).__name__}: "
                             f"{err}") from None


def check_alignment(result, path, folder, rng) -> None:
    from core import Alignment
    from core.formats import read_alignment, write_alignment

    assert isinstance(result, Alignment), type(result)
    times = result.times_s
    assert np.all(np.isfinite(times)) and np.all(times >= 0), "times not finite"
    assert np.all(np.diff(result.path, axis=0) >= 0), "path goes back"
    assert 0 < result.rate_a_hz <= 1e6 and 0 < result.rate_b_hz <= 1e6, "rates"
    _write_back("alignment", write_alignment, read_alignment, result, folder, rng,
                ALIGNMENT_SUFFIXES)


def check_annotation(result, path, folder, rng) -> None:
    from core.formats import Annotation, read_annotation, write_annotation

    assert isinstance(result, Annotation), type(result)
    assert np.isfinite(result.start_s) and np.isfinite(result.end_s)
    for tier in result.tiers:
        assert all(np.isfinite(tier.times)), "times not finite"
    _write_back("annotation", write_annotation, read_annotation, result, folder, rng,
                ANNOTATION_SUFFIXES)


def check_recording(result, path, folder, rng) -> None:
    assert result.kind in ("audio", "video")
    assert result.rate_hz > 0 and result.n_frames > 0
    if result.kind == "audio":
        try:
            samples = result.audio(mono=True)
        except ValueError as err:  # a file that opens but fails later must still say so
            if os.fsdecode(path) not in str(err):
                raise AssertionError(f"decoding error without the file: {err}") from None
            return
        assert samples.dtype == np.float32 and np.all(np.isfinite(samples))
    else:
        try:
            frames = list(result.iter_frames(0, min(result.n_frames, 16), max_side=24))
            result.frame(result.n_frames - 1)
        except ValueError as err:
            if os.fsdecode(path) not in str(err):
                raise AssertionError(f"decoding error without the file: {err}") from None
            return
        assert all(f.dtype == np.uint8 and f.ndim == 3 for f in frames)
        result.close()


def _read_alignment(fmt):
    def read(path):
        from core.formats import read_alignment
        return read_alignment(path, fmt)
    return read


def _read_annotation(fmt):
    def read(path):
        from core.formats import read_annotation
        return read_annotation(path, fmt)
    return read


def _read_annotation_by_content(path):
    from core.formats import read_annotation
    return read_annotation(path)  # the format comes from the name and the content


def _open_recording(path):
    from core.media import open_recording
    return open_recording(path)


for _fmt, _suffix in ALIGNMENT_SUFFIXES.items():
    register(Reader(f"alignment-{_fmt}", _suffix, _read_alignment(_fmt),
                    alignment_seeds(_fmt, _suffix), check_alignment))
for _fmt, _suffix in ANNOTATION_SUFFIXES.items():
    register(Reader(f"annotation-{_fmt}", _suffix, _read_annotation(_fmt),
                    annotation_seeds(_fmt, _suffix), check_annotation))
# .txt told apart by content: Audacity labels or a Sonic Visualiser text export
def txt_seeds(folder: Path) -> list[bytes]:
    return annotation_seeds("audacity", ".txt")(folder) + [
        b"0.510023000\t0\t0.200000000\tla la\n1.000000000\t3.5\t0.500000000\n",
        b"0.250000000\tbeat\n0.750000000\n", b"0.100000000\t440.5\n0.200000000\t0.05\tlow\n",
        b"0.100000000\t440.5\t0.100000000\t0.8\tA4\n"]


register(Reader("annotation-txt-by-content", ".txt", _read_annotation_by_content, txt_seeds,
                check_annotation))
register(Reader("media-audio", ".wav", _open_recording, audio_seeds, check_recording,
                text=False))
register(Reader("media-video", ".avi", _open_recording, video_seeds, check_recording,
                text=False))


# the batch's manifest (its reader must refuse everything malformed before a batch
# starts) and its summary (read back by the window)
def manifest_seeds(folder: Path) -> list[bytes]:
    return [b"a,b\nx.wav,y.wav\n",
            b"id,a,b,method,feature,rate,band,anchors\n"
            b"p1,ref/x.wav,takes/y.wav,default,chroma,50,2.5,anchors.csv\n"
            b'"p,2","dir/a b.wav",/abs/c.flac,dtw,,25,,\n',
            "\ufeffID,A,B,Step-Pattern,method\nw\u00f6rld,\u00e9.wav,b.wav,symmetric1,dtw\n"
            "x,c.wav,d.wav,,\n".encode()]


def check_manifest(result, path, folder, rng) -> None:
    from core.batch import Pair, as_pairs

    assert result and all(isinstance(p, Pair) for p in result)
    assert all(os.path.isabs(p.a) and os.path.isabs(p.b) for p in result)
    ids = [p.id.casefold() for p in result]
    assert len(set(ids)) == len(ids), "duplicate ids"
    assert as_pairs(result) == result  # what align_pairs checks again, it accepts


def summary_seeds(folder: Path) -> list[bytes]:
    from core.batch import SummaryRow
    from core.batch.summary import format_rows

    rows = [SummaryRow("one", "ok", "", 3.0, 4.5, 0.25, 0.9312, 0.0625, "music", "one.json",
                       "/x/a.wav", "/x/b, c.wav"),
            SummaryRow("two", "failed", "b.wav: file not found", 3.0, None, 0.01),
            SummaryRow("three", "skipped", "", 1.0, 1.0, 2.0, 1.0, 0.0, "speech", "t.json")]
    return [format_rows(rows).encode(), format_rows(rows[1:2]).encode()]


def check_summary(result, path, folder, rng) -> None:
    from core.batch import SummaryRow, read_summary
    from core.batch.summary import write_summary

    assert all(isinstance(r, SummaryRow) for r in result)
    for row in result:
        for value in (row.duration_a_s, row.duration_b_s, row.seconds,
                      row.mean_confidence, row.low_confidence_fraction):
            assert value is None or isinstance(value, float)
    back = folder / "back-summary.csv"
    write_summary(result, back)
    again = read_summary(back)
    write_summary(again, back)
    assert read_summary(back) == again, "a summary written back changes"


def _read_manifest(path):
    from core.batch import read_manifest
    return read_manifest(path, strict=False)


def _read_summary(path):
    from core.batch import read_summary
    return read_summary(path)


register(Reader("batch-manifest", ".csv", _read_manifest, manifest_seeds, check_manifest))
register(Reader("batch-summary", ".csv", _read_summary, summary_seeds, check_summary))


# the project file (issue 14): read and restored into a Project, as the window opens it
def _project_wav(path: Path, seconds: float, seed: int) -> str:
    import wave

    x = np.random.default_rng(seed).standard_normal(int(seconds * 8000)) * 3000
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(x.astype("<i2").tobytes())
    return str(path)


def project_seeds(folder: Path) -> list[bytes]:
    from core import project_file
    from core.alignment import Alignment
    from core.project import Project, RecordingInfo
    from core.registry import FeatureSpec, Recipe

    a = _project_wav(folder / "proj-a.wav", 2.0, 0)
    b = _project_wav(folder / "proj-b.wav", 2.5, 1)
    p = Project()
    p.set_recording("a", RecordingInfo(a, "aa" * 32, "audio", 2.0, 8000.0, 16000, 1))
    p.set_recording("b", RecordingInfo(b, "bb" * 32, "audio", 2.5, 8000.0, 20000, 1))
    p.set_display_feature("a", FeatureSpec("logmel", 50.0))
    steps = np.array([[0, 0]] + [[min(k, 99), min(k + k // 4, 124)] for k in range(1, 125)])
    steps = np.unique(steps, axis=0)
    first = p.add_result(
        Alignment(steps, 50.0, 50.0, 100, 125, method="dtw", params={"band": 0.1},
                  distance=3.5, confidence=np.linspace(0.2, 1.0, len(steps))),
        Recipe("dtw", {"band_s": 0.5}, (FeatureSpec("chroma", 50.0),),
               (FeatureSpec("chroma", 50.0),)), label="dtw one")
    second = p.add_result(Alignment(_path(100, 3), 50.0, 50.0, 100, 100, method="ctw"),
                          Recipe("ctw", {}), label="ctw")
    p.set_compared(first)
    p.apply_edit(second, Alignment(np.array([[0, 0], [50, 40], [99, 99]]), 50.0, 50.0,
                                   100, 100, method="manual"), "straighten")
    p.add_anchor(0.5, 0.7)
    p.move_cursor_to(1.25, 1.5)
    p.set_view("matrix", {"a": (0.0, 1.0), "b": (0.5, 2.0)})
    small = Project()
    small.set_recording("a", RecordingInfo(a, None, "audio", 2.0, 8000.0, 16000, 1))
    return [project_file.dumps_project(p, folder / "seed.alignproj").encode(),
            project_file.dumps_project(small, folder / "small.alignproj").encode()]


def _load_project(path):
    from core.project_file import load_project
    return load_project(path)


def check_project(result, path, folder, rng) -> None:
    from core.project_file import load_project, save_project

    project, loaded = result
    assert all(isinstance(m, str) and m for m in loaded.problems)
    for rid in project.result_ids():
        al = project.alignment(rid)
        steps = np.asarray(al.path)
        assert steps.ndim == 2 and steps.shape[1] == 2 and len(steps) >= 1
        assert (np.diff(steps, axis=0) >= 0).all(), "a path that goes back"
        assert (steps >= 0).all() and (steps[:, 0] < al.n_a).all() \
            and (steps[:, 1] < al.n_b).all(), "a path outside its recordings"
    back = folder / "back.alignproj"
    save_project(project, back)
    again, _ = load_project(back)
    assert again.result_ids() == project.result_ids()
    for rid in project.result_ids():
        assert np.array_equal(again.alignment(rid).path, project.alignment(rid).path)
    assert again.anchors == project.anchors and again.cursor == project.cursor


register(Reader("project", ".alignproj", _load_project, project_seeds, check_project))


# ------------------------------------------------------------------ mutations
_NUMBERS = [b"1e999", b"-1e999", b"nan", b"NaN", b"inf", b"-inf", b"Infinity", b"-0",
            b"1e308", b"-1", b"0", b"99999999999999999999", b"1e-320", b"0x10", b"1,5",
            "\uff11".encode(), b"", b"2147483648", b"-2147483649", b"4294967296", b"1e15",
            b"0.000000001", b"3e8"]
_ENCODINGS = ["utf-16-le", "utf-16-be", "utf-16", "utf-32", "latin-1", "utf-8-sig", "cp1252"]
_WAV_FIELDS = [(22, "<H"), (24, "<I"), (28, "<I"), (32, "<H"), (34, "<H"), (40, "<I"),
               (4, "<I"), (16, "<I"), (20, "<H")]
_INTERESTING = [0, 1, 2, 3, 255, 256, 1000, 1024, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]


def _flip(rng, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 9))):
        if out:
            out[int(rng.integers(len(out)))] = int(rng.integers(256))
    return bytes(out)


def _truncate(rng, data: bytes) -> bytes:
    return data[:int(rng.integers(len(data) + 1))]


def _insert(rng, data: bytes) -> bytes:
    at = int(rng.integers(len(data) + 1))
    junk = rng.bytes(int(rng.integers(1, 64)))
    return data[:at] + junk + data[at:]


def _delete(rng, data: bytes) -> bytes:
    if not data:
        return data
    a = int(rng.integers(len(data)))
    return data[:a] + data[a + int(rng.integers(1, 64)):]


def _duplicate(rng, data: bytes) -> bytes:
    if not data:
        return data
    a = int(rng.integers(len(data)))
    b = min(len(data), a + int(rng.integers(1, 256)))
    return data[:b] + data[a:b] * int(rng.integers(1, 4)) + data[b:]


def _numbers(rng, data: bytes) -> bytes:
    import re

    spans = [m.span() for m in re.finditer(rb"-?\d+(\.\d+)?([eE][+-]?\d+)?", data)]
    if not spans:
        return _insert(rng, data)
    out = data
    for _ in range(int(rng.integers(1, 4))):
        spans = [m.span() for m in re.finditer(rb"-?\d+(\.\d+)?([eE][+-]?\d+)?", out)]
        if not spans:
            break
        a, b = spans[int(rng.integers(len(spans)))]
        out = out[:a] + _NUMBERS[int(rng.integers(len(_NUMBERS)))] + out[b:]
    return out


def _lines(rng, data: bytes) -> bytes:
    lines = data.split(b"\n")
    if len(lines) < 2:
        return _insert(rng, data)
    op = int(rng.integers(5))
    k = int(rng.integers(len(lines)))
    j = int(rng.integers(len(lines)))
    if op == 0:
        del lines[k]
    elif op == 1:
        lines.insert(k, lines[j])
    elif op == 2:
        lines[k], lines[j] = lines[j], lines[k]
    elif op == 3:
        lines.insert(k, b"x" * int(rng.integers(1000, 50_000)))
    else:
        lines.insert(k, bytes(rng.integers(0, 32, size=int(rng.integers(1, 20)), dtype=np.uint8)))
    sep = [b"\n", b"\r\n", b"\r"][int(rng.integers(3))]
    return sep.join(lines)


def _encoding(rng, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace")
    encoding = _ENCODINGS[int(rng.integers(len(_ENCODINGS)))]
    out = text.encode(encoding, "replace")
    if rng.random() < 0.3:
        out = out[:-1]  # an odd number of bytes, or a cut character
    return out


def _nesting(rng, data: bytes) -> bytes:
    depth = int(rng.integers(100, 20_000))  # (Python's own recursion limit is 1,000)
    at = int(rng.integers(len(data) + 1))
    kind = int(rng.integers(3))
    nest = ([b"[" * depth + b"]" * depth, b"{\"a\":" * depth + b"1" + b"}" * depth,
             b"<a>" * depth + b"</a>" * depth][kind])
    return data[:at] + nest + data[at:]


def _entities(rng, data: bytes) -> bytes:
    """XML entity expansion ("billion laughs") and external entities."""
    lol = (b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
           b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;'
           b'&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;'
           b'&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">'
           b'<!ENTITY ext SYSTEM "file:///etc/passwd">]>')
    at = data.find(b"?>")
    at = at + 2 if at >= 0 else 0
    body = data[at:].replace(b">x<", b">&g;<", 1).replace(b'label=""', b'label="&ext;"', 1)
    return data[:at] + lol + body


def _wav_header(rng, data: bytes) -> bytes:
    if not data.startswith(b"RIFF") or len(data) < 44:
        return _flip(rng, data[:64]) + data[64:]
    out = bytearray(data)
    offset, fmt = _WAV_FIELDS[int(rng.integers(len(_WAV_FIELDS)))]
    value = _INTERESTING[int(rng.integers(len(_INTERESTING)))]
    limit = 2 ** (8 * struct.calcsize(fmt)) - 1
    struct.pack_into(fmt, out, offset, min(value, limit))
    return bytes(out)


def _head(rng, data: bytes) -> bytes:
    """Bytes flipped in the first 256 bytes (headers)."""
    n = min(len(data), 256)
    return _flip(rng, data[:n]) + data[n:]


BYTE_MUTATIONS = [_flip, _truncate, _insert, _delete, _duplicate, _head]
TEXT_MUTATIONS = [_numbers, _numbers, _lines, _encoding, _nesting, _entities]
MEDIA_MUTATIONS = [_wav_header, _wav_header, _head]


def mutate(rng, data: bytes, text: bool) -> bytes:
    pool = BYTE_MUTATIONS + (TEXT_MUTATIONS if text else MEDIA_MUTATIONS)
    for _ in range(int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))):
        data = pool[int(rng.integers(len(pool)))](rng, data)
    return data


# ------------------------------------------------------------------ the child
class CaseTimeout(BaseException):
    """A case ran over CASE_TIMEOUT_S (raised by SIGALRM between bytecodes)."""


@contextlib.contextmanager
def case_timeout(seconds: float):
    def fire(signum, frame):
        raise CaseTimeout

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_case(reader: Reader, seeds: list[bytes], seed: int, k: int, folder: Path) -> dict:
    rng = np.random.default_rng([seed, k])
    data = mutate(rng, seeds[int(rng.integers(len(seeds)))], reader.text)
    path = folder / f"case{reader.suffix}"
    path.write_bytes(data)
    t0 = time.perf_counter()
    status, detail = "ok", ""
    try:
        with case_timeout(CASE_TIMEOUT_S):
            result = reader.read(str(path))
            reader.check(result, str(path), folder, rng)
    except CaseTimeout:
        status, detail = "hang", f"over {CASE_TIMEOUT_S:g} s"
    except AssertionError as err:
        status, detail = "bad", f"check: {err}"
    except ValueError as err:
        named = str(path) in str(err)
        status = "refused" if named else "bad"
        detail = str(err) if named else f"message without the file: {type(err).__name__}: {err}"
    except BaseException as err:  # noqa: BLE001 - this is what the fuzzing looks for
        status, detail = "bad", f"{type(err).__name__}: {err}"
    finally:
        for leftover in folder.iterdir():
            if leftover.name.startswith("back"):
                leftover.unlink()
    return {"case": k, "status": status, "detail": detail[:400],
            "ms": round(1000 * (time.perf_counter() - t0), 2)}


def child_main(argv: list[str]) -> int:
    """``fuzzing.py READER SEED START STOP FOLDER``: run cases, one JSON line each."""
    name, seed, start, stop, folder = argv[0], int(argv[1]), int(argv[2]), int(argv[3]), \
        Path(argv[4])
    warnings.simplefilter("error")
    # numba and other libraries warn about their own deprecations on import
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    folder.mkdir(parents=True, exist_ok=True)
    reader = READERS[name]
    seeds_folder = folder / "seeds"
    seeds_folder.mkdir(exist_ok=True)
    seeds = reader.seeds(seeds_folder)
    cases = folder / "cases"
    cases.mkdir(exist_ok=True)
    # the protocol gets its own descriptor; whatever a library prints goes to stderr
    out = io.TextIOWrapper(os.fdopen(os.dup(1), "wb"), encoding="utf-8", line_buffering=True)
    os.dup2(2, 1)
    with out:
        for k in range(start, stop):
            out.write(json.dumps({"start": k}) + "\n")
            out.write(json.dumps(run_case(reader, seeds, seed, k, cases)) + "\n")
        out.write(json.dumps({"done": True}) + "\n")
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT)]
    sys.exit(child_main(sys.argv[1:]))
