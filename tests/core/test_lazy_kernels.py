"""The engine imports without numba (core._kernels.lazy): numba comes in where a kernel
first runs, on the thread that runs it, and the when-loaded hooks run there."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import _kernels

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import sys, threading
import numpy as np
import core.registry, core.pipeline, core.warping, core.soft, core.transport, core.canonical
import core.project_file, core.structure, core.render
print("after engine import:", "numba" in sys.modules, "llvmlite" in sys.modules)
from core._kernels import when_numba_loaded
from core.pipeline import overlap
seen = []
when_numba_loaded(lambda: seen.append(threading.current_thread().name))
def run():
    back = np.zeros((3, 4), dtype=np.int8)
    print("path length:", overlap._k.overlap_backtrack(back, 2, 3, np.empty((8, 2), np.int64)))
worker = threading.Thread(target=run, name="kernel-worker")
worker.start(); worker.join()
print("hook ran on:", seen)
late = []
when_numba_loaded(lambda: late.append(threading.current_thread().name))
print("late hook ran on:", late)
"""


def test_engine_imports_without_numba_and_a_kernel_brings_it():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                          text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "after engine import: False False"
    assert lines[1] == "path length: 1"  # every cell a start: the path is its end cell
    assert lines[2] == "hook ran on: ['kernel-worker']"
    assert lines[3] == "late hook ran on: ['MainThread']"  # numba loaded: at once


def test_lazy_module_reads_through_and_keeps_what_it_read():
    k = _kernels.lazy("dtw_tiles")
    assert "imported at first use" in repr(k)
    assert k.COSINE == _kernels.COSINE == 3
    assert "COSINE" in vars(k)  # the next read is a plain attribute read
    with pytest.raises(AttributeError):
        k.no_such_kernel  # noqa: B018
    with pytest.raises(AttributeError):
        k.__wrapped__  # noqa: B018 - no dunder lookups through the proxy
