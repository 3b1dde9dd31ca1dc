"""Projects in the window: File ▸ Open project…, Save, Save As…, Recent projects, the
unsaved-changes mark and question, autosave and recovery after a crash.

``install_projects(window)`` adds the menu entries, gives the window
``open_project_file(path)`` (drops and the command line call it) and returns the
:class:`ProjectIO` (also ``window.projects``).

- The title shows the project's name and ``*`` while there are unsaved changes (every
  change of the state except cursor moves, view changes and computed features).
- Closing with unsaved changes asks Save / Discard / Cancel.
- Autosave: every :data:`AUTOSAVE_S` seconds or :data:`AUTOSAVE_EDITS` changes,
  whichever comes first, the state is written (on a worker) to a recovery file beside
  the project (``NAME.alignproj.recovery``) or, for a project never saved or one whose
  folder cannot be written (a read-only share or medium), in the user's data folder
  (``recovery/untitled-….alignproj.recovery``, ``recovery/NAME-<hash of its path>.
  alignproj.recovery``), with three backups.
  Saving removes the recovery files; discarding on close removes them too.
- At start, recovery files left by a process that is gone (a crash, ``kill -9``) are
  offered in a bar above the views, saying what they hold and when they were written:
  Restore opens them (as unsaved changes of their project), Not now keeps them until
  the next save.
- A recording of the project that is missing or changed is named in a bar with a
  Locate… button; the rest of the project opens. Other recordings are then looked for
  next to the file the user located.

Every question goes through :class:`Dialogs`, which tests replace (no modal dialog ever
blocks a test). GUI thread only; reading and autosaving run on workers.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QWidget,
)

from core import project_file as pf
from core.media import open_recording
from core.paths import display_path
from core.project import SLOTS, RecordingInfo

from .jobs import Failure, Request
from .views.common import turn_queue

__all__ = ["install_projects", "ProjectIO", "Dialogs", "AUTOSAVE_S", "AUTOSAVE_EDITS",
           "PROJECT_FILTER", "data_folder"]

AUTOSAVE_S = 30.0
AUTOSAVE_EDITS = 20
MAX_RECENT = 10
PROJECT_FILTER = "Alignment Inspector projects (*.alignproj);;All files (*)"
#: changes that do not make the project unsaved (saved with it all the same)
NOT_EDITS = ("cursor_moved", "view_changed", "display_feature_changed", "restored")


def data_folder() -> Path:
    """The user's data folder (``ALIGNMENT_INSPECTOR_DATA`` overrides it)."""
    folder = os.environ.get("ALIGNMENT_INSPECTOR_DATA") or QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation) or str(
        Path.home() / ".local" / "share" / "alignment-inspector")
    return Path(folder)


