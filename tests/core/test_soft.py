import math

import numpy as np
import pytest

from core import AlignmentError, Cancelled
from core.soft import attention, cycle_consistency, soft_dtw, soft_dtw_grad


def _naive_soft_dtw(D, gamma, mask=None):
    """Textbook recursion on an (N+2, M+2) padded grid; returns value and E."""
    n, m = D.shape
    D = D.copy()
    if mask is not None:
        D[~mask] = np.inf
    R = np.full((n + 2, m + 2), np.inf)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            a = np.array([R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]])
            mn = a.min()
            if np.isinf(mn) or np.isinf(D[i - 1, j - 1]):
                continue
            R[i, j] = D[i - 1, j - 1] + mn - gamma * np.log(np.exp(-(a - mn) / gamma).sum())
    Dp = np.zeros((n + 2, m + 2))
    Dp[1:n + 1, 1:m + 1] = np.where(np.isinf(D), 0.0, D)
    E = np.zeros((n + 2, m + 2))
    E[n + 1, m + 1] = 1.0
    value = R[n, m]
    R[:, m + 1] = -np.inf
    R[n + 1, :] = -np.inf
    R[n + 1, m + 1] = value
    with np.errstate(invalid="ignore", over="ignore"):
        for i in range(n, 0, -1):
            for j in range(m, 0, -1):
                if np.isinf(R[i, j]):
                    continue
                terms = [(E[i + 1, j], R[i + 1, j] - Dp[i + 1, j]),
                         (E[i, j + 1], R[i, j + 1] - Dp[i, j + 1]),
                         (E[i + 1, j + 1], R[i + 1, j + 1] - Dp[i + 1, j + 1])]
                E[i, j] = sum(e * np.exp((r - R[i, j]) / gamma) for e, r in terms if e > 0)
    return value, E[1:n + 1, 1:m + 1]


