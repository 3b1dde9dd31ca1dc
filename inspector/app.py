"""The main window, its wiring, and ``main(argv)`` for ``alignment-inspector [A] [B]``.

``alignment-inspector A B`` opens both files and computes the default alignment;
``--screenshot PNG`` saves the whole window (default size 1440×900) once that alignment
is shown, then exits. Works with ``QT_QPA_PLATFORM=offscreen``.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core import pipeline, soft, structure, transport, warping
from core._kernels import hold_preload, preload_numba, release_preload
from core.paths import display_path

from .firstrun import close_splash, ensure_utf8_locale, install_first_run
from .jobs import ENGINE_MODULES, JobRunner, Request
from .method_panel import MethodPanel
from .session import Session
from .tasks import media as media_tasks
from .views.common import ElidedLabel, configure_pyqtgraph, format_time
from .views.diagnostics import DiagnosticsView
from .views.heatmap import HeatmapView
from .views.matrix import MatrixView
from .views.stream import StreamView
from .workspace import Workspace

#: the interpreter's GIL switch interval in the application (0: Python's default, 5 ms)
GIL_SWITCH_INTERVAL_S = float(os.environ.get("ALIGNMENT_INSPECTOR_SWITCH_INTERVAL", "0.0005"))

__all__ = ["MainWindow", "main", "DEFAULT_SIZE", "install_exception_guard", "warm_up_engine",
           "display_available"]

DEFAULT_SIZE = (1440, 900)
#: ``--screenshot`` saves what it has and exits 1 after this long (seconds)
SCREENSHOT_TIMEOUT_S = 600.0
MEDIA_FILTER = ("Media (*.wav *.flac *.ogg *.opus *.mp3 *.aif *.aiff *.mp4 *.avi *.mkv "
                "*.mov *.webm);;All files (*)")


class MainWindow(QMainWindow):
    """Alignment Inspector's window: two stream views, the matrix, panels, status bar.

    Observes the Session (``recording_opened``, ``cursor_moved``, ``error_reported``,
    ``active_alignment_changed``) for the status bar and the error banner. GUI thread.
    """

    def __init__(self, *, settings: QSettings | None = None, auto_align: bool = True,
                 tune_gc: bool = False):
        super().__init__()
        configure_pyqtgraph()
        self.setWindowTitle("Alignment Inspector")
        self.session = Session(self)
        self.jobs = JobRunner(self)
        self.workspace = Workspace(self.session, self.jobs, self, auto_align=auto_align,
                                   settings=settings)
        self.setAcceptDrops(True)

        self.stream_a = StreamView(self.session, self.jobs, "a")
        self.stream_b = StreamView(self.session, self.jobs, "b")
        self.matrix = MatrixView(self.session, self.jobs)
        self.heatmap = HeatmapView(self.session, self.jobs)
        self.diagnostics = DiagnosticsView(self.session, self.jobs)
        self.method_panel = MethodPanel(self.session, self.workspace)
        self.stream_views = {"a": self.stream_a, "b": self.stream_b}
        # A and B side by side: one label step for both time axes
        self.stream_a.bottom.getAxis("bottom").share_step(self.stream_b.bottom.getAxis("bottom"))

        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setStyleSheet("background: #5a1d1d; color: #ffdede; padding: 4px;")
        self.banner_close = QToolButton(self)
        self.banner_close.setText("✕")
        self.banner_close.clicked.connect(self.hide_error)
        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(0, 0, 0, 0)
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.banner_close)
        self.hide_error()

        streams = QSplitter(Qt.Orientation.Vertical)
        streams.addWidget(self.stream_a)
        streams.addWidget(self.stream_b)
        self.lower = QSplitter(Qt.Orientation.Horizontal)
        self.lower.addWidget(self.matrix)
        self.lower.addWidget(self.heatmap)
        self.lower.setStretchFactor(0, 3)
        self.lower.setStretchFactor(1, 2)
        self.main_split = QSplitter(Qt.Orientation.Vertical)
        self.main_split.addWidget(streams)
        self.main_split.addWidget(self.lower)
        self.main_split.addWidget(self.diagnostics)
        self.main_split.setStretchFactor(0, 4)
        self.main_split.setStretchFactor(1, 6)
        self.main_split.setStretchFactor(2, 1)
        self.main_split.setSizes([330, 420, 130])
        self.lower.setSizes([620, 480])
        dock = QDockWidget("Method", self)
        dock.setObjectName("method_dock")
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        dock.setWidget(self.method_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.method_dock = dock
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(banner_row)
        layout.addWidget(self.main_split, 1)
        self.setCentralWidget(central)

        self._build_status_bar()
        self._build_actions()
        from .playback import install_playback  # the transport bar and the audio clock

        self.playback = install_playback(self)
        from .editing import install_editing  # anchors and regions of the active result

        self.editor = install_editing(self)
        from .project_io import install_projects  # project files, autosave, recovery

        self.projects = install_projects(self)
        from .views.linked import install_linked_zoom  # one time range per recording

        self.linked_zoom = install_linked_zoom(self)
        for view in self.stream_views.values():
            view.file_dropped.connect(self.open_file)
        from .files import install_files  # export, import, annotations, drops, batch triage

        self.files = install_files(self)
        from .structure import install_structure  # pieces, units, the unit matrix

        self.structure = install_structure(self)
        self.session.error_reported.connect(self.show_error)
        self.session.cursor_moved.connect(self._on_cursor_moved)
        self.session.recording_opened.connect(self._update_streams_status)
        self.session.recordings_swapped.connect(self._update_streams_status)
        self.workspace.message_posted.connect(self._on_message_posted)
        self.workspace.busy_changed.connect(self._on_busy_changed)
        # a banner belongs to the action that raised it: the next one clears it
        self.workspace.action_started.connect(lambda *_: self.hide_error())
        self.resize(*DEFAULT_SIZE)
        self._freeze_count = 0
        # numba's import thread (started by the first job or once shown) waits until the
        # event loop runs freely (showEvent): not beside the GUI thread's work of opening
        # the window; 1 s at most for a window that is never shown
        hold_preload()
        QTimer.singleShot(1000, release_preload)
        if tune_gc:  # the application's process only: it changes the whole interpreter
            self._freeze_long_lived_objects()
            self.jobs.idle.connect(self._freeze_long_lived_objects)
            if GIL_SWITCH_INTERVAL_S > 0:
                # A paint re-enters Python for every pyqtgraph item and waits for the GIL
                # each time; a worker running Python keeps it up to the switch interval
                # (5 ms by default) at each of those waits.
                sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)

    # ------------------------------------------------------------------ building
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        # fixed widths: the labels change at every cursor step and job, and a label that
        # grows re-lays out (and once widened) the whole window
        self.busy_label = ElidedLabel("", width_for="working: alignment, features, matrix")
        self.streams_label = ElidedLabel(
            "no recordings", width_for="A 0:00:00.000 @ 44100 Hz   B 0:00:00.000 @ 44100 Hz")
        self.cursor_label = ElidedLabel("", width_for="cursor A -0:00:00.000  B -0:00:00.000")
        for w in (self.busy_label, self.streams_label, self.cursor_label):
            bar.addPermanentWidget(w)

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.open_actions = {}
        for slot, key in (("a", "Ctrl+O"), ("b", "Ctrl+Shift+O")):
            act = QAction(f"Open {slot.upper()}…", self)
            act.setShortcut(QKeySequence(key))
            act.triggered.connect(lambda _=False, s=slot: self.ask_open(s))
            file_menu.addAction(act)
            self.open_actions[slot] = act
        self.recent_menu = file_menu.addMenu("Recent files")
        self.workspace.recent_files_changed.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        self.swap_action = QAction("Swap A and B", self)
        # Ctrl+W closes, as in every desktop program
        self.swap_action.setShortcut(QKeySequence("Ctrl+Shift+X"))
        self.swap_action.triggered.connect(self.workspace.swap)
        file_menu.addAction(self.swap_action)
        self.save_shot_action = QAction("Save screenshot…", self)
        self.save_shot_action.triggered.connect(self._ask_screenshot)
        file_menu.addAction(self.save_shot_action)
        file_menu.addSeparator()
        self.close_action = QAction("Close window", self)
        self.close_action.setShortcut(QKeySequence("Ctrl+W"))
        self.close_action.triggered.connect(self.close)
        file_menu.addAction(self.close_action)
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = menu.addMenu("&View")
        self.reset_action = QAction("Show everything", self)
        self.reset_action.setShortcut(QKeySequence("Ctrl+0"))
        self.reset_action.triggered.connect(self.reset_views)
        view_menu.addAction(self.reset_action)
        for text, key, factor in (("Zoom in", "Ctrl+=", 2.0), ("Zoom out", "Ctrl+-", 0.5)):
            act = QAction(text, self)
            act.setShortcut(QKeySequence(key))
            act.triggered.connect(lambda _=False, f=factor: self.zoom_streams(f))
            view_menu.addAction(act)

        # the cursor: arrows step one feature frame of A (Shift: ten), Ctrl+arrows of B;
        # Page keys step a second (Shift: on B). The status bar says how far a step went.
        cursor_keys = (
            ("Right", "a", 1, 0.0), ("Left", "a", -1, 0.0),
            ("Shift+Right", "a", 10, 0.0), ("Shift+Left", "a", -10, 0.0),
            ("Ctrl+Right", "b", 1, 0.0), ("Ctrl+Left", "b", -1, 0.0),
            ("Ctrl+Shift+Right", "b", 10, 0.0), ("Ctrl+Shift+Left", "b", -10, 0.0),
            ("PgDown", "a", 0, 1.0), ("PgUp", "a", 0, -1.0),
            ("Shift+PgDown", "b", 0, 1.0), ("Shift+PgUp", "b", 0, -1.0),
        )
        self.cursor_actions = []
        for key, slot, frames, seconds in cursor_keys:
            act = QAction(self)
            act.setShortcut(QKeySequence(key))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(lambda _=False, s=slot, f=frames, t=seconds:
                                  self.step_cursor(s, f, t))
            self.addAction(act)
            self.cursor_actions.append(act)

        tools = self.addToolBar("Main")
        tools.setObjectName("main_toolbar")
        tools.setMovable(False)
        tools.addAction(self.open_actions["a"])
        tools.addAction(self.open_actions["b"])
        tools.addAction(self.swap_action)
        tools.addAction(self.reset_action)
        from .help_menu import install_help  # Help: shortcuts (F1), About

        self.shortcuts_action = install_help(self)
        self.matrix.reset_requested.connect(self.reset_views)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.workspace.recent_files()
        self.recent_menu.setEnabled(bool(files))
        for path in files:
            # the whole path: a.wav from two folders must not look the same
            sub = self.recent_menu.addMenu(display_path(path).replace("&", "&&"))
            sub.setToolTip(display_path(path))
            for slot in ("a", "b"):
                act = sub.addAction(f"Open as {slot.upper()}")
                act.triggered.connect(lambda _=False, s=slot, p=path: self.open_file(s, p))

    # ------------------------------------------------------------------ actions
    def ask_open(self, slot: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Open recording {slot.upper()}", "",
                                              MEDIA_FILTER)
        if path:
            self.open_file(slot, path)

    def open_file(self, slot: str, path: str):
        """Open ``path`` into ``slot`` as the user asked (menu, drop, recent): when
        results would be discarded (a new recording replaces the pair they were made
        with), ask first. Returns the Job, or None when the user kept the results."""
        n = len(self.session.alignment_ids())
        if n and not self.confirm_discard(slot, path, n):
            self.statusBar().showMessage("kept the results; nothing opened", 5_000)
            return None
        return self.workspace.open_file(slot, path)

    def confirm_discard(self, slot: str, path: str, n_results: int) -> bool:
        """Ask whether opening ``path`` as ``slot`` may discard ``n_results`` results."""
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Question, "Discard the results?",
                          f"Opening {display_path(Path(path).name)} as {slot.upper()} "
                          f"replaces a recording that "
                          + (f"the {n_results} results were" if n_results > 1 else
                             "the result was") + " made with; "
                          f"{'they' if n_results > 1 else 'it'} will be discarded.",
                          parent=self)
        box.setObjectName("discard_box")
        open_button = box.addButton("Open and discard", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep the results", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.exec()
        return box.clickedButton() is open_button

    def _ask_screenshot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", "window.png",
                                              "PNG (*.png)")
        if path:
            self.save_screenshot(path)

    def save_screenshot(self, path: str) -> bool:
        return self.grab().save(str(path), "PNG")

    def reset_views(self) -> None:
        """Show both recordings whole in every view (Ctrl+0)."""
        self.linked_zoom.reset()

    def zoom_streams(self, factor: float) -> None:
        """Zoom every view about the cursor (Ctrl+= / Ctrl+-)."""
        self.linked_zoom.zoom(factor)

    def step_cursor(self, slot: str, frames: int = 0, seconds: float = 0.0) -> None:
        """Move the cursor by frames of ``slot``'s features plus seconds, and say in
        the status bar what one step is (a frame of which features, how long)."""
        self.session.step_cursor(slot, frames, seconds)
        if not frames:
            what = f"{abs(seconds):g} s on {slot.upper()}"
        else:
            spec = self.session.project.display_feature(slot)
            info = self.session.recording_info(slot)
            if spec is not None:
                rate, unit = spec.rate_hz, f"{spec.name} frame"
            elif info is not None and info.kind == "video":
                rate, unit = info.rate_hz, "video frame"
            else:
                rate, unit = 50.0, "frame"
            n = abs(frames)
            what = (f"{n} {unit}{'s' if n > 1 else ''} of {slot.upper()} "
                    f"({1000.0 * n / rate:.0f} ms; Shift: 10, Ctrl: on B)")
        self.statusBar().showMessage(f"cursor {'+' if frames + seconds > 0 else '−'}"
                                     f"{what}", 3_000)

    def show_error(self, message: str) -> None:
        self.banner.setText(message)
        self.banner.show()
        self.banner_close.show()
        self.statusBar().showMessage(message, 10_000)

    def hide_error(self) -> None:
        self.banner.hide()
        self.banner_close.hide()

    def _freeze_long_lived_objects(self) -> None:
        """Keep Python's full garbage collections from freezing the window.

        Qt, pyqtgraph, numpy, scipy and numba (its compiled kernels above all) leave
        hundreds of thousands of long-lived objects; a full collection walks all of them
        (100-150 ms here) in whichever thread triggers it, holding the GIL, so the window
        stops even when a worker collects. At start (after one full collection) and
        whenever the workers go idle, the young generations are collected (milliseconds)
        and every object alive is frozen out of the collector's reach; in between, full
        collections are made rare (threshold 1000 instead of 10). The price: a
        reference cycle that became garbage after reaching the oldest generation and
        before a freeze is kept until the process ends (small next to the arrays the
        window holds).
        """
        if self._freeze_count == 0:
            gc.collect()
            # full collections only after 100x more young ones than Python's default:
            # engine jobs (numba loading its kernels) make many objects before any idle
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, 1000)
        else:
            gc.collect(1)
        gc.freeze()
        self._freeze_count += 1

    # ------------------------------------------------------------------ slots
    def _on_message_posted(self, text: str) -> None:
        # long enough to read: a result's warning runs to a few hundred characters
        self.statusBar().showMessage(text, max(5_000, 60 * len(text)))

    def _on_busy_changed(self, busy: bool) -> None:
        labels = self.jobs.running_labels()
        self.busy_label.setText(("working: " + ", ".join(sorted(set(labels)))) if busy and labels
                                else "")

    def _update_streams_status(self, *_) -> None:
        parts = []
        for slot in ("a", "b"):
            s = self.session.stream(slot)
            if s is not None:
                rec = s.recording
                unit = "fps" if rec.kind == "video" else "Hz"
                parts.append(f"{slot.upper()} {format_time(s.duration_s)} "
                             f"@ {rec.rate_hz:.5g} {unit}")
        self.streams_label.setText("   ".join(parts) or "no recordings")

    def _on_cursor_moved(self, time_a: float, time_b: float) -> None:
        self.cursor_label.setText(f"cursor A {format_time(time_a)}  B {format_time(time_b)}")

    # ------------------------------------------------------------------ drops, close
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        # dropped on the window (not on a pane): fill A then B
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if getattr(self, "files", None) is not None:  # media, alignments, annotations, projects
            self.files.drop_files(paths)
            event.acceptProposedAction()
            return
        slots = [s for s in ("a", "b") if self.session.stream(s) is None] or ["a", "b"]
        for slot, path in zip(slots, paths, strict=False):
            if self.open_file(slot, path) is None:
                break
        event.acceptProposedAction()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        # numba (0.15-0.5 s) on a thread of its own once the window has painted itself
        # (sooner if a job starts: JobRunner.submit); jobs wait for it
        QTimer.singleShot(100, lambda: preload_numba(also=ENGINE_MODULES))
        # its imports begin 50 ms after the first turn of the event loop: a timer started
        # now would already be due in the processEvents() that paints the window, before
        # the synchronous work that follows it (opening the files, the first-run strip)
        QTimer.singleShot(0, lambda: QTimer.singleShot(50, release_preload))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Cancel every job and wait for the workers (also called by tests)."""
        release_preload()  # workers waiting for numba's import must not wait for a gate
        self.playback.shutdown()
        self.jobs.shutdown()
        media_tasks.forget_readers()


