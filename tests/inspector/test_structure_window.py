"""The window's structure features (inspector.structure) with real mouse and key events:
a run with structure (progress, cancel), its pieces on the matrix, the cursor across
jumps, a file with pieces imported, units under the streams (drag, split, merge), the
unit matrix, playback refusing to warp a path with jumps."""

from __future__ import annotations

import numpy as np
import pytest
from inspector_gui_helpers import TIMEOUT_MS, open_pair, wait_idle
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from core.structure import PiecewiseAlignment
from core.structure.carrier import piecewise_of


def _run_structure(qtbot, window, structure="auto") -> int:
    st = window.structure
    st.structure_combo.setCurrentIndex(st.structure_combo.findData(structure))
    with qtbot.waitSignal(st.finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(st.run_button, Qt.MouseButton.LeftButton)
    aid = blocker.args[0]
    assert aid != -1, window.banner.text()
    wait_idle(qtbot, window)
    return aid


def _click_plot(qtbot, widget, plot, x, y=None, button=Qt.MouseButton.LeftButton):
    """Click a pyqtgraph plot at data coordinates (y: the middle of the view)."""
    vb = plot.getViewBox()
    if y is None:
        y = 0.5 * sum(vb.viewRange()[1])
    scene = vb.mapViewToScene(QPointF(x, y))
    view = widget if hasattr(widget, "mapFromScene") else plot.scene().views()[0]
    pos = view.mapFromScene(scene)
    QTest.mouseClick(view.viewport(), button, Qt.KeyboardModifier.NoModifier, pos)


def test_run_with_structure_draws_pieces_and_the_cursor_follows_jumps(qtbot, window,
                                                                      repeat_pair):
    open_pair(qtbot, window, *repeat_pair)
    aid = _run_structure(qtbot, window, "auto")
    al = window.session.alignment(aid)
    pw = piecewise_of(al)
    assert pw is not None and len(pw.pieces) >= 2
    back = [j for j in pw.jumps if j["kind"] == "back"]
    assert back and back[0]["b_to_s"] == pytest.approx(12.0, abs=0.7)
    st = window.structure
    # each piece its own curve, within its own B range; the carrier's curve hidden
    assert len(st.piece_curves) == len(pw.pieces)
    assert not window.matrix.path_curves["active"].isVisible()
    for curve, piece in zip(st.piece_curves, pw.pieces, strict=True):
        _, y = curve.getData()
        t = piece.times_s
        assert y.min() >= t[0, 1] - 1e-9 and y.max() <= t[-1, 1] + 1e-9
    assert len(st.jump_marks.data) == 2 * len(pw.jumps)
    assert window.method_panel.progress.value() == 0  # the bar reset after the run
    # a click on B inside the repeat: A goes back to the repeated section
    window.matrix.set_view_seconds(0, 20, 0, 24)
    view_b = window.stream_views["b"]
    view_b.set_visible_range(0.0, 24.0)
    _click_plot(qtbot, view_b.plots, view_b.bottom, 14.0)
    qtbot.waitUntil(lambda: abs(window.session.cursor[1] - 14.0) < 0.2, timeout=5000)
    assert window.session.cursor[0] == pytest.approx(6.0, abs=0.5)
    # the cursor's A time is heard twice on B: the other occurrence is shown
    echoes = st.echo_times()
    assert len(echoes) == 1 and echoes[0] == pytest.approx(6.0, abs=0.5)
    assert st.matrix_echoes[0].isVisible()
    assert st.matrix_echoes[0].value() == pytest.approx(echoes[0])
    assert st.stream_echoes[0].isVisible()
    # a click on A at 6 s keeps B in the piece nearest its cursor (the repeat)
    view_a = window.stream_views["a"]
    view_a.set_visible_range(0.0, 20.0)
    _click_plot(qtbot, view_a.plots, view_a.bottom, 6.5)
    qtbot.waitUntil(lambda: abs(window.session.cursor[0] - 6.5) < 0.2, timeout=5000)
    assert window.session.cursor[1] == pytest.approx(14.5, abs=0.5)
    # the units came with the run: blocks under both streams, the unit matrix
    assert st.units is not None and st.lanes["a"].isVisible()
    assert st.unit_matrix.isVisible()


@pytest.fixture
def moved_pair(tmp_path):
    """A: six sections of 10 s; B: the same with the second moved after the fourth."""
    import soundfile as sf

    from core.synthetic.music import tone_sections

    pa, pb = tmp_path / "a.wav", tmp_path / "b.wav"
    sf.write(pa, tone_sections([220, 330, 262, 392, 294, 440], sec=10.0), 8000)
    sf.write(pb, tone_sections([220, 262, 392, 330, 294, 440], sec=10.0), 8000)
    return str(pa), str(pb)


def test_a_default_result_whose_order_differs_offers_run_with_structure(qtbot, window,
                                                                         moved_pair):
    """The default (monotone) result of a pair whose B moved a section carries an order
    check: the Structure box says so above its Run button, with a link that runs the
    structure alignment; the notice goes with a result that has none."""
    aid = open_pair(qtbot, window, *moved_pair)
    wait_idle(qtbot, window)
    st = window.structure
    check = window.session.alignment(aid).diagnostics["order_check"]
    assert st.order_notice.isVisible()
    assert check["message"] in st.order_notice.text()
    assert "Run with structure" in st.order_notice.text()
    # the results list's row says it too (icon and tooltip)
    from inspector.results_list import result_tooltip

    assert check["message"] in result_tooltip(window.session, aid)
    with qtbot.waitSignal(st.finished, timeout=TIMEOUT_MS) as blocker:
        st.order_notice.linkActivated.emit("run")
    new = blocker.args[0]
    assert new != -1 and piecewise_of(window.session.alignment(new)) is not None
    wait_idle(qtbot, window)
    assert window.session.active_id == new
    assert not st.order_notice.isVisible()
    # back to the monotone result: the notice again
    window.session.set_active(aid)
    assert st.order_notice.isVisible()
    wait_idle(qtbot, window)


def test_structure_run_can_be_cancelled(qtbot, window, repeat_pair):
    open_pair(qtbot, window, *repeat_pair)
    st = window.structure
    with qtbot.waitSignal(st.finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(st.run_button, Qt.MouseButton.LeftButton)
        assert window.method_panel.cancel_button.isEnabled()
        qtbot.mouseClick(window.method_panel.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [-1]
    wait_idle(qtbot, window)
    assert all(piecewise_of(window.session.alignment(a)) is None
               for a in window.session.alignment_ids())


def test_a_file_with_pieces_is_imported_as_such(qtbot, window, repeat_pair, tmp_path):
    import core
    from core.formats.pieces import write_pieces

    pw = core.align_files(*repeat_pair, structure="pieces")
    assert isinstance(pw, PiecewiseAlignment) and len(pw.pieces) >= 2
    path = str(tmp_path / "pieces.csv")
    write_pieces(pw, path, "csv")
    open_pair(qtbot, window, *repeat_pair)
    with qtbot.waitSignal(window.files.imported, timeout=TIMEOUT_MS) as blocker:
        window.files.import_alignment(path)
    rid = blocker.args[0]
    wait_idle(qtbot, window)
    got = piecewise_of(window.session.alignment(rid))
    assert got is not None and len(got.pieces) == len(pw.pieces)
    assert window.session.active_id == rid
    assert len(window.structure.piece_curves) == len(pw.pieces)


def _find_units(qtbot, window):
    st = window.structure
    with qtbot.waitSignal(st.units_changed, timeout=TIMEOUT_MS):
        qtbot.mouseClick(st.units_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    return st


def _lane_menu(qtbot, lane, x):
    pos = QPoint(int(x), lane.height() // 2)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, lane.mapToGlobal(pos))
    QApplication.sendEvent(lane, event)
    menu = lane.context_menu
    assert menu is not None
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    return menu


def _choose(qtbot, menu, starts_with):
    act = next(a for a in menu.actions() if a.text().startswith(starts_with))
    assert act.isEnabled()
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     menu.actionGeometry(act).center())


def test_units_can_be_moved_split_and_merged(qtbot, window, repeat_pair):
    open_pair(qtbot, window, *repeat_pair)
    st = _find_units(qtbot, window)
    lane = st.lanes["a"]
    assert lane.isVisible()
    view = window.stream_views["a"]
    view.set_visible_range(0.0, 20.0)
    qtbot.wait(50)
    units = st.lane_units("a")
    assert len(units) >= 2
    # drag the first boundary 1 s later
    b = units[1].start_s
    x0 = int(round(lane.x_of(b)))
    target = min(b + 1.0, units[1].end_s - 0.5)
    x1 = int(round(lane.x_of(target)))
    y = lane.height() // 2
    with qtbot.waitSignal(st.units_changed, timeout=TIMEOUT_MS):
        QTest.mousePress(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(x0, y))
        QTest.mouseMove(lane, QPoint((x0 + x1) // 2, y))
        QTest.mouseMove(lane, QPoint(x1, y))
        QTest.mouseRelease(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           QPoint(x1, y))
    moved = st.lane_units("a")
    assert len(moved) == len(units)
    assert moved[1].start_s == pytest.approx(target, abs=1.5 / units[0].rate_hz)
    assert st.units.costs.shape == (len(moved), len(st.units.units_b))
    # split the unit under the cursor, at the cursor (context menu)
    u = moved[0]
    t_cut = u.start_s + 0.5 * (u.end_s - u.start_s)
    window.session.move_cursor("a", t_cut)
    menu = _lane_menu(qtbot, lane, lane.x_of(t_cut))
    with qtbot.waitSignal(st.units_changed, timeout=TIMEOUT_MS):
        _choose(qtbot, menu, "Split")
    split = st.lane_units("a")
    assert len(split) == len(moved) + 1
    assert any(abs(v.start_s - t_cut) <= 1.0 / u.rate_hz for v in split[1:])
    assert st.units.costs.shape[0] == len(split)
    # merge the first unit with the next (context menu over it)
    menu = _lane_menu(qtbot, lane, lane.x_of(0.5 * (split[0].start_s + split[0].end_s)))
    with qtbot.waitSignal(st.units_changed, timeout=TIMEOUT_MS):
        _choose(qtbot, menu, "Merge with the next")
    merged = st.lane_units("a")
    assert len(merged) == len(split) - 1
    assert merged[0].end == split[1].end


def test_unit_matrix_shows_the_assignment_and_a_click_moves_the_cursor(qtbot, window,
                                                                        repeat_pair):
    open_pair(qtbot, window, *repeat_pair)
    st = _find_units(qtbot, window)
    um = st.unit_matrix
    assert um.isVisible() and um.width() > 60
    units = st.units
    assert units.costs.shape == (len(units.units_a), len(units.units_b))
    # B repeats a section: some A unit serves two B units, or a B unit is unmatched
    matched = [int(m) for m in units.matches if m >= 0]
    assert len(matched) > len(set(matched)) or units.unmatched_b
    j = len(units.units_b) - 1
    i = int(units.matches[j]) if units.matches[j] >= 0 else 0
    centre = um.cell_rect(i, j).center().toPoint()
    QTest.mouseClick(um, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
    assert window.session.cursor == pytest.approx(
        (units.units_a[i].start_s, units.units_b[j].start_s))


def test_playback_refuses_to_warp_a_path_with_jumps(qtbot, window, repeat_pair):
    open_pair(qtbot, window, *repeat_pair)
    _run_structure(qtbot, window, "pieces")
    pb = window.playback
    pb.set_mode("warped")
    with qtbot.waitSignal(pb.notice, timeout=5000) as blocker:
        pb.play()
    assert "jumps" in blocker.args[0]
    assert not pb.is_playing
    # B leading: A's time follows the jumps
    pw = window.structure.active_pieces()
    assert pb._map(14.0, "b", "a") == pytest.approx(pw.nearest_b_to_a(14.0))


def test_heatmap_draws_the_pieces_apart(qtbot, window, repeat_pair):
    open_pair(qtbot, window, *repeat_pair)
    aid = _run_structure(qtbot, window, "pieces")
    pw = piecewise_of(window.session.alignment(aid))
    x, y = window.heatmap.path.getData()
    # one NaN break after each piece: the jumps are not joined by a line
    assert int(np.isnan(x).sum()) == len(pw.pieces)


def test_a_project_keeps_the_pieces(qtbot, window, repeat_pair, tmp_path):
    open_pair(qtbot, window, *repeat_pair)
    aid = _run_structure(qtbot, window, "pieces")
    pw = piecewise_of(window.session.alignment(aid))
    path = tmp_path / "work.alignproj"
    with qtbot.waitSignal(window.projects.saved, timeout=TIMEOUT_MS):
        assert window.projects.save_to(str(path))
    before = window.session.alignment(aid)
    with qtbot.waitSignal(window.projects.loaded, timeout=TIMEOUT_MS):
        assert window.projects.open_project_file(str(path))
    wait_idle(qtbot, window)
    assert window.session.active_alignment() is not before  # read back from the file
    got = window.structure.active_pieces()
    assert got is not None and len(got.pieces) == len(pw.pieces)
    for p, q in zip(got.pieces, pw.pieces, strict=True):
        assert np.array_equal(p.path, q.path)
    assert len(window.structure.piece_curves) == len(pw.pieces)
    assert not window.matrix.path_curves["active"].isVisible()


def test_next_jump_steps_the_cursor_through_the_jumps_and_round(qtbot, window, repeat_pair):
    """Structure ▸ Next jump (J): the cursor goes to each jump in B's order, on the time
    of A it jumps to, and round to the first; a path without jumps says so."""
    default = open_pair(qtbot, window, *repeat_pair)
    wait_idle(qtbot, window)
    st = window.structure
    assert st.next_jump() is None
    assert "no jumps" in window.statusBar().currentMessage()
    aid = _run_structure(qtbot, window, "auto")
    jumps = sorted(piecewise_of(window.session.alignment(aid)).jumps,
                   key=lambda j: j["b_to_s"])
    assert len(jumps) >= 2
    window.session.move_cursor_to(0.0, 0.0)
    seen = []
    for _ in range(len(jumps) + 1):
        qtbot.keyClick(window, Qt.Key.Key_J)
        seen.append(window.session.cursor)
    expected = [(j["a_to_s"], j["b_to_s"]) for j in [*jumps, jumps[0]]]
    assert np.allclose(seen, expected, atol=1e-6), (seen, expected)
    assert f"jump 1 of {len(jumps)}" in window.statusBar().currentMessage()
    x0, x1, y0, y1 = window.matrix.view_seconds()
    assert x0 < jumps[0]["a_to_s"] < x1 and y0 < jumps[0]["b_to_s"] < y1
    assert default != aid
    # zoomed to 12 x 12 s, a jump 4 s from A's start (the repeat, back to A 4 s): the
    # view keeps its size inside the recordings instead of showing 2 s before A's start
    first = jumps[0]
    window.session.move_cursor_to(0.0, 0.0)
    window.matrix.set_view_seconds(0.0, 12.0, 0.0, 12.0)
    assert st.next_jump() == first and first["a_to_s"] < 6.0
    x0, x1, y0, y1 = window.matrix.view_seconds()
    dur_a, dur_b = window.session.duration("a"), window.session.duration("b")
    assert x1 - x0 == pytest.approx(12.0, abs=0.01) and y1 - y0 == pytest.approx(12.0, abs=0.01)
    assert -0.01 <= x0 and x1 <= dur_a + 0.01 and -0.01 <= y0 and y1 <= dur_b + 0.01
    assert x0 < first["a_to_s"] < x1 and y0 < first["b_to_s"] < y1
    wait_idle(qtbot, window)


def test_a_click_on_the_matrix_picks_the_occurrence_clicked(qtbot, window, repeat_pair):
    """On a path with jumps an A time has two B times: a click on the matrix goes to the
    one nearest the click (it went to the one nearest B's cursor: the first, here)."""
    open_pair(qtbot, window, *repeat_pair)
    _run_structure(qtbot, window, "auto")
    window.matrix.set_view_seconds(0.0, 20.0, 0.0, 24.0)
    wait_idle(qtbot, window)
    window.session.move_cursor_to(1.0, 1.0)
    plot = window.matrix.plot
    _click_plot(qtbot, plot, plot.getPlotItem(), 6.0, 14.0)  # the repeat (B 12-16 s)
    assert window.session.cursor == pytest.approx((6.0, 14.0), abs=0.3)
    _click_plot(qtbot, plot, plot.getPlotItem(), 6.0, 6.5)  # its first occurrence
    assert window.session.cursor == pytest.approx((6.0, 6.0), abs=0.3)
    wait_idle(qtbot, window)
