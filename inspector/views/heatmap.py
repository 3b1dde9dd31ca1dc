"""A soft alignment (OT plan, soft-DTW expected alignment, attention) on the matrix's
axes, with a colour bar (linear or log scale), its two marginals with their values and
the active path (can be hidden). A hard path shows no marginals (the confidence is in
the diagnostics strip).

Observes the Session: ``active_alignment_changed``, ``recordings_swapped``,
``alignment_removed``, ``cursor_moved``. Large plans are reduced for display on a worker
(channel ``heatmap``, :func:`core.display.reduce_plan`). GUI thread.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core.display import decimate_path, reduce_plan

from ..jobs import Request
from .axes import fit_axes
from .common import (
    CURSOR_COLOUR,
    EMPTY_RANGE_S,
    PATH_COLOURS,
    cache_axes,
    turn_queue,
)

__all__ = ["HeatmapView"]

MAX_SIDE = 768


class HeatmapView(QWidget):
    """The active alignment's soft plan with a colour bar and marginals."""

    def __init__(self, session, jobs, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.jobs = jobs
        self.job = None
        self._shown_id = None

        self.title = QLabel("Soft alignment")
        self.title.setWordWrap(True)
        # room for two lines whatever the text: a label that changes height re-lays out
        # the view, and through the splitter its neighbours
        self.title.setFixedHeight(2 * self.title.fontMetrics().lineSpacing() + 4)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.log_scale = QCheckBox("log", self)
        self.log_scale.setToolTip("colour by log10 of the mass (four decades): shows the "
                                  "spread of a diffuse or sparse plan")
        self.show_path = QCheckBox("path", self)
        self.show_path.setChecked(True)
        self.show_path.setToolTip("draw the active path over the plan (it can hide a "
                                  "narrow plan)")
        bar = QHBoxLayout()
        bar.setContentsMargins(2, 0, 2, 0)
        bar.addWidget(self.title, 1)
        bar.addWidget(self.log_scale)
        bar.addWidget(self.show_path)
        self.plots = pg.GraphicsLayoutWidget(self)
        self.plots.ci.setSpacing(0)
        self.top = self.plots.addPlot(row=0, col=0)
        self.main = self.plots.addPlot(row=1, col=0)
        self.side = self.plots.addPlot(row=1, col=1)
        fit_axes(self.main)
        # from 0 while empty (as the matrix); the first alignment gives the range back to
        # the automatic one (pyqtgraph's auto range of nothing is centred on 0)
        self.main.setRange(xRange=(0.0, EMPTY_RANGE_S), yRange=(0.0, EMPTY_RANGE_S),
                           padding=0.0)
        self._empty_range = True
        layout = self.plots.ci.layout
        layout.setRowStretchFactor(0, 1)
        layout.setRowStretchFactor(1, 5)
        layout.setColumnStretchFactor(0, 5)
        layout.setColumnStretchFactor(1, 1)
        for plot in (self.top, self.main, self.side):
            plot.setMenuEnabled(False)
            plot.hideButtons()
        for plot in (self.top, self.main):
            plot.getAxis("left").setWidth(48)
        self.side.getAxis("bottom").setHeight(36)
        self.top.setXLink(self.main)
        self.side.setYLink(self.main)
        self.top.hideAxis("bottom")
        self.side.hideAxis("left")
        # the marginals with their values: how much mass each frame sends or receives
        self.top.setLabel("left", "Σ over B")
        self.side.setLabel("bottom", "Σ over A")
        for axis in (self.top.getAxis("left"), self.side.getAxis("bottom")):
            axis.setStyle(maxTickLevel=0, tickTextOffset=2)
        self.top.getAxis("left").setTickDensity(0.5)
        self.side.getAxis("bottom").setTickDensity(0.5)
        self.main.setLabel("left", "time B (s)")
        self.main.setLabel("bottom", "time A (s)")
        # coloured at screen resolution (block means), not at the image's 1024 per side
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.colour_map = pg.colormap.get("magma")
        self.image.setColorMap(self.colour_map)
        self.main.addItem(self.image)
        # the colour bar: what a colour means (mass per cell, or its log10)
        self.colour_bar = pg.ColorBarItem(colorMap=self.colour_map, interactive=False,
                                          width=10, label="mass")
        self.colour_bar.setImageItem(self.image)
        self.plots.addItem(self.colour_bar, row=1, col=2)
        # a solid thin line: dotted pens are slow to draw on long paths
        self.path = pg.PlotDataItem(pen=pg.mkPen(PATH_COLOURS[0], width=1))
        self.main.addItem(self.path)
        self.row_marginal = pg.PlotDataItem(pen=pg.mkPen("#7fb2ff"))
        self.col_marginal = pg.PlotDataItem(pen=pg.mkPen("#ffb27f"))
        self.top.addItem(self.row_marginal)
        self.side.addItem(self.col_marginal)
        # cached: moving the cursor lines repaints from pixmaps, not from the data
        for item in (self.path, self.row_marginal, self.col_marginal):
            item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.cursor_lines = []
        for plot, angle in ((self.main, 90), (self.main, 0), (self.top, 90), (self.side, 0)):
            line = pg.InfiniteLine(angle=angle, movable=False, pen=pg.mkPen(CURSOR_COLOUR))
            line.setZValue(20)
            plot.addItem(line, ignoreBounds=True)
            self.cursor_lines.append((line, angle))
        self._plan = None  # the reduced plan shown (linear mass)
        self.log_scale.toggled.connect(lambda *_: self._draw_plan())
        self.show_path.toggled.connect(self.path.setVisible)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(1)
        lay.addLayout(bar)
        lay.addWidget(self.plots, 1)

        self.plots.scene().sigMouseClicked.connect(self._on_scene_clicked)
        # redrawn on a later event-loop turn, one view per turn (TurnQueue): the window
        # repaints the matrix first, and a long path's work here is a pause of its own
        cache_axes(self.plots)
        session.active_alignment_changed.connect(
            lambda *_: turn_queue(session).queue(self, self._redraw_active))
        session.recordings_swapped.connect(lambda: self._on_active_alignment_changed(
            session.active_id, force=True))
        session.alignment_edited.connect(self._on_alignment_edited)
        session.cursor_moved.connect(self._on_cursor_moved)
        self._show_nothing("no alignment yet")

    @property
    def has_plan(self) -> bool:
        return self.image.image is not None

    def _show_nothing(self, text: str) -> None:
        self.image.clear()
        self._plan = None
        self.row_marginal.setData([], [])
        self.col_marginal.setData([], [])
        self._show_marginals(False)
        if text:
            self.title.setText(f"Soft alignment — {text}")

    def _show_marginals(self, on: bool) -> None:
        """Marginals and colour bar only with a plan: no empty axes beside a hard path."""
        for item in (self.top, self.side, self.colour_bar):
            item.setVisible(on)

    def _on_active_alignment_changed(self, aid: int, force: bool = False) -> None:
        if aid == self._shown_id and not force:
            return
        self._shown_id = aid
        al = self.session.alignment(aid)
        if al is None:
            self._show_nothing("no alignment yet")
            self.path.setData([], [])
            return
        if self._empty_range:
            self._empty_range = False
            self.main.enableAutoRange()
        pieces = _pieces_of(al)
        if pieces is None:
            t = decimate_path(self.session.path_times(aid), 3000)
            self.path.setData(t[:, 0], t[:, 1], connect="all")
        else:  # a path with jumps: each piece apart, never joined by a line
            t = np.vstack([np.vstack([decimate_path(p.times_s, 1000), [[np.nan, np.nan]]])
                           for p in pieces.pieces])
            self.path.setData(t[:, 0], t[:, 1], connect="finite")
        self.title.setText(f"Soft alignment — #{aid} {al.method}")
        self.title.setToolTip("")
        if al.plan is None:
            self._show_nothing("")
            # what makes a plan goes to the tooltip: in the title it wrapped to a third
            # line, past the label's two, beside the unit matrix or in a narrow window
            self.title.setText(f"#{aid} {al.method}: a hard path, no soft plan")
            self.title.setToolTip("optimal transport, soft-DTW and attention make a soft "
                                  "plan; a hard path has none to show")
            return
        self.job = self.jobs.submit(
            Request("heatmap", reduce_plan, (al.plan, MAX_SIDE), label="soft plan"),
            on_result=lambda result, al=al: self._show_plan(al, result))

    def _redraw_active(self) -> None:
        self._on_active_alignment_changed(self.session.active_id)

    def _show_plan(self, al, result) -> None:
        if self.session.alignment(self._shown_id) is not al:
            return  # another alignment is shown by now
        image, rows, cols = result
        self._plan = np.asarray(image, dtype=np.float32)
        self._draw_plan()
        ra, rb = al.rate_a_hz, al.rate_b_hz
        self.image.setRect(QRectF(-0.5 / ra, -0.5 / rb, al.n_a / ra, al.n_b / rb))
        self.row_marginal.setData(np.arange(al.n_a) / ra, rows)
        self.col_marginal.setData(cols, np.arange(al.n_b) / rb)
        self._show_marginals(True)
        self.title.setText(f"Soft alignment — #{self._shown_id} {al.method}: plan of "
                           f"{al.n_a}×{al.n_b} frames")

    def _draw_plan(self) -> None:
        """The plan in the chosen scale, with the colour bar's levels."""
        if self._plan is None:
            return
        plan = self._plan
        top = float(np.percentile(plan, 99.5)) if plan.size else 1.0
        top = top if top > 0 else float(plan.max()) if plan.size and plan.max() > 0 else 1.0
        if self.log_scale.isChecked():
            # four decades below the largest cell: the log shows the spread, not a clip
            top = float(plan.max()) if plan.size and plan.max() > 0 else 1.0
            floor = top * 1e-4
            shown = np.log10(np.maximum(plan, floor))
            levels = (float(np.log10(floor)), float(np.log10(top)))
            label = "log10 mass"
        else:
            shown, levels, label = plan, (0.0, top), "mass"
        self.image.setImage(np.ascontiguousarray(shown.T), autoLevels=False, levels=levels)
        self.colour_bar.setLevels(levels)
        self.colour_bar.getAxis("left").setLabel(label)

    def _on_alignment_edited(self, aid: int) -> None:
        """An edit (a re-solve, undo, redo) is redrawn on a later event-loop turn, after
        the matrix's path, and several edits in a row make one redraw."""
        if aid == self.session.active_id:
            turn_queue(self.session).queue(self, self._redraw_edited)

    def _redraw_edited(self) -> None:
        self._on_active_alignment_changed(self.session.active_id, force=True)

    def _on_cursor_moved(self, time_a: float, time_b: float) -> None:
        for line, angle in self.cursor_lines:
            line.setValue(time_a if angle == 90 else time_b)

    def _on_scene_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.isAccepted():
            return
        for plot in (self.main, self.top):
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(event.scenePos()) and self.session.has_both():
                self.session.move_cursor("a", vb.mapSceneToView(event.scenePos()).x())
                event.accept()
                return


def _pieces_of(al):
    if "pieces" not in al.diagnostics:
        return None
    from core.structure.carrier import piecewise_of

    return piecewise_of(al)
