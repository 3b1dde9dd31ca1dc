"""The engine imports without numba (core._kernels.lazy): numba comes in when a kernel
first runs, imported by its one import thread ("numba-import") while the kernel's thread
waits, and the when-loaded hooks run there."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import _kernels

REPO = Path(__file__).resolve().parents[2]


def run_child(code: str) -> list[str]:
    """The lines a fresh interpreter printed running ``code`` (it must succeed)."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()

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
    lines = run_child(CHILD)
    assert lines[0] == "after engine import: False False"
    assert lines[1] == "path length: 1"  # every cell a start: the path is its end cell
    assert lines[2] == "hook ran on: ['numba-import']"
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


PRELOAD = """
import sys, threading, time
import core.warping, core.pipeline
from core import _kernels
seen = []
_kernels.when_numba_loaded(lambda: seen.append(threading.current_thread().name))
_kernels.preload_numba(also=("scipy.signal", "no_such_module_here"))
print("returned before loaded:", not _kernels.numba_loaded())
_kernels.preload_numba()  # a second call starts nothing more
print("import threads:", sum(t.name == "numba-import" for t in threading.enumerate()) <= 1)
waited = []
def worker():
    _kernels.load_numba()  # waits for the import thread
    waited.append(_kernels.numba_loaded() and "scipy.signal" in sys.modules)
ts = [threading.Thread(target=worker) for _ in range(3)]
for t in ts: t.start()
for t in ts: t.join()
print("workers saw it loaded:", waited)
print("imported on:", seen)
"""


def test_preload_imports_numba_on_its_own_thread_and_load_waits_for_it():
    """...and for the modules it was asked to import too (a missing one is skipped)."""
    lines = run_child(PRELOAD)
    assert lines[0] == "returned before loaded: True"
    assert lines[1] == "import threads: True"
    assert lines[2] == "workers saw it loaded: [True, True, True]"
    assert lines[3] == "imported on: ['numba-import']"  # not on a worker, not on main


FAILED_PRELOAD = """
import builtins, sys
from core import _kernels
real = builtins.__import__
calls = []
def broken(name, *a, **k):
    if name == "numba" and not calls:
        calls.append(name)
        raise ImportError("numba is broken here")
    return real(name, *a, **k)
builtins.__import__ = broken
_kernels.preload_numba()
_kernels._preload[0].join()
print("loaded after a failed preload:", _kernels.numba_loaded())
builtins.__import__ = real
_kernels.load_numba()  # imports again on this thread
print("loaded by load_numba:", _kernels.numba_loaded())
"""


def test_a_failed_preload_is_imported_again_by_load_numba():
    assert run_child(FAILED_PRELOAD) == ["loaded after a failed preload: False",
                                        "loaded by load_numba: True"]


HELD = """
import time
from core import _kernels
_kernels.hold_preload()
_kernels.preload_numba()
time.sleep(0.2)
print("held:", not _kernels.numba_loaded())
_kernels.load_numba()  # on the main thread: releases the gate instead of waiting it out
print("loaded, gate released:", _kernels.numba_loaded() and _kernels._gate.is_set())
"""


def test_a_held_preload_waits_and_the_main_thread_releases_it():
    assert run_child(HELD) == ["held: True", "loaded, gate released: True"]
