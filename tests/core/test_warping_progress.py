"""Progress of long DTW solves: multiscale levels report in proportion to their work."""

import numpy as np
import pytest

from core.errors import Cancelled
from core.warping import _long, _tiles, dtw
from core.warping._source import pool_frames


def _inputs(n, d=3, seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n)
    x = np.sin(np.outer(t, np.arange(1, d + 1)) * 30.0)
    y = np.sin(np.outer(t ** 1.1, np.arange(1, d + 1)) * 30.0) + 0.05 * rng.random((n, d))
    return x, y


def test_multiscale_reports_often_and_monotonically(monkeypatch):
    # a one-hour recording in miniature: several levels, batches of a few thousand cells
    monkeypatch.setattr(_long, "COARSEST_CELLS", 1 << 14)
    monkeypatch.setattr(_tiles, "_MIN_BATCH_CELLS", 1 << 12)
    x, y = _inputs(3000)
    seen = []
    a = dtw(x, y, exact=False, progress=seen.append)
    assert a.diagnostics["method"] == "multiscale"
    levels = a.diagnostics["levels"]
    assert levels >= 3
    assert np.all(np.diff(seen) >= 0)
    assert seen[-1] == pytest.approx(1.0)
    # at least one report per coarse level plus the pooling, and the fine corridor's
    inside = [f for f in seen if 0.0 < f < 1.0]
    assert len(set(inside)) >= levels + 1
    # no jump over more than half of the range
    assert np.max(np.diff([0.0] + seen)) < 0.25


def test_cancel_inside_the_coarse_levels(monkeypatch):
    monkeypatch.setattr(_long, "COARSEST_CELLS", 1 << 14)
    x, y = _inputs(3000)
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        dtw(x, y, exact=False, cancel=cancel)


@pytest.mark.parametrize("n, factor", [(1, 4), (4, 4), (7, 4), (103, 5), (10, 20)])
@pytest.mark.parametrize("how", ["mean", "max"])
def test_pool_frames_matches_block_means(n, factor, how):
    a = np.random.default_rng(n).random((n, 3))
    reduce = np.mean if how == "mean" else np.max
    expected = np.array([reduce(a[k:k + factor], axis=0) for k in range(0, n, factor)])
    np.testing.assert_allclose(pool_frames(a, factor, how), expected, rtol=1e-12)


def test_coarse_share_is_a_fraction():
    lo = np.zeros(180_000, dtype=np.int64)
    hi = np.full(180_000, 180_000, dtype=np.int64)
    share = _long.coarse_share(180_000, 180_000, lo, hi)
    assert 0.05 <= share <= 0.95
