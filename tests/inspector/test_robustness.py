"""Starting the application: no display, exceptions in slots, the screenshot timeout,
warming up the engine."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from inspector_gui_helpers import wait_idle
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage


def _env_without_display(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(extra)
    return env


def _run(code_or_args, env, timeout=300):
    if isinstance(code_or_args, str):
        cmd = [sys.executable, "-c", code_or_args]
    else:
        cmd = [sys.executable, "-m", "inspector.launch", *code_or_args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def test_display_available_follows_the_environment(monkeypatch):
    from inspector.app import display_available

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    if sys.platform.startswith("linux"):
        assert not display_available()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert display_available()
    monkeypatch.delenv("WAYLAND_DISPLAY")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert display_available()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland only")
def test_no_display_exits_2_with_one_clear_line(tmp_path):
    proc = _run([], _env_without_display(), timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "no display" in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland only")
def test_no_display_screenshot_falls_back_to_offscreen(tmp_path, audio_pair):
    out = tmp_path / "shot.png"
    proc = _run([*audio_pair, "--screenshot", str(out)], _env_without_display())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert QImage(str(out)).width() >= 1280


def test_an_exception_in_a_slot_shows_in_the_banner(qtbot, window):
    from inspector.app import install_exception_guard

    def broken_slot():
        raise KeyError("no such view")

    restore = install_exception_guard(window)
    try:
        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
    finally:
        restore()
    assert "internal error: KeyError" in window.banner.text()
    assert "no such view" in window.banner.text()


def test_an_exception_in_a_thread_shows_in_the_banner(qtbot, window):
    from inspector.app import install_exception_guard

    def broken():
        raise RuntimeError("thread went wrong")

    restore = install_exception_guard(window)
    try:
        t = threading.Thread(target=broken)
        t.start()
        t.join()
        qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
    finally:
        restore()
    assert "thread went wrong" in window.banner.text()


def test_the_guard_restores_the_previous_hooks(qtbot, window):
    from inspector.app import install_exception_guard

    before = sys.excepthook, threading.excepthook
    restore = install_exception_guard(window)
    assert sys.excepthook is not before[0]
    restore()
    assert (sys.excepthook, threading.excepthook) == before


def test_screenshot_exits_1_when_a_slot_raises(tmp_path, audio_pair):
    out = tmp_path / "shot.png"
    code = (
        "import sys\n"
        "import inspector.app as app\n"
        "def boom(self, *a):\n"
        "    raise ZeroDivisionError('broken status bar')\n"
        "app.MainWindow._update_streams_status = boom\n"
        f"sys.exit(app.main([{audio_pair[0]!r}, {audio_pair[1]!r}, '--screenshot', "
        f"{str(out)!r}]))\n")
    proc = _run(code, {**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "internal error: ZeroDivisionError: broken status bar" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert out.exists()


def test_screenshot_times_out_saves_and_exits_1(tmp_path, audio_pair):
    out = tmp_path / "shot.png"
    code = (
        "import sys\n"
        "import inspector.app as app\n"
        "app.SCREENSHOT_TIMEOUT_S = 0.5\n"
        "app.Workspace.compute_default = lambda self: -1\n"  # the alignment never comes
        f"sys.exit(app.main([{audio_pair[0]!r}, {audio_pair[1]!r}, '--screenshot', "
        f"{str(out)!r}]))\n")
    proc = _run(code, {**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "timed out" in proc.stderr
    assert QImage(str(out)).width() >= 1280


def test_warm_up_runs_on_a_worker_and_reports_what_failed(qtbot, window):
    from core import pipeline
    from inspector.app import _warm_up, warm_up_engine

    def broken_warm_up():
        raise RuntimeError("no kernels here")

    assert _warm_up((broken_warm_up,)) == [f"{__name__}.broken_warm_up"]
    warm_up_engine(window.jobs, (pipeline.warm_up,))
    assert window.jobs.is_running("warm_up")
    wait_idle(qtbot, window)
    assert not window.banner.isVisible()


def test_warm_up_waits_for_the_first_jobs(qtbot, window, audio_pair):
    from core import pipeline
    from inspector.app import warm_up_engine

    started = []
    window.jobs.job_started.connect(lambda _id, channel: started.append(channel))
    with qtbot.waitSignal(window.workspace.default_alignment_finished, timeout=60_000):
        window.workspace.open_file("a", audio_pair[0])
        window.workspace.open_file("b", audio_pair[1])
        warm_up_engine(window.jobs, (pipeline.warm_up,))
        assert not window.jobs.is_running("warm_up")
    qtbot.waitUntil(lambda: "warm_up" in started, timeout=60_000)
    wait_idle(qtbot, window)
    assert started.index("warm_up") > started.index("align")


def test_warm_up_stops_when_cancelled():
    from inspector.app import WARM_UP, _warm_up

    calls = []
    assert _warm_up(WARM_UP, progress=calls.append, cancel=lambda: True) == []
    assert calls == []
