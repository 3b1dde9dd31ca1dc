"""core.warping.resolve: anchored re-solve recomputes only the segments an edit touches."""

import numpy as np
import pytest

from core.warping import _engine, dtw, resolve


@pytest.fixture
def xy():
    rng = np.random.default_rng(7)
    x = np.cumsum(rng.normal(size=(240, 3)), axis=0)
    y = np.cumsum(rng.normal(size=(200, 3)), axis=0)
    return x, y


@pytest.fixture
def count_solves(monkeypatch):
    calls = []
    original = _engine._solve_one

    def counting(source, *args, **kwargs):
        calls.append((source.i_off, source.j_off, source.n, source.m))
        return original(source, *args, **kwargs)

    monkeypatch.setattr(_engine, "_solve_one", counting)
    return calls


def assert_same(a, b):
    np.testing.assert_array_equal(a.path, b.path)
    assert a.distance == pytest.approx(b.distance, rel=1e-12)
    if np.isfinite(b.normalized_distance):
        assert a.normalized_distance == pytest.approx(b.normalized_distance, rel=1e-12)
    assert [s["distance"] for s in a.diagnostics["segments"]] == pytest.approx(
        [s["distance"] for s in b.diagnostics["segments"]], rel=1e-12)


def test_moving_one_anchor_solves_only_its_two_segments(xy, count_solves):
    x, y = xy
    old = [(40, 30), (100, 90), (170, 150)]
    new = [(40, 30), (110, 85), (170, 150)]
    prev = dtw(x, y, anchors=old)
    count_solves.clear()
    got = resolve(prev, new, x, y)
    # the two segments around the moved anchor, nothing else
    assert count_solves == [(40, 30, 71, 56), (110, 85, 61, 66)]
    full = dtw(x, y, anchors=new)
    assert_same(got, full)
    assert got.diagnostics["n_segments_solved"] == 2
    reused = [s["reused"] for s in got.diagnostics["segments"]]
    assert reused == [True, False, False, True]
    seg_cells = [s["cells"] for s in full.diagnostics["segments"]]
    assert got.diagnostics["cells_solved"] == seg_cells[1] + seg_cells[2]
    assert got.diagnostics["cells_solved"] < full.diagnostics["cells"]
    assert got.params["anchors"] == full.params["anchors"]


def test_adding_and_removing_anchors(xy, count_solves):
    x, y = xy
    prev = dtw(x, y, anchors=[(60, 50), (180, 150)])
    count_solves.clear()
    added = resolve(prev, [(60, 50), (120, 110), (180, 150)], x, y)
    assert len(count_solves) == 2  # (60,50)->(120,110) and (120,110)->(180,150)
    assert_same(added, dtw(x, y, anchors=[(60, 50), (120, 110), (180, 150)]))
    count_solves.clear()
    removed = resolve(added, [(120, 110), (180, 150)], x, y)
    assert count_solves == [(0, 0, 121, 111)]
    assert_same(removed, dtw(x, y, anchors=[(120, 110), (180, 150)]))
    count_solves.clear()
    same = resolve(removed, [(120, 110), (180, 150)], x, y)
    assert count_solves == []
    assert same.diagnostics["n_segments_solved"] == 0
    assert same.diagnostics["cells_solved"] == 0
    assert_same(same, removed)
    count_solves.clear()
    none = resolve(same, None, x, y)
    assert len(count_solves) == 1
    assert_same(none, dtw(x, y))


def test_chain_of_edits_equals_full_solves(xy):
    x, y = xy
    rng = np.random.default_rng(3)
    current = dtw(x, y, anchors=[(100, 100)])
    anchors = {(100, 100)}
    for _ in range(6):
        i = int(rng.integers(1, 239))
        j = int(np.clip(round(i * 200 / 240 + rng.integers(-10, 11)), 1, 198))
        trial = sorted(anchors | {(i, j)})
        if np.any(np.diff([a[1] for a in trial]) < 0):
            continue
        anchors = set(trial)
        current = resolve(current, trial, x, y)
        assert_same(current, dtw(x, y, anchors=trial))


