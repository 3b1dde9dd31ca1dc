"""One time range per recording, shared by every view that shows it.

The streams show A or B, the matrix and the heatmap A (x) against B (y), the
diagnostics A. Zooming or panning any of them sets the range of the recording(s) it
shows; a view of one recording moves the other one through the active alignment (the
range of A mapped to B, or back). Every other view follows one event-loop turn later
(the shared :class:`~inspector.views.common.TurnQueue`, latest range wins), so a wheel
step repaints one view per turn. ``reset()`` (Ctrl+0) shows both recordings whole
everywhere, ``zoom(factor)`` zooms both about the cursor. While playing, a zoomed range
pages on when the play cursor reaches its right edge (or leaves it: a loop, a jump),
so the views follow what is heard (:meth:`LinkedZoom.follow`).

GUI thread. Installed by :func:`install_linked_zoom`.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QObject, QTimer

from .common import start_within, turn_queue

__all__ = ["LinkedZoom", "install_linked_zoom"]

#: a range mapped through a stall is widened to at least this fraction of its source
MIN_MAPPED_FRACTION = 0.05
#: while playing, a range pages on when the cursor is this close to its right edge
#: (fraction of the width), and the new range starts this far before the cursor
FOLLOW_EDGE = 0.02
FOLLOW_LEAD = 0.1
#: during a continuous pan or zoom, the other views follow at most this often (ms): each
#: follow repaints four views (streams, diagnostics, heatmap), about 15-30 ms each on an
#: hour-long pair; every 100 ms, next to the dragged view's own repaints, it left the
#: event loop no time (matrix pan of the hour-long pair: worst pause 24-37 -> 227 ms)
FOLLOW_INTERVAL_MS = 250


class LinkedZoom(QObject):
    """The shared ranges of A and B (seconds) and the views that follow them."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.ranges: dict[str, tuple[float, float] | None] = {"a": None, "b": None}
        self._applying = False
        self._excluded = None  # the view the last change came from (it has the range)
        self._last_apply = -1e9
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._flush)
        w = window
        # what the user does (mouse wheel, drag) on a view is a source
        for slot, view in w.stream_views.items():
            for plot in (view.top, view.bottom):
                plot.getViewBox().sigRangeChangedManually.connect(
                    lambda *_, v=view, s=slot: self._from_one(s, v.visible_range()))
        for plot in (w.diagnostics.cost_plot, w.diagnostics.tempo_plot,
                     w.diagnostics.conf_plot):
            vb = plot.getViewBox()
            vb.sigRangeChangedManually.connect(
                lambda *_, vb=vb: self._from_one("a", tuple(vb.viewRange()[0])))
        hm = w.heatmap
        for plot in (hm.main, hm.top, hm.side):
            plot.getViewBox().sigRangeChangedManually.connect(
                lambda *_: self._from_two(hm.main.getViewBox()))
        # the matrix: any change of its range (set_view_seconds is its zoom)
        w.matrix.plot.getViewBox().sigRangeChanged.connect(
            lambda vb, *_: self._from_two(vb))
        self.session.recording_opened.connect(self._forget)
        self.session.recordings_swapped.connect(self._on_swapped)
        self.session.active_alignment_changed.connect(lambda *_: self._reapply())
        playback = getattr(window, "playback", None)
        if playback is not None:
            playback.position_changed.connect(lambda a, b, _s: self.follow(a, b))

    # ------------------------------------------------------------------ sources
    def _from_one(self, slot: str, rng) -> None:
        if self._applying:
            return
        t0, t1 = float(rng[0]), float(rng[1])
        self.ranges[slot] = (t0, t1)
        other = "b" if slot == "a" else "a"
        mapped = self._map(slot, t0, t1)
        if mapped is not None:
            self.ranges[other] = mapped
        self._apply(exclude=None)

    def _from_two(self, vb) -> None:
        if self._applying:
            return
        (x0, x1), (y0, y1) = vb.viewRange()
        self.ranges["a"] = (float(x0), float(x1))
        self.ranges["b"] = (float(y0), float(y1))
        self._apply(exclude=vb)

    def _map(self, slot: str, t0: float, t1: float):
        """The range of the other recording that ``[t0, t1]`` of ``slot`` aligns with."""
        al = self.session.active_alignment()
        if al is None:
            return None
        fn = al.map_a_to_b if slot == "a" else al.map_b_to_a
        u0, u1 = float(fn(t0)), float(fn(t1))
        if not (math.isfinite(u0) and math.isfinite(u1)):
            return None
        # outside the recording the map is flat: carry the view's overhang over
        dur_src = self.session.duration(slot)
        u0 -= max(0.0, -t0)
        u1 += max(0.0, t1 - dur_src)
        width = max(u1 - u0, MIN_MAPPED_FRACTION * (t1 - t0))
        c = 0.5 * (u0 + u1)
        return c - width / 2, c + width / 2

    # ------------------------------------------------------------------ followers
    def _targets(self):
        w = self.window
        return [
            (w.stream_a.bottom.getViewBox(), "a", lambda r: w.stream_a.set_visible_range(*r)),
            (w.stream_b.bottom.getViewBox(), "b", lambda r: w.stream_b.set_visible_range(*r)),
            (w.diagnostics.cost_plot.getViewBox(), "a",
             lambda r: w.diagnostics.cost_plot.setXRange(*r, padding=0.0)),
            (w.matrix.plot.getViewBox(), "ab",
             lambda ra, rb: w.matrix.set_view_seconds(*ra, *rb)),
            (w.heatmap.main.getViewBox(), "ab",
             lambda ra, rb: w.heatmap.main.setRange(xRange=ra, yRange=rb, padding=0.0)),
        ]

    @property
    def n_pending(self) -> int:
        """1 while followers wait for the throttle, else 0 (tests wait for it)."""
        return int(self._timer.isActive())

    def _apply(self, exclude=None) -> None:
        """Let every other view follow: at once after a pause, at most every
        :data:`FOLLOW_INTERVAL_MS` during a continuous pan or zoom (each follower
        repaints; 30 pan steps a second would repaint five views 30 times)."""
        self._excluded = exclude
        wait_ms = FOLLOW_INTERVAL_MS - 1000.0 * (time.monotonic() - self._last_apply)
        if wait_ms > 0:
            if not self._timer.isActive():
                self._timer.start(int(wait_ms) + 1)
            return
        self._flush()

    def _flush(self) -> None:
        self._timer.stop()
        self._last_apply = time.monotonic()
        excluded, self._excluded = self._excluded, None
        queue = turn_queue(self.session)
        for vb, slots, setter in self._targets():
            if vb is excluded:
                continue
            queue.queue(vb, lambda vb=vb, slots=slots, setter=setter:
                        self._set(vb, slots, setter))

    def _set(self, vb, slots: str, setter) -> None:
        ranges = [self.ranges[s] for s in slots]
        if any(r is None for r in ranges):
            return
        self._applying = True
        try:
            setter(*ranges)
        finally:
            self._applying = False

    def _reapply(self) -> None:
        if self.ranges["a"] is not None or self.ranges["b"] is not None:
            self._apply()

    def _forget(self, slot: str) -> None:
        self.ranges[slot] = None

    def _on_swapped(self) -> None:
        self.ranges = {"a": self.ranges["b"], "b": self.ranges["a"]}

    def follow(self, time_a_s: float, time_b_s: float) -> None:
        """Page on a zoomed range that the play cursor reaches the right edge of, or
        has left (a loop back, a jump): the range keeps its width and starts a little
        before the cursor. A range that shows the rest of its recording stays. Before,
        the cursor ran out of a zoomed view and the user listened to what they could not
        see. Called at each playback tick (a few comparisons; a page is one apply)."""
        moved = False
        for slot, t in (("a", time_a_s), ("b", time_b_s)):
            rng = self.ranges[slot]
            if rng is None or not math.isfinite(t):
                continue
            t0, t1 = rng
            width = t1 - t0
            if width <= 0 or t0 <= t <= t1 - FOLLOW_EDGE * width:
                continue
            if t0 <= t <= t1 and t1 >= self.session.duration(slot):
                continue  # the end of the recording is in view already
            # (a loop back to 0: from 0; near the end: the recording's last `width`)
            start = start_within(t - FOLLOW_LEAD * width, width, self.session.duration(slot))
            self.ranges[slot] = (start, start + width)
            moved = True
        if moved:
            self._apply()

    # ------------------------------------------------------------------ commands
    def reset(self) -> None:
        """Both recordings whole, in every view."""
        for slot in ("a", "b"):
            d = self.session.duration(slot)
            self.ranges[slot] = (0.0, d) if d > 0 else None
        self._apply()

    def zoom(self, factor: float) -> None:
        """Zoom both ranges by ``factor`` (2: in) about the cursor."""
        cursor = dict(zip(("a", "b"), self.session.cursor, strict=True))
        for slot, view in self.window.stream_views.items():
            t0, t1 = self.ranges[slot] or view.visible_range()
            c = cursor[slot]
            self.ranges[slot] = (c - (c - t0) / factor, c + (t1 - c) / factor)
        self._apply()


def install_linked_zoom(window) -> LinkedZoom:
    """Share the time ranges of A and B between the window's views; returns the link."""
    return LinkedZoom(window)
