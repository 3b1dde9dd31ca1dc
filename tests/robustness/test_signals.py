"""Signals during writes (issue 19, item 3): SIGTERM, SIGHUP and SIGINT leave no
temporary file and the previous output intact; the command line exits 143, 129 or 130
with one line on standard error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from fuzzing import ROOT  # tests/robustness is on sys.path

SIGNALS = [("SIGTERM", 143), ("SIGHUP", 129), ("SIGINT", 130)]

WRITER = """
import sys, time
from core import paths

restore = paths.cleanup_on_signals()  # what the command line installs
target, kind = sys.argv[1], sys.argv[2]
try:
    if kind == "stream":
        with paths.open_output(target, "wb") as stream:
            stream.write(b"new" * 1000)
            stream.flush()
            print("writing", flush=True)
            while True:
                stream.write(b"more" * 1000)
                time.sleep(0.005)
    else:  # a library that wants a file name (soundfile, OpenCV)
        with paths.output_path(target) as tmp:
            with open(tmp, "wb") as handle:
                handle.write(b"partial")
            print("writing", flush=True)
            while True:
                time.sleep(0.005)
except paths.Terminated as exc:
    sys.exit(128 + exc.signum)
except KeyboardInterrupt:
    sys.exit(130)
"""


def env_with(tmp):
    return {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}


@pytest.mark.parametrize("kind", ["stream", "library"])
@pytest.mark.parametrize(("name", "status"), SIGNALS)
def test_signal_in_the_middle_of_a_write(tmp_path, kind, name, status):
    private = tmp_path / "tmp"
    private.mkdir()
    target = tmp_path / "out.wav"
    target.write_bytes(b"previous")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), kind],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env_with(private))
    try:
        assert proc.stdout.readline() == b"writing\n", proc.stderr.read()
        assert any(p.name.startswith(".") for p in tmp_path.iterdir())  # a temporary file
        proc.send_signal(getattr(signal, name))
        assert proc.wait(timeout=60) == status, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav", "tmp"]
    assert not list(private.iterdir())


@pytest.mark.parametrize(("name", "status"), SIGNALS)
def test_signal_to_a_device_output_leaves_no_staged_file(tmp_path, name, status, null_device):
    # a library writing to a device is staged in the temporary folder, then copied
    private = tmp_path / "tmp"
    private.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(null_device), "library"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env_with(private))
    try:
        assert proc.stdout.readline() == b"writing\n", proc.stderr.read()
        assert list(private.iterdir())
        proc.send_signal(getattr(signal, name))
        assert proc.wait(timeout=60) == status
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert not list(private.iterdir())


@pytest.fixture(scope="module")
def long_alignment(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signals")
    t = np.arange(20_000) / 100.0
    path = folder / "long.csv"
    path.write_text("time_a_s,time_b_s\n" + "".join(f"{a:.2f},{1.1 * a:.2f}\n" for a in t))
    return path


@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.parametrize(("name", "status"), SIGNALS)
def test_signal_to_the_command_line_at_a_random_moment(tmp_path, long_alignment, name, status,
                                                       attempt):
    """The real command line, signalled at a seeded random moment (before, during or
    after the write): the old output or a complete new one, never a temporary file."""
    from core.formats import read_alignment

    rng = np.random.default_rng([19, attempt, status])
    out = tmp_path / "out.json"
    out.write_text("previous\n")
    proc = subprocess.Popen([sys.executable, "-m", "inspector.launch", "convert",
                             str(long_alignment), "-o", str(out)], stderr=subprocess.PIPE,
                            env=env_with(tmp_path))
    time.sleep(float(rng.uniform(1.0, 4.0)))
    proc.send_signal(getattr(signal, name))
    try:
        code = proc.wait(timeout=120)
        err = proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    # (-signum: the signal came while Python was starting, before any handler and any
    # file, or while it was exiting after the work was done: the default action ended it)
    assert code in (0, status, -getattr(signal, name)), err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    if out.read_text() != "previous\n":  # then the complete new file, never a part of it
        assert read_alignment(out).path.shape[0] == 20_000
    if code == status:
        assert err.count("\n") == 1 and err.startswith("alignment-inspector: error: ")


def _catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` (Linux: /proc/PID/status)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_the_window_ends_cleanly_on_a_signal(tmp_path, name):
    signum = getattr(signal, name)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ALIGNMENT_INSPECTOR_NO_SETTINGS="1")
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from inspector.app import main; "
                             "sys.exit(main([]))"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not _catches(proc.pid, signum):  # the window's handler is installed
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the window never started"
            time.sleep(0.1)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err
