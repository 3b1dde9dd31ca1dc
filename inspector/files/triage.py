"""Triage of a batch's results: File → Open batch…, a table sorted by doubt, open a
pair for correction, save the correction back in the batch's format.

:class:`Triage` adds **Open batch…** (a batch folder or its ``summary.csv``, read with
:func:`core.batch.summary.read_summary`) and **Save to batch** (Ctrl+Alt+S, enabled while
a pair of the batch is open). :class:`TriageTable` lists the pairs, the most doubtful
first (:func:`doubt_order`): failed pairs (with their error), then pairs whose path has
jumps (the batch decided alone that the recordings' order differs; their ``jumps`` cell
is marked; a structure run that found none says 0, a monotone one nothing), then
monotone pairs whose order seems to differ (``order_differs``: the jumps cell says so, in
a lighter brown, the stretches in its tooltip), then pairs
with a warning (the engine's, e.g. an end of one recording left out that is not silence;
their ``warning`` cell is amber with an icon, the seconds left out and the warning in its
tooltip), then the lowest mean confidence; every column
sorts on a click of its header. Each row has a small thumbnail of its path
(:func:`~inspector.files.thumbs.path_thumbnail`), made on a worker for the rows scrolled
into view only. A summary written before the ``jumps`` or ``warning`` column existed
opens with that column empty. A double-click opens the pair: both recordings and the
batch's alignment as the active result, ready for correction (an output with pieces,
JSON ``pieces`` or CSV ``piece``, stays a result with jumps, as an imported file with
pieces does); the default pipeline does not run. **Save to batch** writes the active
result back to the pair's output file, in the batch's format (a result with jumps as
its pieces), atomically (:mod:`core.paths`). GUI thread.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QGuiApplication,
    QIcon,
    QImage,
    QKeySequence,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.batch.summary import SUMMARY_NAME, SummaryRow, read_summary
from core.formats import format_from_path, read_alignment
from core.paths import check_output, display_path

from ..jobs import Request
from ..tasks import media as media_tasks
from .checks import check_alignment
from .controller import file_menu, image_of, read_result, write_result
from .thumbs import THUMB_SIZE, path_thumbnail

__all__ = ["Triage", "TriageTable", "doubt_order", "BatchPair"]

COLUMNS = ("#", "path", "id", "status", "mean confidence", "low confidence", "jumps",
           "warning", "material", "A (s)", "B (s)", "error")
#: The background of the ``jumps`` cell of a pair whose path has jumps (to review).
JUMPS_COLOUR = "#806020"
#: The background of the ``jumps`` cell of a monotone pair whose order seems to differ
#: (``order_differs``: a lighter brown than the jumps').
ORDER_COLOUR = "#c09050"
#: The background of the ``warning`` cell of a pair the engine warned about (amber: a
#: light one, told apart from the jumps' brown).
WARNING_COLOUR = "#ffe0a0"
#: The side of the warning cell's icon, in pixels (the table's icon size is the
#: thumbnails': at that size the icon filled the cell and hid its text)
WARNING_ICON_PX = 20
BATCH_FILTER = "Batch summary (summary.csv);;CSV (*.csv);;All files (*)"


def doubt_order(rows) -> list[int]:
    """Indices of ``rows`` (SummaryRow), the most doubtful first: failed pairs, then
    pairs whose path has jumps, then monotone pairs whose order seems to differ
    (``order_differs``), then pairs with a warning (``warning``: e.g. an end of
    one recording left out that is not silence), then by mean confidence (lowest first;
    a pair without one after those with one), then by the share of low-confidence steps
    (highest first), then by id.

    Notes
    -----
    A pair with jumps comes before every monotone pair, whatever its confidence: a jump
    is a decision the batch took alone (``structure`` auto: the order differs) and a
    wrong one misplaces a whole section, while the confidence rates the steps inside
    the pieces, not the jumps between them. Such pairs are few (only where a structure
    other than monotone was asked for and found a jump), so looking at each costs
    little; among them, as among the monotone pairs, the least confident come first.
    A monotone pair whose order seems to differ follows them: its path is wrong over a
    whole section (the steps there are doubtful, but a short stretch hardly moves the
    pair's mean confidence), and structure auto would likely have jumped there.

    A pair with a warning comes next, for the same reason: leaving out a lead-in or a
    tail is a decision about a whole section that the confidence does not rate (the
    left-out part has no path steps to rate). It comes after the jumps because a
    left-out end is more often right (the other recording does lack it: all 28 lead-in
    and tail copies of ``benchmarks/accuracy/unseen.py`` warn, and only 5 of its 84
    other copies, mostly about an end that is only noise) and, when wrong, costs an end
    of the path, where a wrong jump misplaces a section inside it.
    """

    def key(k):
        row = rows[k]
        conf = row.mean_confidence
        low = row.low_confidence_fraction
        return (row.status != "failed", not row.jumps, not row.order_differs, not row.warning,
                conf is None or not math.isfinite(conf),
                conf if conf is not None else 0.0, -(low or 0.0), row.id)

    return sorted(range(len(rows)), key=key)


@dataclasses.dataclass(frozen=True)
class BatchPair:
    """The pair of a batch now open in the window: its row, output file and format."""

    folder: str
    row: SummaryRow
    output: str
    format: str


def _status_text(row: SummaryRow) -> str:
    """A status cell's text: the status, and whether a correction was saved."""
    return f"{row.status}, corrected" if row.corrected else row.status


def _status_tip(row: SummaryRow) -> str:
    return (f"a correction was saved from the window at {row.corrected} (UTC)"
            if row.corrected else "")


def _save_pair(alignment, pair: BatchPair, recipe=None, *, progress=None, cancel=None):
    """Write a corrected result to the pair's output (atomically), then mark the pair
    corrected in the batch's summary and record. Returns (the new row or None, why the
    mark could not be written or ""): the output is saved either way."""
    from core.batch import mark_corrected
    from core.errors import FormatError, OutputError

    write_result(alignment, pair.output, pair.format, recipe)
    try:
        return mark_corrected(pair.folder, pair.row.id), ""
    except (FormatError, OutputError, OSError) as err:
        return None, str(err)


def _warning_text(row: SummaryRow) -> str:
    """A warning cell's text: the seconds left out, or that there is a warning."""
    if not row.warning:
        return ""
    return f"{row.unshared_s:.1f} s left out" if row.unshared_s else "warning"


def _jumps_text(row: SummaryRow) -> str:
    """A jumps cell's text: the count of a structure run, or for a monotone pair
    whose order seems to differ, that it does."""
    if row.jumps is None:
        return "order differs" if row.order_differs else ""
    return str(row.jumps)


def _thumbnail(path, *, progress=None, cancel=None) -> np.ndarray:
    return path_thumbnail(read_alignment(path))


def _open_pair(a, b, output, *, progress=None, cancel=None):
    """Worker: open both recordings (hashed) and read the pair's alignment and the
    settings the batch ran with (None in an older batch's output)."""
    opened_a = media_tasks.open_recording(a)
    opened_b = media_tasks.open_recording(b)
    return opened_a, opened_b, *read_result(output)


class _NumberItem(QTableWidgetItem):
    """A cell that sorts by its number (missing values last)."""

    def __init__(self, value, text: str):
        super().__init__(text)
        self.value = value

    def __lt__(self, other):  # noqa: D105
        mine = math.inf if self.value is None else self.value
        theirs = math.inf if getattr(other, "value", None) is None else other.value
        return mine < theirs


class TriageTable(QWidget):
    """A batch's summary as a table, sorted by doubt (its own window).

    Signals
    -------
    pair_requested(index)   a row was double-clicked (index into :attr:`rows`)
    """

    pair_requested = Signal(int)

    def __init__(self, jobs, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.jobs = jobs
        self.folder = ""
        self.rows: list[SummaryRow] = []
        self._requested: set[int] = set()
        self.header = QLabel(self)
        self.header.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setIconSize(QSize(*THUMB_SIZE))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(THUMB_SIZE[1] + 6)
        self.table.horizontalHeader().setSectionResizeMode(
            len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(self._on_double_click)
        self.table.verticalScrollBar().valueChanged.connect(lambda *_: self.request_visible())
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.table, 1)
        self.setWindowTitle("Batch triage")
        self.resize(960, 520)

    def show_batch(self, folder: str, rows: list[SummaryRow]) -> None:
        self.folder, self.rows = folder, list(rows)
        self._requested.clear()
        n_failed = sum(r.status == "failed" for r in rows)
        n_jumps = sum(bool(r.jumps) for r in rows)
        with_jumps = f", {n_jumps} with jumps (the order differs: check them)" \
            if n_jumps else ""
        n_order = sum(bool(r.order_differs) and not r.jumps for r in rows)
        if n_order:
            with_jumps += (f", {n_order} whose order seems to differ (run them with "
                           f"structure)")
        n_warned = sum(bool(r.warning) for r in rows)
        warned = (f", {n_warned} with a warning (a part of one recording left out, or the "
                  f"like: check them)") if n_warned else ""
        self.header.setText(f"{display_path(folder)}: {len(rows)} pair(s), {n_failed} "
                            f"failed{with_jumps}{warned}; the most doubtful first. "
                            f"Double-click a "
                            f"pair to open it; File ▸ Save to batch (Ctrl+Alt+S) writes its "
                            f"correction back.")
        self.setWindowTitle(f"Batch triage — {display_path(os.path.basename(folder))}")
        table = self.table
        table.setSortingEnabled(False)
        table.setRowCount(len(rows))
        for rank, k in enumerate(doubt_order(rows)):
            self._fill_row(rank, k)
        table.setSortingEnabled(True)
        table.sortItems(0, Qt.SortOrder.AscendingOrder)
        table.resizeColumnsToContents()
        table.setColumnWidth(1, THUMB_SIZE[0] + 12)

    def _fill_row(self, r: int, k: int) -> None:
        row = self.rows[k]

        def number(value, digits):
            return _NumberItem(value, "" if value is None else f"{value:.{digits}f}")

        cells = [
            _NumberItem(r + 1, str(r + 1)),
            QTableWidgetItem(""),
            QTableWidgetItem(row.id),
            QTableWidgetItem(_status_text(row)),
            number(row.mean_confidence, 3),
            _NumberItem(row.low_confidence_fraction,
                        "" if row.low_confidence_fraction is None
                        else f"{100 * row.low_confidence_fraction:.1f} %"),
            # a monotone pair sorts as 0 jumps (its cell stays empty, as in the summary,
            # or says that its order seems to differ); a structure run that found none
            # says 0
            _NumberItem(row.jumps or (0.5 if row.order_differs else 0), _jumps_text(row)),
            # warned pairs sort after the others, by the seconds left out
            _NumberItem((bool(row.warning), row.unshared_s or 0.0), _warning_text(row)),
            QTableWidgetItem(row.material),
            number(row.duration_a_s, 1),
            number(row.duration_b_s, 1),
            QTableWidgetItem(row.error),
        ]
        for c, item in enumerate(cells):
            item.setData(Qt.ItemDataRole.UserRole, k)
            if row.status == "failed":
                item.setForeground(QColor("#ff8080"))
            self.table.setItem(r, c, item)
        cells[-1].setToolTip(row.error)
        cells[COLUMNS.index("status")].setToolTip(_status_tip(row))
        if row.status == "failed":
            cells[1].setText("failed")
        if row.jumps:
            jumps = cells[COLUMNS.index("jumps")]
            jumps.setBackground(QColor(JUMPS_COLOUR))
            jumps.setToolTip(f"the path jumps {row.jumps} time(s): the batch found that "
                             f"the order of the recordings differs; open the pair to check "
                             f"the jumps")
        elif row.order_differs:
            jumps = cells[COLUMNS.index("jumps")]
            jumps.setBackground(QColor(ORDER_COLOUR))
            jumps.setToolTip(f"the order seems to differ: {row.order_differs} (steps there "
                             f"count as doubtful); open the pair and Run with structure")
        if row.warning:
            warning = cells[COLUMNS.index("warning")]
            warning.setBackground(QColor(WARNING_COLOUR))
            # an icon made from a small pixmap is never drawn larger than it
            warning.setIcon(QIcon(self.style().standardIcon(
                QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(WARNING_ICON_PX)))
            warning.setToolTip(row.warning)

    def index_at(self, table_row: int) -> int:
        """The index into :attr:`rows` of a table row (whatever the sort)."""
        return int(self.table.item(table_row, 0).data(Qt.ItemDataRole.UserRole))

    def table_row_of(self, index: int) -> int:
        for r in range(self.table.rowCount()):
            if self.index_at(r) == index:
                return r
        return -1

    # ------------------------------------------------------------------ thumbnails
    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.request_visible()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.request_visible()

    def request_visible(self, *, again: int | None = None) -> None:
        """Ask a worker for the thumbnails of the rows in view not yet asked for
        (``again``: that row's index too, its file changed)."""
        if again is not None:
            self._requested.discard(again)
        if not self.rows or not self.isVisible():
            return
        viewport = self.table.viewport()
        first = self.table.rowAt(0)
        last = self.table.rowAt(viewport.height() - 1)
        first = 0 if first < 0 else first
        last = self.table.rowCount() - 1 if last < 0 else last
        for r in range(first, last + 1):
            k = self.index_at(r)
            row = self.rows[k]
            if k in self._requested or row.status == "failed" or not row.output:
                continue
            self._requested.add(k)
            self.jobs.submit(
                Request(f"thumbnail_{k}", _thumbnail, (row.output_in(self.folder),),
                        label="path thumbnails"),
                on_result=lambda img, k=k, rows=self.rows: self._show_thumbnail(k, img, rows),
                on_failure=lambda f, k=k, rows=self.rows: self._thumbnail_failed(k, f, rows))

    def _show_thumbnail(self, k: int, img: np.ndarray, rows) -> None:
        r = self.table_row_of(k)
        if r < 0 or rows is not self.rows:  # another batch is shown now
            return
        img = np.ascontiguousarray(img)
        h, w = img.shape[:2]
        qimg = QImage(img.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.table.item(r, 1).setData(Qt.ItemDataRole.DecorationRole, QPixmap.fromImage(qimg))

    def _thumbnail_failed(self, k: int, failure, rows) -> None:
        r = self.table_row_of(k)
        if r >= 0 and rows is self.rows:
            item = self.table.item(r, 1)
            item.setText("unreadable")
            item.setToolTip(failure.text())

    def has_thumbnail(self, index: int) -> bool:
        r = self.table_row_of(index)
        return r >= 0 and self.table.item(r, 1).data(Qt.ItemDataRole.DecorationRole) is not None

    def _on_double_click(self, table_row: int, _column: int) -> None:
        self.pair_requested.emit(self.index_at(table_row))


class Triage(QObject):
    """File → Open batch… and Save to batch (see the module docstring).

    Signals
    -------
    pair_opened(id)    a batch pair is open; ``id`` is its result
    saved(path)        a correction was written back to the batch
    """

    pair_opened = Signal(int)
    saved = Signal(str)

    def __init__(self, window, files):
        super().__init__(window)
        self.window = window
        self.files = files
        self.session = window.session
        self.table: TriageTable | None = None
        self.current: BatchPair | None = None
        self.result_id = -1
        menu = file_menu(window)
        self.open_action = QAction("Open batch…", window)
        self.open_action.triggered.connect(lambda _=False: self.ask_open_batch())
        self.save_action = QAction("Save to batch", window)
        self.save_action.setShortcut(QKeySequence("Ctrl+Alt+S"))  # Ctrl+S saves the project
        self.save_action.triggered.connect(lambda _=False: self.save_to_batch())
        self.save_action.setEnabled(False)
        before = files.menu_anchor
        menu.insertAction(before, self.open_action)
        menu.insertAction(before, self.save_action)
        window.addActions([self.open_action, self.save_action])
        self.session.recording_opened.connect(self._check_still_open)
        self.session.recordings_swapped.connect(self._forget)

    # ------------------------------------------------------------------ opening
    def ask_open_batch(self) -> None:
        path, _ = self.files.ask_open(self.window, "Open a batch (its summary.csv)",
                                      BATCH_FILTER, "")
        if path:
            self.open_batch(path)

    def open_batch(self, path) -> TriageTable | None:
        """Show the summary of the batch in ``path`` (its folder or summary.csv)."""
        path = os.fspath(path)
        try:
            rows = read_summary(path)
        except ValueError as err:
            self.window.show_error(str(err))
            return None
        folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path) and not os.path.isfile(os.path.join(path, SUMMARY_NAME)):
            self.window.show_error(f"{display_path(path)}: no {SUMMARY_NAME} in this folder")
            return None
        if self.table is None:
            self.table = TriageTable(self.window.jobs, self.window)
            self.table.pair_requested.connect(self.open_pair)
            self.table.addAction(self.save_action)  # Ctrl+S from the table's window too
        self.table.show_batch(os.path.abspath(folder), rows)
        self.table.show()
        if QGuiApplication.platformName() != "offscreen":  # (it has no stacking order)
            self.table.raise_()
        self.table.request_visible()
        return self.table

    def open_pair(self, index: int):
        """Open pair ``index`` of the table: both recordings and its alignment."""
        table = self.table
        row = table.rows[index]
        if row.status == "failed" or not row.output:
            why = row.error or "no output"
            self.window.show_error(f"pair {row.id} failed in the batch ({why}); nothing "
                                   f"to open")
            return None
        if not row.a or not row.b:
            self.window.show_error(f"pair {row.id}: the summary does not name its "
                                   f"recordings (a and b columns)")
            return None
        output = row.output_in(table.folder)
        try:
            fmt = format_from_path(output)
        except ValueError as err:
            self.window.show_error(str(err))
            return None
        pair = BatchPair(table.folder, row, output, fmt)
        self.window.statusBar().showMessage(f"opening pair {row.id}…", 5000)
        return self.window.jobs.submit(
            Request("batch_pair", _open_pair, (row.a, row.b, output),
                    label=f"opening pair {row.id}"),
            on_result=lambda result: self._on_pair_opened(pair, *result),
            on_failure=lambda f: self.window.show_error(f"pair {row.id}: {f.text()}"))

    def _on_pair_opened(self, pair: BatchPair, opened_a, opened_b, alignment,
                        recipe=None) -> None:
        workspace = self.window.workspace
        auto = workspace.auto_align
        workspace.auto_align = False  # the batch's alignment is the result to correct
        self.current = None
        try:
            workspace._on_opened("a", opened_a)
            workspace._on_opened("b", opened_b)
        finally:
            workspace.auto_align = auto
        a, b = self.session.recording_info("a"), self.session.recording_info("b")
        try:
            fit = check_alignment(pair.output, alignment, a, b)
        except ValueError as err:
            self.window.show_error(str(err))
            return
        rid = self.session.add_alignment(fit.alignment, label=f"batch {pair.row.id}",
                                         recipe=recipe, image=image_of(recipe, fit.alignment))
        if recipe is not None:  # what the batch ran with, not the panel's defaults
            self.window.method_panel.show_recipe(recipe)
            self.window.projects.compute_images()  # its cost image, on its features
        # no cost image comes with a file's result: show the whole path
        self.window.matrix.set_view_seconds(0.0, a.duration_s, 0.0, b.duration_s)
        self.current, self.result_id = pair, rid
        self.save_action.setEnabled(True)
        self.window.activateWindow()  # the correction happens there
        self.window.statusBar().showMessage(
            f"pair {pair.row.id} open; correct it, then File ▸ Save to batch (Ctrl+Alt+S)", 10_000)
        self.pair_opened.emit(rid)

    def _check_still_open(self, *_):
        if self.current is None:
            return
        paths = [i.path if (i := self.session.recording_info(s)) else None for s in "ab"]
        if paths != [self.current.row.a, self.current.row.b]:
            self._forget()

    def _forget(self, *_):
        self.current, self.result_id = None, -1
        self.save_action.setEnabled(False)

    # ------------------------------------------------------------------ saving
    def save_to_batch(self):
        """Write the active result back to the open pair's output file (the batch's
        format, atomically); ``saved(path)`` when done."""
        pair = self.current
        if pair is None:
            self.window.show_error("no pair of a batch is open: File ▸ Open batch…, then "
                                   "double-click a pair")
            return None
        al = self.session.active_alignment()
        if al is None:
            self.window.show_error(f"pair {pair.row.id}: no alignment to save")
            return None
        try:
            check_output(pair.output, inputs=(pair.row.a, pair.row.b))
        except ValueError as err:
            self.window.show_error(str(err))
            return None
        name = display_path(os.path.basename(pair.output))

        def done(outcome):
            row, problem = outcome
            if problem:
                self.window.statusBar().showMessage(
                    f"saved pair {pair.row.id} to {name}; not marked corrected in the "
                    f"summary: {problem}", 10_000)
            else:
                self.window.statusBar().showMessage(f"saved pair {pair.row.id} to {name}",
                                                    5000)
            if self.table is not None and self.table.folder == pair.folder:
                index = self.table.rows.index(pair.row) if pair.row in self.table.rows else -1
                if index >= 0:
                    if row is not None:
                        self.table.rows[index] = row
                    self.table.request_visible(again=index)
                    r = self.table.table_row_of(index)
                    item = self.table.table.item(r, COLUMNS.index("status"))
                    # (not marked in the summary: corrected all the same)
                    item.setText(_status_text(row) if row is not None
                                 else f"{pair.row.status}, corrected")
                    item.setToolTip(_status_tip(row) if row is not None else "")
            if row is not None:
                self.current = dataclasses.replace(pair, row=row)
            self.saved.emit(pair.output)

        return self.window.jobs.submit(  # (a result with jumps: as its pieces)
            Request("batch_save", _save_pair, (al, pair, self.session.recipe(
                self.session.active_id)), label=f"saving {name}"),
            on_result=done,
            on_failure=lambda f: self.window.show_error(f"pair {pair.row.id}: {f.text()}"))
