"""A result with jumps in the rest of the window (issue 17), with real mouse and key
events: the diagnostics strip draws the pieces, a swap of A and B keeps them, an anchor
edits the piece it falls in, unit edits are saved in the project."""

from __future__ import annotations

import numpy as np
import pytest
from inspector_gui_helpers import TIMEOUT_MS, open_pair, wait_idle
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from test_structure_window import _click_plot, _run_structure

from core.structure.carrier import piecewise_of


def _runs(x, y):
    """The runs of finite points of a curve (split at NaN), as (x, y) pairs."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    breaks = np.flatnonzero(np.isnan(x))
    return [(x[a:b], y[a:b]) for a, b in zip(np.concatenate([[0], breaks + 1]),
                                              np.concatenate([breaks, [len(x)]]), strict=True)]


def test_diagnostics_show_each_piece_broken_at_the_jumps(qtbot, window, repeat_pair):
    open_pair(qtbot, window, *repeat_pair)
    aid = _run_structure(qtbot, window, "pieces")
    pw = piecewise_of(window.session.alignment(aid))
    assert pw is not None and len(pw.pieces) >= 2
    diag = window.diagnostics
    qtbot.waitUntil(lambda: diag.cost.xData is not None and len(diag.cost.xData) > 0,
                    timeout=TIMEOUT_MS)
    for item in (diag.cost, diag.tempo, diag.conf):
        runs = _runs(item.xData, item.yData)
        assert len(runs) == len(pw.pieces), item
        for (x, _y), piece in zip(runs, pw.pieces, strict=True):
            a0, a1 = piece.times_s[0, 0], piece.times_s[-1, 0]
            assert x.min() >= a0 - 0.05 and x.max() <= a1 + 0.05
            assert np.all(np.diff(x) >= 0)
    # the repeat's piece has its own tempo, about 1 (B plays the section as A does)
    tx, ty = diag.tempo.xData, diag.tempo.yData
    repeat = next(k for k, j in enumerate(pw.jumps) if j["kind"] == "back") + 1
    _, ratio = _runs(tx, ty)[repeat]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.2)
    # jumps marked where A leaves a piece and where the next starts
    assert sorted(diag.jumps) == pytest.approx(sorted(
        t for j in pw.jumps for t in (j["a_from_s"], j["a_to_s"])))
    # a click on the strip moves the cursor (the strip stays usable)
    _click_plot(qtbot, diag.plots, diag.cost_plot, 10.0)
    qtbot.waitUntil(lambda: abs(window.session.cursor[0] - 10.0) < 0.3, timeout=5000)
    # a monotone result afterwards is one unbroken curve again
    window.session.set_active(window.session.alignment_ids()[0])
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: diag.cost.xData is not None and len(diag.cost.xData) > 0,
                    timeout=TIMEOUT_MS)
    assert not np.isnan(diag.tempo.xData).any()
    assert len(_runs(diag.cost.xData, diag.cost.yData)) == 1


def test_a_structure_run_goes_to_a_child_process_with_progress_and_cancel(
        qtbot, window, repeat_pair, monkeypatch):
    import multiprocessing

    from inspector.tasks import structure as tasks

    monkeypatch.setattr(tasks, "PROCESS_MIN_TOTAL_S", 0.0)  # the pair is 44 s long
    open_pair(qtbot, window, *repeat_pair)
    st = window.structure
    panel = window.method_panel
    # cancel: the child process is ended, nothing is added
    n_before = len(window.session.alignment_ids())
    with qtbot.waitSignal(st.finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(st.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(multiprocessing.active_children()) > 0, timeout=10000)
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [-1]
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: not multiprocessing.active_children(), timeout=10000)
    assert len(window.session.alignment_ids()) == n_before
    # a whole run: progress comes through the pipe, the pieces come back whole
    seen = []
    window.workspace.method_progressed.connect(seen.append)
    with qtbot.waitSignal(st.finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(st.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(multiprocessing.active_children()) > 0, timeout=10000)
    aid = blocker.args[0]
    assert aid != -1, window.banner.text()
    wait_idle(qtbot, window)
    assert seen and 0.0 < max(seen) <= 1.0
    pw = piecewise_of(window.session.alignment(aid))
    assert pw is not None and any(j["kind"] == "back" for j in pw.jumps)
    assert len(st.piece_curves) == len(pw.pieces)
    assert st.units is not None and st.unit_matrix.isVisible()
    assert not multiprocessing.active_children()


def test_swapping_a_and_b_keeps_the_pieces(qtbot, window, repeat_pair):
    open_pair(qtbot, window, *repeat_pair)
    aid = _run_structure(qtbot, window, "pieces")
    pw = piecewise_of(window.session.alignment(aid))
    assert pw is not None and any(j["kind"] == "back" for j in pw.jumps)
    st = window.structure
    # Ctrl+Shift+X: B's repeat of A's 4-8 s is, seen from the other side, a part of A
    # that B skips; the window says so
    with qtbot.waitSignal(st.notice, timeout=5000) as blocker:
        QTest.keyClick(window, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier
                       | Qt.KeyboardModifier.ShiftModifier)
    assert "repeat" in blocker.args[0] and "12.0-16.0" in blocker.args[0]
    wait_idle(qtbot, window)
    swapped = st.active_pieces()
    assert swapped is not None and len(swapped.pieces) >= 2
    assert (swapped.n_a, swapped.n_b) == (pw.n_b, pw.n_a)
    forward = [j for j in swapped.jumps if j["kind"] == "forward"]
    assert forward and forward[0]["a_to_s"] == pytest.approx(16.0, abs=0.7)
    assert len(st.piece_curves) == len(swapped.pieces)
    assert not window.matrix.path_curves["active"].isVisible()
    # B 6 s (once on B now) maps to its first occurrence on A; A's repeat (12-16 s) is
    # skipped: no B time for it
    assert swapped.map_b_to_a(6.0)[0] == pytest.approx(6.0, abs=0.7)
    assert swapped.map_a_to_b(14.0) == ()
    # swapping back gives the pieces exactly as they were
    QTest.keyClick(window, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    wait_idle(qtbot, window)
    back = st.active_pieces()
    assert back is not None and len(back.pieces) == len(pw.pieces)
    for p, q in zip(back.pieces, pw.pieces, strict=True):
        assert np.array_equal(p.path, q.path)


def test_an_anchor_on_a_result_with_jumps_is_refused_with_a_reason(qtbot, window,
                                                                      repeat_pair):
    open_pair(qtbot, window, *repeat_pair)
    aid = _run_structure(qtbot, window, "pieces")
    before = window.session.alignment(aid)
    n = len(window.session.alignment_ids())
    window.matrix.set_view_seconds(0, 20, 0, 24)
    qtbot.wait(50)
    errors = []
    window.session.error_reported.connect(errors.append)
    # Shift+click on the matrix adds an anchor (on a monotone result)
    vb = window.matrix.plot.getViewBox()
    view = window.matrix.plot.scene().views()[0]
    pos = view.mapFromScene(vb.mapViewToScene(QPointF(6.0, 14.0)))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ShiftModifier, pos)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "jumps" in errors[-1] and "flatten" in errors[-1]
    wait_idle(qtbot, window)
    assert window.session.alignment(aid) is before  # the pieces are kept
    assert len(window.session.alignment_ids()) == n  # no flattened "manual" result
    assert piecewise_of(window.session.active_alignment()) is not None


def test_unit_edits_are_saved_in_the_project(qtbot, window, repeat_pair, tmp_path):
    from test_structure_window import _choose, _find_units, _lane_menu

    open_pair(qtbot, window, *repeat_pair)
    st = _find_units(qtbot, window)
    lane = st.lanes["a"]
    window.stream_views["a"].set_visible_range(0.0, 20.0)
    qtbot.wait(50)
    units = st.lane_units("a")
    # split the first unit at the cursor (context menu), then save
    u = units[0]
    t_cut = u.start_s + 0.5 * (u.end_s - u.start_s)
    window.session.move_cursor("a", t_cut)
    menu = _lane_menu(qtbot, lane, lane.x_of(t_cut))
    with qtbot.waitSignal(st.units_changed, timeout=TIMEOUT_MS):
        _choose(qtbot, menu, "Split")
    edited = [v.start for v in st.lane_units("a")]
    assert len(edited) == len(units) + 1
    edited_b = [v.start for v in st.lane_units("b")]
    path = tmp_path / "units.alignproj"
    with qtbot.waitSignal(window.projects.saved, timeout=TIMEOUT_MS):
        assert window.projects.save_to(str(path))
    # another segmentation meanwhile (Find units again), then the project is reopened
    _find_units(qtbot, window)
    assert [v.start for v in st.lane_units("a")] != edited
    assert window.projects.dirty  # new units are a change to save

    class Discard:  # the "unsaved changes" question, answered without a dialog
        asked = 0

        def ask_unsaved(self, parent, name):
            Discard.asked += 1
            return "discard"

    window.projects.dialogs = Discard()
    with qtbot.waitSignal(window.projects.loaded, timeout=TIMEOUT_MS):
        assert window.projects.open_project_file(str(path))
    assert Discard.asked == 1
    qtbot.waitUntil(lambda: st.units is not None
                    and [v.start for v in st.lane_units("a")] == edited, timeout=TIMEOUT_MS)
    wait_idle(qtbot, window)
    assert [v.start for v in st.lane_units("a")] == edited
    assert [v.start for v in st.lane_units("b")] == edited_b
    assert st.units.costs.shape == (len(edited), len(edited_b))
    assert lane.isVisible() and st.unit_matrix.isVisible()
    assert not window.projects.dirty  # restoring the units is not an edit
