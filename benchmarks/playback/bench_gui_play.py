"""Dropouts while the user works: "B warped onto A" plays on a music pair through
PortAudio (the null sink, see README.md here) while the window's stream views and matrix
are panned and zoomed every 40 ms and a method (DTW from the method panel, then the
default alignment) runs every few seconds.

Counted: PortAudio's output underflows (the device asked and the callback came late),
frames the mixer had to leave silent because a warped chunk or audio block was not
ready (``starved``), and the event loop's longest pause.

    QT_QPA_PLATFORM=offscreen python benchmarks/playback/bench_gui_play.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--mode", default="warped")
    parser.add_argument("--out", default=str(Path(__file__).with_name("gui_play.json")))
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from inspector.app import MainWindow
    from inspector.playback.devices import SoundDeviceOutput

    data = REPO.parent / "shared" / "data" / "public" / "music" / "music_p03_k545"
    app = QApplication.instance() or QApplication([])
    window = MainWindow(settings=None, tune_gc=True)
    window.show()
    window.workspace.open_file("a", str(data / "a.wav"))
    window.workspace.open_file("b", str(data / "b.wav"))
    end = time.monotonic() + 120
    while time.monotonic() < end and (window.session.active_alignment() is None
                                      or window.jobs.n_running):
        app.processEvents()
        time.sleep(0.005)
    settle = time.monotonic() + 3
    while time.monotonic() < settle:
        app.processEvents()
        time.sleep(0.005)
    controller = window.playback
    controller.device_factory = lambda: SoundDeviceOutput(44100)
    controller.set_mode(args.mode)
    window.session.move_cursor("a", 0.5)
    controller.play()
    started = time.monotonic()
    last = started
    gaps = []
    k = 0
    next_method = started + 2.0
    methods = 0
    view = window.stream_a
    while time.monotonic() - started < args.seconds:
        app.processEvents()
        now = time.monotonic()
        gaps.append(now - last)
        last = now
        if now - getattr(main, "_last_move", 0) > 0.04:
            main._last_move = now
            k += 1
            t0, t1 = view.visible_range()
            shift = 0.02 * (t1 - t0) * (1 if k % 40 < 20 else -1)
            view.set_visible_range(t0 + shift, t1 + shift)
            if k % 25 == 0:
                window.zoom_streams(2.0 if k % 50 else 0.5)
            vb = window.matrix.plot.getViewBox()
            (x0, x1), (y0, y1) = vb.viewRange()
            vb.setRange(xRange=(x0 + shift, x1 + shift), yRange=(y0 + shift, y1 + shift),
                        padding=0)
        if now >= next_method and not window.jobs.n_running:
            next_method = now + 6.0
            methods += 1
            if methods % 2:
                window.method_panel.run()
            else:
                window.workspace.compute_default()
        if not controller.is_playing:  # the end: play on from the start
            window.session.move_cursor("a", 0.0)
            controller.play()
        time.sleep(0.001)
    results = {"seconds": args.seconds, "mode": args.mode,
               "underruns": controller.device.underruns if controller.device else None,
               "starved_frames": controller.mixer.starved_frames if controller.mixer else None,
               "methods_run": methods,
               "event_loop_max_pause_ms": 1000 * max(gaps[10:]),
               "device": controller.device.name if controller.device else None}
    controller.pause()
    window.shutdown()
    window.close()
    print(json.dumps(results, indent=1))
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
