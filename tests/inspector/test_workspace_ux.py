"""The workspace as a user finds it (issue 20): each test drives the window with real
mouse and key events, as a user would."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspector_gui_helpers import TIMEOUT_MS, open_pair, wait_idle
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest


def run_method(qtbot, window, method, rate_hz=10.0, **values):
    panel = window.method_panel
    panel.select_method(method)
    panel.rate.setValue(rate_hz)
    for name, value in values.items():
        panel.field(method, name).set_value(value)
    with qtbot.waitSignal(window.workspace.method_finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] != -1, window.banner.text()
    return blocker.args[0]


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=widget.rect().center())


def click_row(qtbot, results, row):
    tree = results.tree
    rect = tree.visualItemRect(results.item(row))
    col = tree.header().sectionViewportPosition(3) + 10
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(col, rect.center().y()))


# ---------------------------------------------------------------------------- 1
def test_active_and_compared_are_independent_mouse_choices(qtbot, window, audio_pair):
    first = open_pair(qtbot, window, *audio_pair)
    second = run_method(qtbot, window, "dtw")
    results = window.method_panel.results
    s = window.session
    assert s.active_id == second
    row_first, row_second = results.row_of(first), results.row_of(second)
    # make the first active with its radio, then tick the second to compare it
    click(qtbot, results.radio(row_first))
    assert s.active_id == first
    click(qtbot, results.check(row_second))
    assert s.active_id == first and s.compared_id == second
    assert results.check(row_second).isChecked() and results.radio(row_first).isChecked()
    wait_idle(qtbot, window)
    assert set(window.matrix.path_curves) == {"active", "compared"}
    # the highlighted row is the active one, and Remove removes that one
    assert results.selected_id() == first
    click_row(qtbot, results, results.row_of(second))
    assert s.active_id == second and results.selected_id() == second
    click(qtbot, results.remove_button)
    assert s.alignment_ids() == [first]
    assert s.active_id == first and results.selected_id() == first


def test_remove_can_be_undone(qtbot, window, audio_pair):
    first = open_pair(qtbot, window, *audio_pair)
    results = window.method_panel.results
    s = window.session
    al = s.alignment(first)
    click(qtbot, results.remove_button)
    assert s.alignment_ids() == []
    assert results.undo_button.isEnabled()
    click(qtbot, results.undo_button)
    (back,) = s.alignment_ids()
    assert s.alignment(back) is al and s.active_id == back
    # Delete and Ctrl+Z in the list do the same
    results.tree.setFocus()
    qtbot.keyClick(results.tree, Qt.Key.Key_Delete)
    assert s.alignment_ids() == []
    qtbot.keyClick(results.tree, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(s.alignment_ids()) == 1
    wait_idle(qtbot, window)
    assert "active" in window.matrix.path_curves


# ---------------------------------------------------------------------------- 2
def answer_box(qtbot, window, button_text):
    """Once the question box shows, click its button ``button_text`` with the mouse."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen = {}

    def answer():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen["text"] = box.text()
        button = next(b for b in box.buttons() if b.text() == button_text)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, answer)
    return seen


def test_opening_a_file_asks_before_discarding_results(qtbot, window, audio_pair,
                                                       monkeypatch, tmp_path):
    from conftest import melody, write_wav
    from PySide6.QtWidgets import QApplication, QFileDialog

    first = open_pair(qtbot, window, *audio_pair)
    other = write_wav(tmp_path / "c.wav", melody(3.0, seed=3))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (other, "")))
    seen = answer_box(qtbot, window, "Keep the results")
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert "discarded" in seen["text"]
    assert window.session.alignment_ids() == [first]
    assert window.jobs.n_running == 0 or "open_a" not in window.jobs.running_labels()
    seen = answer_box(qtbot, window, "Open and discard")
    window.activateWindow()  # the closed question box took the focus with it
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    with qtbot.waitSignal(window.session.recording_opened, timeout=10_000):
        qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert "text" in seen
    assert window.session.recording_info("a").path.endswith("c.wav")


