"""The window's structure features: results with jumps, units, the unit matrix.

- **Order notice**: when the active result carries an order check
  (``diagnostics["order_check"]``, :mod:`core.structure.order`: a monotone result whose
  order seems to differ), its message shows in the "Structure" box above the Run button,
  with a link that runs the structure alignment (``auto``).
- **Run**: the method panel's "Structure" box and the Structure menu run the default
  alignment with ``structure="auto"`` or ``"pieces"`` on a worker (in a child process
  for longer recordings, :mod:`inspector.tasks.structure`) (the method channel:
  the panel's progress bar and Cancel button serve it); the result is stored as a carrier
  of its pieces (:mod:`core.structure.carrier`), as is a file with pieces that is imported.
- **Matrix**: the active result's pieces, each its own curve, jumps marked at both ends
  (a circle where B leaves a piece, a triangle where the next one starts) and never
  joined by a line; for the cursor's A time, every other B occurrence is a dashed line
  (on the matrix and on stream B). Structure ▸ Next jump (J) moves the cursor from one
  jump to the next.
- **Units**: coloured blocks under each stream (:class:`.lanes.UnitLane`), computed on a
  worker ("Find units", or with a structure run); edits (move, split, merge) recompute
  kinds and assignment on a worker; the project keeps their boundaries (saved with it,
  restored when its recordings open, swapped with A and B); the unit-by-unit matrix
  (:class:`.unit_matrix.UnitMatrixView`) sits beside the frame matrix.
GUI thread.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from core.display import decimate_path
from core.registry import Recipe
from core.structure.carrier import piecewise_of

from ..jobs import Request
from ..tasks import structure as tasks
from .lanes import UnitLane
from .unit_matrix import UnitMatrixView

__all__ = ["StructureController", "PIECE_COLOURS"]

PIECE_COLOURS = ("#ff4040", "#ff9040", "#ffe040", "#60ff60", "#40e0ff", "#c080ff")
#: The background of the notice that the active result's order seems to differ (the
#: triage's amber of a warning)
ORDER_NOTICE_COLOUR = "#ffe0a0"


class StructureController(QObject):
    """Signals: ``units_changed()`` (new units, kinds or assignment), ``finished(id)``
    (a structure run's result id, -1 on failure or cancel), ``notice(text)`` (what a
    swap changed in the active result's pieces)."""

    units_changed = Signal()
    finished = Signal(int)
    notice = Signal(str)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.jobs = window.jobs
        self.units: tasks.Units | None = None
        self.run_job = None
        self.units_job = None
        self._build_panel()
        self._build_menu()
        # units under each stream
        self.lanes = {}
        for slot, view in window.stream_views.items():
            lane = UnitLane(self, view, slot, view)
            view.layout().addWidget(lane)
            lane.hide()
            self.lanes[slot] = lane
        # the unit matrix beside the frame matrix
        self.unit_matrix = UnitMatrixView(self)
        window.lower.addWidget(self.unit_matrix)
        window.lower.setStretchFactor(2, 1)
        self.unit_matrix.hide()
        # pieces on the frame matrix, echoes of the cursor
        matrix = window.matrix
        self.piece_curves: list[pg.PlotDataItem] = []
        self.jump_marks = pg.ScatterPlotItem(size=10, pen=pg.mkPen("#ffffff", width=1.5),
                                             brush=None)
        self.jump_marks.setZValue(12)
        matrix.plot.addItem(self.jump_marks, ignoreBounds=True)
        self.matrix_echoes: list[pg.InfiniteLine] = []
        self.stream_echoes: list[pg.InfiniteLine] = []
        matrix.path_hooks.append(self.draw_pieces)
        matrix.plot.getViewBox().sigRangeChanged.connect(lambda *_: self._clip_pieces())
        s = self.session
        s.cursor_moved.connect(self._draw_echoes)
        s.active_alignment_changed.connect(lambda *_: self._on_active_changed())
        s.alignment_edited.connect(lambda aid: self.show_order_notice()
                                   if aid == self.session.active_id else None)
        s.recording_opened.connect(lambda *_: self._on_recordings_changed())
        s.recordings_swapped.connect(self._on_swapped)

    # ------------------------------------------------------------------ building
    def _build_panel(self) -> None:
        panel = self.window.method_panel
        box = QGroupBox("Structure")
        box.setToolTip("the default alignment, allowed to jump: for recordings whose order "
                       "differs (a repeat taken or skipped, a section moved or dropped)")
        self.structure_combo = QComboBox()
        self.structure_combo.addItem("auto: jumps only if the order differs", "auto")
        self.structure_combo.addItem("pieces: always a path with jumps", "pieces")
        self.run_button = QPushButton("Run with structure")
        self.units_button = QPushButton("Find units")
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.units_button)
        # the active monotone result's order check (core.structure.order), above the
        # action it offers; hidden while the active result has none
        self.order_notice = QLabel()
        self.order_notice.setWordWrap(True)
        self.order_notice.setTextFormat(Qt.TextFormat.RichText)
        self.order_notice.setStyleSheet(f"background: {ORDER_NOTICE_COLOUR}; color: black; "
                                        f"padding: 3px;")
        self.order_notice.linkActivated.connect(lambda _link: self.run("auto"))
        self.order_notice.hide()
        layout = QVBoxLayout(box)
        layout.addWidget(self.order_notice)
        layout.addWidget(self.structure_combo)
        layout.addLayout(row)
        panel.layout().insertWidget(2, box)
        self.box = box
        self.run_button.clicked.connect(
            lambda: self.run(self.structure_combo.currentData()))
        self.units_button.clicked.connect(self.find_units)

    def _build_menu(self) -> None:
        menu = self.window.menuBar().addMenu("&Structure")
        self.menu = menu
        self.actions = {}
        for key, text in (("auto", "Align with structure (auto)"),
                          ("pieces", "Align as pieces (with jumps)")):
            act = QAction(text, self.window)
            act.triggered.connect(lambda _=False, k=key: self.run(k))
            menu.addAction(act)
            self.actions[key] = act
        act = QAction("Find units", self.window)
        act.triggered.connect(self.find_units)
        menu.addAction(act)
        self.actions["units"] = act
        act = QAction("Next jump", self.window)
        act.setShortcut("J")
        act.setToolTip("move the cursor to the next jump of the active result (after the "
                       "cursor's time of B, round to the first)")
        act.triggered.connect(self.next_jump)
        menu.addAction(act)
        self.window.addAction(act)  # (the shortcut wherever the focus is in the window)
        self.actions["next_jump"] = act
        act = QAction("Cancel", self.window)
        act.triggered.connect(self.cancel)
        menu.addAction(act)
        self.actions["cancel"] = act

    # ------------------------------------------------------------------ running
    def run(self, structure: str = "auto"):
        """The default alignment with ``structure`` on a worker; returns its Job."""
        ws = self.window.workspace
        if not self.session.has_both():
            self.session.error_reported.emit("open recordings A and B before aligning "
                                             "with structure")
            self.finished.emit(-1)
            return None
        ws.action_started.emit("structure")
        ws.message_posted.emit(f"aligning with structure ({structure})…")
        panel = self.window.method_panel
        panel.progress.setValue(0)
        panel.cancel_button.setEnabled(True)
        job = self.jobs.submit(
            Request("method", tasks.structure_job,
                    (self.session.recording("a"), self.session.recording("b"), structure),
                    label=f"structure {structure}"),
            on_result=lambda out: self._on_run_done(structure, out),
            on_failure=self._on_run_failed,
            on_cancel=lambda: self._on_run_cancelled(job),
            on_progress=ws.method_progressed.emit)
        self.run_job = job
        return job

    def cancel(self) -> bool:
        return self.jobs.cancel("method")

    def _image_of_active(self):
        """The cost image of a result at hand (the active one first), to show under the
        new result: ``(matrix_inputs, image)`` or ``(None, None)``."""
        ids = [self.session.active_id, *reversed(self.session.alignment_ids())]
        for aid in ids:
            if aid == -1:
                continue
            inputs = self.session.matrix_inputs(aid)
            res = self.session.project.result(aid)
            if inputs is not None and res is not None and res.image is not None:
                return inputs, res.image
        return None, None

    def _on_run_done(self, structure: str, out) -> None:
        al, units = out
        pw = piecewise_of(al)
        report = al.diagnostics.get("structure") or {}
        if pw is not None:
            n = len(pw.pieces)
            label = f"structure {structure}: {n} piece{'s' if n != 1 else ''}"
        else:
            label = f"structure {structure}: monotone"
        inputs, image = self._image_of_active()
        aid = self.session.add_alignment(al, label=label, recipe=Recipe(
            "structure", {"structure": structure}), matrix_inputs=inputs, image=image)
        self.set_units(units)
        reason = report.get("reason", "")
        self.window.workspace.message_posted.emit(
            f"{label}" + (f" ({reason})" if reason else ""))
        self.window.workspace.method_finished.emit(aid)
        self.finished.emit(aid)

    def _on_run_failed(self, failure) -> None:
        self.session.error_reported.emit(failure.text())
        self.window.workspace.method_finished.emit(-1)
        self.finished.emit(-1)

    def _on_run_cancelled(self, job) -> None:
        if job is self.run_job:
            self.window.workspace.message_posted.emit("cancelled")
            self.window.workspace.method_finished.emit(-1)
            self.finished.emit(-1)

    # ------------------------------------------------------------------ units
    def find_units(self):
        """Units of both recordings on a worker (channel ``structure_units``)."""
        if not self.session.has_both():
            self.session.error_reported.emit("open recordings A and B before finding units")
            return None
        self.units_job = self.jobs.submit(
            Request("structure_units", tasks.units_job,
                    (self.session.recording("a"), self.session.recording("b")),
                    label="units"),
            on_result=self.set_units,
            on_failure=lambda f: self.session.error_reported.emit(f.text()))
        return self.units_job

    def edit_units(self, slot: str, units: list, description: str = "edit"):
        """Replace ``slot``'s units; kinds and assignment are recomputed on a worker."""
        if self.units is None:
            return None
        ua = list(units) if slot == "a" else list(self.units.units_a)
        ub = list(units) if slot == "b" else list(self.units.units_b)
        self._pending = (ua, ub)
        for lane in self.lanes.values():
            lane.update()
        self.window.statusBar().showMessage(f"units: {description}", 5000)
        self.units_job = self.jobs.submit(
            Request("structure_units", tasks.assign_job, (self.units, ua, ub),
                    label="unit assignment"),
            on_result=self.set_units,
            on_failure=lambda f: self.session.error_reported.emit(f.text()))
        return self.units_job

    def set_units(self, units) -> None:
        """Show ``units`` (or none) and keep their boundaries in the project (saved with
        it, restored when it is opened)."""
        self._show_units(units)
        if units is not None:
            self.session.project.set_units([u.start for u in units.units_a],
                                           [u.start for u in units.units_b], units.rate_hz)

    def _show_units(self, units) -> None:
        self.units = units
        self._pending = None
        for lane in self.lanes.values():
            lane.setVisible(units is not None)
            lane.update()
        first = units is not None and self.unit_matrix.isHidden()
        self.unit_matrix.setVisible(units is not None)
        if first:  # made room for once; the user's splitter sizes are kept after that
            total = sum(self.window.lower.sizes())
            a, b = int(total * 0.46), int(total * 0.30)
            self.window.lower.setSizes([a, b, total - a - b])
        self.unit_matrix.update()
        self.units_changed.emit()

    def clear_units(self) -> None:
        """No units shown, none kept in the project."""
        self.jobs.cancel("structure_units")
        self._show_units(None)
        self.session.project.set_units(None, None, 1.0)

    def _on_recordings_changed(self) -> None:
        """A recording opened (a project's, or another file): the units the project
        keeps for these recordings come back (kinds and assignment recomputed on a
        worker from their boundaries); units of other recordings are dropped."""
        self.jobs.cancel("structure_units")
        self._show_units(None)
        project = self.session.project
        saved = project.units
        if saved is None:
            return
        keys = {s: None if project.recording(s) is None else project.recording(s).key
                for s in ("a", "b")}
        if saved["inputs"] != keys:
            project.set_units(None, None, 1.0)
            return
        if not self.session.has_both():
            return
        rate = saved["rate_hz"]
        starts = {s: [f / rate for f in saved[s]] for s in ("a", "b")}
        self.units_job = self.jobs.submit(
            Request("structure_units", tasks.units_job,
                    (self.session.recording("a"), self.session.recording("b"), starts),
                    label="units"),
            on_result=self.set_units,
            on_failure=lambda f: self.session.error_reported.emit(f.text()))

    def _on_swapped(self) -> None:
        self._on_recordings_changed()  # the project swapped its units too
        pw = self.active_pieces()
        note = None if pw is None else pw.diagnostics.get("swap_note")
        if note:
            self.window.statusBar().showMessage(f"swap: {note}", 15000)
            self.notice.emit(note)

    _pending = None

    def lane_units(self, slot: str) -> list:
        if self._pending is not None:
            return list(self._pending[0 if slot == "a" else 1])
        if self.units is None:
            return []
        return list(self.units.units_a if slot == "a" else self.units.units_b)

    def unmatched(self, slot: str) -> set:
        if self.units is None or self._pending is not None:
            return set()
        return set(self.units.unmatched_a if slot == "a" else self.units.unmatched_b)

    # ------------------------------------------------------------------ pieces
    def next_jump(self) -> dict | None:
        """Put the cursor where the active result jumps next (after the cursor's time of
        B, round to the first), on the time of A it jumps to, and centre the matrix on
        it; returns the jump. The jump marks on the matrix are small and a path with
        jumps is long: without this a user searched for them by eye."""
        pw = self.active_pieces()
        if pw is None or not pw.jumps:
            self.window.statusBar().showMessage("the active result has no jumps (Structure "
                                                "▸ Align with structure finds them)", 5000)
            return None
        jumps = sorted(pw.jumps, key=lambda j: j["b_to_s"])
        tb = self.session.cursor[1]
        k = next((k for k, j in enumerate(jumps) if j["b_to_s"] > tb + 1e-6), 0)
        jump = jumps[k]
        self.session.move_cursor_to(jump["a_to_s"], jump["b_to_s"])
        self.window.matrix.centre_on(jump["a_to_s"], jump["b_to_s"])
        self.window.statusBar().showMessage(
            f"jump {k + 1} of {len(jumps)} ({jump['kind']}): at B {jump['b_to_s']:.2f} s, "
            f"A {jump['a_from_s']:.2f} s -> {jump['a_to_s']:.2f} s", 5000)
        return jump

    def active_pieces(self):
        return piecewise_of(self.session.active_alignment())

    def _on_active_changed(self) -> None:
        self.draw_pieces()
        self._draw_echoes(*self.session.cursor)
        self.show_order_notice()

    def show_order_notice(self) -> None:
        """The active result's order check (``diagnostics["order_check"]``), if it has
        one, above the Run button, with a link that runs the structure alignment."""
        al = self.session.active_alignment()
        check = None if al is None else al.diagnostics.get("order_check")
        if not check:
            self.order_notice.hide()
            return
        self.order_notice.setText(f"{html.escape(check['message'])} "
                                  f"<a href='run'>Run it now (auto)</a>")
        self.order_notice.setToolTip("a monotone path cannot follow a section that is "
                                     "repeated, skipped or moved: its steps there are "
                                     "marked doubtful")
        self.order_notice.show()

    def draw_pieces(self) -> None:
        """Each piece of the active result its own curve; the carrier's curve hidden."""
        matrix = self.window.matrix
        pw = self.active_pieces()
        active_curve = matrix.path_curves.get("active")
        if active_curve is not None:
            active_curve.setVisible(pw is None)
        n = 0 if pw is None else len(pw.pieces)
        while len(self.piece_curves) > n:
            matrix.plot.removeItem(self.piece_curves.pop())
        while len(self.piece_curves) < n:
            k = len(self.piece_curves)
            curve = pg.PlotDataItem(pen=pg.mkPen(PIECE_COLOURS[k % len(PIECE_COLOURS)],
                                                 width=2))
            curve.setZValue(11)
            matrix.plot.addItem(curve, ignoreBounds=True)
            self.piece_curves.append(curve)
        if pw is None:
            self.jump_marks.setData([], [])
            return
        self._piece_times = [p.times_s for p in pw.pieces]
        spots = []
        for j in pw.jumps:
            spots.append({"pos": (j["a_from_s"], j["b_from_s"]), "symbol": "o"})
            spots.append({"pos": (j["a_to_s"], j["b_to_s"]), "symbol": "t1"})
        self.jump_marks.setData(spots)
        kinds = ", ".join(f"{j['kind']} at B {j['b_to_s']:.1f} s" for j in pw.jumps)
        matrix.legend.add(PIECE_COLOURS[0], f"{n} pieces",
                          f"the active result's pieces; jumps: {kinds or 'none'} "
                          f"(○ leaves a piece, △ starts the next)")
        self._clip_pieces()

    def _clip_pieces(self) -> None:
        if not self.piece_curves:
            return
        (x0, x1), _ = self.window.matrix.plot.getViewBox().viewRange()
        for curve, t in zip(self.piece_curves, self._piece_times, strict=False):
            inside = np.flatnonzero((t[:, 0] >= x0) & (t[:, 0] <= x1))
            if inside.size == 0:
                curve.setData([], [])
                continue
            part = t[max(0, inside[0] - 1):inside[-1] + 2]
            part = decimate_path(part, 4000)
            curve.setData(part[:, 0], part[:, 1])

    def echo_times(self) -> list[float]:
        """The cursor's A time's other B occurrences (where the active result has jumps)."""
        pw = self.active_pieces()
        if pw is None:
            return []
        ta, tb = self.session.cursor
        return [b for b in pw.map_a_to_b(ta) if abs(b - tb) > 1e-6]

    def _draw_echoes(self, *_):
        echoes = self.echo_times()
        matrix = self.window.matrix
        view_b = self.window.stream_views["b"]
        pen = pg.mkPen("#ffe060", width=1, style=Qt.PenStyle.DotLine)
        while len(self.matrix_echoes) < len(echoes):
            line = pg.InfiniteLine(angle=0, movable=False, pen=pen)
            line.setZValue(19)
            matrix.plot.addItem(line, ignoreBounds=True)
            self.matrix_echoes.append(line)
            for plot in (view_b.top, view_b.bottom):
                vline = pg.InfiniteLine(angle=90, movable=False, pen=pen)
                vline.setZValue(9)
                plot.addItem(vline, ignoreBounds=True)
                self.stream_echoes.append(vline)
        for k, line in enumerate(self.matrix_echoes):
            on = k < len(echoes)
            line.setVisible(on)
            if on:
                line.setValue(echoes[k])
        for k, line in enumerate(self.stream_echoes):
            on = k // 2 < len(echoes)
            line.setVisible(on)
            if on:
                line.setValue(echoes[k // 2])
