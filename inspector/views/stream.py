"""The view of one recording: waveform or filmstrip over a feature image, time in seconds.

Observes the Session: ``recording_opened``, ``recording_closed``, ``recordings_swapped``,
``features_added``, ``envelope_added``, ``cursor_moved``. Video frames and thumbnails are
read on workers through the JobRunner (channel ``frame_<slot>`` / ``filmstrip_<slot>``,
latest wins); so is the waveform of a zoomed-in range (channel ``wave_<slot>``: the
recording's own min/max envelope, one bin per pixel), drawn from the overview until it
arrives. Every method runs on the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from core.display import block_mean, display_levels

from ..jobs import Request
from ..tasks import media as media_tasks
from .axes import fit_axes
from .common import (
    CURSOR_COLOUR,
    EMPTY_RANGE_S,
    Debouncer,
    ElidedLabel,
    cache_axes,
    format_time,
)

__all__ = ["StreamView"]

MAX_IMAGE_COLUMNS = 16_384
SLOT_COLOURS = {"a": "#7fb2ff", "b": "#ffb27f"}


class StreamView(QWidget):
    """One recording: audio as a min/max waveform over its feature image; video as the
    current frame beside a filmstrip over its feature image.

    Signals
    -------
    file_dropped(slot, path)   a file was dropped on the view
    """

    file_dropped = Signal(str, str)

    def __init__(self, session, jobs, slot: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.jobs = jobs
        self.slot = slot
        self.setAcceptDrops(True)
        self._envelope = None  # the last zoomed-in range's waveform (a WaveEnvelope)
        self._overview = None  # the whole file's (a WavePyramid)
        self._duration = 0.0
        self._frame_k = -1
        self._strip_items: list[pg.ImageItem] = []

        self.header = ElidedLabel("", self)  # a long file name never widens the window
        self.header.setStyleSheet(f"color: {SLOT_COLOURS[slot]}; font-weight: bold;")
        self.frame_label = QLabel(self)
        self.frame_label.setFixedWidth(200)
        self.frame_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.frame_label.setStyleSheet("background: #000;")
        self.frame_label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.frame_label.hide()

        self.plots = pg.GraphicsLayoutWidget(self)
        self.plots.ci.setContentsMargins(2, 2, 2, 2)
        self.plots.ci.setSpacing(0)
        self.top = self.plots.addPlot(row=0, col=0)
        self.bottom = self.plots.addPlot(row=1, col=0)
        # labels that fit: same step for A and B at the same width, never piled up
        fit_axes(self.top, fitted=("left",))
        fit_axes(self.bottom, fitted=("bottom", "left"))
        self.plots.ci.layout.setRowStretchFactor(0, 2)
        self.plots.ci.layout.setRowStretchFactor(1, 3)
        for plot in (self.top, self.bottom):
            plot.setMouseEnabled(x=True, y=False)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getAxis("left").setWidth(42)
        self.top.hideAxis("bottom")
        self.top.setXLink(self.bottom)
        self.bottom.setLabel("bottom", f"time {slot.upper()} (s)")
        self.top.getViewBox().setLimits(xMin=-1.0)
        self.wave = pg.PlotDataItem(pen=pg.mkPen(SLOT_COLOURS[slot], width=1), connect="pairs")
        self.top.addItem(self.wave)
        # rendered at screen resolution (block means): an hour's image has 16k columns,
        # and colouring all of them took tens of ms of the GUI thread per zoom change
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.image.setColorMap(pg.colormap.get("inferno"))
        self.bottom.addItem(self.image)
        self.cursor_lines = []
        for plot in (self.top, self.bottom):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(CURSOR_COLOUR, width=1))
            line.setZValue(10)
            plot.addItem(line, ignoreBounds=True)
            self.cursor_lines.append(line)
        self._redraw = Debouncer(self._draw_wave, 25, self)
        self.top.sigXRangeChanged.connect(lambda *_: self._redraw.trigger())
        self.plots.scene().sigMouseClicked.connect(self._on_scene_clicked)

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.frame_label)
        body.addWidget(self.plots, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        layout.addWidget(self.header)
        layout.addLayout(body, 1)

        cache_axes(self.plots)
        session.recording_opened.connect(self._on_recording_opened)
        session.recording_closed.connect(self._on_recording_closed)
        session.recordings_swapped.connect(self._on_recordings_swapped)
        session.features_added.connect(self._on_features_added)
        session.envelope_added.connect(self._on_envelope_added)
        session.cursor_moved.connect(self._on_cursor_moved)
        self._show_empty()

    # ------------------------------------------------------------------ state
    def _show_empty(self) -> None:
        self.header.setText(f"{self.slot.upper()}: no recording — drop a file here or use "
                            f"File ▸ Open {self.slot.upper()}…")
        self.wave.setData([], [])
        self.image.clear()
        self.frame_label.hide()
        self._clear_strip()
        self._envelope = self._overview = None
        self.bottom.setXRange(0.0, EMPTY_RANGE_S, padding=0.0)

    def _rebuild(self) -> None:
        self._frame_k = -1
        stream = self.session.stream(self.slot)
        if stream is None:
            self._show_empty()
            return
        rec = stream.recording
        self._duration = float(rec.duration_s)
        name = Path(rec.path).name
        if rec.kind == "video":
            what = f"video {rec.width}×{rec.height}, {rec.rate_hz:.3g} fps"
        else:
            what = f"audio {rec.rate_hz:.0f} Hz, {rec.n_channels} ch"
        self.header.setText(f"{self.slot.upper()}: {name} — {format_time(self._duration)}, {what}")
        self.header.setToolTip(str(rec.path))
        for plot in (self.top, self.bottom):
            plot.getViewBox().setLimits(xMin=-0.05 * self._duration - 0.5,
                                        xMax=1.05 * self._duration + 0.5)
        self.bottom.setXRange(0.0, self._duration, padding=0.0)
        self._envelope, self._overview = None, stream.envelope
        self.wave.setData([], [])
        self._clear_strip()
        if rec.kind == "video":
            self.frame_label.show()
            self.top.setYRange(0, 1, padding=0)
            self.top.getViewBox().invertY(True)
            self.top.getAxis("left").setStyle(showValues=False)
            self.jobs.submit(Request(f"filmstrip_{self.slot}", media_tasks.read_filmstrip,
                                     (str(rec.path), 24), label=f"thumbnails of {name}"),
                             on_result=lambda result: self._show_strip(*result))
            self._request_frame(self.session.cursor[0 if self.slot == "a" else 1])
        else:
            self.frame_label.hide()
            self.top.getViewBox().invertY(False)
            self.top.getAxis("left").setStyle(showValues=True)
            self.top.setYRange(-1, 1, padding=0.02)
        if stream.display_feature:
            self._show_features(stream.features[stream.display_feature])
        else:
            self.image.clear()
        self._draw_wave()
        self._on_cursor_moved(*self.session.cursor)

    def _clear_strip(self) -> None:
        for item in self._strip_items:
            self.top.removeItem(item)
        self._strip_items = []

    def _show_features(self, feats) -> None:
        values = np.asarray(feats.values, dtype=np.float32)
        if values.ndim == 1:
            values = values[:, None]
        rate = float(feats.rate_hz)
        n = values.shape[0]
        shown = block_mean(values, MAX_IMAGE_COLUMNS).astype(np.float32)
        self.image.setImage(np.ascontiguousarray(shown.T), autoLevels=False,
                            levels=display_levels(shown, 1.0))
        self.image.setRect(QRectF(-0.5 / rate, 0.0, n / rate, values.shape[1]))
        self.bottom.setYRange(0, values.shape[1], padding=0)
        self.bottom.setLabel("left", feats.name)

    # ------------------------------------------------------------------ drawing
    def _draw_wave(self) -> None:
        if self._overview is None:
            return
        (t0, t1), _ = self.top.getViewBox().viewRange()
        t0, t1 = max(t0, 0.0), min(max(t1, 0.0), self._duration)
        width = max(200, int(self.top.getViewBox().width()))
        # one bin per pixel: a vertical min..max segment per pixel column, from the
        # pyramid, or a zoomed-in range's detail computed on a worker
        env = self._overview.pick(t0, t1, width)
        if env is None:
            detail = self._envelope
            if detail is not None and detail.covers(t0, t1, width):
                env = detail
            else:
                # draw what there is, ask a worker for this range (and half a view more
                # on each side, so that small pans reuse it)
                env = detail if detail is not None and (
                    detail.t0_s <= t0 and detail.t1_s >= t1) else self._overview.finest
                self._request_wave(t0, t1, width)
        t, lo, hi = env.slice(t0, t1)
        if len(t) == 0:
            self.wave.setData([], [])
            return
        x = np.repeat(t, 2)
        y = np.empty(2 * len(t), dtype=np.float32)
        y[0::2] = lo
        y[1::2] = hi
        self.wave.setData(x, y)

    def _request_wave(self, t0: float, t1: float, width: int) -> None:
        rec = self.session.recording(self.slot)
        if rec is None or t1 <= t0:
            return
        pad = 0.5 * (t1 - t0)
        r0, r1 = max(0.0, t0 - pad), min(self._duration, t1 + pad)
        n_bins = int(np.ceil(width * (r1 - r0) / (t1 - t0)))
        overview = self._overview

        def show(env):
            if self._overview is overview:  # still the same recording
                self._envelope = env
                self._draw_wave()

        self.jobs.submit(Request(f"wave_{self.slot}", media_tasks.wave_envelope,
                                 (rec, r0, r1, n_bins)), on_result=show)

    def visible_range(self) -> tuple[float, float]:
        (t0, t1), _ = self.bottom.getViewBox().viewRange()
        return float(t0), float(t1)

    def set_visible_range(self, t0: float, t1: float) -> None:
        self.bottom.setXRange(t0, t1, padding=0.0)

    def zoom(self, factor: float, centre: float | None = None) -> None:
        t0, t1 = self.visible_range()
        c = 0.5 * (t0 + t1) if centre is None else centre
        self.set_visible_range(c - (c - t0) / factor, c + (t1 - c) / factor)

    def _request_frame(self, t: float) -> None:
        rec = self.session.recording(self.slot)
        if rec is None or rec.kind != "video":
            return
        k = int(round(t * rec.rate_hz))
        k = min(max(k, 0), int(rec.n_frames) - 1)
        if k == self._frame_k:
            return  # shown already, or on its way
        self._frame_k = k
        self.jobs.submit(Request(f"frame_{self.slot}", media_tasks.read_frame,
                                 (str(rec.path), k)), on_result=self._show_frame)

    # ------------------------------------------------------------------ session slots
    def _on_recording_opened(self, slot: str) -> None:
        if slot == self.slot:
            self._rebuild()

    def _on_recording_closed(self, slot: str) -> None:
        if slot == self.slot:
            self._show_empty()

    def _on_recordings_swapped(self) -> None:
        self._rebuild()

    def _on_features_added(self, slot: str, name: str) -> None:
        stream = self.session.stream(self.slot)
        if slot == self.slot and stream is not None and stream.display_feature == name:
            self._show_features(stream.features[name])

    def _on_envelope_added(self, slot: str) -> None:
        if slot == self.slot:
            self._envelope, self._overview = None, self.session.stream(slot).envelope
            self._draw_wave()

    def _on_cursor_moved(self, time_a: float, time_b: float) -> None:
        t = time_a if self.slot == "a" else time_b
        for line in self.cursor_lines:
            line.setValue(t)
        t0, t1 = self.visible_range()
        if self.session.recording_info(self.slot) is not None and not (t0 <= t <= t1):
            half = 0.5 * (t1 - t0)
            self.set_visible_range(t - half, t + half)
        self._request_frame(t)

    def show_frame(self, k: int, rgb: np.ndarray | None) -> None:
        """Playback's prefetch has frame ``k`` in hand (``rgb``; None: the image shown
        stays, the frame is late): no worker is asked for it."""
        self._frame_k = int(k)
        if rgb is not None:
            self._show_frame(rgb)

    def _show_frame(self, rgb: np.ndarray) -> None:
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        h, w = rgb.shape[:2]
        qimg = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        pix = QPixmap.fromImage(qimg).scaled(
            self.frame_label.width(), max(self.frame_label.height(), 10),
            Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        self.frame_label.setPixmap(pix)

    def _show_strip(self, times: np.ndarray, thumbs: list) -> None:
        self._clear_strip()
        if not len(times):
            return
        width_s = self._duration / len(times)
        for t, thumb in zip(times, thumbs, strict=True):
            item = pg.ImageItem(np.ascontiguousarray(thumb), axisOrder="row-major")
            item.setRect(QRectF(float(t), 0.0, width_s, 1.0))
            self.top.addItem(item)
            self._strip_items.append(item)
        self.top.setYRange(0, 1, padding=0)

    # ------------------------------------------------------------------ mouse, drops
    def _on_scene_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.isAccepted():
            return
        if self.session.recording_info(self.slot) is None:
            return
        for plot in (self.top, self.bottom):
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(event.scenePos()):
                t = vb.mapSceneToView(event.scenePos()).x()
                self.session.move_cursor(self.slot, t)
                event.accept()
                return

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.file_dropped.emit(self.slot, urls[0].toLocalFile())
            event.acceptProposedAction()
