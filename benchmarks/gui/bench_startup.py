"""Start-up as a new user sees it: time to the window and to the first alignment of the
demo pair, with an empty (cold) and a filled (warm) numba cache.

Each run is a fresh process started here that does what ``alignment-inspector A B`` does
(``inspector.launch``: the start-up window at once, then the main window, the two files,
the first-run strip and the engine's warm-up after the default alignment) and stops when
the default alignment is shown. Times are wall-clock from the moment the process is
started (Python's own start and every import included). A cold cache is an empty
temporary ``NUMBA_CACHE_DIR``; the warm runs reuse the cache of a cold run whose
background warm-up was left to finish. Python's bytecode goes to a temporary folder
(``PYTHONPYCACHEPREFIX``) written by the first cold run, whatever
``PYTHONDONTWRITEBYTECODE`` says: the first cold run is a first start after an install,
the others start as an installed application does. Also reports the worst gap of the event loop (5
ms timer) until the first alignment, the engine kernels compiled until then, when and on
which thread numba was imported (by the first kernel that runs: the window's modules do
not import it), and the load average.

    QT_QPA_PLATFORM=offscreen nice -n 10 python benchmarks/gui/bench_startup.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = (ROOT / "assets" / "demo" / "a.flac", ROOT / "assets" / "demo" / "b.flac")

CHILD = r"""
import json, sys, time
launched = float(sys.argv[3]); finish_warm_up = sys.argv[4] == "1"
from inspector.firstrun import close_splash, install_first_run, show_splash
show_splash(sys.argv[1:3])  # as inspector.launch does, before the heavy imports
splash_s = time.time() - launched
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import inspector.app as app_mod
import threading
from core._kernels import when_numba_loaded

compiled = []
numba_loaded = {}
def listen():  # as the first-run strip does: once a kernel has imported numba
    from numba.core import event
    numba_loaded.update(s=time.time() - launched, thread=threading.current_thread().name)
    class Listener(event.Listener):
        def on_start(self, ev): pass
        def on_end(self, ev):
            f = getattr(ev.data.get("dispatcher"), "py_func", None)
            if getattr(f, "__module__", "").startswith("core._kernels"):
                compiled.append(f.__name__)
    event.register("numba:compile", Listener())
when_numba_loaded(listen)
qapp = QApplication.instance()
win = app_mod.MainWindow(settings=None, tune_gc=True)
win.show()
close_splash()
qapp.processEvents()
out = {"splash_s": splash_s, "window_s": time.time() - launched}
gaps = {"last": time.perf_counter(), "worst": 0.0}
def tick():
    now = time.perf_counter()
    gaps["worst"] = max(gaps["worst"], now - gaps["last"])
    gaps["last"] = now
timer = QTimer(); timer.setInterval(5); timer.timeout.connect(tick); timer.start()
def done(aid):
    out["first_alignment_s"] = time.time() - launched
    out["ok"] = aid != -1
    out["worst_gap_ms"] = 1000 * gaps["worst"]
    out["kernels"] = len(compiled)
    out["numba_loaded"] = dict(numba_loaded)
    out["strip"] = strip is not None
    timer.stop()
    if not finish_warm_up:
        QTimer.singleShot(0, qapp.quit)
win.workspace.default_alignment_finished.connect(done)
win.workspace.open_file("a", sys.argv[1])
win.workspace.open_file("b", sys.argv[2])
strip = install_first_run(win, expect_alignment=True)
if finish_warm_up:
    def warm_done():
        out["warm_up_done_s"] = time.time() - launched
        QTimer.singleShot(0, qapp.quit)
    win.jobs.job_finished.connect(lambda _id, ch: ch == "warm_up" and warm_done())
QTimer.singleShot(900_000, qapp.quit)
qapp.exec()
win.shutdown()
print(json.dumps(out))
"""


def run_once(cache_dir: str, pycache: str, finish_warm_up: bool = False) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "PYTHONPYCACHEPREFIX": pycache,
           "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    # bytecode as an installed application keeps it (even where the caller's environment
    # says not to write it): compiled by the first cold run, read by the others
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    launched = time.time()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(DEMO[0]), str(DEMO[1]),
                           repr(launched), "1" if finish_warm_up else "0"],
                          capture_output=True, text=True, env=env, timeout=1200, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=1, help="cold-cache runs")
    parser.add_argument("--repeat", type=int, default=2, help="warm-cache runs")
    args = parser.parse_args(argv)
    rows = []
    loads = [os.getloadavg()]
    pycache = tempfile.mkdtemp(prefix="pycache-")
    dirs = [pycache]
    try:
        for k in range(args.cold):
            d = tempfile.mkdtemp(prefix="numba-cold-")
            dirs.append(d)
            # the first cold run also waits for the background warm-up: the warm runs'
            # cache
            rows.append(("cold", run_once(d, pycache, finish_warm_up=k == 0)))
            loads.append(os.getloadavg())
        for _ in range(args.repeat):
            rows.append(("warm", run_once(dirs[1], pycache)))
            loads.append(os.getloadavg())
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    print(f"# demo pair, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} cores, load average (1 min) during the runs "
          f"{min(x[0] for x in loads):.1f}-{max(x[0] for x in loads):.1f}")
    print("| numba cache | start-up window shown (s) | main window shown (s) | first "
          "alignment drawn (s) | kernels compiled until then | first-run strip | worst "
          "event-loop gap until then (ms) | numba imported (s, thread) |")
    print("|---|---|---|---|---|---|---|---|")
    for cache, r in rows:
        print(f"| {cache} | {r['splash_s']:.2f} | {r['window_s']:.2f} | "
              f"{r['first_alignment_s']:.2f} | "
              f"{r['kernels']} | {'yes' if r['strip'] else 'no'} | "
              f"{r['worst_gap_ms']:.0f} | "
              + (f"{r['numba_loaded']['s']:.2f} ({r['numba_loaded']['thread']})"
                 if r.get("numba_loaded") else "not yet") + " |")
    for _cache, r in rows:
        if "warm_up_done_s" in r:
            print(f"\nBackground warm-up of the other methods done {r['warm_up_done_s']:.0f} s "
                  "after launch (cold).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
