"""Units as coloured blocks under a stream view (colour = kind: repeated sections share a
colour; a unit the assignment leaves unmatched has a dashed red outline).

Mouse: drag a boundary to move it; click a block to move the cursor there; the context
menu splits the unit under the cursor at the cursor, or merges the unit under the mouse
with its neighbour. Each edit hands the new unit list to the controller, which recomputes
kinds and assignment on a worker. GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QMenu, QSizePolicy, QWidget

from core.structure import Unit

__all__ = ["UnitLane", "KIND_COLOURS", "kind_colour", "kind_name"]

KIND_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2",
                "#ff9da7", "#9c755f", "#e15759", "#bab0ac")
#: a boundary is grabbed within this many pixels
GRAB_PX = 5


def kind_colour(kind: int) -> QColor:
    if kind < 0:
        return QColor("#606060")
    return QColor(KIND_COLOURS[kind % len(KIND_COLOURS)])


def kind_name(kind: int) -> str:
    if kind < 0:
        return "?"
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[kind % 26] + ("" if kind < 26 else str(kind // 26))


class UnitLane(QWidget):
    """The units of one stream, drawn under ``view`` (a StreamView) in its time range."""

    def __init__(self, controller, view, slot: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.view = view
        self.slot = slot
        self.setFixedHeight(22)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setToolTip("units (colour: kind). Drag a boundary to move it; right-click to "
                        "split at the cursor or merge neighbours")
        self._drag: int | None = None     # index of the unit whose start is dragged
        self._drag_units: list | None = None
        self._pressed_at: QPoint | None = None
        self.context_menu: QMenu | None = None
        view.bottom.sigXRangeChanged.connect(lambda *_: self.update())

    # ------------------------------------------------------------------ geometry
    def units(self) -> list:
        if self._drag_units is not None:
            return self._drag_units
        return self.controller.lane_units(self.slot)

    def _span(self) -> tuple[float, float, float, float]:
        """(left px, right px, t0, t1): where the stream's plot area lies in this widget."""
        vb = self.view.bottom.getViewBox()
        rect = self.view.plots.mapFromScene(vb.sceneBoundingRect()).boundingRect()
        left = self.mapFrom(self.view, self.view.plots.mapTo(self.view, rect.topLeft())).x()
        (t0, t1), _ = vb.viewRange()
        return float(left), float(left + rect.width()), float(t0), float(t1)

    def x_of(self, t: float) -> float:
        left, right, t0, t1 = self._span()
        return left + (t - t0) / max(t1 - t0, 1e-9) * (right - left)

    def t_of(self, x: float) -> float:
        left, right, t0, t1 = self._span()
        return t0 + (x - left) / max(right - left, 1e-9) * (t1 - t0)

    def unit_at(self, t: float) -> int | None:
        for k, u in enumerate(self.units()):
            if u.start_s <= t < u.end_s:
                return k
        return None

    def boundary_near(self, x: float) -> int | None:
        """Index k of the unit whose start (k >= 1) is within GRAB_PX of ``x``."""
        units = self.units()
        best = None
        for k in range(1, len(units)):
            d = abs(self.x_of(units[k].start_s) - x)
            if d <= GRAB_PX and (best is None or d < best[0]):
                best = (d, k)
        return None if best is None else best[1]

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#1e1e1e"))
        units = self.units()
        unmatched = self.controller.unmatched(self.slot)
        h = self.height()
        for k, u in enumerate(units):
            x0, x1 = self.x_of(u.start_s), self.x_of(u.end_s)
            if x1 < 0 or x0 > self.width():
                continue
            rect = QRectF(x0, 2, max(1.0, x1 - x0), h - 4)
            p.fillRect(rect, kind_colour(u.kind))
            if k in unmatched:
                p.setPen(QPen(QColor("#ff3030"), 2, Qt.PenStyle.DashLine))
                p.drawRect(rect.adjusted(1, 1, -1, -1))
            if x1 - x0 > 16:
                p.setPen(QColor("#000000"))
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, kind_name(u.kind))
        p.setPen(QPen(QColor("#ffffff"), 1))
        for u in units[1:]:
            x = self.x_of(u.start_s)
            p.drawLine(int(round(x)), 0, int(round(x)), h)
        p.end()

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.MouseButton.LeftButton or not self.units():
            return super().mousePressEvent(event)
        x = event.position().x()
        k = self.boundary_near(x)
        if k is not None:
            self._drag = k
            self._drag_units = list(self.units())
        self._pressed_at = event.position().toPoint()
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        x = event.position().x()
        if self._drag is None:
            near = self.units() and self.boundary_near(x) is not None
            self.setCursor(Qt.CursorShape.SizeHorCursor if near else Qt.CursorShape.ArrowCursor)
            return
        units = self._drag_units
        k = self._drag
        rate = units[k].rate_hz
        frame = int(round(self.t_of(x) * rate))
        frame = min(max(frame, units[k - 1].start + 1), units[k].end - 1)
        units[k - 1] = Unit(units[k - 1].start, frame, rate, units[k - 1].kind)
        units[k] = Unit(frame, units[k].end, rate, units[k].kind)
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mouseReleaseEvent(event)
        if self._drag is not None:
            units, before = self._drag_units, self.controller.lane_units(self.slot)
            self._drag, self._drag_units = None, None
            if [u.start for u in units] != [u.start for u in before]:
                self.controller.edit_units(self.slot, units, "moved a unit boundary")
            self.update()
        elif self._pressed_at is not None and self.units():
            self.controller.session.move_cursor(self.slot, self.t_of(event.position().x()))
        self._pressed_at = None

    def contextMenuEvent(self, event) -> None:  # noqa: N802 - Qt override
        units = self.units()
        if not units:
            return
        menu = QMenu(self)
        cursor = self.controller.session.cursor[0 if self.slot == "a" else 1]
        k = self.unit_at(cursor)
        split = menu.addAction(f"Split the unit at the cursor ({cursor:.2f} s)")
        rate = units[0].rate_hz
        cut = int(round(cursor * rate))
        split.setEnabled(k is not None and units[k].start < cut < units[k].end)
        split.triggered.connect(lambda: self.split(cursor))
        here = self.unit_at(self.t_of(event.pos().x()))
        prev_ = menu.addAction("Merge with the previous unit")
        prev_.setEnabled(here is not None and here > 0)
        prev_.triggered.connect(lambda: self.merge(here - 1))
        next_ = menu.addAction("Merge with the next unit")
        next_.setEnabled(here is not None and here < len(units) - 1)
        next_.triggered.connect(lambda: self.merge(here))
        self.context_menu = menu
        menu.popup(event.globalPos())

    # ------------------------------------------------------------------ edits
    def split(self, t: float) -> bool:
        """Split the unit holding time ``t`` at ``t`` (nearest frame)."""
        units = list(self.controller.lane_units(self.slot))
        k = self.unit_at(t)
        if k is None:
            return False
        u = units[k]
        cut = int(round(t * u.rate_hz))
        if not u.start < cut < u.end:
            return False
        units[k:k + 1] = [Unit(u.start, cut, u.rate_hz, u.kind),
                          Unit(cut, u.end, u.rate_hz, u.kind)]
        self.controller.edit_units(self.slot, units, f"split a unit at {t:.2f} s")
        return True

    def merge(self, k: int) -> bool:
        """Merge unit ``k`` with unit ``k + 1``."""
        units = list(self.controller.lane_units(self.slot))
        if not 0 <= k < len(units) - 1:
            return False
        a, b = units[k], units[k + 1]
        units[k:k + 2] = [Unit(a.start, b.end, a.rate_hz, a.kind)]
        self.controller.edit_units(self.slot, units, "merged two units")
        return True
