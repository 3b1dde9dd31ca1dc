"""Event-loop pauses of the window while a structure run is going (issue 17).

Generates a pair (A: a melody of ``--minutes``; B: the same with a 20 s section taken
again after the next one, in another timbre), opens it in the window (offscreen), waits
for the default alignment, then runs "Align as pieces" and measures the GUI thread's
event loop with a 5 ms QTimer (as benchmarks/gui/bench_responsiveness.py does): a gap
between two ticks is time the GUI thread could not handle events (its own work, or
waiting for the GIL held by a worker thread).

    python benchmarks/structure/bench_gui_pause.py [--minutes 3] [--data-dir DIR]
        [--runs 2] [--thread] [--out benchmarks/structure/gui_pause.json]

Run at normal priority on a machine as quiet as possible. The target: no gap longer
than 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "gui"))

from bench_responsiveness import (  # noqa: E402
    RATE,
    LoopMonitor,
    StallTracer,
    settle,
    synthesize,
)


def make_pair(data_dir: Path, minutes: float) -> tuple[Path, Path]:
    """A, and B = A's melody in another timbre with B's 20 s at 40% taken again after
    the next 20 s."""
    import soundfile as sf

    data_dir.mkdir(parents=True, exist_ok=True)
    pa = data_dir / f"struct_a_{minutes:g}min.wav"
    pb = data_dir / f"struct_b_{minutes:g}min.wav"
    if not pa.exists():
        synthesize(pa, minutes * 60.0, seed=1, timbre=0, warp=None)
    if not pb.exists():
        plain = data_dir / f"struct_b_plain_{minutes:g}min.wav"
        synthesize(plain, minutes * 60.0, seed=2, timbre=1, warp=None)
        x, _ = sf.read(str(plain), dtype="float32")
        s = int(0.4 * len(x))
        w = 20 * RATE
        y = np.concatenate([x[:s + 2 * w], x[s:s + w], x[s + 2 * w:]])
        sf.write(str(pb), y, RATE, subtype="PCM_16")
        plain.unlink()
    return pa, pb


def run(minutes: float, data_dir: Path, runs: int, thread: bool = False,
        trace: bool = False) -> dict:
    from PySide6.QtWidgets import QApplication

    from inspector.app import MainWindow
    from inspector.tasks import structure as tasks

    pa, pb = make_pair(data_dir, minutes)
    app = QApplication.instance() or QApplication([])
    window = MainWindow(settings=None, tune_gc=True)
    window.show()
    monitor = LoopMonitor()
    if trace:
        StallTracer(monitor, 0.08)

    def wait(predicate, timeout_s=1800.0):
        end = time.perf_counter() + timeout_s
        while not predicate():
            app.processEvents()
            time.sleep(0.001)
            if time.perf_counter() > end:
                raise TimeoutError("benchmark step timed out")

    done = {}
    window.workspace.default_alignment_finished.connect(lambda aid: done.setdefault("aid", aid))
    window.session.error_reported.connect(lambda m: done.setdefault("error", m))
    monitor.set_phase("open")
    window.workspace.open_file("a", str(pa))
    window.workspace.open_file("b", str(pb))
    wait(lambda: "aid" in done or "error" in done)
    if "error" in done:
        raise SystemExit(f"error: {done['error']}")
    settle(window, wait)
    st = window.structure
    if thread:  # as before the child process: the whole run on a worker thread
        tasks.PROCESS_MIN_TOTAL_S = float("inf")
    out = {"minutes": minutes, "runs": [],
           "in_process": tasks.use_process(window.session.recording("a"),
                                           window.session.recording("b"))}
    for k in range(runs):
        finished = {}
        conn = st.finished.connect(lambda aid, f=finished: f.setdefault("aid", aid))
        load = " ".join(f"{v:.1f}" for v in os.getloadavg())
        monitor.set_phase(f"structure {k}")
        t0 = time.perf_counter()
        st.run("pieces")
        wait(lambda f=finished: "aid" in f)
        run_s = time.perf_counter() - t0
        monitor.set_phase(f"draw {k}")
        settle(window, wait, 0.5)
        st.finished.disconnect(conn)
        if finished["aid"] == -1:
            raise SystemExit(f"structure run failed: {window.banner.text()}")
        gaps = np.asarray(monitor.gaps.get(f"structure {k}", [0.0]))
        draw = np.asarray(monitor.gaps.get(f"draw {k}", [0.0]))
        out["runs"].append({
            "run_s": round(run_s, 2), "loadavg_before": load,
            "worst_gap_ms": round(1000 * float(gaps.max()), 1),
            # GUI-thread CPU time in the worst gap: the rest of it was waiting (for the
            # GIL, or for a core the OS gave to another process)
            "worst_gap_gui_cpu_ms": round(1000 * monitor.worst_cpu(f"structure {k}"), 1),
            "gaps_over_100ms": int((gaps > 0.1).sum()),
            "p99_gap_ms": round(1000 * float(np.percentile(gaps, 99)), 1),
            "worst_gap_draw_ms": round(1000 * float(draw.max()), 1),
            "uptime": os.popen("uptime").read().strip()})
        print(json.dumps(out["runs"][-1]), flush=True)
    monitor.timer.stop()
    window.close()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=3.0)
    p.add_argument("--data-dir", type=Path, default=Path("/tmp/bench_structure_gui"))
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--thread", action="store_true",
                   help="run structure on a worker thread whatever the duration (as before)")
    p.add_argument("--trace", action="store_true", help="print the GUI thread's stack in "
                   "every pause over 80 ms")
    args = p.parse_args(argv)
    result = run(args.minutes, args.data_dir, args.runs, args.thread, args.trace)
    print(json.dumps(result, indent=1))
    if args.out is not None:
        from core.paths import write_text

        write_text(args.out, json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
