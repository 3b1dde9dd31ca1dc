"""Small pieces shared by the views: colours, time axes, image helpers, debounce."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QObject, QSize, Qt, QTimer
from PySide6.QtWidgets import QGraphicsItem, QLabel, QSizePolicy, QWidget

#: distinct colours for alignments (active first), readable on dark and light images
PATH_COLOURS = ("#ff4040", "#40c0ff", "#ffd040", "#60ff60", "#ff60ff", "#ffffff")
CURSOR_COLOUR = "#ffe060"
BACKGROUND = "#16181c"
#: the time range (s) a view shows before there is anything to show: from 0 (pyqtgraph's
#: empty -0.5 ... 0.5 was a fresh user's first sight of every time axis)
EMPTY_RANGE_S = 10.0


def start_within(start: float, width: float, duration: float) -> float:
    """``start`` of a time range of ``width`` moved so that the range lies within
    ``[0, duration]`` where it fits (from 0 where it does not): a view moved to a spot
    near an end shows the recording, not blank time past it."""
    return max(0.0, min(start, duration - width))


def configure_pyqtgraph() -> None:
    pg.setConfigOptions(antialias=False, background=BACKGROUND, foreground="#d0d4dc",
                        imageAxisOrder="row-major")


def cache_axes(widget) -> None:
    """Let Qt keep each axis of ``widget`` (a pyqtgraph GraphicsView) as a pixmap.

    An axis is repainted whenever anything next to it changes: a cursor line's bounds
    touch the axes of its plot, so every cursor step replayed all the tick texts of every
    plot it crosses (about 2 ms per axis, 16 axes per step). Cached, an axis is drawn
    again only when its own range, size or style changes (pyqtgraph calls ``update()``
    on it then); other repaints copy the pixmap.
    """
    for item in widget.scene().items():
        if isinstance(item, pg.AxisItem):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class ElidedLabel(QLabel):
    """A one-line label whose size never follows its text.

    The text is elided to the width the layout gives it (the whole text is the tooltip
    when it does not fit), so changing it repaints the label and nothing else: a plain
    QLabel asks its window for a new layout at every change, and a long text (a path, a
    list of running jobs) widened the whole window, resizing every plot in it.

    ``width_for``: a sample text fixing the label's width; without it the label takes
    what the layout gives (horizontal policy Ignored).
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, *,
                 width_for: str | None = None):
        super().__init__(parent)
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        if width_for is not None:
            self.setFixedWidth(self.fontMetrics().horizontalAdvance(width_for) + 12)
        else:
            self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def text(self) -> str:
        """The whole text (what is shown may be elided)."""
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        if text == self._full and self.text():
            return
        self._full = text
        self._show()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._show()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(100, super().sizeHint().height())

    def _show(self) -> None:
        width = max(0, self.contentsRect().width())
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width)
        self.setToolTip(self._full if shown != self._full else "")
        if shown != QLabel.text(self):
            QLabel.setText(self, shown)


class Debouncer(QObject):
    """Calls ``fn`` once, ``delay_ms`` after the last :meth:`trigger` (GUI thread)."""

    def __init__(self, fn, delay_ms: int = 120, parent: QObject | None = None):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(fn)

    def trigger(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()


class TurnQueue(QObject):
    """Runs queued calls one per event-loop turn, in order, so the window repaints what
    one view changed before the next view does its work (an hour-long alignment made
    every view redraw in one pass: one long pause instead of a few short ones).

    ``queue(owner, fn)`` replaces a call still queued for the same owner; calls whose
    owner was deleted are dropped.
    """

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pending: dict[int, tuple] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run_next)

    def queue(self, owner: QObject, fn) -> None:
        self._pending.pop(id(owner), None)
        self._pending[id(owner)] = (owner, fn)
        if not self._timer.isActive():
            self._timer.start()

    @property
    def n_pending(self) -> int:
        """Calls still waiting for their turn."""
        return len(self._pending)

    def cancel(self, owner: QObject) -> None:
        self._pending.pop(id(owner), None)

    def _run_next(self) -> None:
        while self._pending:
            key = next(iter(self._pending))
            owner, fn = self._pending.pop(key)
            if shiboken6.isValid(owner):
                fn()
                break
        if self._pending:
            self._timer.start()


def turn_queue(session: QObject) -> TurnQueue:
    """The :class:`TurnQueue` shared by the views of one session (made on first use)."""
    q = getattr(session, "_view_turn_queue", None)
    if q is None or not shiboken6.isValid(q):
        q = TurnQueue(session)
        session._view_turn_queue = q
    return q


def seconds_axis(orientation: str = "bottom", label: str = "time (s)") -> pg.AxisItem:
    axis = pg.AxisItem(orientation)
    axis.setLabel(label)
    return axis


def format_time(t: float) -> str:
    """``m:ss.mmm`` (or ``h:mm:ss.mmm``)."""
    if not np.isfinite(t):
        return "–"
    sign = "-" if t < 0 else ""
    t = abs(t)
    h, rem = divmod(t, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{sign}{int(h)}:{int(m):02d}:{s:06.3f}"
    return f"{sign}{int(m)}:{s:06.3f}"
