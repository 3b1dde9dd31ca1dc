"""The method panel: every registry method runs from the panel, its fields come from the
registry, estimates, cancel, the results list."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
from inspector_gui_helpers import TIMEOUT_MS, open_pair, wait_idle

from core.alignment import Alignment
from core.errors import Cancelled
from core.registry import METHODS, Param

#: every registry method with its defaults, and each other variant of optimal transport
RUNS = [(name, {}) for name in METHODS] + [
    ("ot", {"variant": v}) for v in METHODS["ot"].param("variant").values if v != "sinkhorn"]


def _diagonal(n, m):
    k = max(n, m)
    i = np.minimum(np.arange(k) * n // k, n - 1)
    j = np.minimum(np.arange(k) * m // k, m - 1)
    return np.unique(np.stack([i, j], 1), axis=0)


def landed(x, y, *, n_components=None, reg=None, max_iter=30, rate_a_hz=1.0,
           rate_b_hz=1.0, progress=None, cancel=None):
    """A stand-in for ctw: a diagonal path at once."""
    return Alignment(_diagonal(len(x), len(y)), rate_a_hz, rate_b_hz, n_a=len(x),
                     n_b=len(y), method="ctw", params={"max_iter": max_iter})


def slow(x, y, *, n_components=None, reg=None, max_iter=30, rate_a_hz=1.0, rate_b_hz=1.0,
         progress=None, cancel=None):
    """A stand-in for ctw that runs until it is cancelled."""
    wait = threading.Event()
    for k in range(3000):
        if cancel():
            raise Cancelled("cancelled")
        progress(k / 3000)
        wait.wait(0.01)
    raise RuntimeError("slow: was never cancelled")


def substitute(monkeypatch, name, function, **changes):
    """Replace the function (and maybe more) of registry entry ``name`` for one test."""
    monkeypatch.setitem(METHODS, name, dataclasses.replace(METHODS[name], function=function,
                                                           **changes))


def run_from_panel(qtbot, window, method, **setup):
    panel = window.method_panel
    panel.select_method(method)
    panel.rate.setValue(setup.get("rate_hz", 10.0))
    for name, value in setup.get("values", {}).items():
        panel.field(method, name).set_value(value)
    with qtbot.waitSignal(window.workspace.method_finished, timeout=TIMEOUT_MS) as blocker:
        assert panel.run() is not None, window.banner.text()
    assert blocker.args[0] != -1 or not setup.get("must_succeed", True), window.banner.text()
    return blocker.args[0]


# the engine may warn that an iterative method stopped at max_iter on these tiny inputs;
# pytest would turn that warning into the job's error
@pytest.mark.filterwarnings("ignore:.*did not converge")
@pytest.mark.parametrize(("method", "values"), RUNS,
                         ids=[f"{m}-{v.get('variant', 'defaults')}" for m, v in RUNS])
def test_each_method_runs_from_the_panel(qtbot, window, audio_pair, method, values):
    first = open_pair(qtbot, window, *audio_pair)
    aid = run_from_panel(qtbot, window, method, values=values)
    assert aid != -1, window.banner.text()
    s = window.session
    al = s.alignment(aid)
    entry = METHODS[method]
    assert s.active_id == aid
    # the recipe records the user's values (the defaults here) beside the engine's params
    recipe = s.recipe(aid)
    assert recipe.method == method
    from inspector.method_panel import PANEL_PRESETS

    expected = {**entry.defaults(), **PANEL_PRESETS.get(method, {}), **values}
    seeded = s.project.result(first).image[2]  # the panel starts from the default's metric
    if "metric" in expected and seeded in entry.param("metric").values:
        expected["metric"] = seeded
    assert dict(recipe.params) == expected
    if entry.inputs == "features":
        assert al.method == ("ot" if method == "ot" else method) or \
            method == "cycle_consistency"
        assert al.rate_a_hz == pytest.approx(10.0)
        assert recipe.features_a[0].rate_hz == pytest.approx(10.0)
        kwargs = entry.engine_kwargs(recipe.params, rate_a_hz=10.0, rate_b_hz=10.0)
        for key, value in kwargs.items():
            if key in al.params:
                assert al.params[key] == value, key
    else:
        assert al.method == "dtw" and recipe.features_a  # the features it used
    # the result is listed with its parameters and drawn on the matrix
    assert window.method_panel.results.count() == 2
    assert f"#{aid}" in window.method_panel.results.text(1)
    wait_idle(qtbot, window)
    x, _ = window.matrix.path_curves["active"].getData()
    assert x[-1] == pytest.approx(al.times_s[-1, 0])
    if al.plan is not None:
        # the heatmap redraws one event-loop turn after the result, then on a worker
        qtbot.waitUntil(lambda: window.heatmap.has_plan, timeout=TIMEOUT_MS)
        wait_idle(qtbot, window)
        _, rows = window.heatmap.row_marginal.getData()
        np.testing.assert_allclose(rows, al.plan.sum(axis=1), rtol=1e-5)


def test_the_panel_fields_come_from_the_registry(qtbot, window, audio_pair, monkeypatch):
    from inspector.method_panel import MethodPanel

    panel = window.method_panel
    for entry in METHODS.values():
        shown = {n for n, f in panel.fields[entry.name].items()}
        assert shown == {p.name for p in entry.params if p.panel}, entry.name
    radius = panel.field("dtw", "radius_s")
    p = METHODS["dtw"].param("radius_s")
    assert radius.widget.maximum() == p.maximum and radius.widget.suffix() == " s"
    assert p.description in radius.widget.toolTip()
    assert [panel.method.itemText(k) for k in range(panel.method.count())] == \
        [m.title for m in METHODS.values()]

    # a parameter added to an entry appears in the panel and reaches the function
    seen = {}

    def with_extra(x, y, *, n_components=None, reg=None, max_iter=30, smoothness=0.5,
                   rate_a_hz=1.0, rate_b_hz=1.0, progress=None, cancel=None):
        seen["smoothness"] = smoothness
        return landed(x, y, rate_a_hz=rate_a_hz, rate_b_hz=rate_b_hz)

    extra = Param("smoothness", "float", "how smooth the path is", minimum=0.0,
                  maximum=4.0, decimals=2, step=0.25)
    substitute(monkeypatch, "ctw", with_extra, params=(*METHODS["ctw"].params, extra))
    fresh = MethodPanel(window.session, window.workspace)
    qtbot.addWidget(fresh)
    field = fresh.field("ctw", "smoothness")
    assert field.value() == 0.5 and field.widget.maximum() == 4.0
    assert "how smooth the path is" in field.widget.toolTip()
    open_pair(qtbot, window, *audio_pair)
    fresh.select_method("ctw")
    field.set_value(1.75)
    with qtbot.waitSignal(window.workspace.method_finished, timeout=TIMEOUT_MS) as blocker:
        assert fresh.run() is not None
    assert blocker.args[0] != -1, window.banner.text()
    assert seen == {"smoothness": 1.75}
    assert window.session.recipe(blocker.args[0]).params["smoothness"] == 1.75
    wait_idle(qtbot, window)


def test_fields_that_do_not_apply_are_disabled(qtbot, window):
    panel = window.method_panel
    panel.select_method("dtw")
    radius = panel.field("dtw", "radius_s").widget
    assert radius.isEnabled()  # the panel starts with a slanted band
    panel.field("dtw", "window").set_value("none")
    assert not radius.isEnabled()  # no window
    panel.field("dtw", "window").set_value("sakoe_chiba")
    assert radius.isEnabled()
    panel.select_method("ot")
    assert not panel.field("ot", "reg_m").widget.isEnabled()
    panel.field("ot", "variant").set_value("unbalanced")
    assert panel.field("ot", "reg_m").widget.isEnabled()
    panel.field("ot", "variant").set_value("emd")
    assert not panel.field("ot", "reg").widget.isEnabled()
    panel.select_method("default")
    assert not panel.features_box.isEnabled()  # the pipeline chooses its own


def test_dtw_window_radius_in_seconds_reaches_the_engine(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    aid = run_from_panel(qtbot, window, "dtw",
                         values={"window": "slanted_band", "radius_s": 0.5})
    al = window.session.alignment(aid)
    assert window.session.recipe(aid).params["radius_s"] == pytest.approx(0.5)
    assert al.params["window"] == ("slanted_band", 5)  # the engine's, in frames
    i, j = al.path[:, 0], al.path[:, 1]
    assert np.all(np.abs(i * al.n_b / al.n_a - j) <= int(np.ceil(0.5 * 10.0)) + 1e-9)
    wait_idle(qtbot, window)
    # the band is outlined on the matrix
    x, y = window.matrix.window_curves[1].getData()
    assert len(x) > 0 and y[0] == pytest.approx(0.5)


def test_cancel_stops_a_running_method(qtbot, window, audio_pair, monkeypatch):
    substitute(monkeypatch, "ctw", slow)
    open_pair(qtbot, window, *audio_pair)
    panel = window.method_panel
    panel.select_method("ctw")
    n_before = len(window.session.alignment_ids())
    with qtbot.waitSignal(window.workspace.method_progressed, timeout=TIMEOUT_MS):
        assert panel.run() is not None
    assert panel.cancel_button.isEnabled()
    with qtbot.waitSignal(window.workspace.method_finished, timeout=TIMEOUT_MS) as blocker:
        panel.cancel_button.click()
    assert blocker.args[0] == -1
    wait_idle(qtbot, window)
    assert len(window.session.alignment_ids()) == n_before
    assert not panel.cancel_button.isEnabled()
    assert not window.banner.isVisible()


def test_the_latest_request_wins(qtbot, window, audio_pair, monkeypatch):
    substitute(monkeypatch, "ctw", slow)
    open_pair(qtbot, window, *audio_pair)
    panel = window.method_panel
    panel.select_method("ctw")
    with qtbot.waitSignal(window.workspace.method_progressed, timeout=TIMEOUT_MS):
        panel.run()
    substitute(monkeypatch, "ctw", landed)
    with qtbot.waitSignal(window.workspace.method_finished, timeout=TIMEOUT_MS,
                          check_params_cb=lambda aid: aid != -1):
        panel.run()  # replaces the slow run, which is cancelled and dropped
    wait_idle(qtbot, window)
    methods = [window.session.alignment(a).method for a in window.session.alignment_ids()]
    assert methods.count("ctw") == 1


def test_two_results_compared_on_the_matrix(qtbot, window, audio_pair, monkeypatch):
    from PySide6.QtCore import Qt

    substitute(monkeypatch, "ctw", landed)
    first = open_pair(qtbot, window, *audio_pair)
    second = run_from_panel(qtbot, window, "ctw")
    s = window.session
    assert s.active_id == second
    results = window.method_panel.results
    check = results.check(results.row_of(first))
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=check.rect().center())
    assert s.compared_id == first
    assert set(window.matrix.path_curves) == {"active", "compared"}
    assert len(window.matrix.legend.items) == 2
    # making the first active clears the compare tick (never compared with itself)
    radio = results.radio(results.row_of(first))
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=radio.rect().center())
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
    panel.select_method("default")
    panel.update_estimate()
    assert "about" in panel.estimate_label.text()
    wait_idle(qtbot, window)


def test_an_engine_error_is_shown_not_raised(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    panel = window.method_panel
    panel.select_method("dtw")
    # the engine refuses an open begin with a pattern not normalized by N
    panel.field("dtw", "open_begin").set_value(True)
    with qtbot.waitSignal(window.workspace.method_finished, timeout=TIMEOUT_MS) as blocker:
        panel.run()
    assert blocker.args[0] == -1
    assert "step_pattern" in window.banner.text() or "pattern" in window.banner.text()
    wait_idle(qtbot, window)


def test_inputs_a_method_cannot_take_are_refused_before_any_work(qtbot, window, audio_pair):
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    panel = window.method_panel
    panel.select_method("dtw")
    panel.feature_a.setCurrentIndex(panel.feature_a.findData("chroma"))
    panel.feature_b.setCurrentIndex(panel.feature_b.findData("mfcc"))
    panel.update_estimate()
    assert "dtw needs features of the same dimension" in panel.problem.text()
    assert not panel.problem.isHidden()
    with qtbot.waitSignal(window.workspace.method_finished, timeout=1000) as blocker:
        assert panel.run() is None
    assert blocker.args[0] == -1 and "chroma has 12, mfcc has 20" in window.banner.text()
    assert window.jobs.n_running == 0
    panel.select_method("ctw")  # takes different dimensions
    panel.update_estimate()
    assert panel.problem.isHidden()


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
    assert s.recipe(aid).params["anchors_s"] == (anchor,)  # the user's, in seconds
    assert [tuple(a) for a in al.params["anchors"]] == [(i, j)]  # the engine's, in frames
    assert "anchors=1" in s.label(aid)
    wait_idle(qtbot, window)
    # the result's anchors are drawn (on the matrix's turn after the result arrives; once
    # in a loaded suite run of 2026-12-06 the assertion came before that turn; cause not
    # traced)
    qtbot.waitUntil(lambda: len(window.matrix.anchors.getData()[0]) > 0, timeout=TIMEOUT_MS)
    x, y = window.matrix.anchors.getData()
    assert (x[0], y[0]) == pytest.approx(anchor)
    # swapping A and B keeps anchors where they were in the picture, transposed
    window.swap_action.trigger()
    wait_idle(qtbot, window)
    assert s.anchors[0] == pytest.approx(anchor[::-1])
    assert s.recipe(aid).params["anchors_s"][0] == pytest.approx(anchor[::-1])
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
    labels = window.matrix.legend.texts()
    assert "searched corridor" in labels
    # after a swap the outline is transposed: it spans B's frames along x
    window.swap_action.trigger()
    wait_idle(qtbot, window)
    x, _ = window.matrix.window_curves[0].getData()
    assert x[-1] == pytest.approx((al.n_b - 1) / al.rate_b_hz, abs=2 / al.rate_b_hz)


def test_the_estimate_counts_the_frames_the_features_have(qtbot, window, tmp_path):
    from conftest import write_wav

    from core.features import audio_features

    # 4.37 s and 5.13 s at 8 kHz: 50 Hz features have 219 and 257 frames (the duration
    # times the rate, 218.5 and 256.5, would say 218 and 256)
    signals = [np.sin(np.arange(n) * 0.05).astype(np.float32) * 0.5 for n in (34_960, 41_040)]
    paths = [write_wav(tmp_path / f"{s}.wav", x) for s, x in zip("ab", signals, strict=True)]
    open_pair(qtbot, window, *paths)
    wait_idle(qtbot, window)
    panel = window.method_panel
    panel.select_method("dtw")
    panel.rate.setValue(50.0)
    panel.update_estimate()
    n = [audio_features(x, 8000, "chroma", rate_hz=50.0).n_frames for x in signals]
    assert n == [219, 257]
    assert "219×257 frames" in panel.estimate_label.text()
    wait_idle(qtbot, window)