# ---------------------------------------------------------------------------- 3
def type_into(qtbot, spin, text):
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def test_a_band_that_cannot_fit_is_said_before_run(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)  # A 4 s, B 5 s
    panel = window.method_panel
    panel.select_method("dtw")
    combo = panel.field("dtw", "window").widget
    assert combo.currentData() == "slanted_band"  # offered by default
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Up)
    assert combo.currentData() == "sakoe_chiba"
    type_into(qtbot, panel.field("dtw", "radius_s").widget, "0.5")
    qtbot.waitUntil(lambda: panel.problem.isVisible())
    text = panel.problem.text()
    assert "1.0 s length difference" in text and "slanted band" in text
    assert not panel.run_button.isEnabled()
    # a radius that covers the difference runs
    type_into(qtbot, panel.field("dtw", "radius_s").widget, "1.5")
    qtbot.waitUntil(lambda: panel.run_button.isEnabled())
    assert not panel.problem.isVisible()
    run_method(qtbot, window, "dtw")


# ---------------------------------------------------------------------------- 4
def test_an_error_banner_is_cleared_by_the_next_action(qtbot, window, audio_pair,
                                                       monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    chosen = {"path": str(bad)}
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (chosen["path"], "")))
    with qtbot.waitSignal(window.session.error_reported, timeout=TIMEOUT_MS):
        qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert window.banner.isVisible() and "broken.wav" in window.banner.text()
    chosen["path"] = audio_pair[0]
    with qtbot.waitSignal(window.session.recording_opened, timeout=TIMEOUT_MS):
        qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert not window.banner.isVisible()


# ---------------------------------------------------------------------------- 5
def test_the_panel_starts_from_the_default_and_greys_methods_that_cannot_run(
        qtbot, window, audio_pair):
    first = open_pair(qtbot, window, *audio_pair)
    panel = window.method_panel
    used = window.session.recipe(first)
    image = window.session.project.result(first).image
    # the features and rate the default pipeline used
    assert panel.feature_a.currentData() == image[0].name
    assert {image[0].name} <= {f.name for f in used.features_a}
    assert panel.rate.value() == pytest.approx(image[0].rate_hz)
    panel.select_method("dtw")
    # chroma (12) against onset (1): DTW cannot take them, CTW can
    for combo, typed in ((panel.feature_a, "chroma"), (panel.feature_b, "onset")):
        combo.setFocus()
        qtbot.keyClicks(combo, typed)
        assert combo.currentData() == typed
    model = panel.method.model()
    row = {panel.method.itemData(k): k for k in range(panel.method.count())}
    assert not model.item(row["dtw"]).isEnabled()
    assert "same dimension" in model.item(row["dtw"]).toolTip()
    assert "CTW" in model.item(row["dtw"]).toolTip()
    assert model.item(row["ctw"]).isEnabled()
    qtbot.waitUntil(lambda: panel.problem.isVisible())
    assert not panel.run_button.isEnabled()
    # choosing CTW with the keyboard runs
    panel.method.setFocus()
    qtbot.keyClicks(panel.method, "CTW")
    assert panel.current_method() == "ctw"
    qtbot.waitUntil(lambda: panel.run_button.isEnabled())


# ---------------------------------------------------------------------------- 6
def test_the_matrix_legend_is_short_outside_the_data_and_tells_results_apart(
        qtbot, window, audio_pair):
    first = open_pair(qtbot, window, *audio_pair)
    second = run_method(qtbot, window, "dtw")
    results = window.method_panel.results
    click(qtbot, results.check(results.row_of(first)))
    wait_idle(qtbot, window)
    legend = window.matrix.legend
    texts = legend.texts()
    assert len(texts) >= 2 and texts[0].startswith(f"#{second}") and \
        texts[1].startswith(f"#{first}")
    assert texts[0] != texts[1]
    for (_, label), aid in zip(legend.items, (second, first), strict=False):
        full = window.session.label(aid)
        assert full in label.toolTip()
        assert len(label.text()) <= len(f"#{aid} {full}")
    # below the plot, not over its data
    plot = window.matrix.plot.geometry()
    assert legend.isVisible() and not legend.geometry().intersects(plot)


