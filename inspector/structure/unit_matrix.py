"""The unit-by-unit matrix: the unit cost of every A unit (columns, left to right) against
every B unit (rows, bottom to top, as on the frame matrix), the assignment as white
squares, unmatched units as red crosses in the margins (A below, B on the left); the
margins' colours are the units' kinds. A click on a cell puts the cursor at the start of
both units. GUI thread.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .lanes import kind_colour, kind_name

__all__ = ["UnitMatrixView"]

MARGIN = 18


class UnitMatrixView(QWidget):
    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("unit-by-unit matrix: unit costs (dark: similar), the assignment "
                        "(white squares), unmatched units (red ×); click a cell to go there")

    def _grid(self):
        units = self.controller.units
        if units is None or not len(units.units_a) or not len(units.units_b):
            return None
        na, nb = len(units.units_a), len(units.units_b)
        w = (self.width() - MARGIN - 4) / na
        h = (self.height() - MARGIN - 4) / nb
        return units, na, nb, w, h

    def cell_rect(self, i: int, j: int) -> QRectF:
        """A unit ``i`` (column), B unit ``j`` (row from the bottom)."""
        _units, _na, nb, w, h = self._grid()
        return QRectF(MARGIN + i * w, 2 + (nb - 1 - j) * h, w, h)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        grid = self._grid()
        if grid is None:
            return None
        _units, na, nb, w, h = grid
        i = int((x - MARGIN) // w)
        j = nb - 1 - int((y - 2) // h)
        if 0 <= i < na and 0 <= j < nb and x >= MARGIN:
            return i, j
        return None

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#141414"))
        grid = self._grid()
        if grid is None:
            p.setPen(QColor("#a0a0a0"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       "units: Structure ▸ Find units")
            p.end()
            return
        units, na, nb, w, h = grid
        # the cells as one image scaled into place: a rectangle per cell was ~0.2 s of
        # painting for a few hundred units (benchmarks/structure/gui_pause.md)
        p.drawImage(QRectF(MARGIN, 2, na * w, nb * h), self._image(units))
        unmatched_a, unmatched_b = set(units.unmatched_a), set(units.unmatched_b)
        bottom = 2 + nb * h
        for i, u in enumerate(units.units_a):  # A's margin (below)
            rect = QRectF(MARGIN + i * w, bottom + 1, w, MARGIN - 3)
            p.fillRect(rect, kind_colour(u.kind))
            self._label(p, rect, "×" if i in unmatched_a else kind_name(u.kind),
                        i in unmatched_a)
        for j, u in enumerate(units.units_b):  # B's margin (left)
            rect = QRectF(1, 2 + (nb - 1 - j) * h, MARGIN - 3, h)
            p.fillRect(rect, kind_colour(u.kind))
            self._label(p, rect, "×" if j in unmatched_b else kind_name(u.kind),
                        j in unmatched_b)
        p.setPen(QPen(QColor("#ffffff"), 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for j, i in enumerate(units.matches):
            if i >= 0:
                p.drawRect(self.cell_rect(int(i), j).adjusted(2, 2, -2, -2))
        p.end()

    def _image(self, units) -> QImage:
        """The unit costs as an image, A units as columns, B units as rows from the
        bottom (made once per set of units)."""
        cached = getattr(self, "_image_cache", None)
        if cached is not None and cached[0] is units:
            return cached[1]
        c = np.asarray(units.costs, dtype=float)
        finite = c[np.isfinite(c)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        v = np.where(np.isfinite(c), (c - lo) / max(hi - lo, 1e-12), 1.0)
        g = (30 + 200 * v).astype(np.int64).T[::-1]          # rows: B from the top
        rgb = np.stack([g // 3, g // 2, g], axis=-1).astype(np.uint8)
        rgb = np.ascontiguousarray(rgb)
        rows, cols = rgb.shape[:2]
        image = QImage(rgb.data, cols, rows, 3 * cols, QImage.Format.Format_RGB888).copy()
        self._image_cache = (units, image)
        return image

    @staticmethod
    def _label(p, rect, text, unmatched):
        p.setPen(QColor("#ff2020") if unmatched else QColor("#000000"))
        font = p.font()
        font.setBold(unmatched)
        p.setFont(font)
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        cell = self.cell_at(event.position().x(), event.position().y())
        if cell is None:
            return
        units = self.controller.units
        i, j = cell
        self.controller.session.move_cursor_to(units.units_a[i].start_s,
                                               units.units_b[j].start_s)
        event.accept()