class _ScreenshotTaker(QObject):
    """Saves the window once the default alignment is shown (or failed), then quits."""

    done = Signal(int)

    def __init__(self, window: MainWindow, path: str, *, timeout_s: float | None = None):
        super().__init__(window)
        self.window = window
        self.path = path
        self.failed = False
        self.ready = False
        self.positioned = False
        self.taken = False
        window.workspace.default_alignment_finished.connect(self._on_default_finished)
        window.session.error_reported.connect(self._on_error)
        window.jobs.idle.connect(self._maybe_take)
        timeout_s = SCREENSHOT_TIMEOUT_S if timeout_s is None else timeout_s
        QTimer.singleShot(int(timeout_s * 1000), self._on_timeout)

    def expect_alignment(self, expected: bool) -> None:
        if not expected:
            self.ready = True

    def _on_default_finished(self, aid: int) -> None:
        self.ready = True
        self.failed = self.failed or aid == -1

    def _on_error(self, message: str) -> None:
        print(f"alignment-inspector: {message}", file=sys.stderr)
        self.failed = True
        self.ready = True
        # the jobs may already be idle (an error in a slot): do not wait for idle
        QTimer.singleShot(0, self._maybe_take)

    def _maybe_take(self) -> None:
        if not self.ready or self.taken or self.window.jobs.n_running:
            return
        session = self.window.session
        if not self.positioned and session.active_alignment() is not None:
            # a cursor inside the recordings shows the crosshair and the linked frames
            self.positioned = True
            session.move_cursor("a", 0.4 * session.duration("a"))
        # let the views draw what the last results changed, then grab
        QTimer.singleShot(300, self._take)

    def _take(self) -> None:
        if self.window.jobs.n_running or self.taken:
            return  # a view started a job (e.g. a video frame); idle comes again
        self.taken = True
        ok = self.window.save_screenshot(self.path)
        if not ok:
            print(f"alignment-inspector: {self.path}: cannot write the screenshot",
                  file=sys.stderr)
        self.done.emit(0 if ok and not self.failed else 1)

    def _on_timeout(self) -> None:
        if self.taken:
            return
        self.taken = True
        print("alignment-inspector: timed out waiting for the alignment; saving the window "
              "as it is", file=sys.stderr)
        self.window.save_screenshot(self.path)
        self.done.emit(1)