# ---------------------------------------------------------------------------- 7, 15
def test_the_heatmap_has_a_colour_bar_log_scale_path_toggle_and_labelled_marginals(
        qtbot, window, audio_pair):
    import numpy as np

    open_pair(qtbot, window, *audio_pair)
    heatmap = window.heatmap
    # a hard path: no empty marginal axes, and the confidence is drawn once (diagnostics)
    wait_idle(qtbot, window)
    assert not heatmap.top.isVisible() and not heatmap.side.isVisible()
    assert not hasattr(heatmap, "conf")
    run_method(qtbot, window, "soft_dtw")
    qtbot.waitUntil(lambda: heatmap.has_plan, timeout=TIMEOUT_MS)
    wait_idle(qtbot, window)
    assert heatmap.top.isVisible() and heatmap.side.isVisible()
    assert heatmap.colour_bar.isVisible()
    assert heatmap.top.getAxis("left").style["showValues"]
    assert heatmap.side.getAxis("bottom").style["showValues"]
    lo, hi = heatmap.colour_bar.levels()
    assert lo == 0.0 and hi > 0
    click(qtbot, heatmap.log_scale)
    lo_log, hi_log = heatmap.colour_bar.levels()
    assert hi_log - lo_log == pytest.approx(4.0)
    assert np.nanmax(heatmap.image.image) <= hi_log + 1e-6
    assert heatmap.path.isVisible()
    click(qtbot, heatmap.show_path)
    assert not heatmap.path.isVisible()


# ---------------------------------------------------------------------------- 8
@pytest.mark.parametrize("method", ["dtw", "ctw"])
def test_results_run_from_the_panel_have_a_confidence(qtbot, window, audio_pair, method):
    import numpy as np

    open_pair(qtbot, window, *audio_pair)
    aid = run_method(qtbot, window, method)
    al = window.session.alignment(aid)
    assert al.confidence is not None and len(al.confidence) == len(al.path)
    assert np.all((al.confidence >= 0) & (al.confidence <= 1))
    assert "margin" in al.diagnostics["confidence_source"]
    wait_idle(qtbot, window)
    x, _ = window.diagnostics.conf.getData()
    assert x is not None and len(x) > 0
    assert window.diagnostics.conf_note.textItem.toPlainText() == ""


