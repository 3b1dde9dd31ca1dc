"""Manual correction in the window (inspector.editing): anchors dragged with the mouse on
the cost matrix, re-solved on release; undo and redo; regions; doubtful spots."""

from __future__ import annotations

import numpy as np
import pytest
from inspector_gui_helpers import open_pair, wait_idle
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest


def _pos(window, ta, tb) -> QPoint:
    vb = window.matrix.plot.getViewBox()
    p = window.matrix.plot.mapFromScene(vb.mapViewToScene(QPointF(ta, tb)))
    return QPoint(int(round(p.x())), int(round(p.y())))


def _passes(al, ta, tb, frames=1.0):
    d = np.abs(al.times_s - [ta, tb]) * [al.rate_a_hz, al.rate_b_hz]
    return bool(np.any(np.all(d <= frames + 1e-9, axis=1)))


def _drag(qtbot, widget, start: QPoint, end: QPoint, modifier=Qt.KeyboardModifier.NoModifier,
          steps=8):
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    QTest.mousePress(widget, Qt.MouseButton.LeftButton, modifier, start)
    for k in range(1, steps + 1):
        p = start + (end - start) * (k / steps)
        # a move with the button held and the modifier down, as the mouse sends it
        event = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(p),
                            QPointF(widget.mapToGlobal(p)), Qt.MouseButton.NoButton,
                            Qt.MouseButton.LeftButton, modifier)
        QApplication.sendEvent(widget, event)
        QTest.qWait(10)
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, modifier, end, 10)


def test_drag_an_anchor_release_undo_redo(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s, editor = window.session, window.editor
    auto = s.active_id
    default = s.active_alignment()
    viewport = window.matrix.plot.viewport()
    ta = 2.0
    tb = float(default.map_a_to_b(ta))
    # Shift+click adds an anchor on the path: a manual result appears beside the automatic
    with qtbot.waitSignal(editor.resolved, timeout=30_000) as blocker:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.ShiftModifier, pos=_pos(window, ta, tb))
    manual = blocker.args[0]
    wait_idle(qtbot, window)
    assert manual != auto and s.active_id == manual and s.compared_id == auto
    assert s.alignment(manual).method == "manual" and "manual" in s.label(manual)
    anchor = s.project.result(manual).constraints.anchors[0]
    assert _passes(s.alignment(manual), anchor.time_a_s, anchor.time_b_s)
    x, y = editor.handles.getData()
    assert (x[0], y[0]) == pytest.approx((anchor.time_a_s, anchor.time_b_s))
    before = s.alignment(manual)

    # drag the handle 0.6 s up in B with the mouse: a preview follows, then the re-solve
    target = (anchor.time_a_s, anchor.time_b_s + 0.6)
    updates = editor.preview_updates
    with qtbot.waitSignal(editor.resolved, timeout=30_000):
        _drag(qtbot, viewport, _pos(window, anchor.time_a_s, anchor.time_b_s),
              _pos(window, *target))
    assert editor.preview_updates > updates
    wait_idle(qtbot, window)
    moved = s.project.result(manual).constraints.anchors[0]
    px, py = window.matrix.plot.getViewBox().viewPixelSize()
    assert (moved.time_a_s, moved.time_b_s) == pytest.approx(target, abs=3 * max(px, py))
    after = s.alignment(manual)
    assert after is not before and _passes(after, moved.time_a_s, moved.time_b_s)
    assert not _passes(before, moved.time_a_s, moved.time_b_s, frames=3)
    # the drawn active path is the re-solved one
    cx, cy = window.matrix.path_curves["active"].getData()
    assert np.min(np.hypot(cx - moved.time_a_s, cy - moved.time_b_s)) < 0.05
    assert editor.preview.getData()[0] is None or len(editor.preview.getData()[0]) == 0

    # one drag is one undo step; Ctrl+Z and Ctrl+Shift+Z
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.alignment(manual) is before
    assert s.project.result(manual).constraints.anchors[0] == anchor
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert s.alignment(manual) is after

    # click to select, Delete removes it
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton,
                     pos=_pos(window, moved.time_a_s, moved.time_b_s))
    assert editor.selected == 0
    with qtbot.waitSignal(editor.resolved, timeout=30_000):
        QTest.keyClick(window, Qt.Key.Key_Delete)
    wait_idle(qtbot, window)
    assert not s.project.result(manual).constraints.anchors


