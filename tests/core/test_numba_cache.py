"""numba's cache folder (core._numba_cache): per user, a private temporary folder when
that cannot be written (one line on stderr), no cache rather than a crash."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from core import _numba_cache as nc

REPO = Path(__file__).resolve().parents[2]


def test_platform_cache_dirs():
    assert nc.platform_cache_dir({"HOME": "/home/u"}, "linux")[0] == \
        Path("/home/u/.cache/alignment-inspector/numba")
    assert nc.platform_cache_dir({"HOME": "/home/u", "XDG_CACHE_HOME": "/c"}, "linux")[0] \
        == Path("/c/alignment-inspector/numba")
    assert nc.platform_cache_dir({"HOME": "/Users/u"}, "darwin")[0] == \
        Path("/Users/u/Library/Caches/alignment-inspector/numba")
    assert nc.platform_cache_dir({"LOCALAPPDATA": "C:/L"}, "win32")[0] == \
        Path("C:/L/alignment-inspector/Cache/numba")
    assert nc.platform_cache_dir({}, "linux") == (None, None)


def test_writable_folder_is_used_as_is(tmp_path):
    folder, message = nc.choose_cache_dir({"NUMBA_CACHE_DIR": str(tmp_path / "c")})
    assert folder == tmp_path / "c" and message is None and folder.is_dir()
    folder, message = nc.choose_cache_dir({"HOME": str(tmp_path)}, "linux")
    assert folder == tmp_path / ".cache" / "alignment-inspector" / "numba"
    assert message is None


def test_unwritable_folder_falls_back_to_a_private_temp_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    # a missing home is not created; a folder under a file cannot be (even as root)
    for env in ({"HOME": str(tmp_path / "nonexistent")},
                {"NUMBA_CACHE_DIR": str(blocker / "numba")}):
        folder, message = nc.choose_cache_dir(env, "linux")
        assert folder is not None and folder.is_dir()
        assert tmp_path / "tmp" in folder.parents
        assert message.count("\n") == 0 and str(folder) in message
    assert not (tmp_path / "nonexistent").exists()
    # the same folder next time (compiled once per session, not per run)
    again, _ = nc.choose_cache_dir({"HOME": str(tmp_path / "nonexistent")}, "linux")
    assert again == folder


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="ownership checks are POSIX")
def test_temp_folder_writable_by_others_is_not_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    shared = tmp_path / f"alignment-inspector-{os.getuid()}"
    shared.mkdir()
    shared.chmod(0o777)
    folder, _ = nc.choose_cache_dir({"HOME": str(tmp_path / "nonexistent")}, "linux")
    assert folder is not None and shared not in folder.parents


def test_no_folder_at_all_means_no_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing" / "tmp"))
    folder, message = nc.choose_cache_dir({"HOME": str(tmp_path / "nonexistent")}, "linux")
    assert folder is None and "compiled on every run" in message


def _run(code, env_changes, cwd):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(env_changes, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


KERNEL = """
import numpy as np
import core
from core._kernels.overlap import overlap_backtrack
back = np.zeros((3, 4), dtype=np.int8)
out = np.empty((8, 2), dtype=np.int64)
print(overlap_backtrack(back, 2, 3, out))
"""


def test_kernel_runs_and_caches_without_a_home(tmp_path):
    """HOME missing (a locked-down account): the kernel compiles, its cache goes to the
    temporary folder, and stderr has exactly one line saying so."""
    (tmp_path / "tmp").mkdir()
    proc = _run(KERNEL, {"HOME": str(tmp_path / "nonexistent"),
                         "TMPDIR": str(tmp_path / "tmp")}, tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "kernel cache" in lines[0], proc.stderr
    cached = list((tmp_path / "tmp").rglob("*.nbi"))
    assert cached, "nothing written to the temporary cache"
    assert not (tmp_path / "nonexistent").exists()


def test_kernel_runs_without_any_cache_folder(tmp_path):
    code = "import tempfile; tempfile.tempdir = '/proc/no-such-dir'\n" + KERNEL
    proc = _run(code, {"HOME": str(tmp_path / "nonexistent")}, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "compiled on every run" in proc.stderr
    assert "Traceback" not in proc.stderr