def test_a_result_without_confidence_says_why(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    s = window.session
    al = s.active_alignment().replace(confidence=None)
    s.add_alignment(al, label="bare")
    wait_idle(qtbot, window)
    assert "no confidence" in window.diagnostics.conf_note.textItem.toPlainText()


# ---------------------------------------------------------------------------- 9
def wheel(qtbot, graphics_view, item, steps=3):
    """Turn the mouse wheel over the centre of ``item`` (a plot) of ``graphics_view``."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    centre = graphics_view.mapFromScene(item.sceneBoundingRect().center())
    vp = graphics_view.viewport()
    QTest.mouseMove(vp, centre)
    ev = QWheelEvent(QPointF(centre), QPointF(vp.mapToGlobal(centre)), QPoint(0, 0),
                     QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                     Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, ev)


def ranges(window):
    w = window
    return {
        "stream_a": w.stream_a.visible_range(),
        "stream_b": w.stream_b.visible_range(),
        "diagnostics": tuple(w.diagnostics.cost_plot.getViewBox().viewRange()[0]),
        "matrix_a": tuple(w.matrix.plot.getViewBox().viewRange()[0]),
        "matrix_b": tuple(w.matrix.plot.getViewBox().viewRange()[1]),
        "heatmap_a": tuple(w.heatmap.main.getViewBox().viewRange()[0]),
        "heatmap_b": tuple(w.heatmap.main.getViewBox().viewRange()[1]),
    }


def test_zoom_is_one_range_per_recording_in_every_view(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    da, db = window.session.duration("a"), window.session.duration("b")
    # the wheel on stream A: every view of A follows, B follows through the alignment
    wheel(qtbot, window.stream_a.plots, window.stream_a.bottom)
    wait_idle(qtbot, window)
    r = ranges(window)
    a0, a1 = r["stream_a"]
    assert a1 - a0 < 0.9 * da
    for key in ("diagnostics", "matrix_a", "heatmap_a"):
        assert r[key] == pytest.approx((a0, a1), abs=1e-6), key
    al = window.session.active_alignment()
    b0, b1 = r["stream_b"]
    assert b1 - b0 < 0.95 * db
    assert 0.5 * (b0 + b1) == pytest.approx(
        0.5 * (float(al.map_a_to_b(max(a0, 0))) + float(al.map_a_to_b(min(a1, da)))), abs=0.3)
    for key in ("matrix_b", "heatmap_b"):
        assert r[key] == pytest.approx((b0, b1), abs=1e-6), key
    # the wheel on the heatmap moves the matrix and the streams
    wheel(qtbot, window.heatmap.plots, window.heatmap.main)
    wait_idle(qtbot, window)
    r2 = ranges(window)
    assert r2["heatmap_a"][1] - r2["heatmap_a"][0] < a1 - a0
    for key in ("stream_a", "diagnostics", "matrix_a"):
        assert r2[key] == pytest.approx(r2["heatmap_a"], abs=1e-6), key
    assert r2["stream_b"] == pytest.approx(r2["heatmap_b"], abs=1e-6)
    # Ctrl+0 shows everything everywhere, the heatmap too
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    r3 = ranges(window)
    for key in ("stream_a", "diagnostics", "matrix_a", "heatmap_a"):
        assert r3[key] == pytest.approx((0.0, da), abs=1e-6), key
    for key in ("stream_b", "matrix_b", "heatmap_b"):
        assert r3[key] == pytest.approx((0.0, db), abs=1e-6), key


# ---------------------------------------------------------------------------- 10
def test_result_names_and_tooltips_tell_results_apart(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    one = run_method(qtbot, window, "dtw", radius_s=1.0)
    two = run_method(qtbot, window, "dtw", radius_s=2.0)
    results = window.method_panel.results
    t1, t2 = results.text(results.row_of(one)), results.text(results.row_of(two))
    # what differs comes first, before anything a narrow list would cut; the distance
    assert "radius_s=1" in t1.split("d=")[0] and "radius_s=2" in t2.split("d=")[0]
    assert "d=" in t1 and "d=" in t2
    width = results.tree.fontMetrics().horizontalAdvance
    assert width(t1.split("  d=")[0]) < width(f"#{one} {window.session.label(one)}")
    tip = results.item(results.row_of(one)).toolTip(3)
    assert "distance" in tip and "radius: 1" in tip
    assert "memory_budget_bytes" not in tip and "exact = None" not in tip


# ---------------------------------------------------------------------------- 14
def menu_titles(menu):
    return [a.text() for a in menu.actions()]


def click_action(qtbot, menu, text):
    act = next(a for a in menu.actions() if a.text().startswith(text))
    qtbot.waitUntil(menu.isVisible)
    pos = menu.actionGeometry(act).center()
    QTest.mouseMove(menu, pos)
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=pos)


def test_desktop_habits(qtbot, audio_pair, tmp_path):
    from PySide6.QtCore import QSettings

    from inspector.app import MEDIA_FILTER, MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    one = tmp_path / "one"
    two = tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
        (folder / "a.wav").write_bytes(Path(audio_pair[0]).read_bytes())
    settings.setValue("recent_files", [str(one / "a.wav"), str(two / "a.wav")])
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow())
    try:
        assert "*.webm" in MEDIA_FILTER
        # Recent files: whole paths, two a.wav from two folders look different
        titles = [a.text() for a in window.recent_menu.actions()]
        assert titles == [str(one / "a.wav"), str(two / "a.wav")]
        # F1: the shortcuts; the Help menu has About
        qtbot.keyClick(window, Qt.Key.Key_F1)
        dialog = window._shortcuts_dialog
        assert dialog.isVisible() and "Ctrl+W" in dialog.table.text()
        dialog.close()
        assert any("About" in t for t in menu_titles(window.help_menu))
        # Ctrl+W closes the window (it swapped A and B before)
        window.activateWindow()
        qtbot.waitUntil(lambda: window.isActiveWindow())
        swapped = []
        window.session.recordings_swapped.connect(lambda: swapped.append(1))
        qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        assert not window.isVisible() and not swapped
    finally:
        window.shutdown()


def test_right_click_menus_and_the_hover_readout(qtbot, window, audio_pair):
    first = open_pair(qtbot, window, *audio_pair)
    second = run_method(qtbot, window, "dtw")
    wait_idle(qtbot, window)
    # the results list: right-click a row, compare it
    results = window.method_panel.results
    tree = results.tree
    rect = tree.visualItemRect(results.item(results.row_of(first)))
    pos = QPoint(tree.header().sectionViewportPosition(3) + 10, rect.center().y())
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.RightButton, pos=pos)
    qtbot.waitUntil(lambda: results.context_menu is not None)
    menu = results.context_menu
    assert "Remove" in menu_titles(menu)
    click_action(qtbot, menu, "Compare with the active one")
    assert window.session.compared_id == first and window.session.active_id == second
    # the matrix: hovering reads out the times and the cost; right-click offers actions
    vb = window.matrix.plot.getViewBox()
    view = window.matrix.plot
    centre = view.mapFromScene(vb.sceneBoundingRect().center())
    QTest.mouseMove(view.viewport(), centre)
    qtbot.waitUntil(lambda: "cost" in window.matrix.info.text())
    assert window.matrix.info.text().startswith("A ")
    QTest.mouseClick(view.viewport(), Qt.MouseButton.RightButton, pos=centre)
    qtbot.waitUntil(lambda: window.matrix.context_menu is not None)
    menu = window.matrix.context_menu
    assert menu is not None and "Show everything" in menu_titles(menu)
    click_action(qtbot, menu, "Add an anchor here")
    assert len(window.session.anchors) == 1


# ---------------------------------------------------------------------------- 13
def test_panel_details(qtbot, window, audio_pair):
    from PySide6.QtWidgets import QLabel

    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    panel = window.method_panel
    panel.select_method("dtw")
    # human names and tooltips
    assert panel.feature_a.currentText() == \
        __import__("core.registry").registry.FEATURES[panel.feature_a.currentData()].label
    assert panel.run_button.toolTip() and panel.method.toolTip()
    page = panel.pages.currentWidget()
    labels = {lab.text(): lab.toolTip() for lab in page.findChildren(QLabel) if lab.text()}
    for name in ("metric", "step pattern", "window", "radius"):
        assert labels.get(name), name
    # Page Down in the radius box changes the radius, not the cursor
    radius = panel.field("dtw", "radius_s").widget
    before, cursor = radius.value(), window.session.cursor
    radius.setFocus()
    qtbot.keyClick(radius, Qt.Key.Key_PageDown)
    assert radius.value() != before and window.session.cursor == cursor
    # the arrow says how far it moved; Shift moves ten times further
    window.matrix.setFocus()
    t0 = window.session.cursor[0]
    qtbot.keyClick(window.matrix, Qt.Key.Key_Right)
    t1 = window.session.cursor[0]
    message = window.statusBar().currentMessage()
    assert "frame of A" in message and " ms" in message
    qtbot.keyClick(window.matrix, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    t2 = window.session.cursor[0]
    assert t2 - t1 == pytest.approx(10 * (t1 - t0), rel=1e-6)
    # the progress bar is empty again after a run
    type_into(qtbot, radius, "2")
    run_method(qtbot, window, "dtw")
    assert panel.progress.value() == 0


# ---------------------------------------------------------------------------- 11
def test_short_tracks_have_few_labelled_ticks_and_tempo_has_more(qtbot, window, audio_pair):
    window.resize(1280, 800)
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    import numpy as np

    from inspector.views.axes import FittedAxis, RatioAxis

    d = window.diagnostics

    for plot in (d.conf_plot, d.cost_plot):
        axis = plot.getAxis("left")
        assert isinstance(axis, FittedAxis)
        lo, hi = axis.range
        labelled = axis.tickValues(lo, hi, axis.height())[0][1]
        line = 12
        assert len(labelled) <= max(2, int(axis.height() // line)), plot
    # the tempo ratios (what is drawn: tests/inspector/test_axes.py)
    tempo = d.tempo_plot.getAxis("left")
    assert isinstance(tempo, RatioAxis)
    assert {"¼", "½", "1", "2", "4"} <= {
        tempo.tickStrings([v], 1, 1)[0]
        for v in np.log10(tempo.ratio_ticks(np.log10(0.2), np.log10(5), 400))}
    # A and B shown at the same width tick alike
    a = window.stream_a.bottom.getAxis("bottom")
    b = window.stream_b.bottom.getAxis("bottom")
    assert a.width() == b.width()
    sa = a.tickSpacing(*a.range, a.width())
    sb = b.tickSpacing(*b.range, b.width())
    assert sa[0][0] == sb[0][0]
    assert len(a.tickValues(*a.range, a.width())[0][1]) >= 3


# ---------------------------------------------------------------------------- 12
def test_stalls_are_marked_on_both_sides_with_a_key(qtbot, window, audio_pair):
    import numpy as np

    from core.alignment import Alignment

    open_pair(qtbot, window, *audio_pair)
    s = window.session
    # a path that holds A at 1 s while B goes on for 0.5 s, and B at 2.5 s while A goes
    # on from 2.1 to 2.6 s (rates 10 Hz)
    steps = [(i, i) for i in range(10)] + [(10, j) for j in range(10, 16)]
    steps += [(i, i + 5) for i in range(11, 20)] + [(i, 25) for i in range(21, 27)]
    steps += [(i, i - 1) for i in range(27, 40)]
    path = np.array(steps)
    al = Alignment(path, 10.0, 10.0, n_a=40, n_b=50, method="dtw")
    s.add_alignment(al, label="held")
    wait_idle(qtbot, window)
    d = window.diagnostics
    assert any(abs(t - 1.0) < 1e-6 and span >= 0.5 for t, span in d.a_holds)
    assert any(t0 == pytest.approx(2.1) and t1 == pytest.approx(2.6) for t0, t1 in d.stalls)
    assert "A holds" in d.key.text() and "B holds" in d.key.text()
    assert d.key.isVisible()


def test_stall_marks_are_a_few_items_whatever_their_number(qtbot, window, audio_pair):
    import numpy as np

    from core.alignment import Alignment

    open_pair(qtbot, window, *audio_pair)
    # 300 holds of A and 300 of B, alternating (rates 10 Hz)
    steps, i, j = [], 0, 0
    for _ in range(300):
        steps += [(i, j + k) for k in range(4)]
        j += 4
        i += 1
        steps += [(i + k, j) for k in range(4)]
        i += 4
        j += 1
    path = np.array(steps)
    s = window.session
    al = Alignment(path, 10.0, 10.0, n_a=int(path[-1, 0]) + 1, n_b=int(path[-1, 1]) + 1,
                   method="dtw")
    s.add_alignment(al, label="many holds", matrix_inputs=None)
    wait_idle(qtbot, window)
    d = window.diagnostics
    assert len(d.stalls) >= 250 and len(d.a_holds) >= 250
    assert len(d.marks) <= 6
    xs, ys = next(item for plot, item in d.marks if plot is d.tempo_plot
                  and hasattr(item, "getData")).getData()
    assert np.all(np.isfinite(ys))


@pytest.mark.filterwarnings("ignore::core.errors.PartialOverlapWarning")
def test_a_lead_in_b_has_and_a_lacks_is_said_in_the_status_bar(qtbot, window, lead_in_pair):
    a, b = lead_in_pair
    messages = []
    window.workspace.message_posted.connect(messages.append)
    open_pair(qtbot, window, a, b)
    wait_idle(qtbot, window)
    said = [m for m in messages if "(default alignment:" in m]
    assert said and said[-1].startswith("Warning: B (b.wav) has material at its start (0.0-3."), \
        messages
    assert window.statusBar().currentMessage().startswith("Warning")
    # the warning outlives the status bar: an icon on the result's row, the text in its tip
    from inspector.results_list import COL_NAME

    row = window.method_panel.results.item(0)
    assert not row.icon(COL_NAME).isNull()
    assert "warning: B (b.wav) has material at its start" in row.toolTip(COL_NAME)


@pytest.mark.filterwarnings("default::core.errors.PartialOverlapWarning")
def test_an_engine_warning_reaches_the_status_bar_from_a_child_process_too(
        qtbot, window, lead_in_pair, monkeypatch):
    """Long inputs are aligned in a child process: its Python warning (B's lead-in A
    lacks) reaches the window's warning relay, as a run in the window's process does,
    before the result's message, icon and tooltip.

    (The same test for a run in the window's process failed in two of seven runs, the
    relay never called: warnings' filters and hooks are global, and another worker
    thread inside ``warnings.catch_warnings`` meanwhile, as numba's compiler is when it
    records its own warnings, can take or drop a warning raised then; a child raises
    its warnings on the task's own thread.)"""
    from inspector.app import _WarningRelay
    from inspector.results_list import COL_NAME
    from inspector.tasks import align as align_tasks

    monkeypatch.setattr(align_tasks, "PROCESS_MIN_TOTAL_S", 0.0)  # not 10-minute media
    shown = []
    window.statusBar().messageChanged.connect(shown.append)
    relay = _WarningRelay(window)
    try:
        open_pair(qtbot, window, *lead_in_pair)
        wait_idle(qtbot, window)
    finally:
        relay.restore()
    relayed = [m for m in shown if m.startswith("PartialOverlapWarning: ")]
    assert relayed and relayed[0].startswith(
        "PartialOverlapWarning: B (b.wav) has material at its start (0.0-3."), shown
    assert window.statusBar().currentMessage().startswith("Warning: B (b.wav) has material")
    row = window.method_panel.results.item(0)
    assert not row.icon(COL_NAME).isNull()
    assert "warning: B (b.wav) has material at its start" in row.toolTip(COL_NAME)


@pytest.mark.parametrize("width", [1440, 1100])
def test_the_soft_alignment_title_of_a_hard_path_fits_its_two_lines(qtbot, window,
                                                                    audio_pair, width):
    """The heatmap's title has room for two lines: the note on a hard path wrapped to
    three beside the unit matrix or in a narrower window, its first line cut in half."""
    window.resize(width, 800)
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    title = window.heatmap.title
    assert "no soft plan" in title.text()
    assert title.heightForWidth(title.width()) <= title.height()
    assert "soft-DTW" in title.toolTip()  # what makes one, where it does not crowd


def test_the_results_header_is_elided_with_its_full_text_in_a_tooltip(qtbot):
    from PySide6.QtCore import Qt

    from inspector.results_list import COL_NAME, ResultsList
    from inspector.session import Session

    results = ResultsList(Session())
    qtbot.addWidget(results)
    results.resize(220, 200)  # as narrow as the method panel leaves it
    results.show()
    qtbot.waitExposed(results)
    header = results.tree.header()
    text = results.tree.headerItem().text(COL_NAME)
    assert text == "result (method, what differs)"
    # the text does not fit its column: cut with "…", not mid-word without a sign
    assert header.sectionSize(COL_NAME) < header.fontMetrics().horizontalAdvance(text)
    assert header.textElideMode() == Qt.TextElideMode.ElideRight
    assert results.tree.headerItem().toolTip(COL_NAME) == text
    # and it is drawn so: the header differs from one cut without an ellipsis
    elided = header.grab().toImage()
    header.setTextElideMode(Qt.TextElideMode.ElideNone)
    assert header.grab().toImage() != elided
