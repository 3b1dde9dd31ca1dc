"""Start-up of the application: a UTF-8 locale for Qt, and on a first run (numba's cache
empty for this version) a strip above the views saying what the window is preparing.

The default alignment of the files given on the command line compiles the kernels it
needs itself, first; the rest of the engine (other methods) compiles afterwards on a
worker (:func:`inspector.app.warm_up_engine`). A numba listener counts the kernels as
they are compiled, on whatever thread, and the strip shows the count. Once the warm-up
has run without failures a marker file in the cache folder says that this version is
ready, and later starts show nothing.

``install_first_run(window, expect_alignment)`` is the hook ``inspector.app.main`` calls.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar

__all__ = ["ensure_utf8_locale", "install_first_run", "FirstRun", "marker_path",
           "FIRST_ALIGNMENT_KERNELS", "show_splash", "close_splash"]

#: kernel specialisations the demo pair's default alignment compiles on an empty cache
#: (benchmarks/gui/bench_startup.py reports the count); the strip's scale, nothing more
FIRST_ALIGNMENT_KERNELS = 11


def ensure_utf8_locale(env=None, platform: str | None = None) -> bool:
    """Qt on Linux wants a UTF-8 locale and prints a four-line warning when the character
    type is another one (``LANG=C``, no locale set at all, as in a service or a
    container): set the character type to ``C.UTF-8`` first, as Qt would, silently.
    Returns whether ``env`` was changed."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return False
    ctype = env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG") or "C"
    if ctype.replace("-", "").lower().endswith(".utf8"):
        return False
    env["LC_ALL" if env.get("LC_ALL") else "LC_CTYPE"] = "C.UTF-8"
    return True


_splash: list = []


