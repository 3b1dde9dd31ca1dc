"""The diagnostics strip: local cost along the path, local tempo ratio (slope), confidence;
stalls and jumps highlighted. The x axis is the time of A in seconds.

Observes the Session: ``active_alignment_changed``, ``recordings_swapped``,
``cursor_moved``. The local cost along the path is computed on a worker (channel
``diagnostics``); the tracks come from :mod:`core.display`, for a result with jumps
from :mod:`.diagnostics_pieces` (piece by piece, broken at the jumps). GUI thread.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

from core.display import find_jumps, path_local_cost, peak_decimate, tempo_ratio
from core.structure.carrier import piecewise_of

from ..jobs import Request
from . import diagnostics_pieces as dp
from .axes import fit_axes
from .common import CURSOR_COLOUR, EMPTY_RANGE_S, cache_axes, turn_queue

__all__ = ["DiagnosticsView"]

MAX_MARKS = 5_000  # drawn as three items per track whatever the number
#: the strip's least height: at 1280×800 its tracks were 21 px tall, room for one label
MIN_HEIGHT_PX = 130


STALL_COLOURS = {"b": (255, 60, 60, 70), "a": (80, 160, 255, 200)}
# the confidence track is coloured by the expected error it stands for
# (core.pipeline.confidence.expected_error_ms): upper bound (ms), colour, legend; the
# bounds of a result without its own doubtful threshold (red = doubtful: above the
# threshold the calibration of the result's material chose, error_band_bounds)
ERROR_BANDS = ((20.0, "#80e080", "≤ 20 ms"), (50.0, "#f0d060", "20-50 ms"),
               (math.inf, "#ff6060", "> 50 ms"))
# labelled expected errors on the confidence axis (ms; a strip a few lines tall has room
# for two labels), and an unlabelled tick at 200 ms
ERROR_TICKS_MS = (0.0, 50.0)
ERROR_MINOR_TICKS_MS = (200.0,)


def confidence_of_error(error_ms):
    """The confidence that stands for an expected error (ms): the calibrated model's."""
    from core.pipeline.confidence import confidence_from_error

    return confidence_from_error(error_ms)


def error_band_bounds(doubtful_ms: float = ERROR_BANDS[1][0]) -> tuple:
    """The upper bounds (ms) of the colour bands of ``ERROR_BANDS`` for a result whose
    steps are doubtful above ``doubtful_ms`` (core.pipeline.confidence.
    doubtful_error_ms): green up to 20 ms (or the threshold when lower), yellow up to the
    threshold, red above it."""
    return (min(ERROR_BANDS[0][0], doubtful_ms), doubtful_ms, math.inf)


def error_band_legend(doubtful_ms: float = ERROR_BANDS[1][0]) -> tuple:
    """The legend of each colour band (see :func:`error_band_bounds`)."""
    low, high, _ = error_band_bounds(doubtful_ms)
    if doubtful_ms == ERROR_BANDS[1][0]:
        return tuple(text for _, _, text in ERROR_BANDS)
    return (f"≤ {low:.3g} ms", f"{low:.3g}-{high:.3g} ms" if high > low else "",
            f"> {high:.3g} ms (doubtful)")


def error_bands(conf, doubtful_ms: float = ERROR_BANDS[1][0]) -> list:
    """Per colour band of ``ERROR_BANDS`` (bounds: :func:`error_band_bounds`): ``conf``
    where its expected error lies in the band (and at the band's neighbouring points, so
    the line stays joined), NaN elsewhere."""
    from core.pipeline.confidence import expected_error_ms

    conf = np.asarray(conf, dtype=np.float64)
    err = expected_error_ms(conf)
    out, lo = [], -1.0
    for hi in error_band_bounds(doubtful_ms):
        inside = (err > lo) & (err <= hi)
        joined = inside.copy()
        joined[1:] |= inside[:-1]
        joined[:-1] |= inside[1:]
        out.append(np.where(joined, conf, np.nan))
        lo = hi
    return out


