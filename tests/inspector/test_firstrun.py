"""Start-up: the first-run strip, the marker that ends it, the UTF-8 locale for Qt."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import firstrun

REPO = Path(__file__).resolve().parents[2]


def test_utf8_locale_for_qt():
    for env in ({}, {"LANG": "C"}, {"LANG": "POSIX"}, {"LANG": "en_US.UTF-8", "LC_CTYPE": "C"},
                {"LANG": "de_DE.ISO-8859-1"}):
        assert firstrun.ensure_utf8_locale(env, "linux")
        assert env["LC_CTYPE"] == "C.UTF-8"
    env = {"LC_ALL": "C", "LANG": "en_US.UTF-8"}  # LC_ALL wins over LC_CTYPE: change it
    assert firstrun.ensure_utf8_locale(env, "linux") and env["LC_ALL"] == "C.UTF-8"
    for env in ({"LANG": "en_US.UTF-8"}, {"LC_ALL": "C.utf8"}, {"LC_CTYPE": "fr_FR.utf-8"}):
        before = dict(env)
        assert not firstrun.ensure_utf8_locale(env, "linux") and env == before
    assert not firstrun.ensure_utf8_locale({}, "darwin")


def _c_locale_env():
    """LC_ALL=C: Python leaves it (no coercion to C.UTF-8 when LC_ALL is set), as the
    frozen bundle leaves LANG=C."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    return {**env, "LC_ALL": "C", "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's check is Linux's")
def test_no_locale_warning_under_the_c_locale(tmp_path):
    plain = subprocess.run(
        [sys.executable, "-c", "from PySide6.QtWidgets import QApplication; QApplication([])"],
        env=_c_locale_env(), capture_output=True, text=True, timeout=120)
    if "locale" not in plain.stderr:
        pytest.skip("this Qt does not warn about the C locale here")
    out = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, "-m", "inspector.launch", "--screenshot", str(out)],
                          env=_c_locale_env(), capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "locale" not in proc.stderr, proc.stderr
    assert out.exists()


def test_first_run_strip_until_the_warm_up_is_done(qtbot, window, tmp_path, monkeypatch):
    marker = tmp_path / "ready"
    monkeypatch.setattr(firstrun, "marker_path", lambda: marker)
    steps = []
    strip = firstrun.install_first_run(window, expect_alignment=False,
                                       functions=[lambda: steps.append(1)])
    assert strip is not None and strip.frame.isVisible()
    assert strip.label.text().startswith("First run: compiling")
    strip.counter.compiled.emit(3)  # as the numba listener does from a worker
    qtbot.waitUntil(lambda: marker.exists(), timeout=10_000)
    assert steps == [1]
    qtbot.waitUntil(lambda: strip.closed, timeout=5_000)
    # the next start: no strip
    assert firstrun.install_first_run(window, expect_alignment=False,
                                      functions=[lambda: None]) is None
    qtbot.waitUntil(lambda: window.jobs.n_running == 0, timeout=5_000)


def test_first_run_strip_follows_the_first_alignment(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(firstrun, "marker_path", lambda: tmp_path / "ready")
    strip = firstrun.install_first_run(window, expect_alignment=True,
                                       functions=[lambda: None])
    strip.counter.count = 4
    strip._refresh()
    assert f"4 of about {firstrun.FIRST_ALIGNMENT_KERNELS}" in strip.label.text()
    assert 0 < strip.bar.value() < 1000
    window.workspace.default_alignment_finished.emit(1)
    assert "in the background" in strip.label.text()
    qtbot.waitUntil(lambda: (tmp_path / "ready").exists(), timeout=10_000)


def test_a_failed_warm_up_leaves_no_marker(qtbot, window, tmp_path, monkeypatch):
    marker = tmp_path / "ready"
    monkeypatch.setattr(firstrun, "marker_path", lambda: marker)

    def broken():
        raise RuntimeError("no")

    strip = firstrun.install_first_run(window, expect_alignment=False, functions=[broken])
    qtbot.waitUntil(lambda: strip.closed, timeout=10_000)
    assert not marker.exists()


def test_window_imports_leave_slow_modules_for_later():
    """scipy.ndimage costs 0.3 s to import: the window's imports must not pull it in
    (issue 18: the window within 2 s of launch on a cold machine)."""
    code = ("import sys, inspector.app; "
            "print(sorted(m for m in ('scipy.ndimage', 'scipy.spatial') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


WINDOW_WITHOUT_NUMBA = """
import sys
import inspector.app
print("import:", sorted(m for m in ("numba", "llvmlite") if m in sys.modules))
from PySide6.QtWidgets import QApplication
app = QApplication([])
window = inspector.app.MainWindow(settings=None, tune_gc=True)
print("built:", sorted(m for m in ("numba", "llvmlite") if m in sys.modules))
import threading, time
from core import _kernels
seen = []
_kernels.when_numba_loaded(lambda: seen.append(threading.current_thread().name))
window.show()
app.processEvents()
deadline = time.monotonic() + 100
while not _kernels.numba_loaded() and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.005)
print("loaded on:", seen)
window.shutdown()
"""


def test_window_is_shown_before_numba_is_imported():
    """numba (0.15-0.5 s) is imported neither by the window's modules nor while the
    window is built, but once it is shown, on a thread of its own (issue 14: the window
    within 1 s, and no pause of the event loop for the import)."""
    proc = subprocess.run([sys.executable, "-c", WINDOW_WITHOUT_NUMBA], capture_output=True,
                          text=True, timeout=120, cwd=REPO,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                               "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:3] == ["import: []", "built: []",
                                            "loaded on: ['numba-import']"], proc.stdout


def test_start_up_window_names_the_project_being_opened(qapp):
    splash = firstrun.show_splash(["/somewhere/Session 3.alignproj"])
    try:
        assert "opening Session 3.alignproj" in splash.text()
    finally:
        firstrun.close_splash()


def test_engine_modules_preloaded_for_the_workers_exist():
    """The scipy modules imported for the workers before their first job
    (inspector.jobs.ENGINE_MODULES) are real modules: a typo would be skipped quietly."""
    import importlib

    from inspector.jobs import ENGINE_MODULES

    for name in ENGINE_MODULES:
        assert importlib.import_module(name).__name__ == name
