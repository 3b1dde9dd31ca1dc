"""Annotation tiers drawn under a stream view: a third plot row, time-linked to it.

Each tier is one row: its name at the left edge, interval boundaries and point times
as vertical ticks, the intervals' extent as a line, labels as text. Tiers read from a file are drawn in the
stream's colour; tiers transferred from the other recording in green with "→" before
their name. Labels are placed for the visible range only (at most
:data:`MAX_LABELS`), again after every pan or zoom, so a tier of thousands of labels
costs no more than a screenful. GUI thread.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from core.formats import Tier

from ..views.common import Debouncer

__all__ = ["AnnotationLane", "OWN_COLOUR", "TRANSFERRED_COLOUR", "MAX_LABELS"]

TRANSFERRED_COLOUR = "#8ee07a"
OWN_COLOUR = {"a": "#7fb2ff", "b": "#ffb27f"}
COLLAPSED_COLOUR = "#ff6060"
MAX_LABELS = 160
ROW_HEIGHT_PX = 22


class AnnotationLane:
    """The tiers under one :class:`~inspector.views.stream.StreamView` (hidden while it
    has none). ``set_tiers(own, transferred)`` replaces what is drawn."""

    def __init__(self, view, slot: str):
        self.view = view
        self.slot = slot
        self.plot = view.plots.addPlot(row=2, col=0)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.hideAxis("bottom")
        self.plot.getAxis("left").setWidth(42)
        self.plot.setXLink(view.bottom)
        self.plot.getViewBox().invertY(True)
        self.rows: list[tuple[Tier, bool]] = []  # (tier, transferred)
        self._items: list = []
        self._labels: list[pg.TextItem] = []
        self._names: list[pg.TextItem] = []
        self._relabel = Debouncer(self._place_labels, 40, view)
        self.plot.sigXRangeChanged.connect(lambda *_: self._relabel.trigger())
        self._show(False)

    # ------------------------------------------------------------------ public
    def set_tiers(self, own, transferred) -> None:
        """Draw ``own`` tiers (read on this recording) above ``transferred`` ones."""
        self.rows = [(t, False) for t in own] + [(t, True) for t in transferred]
        self._clear()
        self._show(bool(self.rows))
        if not self.rows:
            return
        for k, (tier, moved) in enumerate(self.rows):
            colour = TRANSFERRED_COLOUR if moved else OWN_COLOUR[self.slot]
            self._draw_tier(tier, k, colour)
        self.plot.getAxis("left").setTicks([[], []])  # names are drawn in the plot
        self.plot.setYRange(0, len(self.rows), padding=0.02)
        self._place_labels()

    def label_texts(self) -> list[str]:
        """The labels now shown (tests)."""
        return [item.toPlainText() for item in self._labels]

    def tier_names(self) -> list[str]:
        """The tier names now shown, top to bottom (tests)."""
        return [item.toPlainText() for item in self._names]

    # ------------------------------------------------------------------ drawing
    def _show(self, on: bool) -> None:
        layout = self.view.plots.ci.layout
        self.plot.setVisible(on)
        n = max(len(self.rows), 1)
        height = ROW_HEIGHT_PX * n + 6 if on else 0
        self.plot.setMaximumHeight(height)
        self.plot.setMinimumHeight(height)
        layout.setRowStretchFactor(2, 0)

    def _clear(self) -> None:
        for item in self._items + self._labels + self._names:
            self.plot.removeItem(item)
        self._items, self._labels, self._names = [], [], []

    def _draw_tier(self, tier: Tier, row: int, colour: str) -> None:
        y0, y1 = row + 0.15, row + 0.85
        if tier.kind == "interval":
            starts = np.array([it.start_s for it in tier.items], np.float64)
            ends = np.array([it.end_s for it in tier.items], np.float64)
            collapsed = np.array([it.collapsed for it in tier.items], bool)
        else:
            starts = ends = np.array([p.time_s for p in tier.items], np.float64)
            collapsed = np.zeros(len(starts), bool)
        if not len(starts):
            return
        # ticks at every boundary (pairs of points: one segment each)
        bounds = np.unique(np.concatenate([starts, ends]))
        x = np.repeat(bounds, 2)
        y = np.tile([y0, y1], len(bounds))
        ticks = pg.PlotDataItem(x, y, connect="pairs", pen=pg.mkPen(colour, width=1))
        self._add(ticks)
        if tier.kind == "interval":
            mid = row + 0.8  # under the labels
            xs = np.column_stack([starts, ends]).ravel()
            spans = pg.PlotDataItem(xs, np.full(len(xs), mid), connect="pairs",
                                    pen=pg.mkPen(colour, width=3))
            self._add(spans)
        if collapsed.any():
            marks = pg.ScatterPlotItem(starts[collapsed], np.full(collapsed.sum(), 0.5 + row),
                                       symbol="x", size=8, pen=pg.mkPen(COLLAPSED_COLOUR),
                                       brush=None)
            self._add(marks)

    def _add(self, item) -> None:
        self.plot.addItem(item)
        self._items.append(item)

    def _place_labels(self) -> None:
        for item in self._labels + self._names:
            self.plot.removeItem(item)
        self._labels, self._names = [], []
        if not self.rows:
            return
        (t0, t1), _ = self.plot.getViewBox().viewRange()
        budget = MAX_LABELS
        for row, (tier, moved) in enumerate(self.rows):
            colour = TRANSFERRED_COLOUR if moved else OWN_COLOUR[self.slot]
            # the tier's name at the left edge of the view, over the labels
            name = pg.TextItem(("→ " if moved else "") + tier.name, color="#ffffff",
                               anchor=(0.0, 0.5), fill=pg.mkBrush(40, 44, 52, 220))
            name.setPos(t0, row + 0.5)
            name.setZValue(5)
            self.plot.addItem(name)
            self._names.append(name)
            if tier.kind == "interval":
                items = [(it.start_s, it.end_s, it.label) for it in tier.items]
            else:
                items = [(p.time_s, p.time_s, p.label) for p in tier.items]
            visible = [(s, e, text) for s, e, text in items if e >= t0 and s <= t1 and text]
            if len(visible) > budget:
                step = len(visible) / budget
                visible = [visible[int(k * step)] for k in range(budget)]
            budget -= len(visible)
            for s, _e, text in visible:
                label = pg.TextItem(text, color=colour, anchor=(0.0, 0.5))
                label.setPos(max(s, t0), row + 0.5)
                self.plot.addItem(label)
                self._labels.append(label)
            if budget <= 0:
                break
