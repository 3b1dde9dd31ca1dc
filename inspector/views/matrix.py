"""The cost matrix with warping paths, both axes in seconds (x: A, y: B).

Observes the Session: ``active_alignment_changed``, ``compared_alignment_changed``,
``alignment_removed``, ``recordings_swapped``, ``recording_opened``, ``cursor_moved``.
The image is a downsampled overview of the whole matrix (``core.cost.overview``, on a
worker, channel ``matrix_overview``); when the visible region holds few enough cells, the
exact costs of that region are recomputed on a worker (channel ``matrix_region``, latest
wins) and drawn over the overview. Every method runs on the GUI thread.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from core.display import (
    cost_overview,
    cost_view,
    decimate_path,
    display_levels,
    overview_is_exact,
    path_local_cost,
    window_outline_of,
)

from ..jobs import Request
from .axes import fit_axes
from .common import (
    EMPTY_RANGE_S,
    PATH_COLOURS,
    Debouncer,
    ElidedLabel,
    cache_axes,
    format_time,
    start_within,
    turn_queue,
)
from .legend import PathLegend, short_names

__all__ = ["MatrixView"]

OVERVIEW_SIZE = 1024
REGION_MAX_CELLS = 1536 * 1536
COLOUR_MAPS = ("viridis", "magma", "inferno", "cividis", "CET-L1")


class MatrixView(QWidget):
    """Cost-matrix image, path overlays with a legend, window outline, anchors, crosshair.

    Signals
    -------
    region_drawn()    the exact (or block-mean) costs of the zoomed region are drawn
    reset_requested() the user asked to see everything (right-click menu)
    """

    region_drawn = Signal()
    reset_requested = Signal()

    def __init__(self, session, jobs, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.jobs = jobs
        self._inputs = None          # (features A, features B, metric) drawn now
        self._overview = None
        self._levels = None  # the overview's colour levels, shared by the region
        self._region_key = None
        self._region_data = None
        self._region_exact = False
        self._overview_exact = False
        self._info_base = ""
        self._pending_region = None
        self.overview_job = None  # the Job handles of the latest requests
        self.region_job = None

        self.colour_map = QComboBox(self)
        self.colour_map.addItems(COLOUR_MAPS)
        self.colour_map.setToolTip("colour map")
        self.contrast = QSlider(Qt.Orientation.Horizontal, self)
        self.contrast.setRange(0, 20)
        self.contrast.setValue(2)
        self.contrast.setFixedWidth(90)
        self.contrast.setToolTip("contrast: percent of the values clipped at each end")
        self.log_scale = QCheckBox("log", self)
        self.log_scale.setToolTip("show log(1 + cost)")
        self.info = ElidedLabel("", self)
        self.info.setStyleSheet("color: #a0a4ac;")
        bar = QHBoxLayout()
        bar.setContentsMargins(2, 0, 2, 0)
        bar.addWidget(QLabel("Cost matrix", self))
        bar.addWidget(self.colour_map)
        bar.addWidget(QLabel("contrast", self))
        bar.addWidget(self.contrast)
        bar.addWidget(self.log_scale)
        bar.addWidget(self.info, 1)

        self.plot = pg.PlotWidget(self)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        fit_axes(self.plot.getPlotItem())  # labels that fit, both axes stepped alike
        self.plot.setLabel("bottom", "time A (s)")
        self.plot.setLabel("left", "time B (s)")
        self.plot.getAxis("left").setWidth(42)
        self.plot.setRange(xRange=(0.0, EMPTY_RANGE_S), yRange=(0.0, EMPTY_RANGE_S),
                           padding=0.0)
        # coloured at screen resolution (block means), not at the image's 1024 per side
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.region_image = pg.ImageItem(axisOrder="row-major")
        self.region_image.setZValue(1)
        self.plot.addItem(self.image)
        self.plot.addItem(self.region_image)
        self.path_curves: dict[str, pg.PlotDataItem] = {}
        #: called after the paths are drawn (e.g. inspector.structure draws pieces)
        self.path_hooks: list = []
        self._path_times: dict[str, np.ndarray] = {}
        self.window_curves = [pg.PlotDataItem(pen=pg.mkPen("#ffffff", width=1,
                                                           style=Qt.PenStyle.DashLine))
                              for _ in range(2)]
        for c in self.window_curves:
            c.setZValue(5)
            self.plot.addItem(c, ignoreBounds=True)
        self.anchors = pg.ScatterPlotItem(size=9, symbol="+", pen=pg.mkPen("#ffffff"),
                                          brush=None)
        self.anchors.setZValue(6)
        self.plot.addItem(self.anchors, ignoreBounds=True)
        # anchors set for the next run (Shift+click), not used by any result yet
        self.pending_anchors = pg.ScatterPlotItem(size=11, symbol="o", brush=None,
                                                  pen=pg.mkPen("#ffe060", width=2))
        self.pending_anchors.setZValue(7)
        self.pending_anchors.setToolTip("anchors for the next DTW run (Shift+click to add)")
        self.plot.addItem(self.pending_anchors, ignoreBounds=True)
        # white dashes: bright stripes of the image would hide a yellow line
        cross_pen = pg.mkPen("#ffffff", width=1, style=Qt.PenStyle.DashLine)
        self.cross_v = pg.InfiniteLine(angle=90, movable=False, pen=cross_pen)
        self.cross_h = pg.InfiniteLine(angle=0, movable=False, pen=cross_pen)
        for line in (self.cross_v, self.cross_h):
            line.setZValue(20)
            self.plot.addItem(line, ignoreBounds=True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        # the legend sits under the image, never over the data
        self.legend = PathLegend(self)
        layout.addWidget(self.legend)

        self._region_debounce = Debouncer(self._request_region, 150, self)
        self.plot.getViewBox().sigRangeChanged.connect(self._on_range_changed)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.context_menu: QMenu | None = None
        self.hover_text = ""
        self.colour_map.currentTextChanged.connect(self._on_colour_map_changed)
        self.contrast.valueChanged.connect(lambda *_: self._apply_levels())
        self.log_scale.toggled.connect(lambda *_: self._redraw_images())
        self._on_colour_map_changed(self.colour_map.currentText())

        # drawn on a later event-loop turn, one view per turn (see TurnQueue)
        cache_axes(self.plot)
        session.active_alignment_changed.connect(lambda *_: turn_queue(session).queue(
            self, lambda: self._on_active_alignment_changed(self.session.active_id)))
        session.compared_alignment_changed.connect(lambda *_: self._draw_paths())
        session.alignment_removed.connect(lambda *_: self._draw_paths())
        session.alignment_edited.connect(lambda *_: self._draw_paths())
        session.recordings_swapped.connect(self._on_recordings_swapped)
        session.recording_opened.connect(self._on_recording_opened)
        session.cursor_moved.connect(self._on_cursor_moved)
        session.anchors_changed.connect(self._draw_pending_anchors)

    # ------------------------------------------------------------------ inputs
    def _set_inputs(self, inputs) -> None:
        if inputs is None:
            return
        same = (self._inputs is not None and inputs[0] is self._inputs[0]
                and inputs[1] is self._inputs[1] and inputs[2] == self._inputs[2])
        if same:
            return
        self._inputs = inputs
        self._region_key = None
        self.region_image.clear()
        fa, fb, metric = inputs
        na, nb = len(fa.values), len(fb.values)
        shape = (min(na, OVERVIEW_SIZE), min(nb, OVERVIEW_SIZE))
        self._overview_exact = overview_is_exact(na, nb)
        self._info_base = (f"{na}×{nb} frames at {fa.rate_hz:.3g}/{fb.rate_hz:.3g} Hz, "
                           f"{fa.name}/{fb.name}, {metric}"
                           + ("" if self._overview_exact else ", overview from feature means"))
        self.info.setText(self._info_base)
        request = Request("matrix_overview", cost_overview,
                          (fa.values, fb.values, shape), {"metric": metric},
                          label="cost matrix overview")
        self.overview_job = None

        def submit():
            if self._inputs is inputs:
                self.overview_job = self.jobs.submit(
                    request, on_result=lambda image: self._on_overview(inputs, image))

        # submitted after the other views' turns: the worker's first milliseconds
        # (numpy on 400k-frame inputs) would otherwise slow down the window's repaint
        turn_queue(self.session).queue(self.image, submit)

    def _frame_rect(self, i0: int, i1: int, j0: int, j1: int) -> QRectF:
        fa, fb, _ = self._inputs
        ra, rb = float(fa.rate_hz), float(fb.rate_hz)
        return QRectF((i0 - 0.5) / ra, (j0 - 0.5) / rb, (i1 - i0) / ra, (j1 - j0) / rb)

    def _transform(self, image: np.ndarray) -> np.ndarray:
        image = np.asarray(image, dtype=np.float32)
        if self.log_scale.isChecked():
            image = np.log1p(np.maximum(image, 0.0))
        return image

    def _redraw_images(self) -> None:
        if self._overview is not None:
            self.image.setImage(np.ascontiguousarray(self._transform(self._overview).T),
                                autoLevels=False)
        if self._region_key is not None and self._region_data is not None:
            self.region_image.setImage(
                np.ascontiguousarray(self._transform(self._region_data).T), autoLevels=False)
        self._apply_levels()

    def _apply_levels(self) -> None:
        if self._overview is None:
            return
        levels = display_levels(self._transform(self._overview), float(self.contrast.value()))
        self._levels = levels
        self.image.setLevels(levels)
        self.region_image.setLevels(levels)

    def _draw_region(self) -> None:
        """Only the zoomed region's image, at the levels of the overview: redrawing the
        overview and its percentiles too (a million values) took 30-60 ms of the GUI
        thread at every region a pan brought."""
        if self._region_key is None or self._region_data is None:
            return
        levels = self._levels
        if levels is None:
            self._redraw_images()
            return
        self.region_image.setImage(
            np.ascontiguousarray(self._transform(self._region_data).T), autoLevels=False,
            levels=levels)

    def _on_colour_map_changed(self, name: str) -> None:
        cmap = pg.colormap.get(name)
        self.image.setColorMap(cmap)
        self.region_image.setColorMap(cmap)

    # ------------------------------------------------------------------ zoom
    def visible_frames(self) -> tuple[int, int, int, int]:
        """Visible rows of A and columns of B, clipped to the matrix: (i0, i1, j0, j1)."""
        fa, fb, _ = self._inputs
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        na, nb = len(fa.values), len(fb.values)
        i0 = int(np.clip(np.floor(x0 * fa.rate_hz), 0, na))
        i1 = int(np.clip(np.ceil(x1 * fa.rate_hz) + 1, 0, na))
        j0 = int(np.clip(np.floor(y0 * fb.rate_hz), 0, nb))
        j1 = int(np.clip(np.ceil(y1 * fb.rate_hz) + 1, 0, nb))
        return i0, i1, j0, j1

    def _request_region(self) -> None:
        if self._inputs is None or self._overview is None:
            return
        fa, fb, metric = self._inputs
        na, nb = len(fa.values), len(fb.values)
        if self._overview.shape == (na, nb) and self._overview_exact:
            return  # the overview is already the exact matrix
        i0, i1, j0, j1 = self.visible_frames()
        if i1 <= i0 or j1 <= j0:
            return
        # the overview is good enough when the view shows most of the matrix
        if (i1 - i0) > 0.6 * na and (j1 - j0) > 0.6 * nb:
            return
        key = self._region_key
        if key is not None and key[0] <= i0 and key[1] >= i1 and key[2] <= j0 and key[3] >= j1:
            # the drawn region covers the view; redo it only when zoomed in much further
            fine = (key[1] - key[0]) * (key[3] - key[2]) <= REGION_MAX_CELLS
            if fine or (i1 - i0) * (j1 - j0) * 4 > (key[1] - key[0]) * (key[3] - key[2]):
                return
        # pad by half the visible size so small pans reuse the region
        pi, pj = (i1 - i0) // 2, (j1 - j0) // 2
        i0, i1 = max(0, i0 - pi), min(na, i1 + pi)
        j0, j1 = max(0, j0 - pj), min(nb, j1 + pj)
        side = int(np.sqrt(REGION_MAX_CELLS))
        inputs, key = self._inputs, (i0, i1, j0, j1)
        self.region_job = self.jobs.submit(
            Request("matrix_region", cost_view, (fa.values, fb.values, i0, i1, j0, j1, side),
                    {"metric": metric}, label="cost matrix region"),
            on_result=lambda result: self._on_region(inputs, key, result))
        self._pending_region = key

    def set_view_seconds(self, a0: float, a1: float, b0: float, b1: float) -> None:
        self.plot.getViewBox().setRange(xRange=(a0, a1), yRange=(b0, b1), padding=0.0)

    def centre_on(self, time_a_s: float, time_b_s: float) -> None:
        """Keep the view's size and put the point (A, B) in its middle (a spot the user
        asked to go to: the next doubtful spot, the next jump), moved back inside the
        recordings where the size fits: a spot near an end showed blank time past it
        (a jump near the end of a 27 s pair, the view 4 s past it on A and 6 s on B)."""
        x0, x1, y0, y1 = self.view_seconds()
        a0 = start_within(time_a_s - (x1 - x0) / 2, x1 - x0, self.session.duration("a"))
        b0 = start_within(time_b_s - (y1 - y0) / 2, y1 - y0, self.session.duration("b"))
        self.set_view_seconds(a0, a0 + (x1 - x0), b0, b0 + (y1 - y0))

    def view_seconds(self) -> tuple[float, float, float, float]:
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        return x0, x1, y0, y1

    def reset_view(self) -> None:
        if self._inputs is None:
            return
        fa, fb, _ = self._inputs
        self.set_view_seconds(0.0, len(fa.values) / fa.rate_hz, 0.0, len(fb.values) / fb.rate_hz)

    # ------------------------------------------------------------------ paths
    def _draw_paths(self) -> None:
        entries = []
        wanted = []
        active = self.session.active_alignment()
        if active is not None:
            wanted.append(("active", self.session.active_id, active, PATH_COLOURS[0]))
        cid = self.session.compared_id
        compared = self.session.alignment(cid)
        if compared is not None:
            wanted.append(("compared", cid, compared, PATH_COLOURS[1]))
        for key in list(self.path_curves):
            if key not in [w[0] for w in wanted]:
                self.plot.removeItem(self.path_curves.pop(key))
                self._path_times.pop(key, None)
        names = short_names({aid: self.session.label(aid) for _k, aid, _a, _c in wanted})
        for key, aid, _al, colour in wanted:
            curve = self.path_curves.get(key)
            if curve is None:
                curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=2))
                curve.setZValue(10 if key == "active" else 9)
                # the image gives the bounds; a curve's bounds cost a scan per repaint
                self.plot.addItem(curve, ignoreBounds=True)
                self.path_curves[key] = curve
            self._path_times[key] = self.session.path_times(aid)
            entries.append((colour, names[aid], f"{key}: #{aid} {self.session.label(aid)}",
                            False))
        self._clip_paths()
        window_label = self._draw_window(active)
        if window_label is not None:
            entries.append(("#ffffff", window_label, "the window the path was searched in",
                            True))
        self.legend.set_entries(entries)
        self._draw_anchors(active)
        for hook in self.path_hooks:
            hook()

    def _on_range_changed(self, *_) -> None:
        self._clip_paths()
        self._region_debounce.trigger()

    def _clip_paths(self) -> None:
        """Give each path curve only its visible part, at most a few thousand points:
        drawing stays O(pixels) for an hour-long path (the path is monotone in x)."""
        (x0, x1), _ = self.plot.getViewBox().viewRange()
        for key, curve in self.path_curves.items():
            t = self._path_times.get(key)
            if t is None or len(t) == 0:
                continue
            k0 = max(0, int(np.searchsorted(t[:, 0], x0, side="left")) - 1)
            k1 = min(len(t), int(np.searchsorted(t[:, 0], x1, side="right")) + 1)
            part = decimate_path(t[k0:k1], 4000) if k1 > k0 else t[:1]
            curve.setData(part[:, 0], part[:, 1])

    def _draw_window(self, al) -> str | None:
        """Outline the active alignment's window; returns its legend label (or None).

        A searched corridor recorded by the engine or the pipeline
        (``diagnostics["search_window"]``: multiscale, corridor, band) is drawn as it was
        searched; otherwise the window the engine ran with (its ``params``: band,
        parallelogram), cell by cell (:func:`core.display.window_outline_of`).
        """
        found = None if al is None else window_outline_of(al)
        if found is None:
            for c in self.window_curves:
                c.setData([], [])
            return None
        outline, label = found
        self._draw_outline(al, outline)
        return label

    def _draw_outline(self, al, outline) -> None:
        """A row-block outline (frames) as two staircases in seconds: block ``k`` spans
        rows ``rows[k] .. rows[k+1] - 1`` and columns ``lo[k] .. hi[k] - 1``."""
        rows = np.minimum(np.asarray(outline["rows"], dtype=float), al.n_a)
        lo = np.asarray(outline["lo"], dtype=float)
        hi = np.minimum(np.asarray(outline["hi"], dtype=float), al.n_b)
        x = np.empty(2 * len(lo))
        x[0::2] = rows[:-1]
        x[1::2] = np.maximum(rows[1:] - 1, rows[:-1])
        x /= al.rate_a_hz
        self.window_curves[0].setData(x, np.repeat(lo, 2) / al.rate_b_hz)
        self.window_curves[1].setData(x, np.repeat(np.maximum(hi - 1, lo), 2) / al.rate_b_hz)

    def _draw_pending_anchors(self) -> None:
        pts = np.asarray(self.session.anchors, dtype=float).reshape(-1, 2)
        self.pending_anchors.setData(pts[:, 0], pts[:, 1])

    def _draw_anchors(self, al) -> None:
        # where the user put them (seconds, the recipe's); the engine ran on their
        # nearest frames (the result's params)
        recipe = None if al is None else self.session.recipe(self.session.active_id)
        anchors = None if recipe is None else recipe.params.get("anchors_s")
        if anchors is None or len(anchors) == 0:
            self.anchors.setData([], [])
            return
        pts = np.asarray(anchors, dtype=float).reshape(-1, 2)
        self.anchors.setData(pts[:, 0], pts[:, 1])

    # ------------------------------------------------------------------ session slots
    def _on_active_alignment_changed(self, aid: int) -> None:
        # a path read from a file is drawn over the features a correction of it uses
        inputs = self.session.shown_inputs(aid) if aid != -1 else None
        first = self._inputs is None
        self._set_inputs(inputs)
        self._draw_paths()
        if first and inputs is not None:
            self.reset_view()

    def _on_recordings_swapped(self) -> None:
        self._inputs = None
        self._overview = None
        self._levels = None
        self.image.clear()
        self.region_image.clear()
        self._on_active_alignment_changed(self.session.active_id)

    def _on_recording_opened(self, slot: str) -> None:
        if self.session.active_alignment() is None:
            self._inputs = None
            self._overview = None
            self._levels = None
            self._region_key = None
            self.image.clear()
            self.region_image.clear()
            self._draw_paths()
            self.info.setText("")

    def _on_cursor_moved(self, time_a: float, time_b: float) -> None:
        self.cross_v.setValue(time_a)
        self.cross_h.setValue(time_b)

    def _on_overview(self, inputs, result) -> None:
        if self._inputs is not inputs:
            return
        fa, fb, _ = inputs
        self._overview = np.asarray(result, dtype=np.float32)
        self._levels = None
        self._region_data = None
        self._region_key = None
        self.region_image.clear()
        self._redraw_images()
        # after setImage: setRect scales by the image's size
        self.image.setRect(self._frame_rect(0, len(fa.values), 0, len(fb.values)))
        self._region_debounce.trigger()

    def _on_region(self, inputs, key, result) -> None:
        if self._inputs is not inputs:
            return
        self._region_key = key
        image, self._region_exact = result
        self._region_data = np.asarray(image, dtype=np.float32)
        self.info.setText(self._info_base + ("; zoomed region exact" if self._region_exact
                                             else "; zoomed region from feature means"))
        self._draw_region()
        self.region_image.setRect(self._frame_rect(*self._region_key))
        self.region_drawn.emit()

    def cost_at(self, time_a: float, time_b: float) -> float | None:
        """The local cost of the cell at these times (None outside the matrix)."""
        if self._inputs is None:
            return None
        fa, fb, metric = self._inputs
        i, j = int(round(time_a * fa.rate_hz)), int(round(time_b * fb.rate_hz))
        if not (0 <= i < len(fa.values) and 0 <= j < len(fb.values)):
            return None
        return float(path_local_cost(fa.values, fb.values, np.array([[i, j]]),
                                     metric=metric)[0])

    def _on_mouse_moved(self, scene_pos) -> None:
        """The time of A and B and the cost under the mouse, in the info line."""
        vb = self.plot.getViewBox()
        if self._inputs is None or not vb.sceneBoundingRect().contains(scene_pos):
            if self.hover_text:
                self.hover_text = ""
                self.info.setText(self._info_base)
            return
        p = vb.mapSceneToView(scene_pos)
        cost = self.cost_at(p.x(), p.y())
        if cost is None:
            return
        self.hover_text = (f"A {format_time(p.x())}  B {format_time(p.y())}  "
                           f"cost {cost:.4g}")
        self.info.setText(self.hover_text)

    def _show_context_menu(self, event, time_a: float, time_b: float) -> None:
        menu = QMenu(self)
        cursor = menu.addAction(f"Put the cursor here (A {format_time(time_a)})")
        cursor.triggered.connect(lambda: self.session.move_cursor("a", time_a))
        anchor = menu.addAction("Add an anchor here for the next DTW run")
        anchor.triggered.connect(lambda: self.session.add_anchor(time_a, time_b))
        clear = menu.addAction("Clear the anchors")
        clear.setEnabled(bool(self.session.anchors))
        clear.triggered.connect(self.session.clear_anchors)
        menu.addSeparator()
        reset = menu.addAction("Show everything")
        reset.setShortcut("Ctrl+0")
        reset.triggered.connect(self.reset_requested)
        log = menu.addAction("Log scale")
        log.setCheckable(True)
        log.setChecked(self.log_scale.isChecked())
        log.toggled.connect(self.log_scale.setChecked)
        for act in (cursor, anchor):
            act.setEnabled(self.session.has_both())
        self.context_menu = menu
        menu.popup(event.screenPos().toPoint())

    def _on_scene_clicked(self, event) -> None:
        if event.isAccepted():
            return
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        if event.button() == Qt.MouseButton.RightButton:
            self._show_context_menu(event, p.x(), p.y())
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if not self.session.has_both():
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            # Shift+click: an anchor for the next DTW run, exactly where clicked
            self.session.add_anchor(p.x(), p.y())
        else:
            # a click picks a time on A; B follows the active path: on a path with
            # jumps, to the occurrence of that A time nearest the click (not the one
            # nearest B's cursor: a click on a repeat's second curve went to the first)
            self.session.move_cursor("a", p.x(), near=(p.x(), p.y()))
        event.accept()