class Dialogs:
    """The questions the projects ask; tests give an object with the same methods."""

    def open_project(self, parent) -> str | None:
        path, _ = QFileDialog.getOpenFileName(parent, "Open project", "", PROJECT_FILTER)
        return path or None

    def save_project_as(self, parent, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, "Save project as", suggested,
                                              PROJECT_FILTER)
        return path or None

    def ask_unsaved(self, parent, name: str) -> str:
        """``"save"``, ``"discard"`` or ``"cancel"``."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"{name} has unsaved changes. Save them?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, parent)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(
            QMessageBox.StandardButton(answer), "cancel")

    def locate_media(self, parent, slot: str, entry: dict) -> str | None:
        name = Path(entry.get("path") or "").name
        path, _ = QFileDialog.getOpenFileName(parent, f"Locate recording {slot.upper()} "
                                              f"({name})", "", f"{name} ({name});;All files (*)")
        return path or None


class _Bar(QWidget):
    """A line of text with buttons above the views (a question that does not block)."""

    def __init__(self, parent, object_name: str):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setStyleSheet("background: #2d3b55; color: #e8eefc;")
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        row.addWidget(self.label, 1)
        self.buttons: dict[str, QPushButton] = {}
        self._row = row
        self.hide()

    def ask(self, text: str, buttons: list[tuple[str, object]]) -> None:
        for b in self.buttons.values():
            self._row.removeWidget(b)
            b.deleteLater()
        self.buttons = {}
        self.label.setText(text)
        for caption, callback in buttons:
            b = QPushButton(caption, self)
            b.clicked.connect(lambda _=False, c=callback: c())
            self._row.addWidget(b)
            self.buttons[caption] = b
        self.show()


class _Box:
    """Carries a snapshot to a worker untouched (a Request freezes lists and dicts)."""

    def __init__(self, value):
        self.value = value


def _read_and_open(path: str, search_dirs: tuple, recovery: bool, *, progress=None,
                   cancel=None):
    """Worker: read a project (or the newest recovery file) and open the recordings it
    found (headers only)."""
    loaded = pf.read_recovery(path, search_dirs=search_dirs) if recovery \
        else pf.read_project(path, search_dirs=search_dirs)
    recordings = {}
    for slot in SLOTS:
        info = loaded.snapshot["recordings"].get(slot)
        if info is None:
            continue
        try:
            recordings[slot] = open_recording(info["path"])
        except ValueError as exc:  # found but not readable: treated as missing
            loaded.problems.append(str(exc))
            loaded.media[slot].status = "unreadable"
            loaded.snapshot["recordings"][slot] = None
    return loaded, recordings


def _open_located(path: str, entry: dict, *, progress=None, cancel=None):
    """Worker: open a recording the user pointed to and hash it."""
    rec = open_recording(path)
    size, quick = pf.quick_hash(path)
    same = entry.get("quick_hash") is None or (size == entry.get("size")
                                                and quick == entry.get("quick_hash"))
    return rec, RecordingInfo.of(rec, content_hash=rec.content_hash()), same


def _write(box: _Box, target: str, recovery: bool, project_path, media: _Box, edits, *,
           progress=None, cancel=None) -> str:
    """Worker: write a project or a recovery file."""
    if recovery:
        pf.write_recovery(box.value, target, project_path=project_path, media=media.value,
                          edits=edits)
    else:
        pf.save_project(box.value, target, media=media.value)
    return target


def _pid_alive(pid) -> bool:
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return False
    if pid == os.getpid() or pid <= 0:
        return pid == os.getpid()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ProjectIO(QObject):
    """The window's project file: open, save, dirty mark, autosave, recovery.

    Signals
    -------
    loaded(path)         a project (or recovery file) was opened into the window
    load_failed(message)
    saved(path)
    autosaved(path)      a recovery file was written
    dirty_changed(bool)
    """

    loaded = Signal(str)
    load_failed = Signal(str)
    saved = Signal(str)
    autosaved = Signal(str)
    dirty_changed = Signal(bool)

    def __init__(self, window, dialogs: Dialogs | None = None, *,
                 autosave_s: float = AUTOSAVE_S, autosave_edits: int = AUTOSAVE_EDITS,
                 data_dir: Path | None = None):
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.jobs = window.jobs
        self.settings = window.workspace.settings
        self.dialogs = dialogs or Dialogs()
        self.autosave_edits = autosave_edits
        if data_dir is None:
            # a window without settings (tests, --screenshot) keeps its recovery files
            # out of the user's data folder
            data_dir = data_folder() if self.settings is not None or os.environ.get(
                "ALIGNMENT_INSPECTOR_DATA") else Path(tempfile.gettempdir()) / (
                f"alignment-inspector-{os.getpid()}")
        self.data_dir = Path(data_dir)
        self.active = False  # see activate()
        self.path: str | None = None
        self.dirty = False
        self.edits = 0  # changes since the last autosave or save
        self._generation = 0  # every change counts it up
        self.missing: dict[str, dict] = {}  # entries of recordings not found
        self.last_located_dir: str | None = None
        self._loading = False
        self._recent: list[str] = []
        self._untitled = self.data_dir / "recovery" / (
            f"untitled-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}{pf.SUFFIX}"
            f"{pf.RECOVERY_SUFFIX}")
        self._stale: list[Path] = []  # declined or restored recovery files: go at next save
        self.session.project.subscribe(self._on_change)
        self.timer = QTimer(self)
        self.timer.setInterval(int(autosave_s * 1000))
        self.timer.timeout.connect(self.autosave)
        self.recovery_bar = _Bar(window, "recovery_bar")
        self.media_bar = _Bar(window, "media_bar")
        layout = window.centralWidget().layout()
        layout.insertWidget(0, self.recovery_bar)
        layout.insertWidget(1, self.media_bar)
        self._build_menu()
        window.installEventFilter(self)
        self._update_title()

    def activate(self, *, offer_recovery: bool = True) -> None:
        """The application's mode: autosave runs, closing with unsaved changes asks,
        and (``offer_recovery``) recovery files of crashed sessions are offered. Off
        for windows made by tests and ``--screenshot``, which never ask."""
        self.active = True
        self.timer.start()
        if offer_recovery:
            QTimer.singleShot(0, self.offer_recovery)

    # ------------------------------------------------------------------ menu
    def _build_menu(self) -> None:
        w = self.window
        file_menu = next(a.menu() for a in w.menuBar().actions()
                         if a.menu() is not None and a.text().replace("&", "") == "File")
        first = file_menu.actions()[0]
        self.open_action = QAction("Open project…", w)
        self.open_action.setShortcut(QKeySequence("Ctrl+Alt+O"))
        self.open_action.triggered.connect(self.ask_open)
        self.save_action = QAction("Save project", w)
        self.save_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_action.triggered.connect(self.save)
        self.save_as_action = QAction("Save project as…", w)
        self.save_as_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.save_as_action.triggered.connect(self.save_as)
        self.recent_menu = file_menu.addMenu("Recent projects")
        for act in (self.open_action, self.save_action, self.save_as_action):
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            file_menu.insertAction(first, act)
        file_menu.insertMenu(first, self.recent_menu)
        file_menu.insertSeparator(first)
        self._fill_recent()

    def recent_projects(self) -> list[str]:
        if self.settings is None:
            return list(self._recent)
        value = self.settings.value("recent_projects", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember(self, path: str) -> None:
        path = str(Path(path).absolute())
        files = [path, *[p for p in self.recent_projects() if p != path]][:MAX_RECENT]
        if self.settings is None:
            self._recent = files
        else:
            self.settings.setValue("recent_projects", files)
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.recent_projects()
        self.recent_menu.setEnabled(bool(files))
        for path in files:  # full paths: two projects often share a name
            act = self.recent_menu.addAction(display_path(path))
            act.setToolTip(display_path(path))
            act.triggered.connect(lambda _=False, p=path: self.open_project_file(p))

    # ------------------------------------------------------------------ dirty state
    def _on_change(self, change) -> None:
        if self._loading or change.what in NOT_EDITS:
            return
        self.edits += 1
        self._generation += 1
        self._set_dirty(True)
        if self.active and self.edits >= self.autosave_edits:
            self.autosave()

    def _set_dirty(self, dirty: bool) -> None:
        changed = dirty != self.dirty
        self.dirty = dirty
        self._update_title()
        if changed:
            self.dirty_changed.emit(dirty)

    def display_name(self) -> str:
        return Path(self.path).name if self.path else "Untitled project"

    def _update_title(self) -> None:
        self.window.setWindowTitle(f"{display_path(self.display_name())}[*] — Alignment "
                                   f"Inspector")
        self.window.setWindowModified(self.dirty)

    # ------------------------------------------------------------------ saving
    def _collect_view(self) -> None:
        """Put the views' ranges into the state's view (saved with it)."""
        project = self.session.project
        if not self.session.has_both() and not self.session.alignment_ids():
            return
        for slot, view in self.window.stream_views.items():
            if self.session.recording_info(slot) is not None:
                project.set_view(f"stream_{slot}", tuple(view.visible_range()))
        if self.session.active_alignment() is not None:
            project.set_view("matrix", tuple(self.window.matrix.view_seconds()))

    def _snapshot(self) -> dict:
        self._collect_view()
        return self.session.project.snapshot()

    def save(self, *, wait: bool = False) -> bool:
        """Save to the project's file (asks for one when it has none). Returns whether
        the save was started (``wait``: done)."""
        if self.path is None:
            return self.save_as(wait=wait)
        return self.save_to(self.path, wait=wait)

    def save_as(self, *, wait: bool = False) -> bool:
        suggested = self.path or str(Path.cwd() / f"untitled{pf.SUFFIX}")
        path = self.dialogs.save_project_as(self.window, suggested)
        if not path:
            return False
        if not Path(path).suffix:
            path += pf.SUFFIX
        return self.save_to(path, wait=wait)

    def save_to(self, path: str, *, wait: bool = False) -> bool:
        """Write the project to ``path`` (temporary file, fsync, rename): on a worker
        (an hour-long project takes about a second), or here with ``wait`` (closing
        needs it done). Changes made meanwhile stay marked unsaved."""
        path = str(Path(path).absolute())
        # a banner of an earlier action ("project not saved: ... read-only") stayed
        # up after the project was saved elsewhere
        self.window.workspace.action_started.emit("save")
        args = (_Box(self._snapshot()), path, False, None, _Box(dict(self.missing)), 0)
        generation = self._generation
        if wait:
            try:
                _write(*args)
            except (OSError, ValueError, TypeError) as exc:
                self.window.show_error(f"project not saved: {exc}")
                return False
            self._on_saved(path, generation)
            return True
        self.window.statusBar().showMessage(f"saving {display_path(path)}…")
        self.jobs.submit(Request("save", _write, args, label="saving the project"),
                         on_result=lambda _: self._on_saved(path, generation),
                         on_failure=lambda f: self.window.show_error(
                             f"project not saved: {f.text()}"))
        return True

    def _on_saved(self, path: str, generation: int) -> None:
        old_recovery = self._recovery_targets()
        self.path = path
        for rec in [*old_recovery, *self._recovery_targets(), *self._stale]:
            pf.remove_recovery(rec)
        self._stale = []
        if generation == self._generation:
            self.edits = 0
            self._set_dirty(False)
        else:
            self._update_title()
        self._remember(self.path)
        self.window.statusBar().showMessage(f"saved {display_path(self.path)}", 5_000)
        self.saved.emit(self.path)

    # ------------------------------------------------------------------ autosave
    def _recovery_target(self) -> Path:
        """Where the next autosave goes: beside the project, or in the data folder when
        the project's folder cannot be written (there, every autosave failed, and a
        crash lost the work), or for a project never saved."""
        if not self.path:
            return self._untitled
        beside = pf.recovery_path(self.path)
        return beside if _writable(beside.parent) else self._elsewhere()

    def _recovery_targets(self) -> list[Path]:
        """Every place this window's recovery file may be (both for a saved project:
        its folder may have become writable, or read-only, since)."""
        return [pf.recovery_path(self.path), self._elsewhere()] if self.path \
            else [self._untitled]

    def _elsewhere(self) -> Path:
        """The recovery file of the saved project in the data folder: its name and a
        hash of its absolute path (two projects of one name in other folders differ).
        It records the project's path, so the next start offers it for that project."""
        project = Path(self.path).absolute()
        digest = hashlib.sha1(str(project).encode("utf-8")).hexdigest()[:10]
        name = project.name[: len(project.name) - len(pf.SUFFIX)] \
            if project.name.endswith(pf.SUFFIX) else project.name
        return self.data_dir / "recovery" / f"{name}-{digest}{pf.SUFFIX}{pf.RECOVERY_SUFFIX}"

    def autosave(self) -> None:
        """Write the recovery file on a worker when something changed since the last
        autosave or save."""
        if not self.dirty or self.edits == 0:
            return
        target = self._recovery_target()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.window.statusBar().showMessage(f"autosave failed: {exc}", 10_000)
            return
        edits, self.edits = self.edits, 0
        self.jobs.submit(Request("autosave", _write,
                                 (_Box(self._snapshot()), str(target), True, self.path,
                                  _Box(dict(self.missing)), edits), label="autosave"),
                         on_result=self._on_autosaved,
                         on_failure=lambda f: self.window.statusBar().showMessage(
                             f"autosave failed: {f.text()}", 10_000))

    def _on_autosaved(self, target: str) -> None:
        if not self.dirty:  # saved meanwhile: the recovery file is stale
            pf.remove_recovery(target)
            return
        self.autosaved.emit(target)

    # ------------------------------------------------------------------ closing
    def maybe_keep(self) -> bool:
        """Ask about unsaved changes; True when the caller may go on (saved or
        discarded), False to cancel."""
        if not self.dirty:
            return True
        answer = self.dialogs.ask_unsaved(self.window, self.display_name())
        if answer == "save":
            return self.save(wait=True)
        if answer == "discard":
            for rec in self._recovery_targets():
                pf.remove_recovery(rec)
            self._set_dirty(False)
            return True
        return False

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        if self.active and obj is self.window and event.type() == QEvent.Type.Close:
            if not self.maybe_keep():
                event.ignore()
                return True
            self.timer.stop()
        return False

    # ------------------------------------------------------------------ opening
    def ask_open(self) -> None:
        path = self.dialogs.open_project(self.window)
        if path:
            self.open_project_file(path)

    def open_project_file(self, path: str, *, recovery: bool = False,
                          project_path: str | None = None) -> bool:
        """Open a project file into the window (after asking about unsaved changes);
        reading and opening its recordings happen on a worker. ``recovery``: ``path``
        is a recovery file, opened as unsaved changes of ``project_path``."""
        was_dirty = self.dirty
        if not self.maybe_keep():
            return False
        self._keep_dirty = was_dirty and not self.dirty  # discarded, if opening fails
        path = str(path)
        dirs = (self.last_located_dir,) if self.last_located_dir else ()
        self.window.statusBar().showMessage(f"opening {display_path(Path(path).name)}…")
        self.jobs.submit(Request("project", _read_and_open, (path, dirs, recovery),
                                 label="opening the project"),
                         on_result=lambda out: self._on_read(path, out, recovery,
                                                             project_path),
                         on_failure=self._on_read_failed)
        return True

    def _on_read_failed(self, failure: Failure) -> None:
        if getattr(self, "_keep_dirty", False):  # the state shown is still unsaved
            self._set_dirty(True)
        self.window.show_error(failure.text())
        self.load_failed.emit(failure.text())

    def _on_read(self, path: str, out, recovery: bool, project_path: str | None) -> None:
        loaded, recordings = out
        project = self.session.project
        self._loading = True
        try:
            for slot in SLOTS:
                project.close_recording(slot)
            for slot, rec in recordings.items():
                info = RecordingInfo.from_data(loaded.snapshot["recordings"][slot])
                self.session.cache.put_recording(info.key, rec)
            # the stream images are computed again (the views show what they have)
            loaded.snapshot["display_features"] = {slot: None for slot in SLOTS}
            project.restore(loaded.snapshot)
        except (ValueError, KeyError, TypeError) as exc:
            self._loading = False
            message = str(pf.ProjectError(path, f"is damaged ({exc})"))
            self.window.show_error(message)
            self.load_failed.emit(message)
            return
        finally:
            self._loading = False
        self.missing = loaded.missing
        if recovery:
            self.path = project_path
            self._stale.append(Path(path))
            self.edits = 1
            self._set_dirty(True)
        else:
            self.path = str(Path(path).absolute())
            self.edits = 0
            self._set_dirty(False)
            self._remember(self.path)
        self.window.hide_error()
        self._after_restore()
        self._show_media_problems(loaded.problems)
        self.window.statusBar().showMessage(
            f"opened {display_path(Path(path).name)}"
            + (f" ({len(loaded.problems)} problem(s))" if loaded.problems else ""), 10_000)
        self.loaded.emit(path)

    def _after_restore(self) -> None:
        """Recompute what the views need (stream images, cost images) and put the saved
        view back."""
        for slot in SLOTS:
            if self.session.recording(slot) is not None:
                self.window.workspace._ensure_stream_data(slot)
        self.compute_images()
        self._apply_view()
        # again after the views' own turns (the matrix fits a new result's image)
        turn_queue(self.session).queue(self, self._apply_view)

    def compute_images(self) -> None:
        """Compute, on workers, the features of the cost images of the results whose
        features are not at hand (a reopened project's, a file's or a batch pair's that
        says which features made it); the active result's first."""
        from .tasks import features as feature_tasks

        wanted = {}
        for rid in self.session.alignment_ids():
            res = self.session.project.result(rid)
            if res.image is None:
                continue
            for slot, spec in (("a", res.image[0]), ("b", res.image[1])):
                key = res.inputs.get(slot)
                info = self.session.recording_info(slot)
                if info is None or key != info.key or \
                        self.session.cache.features(key, spec) is not None:
                    continue
                wanted[(slot, spec)] = key
        # the active result's first
        active = self.session.project.result(self.session.active_id)
        order = sorted(wanted, key=lambda k: active is None or active.image is None
                       or k[1] != active.image[0 if k[0] == "a" else 1])
        for slot, spec in order:
            key = wanted[(slot, spec)]
            rec = self.session.recording(slot)
            self.jobs.submit(
                Request(f"project_features_{slot}_{spec.name}_{spec.rate_hz}",
                        feature_tasks.stream_features_job, (rec, spec),
                        label=f"{spec.name} features"),
                on_result=lambda f, s=slot, sp=spec, k=key: self._on_image_features(s, sp,
                                                                                   k, f),
                on_failure=lambda f: self.window.show_error(f.text()))

    def _on_image_features(self, slot, spec, key, features) -> None:
        info = self.session.recording_info(slot)
        if info is None or info.key != key:
            return
        self.session.cache.put_features(key, spec, features)
        aid = self.session.active_id
        if aid != -1 and self.session.shown_inputs(aid) is not None:
            self.session.active_alignment_changed.emit(aid)
            turn_queue(self.session).queue(self, lambda: self._apply_view(streams=False))

    def _apply_view(self, streams: bool = True) -> None:
        view = self.session.project.view
        if streams:
            for slot, stream_view in self.window.stream_views.items():
                rng = view.get(f"stream_{slot}")
                if rng and self.session.recording_info(slot) is not None:
                    stream_view.set_visible_range(float(rng[0]), float(rng[1]))
        rng = view.get("matrix")
        if rng and len(rng) == 4:
            self.window.matrix.set_view_seconds(*(float(v) for v in rng))

    # ------------------------------------------------------------------ missing media
    def _show_media_problems(self, problems: list[str]) -> None:
        if not problems:
            self.media_bar.hide()
            return
        buttons = [(f"Locate {slot.upper()}…", lambda s=slot: self.locate(s))
                   for slot in SLOTS if slot in self.missing]
        buttons.append(("Dismiss", self.media_bar.hide))
        self.media_bar.ask("Project opened without everything: " + "; ".join(problems)
                           + ".", buttons)

    def locate(self, slot: str, path: str | None = None) -> None:
        """Point a missing or changed recording of the project to a file (asked when
        ``path`` is None); the results stay."""
        entry = self.missing.get(slot)
        if entry is None:
            return
        path = path or self.dialogs.locate_media(self.window, slot, entry)
        if not path:
            return
        self.last_located_dir = str(Path(path).absolute().parent)
        self.jobs.submit(Request(f"locate_{slot}", _open_located, (str(path), entry),
                                 label="opening the recording"),
                         on_result=lambda out: self._on_located(slot, entry, out),
                         on_failure=lambda f: self.window.show_error(f.text()))

    def _on_located(self, slot: str, entry: dict, out) -> None:
        rec, info, same = out
        snap = self.session.project.snapshot()
        old_key = f"sha256:{entry['sha256']}" if entry.get("sha256") else \
            f"path:{entry.get('path')}"
        snap["recordings"][slot] = info.to_data()
        snap["display_features"] = {s: None for s in SLOTS}
        for r in snap["results"]:
            r["inputs"] = {s: (info.key if k == old_key and s == slot else k)
                           for s, k in r["inputs"].items()}
        self.session.cache.put_recording(info.key, rec)
        for s in SLOTS:  # the other open recording stays in the cache under its key
            other = self.session.recording_info(s)
            if other is not None and s != slot:
                self.session.cache.put_recording(other.key, self.session.recording(s))
        self._loading = True
        try:
            self.session.project.restore(snap)
        finally:
            self._loading = False
        self.missing.pop(slot, None)
        self.edits += 1
        self._set_dirty(True)
        self._after_restore()
        note = "" if same else " (its content differs from the one the project was made with)"
        self.window.statusBar().showMessage(
            f"recording {slot.upper()}: {display_path(rec.path)}{note}", 10_000)
        # the others may be in the same folder
        for other in [s for s in SLOTS if s in self.missing]:
            status, found = pf.find_media(self.missing[other], None, [self.last_located_dir])
            if status == "ok":
                self.locate(other, found)
                return
        if self.missing:
            self._show_media_problems([m for s in self.missing for m in [
                f"recording {s.upper()} {display_path(self.missing[s].get('path'))} "
                f"not found"]])
        else:
            self.media_bar.hide()

    # ------------------------------------------------------------------ recovery
    def find_recoveries(self) -> list[tuple[Path, pf.LoadedProject]]:
        """Recovery files left by processes that are gone, newest first."""
        candidates = []
        folder = self.data_dir / "recovery"
        if folder.is_dir():
            candidates += sorted(folder.glob(f"*{pf.RECOVERY_SUFFIX}"))
        candidates += [pf.recovery_path(p) for p in self.recent_projects()]
        found = []
        seen = set()
        for rec in candidates:
            if rec in seen or not pf.recovery_files(rec):
                continue
            seen.add(rec)
            try:
                loaded = pf.read_recovery(rec, check_media=False)
            except pf.ProjectError:
                continue
            if _pid_alive((loaded.header.get("recovery") or {}).get("pid")):
                continue
            found.append((rec, loaded))
        found.sort(key=lambda item: item[1].saved_at, reverse=True)
        return found

    def offer_recovery(self) -> bool:
        """Show the recovery bar for the newest recovery file; True when one is offered."""
        found = self.find_recoveries()
        if not found:
            return False
        rec, loaded = found[0]
        info = loaded.header.get("recovery") or {}
        project = info.get("project")
        what = f"project {display_path(project)}" if project else "an unsaved project"
        names = [Path(m.entry.get("path") or "?").name for m in loaded.media.values()
                 if m is not None]
        n = len(loaded.snapshot.get("results", []))
        when = _local_time(loaded.saved_at)
        self.recovery_bar.ask(
            f"Unsaved work of {what} was recovered ({', '.join(names) or 'no recordings'}; "
            f"{n} result{'s' if n != 1 else ''}), autosaved {when}.",
            [("Restore", lambda: self._restore(rec, project)),
             ("Not now", self._decline)])
        self._offered = rec
        return True

    def _restore(self, rec: Path, project: str | None) -> None:
        self.recovery_bar.hide()
        self.open_project_file(str(rec), recovery=True, project_path=project)

    def _decline(self) -> None:
        self.recovery_bar.hide()  # the file stays until the next save of its project


def _writable(folder: Path) -> bool:
    """Whether files can be made in ``folder`` (not on a read-only file system, nor in a
    folder the user may not write)."""
    return os.access(folder, os.W_OK | os.X_OK)


def _local_time(iso: str) -> str:
    try:
        t = _dt.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.UTC)
    except ValueError:
        return iso or "at an unknown time"
    return "at " + t.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def install_projects(window, dialogs: Dialogs | None = None, **kwargs) -> ProjectIO:
    """Add projects to ``window``: menu entries, ``window.open_project_file(path)``,
    ``window.projects``; offers recovery of a crashed session once the window shows."""
    io = ProjectIO(window, dialogs, **kwargs)
    window.projects = io
    window.open_project_file = io.open_project_file
    return io
