"""The method panel: every method runs from the panel, estimates, cancel, results list."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
from inspector_gui_helpers import TIMEOUT_MS, open_pair, wait_idle

from inspector import compute
from inspector.method_panel import METHOD_TITLES

FAKE_MODULE = textwrap.dedent(
    """
    import threading
    import numpy as np
    from core.alignment import Alignment
    from core.errors import Cancelled

    def _diagonal(n, m):
        k = max(n, m)
        i = np.minimum(np.arange(k) * n // k, n - 1)
        j = np.minimum(np.arange(k) * m // k, m - 1)
        path = np.unique(np.stack([i, j], 1), axis=0)
        return path

    def landed(x, y, *, rate_a_hz=1.0, rate_b_hz=1.0, progress=None, cancel=None):
        path = _diagonal(len(x), len(y))
        return Alignment(path, rate_a_hz, rate_b_hz, n_a=len(x), n_b=len(y), method="ctw")

    def slow(x, y, *, rate_a_hz=1.0, rate_b_hz=1.0, progress=None, cancel=None):
        wait = threading.Event()
        for k in range(3000):
            if cancel():
                raise Cancelled("cancelled")
            progress(k / 3000)
            wait.wait(0.01)
        raise RuntimeError("slow: was never cancelled")
    """
)


@pytest.fixture
def fake_methods(tmp_path, monkeypatch):
    """A module of stand-in engine functions on sys.path, imported by name."""
    folder = tmp_path / "fake_engine"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    name = f"fake_methods_{abs(hash(str(tmp_path)))}"
    (folder / f"{name}.py").write_text(FAKE_MODULE)
    yield name
    sys.modules.pop(name, None)


def run_from_panel(qtbot, window, method, **setup):
    panel = window.method_panel
    panel.select_method(method)
    panel.rate.setValue(setup.get("rate_hz", 10.0))
    with qtbot.waitSignal(window.workspace.method_finished, timeout=TIMEOUT_MS) as blocker:
        assert panel.run() != -1, window.banner.text()
    assert blocker.args[0] != -1 or not setup.get("must_succeed", True), window.banner.text()
    return blocker.args[0]


# the engine may warn that an iterative method stopped at max_iter on these tiny inputs;
# pytest would turn that warning into the job's error
@pytest.mark.filterwarnings("ignore:.*did not converge")
@pytest.mark.parametrize("method", list(METHOD_TITLES))
def test_each_method_runs_from_the_panel(qtbot, window, audio_pair, method):
    ok, why = compute.method_available(method)
    if not ok:
        pytest.skip(why)
    open_pair(qtbot, window, *audio_pair)
    aid = run_from_panel(qtbot, window, method)
    assert aid != -1, window.banner.text()
    s = window.session
    al = s.alignment(aid)
    assert al.method == method or (method == "cycle_consistency")
    assert s.active_id == aid
    assert al.rate_a_hz == pytest.approx(10.0)
    # the result is listed with its parameters and drawn on the matrix
    assert window.method_panel.results.count() == 2
    assert f"#{aid}" in window.method_panel.results.item(1).text()
    wait_idle(qtbot, window)
    x, _ = window.matrix.path_curves["active"].getData()
    assert x[-1] == pytest.approx(al.times_s[-1, 0])
    if al.plan is not None:
        # the heatmap redraws one event-loop turn after the result, then on a worker
        qtbot.waitUntil(lambda: window.heatmap.has_plan, timeout=TIMEOUT_MS)
        wait_idle(qtbot, window)
        _, rows = window.heatmap.row_marginal.getData()
        np.testing.assert_allclose(rows, al.plan.sum(axis=1), rtol=1e-5)


def test_dtw_window_radius_in_seconds_reaches_the_engine(qtbot, window, audio_pair):
    if not compute.method_available("dtw")[0]:
        pytest.skip("dtw not available")
    open_pair(qtbot, window, *audio_pair)
    panel = window.method_panel
    panel.window.setCurrentText("slanted_band")
    panel.radius_s.setValue(0.5)
    aid = run_from_panel(qtbot, window, "dtw")
    al = window.session.alignment(aid)
    assert al.params["window_radius_s"] == pytest.approx(0.5)
    i, j = al.path[:, 0], al.path[:, 1]
    assert np.all(np.abs(i * al.n_b / al.n_a - j) <= int(np.ceil(0.5 * 10.0)) + 1e-9)
    wait_idle(qtbot, window)
    # the band is outlined on the matrix
    x, y = window.matrix.window_curves[1].getData()
    assert len(x) > 0 and y[0] == pytest.approx(0.5)


def test_a_method_not_landed_yet_gives_a_clear_message(qtbot, window, audio_pair,
                                                        monkeypatch):
    monkeypatch.setitem(compute.METHODS, "ctw", ("core.no_such_module_yet", "ctw"))
    open_pair(qtbot, window, *audio_pair)
    panel = window.method_panel
    panel.select_method("ctw")
    assert "not available yet" in panel.availability.text()
    assert "not available yet" in panel.method.itemText(1)
    with qtbot.waitSignal(window.session.error_reported, timeout=1000) as blocker:
        assert panel.run() == -1
    assert "ctw: not available yet" in blocker.args[0]
    assert "not available yet" in window.banner.text()
    assert window.jobs.n_running == 0 or not window.jobs.is_running("method")
    wait_idle(qtbot, window)


def test_a_method_is_picked_up_when_it_lands(qtbot, window, audio_pair, monkeypatch,
                                             tmp_path):
    folder = tmp_path / "late"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    name = f"late_engine_{abs(hash(str(tmp_path)))}"
    monkeypatch.setitem(compute.METHODS, "ctw", (name, "landed"))
    open_pair(qtbot, window, *audio_pair)
    panel = window.method_panel
    panel.select_method("ctw")
    assert "not available yet" in panel.availability.text()
    (folder / f"{name}.py").write_text(FAKE_MODULE)  # the engineer commits it
    aid = run_from_panel(qtbot, window, "ctw")
    assert aid != -1
    assert window.session.alignment(aid).method == "ctw"
    assert panel.availability.text() == ""
    sys.modules.pop(name, None)
    wait_idle(qtbot, window)


def test_cancel_stops_a_running_method(qtbot, window, audio_pair, monkeypatch, fake_methods):
    monkeypatch.setitem(compute.METHODS, "ctw", (fake_methods, "slow"))
    open_pair(qtbot, window, *audio_pair)
    panel = window.method_panel
    panel.select_method("ctw")
    n_before = len(window.session.alignment_ids())
    with qtbot.waitSignal(window.workspace.method_progressed, timeout=TIMEOUT_MS):
        assert panel.run() != -1
    assert panel.cancel_button.isEnabled()
    with qtbot.waitSignal(window.workspace.method_finished, timeout=TIMEOUT_MS) as blocker:
        panel.cancel_button.click()
    assert blocker.args[0] == -1
    wait_idle(qtbot, window)
    assert len(window.session.alignment_ids()) == n_before
    assert not panel.cancel_button.isEnabled()
    assert not window.banner.isVisible()


def test_the_latest_request_wins(qtbot, window, audio_pair, monkeypatch, fake_methods):
    monkeypatch.setitem(compute.METHODS, "ctw", (fake_methods, "slow"))
    open_pair(qtbot, window, *audio_pair)
    panel = window.method_panel
    panel.select_method("ctw")
    with qtbot.waitSignal(window.workspace.method_progressed, timeout=TIMEOUT_MS):
        panel.run()
    monkeypatch.setitem(compute.METHODS, "ctw", (fake_methods, "landed"))
    with qtbot.waitSignal(window.workspace.method_finished, timeout=TIMEOUT_MS,
                          check_params_cb=lambda aid: aid != -1):
        panel.run()  # replaces the slow run, which is cancelled and dropped
    wait_idle(qtbot, window)
    methods = [window.session.alignment(a).method for a in window.session.alignment_ids()]
    assert methods.count("ctw") == 1


def test_two_results_compared_on_the_matrix(qtbot, window, audio_pair, monkeypatch,
                                            fake_methods):
    from PySide6.QtCore import Qt

    monkeypatch.setitem(compute.METHODS, "ctw", (fake_methods, "landed"))
    first = open_pair(qtbot, window, *audio_pair)
    second = run_from_panel(qtbot, window, "ctw")
    s = window.session
    assert s.active_id == second
    item = window.method_panel._item(first)
    item.setCheckState(Qt.CheckState.Checked)
    assert s.compared_id == first
    assert set(window.matrix.path_curves) == {"active", "compared"}
    assert len(window.matrix.legend.items) == 2
    # clicking the first makes it active; the compare tick goes away
    window.method_panel._on_item_clicked(item)
    assert s.active_id == first and s.compared_id == -1
    wait_idle(qtbot, window)


def test_the_estimate_is_shown_before_running(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    panel = window.method_panel
    panel.select_method("dtw")
    panel.rate.setValue(20.0)
    panel.update_estimate()
    text = panel.estimate_label.text()
    assert "80×100 frames" in text and "about" in text
    wait_idle(qtbot, window)


def test_an_engine_error_is_shown_not_raised(qtbot, window, audio_pair, monkeypatch):
    if not compute.method_available("dtw")[0]:
        pytest.skip("dtw not available")
    open_pair(qtbot, window, *audio_pair)
    panel = window.method_panel
    panel.select_method("dtw")
    panel.step_pattern.addItem("no_such_pattern")
    panel.step_pattern.setCurrentText("no_such_pattern")
    with qtbot.waitSignal(window.workspace.method_finished, timeout=TIMEOUT_MS) as blocker:
        panel.run()
    assert blocker.args[0] == -1
    assert "step_pattern" in window.banner.text() or "pattern" in window.banner.text()
    wait_idle(qtbot, window)


def test_anchors_shift_clicked_on_the_matrix_are_kept_by_the_dtw_path(qtbot, window,
                                                                       audio_pair):
    from PySide6.QtCore import QPointF, Qt

    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s, panel = window.session, window.method_panel
    default = s.active_alignment()
    # a point well off the default path: the run must still pass through it
    ta = 2.0
    tb = float(default.map_a_to_b(ta)) + 1.0
    vb = window.matrix.plot.getViewBox()
    pos = window.matrix.plot.mapFromScene(vb.mapViewToScene(QPointF(ta, tb)))
    qtbot.mouseClick(window.matrix.plot.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ShiftModifier, pos=pos)
    px, py = vb.viewPixelSize()
    assert len(s.anchors) == 1
    assert s.anchors[0] == pytest.approx((ta, tb), abs=3 * max(px, py))
    assert "1" in panel.anchors_label.text() and panel.clear_anchors_button.isEnabled()
    x, y = window.matrix.pending_anchors.getData()
    assert (x[0], y[0]) == pytest.approx(s.anchors[0])
    anchor = s.anchors[0]

    aid = run_from_panel(qtbot, window, "dtw")
    al = s.alignment(aid)
    rate = panel.rate.value()
    i, j = int(round(anchor[0] * rate)), int(round(anchor[1] * rate))
    assert [i, j] in al.path.tolist()
    assert al.params["anchors_s"] == [list(anchor)]
    assert "anchors=1" in s.label(aid)
    wait_idle(qtbot, window)
    x, y = window.matrix.anchors.getData()  # the result's anchors are drawn
    assert (x[0], y[0]) == pytest.approx(anchor)
    # swapping A and B keeps anchors where they were in the picture, transposed
    window.swap_action.trigger()
    wait_idle(qtbot, window)
    assert s.anchors[0] == pytest.approx(anchor[::-1])
    assert s.alignment(aid).params["anchors_s"][0] == pytest.approx(anchor[::-1])
    assert [tuple(a) for a in s.alignment(aid).params["anchors"]] == [(j, i)]
    panel.clear_anchors_button.click()
    assert s.anchors == () and not panel.clear_anchors_button.isEnabled()
    assert len(window.matrix.pending_anchors.getData()[0]) == 0


def test_a_searched_corridor_is_outlined_on_the_matrix(qtbot, window, audio_pair):
    from core.warping.windows import window_outline

    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    s = window.session
    al = s.active_alignment()
    lo = np.clip(np.arange(al.n_a) * al.n_b // al.n_a - 5, 0, None)
    hi = np.minimum(lo + 11, al.n_b)
    outlined = al.replace(diagnostics=dict(al.diagnostics,
                                           search_window=window_outline(lo, hi, 50)))
    s.add_alignment(outlined, label="outlined", matrix_inputs=s.matrix_inputs(s.active_id))
    wait_idle(qtbot, window)
    x, y = window.matrix.window_curves[0].getData()
    assert len(x) == 100 and x[0] == 0.0
    assert y[0] == pytest.approx(0.0)
    assert x[-1] == pytest.approx((al.n_a - 1) / al.rate_a_hz)
    labels = [label.text for _, label in window.matrix.legend.items]
    assert "searched corridor" in labels
    # after a swap the outline is transposed: it spans B's frames along x
    window.swap_action.trigger()
    wait_idle(qtbot, window)
    x, _ = window.matrix.window_curves[0].getData()
    assert x[-1] == pytest.approx((al.n_b - 1) / al.rate_b_hz, abs=2 / al.rate_b_hz)
