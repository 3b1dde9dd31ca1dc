"""Annotation tiers drawn under a stream view: a third plot row, time-linked to it.

Each tier is one row: its name at the left edge, interval boundaries and point times
as vertical ticks, the intervals' extent as a line, labels as text. Tiers read from a
file are drawn in the stream's colour; tiers transferred from the other recording in
green with "→" before their name.

The transfer is redrawn at every change of the active path (live, during a
correction), so nothing is rebuilt that can be updated: each row keeps its plot items
(new data set into them), and the text items are a pool, moved and re-worded. Labels
are placed for the visible range only (at most :data:`MAX_LABELS`), again after every
pan or zoom. Setting the same tiers again draws nothing. GUI thread.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg

from core.formats import Tier
from core.formats.transfer import ZERO_LENGTH_S

from ..views.common import Debouncer

__all__ = ["AnnotationLane", "LaneTier", "OWN_COLOUR", "TRANSFERRED_COLOUR", "MAX_LABELS"]

TRANSFERRED_COLOUR = "#8ee07a"
OWN_COLOUR = {"a": "#7fb2ff", "b": "#ffb27f"}
COLLAPSED_COLOUR = "#ff6060"
MAX_LABELS = 120
ROW_HEIGHT_PX = 22
#: what the stream keeps above its lanes (waveform, feature image, time axis, title):
#: the pane grows to hold both, taking room from the matrix below, rather than
#: squeezing the recording (four lanes in a 150-px pane left it 5 px)
RECORDING_MIN_PX = 130
#: at most this much is asked of the window per stream (many tiers: the lanes are
#: squeezed again rather than the window made taller than a laptop's screen)
PANE_MIN_PX = 320
_NAME_FILL = (40, 44, 52, 220)


class _Row:
    """The plot items of one tier row (reused from one drawing to the next)."""

    def __init__(self, plot):
        self.ticks = pg.PlotDataItem(connect="pairs")
        self.spans = pg.PlotDataItem(connect="pairs")
        self.marks = pg.ScatterPlotItem(symbol="x", size=8, pen=pg.mkPen(COLLAPSED_COLOUR),
                                        brush=None)
        self.name = pg.TextItem("", color="#ffffff", anchor=(0.0, 0.5),
                                fill=pg.mkBrush(*_NAME_FILL))
        self.name.setZValue(5)
        self.colour = None
        for item in (self.ticks, self.spans, self.marks, self.name):
            plot.addItem(item)

    def items(self):
        return self.ticks, self.spans, self.marks, self.name


@dataclasses.dataclass(frozen=True, eq=False)
class LaneTier:
    """What a lane draws of a tier: its name, kind, the items' start and end times and
    labels (arrays), which intervals collapsed, and whether it was transferred."""

    name: str
    kind: str
    starts: np.ndarray
    ends: np.ndarray
    labels: tuple
    collapsed: np.ndarray
    moved: bool = False

    @classmethod
    def of(cls, tier: Tier) -> LaneTier:
        n = len(tier.items)
        if tier.kind == "interval":
            starts = np.fromiter((it.start_s for it in tier.items), np.float64, n)
            ends = np.fromiter((it.end_s for it in tier.items), np.float64, n)
            collapsed = np.fromiter((it.collapsed for it in tier.items), bool, n)
        else:
            starts = ends = np.fromiter((p.time_s for p in tier.items), np.float64, n)
            collapsed = np.zeros(n, bool)
        return cls(tier.name, tier.kind, starts, ends,
                   tuple(it.label for it in tier.items), collapsed)

    def mapped(self, mapper) -> LaneTier:
        """The tier with every time through ``mapper`` (a monotone time map, as
        :meth:`core.alignment.Alignment.map_a_to_b`): intervals that become (nearly)
        zero long are marked collapsed, as :func:`core.formats.transfer_annotation`
        does."""
        starts = np.atleast_1d(mapper(self.starts)) if len(self.starts) else self.starts
        if self.kind == "point":
            return dataclasses.replace(self, starts=starts, ends=starts, moved=True)
        ends = np.maximum(np.atleast_1d(mapper(self.ends)), starts) if len(self.ends) \
            else self.ends
        collapsed = self.collapsed | ((self.ends - self.starts > ZERO_LENGTH_S)
                                      & (ends - starts <= ZERO_LENGTH_S))
        return dataclasses.replace(self, starts=starts, ends=ends, collapsed=collapsed,
                                   moved=True)


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
        self.plot.getAxis("left").setTicks([[], []])  # names are drawn in the plot
        self.plot.setXLink(view.bottom)
        self.plot.getViewBox().invertY(True)
        self.rows: list[LaneTier] = []
        self._row_items: list[_Row] = []
        self._labels: list[pg.TextItem] = []  # the pool; the first _n_labels are shown
        self._n_labels = 0
        self._base_min_height = view.minimumHeight()
        self._relabel = Debouncer(self._place_labels, 40, view)
        self.plot.sigXRangeChanged.connect(lambda *_: self._relabel.trigger())
        self._show(False)

    # ------------------------------------------------------------------ public
    def set_tiers(self, own, transferred) -> None:
        """Draw ``own`` tiers (read on this recording) above ``transferred`` ones
        (:class:`LaneTier` objects)."""
        rows = list(own) + list(transferred)
        if len(rows) == len(self.rows) and all(
                a is b for a, b in zip(rows, self.rows, strict=True)):
            return  # the same tiers: nothing to draw
        resized = len(rows) != len(self.rows)
        self.rows = rows
        while len(self._row_items) < len(rows):
            self._row_items.append(_Row(self.plot))
        for extra in self._row_items[len(rows):]:
            for item in extra.items():
                item.setVisible(False)
        for k, tier in enumerate(rows):
            self._draw_tier(k, tier)
        if resized:
            self._show(bool(rows))
            if rows:
                self.plot.setYRange(0, len(rows), padding=0.02)
        self._place_labels()

    def label_texts(self) -> list[str]:
        """The labels now shown (tests)."""
        return [item.toPlainText() for item in self._labels[: self._n_labels]]

    def tier_names(self) -> list[str]:
        """The tier names now shown, top to bottom (tests)."""
        return [r.name.toPlainText() for r in self._row_items[: len(self.rows)]]

    # ------------------------------------------------------------------ drawing
    def _show(self, on: bool) -> None:
        self.plot.setVisible(on)
        height = ROW_HEIGHT_PX * max(len(self.rows), 1) + 6 if on else 0
        self.plot.setMaximumHeight(height)
        self.plot.setMinimumHeight(height)
        self.view.plots.ci.layout.setRowStretchFactor(2, 0)
        self.view.setMinimumHeight(max(self._base_min_height,
                                       min(RECORDING_MIN_PX + height, PANE_MIN_PX)
                                       if on else 0))

    def _colour(self, tier: LaneTier) -> str:
        return TRANSFERRED_COLOUR if tier.moved else OWN_COLOUR[self.slot]

    def _draw_tier(self, row: int, tier: LaneTier) -> None:
        items = self._row_items[row]
        for item in items.items():
            item.setVisible(True)
        colour = self._colour(tier)
        starts, ends, collapsed = tier.starts, tier.ends, tier.collapsed
        if items.colour != colour:
            items.ticks.setPen(pg.mkPen(colour, width=1))
            items.spans.setPen(pg.mkPen(colour, width=3))
            items.colour = colour
        name = ("→ " if tier.moved else "") + tier.name
        if items.name.toPlainText() != name:
            items.name.setText(name)
        # a tick at every boundary (pairs of points: one segment each)
        bounds = np.unique(np.concatenate([starts, ends]))
        items.ticks.setData(np.repeat(bounds, 2), np.tile([row + 0.15, row + 0.85],
                                                          len(bounds)))
        if tier.kind == "interval" and len(starts):
            xs = np.column_stack([starts, ends]).ravel()
            items.spans.setData(xs, np.full(len(xs), row + 0.8))  # under the labels
        else:
            items.spans.setData([], [])
        items.marks.setData(starts[collapsed], np.full(int(collapsed.sum()), row + 0.5))

    def _label(self, k: int) -> pg.TextItem:
        while len(self._labels) <= k:
            item = pg.TextItem("", anchor=(0.0, 0.5))
            self.plot.addItem(item)
            self._labels.append(item)
        return self._labels[k]

    def _place_labels(self) -> None:
        view_box = self.plot.getViewBox()
        (t0, t1), _ = view_box.viewRange()
        seconds_per_px = view_box.viewPixelSize()[0]
        n = 0
        budget = MAX_LABELS
        for row, tier in enumerate(self.rows):
            starts, ends, labels = tier.starts, tier.ends, tier.labels
            name = self._row_items[row].name
            name.setPos(t0, row + 0.5)
            # a label is never drawn under the name's opaque box (the first interval's,
            # or a long one's when zoomed in): it starts right of it, its tick still at
            # its time
            free = t0 + (name.textItem.boundingRect().width() + 3) * seconds_per_px
            colour = self._colour(tier)
            visible = np.flatnonzero((ends >= t0) & (starts <= t1))
            visible = [k for k in visible if labels[k]]
            if len(visible) > budget:
                step = len(visible) / budget
                visible = [visible[int(j * step)] for j in range(budget)]
            budget -= len(visible)
            for k in visible:
                item = self._label(n)
                if item.toPlainText() != labels[k]:
                    item.setText(labels[k])
                item.setColor(colour)
                item.setPos(max(starts[k], free), row + 0.5)
                item.setVisible(True)
                n += 1
            if budget <= 0:
                break
        for item in self._labels[n: self._n_labels]:
            item.setVisible(False)
        self._n_labels = n
