"""A soft alignment (OT plan, soft-DTW expected alignment, attention) on the matrix's
axes, with its two marginals and the confidence track of the active alignment.

Observes the Session: ``active_alignment_changed``, ``recordings_swapped``,
``alignment_removed``, ``cursor_moved``. Large plans are reduced for display on a worker
(channel ``heatmap``, :func:`core.display.reduce_plan`). GUI thread.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsItem, QLabel, QSizePolicy, QVBoxLayout, QWidget

from core.display import decimate_path, peak_decimate, reduce_plan

from ..jobs import Request
from .common import (
    CURSOR_COLOUR,
    PATH_COLOURS,
    cache_axes,
    turn_queue,
)

__all__ = ["HeatmapView"]

MAX_SIDE = 768


class HeatmapView(QWidget):
    """The active alignment's soft plan with marginals, and its confidence per A time."""

    def __init__(self, session, jobs, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.jobs = jobs
        self.job = None
        self._shown_id = None

        self.title = QLabel("Soft alignment")
        self.title.setWordWrap(True)
        # room for three lines whatever the text: a label that changes height re-lays out
        # the view, and through the splitter its neighbours
        self.title.setFixedHeight(3 * self.title.fontMetrics().lineSpacing() + 4)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.plots = pg.GraphicsLayoutWidget(self)
        self.plots.ci.setSpacing(0)
        self.top = self.plots.addPlot(row=0, col=0)
        self.main = self.plots.addPlot(row=1, col=0)
        self.side = self.plots.addPlot(row=1, col=1)
        self.conf = self.plots.addPlot(row=2, col=0)
        layout = self.plots.ci.layout
        layout.setRowStretchFactor(0, 1)
        layout.setRowStretchFactor(1, 5)
        layout.setRowStretchFactor(2, 1)
        layout.setColumnStretchFactor(0, 5)
        layout.setColumnStretchFactor(1, 1)
        for plot in (self.top, self.main, self.side, self.conf):
            plot.setMenuEnabled(False)
            plot.hideButtons()
        for plot in (self.top, self.conf, self.main):
            plot.getAxis("left").setWidth(42)
        self.top.setXLink(self.main)
        self.conf.setXLink(self.main)
        self.side.setYLink(self.main)
        self.top.hideAxis("bottom")
        self.side.hideAxis("left")
        self.top.setLabel("left", "Σ B")
        self.side.setLabel("bottom", "Σ A")
        # the marginals are shapes: their value axes keep the ticks, not the crowded labels
        self.top.getAxis("left").setStyle(showValues=False)
        self.side.getAxis("bottom").setStyle(showValues=False)
        self.main.setLabel("left", "time B (s)")
        self.conf.setLabel("bottom", "time A (s)")
        self.conf.setLabel("left", "conf.")
        self.conf.setYRange(0, 1, padding=0.05)
        self.conf.setMouseEnabled(x=True, y=False)
        # coloured at screen resolution (block means), not at the image's 1024 per side
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.image.setColorMap(pg.colormap.get("magma"))
        self.main.addItem(self.image)
        # a solid thin line: dotted pens are slow to draw on long paths
        self.path = pg.PlotDataItem(pen=pg.mkPen(PATH_COLOURS[0], width=1))
        self.main.addItem(self.path)
        self.row_marginal = pg.PlotDataItem(pen=pg.mkPen("#7fb2ff"))
        self.col_marginal = pg.PlotDataItem(pen=pg.mkPen("#ffb27f"))
        self.top.addItem(self.row_marginal)
        self.side.addItem(self.col_marginal)
        self.confidence = pg.PlotDataItem(pen=pg.mkPen("#80e080"))
        self.conf.addItem(self.confidence)
        # cached: moving the cursor lines repaints from pixmaps, not from the data
        for item in (self.path, self.row_marginal, self.col_marginal, self.confidence):
            item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.cursor_lines = []
        for plot, angle in ((self.main, 90), (self.main, 0), (self.top, 90), (self.conf, 90),
                            (self.side, 0)):
            line = pg.InfiniteLine(angle=angle, movable=False, pen=pg.mkPen(CURSOR_COLOUR))
            line.setZValue(20)
            plot.addItem(line, ignoreBounds=True)
            self.cursor_lines.append((line, angle))

        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(1)
        lay.addWidget(self.title)
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
        self.row_marginal.setData([], [])
        self.col_marginal.setData([], [])
        if text:
            self.title.setText(f"Soft alignment — {text}")

    def _on_active_alignment_changed(self, aid: int, force: bool = False) -> None:
        if aid == self._shown_id and not force:
            return
        self._shown_id = aid
        al = self.session.alignment(aid)
        if al is None:
            self._show_nothing("no alignment yet")
            self.confidence.setData([], [])
            self.path.setData([], [])
            return
        times = self.session.path_times(aid)
        t = decimate_path(times, 3000)
        self.path.setData(t[:, 0], t[:, 1])
        if al.confidence is not None:
            self.confidence.setData(*peak_decimate(times[:, 0], al.confidence))
        else:
            self.confidence.setData([], [])
        self.title.setText(f"Soft alignment — #{aid} {al.method}")
        if al.plan is None:
            self._show_nothing("")
            self.title.setText(f"Soft alignment — #{aid} {al.method} has no soft plan "
                               "(run optimal transport, soft-DTW or attention); its path "
                               "and confidence:")
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
        top = float(np.percentile(image, 99.5)) if image.size else 1.0
        self.image.setImage(np.ascontiguousarray(image.T), autoLevels=False,
                            levels=(0.0, top if top > 0 else 1.0))
        ra, rb = al.rate_a_hz, al.rate_b_hz
        self.image.setRect(QRectF(-0.5 / ra, -0.5 / rb, al.n_a / ra, al.n_b / rb))
        self.row_marginal.setData(np.arange(al.n_a) / ra, rows)
        self.col_marginal.setData(cols, np.arange(al.n_b) / rb)

    def _on_alignment_edited(self, aid: int) -> None:
        if aid == self.session.active_id:
            self._on_active_alignment_changed(aid, force=True)

    def _on_cursor_moved(self, time_a: float, time_b: float) -> None:
        for line, angle in self.cursor_lines:
            line.setValue(time_a if angle == 90 else time_b)

    def _on_scene_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.isAccepted():
            return
        for plot in (self.main, self.top, self.conf):
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(event.scenePos()) and self.session.has_both():
                self.session.move_cursor("a", vb.mapSceneToView(event.scenePos()).x())
                event.accept()
                return
