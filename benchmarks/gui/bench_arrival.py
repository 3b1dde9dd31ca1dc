"""The event-loop gap when an hour-long alignment arrives in the window (synthetic).

A 360k x 361k-frame alignment (361k path steps) and read-only random 12-dim features are
handed to ``Session.add_alignment`` (after ``core.display.prepare_path`` of it, as the
application's worker hands it over; ``--unprepared`` leaves that to the GUI thread)
while a 5 ms timer measures the event loop for 1.5 s; prints the worst gap.
Quicker than ``bench_responsiveness.py`` (no media, no engine) for
iterating on the views' drawing.

    python benchmarks/gui/bench_arrival.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def run_once(prepared: bool = True) -> float:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from core.alignment import Alignment
    from core.display import prepare_path
    from core.features import Features
    from inspector.app import MainWindow

    app = QApplication.instance() or QApplication([])
    win = MainWindow(settings=None)
    win.show()
    n_a, n_b = 360_000, 360_877
    rng = np.random.default_rng(0)
    k = np.arange(n_b)
    i = np.round(k * (n_a - 1) / (n_b - 1)).astype(np.int64)
    al = Alignment(np.stack([i, k], 1), 100.0, 100.0, n_a=n_a, n_b=n_b, method="dtw",
                   params={"metric": "euclidean"})
    feats = []
    for n in (n_a, n_b):
        v = rng.random((n, 12), dtype=np.float32)
        v.setflags(write=False)
        feats.append(Features(v, 100.0, "chroma"))
    if prepared:
        prepare_path(al)  # as the worker that made it does
    for _ in range(5):
        app.processEvents()
        time.sleep(0.01)
    state = {"worst": 0.0, "last": time.perf_counter()}

    def tick():
        now = time.perf_counter()
        state["worst"] = max(state["worst"], now - state["last"])
        state["last"] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    QTimer.singleShot(50, lambda: win.session.add_alignment(
        al, label="synthetic", matrix_inputs=(feats[0], feats[1], "euclidean")))
    end = time.perf_counter() + 1.5
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    win.shutdown()
    win.close()
    return 1000 * state["worst"]


def main(argv=None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--unprepared", action="store_true",
                        help="no prepare_path() from a worker: the GUI thread derives it")
    args = parser.parse_args(argv)
    gaps = [run_once(not args.unprepared) for _ in range(args.repeat)]
    print("worst gap per run (ms): " + ", ".join(f"{g:.0f}" for g in gaps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
