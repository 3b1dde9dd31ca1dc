"""The File menu's alignment and annotation actions, and files dropped on the window.

- **Export alignment…** (Ctrl+E) writes the active result, **Export alignment of ▸**
  any result, in every format of :mod:`core.formats` (chosen by the dialog's filter or
  the name's extension), through :mod:`core.paths` on a worker.
- **Import alignment…** (Ctrl+I) reads a file on a worker, checks it against the open
  recordings (:func:`~inspector.files.checks.check_alignment`) and adds it to the
  results as an ordinary result (drawn, comparable, editable).
- **Open annotations on A… / B…** and **Export annotations transferred to B… / A…**
  (:class:`~inspector.files.annotations.Annotations`).
- Drops (``MainWindow.dropEvent`` and the panes' ``file_dropped`` come to
  :meth:`FilesController.drop_files`): media files open as recordings (on the pane they
  are dropped on, else A then B), ``.alignproj`` files go to
  ``window.open_project_file`` when the window has it, any other file is read as an
  alignment or else as annotations (of the pane's recording, A when dropped elsewhere).

The dialogs are the attributes :attr:`FilesController.ask_open` and
:attr:`FilesController.ask_save` (``fn(parent, title, filter, name) -> (path,
selected_filter)``, ``""`` when cancelled); tests replace them. A bad file gives a
message naming it and the problem in the window's banner; nothing changes then.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from core.formats import (
    ALIGNMENT_FORMATS,
    format_from_path,
    output_format,
    read_alignment,
    read_annotation,
    read_recipe,
    write_alignment,
)
from core.media import AUDIO_EXTENSIONS, VIDEO_EXTENSIONS
from core.paths import check_output, display_path
from core.structure.carrier import piecewise_of

from ..jobs import Request
from .annotations import Annotations
from .checks import check_alignment

__all__ = ["FilesController", "ALIGNMENT_FILTERS", "ANNOTATION_FILTER", "file_menu",
           "write_result", "read_result", "image_of"]

#: one dialog filter per alignment format (the selected filter names the format)
ALIGNMENT_FILTERS = {
    "csv": "CSV time pairs (*.csv)",
    "json": "JSON, everything (*.json)",
    "svl": "Sonic Visualiser layer (*.svl)",
    "sv-csv": "Sonic Visualiser CSV (*.sv.csv)",
    "audacity": "Audacity labels (*.txt)",
    "textgrid": "Praat TextGrid (*.TextGrid)",
    "eaf": "ELAN (*.eaf)",
}
assert set(ALIGNMENT_FILTERS) == set(ALIGNMENT_FORMATS)
_SUFFIX = {"csv": ".csv", "json": ".json", "svl": ".svl", "sv-csv": ".sv.csv",
           "audacity": ".txt", "textgrid": ".TextGrid", "eaf": ".eaf"}
IMPORT_FILTER = ("Alignments (*.csv *.tsv *.json *.svl *.txt *.TextGrid *.textgrid *.eaf);;"
                 "All files (*)")
ANNOTATION_FILTER = ("Annotations (*.TextGrid *.textgrid *.eaf *.txt *.csv *.tsv);;"
                     "All files (*)")
ANNOTATION_SAVE_FILTER = ("Praat TextGrid (*.TextGrid);;ELAN (*.eaf);;Audacity labels (*.txt);;"
                          "CSV (*.csv);;Sonic Visualiser CSV (*.sv.csv)")
MEDIA_EXTENSIONS = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS
PROJECT_EXTENSION = ".alignproj"
#: extensions that hold only alignments (never annotations) here
_ALIGNMENT_ONLY = (".json", ".svl")


def qt_open(parent, title: str, filter: str, name: str = "") -> tuple[str, str]:
    return QFileDialog.getOpenFileName(parent, title, name, filter)


def qt_save(parent, title: str, filter: str, name: str = "") -> tuple[str, str]:
    return QFileDialog.getSaveFileName(parent, title, name, filter)


def file_menu(window):
    """The window's File menu."""
    for act in window.menuBar().actions():
        if act.menu() is not None and act.text().replace("&", "") == "File":
            return act.menu()
    return window.menuBar().addMenu("&File")


def _suffix(path: str) -> str:
    name = os.path.basename(path).lower()
    return ".sv.csv" if name.endswith(".sv.csv") else os.path.splitext(name)[1]