@pytest.mark.parametrize("kwargs", [
    {"window": ("sakoe_chiba", 60)},
    {"step_pattern": "symmetric1"},
    {"step_pattern": "asymmetric", "open_end": True},
    {"step_pattern": "asymmetric", "open_begin": True, "open_end": True},
    {"step_pattern": "symmetricP05"},
    {"metric": "cosine", "exact": False},
])
def test_options_are_kept(xy, kwargs, count_solves):
    x, y = xy
    prev = dtw(x, y, anchors=[(50, 45), (120, 100), (200, 170)], **kwargs)
    new = [(50, 45), (125, 104), (200, 170)]
    count_solves.clear()
    got = resolve(prev, new, x, y)
    # an open end is solved again (its end column depends on the distance before it)
    assert len(count_solves) == (3 if kwargs.get("open_end") else 2)
    assert_same(got, dtw(x, y, anchors=new, **kwargs))


def test_precomputed_cost(xy, count_solves):
    x, y = xy
    cost = np.abs(x[:, None, 0] - y[None, :, 0])
    prev = dtw(cost=cost, anchors=[(30, 20), (150, 140)])
    count_solves.clear()
    got = resolve(prev, [(30, 20), (160, 130)], cost=cost)
    assert len(count_solves) == 2
    assert_same(got, dtw(cost=cost, anchors=[(30, 20), (160, 130)]))


def test_tiled_segments_reused(monkeypatch):
    # large enough for the tiled kernel in each segment
    t = np.linspace(0, 1, 1500)
    x = np.sin(np.outer(t, np.arange(1, 4)) * 15)
    y = np.sin(np.outer(t ** 1.2, np.arange(1, 4)) * 15)
    prev = dtw(x, y, anchors=[(500, 450), (1000, 950)])
    got = resolve(prev, [(500, 450), (1010, 980)], x, y)
    assert_same(got, dtw(x, y, anchors=[(500, 450), (1010, 980)]))
    assert got.diagnostics["segments"][0]["reused"]
    assert got.diagnostics["cells_solved"] < got.diagnostics["cells"] * 0.8


def test_mask_window_and_custom_pattern_must_be_given_again(xy):
    x, y = xy
    mask = np.ones((240, 200), dtype=bool)
    mask[0, 150:] = False
    prev = dtw(x, y, window=mask, anchors=[(100, 90)])
    with pytest.raises(ValueError, match="window: previous used a 'mask"):
        resolve(prev, [(110, 90)], x, y)
    got = resolve(prev, [(110, 90)], x, y, window=mask)
    assert_same(got, dtw(x, y, window=mask, anchors=[(110, 90)]))
    with pytest.raises(ValueError, match="window: previous used"):
        resolve(prev, [(110, 90)], x, y, window=("sakoe_chiba", 10))


def test_bad_input(xy):
    x, y = xy
    prev = dtw(x, y, anchors=[(100, 90)])
    with pytest.raises(ValueError, match="previous: expected an Alignment"):
        resolve(prev.replace(diagnostics={}), [(110, 90)], x, y)
    with pytest.raises(ValueError, match="previous: expected an Alignment"):
        resolve("nope", [(110, 90)], x, y)
    with pytest.raises(ValueError, match="not the inputs previous"):
        resolve(prev, [(110, 90)], x + 1.0, y)
    with pytest.raises(ValueError, match="not the inputs previous"):
        resolve(prev, [(110, 90)], x[:-1], y)
    with pytest.raises(ValueError, match="cost: previous was computed from features"):
        resolve(prev, [(110, 90)], cost=np.ones((240, 200)))
    with pytest.raises(ValueError, match="step_pattern: previous used"):
        resolve(prev, [(110, 90)], x, y, step_pattern="symmetric1")
    with pytest.raises(ValueError, match="anchors: every"):
        resolve(prev, [(500, 90)], x, y)