def _sq(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def _pair(n, m, d=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((m, d))


@pytest.mark.parametrize("n,m", [(1, 1), (1, 6), (6, 1), (7, 9), (13, 4), (30, 31)])
@pytest.mark.parametrize("gamma", [1.0, 0.1, 0.01])
def test_soft_dtw_matches_naive(n, m, gamma):
    x, y = _pair(n, m, seed=n * 100 + m)
    value, E = _naive_soft_dtw(_sq(x, y), gamma)
    r = soft_dtw(x, y, gamma=gamma)
    assert r.distance == pytest.approx(value, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(r.plan, E, atol=1e-11)


@pytest.mark.parametrize("n,m", [(1, 1), (1, 6), (6, 1), (17, 23)])
def test_soft_dtw_many_dimensions_matches_naive(n, m):
    # D >= 4 takes the path with costs precomputed by matrix products
    x, y = _pair(n, m, d=7, seed=n + m)
    for window in (None, ("slanted_band", 3)) if n > 1 and m > 1 else (None,):
        mask = None
        if window is not None:
            i, j = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
            centre = i * ((m - 1) / (n - 1)) if n > 1 else np.zeros((n, m))
            mask = np.abs(j - centre) <= 3 + 1e-9
        value, E = _naive_soft_dtw(_sq(x, y), 0.4, mask)
        r = soft_dtw(x, y, gamma=0.4, window=window)
        assert r.distance == pytest.approx(value, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(r.plan, E, atol=1e-11)


def test_soft_dtw_window_matches_naive_masked():
    x, y = _pair(20, 26, seed=1)
    i, j = np.meshgrid(np.arange(20), np.arange(26), indexing="ij")
    mask = np.abs(i - j) <= 6
    value, E = _naive_soft_dtw(_sq(x, y), 0.3, mask)
    r = soft_dtw(x, y, gamma=0.3, window=("sakoe_chiba", 6))
    assert r.distance == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(r.plan, E, atol=1e-11)
    assert np.all(r.plan[~mask] == 0)
    r2 = soft_dtw(x, y, gamma=0.3, window=mask)
    assert r2.distance == pytest.approx(value, rel=1e-12)


def test_window_without_path_raises():
    x, y = _pair(10, 30)
    with pytest.raises(AlignmentError, match="window"):
        soft_dtw(x, y, window=("sakoe_chiba", 3))


def test_soft_dtw_tends_to_dtw():
    x, y = _pair(25, 19, seed=2)
    D = _sq(x, y)
    acc = np.full((26, 20), np.inf)
    acc[0, 0] = 0
    for i in range(1, 26):
        for j in range(1, 20):
            acc[i, j] = D[i - 1, j - 1] + min(acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])
    values = [soft_dtw(x, y, gamma=g).distance for g in (1.0, 0.1, 1e-3, 1e-5)]
    errors = [abs(v - acc[-1, -1]) for v in values]
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 1e-3
    # as gamma -> 0 the expected alignment becomes the DTW path (0/1 entries)
    E = soft_dtw(x, y, gamma=1e-4).plan
    assert np.all((E < 1e-6) | (E > 1 - 1e-6))


def test_gradient_matches_finite_differences_and_closed_form():
    x, y = _pair(9, 12, d=3, seed=3)
    value, grad = soft_dtw_grad(x, y, gamma=0.5)
    eps = 1e-6
    num = np.zeros_like(x)
    for i in range(x.shape[0]):
        for k in range(x.shape[1]):
            xp = x.copy()
            xp[i, k] += eps
            xm = x.copy()
            xm[i, k] -= eps
            num[i, k] = (soft_dtw(xp, y, gamma=0.5, return_plan=False).distance
                         - soft_dtw(xm, y, gamma=0.5, return_plan=False).distance) / (2 * eps)
    np.testing.assert_allclose(grad, num, atol=1e-6)
    assert value == pytest.approx(soft_dtw(x, y, gamma=0.5).distance)


def test_against_tslearn():
    metrics = pytest.importorskip("tslearn.metrics")
    x, y = _pair(60, 45, d=3, seed=4)
    A, value = metrics.soft_dtw_alignment(x, y, gamma=0.7)
    r = soft_dtw(x, y, gamma=0.7)
    assert r.distance == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(r.plan, A, atol=1e-12)
    from tslearn.metrics.soft_dtw_fast import _jacobian_product_sq_euc
    G = np.zeros_like(x)
    _jacobian_product_sq_euc(x, y, A, G)
    np.testing.assert_allclose(soft_dtw_grad(x, y, gamma=0.7)[1], G, atol=1e-10)


def test_soft_dtw_float32_and_precomputed_cost():
    x, y = _pair(15, 11, seed=5)
    r = soft_dtw(x, y, gamma=0.2)
    r32 = soft_dtw(x.astype(np.float32), y.astype(np.float32), gamma=0.2)
    rc = soft_dtw(cost=_sq(x, y), gamma=0.2)
    assert r32.distance == pytest.approx(r.distance, rel=1e-5)
    assert rc.distance == pytest.approx(r.distance, rel=1e-12)
    np.testing.assert_allclose(rc.plan, r.plan, atol=1e-12)


def test_soft_dtw_path_and_progress():
    x, y = _pair(20, 25, seed=6)
    seen = []
    r = soft_dtw(x, y, gamma=0.1, progress=seen.append)
    assert tuple(r.path[0]) == (0, 0) and tuple(r.path[-1]) == (19, 24)
    assert seen[-1] == 1.0
    with pytest.raises(Cancelled):
        soft_dtw(x, y, cancel=lambda: True)


@pytest.mark.parametrize("kwargs,match", [
    ({"gamma": 0.0}, "gamma"), ({"gamma": -1.0}, "gamma"), ({"gamma": math.inf}, "gamma"),
    ({"window": ("diamond", 3)}, "window"), ({"window": ("sakoe_chiba", -1)}, "window"),
])
def test_soft_dtw_bad_arguments(kwargs, match):
    x, y = _pair(5, 5)
    with pytest.raises(ValueError, match=match):
        soft_dtw(x, y, **kwargs)
    x[1, 1] = np.nan
    with pytest.raises(ValueError, match="x: contains NaN"):
        soft_dtw(x, y)


# ------------------------------------------------------------------------------ attention
def test_attention_rows_and_columns_sum_to_one():
    x, y = _pair(17, 23, d=4, seed=7)
    for similarity in ("neg_sqeuclidean", "dot", "cosine"):
        r = attention(x, y, temperature=0.5, similarity=similarity)
        np.testing.assert_allclose(r.plan.sum(1), 1.0, atol=1e-12)
        np.testing.assert_allclose(r.diagnostics["col_softmax"].sum(0), 1.0, atol=1e-12)
        assert np.all(r.plan >= 0)


def test_attention_matches_naive_softmax():
    x, y = _pair(9, 7, d=3, seed=8)
    s = -_sq(x, y) / 0.3
    row = np.exp(s - s.max(1, keepdims=True))
    row /= row.sum(1, keepdims=True)
    col = np.exp(s - s.max(0, keepdims=True))
    col /= col.sum(0, keepdims=True)
    r = attention(x, y, temperature=0.3)
    np.testing.assert_allclose(r.plan, row, atol=1e-12)
    np.testing.assert_allclose(r.diagnostics["col_softmax"], col, atol=1e-12)
    assert r.diagnostics["temperature"] == 0.3


def test_attention_finds_identical_sequence():
    x, _ = _pair(40, 1, seed=9)
    r = attention(x, x)
    np.testing.assert_array_equal(np.argmax(r.plan, axis=1), np.arange(40))
    np.testing.assert_array_equal(r.path, np.stack([np.arange(40)] * 2, axis=1))


def test_attention_bad_arguments():
    x, y = _pair(5, 5)
    with pytest.raises(ValueError, match="temperature"):
        attention(x, y, temperature=0)
    with pytest.raises(ValueError, match="similarity"):
        attention(x, y, similarity="l1")


# ------------------------------------------------------------------------------ TCC
def test_cycle_consistency_flags_ambiguous_frames():
    # A: a ramp; B: the same ramp but the middle is constant (many frames look alike)
    t = np.linspace(0, 1, 60)
    x = np.stack([t, np.sin(6 * t)], axis=1)
    r = cycle_consistency(x, x.copy(), temperature=1e-3)
    assert r.diagnostics["cycle_back_error_frames"].max() < 1.0
    xa = x.copy()
    xa[20:40] = xa[20]  # frames 20..39 of A are indistinguishable
    r2 = cycle_consistency(xa, x, temperature=1e-3)
    err = r2.diagnostics["cycle_back_error_frames"]
    assert err[22:38].mean() > 3 * max(err[:15].mean(), 0.1)
    conf = r2.diagnostics["confidence_a"]
    assert conf[:15].mean() > conf[22:38].mean()
    assert r2.confidence.shape == (len(r2.path),)
    np.testing.assert_allclose(r2.plan.sum(1), 1.0, atol=1e-12)


def test_cycle_consistency_matches_naive():
    x, y = _pair(11, 8, d=2, seed=10)
    T = 0.7
    s = -_sq(x, y) / T
    alpha = np.exp(s - s.max(1, keepdims=True))
    alpha /= alpha.sum(1, keepdims=True)
    ys = alpha @ y
    s2 = -_sq(ys, x) / T
    beta = np.exp(s2 - s2.max(1, keepdims=True))
    beta /= beta.sum(1, keepdims=True)
    mu = beta @ np.arange(11)
    r = cycle_consistency(x, y, temperature=T)
    np.testing.assert_allclose(r.diagnostics["cycle_back_index"], mu, atol=1e-10)
    np.testing.assert_allclose(r.diagnostics["cycle_back_error_frames"],
                               np.abs(mu - np.arange(11)), atol=1e-10)


def test_attention_and_cycle_consistency_progress_and_cancel():
    x, y = _pair(30, 20, seed=11)
    for fn in (attention, cycle_consistency):
        seen = []
        fn(x, y, progress=seen.append)
        assert seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)
        with pytest.raises(Cancelled):
            fn(x, y, cancel=lambda: True)


def test_warm_up_runs_without_warnings():
    from core.soft import warm_up as soft_warm_up
    from core.transport import warm_up as ot_warm_up
    ot_warm_up()
    soft_warm_up()
