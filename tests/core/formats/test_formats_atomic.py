"""A failing write leaves the previous file intact and no temporary file behind."""

import os

import numpy as np
import pytest

from core.formats import Annotation, Interval, Tier, _atomic, write_alignment, write_annotation
from core.formats._atomic import atomic_open, write_text_atomic

from .helpers import sample_alignment


def test_exception_inside_write_keeps_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old content\n")
    with pytest.raises(RuntimeError, match="boom"), atomic_open(target) as stream:
        stream.write("half of the new")
        raise RuntimeError("boom")
    assert target.read_text() == "old content\n"
    assert os.listdir(tmp_path) == ["out.csv"]


@pytest.mark.parametrize("ext", ["csv", "json", "svl", "txt", "TextGrid", "eaf"])
def test_failing_writer_keeps_old_file(tmp_path, monkeypatch, ext):
    target = tmp_path / f"out.{ext}"
    target.write_text("previous export\n")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        write_alignment(sample_alignment(), target)
    assert target.read_text() == "previous export\n"
    assert sorted(os.listdir(tmp_path)) == [f"out.{ext}"]


def test_failing_annotation_write_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "labels.TextGrid"
    target.write_text("previous\n")
    monkeypatch.setattr(_atomic.os, "replace", lambda *a: (_ for _ in ()).throw(
        OSError(13, "Permission denied")))
    ann = Annotation((Tier("w", "interval", (Interval(0, 1, "x"),)),))
    with pytest.raises(OSError, match="Permission denied"):
        write_annotation(ann, target)
    assert target.read_text() == "previous\n" and os.listdir(tmp_path) == ["labels.TextGrid"]


def test_success_replaces_and_keeps_mode(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("a")
    os.chmod(target, 0o640)
    write_text_atomic(target, "b\r\nc")
    assert target.read_bytes() == b"b\r\nc"
    assert (os.stat(target).st_mode & 0o777) == 0o640


def test_missing_folder_raises_and_creates_nothing(tmp_path):
    with pytest.raises(OSError):
        write_alignment(sample_alignment(), tmp_path / "nope" / "x.csv")
    assert not (tmp_path / "nope").exists()


def test_bad_mode():
    with pytest.raises(ValueError, match="mode"), atomic_open("x", "a"):
        pass
    assert np.True_
