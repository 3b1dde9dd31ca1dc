"""The main window: opening files, the default alignment, errors, cursor, zoom, screenshot."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from inspector_gui_helpers import open_pair, wait_idle
from PySide6.QtGui import QImage


def test_opening_two_audio_files_shows_streams_matrix_and_path(qtbot, window, audio_pair):
    aid = open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s = window.session
    assert s.recording("a").kind == "audio" and s.recording("b").kind == "audio"
    assert s.active_id == aid
    al = s.active_alignment()
    assert al.path[0].tolist() == [0, 0]
    # the matrix shows an image and the path, in seconds
    assert window.matrix.image.image is not None
    x, y = window.matrix.path_curves["active"].getData()
    assert x[-1] == pytest.approx(al.times_s[-1, 0])
    assert y[-1] == pytest.approx(al.times_s[-1, 1])
    # the stream views show the waveform envelope and a feature image
    assert len(window.stream_a.wave.getData()[0]) > 0
    assert window.stream_b.image.image is not None
    assert "a.wav" in window.stream_a.header.text()
    assert "A 0:04.000" in window.streams_label.text()


def test_an_empty_window_shows_time_from_zero(qtbot, window, audio_pair):
    """Before anything is open, the time axes run from 0 (pyqtgraph's empty range was
    -0.5 ... 0.5 s: negative times on every axis at first sight); opening the pair
    then shows the recordings whole."""
    for view in (window.stream_a, window.stream_b):
        assert view.visible_range() == pytest.approx((0.0, 10.0))
    assert window.matrix.view_seconds() == pytest.approx((0.0, 10.0, 0.0, 10.0))
    assert tuple(window.diagnostics.conf_plot.getViewBox().viewRange()[0]) == \
        pytest.approx((0.0, 10.0))
    assert [tuple(r) for r in window.heatmap.main.getViewBox().viewRange()] == \
        [pytest.approx((0.0, 10.0))] * 2
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    for view, slot in ((window.stream_a, "a"), (window.stream_b, "b")):
        assert view.visible_range() == pytest.approx((0.0, window.session.duration(slot)),
                                                     abs=0.05)
    x0, x1, y0, y1 = window.matrix.view_seconds()
    assert x1 == pytest.approx(window.session.duration("a"), abs=0.1)
    assert y1 == pytest.approx(window.session.duration("b"), abs=0.1)
    (x0, x1), (y0, y1) = window.heatmap.main.getViewBox().viewRange()
    assert x1 == pytest.approx(window.session.duration("a"), rel=0.1)
    wait_idle(qtbot, window)


def test_opening_two_videos(qtbot, window, video_pair):
    open_pair(qtbot, window, *video_pair)
    wait_idle(qtbot, window)
    assert window.session.recording("a").kind == "video"
    assert window.stream_a.frame_label.isVisible()
    assert window.stream_a.frame_label.pixmap() is not None
    assert len(window.stream_a._strip_items) > 0


def test_a_bad_file_shows_an_error_in_the_window(qtbot, window, tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    with qtbot.waitSignal(window.session.error_reported, timeout=60_000) as blocker:
        window.workspace.open_file("a", str(bad))
    assert "broken.wav" in blocker.args[0]
    assert window.banner.isVisible()
    assert "broken.wav" in window.banner.text()
    assert window.session.recording("a") is None
    wait_idle(qtbot, window)


def test_a_missing_file_shows_an_error(qtbot, window, tmp_path):
    with qtbot.waitSignal(window.session.error_reported, timeout=60_000) as blocker:
        window.workspace.open_file("b", str(tmp_path / "nope.wav"))
    assert "nope.wav" in blocker.args[0]
    wait_idle(qtbot, window)


def test_cursor_maps_a_to_b_through_the_active_path(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    s = window.session
    al = s.active_alignment()
    for t in (0.5, 1.7, 3.2):
        with qtbot.waitSignal(s.cursor_moved, timeout=1000):
            s.move_cursor("a", t)
        assert s.cursor[0] == pytest.approx(t)
        assert s.cursor[1] == pytest.approx(al.map_a_to_b(t))
        assert window.matrix.cross_v.value() == pytest.approx(t)
        assert window.matrix.cross_h.value() == pytest.approx(al.map_a_to_b(t))
        assert window.stream_b.cursor_lines[0].value() == pytest.approx(al.map_a_to_b(t))
    s.move_cursor("b", 2.0)
    assert s.cursor[0] == pytest.approx(al.map_b_to_a(2.0))
    wait_idle(qtbot, window)


def test_keys_step_the_cursor(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    s = window.session
    s.move_cursor("a", 1.0)
    rate = s.stream("a").features[s.stream("a").display_feature].rate_hz
    window.activateWindow()
    right = next(a for a in window.cursor_actions if a.shortcut().toString() == "Right")
    right.trigger()
    assert s.cursor[0] == pytest.approx(1.0 + 1.0 / rate)
    page = next(a for a in window.cursor_actions if a.shortcut().toString() == "PgDown")
    page.trigger()
    assert s.cursor[0] == pytest.approx(2.0 + 1.0 / rate)
    wait_idle(qtbot, window)


def test_zoom_keeps_the_matrix_axes_in_seconds(qtbot, window, audio_pair, monkeypatch):
    from inspector.views import matrix as matrix_module

    # a small overview so that zooming in asks for the exact region
    monkeypatch.setattr(matrix_module, "OVERVIEW_SIZE", 64)
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    view = window.matrix
    fa, fb, _ = view._inputs
    assert view._overview.shape == (64, 64)
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert rect.left() == pytest.approx(-0.5 / fa.rate_hz)
    assert rect.right() == pytest.approx((len(fa.values) - 0.5) / fa.rate_hz)
    with qtbot.waitSignal(view.region_drawn, timeout=60_000):
        view.set_view_seconds(1.0, 2.0, 1.5, 2.5)
    x0, x1, y0, y1 = view.view_seconds()
    assert (x0, x1) == pytest.approx((1.0, 2.0))
    assert (y0, y1) == pytest.approx((1.5, 2.5))
    i0, i1, j0, j1 = view._region_key
    rect = view.region_image.mapRectToParent(view.region_image.boundingRect())
    # the exact region lies where its frames are, in seconds
    assert rect.left() == pytest.approx((i0 - 0.5) / fa.rate_hz)
    assert rect.top() == pytest.approx((j0 - 0.5) / fb.rate_hz)
    assert rect.width() == pytest.approx((i1 - i0) / fa.rate_hz)
    assert i0 <= 1.0 * fa.rate_hz and i1 >= 2.0 * fa.rate_hz
    # and it is the exact cost there
    from core.display import cost_region

    expected = cost_region(fa.values, fb.values, i0, i1, j0, j1, metric=view._inputs[2])
    np.testing.assert_allclose(view._region_data, expected, rtol=1e-5, atol=1e-6)
    # a new region redraws only the region's image, with the overview's levels
    overview_image = view.image.image
    with qtbot.waitSignal(view.region_drawn, timeout=60_000):
        view.set_view_seconds(0.1, 0.4, 0.1, 0.4)
    assert view.image.image is overview_image
    assert view._region_key != (i0, i1, j0, j1)
    assert list(view.region_image.levels) == pytest.approx(list(view.image.levels))
    # the stream views zoom in seconds too
    window.stream_a.set_visible_range(0.5, 1.5)
    t0, t1 = window.stream_a.visible_range()
    assert (t0, t1) == pytest.approx((0.5, 1.5), abs=1e-6)
    wait_idle(qtbot, window)


def test_swap_exchanges_a_and_b(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    s = window.session
    before = s.active_alignment()
    path_a = s.recording("a").path
    window.swap_action.trigger()
    assert s.recording("b").path == path_a
    after = s.active_alignment()
    np.testing.assert_array_equal(after.path, before.path[:, ::-1])
    assert after.rate_a_hz == before.rate_b_hz
    wait_idle(qtbot, window)


def test_closing_the_window_cancels_and_waits(qtbot, window, audio_pair):
    window.workspace.open_file("a", audio_pair[0])
    window.workspace.open_file("b", audio_pair[1])
    window.close()
    assert window.jobs.n_running == 0
    assert window.jobs._pool.activeThreadCount() == 0


def test_screenshot_from_the_command_line(tmp_path, audio_pair):
    out = tmp_path / "shot.png"
    proc = subprocess.run(
        [sys.executable, "-m", "inspector.launch", *audio_pair, "--screenshot", str(out)],
        capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    img = QImage(str(out))
    assert img.width() >= 1280 and img.height() >= 800
    assert "Traceback" not in proc.stderr


def test_screenshot_with_a_bad_file_reports_it(tmp_path):
    out = tmp_path / "shot.png"
    proc = subprocess.run(
        [sys.executable, "-m", "inspector.launch", str(tmp_path / "missing.wav"),
         str(tmp_path / "other.wav"), "--screenshot", str(out)],
        capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 1
    assert "missing.wav" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert out.exists()


def test_clicking_the_matrix_and_a_stream_moves_the_cursor(qtbot, window, audio_pair):
    from PySide6.QtCore import QPointF, Qt

    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s = window.session
    vb = window.matrix.plot.getViewBox()
    scene_pt = vb.mapViewToScene(QPointF(2.0, 1.0))
    pos = window.matrix.plot.mapFromScene(scene_pt)
    qtbot.mouseClick(window.matrix.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    per_pixel = vb.viewPixelSize()[0]
    assert s.cursor[0] == pytest.approx(2.0, abs=3 * per_pixel)
    assert s.cursor[1] == pytest.approx(s.active_alignment().map_a_to_b(s.cursor[0]))
    # a click on stream B moves B's time; A follows through the path
    view = window.stream_b
    vb = view.bottom.getViewBox()
    pos = view.plots.mapFromScene(vb.mapViewToScene(QPointF(3.0, 5.0)))
    qtbot.mouseClick(view.plots.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert s.cursor[1] == pytest.approx(3.0, abs=3 * vb.viewPixelSize()[0])
    assert s.cursor[0] == pytest.approx(s.active_alignment().map_b_to_a(s.cursor[1]))
    wait_idle(qtbot, window)


def test_dropping_a_file_on_a_pane_opens_it(qtbot, window, audio_pair):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(audio_pair[1])])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.session.recording_opened, timeout=60_000) as blocker:
        window.stream_b.dropEvent(event)
    assert blocker.args == ["b"]
    assert window.session.recording("b").path.name == "b.wav" or str(
        window.session.recording("b").path).endswith("b.wav")
    wait_idle(qtbot, window)


def test_recent_files_are_remembered(qtbot, tmp_path, audio_pair):
    from PySide6.QtCore import QSettings

    from inspector.app import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    try:
        with qtbot.waitSignal(win.workspace.recent_files_changed, timeout=60_000):
            win.workspace.open_file("a", audio_pair[0])
        assert win.workspace.recent_files()[0].endswith("a.wav")
        assert win.recent_menu.isEnabled()
        titles = [a.text() for a in win.recent_menu.actions()]
        assert titles == [win.workspace.recent_files()[0]]  # the whole path
        qtbot.waitUntil(lambda: win.jobs.n_running == 0, timeout=60_000)
    finally:
        win.shutdown()


def test_an_edit_redraws_the_views(qtbot, window, audio_pair):
    aid = open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    al = window.session.alignment(aid)
    n = min(al.n_a, al.n_b)
    diagonal = np.stack([np.arange(n), np.arange(n)], axis=1)
    edited = al.replace(path=diagonal, confidence=None, method="manual")
    window.session.apply_edit(aid, edited, "diagonal")
    x, y = window.matrix.path_curves["active"].getData()
    assert x[-1] == pytest.approx((n - 1) / al.rate_a_hz)
    assert window.session.cursor[1] == pytest.approx(
        edited.map_a_to_b(window.session.cursor[0]))
    window.session.undo()
    x, _ = window.matrix.path_curves["active"].getData()
    assert x[-1] == pytest.approx(al.times_s[-1, 0])
    wait_idle(qtbot, window)


def test_swap_while_jobs_run_keeps_every_stream_filled(qtbot, window, audio_pair):
    window.workspace.open_file("a", audio_pair[0])
    window.workspace.open_file("b", audio_pair[1])
    qtbot.waitUntil(window.session.has_both, timeout=60_000)
    window.swap_action.trigger()  # envelopes, images and the alignment may be running
    wait_idle(qtbot, window)
    s = window.session
    assert s.recording("a").path.name == "b.wav" if hasattr(s.recording("a").path, "name") \
        else str(s.recording("a").path).endswith("b.wav")
    for slot in ("a", "b"):
        assert s.stream(slot).envelope is not None
        assert s.stream(slot).display_feature is not None
    al = s.active_alignment()
    assert al is not None
    assert al.n_a / al.rate_a_hz == pytest.approx(s.duration("a"), abs=0.1)


def test_the_heatmap_follows_the_matrix_zoom(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)  # the matrix shows the whole pair once it has drawn it
    window.matrix.set_view_seconds(1.0, 2.0, 1.5, 3.0)

    def followed():
        (x0, x1), (y0, y1) = window.heatmap.main.getViewBox().viewRange()
        assert (x0, x1, y0, y1) == pytest.approx((1.0, 2.0, 1.5, 3.0))

    qtbot.waitUntil(followed, timeout=5000)  # one loop turn later
    wait_idle(qtbot, window)


def test_long_inputs_align_in_a_child_process(qtbot, window, audio_pair, monkeypatch):
    from core import registry
    from inspector.tasks import align as align_tasks

    monkeypatch.setattr(align_tasks, "PROCESS_MIN_TOTAL_S", 0.0)  # every pair is long
    aid = open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    al = window.session.alignment(aid)
    rec_a, rec_b = window.session.recording("a"), window.session.recording("b")
    here = align_tasks.run_recipe(registry.recipe("default"), rec_a, rec_b)
    expected, fa = here.alignment, here.features_a
    assert al.rate_a_hz == expected.rate_a_hz
    # Features computed in two processes may differ in the last bit of a float32 (BLAS
    # and SIMD paths depend on the thread count and the CPU: 15 of 4800 values on an AMD
    # EPYC), so compare them to float32's precision, and compare the paths as time maps
    # (a last-bit difference may move a step at a near tie, never by more than a frame).
    fa_child, _, _ = window.session.matrix_inputs(aid)
    np.testing.assert_allclose(fa_child.values, fa.values, rtol=1e-5,
                               atol=1e-6 * float(np.abs(fa.values).max()))
    t = np.linspace(0.0, al.duration_a_s, 400)
    np.testing.assert_allclose(al.map_a_to_b(t), expected.map_a_to_b(t),
                               atol=1.0 / al.rate_b_hz)
    assert window.matrix.image.image is not None


def test_cancelling_a_child_process_alignment(qtbot, audio_pair, monkeypatch):
    from core import registry
    from core.errors import Cancelled
    from inspector.tasks import align as align_tasks
    from inspector.tasks import media as media_tasks

    monkeypatch.setattr(align_tasks, "PROCESS_MIN_TOTAL_S", 0.0)
    rec_a = media_tasks.open_recording(audio_pair[0]).recording
    rec_b = media_tasks.open_recording(audio_pair[1]).recording
    calls = []
    with pytest.raises(Cancelled):
        align_tasks.align_job(registry.recipe("default"), rec_a, rec_b,
                              cancel=lambda: calls.append(1) or len(calls) > 3)


def test_the_application_keeps_full_garbage_collections_rare(qtbot):
    import gc

    from inspector.app import MainWindow

    before = gc.get_threshold()
    try:
        win = MainWindow(settings=None, tune_gc=True)
        qtbot.addWidget(win)
        assert gc.get_threshold()[2] == 1000
        assert gc.get_freeze_count() > 0
        win.shutdown()
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def test_moving_the_cursor_and_long_names_never_re_lay_out_the_window(qtbot, window, tmp_path):
    """Status texts, headers and job labels change at every step: they must not resize
    the window or its plots (a widened window once re-laid out every view per step)."""
    import pyqtgraph as pg
    from conftest import melody, write_wav
    from PySide6.QtCore import QEvent, QObject

    long_name = "a_recording_with_a_very_long_name_" + "x" * 150 + ".wav"
    a = write_wav(tmp_path / long_name, melody(4.0, tempo=1.0))
    b = write_wav(tmp_path / "b.wav", melody(5.0, tempo=0.8, seed=1))
    size = window.size()
    open_pair(qtbot, window, a, b)
    wait_idle(qtbot, window)
    assert window.size() == size
    assert long_name in window.stream_a.header.text()  # whole text kept, shown elided

    class ResizeCounter(QObject):
        def __init__(self):
            super().__init__()
            self.n = 0

        def eventFilter(self, obj, event):  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Resize:
                self.n += 1
            return False

    counter = ResizeCounter()
    views = window.findChildren(pg.GraphicsView)
    for view in views:
        view.installEventFilter(counter)
    for k in range(40):
        t = 3.9 * k / 39
        window.session.move_cursor("a", t)
        window.stream_a.set_visible_range(t - 0.5, t + 0.5)
        window.busy_label.setText("working: " + ", ".join(["alignment"] * (k % 7)))
        qtbot.wait(1)
    wait_idle(qtbot, window)
    for view in views:
        view.removeEventFilter(counter)
    assert window.size() == size
    assert counter.n == 0


def test_zooming_a_stream_draws_the_waveform_of_that_range(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    view = window.stream_a
    pyramid = window.session.stream("a").envelope
    x, _ = view.wave.getData()
    # the whole file, from a level of the pyramid (no job)
    spacing = np.median(np.diff(x[::2]))
    assert any(spacing == pytest.approx(env.bin_s, rel=0.01) for env in pyramid.levels)
    assert view._envelope is None
    view.set_visible_range(1.0, 1.05)  # 400 samples at 8 kHz: finer than the pyramid
    qtbot.waitUntil(lambda: view._envelope is not None, timeout=60_000)
    wait_idle(qtbot, window)
    x, y = view.wave.getData()
    assert x.min() <= 1.0 and x.max() >= 1.05
    # fewer samples than pixels: a bin per sample
    assert np.median(np.diff(x[::2])) == pytest.approx(1.0 / 8000)
    signal = np.asarray(window.session.recording("a").audio(mono=True))
    inside = (x > 1.0) & (x < 1.05)
    assert y[inside].max() == pytest.approx(signal[8000:8400].max(), abs=1e-6)
