"""Time to the first alignment of the demo pair, with and without warming up the engine's
numba kernels at start, with a cold and a warm numba cache.

Each run is a fresh process that builds the window as ``alignment-inspector A B`` does,
opens ``assets/demo/a.flac`` and ``b.flac`` and stops when the default alignment is
shown. The warm-up runs either at once (next to the first alignment) or once the
first jobs are done (what the application does). A cold cache is an empty
``NUMBA_CACHE_DIR``; the warm runs share one cache filled beforehand by every module's
``warm_up()`` and one demo run. Also reports the worst gap of the
event loop (5 ms timer) until then.

    python benchmarks/gui/bench_startup.py [--repeat 2]
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
t0 = time.perf_counter()
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import inspector.app as app_mod
qapp = QApplication([])
win = app_mod.MainWindow(settings=None, tune_gc=True)
win.show()
out = {"window_s": time.perf_counter() - t0}
gaps = {"last": time.perf_counter(), "worst": 0.0}
def tick():
    now = time.perf_counter()
    gaps["worst"] = max(gaps["worst"], now - gaps["last"])
    gaps["last"] = now
timer = QTimer(); timer.setInterval(5); timer.timeout.connect(tick); timer.start()
def done(aid):
    out["first_alignment_s"] = time.perf_counter() - t0
    out["ok"] = aid != -1
    out["worst_gap_ms"] = 1000 * gaps["worst"]
    QTimer.singleShot(0, qapp.quit)
win.workspace.default_alignment_finished.connect(done)
win.workspace.open_file("a", sys.argv[1])
win.workspace.open_file("b", sys.argv[2])
if sys.argv[3] != "no":
    app_mod.warm_up_engine(win.jobs, when_idle=sys.argv[3] == "idle")
QTimer.singleShot(600_000, qapp.quit)
qapp.exec()
win.shutdown()
out["total_s"] = time.perf_counter() - t0
print(json.dumps(out))
"""


#: warm-up modes: none, at once next to the first alignment, once the jobs are idle
MODES = {"no": "no", "eager": "at once", "idle": "after the first jobs (the app's choice)"}


def run_once(cache_dir: str, warm_up: str) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir,
           "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(DEMO[0]), str(DEMO[1]),
                           warm_up], capture_output=True, text=True,
                          env=env, timeout=900, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="warm-cache runs per setting")
    args = parser.parse_args(argv)
    rows = []
    dirs = []
    try:
        for warm_up in MODES:
            d = tempfile.mkdtemp(prefix="numba-cold-")
            dirs.append(d)
            rows.append(("cold", warm_up, run_once(d, warm_up)))
        filled = dirs[1]
        subprocess.run([sys.executable, "-c", "import inspector.app as a; "
                        "a._warm_up(a.WARM_UP_MODULES)"], check=True, cwd=ROOT,
                       env={**os.environ, "NUMBA_CACHE_DIR": filled})
        for _ in range(args.repeat):
            for warm_up in MODES:
                rows.append(("warm", warm_up, run_once(filled, warm_up)))
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    print(f"# demo pair, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| numba cache | warm-up at start | window shown (s) | first alignment (s) | "
          "worst event-loop gap until then (ms) |")
    print("|---|---|---|---|---|")
    for cache, warm_up, r in rows:
        print(f"| {cache} | {MODES[warm_up]} | {r['window_s']:.2f} | "
              f"{r['first_alignment_s']:.2f} | {r['worst_gap_ms']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