def sniff(path, *, progress=None, cancel=None):
    """Worker: read ``path`` as an alignment, else as annotations.

    Returns ``("alignment", (Alignment, Recipe or None))`` (:func:`read_result`) or
    ``("annotation", (Annotation, format))``; raises ValueError naming the file with what
    each attempt found."""
    path = os.fspath(path)
    problems = []
    try:
        return "alignment", read_result(path)
    except ValueError as err:
        problems.append(str(err))
    if _suffix(path) in _ALIGNMENT_ONLY:
        raise ValueError(problems[0])
    try:
        fmt = format_from_path(path, "annotation")
        return "annotation", (read_annotation(path, fmt), fmt)
    except ValueError as err:
        problems.append(str(err))
    shown = display_path(path)
    reasons = "; ".join(p[len(shown) + 2:] if p.startswith(shown + ": ") else p
                        for p in problems)
    raise ValueError(f"{shown}: neither an alignment nor annotations ({reasons})")


def read_result(path, *, progress=None, cancel=None):
    """Worker: read an alignment file and the settings that made it (a JSON file's
    recipe, :func:`core.formats.read_recipe`; None for other files and older ones)."""
    return read_alignment(path), read_recipe(path)


def write_result(alignment, path, fmt, recipe=None, *, progress=None, cancel=None) -> str:
    """Worker: write a result of the window to ``path`` in ``fmt``, with the settings
    that made it (``recipe``: JSON keeps them); a result with jumps (a carrier,
    :mod:`core.structure.carrier`) as its pieces, which only JSON and CSV hold (another
    format refuses it with a message naming the format), never as the carrier's
    monotone path."""
    pieces = piecewise_of(alignment)
    write_alignment(alignment if pieces is None else pieces, path, fmt,
                    recipe=settings_to_write(recipe))
    return path


def export_target(path: str, chosen: str) -> tuple[str, str | None]:
    """The file and format an export dialog's answer means: ``path`` as typed and
    ``chosen``, the name filter selected.

    A name without an extension takes the filter's. A name whose extension names a
    format the filter's cannot be written into (``out.json`` with the dialog's first
    filter, CSV, still selected) is written in the extension's format: Qt's dialog
    rewrites the typed extension when the user picks a filter, so an extension that
    disagrees with the filter was typed after it, and is what the user wants. Returns
    ``(path, format or None)``, None: from the extension."""
    fmt = next((f for f, text in ALIGNMENT_FILTERS.items() if text == chosen), None)
    if fmt is None:
        return path, None
    if not os.path.splitext(os.path.basename(path))[1]:
        return path + _SUFFIX[fmt], fmt
    try:
        output_format(path, fmt, "alignment")
    except ValueError:
        try:
            return path, output_format(path, None, "alignment")
        except ValueError:
            pass  # an extension of no format: the message names the filter's
    return path, fmt


def image_of(recipe, alignment):
    """What the cost matrix shows for a result read from a file with ``recipe`` (its
    features and local distance, :func:`core.registry.image_inputs`), or None (no
    recipe, or one of a method this version does not know)."""
    from core import registry

    if recipe is None or recipe.method not in registry.METHODS:
        return None
    return registry.image_inputs(recipe, alignment)


def settings_to_write(recipe):
    """``recipe`` when it says how a result was made; None for the stand-in a result
    gets without one (only its method name: :meth:`inspector.session.Session.
    add_alignment`), which would read back as that method's defaults."""
    return recipe if recipe is not None and recipe.params else None


