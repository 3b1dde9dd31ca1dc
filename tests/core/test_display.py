"""What the views show, computed Qt-free: block means, cost images, plans, path tracks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from core import display
from core.alignment import Alignment


def reference_block_mean(v: np.ndarray, n_out: int) -> np.ndarray:
    edges = np.linspace(0, len(v), n_out + 1).astype(np.int64)
    out = np.array([v[a:b].mean(axis=0) for a, b in zip(edges[:-1], edges[1:], strict=True)])
    return out.reshape(n_out, *v.shape[1:])


@pytest.mark.parametrize(("n", "n_out"), [(1, 1), (7, 7), (10, 3), (50_000, 1024),
                                          (40_000, 3), (20_000, 20_000)])
def test_block_mean_matches_the_mean_of_each_block(n, n_out):
    v = np.random.default_rng(n).random((n, 3))
    np.testing.assert_allclose(display.block_mean(v, n_out), reference_block_mean(v, n_out),
                               rtol=1e-9, atol=1e-12)


def test_block_sums_keep_the_total_and_refuse_more_blocks_than_rows():
    v = np.random.default_rng(1).random((37, 5))
    assert display.block_sum(v, 6).sum() == pytest.approx(v.sum())
    np.testing.assert_allclose(display.block_mean(v, 100), v)  # fewer rows: unchanged
    with pytest.raises(ValueError, match="n_out"):
        display.block_sum(v, 38)


def test_cost_view_is_exact_when_small_and_approximate_when_large():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((300, 4)), rng.standard_normal((200, 4))
    image, exact = display.cost_view(x, y, 10, 60, 20, 90, 100)
    assert exact
    np.testing.assert_allclose(image, cdist(x[10:60], y[20:90]), rtol=1e-5)
    image, exact = display.cost_view(x, y, 0, 300, 0, 200, 50)
    assert not exact and image.shape == (50, 50)


def test_cost_overview_has_the_requested_shape():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((90, 3)), rng.standard_normal((70, 3))
    out = display.cost_overview(x, y, (30, 20))
    assert out.shape == (30, 20)
    full = display.cost_overview(x, y, (1000, 1000))
    np.testing.assert_allclose(full, cdist(x, y), rtol=1e-5)


def test_cost_overview_of_huge_inputs_uses_feature_block_means(monkeypatch):
    monkeypatch.setattr(display, "EXACT_OVERVIEW_CELLS", 100)
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((90, 3)), rng.standard_normal((70, 3))
    out = display.cost_overview(x, y, (9, 7))
    expected = cdist(reference_block_mean(x, 9), reference_block_mean(y, 7))
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_features_of_different_dimensions_are_compared_through_summaries():
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((40, 3)), rng.standard_normal((50, 7))
    assert display.cost_overview(x, y, (40, 50)).shape == (40, 50)
    assert display.cost_region(x, y, 0, 10, 5, 20).shape == (10, 15)


def test_path_local_cost_reads_the_cost_along_the_path():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((20, 3)), rng.standard_normal((25, 3))
    path = np.array([[0, 0], [1, 2], [5, 7], [19, 24]])
    for metric in display.METRICS:
        c = display.path_local_cost(x, y, path, metric=metric)
        np.testing.assert_allclose(c, cdist(x, y, metric=metric)[path[:, 0], path[:, 1]])


def test_reduce_plan_keeps_mass_and_marginals():
    plan = np.random.default_rng(4).random((1000, 700))
    plan /= plan.sum()
    image, rows, cols = display.reduce_plan(plan, 64)
    assert image.shape == (64, 64)
    assert image.sum() == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(rows, plan.sum(axis=1))
    np.testing.assert_allclose(cols, plan.sum(axis=0))
    small, _, _ = display.reduce_plan(plan[:10, :20], 64)
    np.testing.assert_allclose(small, plan[:10, :20], rtol=1e-6)


def diagonal(n_a, n_b, rate=10.0, **params):
    k = np.arange(max(n_a, n_b))
    path = np.unique(np.stack([k * n_a // len(k), k * n_b // len(k)], 1), axis=0)
    return Alignment(path, rate, rate, n_a=n_a, n_b=n_b, method="dtw", params=params)


def test_tempo_ratio_of_a_straight_path_is_its_slope():
    al = diagonal(100, 150)
    t, ratio = display.tempo_ratio(al)
    assert np.median(ratio) == pytest.approx(1.5, rel=0.05)
    assert display.find_stalls(t, ratio) == []
    jumps = display.find_jumps(Alignment(np.array([[0, 0], [1, 1], [4, 2], [5, 3]]), 10.0,
                                         10.0))
    np.testing.assert_allclose(jumps, [0.4])


def test_window_outline_follows_the_engine_s_window():
    assert display.window_outline_of(diagonal(50, 50)) is None
    outline, label = display.window_outline_of(diagonal(50, 80,
                                                        window=("slanted_band", 5)))
    assert label == "window (slanted band)"
    assert outline["lo"][0] == 0 and outline["hi"][0] == 6  # columns 0..5 at row 0
    itakura = display.window_outline_of(diagonal(40, 40, window=("itakura",)))
    assert itakura[1] == "window (Itakura)"


def test_display_rate_follows_the_duration():
    assert display.display_rate_hz(10.0) == 50.0
    assert display.display_rate_hz(3600.0) == pytest.approx(16_384 / 3600.0)


def test_drawing_helpers_keep_what_matters():
    image = np.arange(100.0).reshape(10, 10)
    image[0, 0] = np.nan
    lo, hi = display.display_levels(image, 5.0)
    assert 0 < lo < 10 and 90 < hi < 99
    assert display.display_levels(np.full((3, 3), np.nan), 1.0) == (0.0, 1.0)
    times = np.stack([np.arange(50_000.0), np.arange(50_000.0)], 1)
    few = display.decimate_path(times, 1000)
    assert len(few) <= 1001 and (few[-1] == times[-1]).all()
    x = np.arange(10_000.0)
    y = np.zeros(10_000)
    y[1234] = 5.0  # a spike survives peak decimation
    xs, ys = display.peak_decimate(x, y, 100)
    assert len(xs) == 200 and ys.max() == 5.0
