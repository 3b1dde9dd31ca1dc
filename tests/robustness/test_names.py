"""File names with any bytes a Linux file system allows (issue 19, item 1): every reader
and writer takes them, OpenCV never sees one it cannot take, messages show them."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from fuzzing import ROOT  # tests/robustness is on sys.path

from core import paths
from core.errors import FormatError, MediaError

N_NAMES = 200
_SPECIAL = [b"-", b"--help", b"-o", b"a\xffb", b"\xff\xfe", b"caf\xe9", b"\xc3\x28",
            b"pipe:1", b"file:x", b"concat:a|b", b"%03d", b"%s%n", b"a\nb", b"a\tb", b" ",
            b"\x01\x02", b"..x", b"x" * 200, "日本語".encode(), "\U0001f600".encode(),
            b"a" * 240, b"\xed\xa0\x80"]


def random_names(seed: int, n: int, suffix: bytes) -> list[bytes]:
    """Seeded names: any byte but '/' and NUL, up to the 255-byte limit with ``suffix``."""
    rng = np.random.default_rng(seed)
    names = [s + suffix for s in _SPECIAL]
    allowed = np.array([b for b in range(1, 256) if b != ord("/")], dtype=np.uint8)
    while len(names) < n:
        size = int(rng.integers(1, 256 - len(suffix)))
        names.append(bytes(rng.choice(allowed, size=size)) + suffix)
    out, seen = [], set()
    for name in names:
        name = name[:255]
        if name not in seen and name not in (b".", b".."):
            seen.add(name)
            out.append(name)
    return out


def in_folder(folder, name: bytes) -> str:
    """The path as Python hands it around (a str, non-UTF-8 bytes as surrogates)."""
    return os.fsdecode(os.path.join(os.fsencode(folder), name))


def test_alignment_and_annotation_files_with_any_name(tmp_path):
    from core.formats import read_alignment, read_annotation, write_alignment, write_annotation

    source = tmp_path / "source"
    source.mkdir()
    formats = [("csv", b".csv"), ("json", b".json"), ("textgrid", b".TextGrid"),
               ("eaf", b".eaf"), ("svl", b".svl"), ("audacity", b".txt"),
               ("sv-csv", b".sv.csv")]
    counted = 0
    for k, name in enumerate(random_names(1, N_NAMES, b"")):
        fmt, suffix = formats[k % len(formats)]
        path = in_folder(source, (name + suffix)[-255:] if len(name + suffix) > 255
                         else name + suffix)
        with open(path, "w") as handle:
            handle.write("time_a_s,time_b_s\n0,0\n0.5,0.75\n1,1.5\n")
        alignment = read_alignment(path, "csv")
        out = in_folder(tmp_path, name[:240] + b".out")
        write_alignment(alignment, out, format=fmt)
        assert read_alignment(out, fmt).path.shape == alignment.path.shape
        if fmt in ("textgrid", "eaf", "audacity", "sv-csv"):
            annotation = read_annotation(out, fmt)
            write_annotation(annotation, out, format=fmt)
        with open(path, "wb") as handle:
            handle.write(b"time_a_s,time_b_s\n0,zero\n")
        with pytest.raises(FormatError) as info:
            read_alignment(path, "csv")
        assert paths.display_path(path) in str(info.value)
        os.unlink(out)
        os.unlink(path)
        counted += 1
    assert counted >= N_NAMES
    assert not os.listdir(source) and sorted(os.listdir(tmp_path)) == ["source"]


def test_audio_files_with_any_name(tmp_path):
    import soundfile

    from core.media import open_recording

    tone = (0.3 * np.sin(np.arange(800) / 5)).astype(np.float32)
    good = tmp_path / "good.flac"
    soundfile.write(str(good), tone, 8000)
    data = good.read_bytes()
    for name in random_names(2, N_NAMES, b".flac"):
        path = in_folder(tmp_path, name)
        with open(path, "wb") as handle:
            handle.write(data)
        rec = open_recording(path)
        assert rec.kind == "audio" and rec.audio().shape == (800,)
        with open(path, "wb") as handle:
            handle.write(b"fLaC" + b"\x00" * 100)
        with pytest.raises(MediaError) as info:
            open_recording(path)
        assert paths.display_path(os.path.abspath(path)) in str(info.value)
        os.unlink(path)


def test_video_files_with_any_name_in_a_subprocess(tmp_path):
    # OpenCV's binding segfaulted on names that are not UTF-8: the check runs in a child
    # so that a regression fails this test instead of ending the run
    import cv2

    good = tmp_path / "good.avi"
    writer = cv2.VideoWriter(str(good), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (32, 24))
    for k in range(6):
        writer.write(np.full((24, 32, 3), 40 * k, np.uint8))
    writer.release()
    names = random_names(3, 40, b".avi")
    folder = tmp_path / "videos"
    folder.mkdir()
    for k, name in enumerate(names):
        with open(os.path.join(os.fsencode(folder), name), "wb") as handle:
            handle.write(good.read_bytes() if k % 4 else b"RIFF" + b"\x00" * 200)
    code = ("import os, sys\n"
            "from core.media import open_recording\n"
            "folder = os.fsencode(sys.argv[1])\n"
            "for name in sorted(os.listdir(folder)):\n"
            "    path = os.fsdecode(os.path.join(folder, name))\n"
            "    try:\n"
            "        rec = open_recording(path)\n"
            "        frames = list(rec.iter_frames())\n"
            "        print('ok', rec.n_frames, len(frames), rec.frame(5).shape)\n"
            "    except ValueError as err:\n"
            "        shown = os.fsencode(path).decode('utf-8', 'backslashreplace')\n"
            "        print('refused' if shown in str(err) else 'unnamed ' + str(err))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    proc = subprocess.run([sys.executable, "-c", code, str(folder)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stdout.splitlines()
    assert len(lines) == len(names)
    assert lines.count("ok 6 6 (24, 32, 3)") == sum(1 for k in range(len(names)) if k % 4)
    assert all(line in ("ok 6 6 (24, 32, 3)", "refused") for line in lines), lines
    assert not os.listdir(tmp_path / "tmp")  # the links OpenCV used are gone


def test_command_line_with_any_names(tmp_path):
    """A handful of subprocess runs: inputs and outputs with such names, exit 0, and a
    corrupt one gives exit 2 with the name shown as \\xNN."""
    import soundfile

    t = np.arange(8000 * 2) / 8000
    folder = os.fsencode(tmp_path)
    a = os.path.join(folder, b"a \xff\xfe take.wav")
    b = os.path.join(folder, b"b\xe9-%03d pipe:1.wav")
    for path, rate in ((a, 1.0), (b, 1.2)):
        with open(path, "wb") as handle:
            soundfile.write(handle, (0.3 * np.sin(2 * np.pi * 220 * t * rate)).astype(
                np.float32), 8000, format="WAV")
    out = os.path.join(folder, b"out \xff.json")
    labels = os.path.join(folder, b"l\xfcabels.txt")
    with open(labels, "w") as handle:
        handle.write("0.1\t0.5\tx\n")
    moved = os.path.join(folder, b"-moved\n.TextGrid")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "inspector.launch", *args], env=env,
                              capture_output=True, timeout=600)

    proc = run(b"align", a, b, b"-o", out, b"-q")
    assert proc.returncode == 0, proc.stderr
    proc = run(b"transfer", out, labels, b"-o", moved)
    assert proc.returncode == 0, proc.stderr
    with open(moved, "rb") as handle:
        assert b'text = "x"' in handle.read()
    with open(a, "wb") as handle:
        handle.write(b"RIFF\x00\x00garbage" * 20)
    proc = run(b"align", a, b, b"-o", out)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "a \\xff\\xfe take.wav: could not be decoded as audio" in err