class FilesController(QObject):
    """Export and import of alignments, annotations, drops (see the module docstring).

    Signals
    -------
    exported(path)       an alignment or annotation file was written
    imported(id)         an alignment file became result ``id``
    """

    exported = Signal(str)
    imported = Signal(int)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.ask_open = qt_open
        self.ask_save = qt_save
        self.annotations = Annotations(window)
        self._waiting: tuple[set, list, str] | None = None  # drops after media opened
        self._build_menu()
        for view in window.stream_views.values():
            # the pane's drops come here instead of straight to MainWindow.open_file
            view.file_dropped.disconnect(window.open_file)
            view.file_dropped.connect(self._on_pane_drop)
            view.setAcceptDrops(True)
        self.session.recording_opened.connect(self._on_recording_opened)
        self.session.error_reported.connect(lambda *_: setattr(self, "_waiting", None))

    # ------------------------------------------------------------------ menu
    def _build_menu(self) -> None:
        w = self.window
        menu = file_menu(w)
        before = next((a for a in reversed(menu.actions()) if a.isSeparator()), None)
        acts = []

        def action(text, fn, key=None):
            act = QAction(text, w)
            if key:
                act.setShortcut(QKeySequence(key))
            act.triggered.connect(lambda _=False: fn())
            acts.append(act)
            return act

        self.import_action = action("Import alignment…", self.ask_import, "Ctrl+I")
        self.export_action = action("Export alignment…", self.ask_export, "Ctrl+E")
        self.export_of_menu = menu.__class__("Export alignment of", w)
        self.export_of_menu.aboutToShow.connect(self._fill_export_of)
        self.annotation_actions = {
            s: action(f"Open annotations on {s.upper()}…",
                      lambda s=s: self.ask_open_annotations(s)) for s in ("a", "b")}
        self.transfer_actions = {
            s: action(f"Export annotations transferred to {('b' if s == 'a' else 'a').upper()}…",
                      lambda s=s: self.ask_export_transferred(s)) for s in ("a", "b")}
        sep = QAction(w)
        sep.setSeparator(True)
        menu.insertAction(before, sep)
        for act in acts[:2]:
            menu.insertAction(before, act)
        menu.insertMenu(before, self.export_of_menu)
        for act in acts[2:]:
            menu.insertAction(before, act)
        w.addActions(acts)  # shortcuts work while the menu is closed
        self.menu = menu
        self.menu_anchor = before

    def _fill_export_of(self) -> None:
        self.export_of_menu.clear()
        for rid in self.session.alignment_ids():
            act = self.export_of_menu.addAction(f"#{rid} {self.session.label(rid)}")
            act.triggered.connect(lambda _=False, r=rid: self.ask_export(r))
        self.export_of_menu.setEnabled(bool(self.session.alignment_ids()))

    def _started(self, what: str) -> None:
        """A new action of the user's: a banner left by an earlier one (a refused export)
        no longer applies (the window's rule, :attr:`Workspace.action_started`)."""
        workspace = getattr(self.window, "workspace", None)
        if workspace is not None:
            workspace.action_started.emit(what)

    # ------------------------------------------------------------------ export
    def ask_export(self, rid: int | None = None) -> None:
        rid = self.session.active_id if rid is None else rid
        al = self.session.alignment(rid)
        if al is None:
            self.window.show_error("no alignment to export: open A and B and align them, "
                                   "or import an alignment")
            return
        filters = ";;".join(ALIGNMENT_FILTERS.values())
        path, chosen = self.ask_save(self.window, "Export alignment", filters,
                                     "alignment.csv")
        if not path:
            return
        self.export_alignment(rid, *export_target(path, chosen))

    def export_alignment(self, rid: int, path: str, fmt: str | None = None):
        """Write result ``rid`` to ``path`` (format ``fmt``, else from the extension) on
        a worker; ``exported(path)`` when done, a message in the window on failure."""
        self._started("export")
        al = self.session.alignment(rid)
        inputs = [i.path for s in ("a", "b")
                  if (i := self.session.recording_info(s)) is not None]
        try:
            check_output(path, inputs=inputs)
            fmt = output_format(path, fmt, "alignment")
        except ValueError as err:
            self.window.show_error(str(err))
            return None
        name = display_path(os.path.basename(path))

        def done(written) -> None:
            self.window.statusBar().showMessage(f"exported #{rid} to {name} ({fmt})", 5000)
            self.exported.emit(written)

        return self.window.jobs.submit(
            Request(f"export_{path}", write_result, (al, path, fmt, self.session.recipe(rid)),
                    label=f"writing {name}"),
            on_result=done, on_failure=lambda f: self.window.show_error(f.text()))

    # ------------------------------------------------------------------ import
    def ask_import(self) -> None:
        path, _ = self.ask_open(self.window, "Import alignment", IMPORT_FILTER, "")
        if path:
            self.import_alignment(path)

    def import_alignment(self, path: str):
        """Read an alignment file on a worker and add it as a result (``imported``)."""
        path = os.fspath(path)
        self._started("import")
        if not self._both_open(path):
            return None

        def done(result) -> None:
            self._add_imported(path, *result)

        return self.window.jobs.submit(
            Request("import_alignment", read_result, (path,), label="reading an alignment"),
            on_result=done, on_failure=lambda f: self.window.show_error(f.text()))

    def _both_open(self, path) -> bool:
        if self.session.has_both():
            return True
        self.window.show_error(f"{display_path(path)}: open recordings A and B before "
                               f"importing an alignment of them")
        return False

    def _add_imported(self, path: str, al, recipe=None) -> int:
        a, b = self.session.recording_info("a"), self.session.recording_info("b")
        if a is None or b is None:
            self.window.show_error(f"{display_path(path)}: open recordings A and B before "
                                   f"importing an alignment of them")
            return -1
        try:
            fit = check_alignment(path, al, a, b)  # (a file with pieces: their carrier)
        except ValueError as err:
            self.window.show_error(str(err))
            return -1
        name = os.path.basename(path)
        first = not self.session.alignment_ids()
        rid = self.session.add_alignment(fit.alignment, label=f"{name} (imported)",
                                         recipe=recipe, image=image_of(recipe, fit.alignment))
        if recipe is not None:  # the settings the file says made it
            self.window.method_panel.show_recipe(recipe)
            self.window.projects.compute_images()  # its cost image, on its features
        if first:  # no cost image comes with a file's result: show the whole path
            self.window.matrix.set_view_seconds(0.0, a.duration_s, 0.0, b.duration_s)
        message = "; ".join(fit.notes) or f"imported {display_path(name)} as #{rid}"
        self.window.statusBar().showMessage(message, 10_000)
        self.imported.emit(rid)
        return rid

    # ------------------------------------------------------------------ annotations
    def ask_open_annotations(self, slot: str) -> None:
        path, _ = self.ask_open(self.window, f"Open annotations of {slot.upper()}",
                                ANNOTATION_FILTER, "")
        if path:
            self._started("open")
            self.annotations.open(slot, path)

    def ask_export_transferred(self, slot: str) -> None:
        opened = self.annotations.opened[slot]
        target = "B" if slot == "a" else "A"
        if opened is None or self.session.active_alignment() is None:
            self.window.show_error(f"no annotations of {slot.upper()} transferred to "
                                   f"{target}: open annotations on {slot.upper()} and have "
                                   f"an alignment first")
            return
        # beside the file read, its extension as spelt there (Praat's ".TextGrid"; the
        # lower-cased one _suffix compares with is only for comparing)
        source = Path(opened.path)
        n_ext = len(_suffix(source.name))
        stem, ext = source.name[: len(source.name) - n_ext], source.name[len(source.name) - n_ext:]
        default = str(source.with_name(stem + f".on-{target}" + (ext or ".TextGrid")))
        path, _ = self.ask_save(self.window, f"Export annotations transferred to {target}",
                                ANNOTATION_SAVE_FILTER, default)
        if path:
            self.export_transferred(slot, path)

    def export_transferred(self, slot: str, path: str) -> bool:
        self._started("export")
        try:
            warnings = self.annotations.export_transferred(slot, path)
        except (ValueError, OSError) as err:
            self.window.show_error(str(err))
            return False
        name = display_path(os.path.basename(path))
        extra = f" ({len(warnings)} warning(s): {warnings[0]})" if warnings else ""
        self.window.statusBar().showMessage(f"wrote {name}{extra}", 10_000)
        self.exported.emit(path)
        return True

    # ------------------------------------------------------------------ drops
    def _on_pane_drop(self, slot: str, path: str) -> None:
        self.drop_files([path], slot)

    def drop_files(self, paths, slot: str | None = None) -> None:
        """Open dropped files: media as recordings, a project through the window,
        alignments and annotations once the recordings are open. ``slot``: the pane
        they were dropped on (None: the window)."""
        media = [p for p in paths if _suffix(p) in MEDIA_EXTENSIONS]
        projects = [p for p in paths if _suffix(p) == PROJECT_EXTENSION]
        others = [p for p in paths if p not in media and p not in projects]
        for path in projects:
            opener = getattr(self.window, "open_project_file", None)
            if opener is None:
                self.window.show_error(f"{display_path(path)}: this window cannot open "
                                       f"projects")
            else:
                opener(path)
        if slot is not None:
            slots = [slot]
        else:
            slots = [s for s in ("a", "b") if self.session.stream(s) is None] or ["a", "b"]
        opening = set()
        for s, path in zip(slots, media, strict=False):
            if self.window.open_file(s, path) is None:  # the user kept the results
                break
            opening.add(s)
        for path in media[len(slots):]:
            self.window.show_error(f"{display_path(path)}: only two recordings can be open "
                                   f"(A and B); not opened")
        if not others:
            return
        target = slot or "a"
        if opening:
            self._waiting = (opening, others, target)
        else:
            for path in others:
                self.open_any(path, target)

    def _on_recording_opened(self, slot: str) -> None:
        if self._waiting is None:
            return
        slots, paths, target = self._waiting
        slots.discard(slot)
        if not slots:
            self._waiting = None
            for path in paths:
                self.open_any(path, target)

    def open_any(self, path: str, slot: str = "a"):
        """Read ``path`` as an alignment (imported) or annotations (shown on ``slot``)."""
        path = os.fspath(path)
        self._started("open")

        def done(result) -> None:
            kind, value = result
            if kind == "alignment":
                if self._both_open(path):
                    self._add_imported(path, *value)
            else:
                self.annotations.accept(slot, path, *value)

        return self.window.jobs.submit(
            Request(f"drop_{path}", sniff, (path,), label="reading a dropped file"),
            on_result=done, on_failure=lambda f: self.window.show_error(f.text()))