def path_stalls(al, min_s: float = 0.3):
    """Where one recording holds still while the other goes on, from the path itself.

    Returns ``(b_holds, a_holds)``: ``b_holds`` are intervals of A time (s) during which
    B stays on one frame (horizontal runs of the path); ``a_holds`` are ``(time of A,
    how long B goes on)`` where A stays on one frame (vertical runs: a point in A time).
    """
    path = np.asarray(al.path)
    out = []
    for axis, rate_held, rate_other in ((1, al.rate_b_hz, al.rate_a_hz),
                                        (0, al.rate_a_hz, al.rate_b_hz)):
        held = path[:, axis]
        other = path[:, 1 - axis]
        change = np.flatnonzero(np.diff(held) != 0) + 1
        starts = np.concatenate([[0], change])
        ends = np.concatenate([change, [len(held)]]) - 1
        span = (other[ends] - other[starts]) / rate_other
        keep = span >= min_s
        if axis == 1:  # B held: an interval of A
            out.append([(float(path[a, 0] / al.rate_a_hz), float(path[b, 0] / al.rate_a_hz))
                        for a, b in zip(starts[keep], ends[keep], strict=True)])
        else:  # A held: a point of A, B goes on for span
            out.append([(float(held[a] / rate_held), float(d))
                        for a, d in zip(starts[keep], span[keep], strict=True)])
    return out[0], out[1]


CONF_TITLE = "confidence: expected error, ms (x: time A, s)"


