"""Video in step with the playback clock: two 720p videos (25 and 60 fps, long-GOP
MPEG-4) playing in the window (offscreen, silent clock: they have no sound track).

Each frame carries its number as a barcode (tests/core/media_factory.py). At every frame
the view is given, the clock's frame (``round(t * fps)``) is compared with the barcode
of the image shown; meanwhile a 5 ms timer measures the event loop's longest pause.

    QT_QPA_PLATFORM=offscreen python benchmarks/playback/bench_video.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def write_720p(path, n_frames, fps):
    import cv2

    from tests.core.media_factory import barcode_frame

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (1280, 720))
    for k in range(n_frames):
        frame = barcode_frame(k % 256, 1280, 720)
        frame[-120:, :, 1] = (k * 7) % 255  # some change in every frame
        writer.write(frame)
    writer.release()
    return str(path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", default=str(Path(__file__).with_name("video.json")))
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from inspector.app import MainWindow
    from inspector.playback.devices import SilentOutput
    from tests.core.media_factory import read_barcode

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        a = write_720p(Path(tmp) / "a.mp4", int(args.seconds * 25) + 25, 25.0)
        b = write_720p(Path(tmp) / "b.mp4", int(args.seconds * 60) + 60, 60.0)
        window = MainWindow(settings=None, auto_align=False, tune_gc=True)  # as the app
        window.show()
        window.workspace.open_file("a", a)
        window.workspace.open_file("b", b)
        from core.alignment import Alignment

        i = np.arange(int(args.seconds * 25) + 25)
        window.session.add_alignment(Alignment(np.stack([i, np.minimum(
            np.round(i * 60 / 25 * 0.9), int(args.seconds * 60) + 59)], 1).astype(int), 25.0,
            60.0))
        controller = window.playback
        controller.device_factory = lambda: SilentOutput(48000)
        records = {"a": [], "b": []}
        for slot, view in window.stream_views.items():
            original = view.show_frame

            def show(k, rgb, slot=slot, original=original):
                if rgb is None:  # late: the previous image stays (counted below)
                    records[slot].append((k, None))
                    original(k, rgb)
                    return
                t_a, t_b, _, _ = controller.clock_position()
                fps = 25.0 if slot == "a" else 60.0
                expected = int(round((t_a if slot == "a" else t_b) * fps))
                records[slot].append((expected, rgb))  # decoded after the run
                original(k, rgb)

            view.show_frame = show
        gaps = []
        last = [time.monotonic()]

        def beat():
            now = time.monotonic()
            gaps.append(now - last[0])
            last[0] = now

        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(beat)
        timer.start()
        end = time.monotonic() + 60.0
        settle = time.monotonic() + 3.0
        while time.monotonic() < end and (window.jobs.n_running or time.monotonic() < settle):
            # files open, features, filmstrips, warm-up: the window is idle before Play
            app.processEvents()
            time.sleep(0.005)
        gaps.clear()
        last[0] = time.monotonic()
        if os.environ.get("PROFILE"):
            import cProfile
            profile = cProfile.Profile()
            profile.enable()
        controller.play()
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.002)
        controller.pause()
        if os.environ.get("PROFILE"):
            import pstats
            profile.disable()
            pstats.Stats(profile).sort_stats("cumtime").print_stats(25)
        timer.stop()
        results = {}
        for slot, rows in records.items():
            rows = np.array([(e, -1 if rgb is None or isinstance(rgb, int) else read_barcode(rgb))
                             for e, rgb in rows])
            # a late frame keeps the previous image on screen: score that image
            shown_code = -1
            for r in rows:
                if r[1] >= 0:
                    shown_code = r[1]
                else:
                    r[1] = shown_code
            rows = rows[rows[:, 1] >= 0]
            diff = (rows[:, 0] % 256) - rows[:, 1]
            diff = (diff + 128) % 256 - 128
            results[slot] = {"fps": 25.0 if slot == "a" else 60.0, "ticks": len(rows),
                             "within_1": float(np.mean(np.abs(diff) <= 1)),
                             "exact": float(np.mean(diff == 0)),
                             "worst": int(np.max(np.abs(diff)))}
        for slot, video in controller._videos.items():
            results[slot]["decoded"] = video.decoded
        results["event_loop_max_pause_ms"] = 1000 * max(gaps)
        results["event_loop_p99_pause_ms"] = 1000 * float(np.percentile(gaps, 99))
        window.shutdown()
        window.close()
    print(json.dumps(results, indent=1))
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
