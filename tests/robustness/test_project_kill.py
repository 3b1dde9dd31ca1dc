"""``kill -9`` at random moments while a process saves and autosaves a project: the
project file is always a whole project (the old one or a new one), and a recovery file
(or one of its backups) always opens."""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core import project_file as pf
from core.alignment import Alignment
from core.project import Project, RecordingInfo
from core.registry import Recipe

TRIES = 200

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _project(folder: Path) -> Project:
    for name in ("a.wav", "b.wav"):
        (folder / name).write_bytes(os.urandom(4096))
    p = Project()
    p.set_recording("a", RecordingInfo(str(folder / "a.wav"), None, "audio", 600.0, 8000.0))
    p.set_recording("b", RecordingInfo(str(folder / "b.wav"), None, "audio", 600.0, 8000.0))
    rng = np.random.default_rng(0)
    steps = rng.integers(0, 3, 2_000)
    di = (steps != 1).astype(int)
    dj = (steps != 0).astype(int)
    path = np.column_stack([np.concatenate([[0], np.cumsum(di)]),
                            np.concatenate([[0], np.cumsum(dj)])])
    al = Alignment(path, 50.0, 50.0, method="dtw", confidence=rng.random(len(path)))
    p.add_result(al, Recipe("dtw", {}))
    return p


def _writer(project: Project, out: Path, rec: Path, k: int) -> None:
    """The child: saves and autosaves forever, the cursor counting the saves. Its disk
    is slow (fsync sleeps 5 ms), so that kills often land while a file is written."""
    fsync = os.fsync

    def slow_fsync(fd):
        time.sleep(0.005)
        fsync(fd)

    os.fsync = slow_fsync
    while True:
        project.move_cursor_to(float(k), 0.0)
        if k % 2:
            pf.save_project(project, out)
        else:
            pf.write_recovery(project, rec, project_path=out, edits=k)
        k += 1


def test_kill_9_during_saves_never_leaves_a_broken_project(tmp_path):
    project = _project(tmp_path)
    out = tmp_path / "p.alignproj"
    rec = pf.recovery_path(out)
    pf.save_project(project, out)  # the old one: cursor 0
    rng = random.Random(1234)
    kept = renewed = mid_write = 0
    old = 0
    for attempt in range(TRIES):
        base = (attempt + 1) * 1000  # this try's saves count from here
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                _writer(project, out, rec, base + 1)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 0.08))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        mid_write += bool(leftovers)
        for p in leftovers:  # a killed process cannot remove its temporary file
            p.unlink()
        loaded = pf.read_project(out)  # never raises: whole old or whole new
        cursor = int(loaded.snapshot["cursor"][0])
        assert len(loaded.snapshot["results"]) == 1
        if cursor == old:
            kept += 1
        else:  # a whole new version written by this try (odd: a save)
            assert base < cursor < base + 1000 and cursor % 2 == 1, (cursor, old, base)
            renewed += 1
            old = cursor
        if pf.recovery_files(rec):  # the newest whole recovery file opens
            back = pf.read_recovery(rec)
            assert int(back.snapshot["cursor"][0]) % 2 == 0
    assert mid_write > 20, "the kills should often land in the middle of a write"
    assert kept > 10 and renewed > 10
    print(f"{TRIES} kills: {mid_write} in the middle of a write, project kept {kept} "
          f"times, renewed {renewed} times", file=sys.stderr)