def show_splash(argv: list[str]):
    """Before the engine, numba and the views are imported (1-2 s on 2 cores, more on a
    busy machine): a small window saying the application is starting, when a window can
    be shown at all (not for ``--screenshot`` or ``--help``, nor without a display).
    Returns the splash (closed by :func:`close_splash`) or None."""
    if any(a in ("--screenshot", "-h", "--help") or a.startswith("--screenshot=")
           for a in argv):
        return None
    if not (os.environ.get("QT_QPA_PLATFORM") or sys.platform.startswith(("win", "darwin"))
            or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None
    from PySide6.QtWidgets import QApplication

    ensure_utf8_locale()
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "inspector"])
    projects = [Path(a).name for a in argv if a.lower().endswith(".alignproj")]
    what = f"opening {projects[0]}" if projects else "starting"
    splash = QLabel(f"Alignment Inspector\n\n{what}: loading the engine…")
    splash.setWindowFlags(Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
    splash.setAlignment(Qt.AlignmentFlag.AlignCenter)
    splash.setStyleSheet("background: #1d3a5a; color: #e0efff; font-size: 15px; "
                         "padding: 24px;")
    splash.resize(420, 160)
    splash.show()
    app.processEvents()
    _splash.append(splash)
    return splash


def close_splash() -> None:
    while _splash:
        _splash.pop().close()


def marker_path() -> Path | None:
    """The file that says this version's kernels are all in numba's cache (None: no
    cache folder, every run compiles)."""
    from core import __version__, _numba_cache

    folder = _numba_cache.configure()
    if folder is None:
        return None
    return folder / f"alignment-inspector-{__version__}-numba-{_numba_version()}.ready"


def _numba_version() -> str:
    """numba's version without importing numba (0.3-0.5 s, which the window leaves to the
    worker that first runs a kernel); from the package's metadata when it has some."""
    from importlib import metadata

    try:
        return metadata.version("numba")
    except metadata.PackageNotFoundError:  # a bundle without the metadata
        import numba

        return numba.__version__


class _Counter(QObject):
    """Counts finished compilations of the engine's kernels (any thread) and emits the
    count on the GUI thread (queued).

    The numba listener is registered once numba is imported, by the worker whose kernel
    imports it first (:func:`core._kernels.when_numba_loaded`): the GUI thread never
    imports numba for it, and no compilation can start before the listener is in."""

    compiled = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        from core._kernels import when_numba_loaded

        self.count = 0
        self._lock = threading.Lock()
        self._stopped = False
        self._event = None
        self._listener = None
        when_numba_loaded(self._register)

    def _register(self) -> None:
        from numba.core import event

        counter = self

        class Listener(event.Listener):
            def on_start(self, ev):
                pass

            def on_end(self, ev):
                func = getattr(ev.data.get("dispatcher"), "py_func", None)
                if getattr(func, "__module__", "").startswith("core._kernels"):
                    counter.count += 1
                    try:
                        counter.compiled.emit(counter.count)
                    except RuntimeError:  # the window is gone: never fail a compilation
                        pass

        with self._lock:
            if self._stopped:
                return
            self._event = event
            self._listener = Listener()
            event.register("numba:compile", self._listener)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._listener is not None:
                self._event.unregister("numba:compile", self._listener)
                self._listener = None


class FirstRun(QObject):
    """The strip above the views on a first run: what is compiling, and how far."""

    finished = Signal()

    def __init__(self, window, expect_alignment: bool):
        super().__init__(window)
        self.window = window
        self.t0 = time.perf_counter()
        self.phase = "alignment" if expect_alignment else "engine"
        self.warm_fraction = 0.0
        self.closed = False
        self.frame = QFrame(window)
        self.frame.setObjectName("first_run")
        self.frame.setStyleSheet("#first_run { background: #1d3a5a; } "
                                 "#first_run QLabel { color: #e0efff; padding: 2px; }")
        row = QHBoxLayout(self.frame)
        row.setContentsMargins(6, 2, 6, 2)
        self.label = QLabel(self.frame)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.bar = QProgressBar(self.frame)
        self.bar.setFixedWidth(220)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        row.addWidget(self.label, 1)
        row.addWidget(self.bar)
        layout = window.centralWidget().layout()
        layout.insertWidget(0, self.frame)
        self.frame.show()
        self.counter = _Counter(self)
        self.counter.compiled.connect(self._refresh)
        window.workspace.default_alignment_finished.connect(self._on_alignment)
        self._refresh()

    def _refresh(self, _count: int | None = None) -> None:
        n = self.counter.count
        if self.phase == "alignment":
            text = ("First run: compiling the alignment engine for this computer (once; "
                    f"later starts take seconds). {n} of about {FIRST_ALIGNMENT_KERNELS} "
                    "kernels for the first alignment")
            fraction = min(n / FIRST_ALIGNMENT_KERNELS, 0.99)
        else:
            what = "the other methods, in the background" if self.phase == "background" \
                else "the alignment engine for this computer (once)"
            text = f"First run: compiling {what}. {n} kernels so far"
            fraction = self.warm_fraction
        self.label.setText(text)
        self.bar.setValue(int(1000 * fraction))

    def _on_alignment(self, _aid: int) -> None:
        if self.phase == "alignment":
            self.phase = "background"
            self._refresh()

    def on_warm_up_progress(self, fraction: float) -> None:
        self.warm_fraction = float(fraction)
        if self.phase == "alignment" and fraction > 0:  # the alignment is done or gone
            self.phase = "background"
        self._refresh()

    def close(self) -> None:
        self.closed = True
        self.counter.stop()
        self.frame.hide()
        self.frame.deleteLater()
        self.finished.emit()


def install_first_run(window, expect_alignment: bool, functions=None) -> FirstRun | None:
    """Start the engine's warm-up (after the default alignment when one is coming) and,
    on a first run, show the strip until it is done; write the marker when every
    warm-up function ran. Returns the strip's controller (None: not a first run)."""
    from .app import warm_up_engine

    marker = marker_path()
    first = marker is None or not marker.exists()
    strip = FirstRun(window, expect_alignment) if first else None

    def done(failed) -> None:
        if strip is not None:
            strip.close()
        if marker is not None and not failed and not marker.exists():
            from core.paths import write_text

            try:
                write_text(marker, "numba kernels of this version are in this cache\n")
            except (OSError, ValueError):  # a read-only cache: a first run again next time
                pass

    def gone(*_args) -> None:
        if strip is not None:
            strip.close()

    if functions is not None:  # tests: other warm-up functions than the engine's
        callbacks = {"functions": tuple(functions)}
    else:
        callbacks = {}
    warm_up_engine(window.jobs, **callbacks, on_result=done, on_failure=gone, on_cancel=gone,
                   on_progress=strip.on_warm_up_progress if strip is not None else None)
    return strip
