"""The matrix's editing layer: a transparent item over the cost matrix that takes the
drags the editor wants (an anchor handle; Ctrl+drag: a span of A) and leaves every other
mouse event to the view (pan, zoom, clicks)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt

__all__ = ["EditLayer", "HIT_PIXELS"]

#: how near (screen pixels) a press must be to an anchor to grab it
HIT_PIXELS = 9.0


class EditLayer(pg.GraphicsObject):
    """Grabs anchor handles and Ctrl+drags on the matrix; paints nothing."""

    def __init__(self, editor):
        super().__init__()
        self.editor = editor
        self._mode = None
        self.setZValue(40)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(-1e7, -1e7, 2e7, 2e7)

    def paint(self, *args) -> None:
        pass

    def mouseDragEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph override
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            pos = ev.buttonDownPos()
            k = self.editor.hit(pos.x(), pos.y())
            if k is not None:
                self._mode = ("anchor", k)
                self.editor.begin_drag(k)
            elif ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self._mode = ("span", pos.x())
            else:
                self._mode = None
                ev.ignore()
                return
        if self._mode is None:
            ev.ignore()
            return
        ev.accept()
        p = ev.pos()
        if self._mode[0] == "anchor":
            if ev.isFinish():
                self.editor.end_drag(p.x(), p.y())
                self._mode = None
            else:
                self.editor.drag_to(p.x(), p.y())
        else:
            self.editor.select_span(self._mode[1], p.x())
            if ev.isFinish():
                self._mode = None