def _three_anchors_on_the_path(qtbot, window, audio_pair):
    """The pair opened and aligned, then anchors at 1, 2 and 3 s of A on its path."""
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s, editor = window.session, window.editor
    al = s.active_alignment()
    for ta in (1.0, 2.0, 3.0):
        with qtbot.waitSignal(editor.resolved, timeout=30_000):
            editor.add_anchor(ta, float(al.map_a_to_b(ta)))
        wait_idle(qtbot, window)
    return s, editor


def test_a_dragged_anchor_stays_between_its_neighbours(qtbot, window, audio_pair):
    s, editor = _three_anchors_on_the_path(qtbot, window, audio_pair)
    manual = s.active_id
    c = s.project.result(manual).constraints
    viewport = window.matrix.plot.viewport()
    with qtbot.waitSignal(editor.resolved, timeout=30_000):
        _drag(qtbot, viewport, _pos(window, c.anchors[1].time_a_s, c.anchors[1].time_b_s),
              _pos(window, 3.6, c.anchors[2].time_b_s + 0.5))
    wait_idle(qtbot, window)
    a = s.project.result(manual).constraints.anchors
    assert a[0].time_a_s < a[1].time_a_s < a[2].time_a_s
    assert a[0].time_b_s < a[1].time_b_s < a[2].time_b_s
    assert [x.time_a_s for x in a][::2] == [1.0, 3.0]


