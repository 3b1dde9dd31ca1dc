"""A project of two one-hour recordings with five results: its size, how long saving and
reading take, and how fast a fresh window shows it.

The recordings are generated (8 kHz mono melodies, B played 10 % slower with other
noise). Result 1 is the default pipeline's (``alignment-inspector align A B -o
P.alignproj``, timed); results 2-5 are copies of it each corrected by hand, the way a
user's manual edits make them (a stretch of 2-10 minutes replaced by a straight line,
pushed on the undo history: five undo steps in all). Nothing beside the project is
cached: each window run is a fresh process that must recompute the stream images and
the cost images.

Each run starts ``python -c CHILD`` (as ``alignment-inspector P.alignproj`` does:
window, then the project read and its recordings opened on a worker) and reports, from
the child's first line of Python:

- ``window_s``: the window is shown (after ``show()`` and one pass of the event loop);
- ``results_drawn_s``: the project is restored and the matrix draws the active path
  and the compared one;
- ``images_s``: every job is done (stream images and cost images recomputed);
- ``numba_imported``: when and on which thread numba was imported (by the first kernel
  that runs; the window's modules do not import it).

The children write and read Python's bytecode in a fresh folder of their own
(``PYTHONPYCACHEPREFIX``), as an installed application does in its ``__pycache__``
folders, even when the caller's environment sets ``PYTHONDONTWRITEBYTECODE`` (this
workplace's machines do: every start there compiles every module of the project from
source, 0.2-0.3 s that no user pays twice). The first run is the first start after an
install (every module compiled, site-packages' included) and is reported on its own
(``first_start``); the median is over the ``--repeat`` runs after it (default 3).

    nice -n 10 python benchmarks/projects/bench_project_open.py [--folder DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import inspector.app as app_mod
import threading
from core._kernels import when_numba_loaded
numba_at = {}
when_numba_loaded(lambda: numba_at.update(s=round(time.perf_counter() - t0, 3),
                                          thread=threading.current_thread().name))
qapp = QApplication([])
win = app_mod.MainWindow(settings=None, tune_gc=True)
win.show()
qapp.processEvents()
out = {"window_s": time.perf_counter() - t0}
def drawn():
    curves = win.matrix.path_curves
    if "active" not in curves or "compared" not in curves:
        return False
    x = curves["active"].getData()[0]
    return x is not None and len(x) > 0
def poll():
    if "results_drawn_s" not in out and drawn():
        out["results_drawn_s"] = time.perf_counter() - t0
    if "results_drawn_s" in out and win.jobs.n_running == 0 and loaded["done"] \
            and win.matrix.image.image is not None:
        out["images_s"] = time.perf_counter() - t0
        out["results"] = len(win.session.alignment_ids())
        out["problems"] = win.projects.media_bar.isVisible()
        out["numba_imported"] = dict(numba_at)
        qapp.quit()
        return
    QTimer.singleShot(5, poll)
loaded = {"done": False}
win.projects.loaded.connect(lambda _: loaded.update(done=True))
win.projects.load_failed.connect(lambda m: (print(m, file=sys.stderr), qapp.exit(1)))
win.open_project_file(sys.argv[1])
QTimer.singleShot(5, poll)
QTimer.singleShot(600_000, qapp.quit)
qapp.exec()
win.shutdown()
print(json.dumps(out))
"""


