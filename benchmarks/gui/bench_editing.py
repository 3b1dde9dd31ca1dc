"""Manual correction: re-solve after release, drag preview rate, undo/redo, event loop.

    python benchmarks/gui/bench_editing.py [--seconds 200] [--drags 20] [--out FILE]

A melody of ``--seconds`` and a warped copy in another timbre (as
``bench_responsiveness.py``) are aligned with the default pipeline (100 Hz path).

1. Core, no window: three anchors at 1/5, 1/2 and 4/5 of A (neighbouring segments of
   60 s each for 200 s), then the middle one moved ``--drags`` times by 0.2-1.5 s on B;
   each move is re-solved as the window does on release (``inspector.editing.
   exact_source_task`` once, then ``resolve_task``: exact re-solve on the pipeline's own
   terms with the chord-change refinement, reusing the unchanged segments), exactly
   without the refinement (``core.constraints.recompute(mode="exact")``), and with the
   spliced corridor on the matrix's features (what the window does for results it
   cannot re-solve exactly).
2. The window (offscreen): the same anchors; the middle handle is dragged with real mouse
   events (press, 30 moves 16 ms apart, release) ``--drags`` times: preview updates per
   second while dragging (from the first preview step of a drag to its last: pyqtgraph
   turns a press into a drag after 5 pixels or 0.5 s), time from release to the
   re-solved path drawn, Ctrl+Z / Ctrl+Shift+Z (the key press and the event-loop turn
   that handles and repaints it; the loop runs 40 ms between presses, as between two
   presses of a hand), and the longest pause of the event loop (5 ms timer) over it all.
   ``--trace`` prints the GUI thread's stacks sampled during every pause over 100 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from bench_responsiveness import LoopMonitor, synthesize, warp_map  # noqa: E402


class StallSampler:
    """Debugging aid (``--trace``): while the event loop has not ticked for 50 ms, a
    thread samples the GUI thread's stack every 10 ms; :meth:`report` prints, for every
    pause over 100 ms, its length and the distinct stacks seen during it."""

    def __init__(self, monitor, depth: int = 14):
        import threading

        self.monitor = monitor
        self.depth = depth
        self.main_id = threading.get_ident()
        self.samples: dict[float, list[str]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import threading
        import traceback

        while not self.stop.wait(0.01):
            last = self.monitor.last
            if time.perf_counter() - last > 0.05:
                frames = sys._current_frames()
                frame = frames.get(self.main_id)
                if frame is not None:
                    stack = "".join(traceback.format_stack(frame)[-self.depth:])
                    # what the other threads run meanwhile (one holding the GIL in a
                    # long C call stalls the GUI thread as surely as its own work)
                    others = "".join(
                        "    [thread] " + traceback.format_stack(f)[-1].strip().split("\n")[0]
                        + "\n" for tid, f in frames.items()
                        if tid not in (self.main_id, threading.get_ident()))
                    self.samples.setdefault(last, []).append(stack + others)

    def report(self) -> None:
        self.stop.set()
        gaps = self.monitor.gaps.get("editing", [])
        print(f"--- pauses over 100 ms: {sum(g > 0.1 for g in gaps)}", file=sys.stderr)
        for stacks in self.samples.values():
            if len(stacks) < 5:
                continue
            print(f"=== pause of at least {10 * len(stacks) + 50} ms, {len(stacks)} samples",
                  file=sys.stderr)
            seen = {}
            for st in stacks:
                seen[st] = seen.get(st, 0) + 1
            for st, n in sorted(seen.items(), key=lambda kv: -kv[1])[:4]:
                print(f"  [{n} samples]\n{st}", file=sys.stderr)


def pct(values, q):
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def make_pair(data_dir: Path, seconds: float):
    data_dir.mkdir(parents=True, exist_ok=True)
    a = data_dir / f"edit_a_{seconds:g}s.wav"
    b = data_dir / f"edit_b_{seconds:g}s.wav"
    if not a.exists():
        synthesize(a, seconds, seed=1, timbre=0, warp=None)
    if not b.exists():
        synthesize(b, seconds, seed=2, timbre=1, warp=warp_map(seconds, 3))
    return a, b


def core_part(a, b, seconds, drags, rng):
    from core import registry
    from core.constraints import Anchor, Constraints, recompute
    from core.correcting import edit_source
    from core.features import compute_features
    from core.media import open_recording
    from inspector.editing import exact_source_task, resolve_task

    rec_a, rec_b = open_recording(str(a)), open_recording(str(b))
    run = registry.run(registry.recipe("default"), rec_a, rec_b)
    al = run.alignment
    spec_a, spec_b, metric = registry.image_inputs(run.recipe, al)
    fa = compute_features(rec_a, spec_a.name, rate_hz=spec_a.rate_hz, **spec_a.kwargs)
    fb = compute_features(rec_b, spec_b.name, rate_hz=spec_b.rate_hz, **spec_b.kwargs)
    source = (fa.values, fb.values, metric)
    times = [seconds / 5, seconds / 2, 4 * seconds / 5]
    c = Constraints(tuple(Anchor(t, float(al.map_a_to_b(t))) for t in times))
    moves = [float(rng.uniform(0.2, 1.5) * rng.choice([-1, 1])) for _ in range(drags)]
    # results the window cannot re-solve exactly: the corridor on the matrix's features
    first = resolve_task(al, c, source, fa.rate_hz, fb.rate_hz, None)
    corridor, prev = [], first
    for d in moves:
        moved = c.moved_anchor(1, times[1], c.anchors[1].time_b_s + d)
        t0 = time.perf_counter()
        prev = resolve_task(al, moved, source, fa.rate_hz, fb.rate_hz, prev)
        corridor.append(time.perf_counter() - t0)
    n_corridor = prev.diagnostics["n_solved"]
    # the window now: the result's own terms and spectra built once, then exact re-solves
    # refined at the chord changes near the hard anchors
    t0 = time.perf_counter()
    src = exact_source_task(al, rec_a, rec_b)
    build_s = time.perf_counter() - t0
    args = (src["source"], src["rate_a_hz"], src["rate_b_hz"])
    prev = resolve_task(al, c, *args, None, mode="exact", energies=src["energies"])
    window, plain = [], []
    for d in moves:
        moved = c.moved_anchor(1, times[1], c.anchors[1].time_b_s + d)
        t0 = time.perf_counter()
        prev = resolve_task(al, moved, *args, prev, mode="exact", energies=src["energies"])
        window.append(time.perf_counter() - t0)
    n_exact = prev.diagnostics["n_solved"]
    kw = edit_source(al, rec_a, rec_b)
    base = recompute(al, c, **kw)
    for d in moves[: max(5, drags // 2)]:
        moved = c.moved_anchor(1, times[1], c.anchors[1].time_b_s + d)
        t0 = time.perf_counter()
        recompute(al, moved, previous=base, **kw)
        plain.append(time.perf_counter() - t0)
    return {"path_rate_hz": al.rate_a_hz, "segment_s": seconds * 0.3,
            "features": f"{spec_a.name}@{spec_a.rate_hz:g} Hz, {metric}",
            "corridor": corridor, "window": window, "exact": plain, "build_s": build_s,
            "n_solved": n_corridor, "n_exact": n_exact}


def gui_part(a, b, seconds, drags, rng, trace=False):
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from inspector.app import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(settings=None, tune_gc=True)
    window.show()
    done = {}
    window.workspace.default_alignment_finished.connect(lambda aid: done.setdefault("aid", aid))
    window.session.error_reported.connect(lambda m: print(f"window: {m}", file=sys.stderr))

    def wait(pred, timeout_s=120.0):
        end = time.perf_counter() + timeout_s
        while not pred():
            app.processEvents()
            time.sleep(0.001)
            if time.perf_counter() > end:
                raise TimeoutError("benchmark step timed out")

    window.workspace.open_file("a", str(a))
    window.workspace.open_file("b", str(b))
    wait(lambda: "aid" in done, 1800.0)
    wait(lambda: window.jobs.n_running == 0, 600.0)
    print("window: default alignment shown", file=sys.stderr)
    s, editor = window.session, window.editor
    al = s.active_alignment()
    times = [seconds / 5, seconds / 2, 4 * seconds / 5]
    for t in times:
        n = len(editor.constraints().anchors)
        editor.add_anchor(t, float(al.map_a_to_b(t)))
        wait(lambda n=n: window.jobs.n_running == 0
             and len(s.project.result(s.active_id).constraints.anchors) == n + 1)
    mid = times[1]
    window.matrix.set_view_seconds(mid - 20, mid + 20, al.map_a_to_b(mid) - 20,
                                   al.map_a_to_b(mid) + 20)
    # let the zoom settle (its region image comes 150 ms later from a worker): loading
    # a zoomed region is the zoom's work, measured by bench_responsiveness.py
    t_settle = time.perf_counter() + 0.3
    while time.perf_counter() < t_settle:
        app.processEvents()
        time.sleep(0.002)
    wait(lambda: window.jobs.n_running == 0)
    viewport = window.matrix.plot.viewport()
    vb = window.matrix.plot.getViewBox()

    def pos(ta, tb):
        p = window.matrix.plot.mapFromScene(vb.mapViewToScene(QPointF(ta, tb)))
        return QPoint(int(round(p.x())), int(round(p.y())))

    monitor = LoopMonitor()
    monitor.set_phase("editing")
    tracer = StallSampler(monitor) if trace else None
    preview_times, release, undo_s, redo_s = [], [], [], []
    editor.preview_changed.connect(lambda: preview_times.append(time.perf_counter()))
    resolved = []
    editor.resolved.connect(lambda *_: resolved.append(time.perf_counter()))
    rates, drag_updates = [], []
    missed = 0
    while len(release) < drags:
        anchor = editor.constraints().anchors[1]
        start = pos(anchor.time_a_s, anchor.time_b_s)
        d = float(rng.uniform(0.2, 1.5) * rng.choice([-1, 1]))
        end = pos(anchor.time_a_s, anchor.time_b_s + d)
        wait(lambda: window.jobs.n_running == 0)
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         start)
        n0 = len(preview_times)
        t_start = time.perf_counter()
        for k in range(1, 31):
            p = start + (end - start) * (k / 30)
            ev = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(p),
                             QPointF(viewport.mapToGlobal(p)), Qt.MouseButton.NoButton,
                             Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(viewport, ev)
            t_next = t_start + k * 0.016
            while time.perf_counter() < t_next:
                app.processEvents()
        if editor._drag is None:
            # the press missed the handle (the view was still settling): try again
            QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton,
                               Qt.KeyboardModifier.NoModifier, end)
            wait(lambda: window.jobs.n_running == 0)
            missed += 1
            if missed > 20:
                raise RuntimeError("could not grab the anchor handle")
            continue
        # the rate the preview follows the mouse at, from its first update to its last:
        # pyqtgraph starts a drag only once the mouse moved 5 pixels (or after 0.5 s), so
        # the first moves of a short drag are clicks, not preview steps
        steps = preview_times[n0:]
        if len(steps) >= 2:
            rates.append((len(steps) - 1) / (steps[-1] - steps[0]))
        drag_updates.append(len(steps))
        n_res = len(resolved)
        t_rel = time.perf_counter()
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier, end)
        wait(lambda n=n_res: len(resolved) > n)
        release.append(resolved[-1] - t_rel)
        wait(lambda: window.jobs.n_running == 0)
    key_cpu = []

    def press(modifiers):
        """One key press and the loop turn that handles and repaints it; then the loop
        runs freely for 40 ms, as between two presses of a hand (auto-repeat is 25-30
        per second); the time is the press and its handling, not the idle time."""
        t0, c0 = time.perf_counter(), time.thread_time()
        QTest.keyClick(window, Qt.Key.Key_Z, modifiers)
        app.processEvents()
        took = time.perf_counter() - t0
        key_cpu.append(time.thread_time() - c0)
        t_next = time.perf_counter() + 0.04
        while time.perf_counter() < t_next:
            app.processEvents()
            time.sleep(0.001)
        return took

    for _ in range(min(drags, 10)):
        undo_s.append(press(Qt.KeyboardModifier.ControlModifier))
    for _ in range(min(drags, 10)):
        redo_s.append(press(Qt.KeyboardModifier.ControlModifier
                            | Qt.KeyboardModifier.ShiftModifier))
    for _ in range(50):
        app.processEvents()
        time.sleep(0.002)
    worst = monitor.worst("editing")
    worst_cpu = monitor.worst_cpu("editing")
    # the GUI thread's own CPU time in its longest gap: what the code holds the loop for,
    # whatever the other jobs of a shared machine take from it
    busiest = max(monitor.cpu.get("editing", [0.0]))
    if tracer is not None:
        tracer.report()
    window.shutdown()
    window.close()
    return {"preview_rate": rates, "drag_updates": drag_updates, "release": release,
            "undo": undo_s, "redo": redo_s, "worst_gap_ms": worst * 1000.0,
            "worst_gap_cpu_ms": worst_cpu * 1000.0, "busiest_gap_cpu_ms": busiest * 1000.0,
            "key_cpu": key_cpu}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=200.0)
    ap.add_argument("--drags", type=int, default=20)
    ap.add_argument("--data-dir", type=Path,
                    default=Path(os.environ.get("TMPDIR", "/tmp")) / "inspector_gui_bench")
    ap.add_argument("--out", type=Path, default=HERE / "editing.md")
    ap.add_argument("--no-gui", action="store_true")
    ap.add_argument("--trace", action="store_true",
                    help="print the GUI thread's stack at every stall over 60 ms")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    rng = np.random.default_rng(5)
    a, b = make_pair(args.data_dir, args.seconds)
    load0 = " ".join(f"{v:.1f}" for v in os.getloadavg())
    core = core_part(a, b, args.seconds, args.drags, rng)
    gui = None if args.no_gui else gui_part(a, b, args.seconds, args.drags, rng, args.trace)
    load1 = " ".join(f"{v:.1f}" for v in os.getloadavg())
    lines = [
        "# Manual correction: re-solve, preview, undo/redo",
        "",
        f"Generated by `benchmarks/gui/bench_editing.py --seconds {args.seconds:g} --drags "
        f"{args.drags}` on {platform.machine()} / Python {platform.python_version()} / "
        f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average before {load0}, after {load1} (the cores are shared).",
        "",
        f"Default alignment of a {args.seconds:g} s melody and a warped copy: path at "
        f"{core['path_rate_hz']:g} Hz; anchors at 1/5, 1/2, 4/5 of A, so the two segments "
        f"next to the middle anchor are {core['segment_s']:g} s each. The window re-solves "
        "a default result exactly on the pipeline's own terms, refined at the chord "
        "changes near the hard anchors (their terms and spectra built once per result on "
        f"a worker: {core['build_s'] * 1000:.0f} ms here); results it cannot re-solve "
        f"exactly, with the spliced corridor on {core['features']} (the matrix's "
        "features).",
        "",
        "| measurement | median | 95th percentile | max | target |",
        "|---|---|---|---|---|",
        f"| re-solve after release, core, as the window does (exact + chord-change "
        f"refinement, {len(core['window'])} moves, {core['n_exact']} segments solved each) | "
        f"{pct(core['window'], 50):.0f} ms | {pct(core['window'], 95):.0f} ms | "
        f"{pct(core['window'], 100):.0f} ms | ≤ 100 ms p95 |",
        f"| exact re-solve alone (core.warping.resolve, no refinement, "
        f"{len(core['exact'])} moves) | {pct(core['exact'], 50):.0f} ms | "
        f"{pct(core['exact'], 95):.0f} ms | {pct(core['exact'], 100):.0f} ms | (reference) |",
        f"| corridor re-solve, spliced (results not re-solved exactly; "
        f"{len(core['corridor'])} moves, {core['n_solved']} segments solved each) | "
        f"{pct(core['corridor'], 50):.0f} ms | {pct(core['corridor'], 95):.0f} ms | "
        f"{pct(core['corridor'], 100):.0f} ms | ≤ 100 ms p95 |",
    ]
    if gui is not None:
        r = np.asarray(gui["preview_rate"])
        lines += [
            f"| window: release to re-solved path ({len(gui['release'])} drags) | "
            f"{pct(gui['release'], 50):.0f} ms | {pct(gui['release'], 95):.0f} ms | "
            f"{pct(gui['release'], 100):.0f} ms | ≤ 100 ms p95 |",
            f"| window: preview updates per second while dragging (mouse moves 62.5/s; "
            f"{int(np.median(gui['drag_updates']))} updates per drag, median) | "
            f"{np.median(r):.0f} | {np.percentile(r, 5):.0f} (5th pct) | - | ≥ 30 |",
            f"| window: Ctrl+Z | {pct(gui['undo'], 50):.1f} ms | {pct(gui['undo'], 95):.1f} ms "
            f"| {pct(gui['undo'], 100):.1f} ms | ≤ 50 ms |",
            f"| window: Ctrl+Shift+Z | {pct(gui['redo'], 50):.1f} ms | "
            f"{pct(gui['redo'], 95):.1f} ms | {pct(gui['redo'], 100):.1f} ms | ≤ 50 ms |",
            f"| window: longest event-loop pause during the drags, undo, redo | - | - | "
            f"{gui['worst_gap_ms']:.0f} ms (GUI thread busy "
            f"{gui['worst_gap_cpu_ms']:.0f} ms of it) | ≤ 100 ms |",
            f"| window: GUI thread's CPU time in one event-loop gap (the most) and in one "
            f"Ctrl+Z / Ctrl+Shift+Z press | - | {pct(gui['key_cpu'], 95):.0f} ms (keys, p95) | "
            f"{gui['busiest_gap_cpu_ms']:.0f} ms (gap) | (what the code holds the loop for) |",
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
