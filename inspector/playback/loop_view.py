"""The loop region drawn on both streams: a shaded span on A (its edges can be dragged
to change the loop) and the same span mapped through the active alignment on B; a
single mark ([ or ]) shows as a dashed line until its partner is set. GUI thread."""

from __future__ import annotations

import pyqtgraph as pg

__all__ = ["LoopOverlay", "LOOP_BRUSH"]

LOOP_BRUSH = (80, 170, 255, 45)
_MARK_PEN = pg.mkPen((80, 170, 255), width=1, style=pg.QtCore.Qt.PenStyle.DashLine)


class LoopOverlay:
    """Keeps one region item per plot of each stream view in step with the controller's
    loop (``controller.loop``, seconds of A) and marks (``controller.loop_marks``)."""

    def __init__(self, controller, session, stream_views: dict):
        self.controller = controller
        self.session = session
        self.regions: dict[str, list[pg.LinearRegionItem]] = {}
        self.marks: dict[str, list[pg.InfiniteLine]] = {}
        self._updating = False
        for slot, view in stream_views.items():
            regions, marks = [], []
            for plot in (view.top, view.bottom):
                region = pg.LinearRegionItem(values=(0.0, 1.0), brush=LOOP_BRUSH,
                                             movable=(slot == "a"))
                region.setZValue(5)
                region.setToolTip("Loop region (drag its edges on A; [ and ] set it at "
                                  "A's cursor)")
                region.hide()
                plot.addItem(region, ignoreBounds=True)
                regions.append(region)
                if slot == "a":
                    region.sigRegionChangeFinished.connect(self._on_dragged)
                mark = pg.InfiniteLine(angle=90, movable=False, pen=_MARK_PEN)
                mark.setZValue(5)
                mark.hide()
                plot.addItem(mark, ignoreBounds=True)
                marks.append(mark)
            self.regions[slot] = regions
            self.marks[slot] = marks
        controller.loop_changed.connect(self.update)
        session.active_alignment_changed.connect(lambda *_: self.update())
        session.recordings_swapped.connect(self.update)
        if hasattr(session, "alignment_edited"):
            session.alignment_edited.connect(lambda *_: self.update())

    def span(self, slot: str) -> tuple[float, float] | None:
        """The loop in ``slot``'s seconds (B's through the active alignment), or None."""
        loop = self.controller.loop
        if loop is None:
            return None
        if slot == "a":
            return loop
        b0, b1 = (float(self.session.map_a_to_b(t)) for t in loop)
        return min(b0, b1), max(b0, b1)

    def update(self) -> None:
        self._updating = True
        try:
            single = [m for m in self.controller.loop_marks if m is not None]
            for slot, regions in self.regions.items():
                span = self.span(slot)
                for region in regions:
                    if span is None:
                        region.hide()
                    else:
                        region.setRegion(span)
                        region.show()
                mark_at = None
                if span is None and len(single) == 1:
                    mark_at = single[0] if slot == "a" else float(
                        self.session.map_a_to_b(single[0]))
                for mark in self.marks[slot]:
                    if mark_at is None:
                        mark.hide()
                    else:
                        mark.setValue(mark_at)
                        mark.show()
        finally:
            self._updating = False

    def _on_dragged(self, region) -> None:
        if self._updating or self.controller.loop is None:
            return
        a0, a1 = region.getRegion()
        try:
            self.controller.set_loop((a0, a1))
        except ValueError as exc:
            self.controller.notice.emit(str(exc))
            self.update()