def test_ctrl_drag_selects_a_span_and_locking_it_keeps_the_path(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s, editor = window.session, window.editor
    al = s.active_alignment()
    viewport = window.matrix.plot.viewport()
    _drag(qtbot, viewport, _pos(window, 1.0, 0.3), _pos(window, 2.0, 0.3),
          Qt.KeyboardModifier.ControlModifier)
    assert editor.span_s is not None
    assert editor.span_s == pytest.approx((1.0, 2.0), abs=0.05)
    menu = editor.menu_actions()
    lock = next(a for a in menu.actions() if a.text().startswith("Lock"))
    assert lock.isEnabled()
    with qtbot.waitSignal(editor.resolved, timeout=30_000):
        lock.trigger()
    wait_idle(qtbot, window)
    manual = s.active_id
    region = s.project.result(manual).constraints.regions[0]
    cells = np.asarray(region.cells)
    # an anchor moved next to the locked span leaves it unchanged, cell for cell
    with qtbot.waitSignal(editor.resolved, timeout=30_000):
        editor.add_anchor(2.5, float(al.map_a_to_b(2.5)) + 0.4)
    wait_idle(qtbot, window)
    path = s.alignment(manual).path
    k = int(np.flatnonzero(np.all(path == cells[0], axis=1))[0])
    assert path[k:k + len(cells)].tobytes() == cells.tobytes()


def test_next_doubtful_spot_moves_the_cursor(qtbot, window, audio_pair):
    from core.alignment import Alignment
    from core.constraints import linear_cells

    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s = window.session
    path = linear_cells((0, 0), (399, 499))
    conf = np.ones(len(path))
    conf[150:200] = 0.1
    aid = s.add_alignment(Alignment(path, 100, 100, confidence=conf, method="test"))
    assert aid == s.active_id
    s.move_cursor("a", 0.2)
    QTest.keyClick(window, Qt.Key.Key_N)
    assert s.cursor[0] == pytest.approx(path[150, 0] / 100, abs=0.02)


def _band(item, n):
    """A colour band's values (all NaN when the band is drawn empty)."""
    y = item.getData()[1]
    return np.full(n, np.nan) if y is None or len(y) == 0 else y


def test_doubtful_spots_go_worst_first_and_the_track_shows_expected_error(
        qtbot, window, audio_pair):
    from core.alignment import Alignment
    from core.constraints import linear_cells
    from core.pipeline.confidence import expected_error_ms

    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s = window.session
    path = linear_cells((0, 0), (399, 499))
    conf = np.ones(len(path))
    conf[50:80] = 0.45   # mild, first in time
    conf[250:300] = 0.05  # the worst
    conf[330:360] = 0.3
    s.add_alignment(Alignment(path, 100, 100, confidence=conf, method="test"))
    wait_idle(qtbot, window)
    s.move_cursor("a", 0.0)
    visited = []
    for _ in range(4):
        QTest.keyClick(window, Qt.Key.Key_N)
        visited.append(round(s.cursor[0], 2))
    starts = [round(path[k, 0] / 100, 2) for k in (250, 330, 50)]
    assert visited == [*starts, starts[0]]
    assert "expected error" in window.statusBar().currentMessage()
    # the confidence track: coloured by expected error, labelled in ms
    d = window.diagnostics
    x, y = d.conf.getData()
    green, yellow, red = (_band(band, len(y)) for band in d.conf_bands)
    assert len(y) == len(conf)  # short: not decimated
    err = expected_error_ms(y)
    assert np.all(np.isfinite(red[err > 50])) and np.all(np.isfinite(green[err <= 20]))
    assert np.all(np.isfinite(yellow[(err > 20) & (err <= 50)]))
    assert np.isnan(red[0]) and np.isnan(yellow[0]) and np.isnan(green[270])
    major, minor = d.conf_plot.getAxis("left")._tickLevels
    assert [label for _, label in major] == ["0", "50"]
    assert [v for v, _ in major + minor] == pytest.approx(
        np.exp(-np.array([0, 50, 200]) * np.log(2) / 50))
    assert "ms" in d.key.text() and "ms" in d.conf_plot.titleLabel.text


def test_the_track_s_red_band_is_the_result_s_doubtful_threshold(
        qtbot, window, audio_pair):
    """A result calibrated to be doubtful above 3.5 ms (a video pair's) shows its steps
    of 5 ms in red, and "next doubtful spot" goes there; the legend says the threshold."""
    from core.alignment import Alignment
    from core.constraints import linear_cells
    from core.pipeline.confidence import confidence_from_error
    from inspector.views.diagnostics import error_band_bounds, error_band_legend

    assert error_band_bounds() == (20.0, 50.0, np.inf)
    assert error_band_bounds(3.5) == (3.5, 3.5, np.inf)
    assert error_band_legend(3.5)[1] == "" and "3.5" in error_band_legend(3.5)[2]
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s = window.session
    path = linear_cells((0, 0), (399, 499))
    conf = np.full(len(path), float(confidence_from_error(1.0)))
    conf[200:260] = confidence_from_error(5.0)
    params = {"recipe": {"confidence": {"model": {"doubtful_ms": 3.5}}}}
    s.add_alignment(Alignment(path, 100, 100, confidence=conf, method="test", params=params))
    wait_idle(qtbot, window)
    d = window.diagnostics
    assert d.conf_bands[1].getData()[1] is None  # no band between 3.5 and 3.5 ms: empty
    green, _, red = (_band(band, len(conf)) for band in d.conf_bands)
    assert np.all(np.isfinite(red[205:255])) and np.isnan(red[100])
    assert np.isfinite(green[100])
    assert "3.5 ms" in d.key.text()
    s.move_cursor("a", 0.0)
    QTest.keyClick(window, Qt.Key.Key_N)
    assert s.cursor[0] == pytest.approx(path[200, 0] / 100, abs=0.02)


@pytest.mark.filterwarnings("ignore:.*did not converge")
def test_hard_anchors_survive_a_new_analysis_in_the_window(qtbot, window, audio_pair):
    """Edit the default result, then run other methods from the panel (other features,
    method, parameters): each new result gets a manual result through every hard anchor."""
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s, editor, panel = window.session, window.editor, window.method_panel
    al = s.active_alignment()
    for ta, d in ((1.2, 0.3), (3.0, -0.3)):
        with qtbot.waitSignal(editor.resolved, timeout=30_000):
            editor.add_anchor(ta, float(al.map_a_to_b(ta)) + d)
        wait_idle(qtbot, window)
    anchors = s.project.result(s.active_id).constraints.anchors
    for method, feature, values in (("ctw", "mfcc", {"max_iter": 5}),
                                    ("dtw", "chroma", {"step_pattern": "asymmetric"})):
        panel.select_method(method)
        panel.rate.setValue(20.0)
        panel.feature_a.setCurrentIndex(panel.feature_a.findData(feature))
        panel.feature_b.setCurrentIndex(panel.feature_b.findData(feature))
        for name, value in values.items():
            panel.field(method, name).set_value(value)
        with qtbot.waitSignal(editor.resolved, timeout=60_000) as blocker:
            assert panel.run() is not None, window.banner.text()
        wait_idle(qtbot, window)
        manual = blocker.args[0]
        res = s.project.result(manual)
        assert res.base is not None and res.base.method == method
        for a in anchors:
            assert _passes(res.alignment, a.time_a_s, a.time_b_s), (method, a)


def test_stream_markers_move_one_side_and_snap_to_onsets(qtbot, window, audio_pair):
    from inspector.editing.streams import snap

    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s, editor = window.session, window.editor
    markers = editor.stream_markers
    al = s.active_alignment()
    with qtbot.waitSignal(editor.resolved, timeout=30_000):
        editor.add_anchor(2.0, float(al.map_a_to_b(2.0)))
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: markers.onsets["a"] is not None, timeout=30_000)
    assert len(markers.onsets["a"]) > 5  # the melody's notes (one every 0.25 s)
    anchor = s.project.result(s.active_id).constraints.anchors[0]
    line = markers.lines["a"][0]
    assert line.value() == pytest.approx(anchor.time_a_s)
    assert len(markers.join_points(markers.joins)) == 1
    # drag A's marker 0.4 s to the right with the mouse, Alt held: no snapping
    view = window.stream_a
    vb = view.top.getViewBox()

    def at(t):
        p = view.plots.mapFromScene(vb.mapViewToScene(QPointF(t, 0.0)))
        return QPoint(int(round(p.x())), int(round(p.y())))

    with qtbot.waitSignal(editor.resolved, timeout=30_000):
        _drag(qtbot, view.plots.viewport(), at(anchor.time_a_s), at(anchor.time_a_s + 0.4),
              Qt.KeyboardModifier.AltModifier)
    wait_idle(qtbot, window)
    moved = s.project.result(s.active_id).constraints.anchors[0]
    px = vb.viewPixelSize()[0]
    assert moved.time_b_s == pytest.approx(anchor.time_b_s)
    assert moved.time_a_s == pytest.approx(anchor.time_a_s + 0.4, abs=3 * px)
    assert _passes(s.alignment(s.active_id), moved.time_a_s, moved.time_b_s)
    # without Alt a time near an onset snaps to it
    onset = float(markers.onsets["a"][3])
    assert snap(onset + 0.05, markers.onsets["a"]) == onset
    assert snap(onset + 0.05, None) == onset + 0.05


