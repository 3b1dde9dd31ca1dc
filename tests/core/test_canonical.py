import numpy as np
import pytest

from core import Cancelled
from core.canonical import ctw


def _warped_pair(n=600, m=720, dx=20, dy=30, latent=3, noise=0.1, seed=0):
    """Two views of one smooth latent path through unknown linear maps, with noise and
    known warps; returns x, y and the true (fractional) frame of B for each frame of A."""
    rng = np.random.default_rng(seed)
    freq = rng.uniform(1, 4, (latent, 2))
    phase = rng.uniform(0, 2 * np.pi, (latent, 2))

    def z(t):
        return np.stack([np.sin(2 * np.pi * f[0] * t + p[0])
                         + 0.5 * np.sin(2 * np.pi * f[1] * t + p[1])
                         for f, p in zip(freq, phase, strict=True)], axis=1)

    sa = np.linspace(0, 1, n)
    sb = np.linspace(0, 1, m)
    ta = sa + 0.08 * np.sin(2 * np.pi * sa)
    tb = 0.5 * sb ** 1.3 + 0.5 * sb - 0.05 * np.sin(4 * np.pi * sb)
    x = z(ta) @ rng.standard_normal((latent, dx)) + noise * rng.standard_normal((n, dx)) + 3
    y = z(tb) @ rng.standard_normal((latent, dy)) + noise * rng.standard_normal((m, dy)) - 1
    return x, y, np.interp(ta, tb, np.arange(m))


def _path_error(path, j_true):
    n = len(j_true)
    total = np.zeros(n)
    count = np.zeros(n)
    np.add.at(total, path[:, 0], path[:, 1])
    np.add.at(count, path[:, 0], 1)
    return float(np.mean(np.abs(total / count - j_true)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_a_known_warp_across_different_feature_spaces(seed):
    from core import dtw
    x, y, j_true = _warped_pair(seed=seed, latent=3 + seed % 2)
    with pytest.raises(ValueError, match="dimensions differ"):
        dtw(x, y)  # plain DTW cannot even compare the frames
    r = ctw(x, y)
    assert _path_error(r.path, j_true) <= 2.0
    assert r.method == "ctw"
    d = r.diagnostics
    k = d["n_components"]
    assert d["projection_a"].shape == (20, k) and d["projection_b"].shape == (30, k)
    assert tuple(r.path[0]) == (0, 0) and tuple(r.path[-1]) == (599, 719)


def test_beats_plain_dtw_when_maps_differ_in_the_same_dimension():
    from core import dtw
    x, y, j_true = _warped_pair(dx=12, dy=12, seed=4)
    plain = _path_error(np.asarray(dtw(x, y, metric="sqeuclidean").path), j_true)
    canonical = _path_error(ctw(x, y).path, j_true)
    assert canonical <= 2.0 and plain > 5 * canonical


@pytest.mark.parametrize("multiscale", [True, False])
def test_objective_history_never_increases(multiscale):
    x, y, _ = _warped_pair(n=300, m=360, seed=5)
    r = ctw(x, y, multiscale=multiscale)
    history = np.array(r.diagnostics["objective_history"])
    assert len(history) >= 2
    assert np.all(np.diff(history) <= 0)
    assert r.distance == pytest.approx(history[-1])
    assert r.distance <= min(r.diagnostics["objective_trace"])


def test_max_iter_one_differs_from_a_converged_run():
    # without the coarse levels, the full-rate loop starts from the uniform warp and
    # needs several iterations: one CCA + DTW pass is far from the converged path
    x, y, j_true = _warped_pair(seed=6)
    one = ctw(x, y, max_iter=1, multiscale=False)
    full = ctw(x, y, multiscale=False, max_iter=50)
    assert full.diagnostics["n_iter"] > 1
    assert not np.array_equal(one.path, full.path)
    assert full.distance < one.distance
    assert _path_error(full.path, j_true) < 0.5 * _path_error(one.path, j_true)


def test_identical_sequences_give_the_diagonal():
    x, _, _ = _warped_pair(n=200, m=200, seed=7)
    r = ctw(x, x.copy(), n_components=3)
    np.testing.assert_array_equal(r.path, np.stack([np.arange(200)] * 2, axis=1))


def test_fixed_components_and_float32():
    x, y, j_true = _warped_pair(seed=8)
    r = ctw(x.astype(np.float32), y.astype(np.float32), n_components=3)
    assert r.diagnostics["n_components"] == 3
    assert _path_error(r.path, j_true) <= 2.0


def test_progress_and_cancel():
    x, y, _ = _warped_pair(n=200, m=240, seed=9)
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
    x, y, _ = _warped_pair(n=50, m=60)
    with pytest.raises(ValueError, match=match):
        ctw(x, y, **kwargs)


def test_bad_features():
    x, y, _ = _warped_pair(n=50, m=60)
    x[3, 3] = np.inf
    with pytest.raises(ValueError, match="x: contains NaN or infinite"):
        ctw(x, y)
    with pytest.raises(ValueError, match="y: expected a non-empty"):
        ctw(y, np.zeros((0, 4)))


def test_restarts_keep_the_run_with_the_lowest_held_out_misfit():
    x, y, j_true = _warped_pair(n=300, m=360, seed=5)
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
    x, y, j_true = _warped_pair(seed=1, latent=4)
    for init in ("novelty", "energy"):
        r = ctw(x, y, init=init, coarse_reg=None)
        assert _path_error(r.path, j_true) <= 2.0
        assert r.diagnostics["runs"][0]["init"] == init
        h = r.diagnostics["objective_history"]
        assert all(b <= a for a, b in zip(h, h[1:], strict=False))


def test_bad_init_is_rejected():
    x, y, _ = _warped_pair(n=100, m=120)
    with pytest.raises(ValueError, match="init:"):
        ctw(x, y, init="random")
    with pytest.raises(ValueError, match="init:"):
        ctw(x, y, init=())
    with pytest.raises(ValueError, match="init_sigma"):
        ctw(x, y, init_sigma=-1.0)
