"""The README's workspace screenshots, taken on the pairs of ../shared/data.

    xvfb-run -a -s "-screen 0 1440x900x24" python benchmarks/gui/screenshots.py [OUT_DIR]

Writes ``music_compared.png`` (a music pair, the default alignment and a DTW run
compared on the matrix), ``soft_dtw_heatmap.png`` (a speech pair with a soft-DTW result
active, its heatmap in log scale) and ``crossmodal.png`` (video against audio) to
``assets/screenshots/`` (or OUT_DIR). Each result is driven through the window as a
user would: open, choose in the method panel, Run, tick "compare".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "public"
ROOT = Path(__file__).resolve().parents[2]


def wait_for(app, done, timeout_s=300.0) -> None:
    t0 = time.monotonic()
    while not done():
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError("timed out")
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()


def idle(app, window) -> None:
    from inspector.views.common import turn_queue

    queue = turn_queue(window.session)
    wait_for(app, lambda: window.jobs.n_running == 0 and queue.n_pending == 0)
    wait_for(app, lambda: True)
    end = time.monotonic() + 0.5
    wait_for(app, lambda: time.monotonic() > end)


def open_pair(app, window, a, b) -> int:
    got = []
    window.workspace.default_alignment_finished.connect(got.append)
    window.workspace.open_file("a", str(a))
    window.workspace.open_file("b", str(b))
    wait_for(app, lambda: got)
    if got[0] == -1:
        raise RuntimeError(window.banner.text())
    idle(app, window)
    return got[0]


def run(app, window, method, **values) -> int:
    panel = window.method_panel
    panel.select_method(method)
    for name, value in values.items():
        panel.field(method, name).set_value(value)
    got = []
    window.workspace.method_finished.connect(got.append)
    panel.run_button.click()
    wait_for(app, lambda: got)
    window.workspace.method_finished.disconnect(got.append)
    if got[0] == -1:
        raise RuntimeError(window.banner.text())
    idle(app, window)
    return got[0]


def shot(app, window, path: Path) -> None:
    idle(app, window)
    window.session.move_cursor("a", 0.4 * window.session.duration("a"))
    idle(app, window)
    if not window.save_screenshot(str(path)):
        raise OSError(f"{path}: cannot write")
    print(path)


def fresh(app):
    from inspector.app import MainWindow

    window = MainWindow(settings=None)
    window.resize(1440, 900)
    window.show()
    return window


def main(argv) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "assets" / "screenshots"
    app = QApplication.instance() or QApplication(["screenshots"])
    only = argv[2] if len(argv) > 2 else ""
    if only == "soft":
        window = fresh(app)
        speech = DATA / "speech" / "speech_p01_harvard1"
        open_pair(app, window, speech / "a.wav", speech / "b.wav")
        run(app, window, "soft_dtw")
        wait_for(app, lambda: window.heatmap.has_plan)
        window.heatmap.log_scale.setChecked(True)
        window.heatmap.show_path.setChecked(False)
        shot(app, window, out / "soft_dtw_heatmap.png")
        return 0
    # 1. music: the default alignment and a DTW run, compared
    window = fresh(app)
    music = DATA / "music" / "music_p03_k545"
    first = open_pair(app, window, music / "a.wav", music / "b.wav")
    run(app, window, "dtw")
    results = window.method_panel.results
    results.check(results.row_of(first)).click()
    shot(app, window, out / "music_compared.png")
    window.close()
    window.shutdown()
    # 2. soft-DTW on a speech pair, its expected alignment in log scale
    window = fresh(app)
    speech = DATA / "speech" / "speech_p01_harvard1"
    open_pair(app, window, speech / "a.wav", speech / "b.wav")
    run(app, window, "soft_dtw")
    wait_for(app, lambda: window.heatmap.has_plan)
    window.heatmap.log_scale.setChecked(True)
    window.heatmap.show_path.setChecked(False)  # the plan, not the path over it
    shot(app, window, out / "soft_dtw_heatmap.png")
    window.close()
    window.shutdown()
    # 3. the cross-modal pair: video A against audio B
    window = fresh(app)
    xm = DATA / "crossmodal" / "xmodal_p01_bounce_bwv26.6"
    open_pair(app, window, xm / "video.mp4", xm / "audio.wav")
    shot(app, window, out / "crossmodal.png")
    window.close()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
