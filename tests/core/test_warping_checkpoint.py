"""Exact DTW in linear memory: the checkpoint method, with and without the codes it
keeps around a guide path."""

import numpy as np
import pytest

import core.warping._engine as engine
import core.warping._long as long_
from core.warping import dtw


@pytest.fixture
def checkpoints_only(shrunk_tiles, monkeypatch):
    """Small tiles, no pruning, multiscale levels (and the guide) on small inputs."""
    monkeypatch.setattr(long_, "COARSEST_CELLS", 1 << 11)
    monkeypatch.setattr(long_, "CORRIDOR_PAD", 24)  # one small tile
    monkeypatch.setattr(engine, "_solve_pruned", lambda *a, **k: (None, 0))


def _smooth(n, m, d=3, seed=0, noise=0.05):
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n)
    s = np.linspace(0.0, 1.0, m) ** 1.2
    f = rng.uniform(1, 5, size=d)
    return (np.sin(np.outer(t, f) * 6), np.sin(np.outer(s, f) * 6)
            + noise * rng.normal(size=(m, d)))


def _walks(n, m, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(size=(n, d)), 0), np.cumsum(rng.normal(size=(m, d)), 0)


@pytest.mark.parametrize("window", [None, ("sakoe_chiba", 60)], ids=str)
@pytest.mark.parametrize("ends", [(False, False), (True, True), (False, True)])
def test_guide_codes_give_the_exact_path_without_resweeps(checkpoints_only, window, ends):
    x, y = _smooth(300, 280)
    kw = {"window": window, "open_begin": ends[0], "open_end": ends[1],
          "step_pattern": "asymmetricP0" if ends[0] else "symmetric2"}
    full = dtw(x, y, **kw)
    low = dtw(x, y, exact=True, memory_budget_bytes=20_000, **kw)
    assert low.diagnostics["method"] == "checkpoint"
    assert low.distance == pytest.approx(full.distance, rel=1e-12)
    np.testing.assert_array_equal(low.path, full.path)
    if not ends[1]:  # a clear alignment: the path never leaves the kept codes
        assert low.diagnostics["resweeps"] == 0


@pytest.mark.parametrize("seed", range(5))
def test_leaving_the_guide_falls_back_to_groups(checkpoints_only, monkeypatch, seed):
    # no padding around the guide and random walks: the optimal path leaves the kept
    # tiles somewhere and the groups below that cell are swept again
    monkeypatch.setattr(long_, "CORRIDOR_PAD", 0)
    x, y = _walks(260, 240, seed=seed)
    full = dtw(x, y)
    low = dtw(x, y, exact=True, memory_budget_bytes=20_000)
    assert low.diagnostics["method"] == "checkpoint"
    assert low.distance == pytest.approx(full.distance, rel=1e-12)
    np.testing.assert_array_equal(low.path, full.path)


@pytest.mark.parametrize("window", [None, ("sakoe_chiba", 60)], ids=str)
def test_path_leaving_the_kept_tiles_midway(checkpoints_only, monkeypatch, window):
    # keep codes only in the lower half of the strips: the backtrack follows them up to
    # the middle, then the groups above are swept again
    original = long_._corridor_offsets

    def lower_half(plan, *args):
        offsets = original(plan, *args)
        if offsets is not None:
            offsets[:plan.strip_first[plan.n_strips // 2]] = -1
        return offsets

    monkeypatch.setattr(long_, "_corridor_offsets", lower_half)
    x, y = _smooth(300, 280, seed=3)
    full = dtw(x, y, window=window)
    low = dtw(x, y, window=window, exact=True, memory_budget_bytes=20_000)
    assert 0 < low.diagnostics["resweeps"]
    assert low.distance == pytest.approx(full.distance, rel=1e-12)
    np.testing.assert_array_equal(low.path, full.path)


def test_codes_over_half_the_budget_are_not_kept(checkpoints_only):
    x, y = _smooth(300, 280)
    low = dtw(x, y, exact=True, memory_budget_bytes=200)
    assert low.diagnostics["method"] == "checkpoint"
    assert low.diagnostics["resweeps"] > 0
    np.testing.assert_array_equal(low.path, dtw(x, y).path)


def test_precomputed_cost_uses_groups(checkpoints_only):
    x, y = _smooth(200, 190)
    cost = np.abs(x[:, None, 0] - y[None, :, 0])
    low = dtw(cost=cost, exact=True, memory_budget_bytes=20_000)
    assert low.diagnostics["method"] == "checkpoint"
    assert low.diagnostics["resweeps"] > 0
    np.testing.assert_array_equal(low.path, dtw(cost=cost).path)


def test_guide_failure_falls_back_to_groups(checkpoints_only, monkeypatch):
    from core.errors import AlignmentError

    def no_guide(*args, **kwargs):
        raise AlignmentError("window: no warping path at a coarse level")

    monkeypatch.setattr(long_, "multiscale_window", no_guide)
    x, y = _smooth(300, 280)
    low = dtw(x, y, exact=True, memory_budget_bytes=20_000)
    assert low.diagnostics["method"] == "checkpoint"
    assert low.diagnostics["resweeps"] > 0
    np.testing.assert_array_equal(low.path, dtw(x, y).path)