def test_while_a_handle_is_dragged_the_still_items_are_cached(qtbot, window, audio_pair):
    """A preview step repaints only the preview and the handles: every other item of the
    matrix has a device-coordinate cache during the drag and its own mode after it."""
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication, QGraphicsItem

    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s, editor = window.session, window.editor
    al = s.active_alignment()
    with qtbot.waitSignal(editor.resolved, timeout=30_000):
        editor.add_anchor(2.0, float(al.map_a_to_b(2.0)))
    wait_idle(qtbot, window)
    anchor = s.project.result(s.active_id).constraints.anchors[0]
    viewport = window.matrix.plot.viewport()
    path_curve = window.matrix.path_curves["active"].curve
    image = window.matrix.image
    none = QGraphicsItem.CacheMode.NoCache
    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
    assert path_curve.cacheMode() == none and image.cacheMode() == none
    start = _pos(window, anchor.time_a_s, anchor.time_b_s)
    end = _pos(window, anchor.time_a_s, anchor.time_b_s + 0.4)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     start)
    for k in range(1, 6):
        p = start + (end - start) * (k / 5)
        QApplication.sendEvent(viewport, QMouseEvent(
            QMouseEvent.Type.MouseMove, QPointF(p), QPointF(viewport.mapToGlobal(p)),
            Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier))
        QTest.qWait(10)
    assert editor._drag is not None
    assert path_curve.cacheMode() == cached and image.cacheMode() == cached
    # the moving items are drawn afresh at every step
    assert editor.preview.curve.cacheMode() == none and editor.handles.cacheMode() == none
    with qtbot.waitSignal(editor.resolved, timeout=30_000):
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier, end, 10)
    wait_idle(qtbot, window)
    assert path_curve.cacheMode() == none and image.cacheMode() == none
    moved = s.project.result(s.active_id).constraints.anchors[0]
    assert moved.time_b_s > anchor.time_b_s + 0.2
    assert _passes(s.alignment(s.active_id), moved.time_a_s, moved.time_b_s)


