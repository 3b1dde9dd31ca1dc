"""Local costs: pairwise, region and overview against scipy and plain numpy."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from core.cost import METRICS, overview, pairwise, region


def _xy(seed=0, n=37, m=53, d=5):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d))


@pytest.mark.parametrize("metric", METRICS)
def test_pairwise_matches_scipy(metric):
    x, y = _xy()
    np.testing.assert_allclose(pairwise(x, y, metric), cdist(x, y, metric), atol=1e-12)


def test_cosine_of_zero_frame_is_one():
    x = np.array([[0.0, 0.0], [1.0, 0.0]])
    y = np.array([[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(pairwise(x, y, "cosine"), [[1, 1], [0, 1]], atol=1e-12)


def test_one_dimensional_inputs():
    assert pairwise([1.0, 2.0], [4.0], "euclidean").tolist() == [[3.0], [2.0]]


@pytest.mark.parametrize("metric", METRICS)
def test_region_is_a_window_of_pairwise(metric):
    x, y = _xy(1)
    np.testing.assert_allclose(region(x, y, 3, 20, 10, 11, metric),
                               pairwise(x, y, metric)[3:20, 10:11], atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 7), (37, 53), (1, 1), (100, 100), (6, 53)])
def test_overview_block_min_and_mean(shape):
    x, y = _xy(2)
    full = pairwise(x, y)
    lo, mean = overview(x, y, shape)
    rows, cols = min(shape[0], 37), min(shape[1], 53)
    assert lo.shape == mean.shape == (rows, cols)
    re = np.linspace(0, 37, rows + 1).round().astype(int)
    ce = np.linspace(0, 53, cols + 1).round().astype(int)
    for r in range(rows):
        for c in range(cols):
            block = full[re[r]:re[r + 1], ce[c]:ce[c + 1]]
            assert lo[r, c] == pytest.approx(block.min())
            assert mean[r, c] == pytest.approx(block.mean())


@pytest.mark.parametrize("call, match", [
    (lambda: pairwise([[np.nan]], [[1.0]]), "x: contains NaN"),
    (lambda: pairwise(np.ones((2, 2)), np.ones((2, 3))), "feature dimensions differ"),
    (lambda: pairwise([1.0], [1.0], "minkowski"), "metric"),
    (lambda: region(np.ones(5), np.ones(5), 3, 2, 0, 1), "i0, i1"),
    (lambda: region(np.ones(5), np.ones(5), 0, 2, 0, 9), "j0, j1"),
    (lambda: overview(np.ones(5), np.ones(5), (0, 3)), "shape"),
    (lambda: overview(np.ones(5), np.ones(5), "big"), "shape"),
    (lambda: pairwise(np.array(["a"]), np.ones(1)), "x: expected a numeric"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