def melody(duration_s: float, rate: int, tempo: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pitches = np.array([60, 64, 67, 72, 69, 65, 62, 71, 60, 67, 74, 59])
    note = int(0.25 / tempo * rate)
    n_notes = int(np.ceil(duration_s * rate / note))
    t = np.arange(note) / rate
    env = np.exp(-3 * t)
    freqs = 440.0 * 2 ** ((pitches[np.arange(n_notes) % len(pitches)] - 69) / 12)
    x = (0.5 * env[None, :] * np.sin(2 * np.pi * freqs[:, None] * t[None, :])).ravel()
    x = x[: int(duration_s * rate)]
    return x + 0.01 * rng.standard_normal(len(x))


def write_wav(path: Path, x: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def make_project(folder: Path, hours: float, reuse: bool = False) -> tuple[Path, dict]:
    from core import cli
    from core import project_file as pf
    from core.alignment import Alignment

    a, b = folder / "a_1h.wav", folder / "b_1h.wav"
    if not a.exists():
        write_wav(a, melody(3600 * hours, 8000, 1.0, 0), 8000)
        write_wav(b, melody(3600 * hours * 1.1, 8000, 1 / 1.1, 1), 8000)
    proj = folder / "five_results.alignproj"
    info = {}
    if reuse and proj.exists():
        project, _ = pf.load_project(proj)
        ids = project.result_ids()
        base = project.alignment(ids[0])
        return proj, _measure(project, proj, ids, base, info)
    t = time.perf_counter()
    assert cli.main(["align", str(a), str(b), "-o", str(proj), "-q"]) == 0
    info["align_to_project_s"] = time.perf_counter() - t
    project, _ = pf.load_project(proj)
    first = project.active_id
    base = project.alignment(first)
    rng = np.random.default_rng(7)
    ids = [first]
    for k in range(4):
        rid = project.add_result(base, project.result(first).recipe,
                                 label=f"corrected copy {k + 1}", activate=False)
        ids.append(rid)
    for rid in ids:  # one manual correction per result: 5 undo steps
        al = project.alignment(rid)
        ta0 = rng.uniform(0.1, 0.8) * 3600 * hours
        length = rng.uniform(120, 600)
        i0, i1 = np.searchsorted(al.path[:, 0] / al.rate_a_hz, [ta0, ta0 + length])
        i0, i1 = int(i0), int(min(i1, len(al.path) - 1))
        (a0, b0), (a1, b1) = al.path[i0], al.path[i1]
        n = max(a1 - a0, b1 - b0)
        line = np.column_stack([np.round(np.linspace(a0, a1, n + 1)),
                                np.round(np.linspace(b0, b1, n + 1))]).astype(np.int64)
        line = line[np.any(np.diff(line, axis=0, prepend=line[:1] - 1) != 0, axis=1)]
        path = np.vstack([al.path[:i0], line, al.path[i1 + 1:]])
        project.apply_edit(rid, Alignment(path, al.rate_a_hz, al.rate_b_hz, al.n_a, al.n_b,
                                          method="manual", params=dict(al.params)),
                           f"straighten {length:.0f} s")
    project.set_compared(ids[1])
    return proj, _measure(project, proj, ids, base, info)


def _measure(project, proj: Path, ids, base, info: dict) -> dict:
    from core import project_file as pf

    t = time.perf_counter()
    pf.save_project(project, proj)
    info["save_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pf.load_project(proj)
    info["read_s"] = time.perf_counter() - t
    info["size_bytes"] = proj.stat().st_size
    info["path_rows"] = [int(len(project.alignment(r).path)) for r in ids]
    info["rates_hz"] = [base.rate_a_hz, base.rate_b_hz]
    info["undo_steps"] = len(project.snapshot()["undo"])
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", default="/tmp/bench_projects")
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the project of an earlier run (no new alignment)")
    args = parser.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    proj, info = make_project(folder, args.hours, args.reuse)
    print(json.dumps(info), flush=True)
    pycache = Path(tempfile.mkdtemp(prefix="pycache-", dir=folder))
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM=os.environ.get(
        "QT_QPA_PLATFORM", "offscreen"), PYTHONPYCACHEPREFIX=str(pycache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    runs = []
    for _ in range(args.repeat + 1):
        proc = subprocess.run([sys.executable, "-c", CHILD, str(proj)], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(1)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(runs[-1]), flush=True)
        if "images_s" not in runs[-1]:
            print(proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(1)
    shutil.rmtree(pycache, ignore_errors=True)
    first, runs = runs[0], runs[1:]
    keys = ("window_s", "results_drawn_s", "images_s")
    summary = {key: statistics.median(r[key] for r in runs) for key in keys} if runs else {}
    print(json.dumps({"median": summary, "first_start": {k: first[k] for k in keys},
                      **info}))


if __name__ == "__main__":
    main()