class _WarningRelay(QObject):
    """Shows the engine's warnings (e.g. a method that did not converge) in the status
    bar; ``warnings.showwarning`` may be called on any thread, the signal is queued."""

    posted = Signal(str)

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.posted.connect(lambda text: window.statusBar().showMessage(text, 15_000))
        self.previous = warnings.showwarning
        warnings.showwarning = self.show

    def show(self, message, category, filename, lineno, file=None, line=None):
        self.posted.emit(f"{category.__name__}: {message}")

    def restore(self) -> None:
        warnings.showwarning = self.previous


def display_available() -> bool:
    """Whether Qt can open a window here. On Linux and the BSDs without
    ``QT_QPA_PLATFORM``, ``DISPLAY`` or ``WAYLAND_DISPLAY``, Qt would abort the process
    ("could not load the Qt platform plugin") instead of raising."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith(("win", "darwin", "cygwin")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def install_exception_guard(window: MainWindow):
    """Show exceptions that escape a slot, a callback or a thread in the window's error
    banner instead of only printing a traceback on the console.

    ``sys.excepthook`` (PySide calls it for an exception raised in a slot) and
    ``threading.excepthook`` are replaced; the report is a queued signal, so it is safe
    from any thread. With ``ALIGNMENT_INSPECTOR_DEBUG`` set, the traceback is printed
    too. Returns a function that restores the previous hooks.
    """
    previous_sys, previous_thread = sys.excepthook, threading.excepthook
    error_reported = window.session.error_reported

    def report(kind, value, tb) -> None:
        if os.environ.get("ALIGNMENT_INSPECTOR_DEBUG"):
            previous_sys(kind, value, tb)
        try:
            error_reported.emit(f"internal error: {kind.__name__}: {value}")
        except RuntimeError:  # the window is gone (process ending)
            previous_sys(kind, value, tb)

    def report_thread(args) -> None:
        if args.exc_type is SystemExit:
            return
        report(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = report
    threading.excepthook = report_thread

    def restore() -> None:
        sys.excepthook = previous_sys
        threading.excepthook = previous_thread

    return restore


#: the engine's warm-up functions, which compile (or load from numba's cache) its numba
#: kernels on a worker at start (after the first alignment when one is coming:
#: :func:`warm_up_engine`)
WARM_UP = (pipeline.warm_up, warping.warm_up, transport.warm_up, soft.warm_up,
           structure.warm_up)


def _warm_up(functions, *, progress=None, cancel=None) -> list[str]:
    """Worker function: call each warm-up function; returns the names (module.function)
    of those that failed (never an error for the user: warming up only saves time)."""
    failed = []
    for k, fn in enumerate(functions):
        if cancel is not None and cancel():
            break
        try:
            fn()
        except Exception:  # noqa: BLE001 - warming up is an optimization only
            failed.append(f"{fn.__module__}.{fn.__name__}")
        if progress is not None:
            progress((k + 1) / len(functions))
    return failed


def warm_up_engine(jobs: JobRunner, functions=WARM_UP, *, when_idle: bool = True,
                   **callbacks) -> None:
    """Compile the engine's numba kernels on a worker (channel ``warm_up``), so a method
    run does not pay for it. The GUI thread never waits.

    With ``when_idle`` (the application's choice) and jobs running (files given on the
    command line), the warm-up starts once they are done: compiling next to the first
    alignment made it 1-4 s slower on 2 cores (numba compiles one kernel at a time and
    the default alignment compiles what it needs anyway; see
    benchmarks/gui/bench_startup.py). ``callbacks`` (``on_result`` etc.) go to
    ``jobs.submit``.
    """
    request = Request("warm_up", _warm_up, (tuple(functions),), label="preparing the engine")
    if not when_idle or not jobs.n_running:
        jobs.submit(request, **callbacks)
        return

    def start() -> None:
        jobs.idle.disconnect(start)
        jobs.submit(request, **callbacks)

    jobs.idle.connect(start)


def exit_on_signals(app: QApplication) -> Callable[[], None]:
    """SIGTERM and SIGHUP (a logout, ``kill``, a session manager) end the window as
    Ctrl+C ends the command line: temporary files of writes in progress are removed
    (:mod:`core.paths`), nothing asks, and the exit status is ``128 + signal``.

    Python runs signal handlers only between bytecodes, so a timer wakes the interpreter
    while Qt's event loop waits. Returns a callable that restores the old handlers.
    """
    from core.paths import remove_temporary_files

    def handler(signum, frame):
        remove_temporary_files()
        app.exit(128 + signum)

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            previous[signum] = signal.signal(signum, handler)
    wake = QTimer(app)
    wake.setInterval(250)
    wake.timeout.connect(lambda: None)
    wake.start()

    def restore() -> None:
        wake.stop()
        wake.deleteLater()
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2
        self.exit(2, f"alignment-inspector: {message}\n")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = _ArgumentParser(prog="alignment-inspector",
                             description="Open two recordings and inspect their alignment.")
    parser.add_argument("a", nargs="?", help="recording A (audio or video), or a project "
                        "(.alignproj) to open")
    parser.add_argument("b", nargs="?", help="recording B (audio or video)")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="save the window once the default alignment is shown, then exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Open the window; ``argv`` is ``[A] [B] [--screenshot PNG]``. Returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.screenshot:
        out_dir = Path(args.screenshot).resolve().parent
        if not out_dir.is_dir():
            print(f"alignment-inspector: {out_dir}: folder does not exist", file=sys.stderr)
            return 2
    if QApplication.instance() is None and not display_available():
        if not args.screenshot:
            print("alignment-inspector: no display to open the window on (DISPLAY and "
                  "WAYLAND_DISPLAY are unset); run it in a desktop session, set "
                  "QT_QPA_PLATFORM, or use a headless subcommand (alignment-inspector "
                  "align A B -o OUT)", file=sys.stderr)
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    ensure_utf8_locale()  # before Qt reads the locale: no warning under LANG=C
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "inspector"])
    app.setApplicationName("Alignment Inspector")
    app.setOrganizationName("alignment-inspector")
    settings = None if args.screenshot or os.environ.get("ALIGNMENT_INSPECTOR_NO_SETTINGS") \
        else QSettings("alignment-inspector", "alignment-inspector")
    window = MainWindow(settings=settings, tune_gc=True)
    restore_hooks = install_exception_guard(window)
    relay = _WarningRelay(window)
    window.show()
    close_splash()
    app.processEvents()  # paint the window now (numba's import: showEvent, the first job)
    files = [p for p in (args.a, args.b) if p]
    from core.project_file import is_project_file

    project = files[0] if len(files) == 1 and is_project_file(files[0]) else None
    if project is not None:
        files = []
    if not args.screenshot:  # autosave, ask before closing, offer crash recovery
        window.projects.activate()
    taker = None
    if args.screenshot:
        taker = _ScreenshotTaker(window, args.screenshot)
        taker.expect_alignment(len(files) == 2 or project is not None)
        if project is not None:
            window.projects.loaded.connect(
                lambda _: taker._on_default_finished(window.session.active_id))
            window.projects.load_failed.connect(taker._on_error)
        result = {"code": 1}

        def finish(code: int) -> None:
            result["code"] = code
            window.close()
            app.quit()

        taker.done.connect(finish)
        if not files and project is None:
            QTimer.singleShot(300, taker._take)
    if project is not None:
        window.open_project_file(project)
    for slot, path in zip(("a", "b"), files, strict=False):
        window.workspace.open_file(slot, path)
    if taker is None:  # a screenshot exits once drawn: no background warm-up to wait for
        install_first_run(window, expect_alignment=len(files) == 2)
    restore_signals = exit_on_signals(app)
    try:
        code = app.exec()
    finally:
        restore_signals()
        restore_hooks()
        relay.restore()
    window.shutdown()
    return result["code"] if taker is not None else int(code)