class DiagnosticsView(QWidget):
    """Three stacked tracks sharing the time axis of A."""

    def __init__(self, session, jobs, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.jobs = jobs
        self.job = None
        self.plots = pg.GraphicsLayoutWidget(self)
        self.plots.ci.setSpacing(0)
        self.cost_plot = self.plots.addPlot(row=0, col=0)
        self.tempo_plot = self.plots.addPlot(row=0, col=1)
        self.conf_plot = self.plots.addPlot(row=0, col=2)
        # labels that fit the short tracks (never overlapping), tempo as ratios
        fit_axes(self.cost_plot)
        fit_axes(self.tempo_plot, fitted=("bottom",), ratio=("left",))
        fit_axes(self.conf_plot)
        self.cost_plot.setXRange(0.0, EMPTY_RANGE_S, padding=0.0)  # (x linked: all three)
        for plot, label in ((self.cost_plot, "local cost"), (self.tempo_plot, "tempo B/A"),
                            (self.conf_plot, "confidence")):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=True, y=False)
            plot.setTitle(f"{label} (x: time A, s)", size="8pt")
            plot.getAxis("left").setWidth(36)
        self._conf_title = CONF_TITLE
        self.tempo_plot.setXLink(self.cost_plot)
        self.conf_plot.setXLink(self.cost_plot)
        self.tempo_plot.setLogMode(y=True)
        # log axis (RatioAxis): the ratios the strip has room for, ¼ ½ 1 2 4 or finer
        # a strip a few lines tall: the expected error (ms) at three heights
        self.conf_plot.setTitle(CONF_TITLE, size="8pt")
        self.conf_plot.getAxis("left").setTicks([[(0.0, ""), (1.0, "")], []])
        self.conf_plot.setYRange(0, 1, padding=0.05)
        self.cost = pg.PlotDataItem(pen=pg.mkPen("#c0c0ff"))
        self.tempo = pg.PlotDataItem(pen=pg.mkPen("#ffd080"))
        # the confidence (all of it, for the data) drawn in the colour of its expected
        # error: one item per band of ERROR_BANDS over a faint full line
        self.conf = pg.PlotDataItem(pen=pg.mkPen((128, 128, 128, 90)))
        self.conf_bands = [pg.PlotDataItem(pen=pg.mkPen(colour, width=1.5),
                                           connect="finite")
                           for _, colour, _ in ERROR_BANDS]
        self._error_ticks_set = False
        for plot, item in ((self.cost_plot, self.cost), (self.tempo_plot, self.tempo),
                           (self.conf_plot, self.conf),
                           *((self.conf_plot, band) for band in self.conf_bands)):
            # cached: moving the cursor line repaints from a pixmap, not from the data
            item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.addItem(item)
        self.marks: list = []
        self.cursor_lines = []
        for plot in (self.cost_plot, self.tempo_plot, self.conf_plot):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(CURSOR_COLOUR))
            line.setZValue(20)
            plot.addItem(line, ignoreBounds=True)
            self.cursor_lines.append(line)
        # why a result has no confidence, written on its track
        self.conf_note = pg.TextItem("", color="#a0a4ac", anchor=(0.5, 0.5))
        self.conf_note.setZValue(25)
        self.conf_plot.addItem(self.conf_note, ignoreBounds=True)
        # wrapped to the track's width: on one line the note ran past both ends of the
        # track and lost its first and last words (a third of the window wide)
        self.conf_plot.getViewBox().sigResized.connect(self._fit_conf_note)
        # and in the middle of what the track shows: placed at the middle of A, the note
        # ran off the right edge, or out of sight, once the views were zoomed
        self.conf_plot.getViewBox().sigRangeChanged.connect(self._fit_conf_note)
        self.stalls: list[tuple[float, float]] = []  # B holds: intervals of A
        self.a_holds: list[tuple[float, float]] = []  # A holds: (time of A, span on B)
        self.jumps = np.empty(0)
        # what the marks mean
        self._doubtful_ms = ERROR_BANDS[1][0]
        self.key = QLabel(self._key_text(self._doubtful_ms), self)
        self.key.setStyleSheet("color: #a0a4ac; font-size: 8pt;")
        self.key.setToolTip("stalls: one recording stays on a frame for 0.3 s or more of "
                            "the other; a jump: the path skips frames; the confidence "
                            "track is coloured by the error (ms) expected of a step of "
                            "that confidence (calibrated on generated pairs); red: "
                            "doubtful, above the threshold calibrated for the pair's "
                            "material")
        self.setMinimumHeight(MIN_HEIGHT_PX)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 2)
        lay.setSpacing(0)
        lay.addWidget(self.key)
        lay.addWidget(self.plots)
        self.plots.scene().sigMouseClicked.connect(self._on_scene_clicked)
        # redrawn on a later event-loop turn, one view per turn (TurnQueue): the window
        # repaints the matrix first, and a long path's work here is a pause of its own
        cache_axes(self.plots)
        session.active_alignment_changed.connect(
            lambda *_: turn_queue(session).queue(self, self._redraw_active))
        session.recordings_swapped.connect(
            lambda: self._on_active_alignment_changed(session.active_id))
        session.alignment_edited.connect(self._on_alignment_edited)
        session.cursor_moved.connect(self._on_cursor_moved)

    def _clear_marks(self) -> None:
        for plot, item in self.marks:
            plot.removeItem(item)
        self.marks = []

    def _draw_marks(self, plot, y0: float, y1: float, *, jumps: bool) -> None:
        """Stalls (and jumps) on ``plot`` as three items whatever their number: the
        bands of B holding as one filled outline, the lines of A holding and of jumps as
        segment lists (hundreds of region items made every pan step re-lay out each)."""
        # a curve in a log-y plot is given in values (it takes their log10); its fill
        # level is in the plot's own (log10) coordinates
        log = plot.getAxis("left").logMode
        ly = (10.0 ** y0, 10.0 ** y1) if log else (y0, y1)
        if self.stalls:
            # the bands as one filled outline (vectorized: no item per band)
            t = np.asarray(self.stalls[:MAX_MARKS], dtype=float)
            x = np.repeat(t, 2, axis=1).ravel()
            y = np.tile([ly[0], ly[1], ly[1], ly[0]], len(t))
            bands = pg.PlotDataItem(x, y, pen=None, fillLevel=y0,
                                    brush=pg.mkBrush(*STALL_COLOURS["b"]))
            bands.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            bands.setZValue(-5)
            plot.addItem(bands, ignoreBounds=True)
            bands.setClipToView(True)  # once in its view box
            self.marks.append((plot, bands))
        groups = [(np.asarray([a for a, _ in self.a_holds[:MAX_MARKS]], dtype=float),
                   pg.mkPen(pg.mkColor(*STALL_COLOURS["a"]), width=3))]
        if jumps:
            groups.append((np.asarray(self.jumps[:MAX_MARKS], dtype=float),
                           pg.mkPen("#ff60ff", style=Qt.PenStyle.DashLine)))
        for xs, pen in groups:
            if xs.size == 0:
                continue
            # only the visible part is drawn; cached: the cursor line repaints a pixmap
            # per-point connections (not "pairs"): clipping to the view keeps them paired
            item = pg.PlotDataItem(np.repeat(xs, 2), np.tile(ly, xs.size), pen=pen,
                                   connect=np.tile(np.array([1, 0], dtype=np.int32), xs.size))
            item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            item.setZValue(-4)
            plot.addItem(item, ignoreBounds=True)
            item.setClipToView(True)
            self.marks.append((plot, item))

    def _on_active_alignment_changed(self, aid: int) -> None:
        self._clear_marks()
        al = self.session.alignment(aid)
        if al is None:
            for item in (self.cost, self.tempo, self.conf, *self.conf_bands):
                item.setData([], [])
            self.conf_note.setText("")
            return
        pw = piecewise_of(al)
        if pw is not None:
            self._show_pieces(aid, al, pw)
            return
        mapping = self.session.map_a_to_b if aid == self.session.active_id else None
        t, ratio = tempo_ratio(al, map_a_to_b=mapping)
        self.tempo.setData(t, np.clip(ratio, 1e-2, 1e2), connect="all")
        if al.confidence is not None:
            # peak decimation: an hour-long path has ~400k steps, a track ~400 pixels
            x, y = peak_decimate(al.path[:, 0] / al.rate_a_hz, al.confidence)
            self._show_confidence(x, y, "all", al)
            self._set_conf_title(al)
        else:
            for item in (self.conf, *self.conf_bands):
                item.setData([], [])
            self._show_conf_note(f"no confidence: {self.no_confidence_reason(aid)}")
        self.stalls, self.a_holds = path_stalls(al)
        self.jumps = find_jumps(al)
        # the tempo is drawn in log10 space, clipped to 1e-2 .. 1e2
        self._draw_marks(self.tempo_plot, -3.0, 3.0, jumps=False)
        self.cost_plot.setXRange(0, al.duration_a_s, padding=0.0)
        inputs = self.session.matrix_inputs(aid)
        self.cost.setData([], [])
        if inputs is not None:
            fa, fb, metric = inputs
            self.job = self.jobs.submit(
                Request("diagnostics", path_local_cost, (fa.values, fb.values, al.path),
                        {"metric": metric}, label="local cost"),
                on_result=lambda cost, aid=aid, al=al: self._show_cost(aid, al, cost))

    @staticmethod
    def _key_text(doubtful_ms: float) -> str:
        b, a = STALL_COLOURS["b"], STALL_COLOURS["a"]
        bands = "&nbsp;".join(f'<span style="color: {colour}">━</span> {text}'
                              for (_, colour, _), text in zip(
                                  ERROR_BANDS, error_band_legend(doubtful_ms), strict=True)
                              if text)
        return (f'<span style="color: rgb({b[0]},{b[1]},{b[2]})">■</span> B holds while A '
                f'goes on&nbsp;&nbsp;<span style="color: rgb({a[0]},{a[1]},{a[2]})">┃</span>'
                ' A holds while B goes on&nbsp;&nbsp;<span style="color: #ff60ff">┆</span> '
                f'jump&nbsp;&nbsp;&nbsp;expected error: {bands}')

    def _show_confidence(self, x, y, connect: str, al) -> None:
        from core.pipeline.confidence import doubtful_error_ms

        doubtful_ms = doubtful_error_ms(al)
        if doubtful_ms != self._doubtful_ms:
            # the red band is the result's doubtful steps (its material's threshold)
            self._doubtful_ms = doubtful_ms
            self.key.setText(self._key_text(doubtful_ms))
        self.conf.setData(x, y, connect=connect)
        self._set_error_ticks()
        for item, part in zip(self.conf_bands, error_bands(y, doubtful_ms), strict=True):
            # an empty band (a video result has no yellow one) is drawn empty, not all
            # NaN: pyqtgraph's bounds of an all-NaN curve warn
            if np.isfinite(part).any():
                item.setData(x, part)
            else:
                item.setData([], [])
        self.conf_note.setText("")

    def _set_conf_title(self, al) -> None:
        source = al.diagnostics.get("confidence_source")
        title = CONF_TITLE + (
            " — cost margin" if isinstance(source, str) and "margin" in source else "")
        if title != getattr(self, "_conf_title", None):
            # a title's layout measures its text (~16 ms): not again on every edit
            self.conf_plot.setTitle(title, size="8pt")
            self._conf_title = title

    def _show_pieces(self, aid: int, al, pw) -> None:
        """A result with jumps (:mod:`.diagnostics_pieces`): every track piece by piece,
        broken at the jumps, the jumps marked where A leaves a piece and where the next
        one starts."""
        t, ratio = dp.joined(dp.piece_tempo(pw))
        self.tempo.setData(t, np.clip(ratio, 1e-2, 1e2), connect="finite")
        conf = pw.confidence
        if conf is not None:
            self._show_confidence(*dp.joined(dp.split_decimated(pw, conf)), "finite", al)
            self._set_conf_title(al)
        else:
            for item in (self.conf, *self.conf_bands):
                item.setData([], [])
            self._show_conf_note("no confidence: a piece has none")
        self.stalls, self.a_holds = dp.piece_stalls(pw, path_stalls)
        self.jumps = dp.piece_jumps(pw)
        self._draw_marks(self.tempo_plot, -3.0, 3.0, jumps=True)
        self.cost_plot.setXRange(0, al.duration_a_s, padding=0.0)
        inputs = self.session.matrix_inputs(aid)
        self.cost.setData([], [])
        if inputs is not None:
            fa, fb, metric = inputs
            path = dp.image_path(pw.path, (al.rate_a_hz, al.rate_b_hz),
                                 (fa.rate_hz, fb.rate_hz), (len(fa.values), len(fb.values)))
            self.job = self.jobs.submit(
                Request("diagnostics", path_local_cost, (fa.values, fb.values, path),
                        {"metric": metric}, label="local cost"),
                on_result=lambda cost, aid=aid, al=al: self._show_cost(aid, al, cost))

    def _show_conf_note(self, text: str) -> None:
        """``text`` in the middle of the confidence track, wrapped to its width."""
        self.conf_note.setText(text)
        self._fit_conf_note()

    def _fit_conf_note(self, *_) -> None:
        if not self.conf_note.toPlainText():
            return  # nothing to place (every pan and zoom comes here)
        (x0, x1), (y0, y1) = self.conf_plot.getViewBox().viewRange()
        self.conf_note.setPos((x0 + x1) / 2, (y0 + y1) / 2)
        note = self.conf_note.textItem
        note.setTextWidth(-1)  # its natural width; wrapped only when wider than the track
        room = self.conf_plot.getViewBox().width() - 8.0
        if room > 40.0 and note.boundingRect().width() > room:
            self.conf_note.setTextWidth(room)
        else:
            self.conf_note.updateTextPos()

    def _set_error_ticks(self) -> None:
        """Label the confidence axis with the expected errors (ms) it stands for (once:
        the calibration's mapping is imported when a confidence is first drawn)."""
        if self._error_ticks_set:
            return
        conf = confidence_of_error(np.asarray(ERROR_TICKS_MS))
        major = [(float(c), f"{e:.0f}") for c, e in zip(conf, ERROR_TICKS_MS, strict=True)]
        minor = [(float(c), "") for c in confidence_of_error(np.asarray(ERROR_MINOR_TICKS_MS))]
        self.conf_plot.getAxis("left").setTicks([major, minor])
        self._error_ticks_set = True

    def no_confidence_reason(self, aid: int) -> str:
        """Why result ``aid`` has no confidence, in a few words."""
        if self.session.matrix_inputs(aid) is None:
            return "its features are not at hand (made elsewhere or edited)"
        return "its method gives none"

    def _redraw_active(self) -> None:
        self._on_active_alignment_changed(self.session.active_id)

    def _show_cost(self, aid: int, al, cost) -> None:
        if self.session.alignment(aid) is not al:
            return  # edited or removed since
        pw = piecewise_of(al)
        if pw is not None:  # along the pieces, broken at the jumps
            self.cost.setData(*dp.joined(dp.split_decimated(pw, cost)), connect="finite")
        else:
            ta = al.path[:, 0] / al.rate_a_hz
            self.cost.setData(*peak_decimate(ta, cost), connect="all")
        finite = np.asarray(cost, dtype=float)
        finite = finite[np.isfinite(finite)]
        hi = float(finite.max()) if finite.size else 1.0
        self._draw_marks(self.cost_plot, -abs(hi) - 1.0, 2.0 * abs(hi) + 1.0, jumps=True)

    def _on_alignment_edited(self, aid: int) -> None:
        """An edit (a re-solve, undo, redo) is redrawn on a later event-loop turn, after
        the matrix's path, and several edits in a row make one redraw."""
        if aid == self.session.active_id:
            turn_queue(self.session).queue(self, self._redraw_edited)

    def _redraw_edited(self) -> None:
        self._on_active_alignment_changed(self.session.active_id)

    def _on_cursor_moved(self, time_a: float, time_b: float) -> None:
        for line in self.cursor_lines:
            line.setValue(time_a)

    def _on_scene_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.isAccepted():
            return
        for plot in (self.cost_plot, self.tempo_plot, self.conf_plot):
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(event.scenePos()) and self.session.has_both():
                self.session.move_cursor("a", vb.mapSceneToView(event.scenePos()).x())
                event.accept()
                return
