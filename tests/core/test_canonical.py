import numpy as np
import pytest

from core import Cancelled
from core.canonical import ctw
from core.synthetic import mean_path_error, warped_views


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_a_known_warp_across_different_feature_spaces(seed):
    from core import dtw
    x, y, j_true = warped_views(seed=seed, latent=3 + seed % 2)
    with pytest.raises(ValueError, match="dimensions differ"):
        dtw(x, y)  # plain DTW cannot even compare the frames
    r = ctw(x, y)
    assert mean_path_error(r.path, j_true) <= 2.0
    assert r.method == "ctw"
    d = r.diagnostics
    k = d["n_components"]
    assert d["projection_a"].shape == (20, k) and d["projection_b"].shape == (30, k)
    assert tuple(r.path[0]) == (0, 0) and tuple(r.path[-1]) == (599, 719)


def test_beats_plain_dtw_when_maps_differ_in_the_same_dimension():
    from core import dtw
    x, y, j_true = warped_views(dx=12, dy=12, seed=4)
    plain = mean_path_error(np.asarray(dtw(x, y, metric="sqeuclidean").path), j_true)
    canonical = mean_path_error(ctw(x, y).path, j_true)
    assert canonical <= 2.0 and plain > 5 * canonical


@pytest.mark.parametrize("multiscale", [True, False])
def test_objective_history_never_increases(multiscale):
    x, y, _ = warped_views(n=300, m=360, seed=5)
    r = ctw(x, y, multiscale=multiscale)
    history = np.array(r.diagnostics["objective_history"])
    assert len(history) >= 2
    assert np.all(np.diff(history) <= 0)
    assert r.distance == pytest.approx(history[-1])
    assert r.distance <= min(r.diagnostics["objective_trace"])


def test_max_iter_one_differs_from_a_converged_run():
    # without the coarse levels, the full-rate loop starts from the uniform warp and
    # needs several iterations: one CCA + DTW pass is far from the converged path
    x, y, j_true = warped_views(seed=6)
    one = ctw(x, y, max_iter=1, multiscale=False)
    full = ctw(x, y, multiscale=False, max_iter=50)
    assert full.diagnostics["n_iter"] > 1
    assert not np.array_equal(one.path, full.path)
    assert full.distance < one.distance
    assert mean_path_error(full.path, j_true) < 0.5 * mean_path_error(one.path, j_true)


def test_identical_sequences_give_the_diagonal():
    x, _, _ = warped_views(n=200, m=200, seed=7)
    r = ctw(x, x.copy(), n_components=3)
    np.testing.assert_array_equal(r.path, np.stack([np.arange(200)] * 2, axis=1))


def test_fixed_components_and_float32():
    x, y, j_true = warped_views(seed=8)
    r = ctw(x.astype(np.float32), y.astype(np.float32), n_components=3)
    assert r.diagnostics["n_components"] == 3
    assert mean_path_error(r.path, j_true) <= 2.0


def test_progress_and_cancel():
    x, y, _ = warped_views(n=200, m=240, seed=9)
    seen = []
    ctw(x, y, progress=seen.append)
    assert seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)
    assert all(b >= a - 1e-12 for a, b in zip(seen, seen[1:], strict=False))
    with pytest.raises(Cancelled):
        ctw(x, y, cancel=lambda: True)


@pytest.mark.parametrize("kwargs,match", [
    ({"reg": 0.0}, "reg"), ({"reg": -1}, "reg"), ({"reg": "magic"}, "reg"),
    ({"max_iter": 0}, "max_iter"), ({"pca_energy": 1.5}, "pca_energy"),
    ({"dims_per_pair": 0}, "dims_per_pair"), ({"coarse_reg": -1.0}, "coarse_reg"),
    ({"n_components": 0}, "n_components"), ({"n_components": 21}, "n_components"),
    ({"tol": 0}, "tol"), ({"min_frames": 1}, "min_frames"),
])
def test_bad_arguments(kwargs, match):
    x, y, _ = warped_views(n=50, m=60)
    with pytest.raises(ValueError, match=match):
        ctw(x, y, **kwargs)


def test_bad_features():
    x, y, _ = warped_views(n=50, m=60)
    x[3, 3] = np.inf
    with pytest.raises(ValueError, match="x: contains NaN or infinite"):
        ctw(x, y)
    with pytest.raises(ValueError, match="y: expected a non-empty"):
        ctw(y, np.zeros((0, 4)))


def test_restarts_keep_the_run_with_the_lowest_held_out_misfit():
    x, y, j_true = warped_views(n=300, m=360, seed=5)
    r = ctw(x, y)
    runs = r.diagnostics["runs"]
    assert [(run["init"], run["coarse_reg"]) for run in runs] == [
        ("uniform", "auto"), ("uniform", 0.3), ("uniform", 1.0),
        ("energy", "auto"), ("energy", 0.3), ("energy", 1.0)]
    kept = min(runs, key=lambda run: run["held_out"])
    assert r.distance == kept["objective"]
    assert len(ctw(x, y, coarse_reg=1.0, init="uniform").diagnostics["runs"]) == 1
    assert len(ctw(x, y, multiscale=False, init="uniform").diagnostics["runs"]) == 1
    assert len(ctw(x, y, multiscale=False).diagnostics["runs"]) == 2


def test_novelty_and_energy_starts_recover_the_warp():
    x, y, j_true = warped_views(seed=1, latent=4)
    for init in ("novelty", "energy"):
        r = ctw(x, y, init=init, coarse_reg=None)
        assert mean_path_error(r.path, j_true) <= 2.0
        assert r.diagnostics["runs"][0]["init"] == init
        h = r.diagnostics["objective_history"]
        assert all(b <= a for a, b in zip(h, h[1:], strict=False))


def test_bad_init_is_rejected():
    x, y, _ = warped_views(n=100, m=120)
    with pytest.raises(ValueError, match="init:"):
        ctw(x, y, init="random")
    with pytest.raises(ValueError, match="init:"):
        ctw(x, y, init=())
    with pytest.raises(ValueError, match="init_sigma"):
        ctw(x, y, init_sigma=-1.0)