def test_undo_redo_redraw_the_slow_views_once_on_a_later_turn(qtbot, window, audio_pair):
    """Ctrl+Z redraws the matrix's path at once; the diagnostics and the heatmap redraw
    on a later event-loop turn, once for several steps in a row; the pending anchors for
    the next run are set with one signal."""
    s, editor = _three_anchors_on_the_path(qtbot, window, audio_pair)
    manual = s.active_id
    diag = window.diagnostics
    calls = []
    original = diag._on_active_alignment_changed
    diag._on_active_alignment_changed = lambda aid, *a, **k: (calls.append(aid),
                                                             original(aid, *a, **k))
    anchor_signals = []
    s.anchors_changed.connect(lambda: anchor_signals.append(1))
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    # the path is drawn at once: it has the one anchor left
    left = s.project.result(manual).constraints.anchors
    assert len(left) == 1
    cx, cy = window.matrix.path_curves["active"].getData()
    t = s.alignment(manual).times_s
    assert cx[0] == pytest.approx(t[0, 0]) and cx[-1] == pytest.approx(t[-1, 0])
    assert calls == []  # not yet: on a later turn
    assert len(anchor_signals) == 2  # one per step, not one per anchor
    assert s.project.anchors == ((left[0].time_a_s, left[0].time_b_s),)
    qtbot.waitUntil(lambda: len(calls) >= 1, timeout=5_000)
    QTest.qWait(50)
    assert calls == [manual]
    # the confidence strip keeps its title (set again only when it changes)
    assert diag.conf_plot.titleLabel.text.startswith("confidence: expected error, ms")
    wait_idle(qtbot, window)


def test_undo_takes_back_the_first_correction_too(qtbot, window, audio_pair):
    """The first correction makes a manual result beside the automatic one; Undo right
    after it said "nothing to undo" (the correction looked stuck): it takes the manual
    result back to the automatic path without anchors, Redo brings the correction back,
    and a second Undo says where the path as it was lives."""
    from inspector_gui_helpers import anchor_corrects

    rid = open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    session = window.session
    al = session.alignment(rid)
    new = anchor_corrects(qtbot, window, rid, 2.0, float(al.map_a_to_b(2.0)) + 0.25)
    wait_idle(qtbot, window)
    corrected = session.alignment(new)
    assert session.can_undo()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage().startswith("undo: ")
    assert session.active_id == new and session.alignment_ids() == [rid, new]
    assert np.array_equal(session.alignment(new).path, al.path)
    assert not session.project.result(new).constraints
    assert window.editor.constraints(new).anchors == ()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert window.statusBar().currentMessage().startswith("redo: ")
    assert np.array_equal(session.alignment(new).path, corrected.path)
    assert len(session.project.result(new).constraints.anchors) == 1
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    message = window.statusBar().currentMessage()
    assert message.startswith("nothing to undo")
    assert f"beside #{rid}" in message and f"Remove #{new}" in message
    wait_idle(qtbot, window)
