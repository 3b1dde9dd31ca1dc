"""Anchors on the streams: each anchor of the active result is a marker on A and a marker
on B, joined by a line drawn across the two stream views; dragging either marker moves
that side of the anchor (snapped to the nearest onset of that recording within
:data:`SNAP_S`; hold Alt to place it freely)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QApplication, QWidget

from ..jobs import Request

__all__ = ["StreamMarkers", "onset_times", "snap", "SNAP_S"]

SNAP_S = 0.12
ONSET_RATE_HZ = 100.0


def onset_times(recording, *, progress=None, cancel=None) -> np.ndarray:
    """Worker: the onset times (s) of an audio recording: peaks of its onset strength
    above its mean plus half a standard deviation (empty for a video)."""
    from core.features import compute_features

    if recording.kind != "audio":
        return np.zeros(0)
    f = compute_features(recording, "onset", rate_hz=ONSET_RATE_HZ, cancel=cancel)
    x = np.asarray(f.values, dtype=float).reshape(len(f.values), -1).sum(axis=1)
    if len(x) < 3:
        return np.zeros(0)
    peak = (x[1:-1] > x[:-2]) & (x[1:-1] >= x[2:]) & (x[1:-1] > x.mean() + 0.5 * x.std())
    return (np.flatnonzero(peak) + 1) / float(f.rate_hz)


def snap(t: float, onsets: np.ndarray | None, radius_s: float = SNAP_S) -> float:
    """``t`` moved to the nearest onset within ``radius_s`` (unchanged when none)."""
    if onsets is None or len(onsets) == 0:
        return t
    k = int(np.argmin(np.abs(onsets - t)))
    return float(onsets[k]) if abs(onsets[k] - t) <= radius_s else t


class _Joins(QWidget):
    """Lines from each anchor's marker on A to its marker on B, over the stream views
    (transparent for the mouse)."""

    def __init__(self, markers, parent):
        super().__init__(parent)
        self.markers = markers
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        lines = self.markers.join_points(self)
        if not lines:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#ffe060"), 1.5, Qt.PenStyle.DotLine))
        for p, q in lines:
            painter.drawLine(p, q)
        painter.end()


class StreamMarkers:
    """The anchors of the editor's result on both stream views."""

    def __init__(self, window, editor):
        self.window = window
        self.editor = editor
        self.session = window.session
        self.views = window.stream_views
        self.lines: dict[str, list[pg.InfiniteLine]] = {"a": [], "b": []}
        self.onsets: dict[str, np.ndarray | None] = {"a": None, "b": None}
        self.joins = _Joins(self, window.centralWidget())
        self.joins.setGeometry(window.centralWidget().rect())
        self.joins.raise_()
        editor.session.active_alignment_changed.connect(lambda *_: self.redraw())
        editor.session.alignment_edited.connect(lambda *_: self.redraw())
        editor.session.recording_opened.connect(self._on_recording_opened)
        editor.session.recordings_swapped.connect(self._on_swapped)
        for view in self.views.values():
            view.top.getViewBox().sigRangeChanged.connect(lambda *_: self.joins.update())
        self._resize = _Resize(self, window)
        window.installEventFilter(self._resize)
        editor.resolved.connect(lambda *_: self.redraw())

    # ------------------------------------------------------------------ onsets
    def _on_recording_opened(self, slot: str) -> None:
        self.onsets[slot] = None
        stream = self.session.stream(slot)
        if stream is None:
            return
        rec = stream.recording

        def done(times, slot=slot, rec=rec):
            s = self.session.stream(slot)
            if s is not None and s.recording is rec:
                self.onsets[slot] = np.asarray(times)

        self.window.jobs.submit(Request(f"onsets_{slot}", onset_times, (rec,),
                                        label="onsets"), on_result=done)
        self.redraw()

    def _on_swapped(self) -> None:
        self.onsets = {"a": self.onsets["b"], "b": self.onsets["a"]}
        self.redraw()

    # ------------------------------------------------------------------ drawing
    def redraw(self) -> None:
        c = self.editor.constraints()
        for slot, view in self.views.items():
            lines = self.lines[slot]
            while len(lines) > len(c.anchors):
                view.top.removeItem(lines.pop())
            while len(lines) < len(c.anchors):
                line = pg.InfiniteLine(angle=90, movable=True,
                                       pen=pg.mkPen("#ffe060", width=2),
                                       hoverPen=pg.mkPen("#ffffff", width=3))
                line.setZValue(30)
                k = len(lines)
                line.sigPositionChangeFinished.connect(
                    lambda ln, s=slot, k=k: self._on_moved(s, k, ln.value()))
                view.top.addItem(line, ignoreBounds=True)
                lines.append(line)
            for line, a in zip(lines, c.anchors, strict=True):
                line.blockSignals(True)
                line.setValue(a.time_a_s if slot == "a" else a.time_b_s)
                line.blockSignals(False)
        self.joins.update()

    def join_points(self, widget) -> list[tuple[QPointF, QPointF]]:
        out = []
        va, vb = self.views["a"], self.views["b"]
        if not va.isVisible() or not vb.isVisible():
            return out
        for la, lb in zip(self.lines["a"], self.lines["b"], strict=False):
            pa = self._point(va, la.value(), widget, bottom=True)
            pb = self._point(vb, lb.value(), widget, bottom=False)
            if pa is not None and pb is not None:
                out.append((pa, pb))
        return out

    @staticmethod
    def _point(view, t, widget, *, bottom):
        vbox = view.top.getViewBox()
        (x0, x1), _ = vbox.viewRange()
        if not (x0 <= t <= x1):
            return None
        scene = vbox.mapViewToScene(QPointF(t, 0.0))
        local = view.plots.mapFromScene(scene)
        rect = vbox.sceneBoundingRect()
        y = rect.bottom() if bottom else rect.top()
        local.setY(view.plots.mapFromScene(QPointF(scene.x(), y)).y())
        return QPointF(widget.mapFromGlobal(view.plots.mapToGlobal(local)))

    # ------------------------------------------------------------------ moving
    def _on_moved(self, slot: str, index: int, t: float) -> None:
        c = self.editor.constraints()
        if index >= len(c.anchors):
            return
        free = bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.AltModifier)
        t = float(t) if free else snap(float(t), self.onsets[slot])
        a = c.anchors[index]
        ta, tb = (t, a.time_b_s) if slot == "a" else (a.time_a_s, t)
        self.editor.selected = index
        self.editor.commit(c.moved_anchor(index, ta, tb), f"move anchor on {slot.upper()}")


class _Resize(QObject):
    """Keeps the join overlay the size of the central widget."""

    def __init__(self, markers, parent):
        super().__init__(parent)
        self.markers = markers

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        from PySide6.QtCore import QEvent

        if event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest):
            central = self.markers.window.centralWidget()
            self.markers.joins.setGeometry(central.rect())
            self.markers.joins.raise_()
        return False
