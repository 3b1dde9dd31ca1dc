import itertools
import math

import numpy as np
import pytest

from core import Cancelled
from core.transport import ConvergenceWarning, ot, plan_to_path


def _sqdist(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def _problem(n, m, d=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    y = rng.standard_normal((m, d)) + 0.3
    a = rng.random(n) + 0.1
    b = rng.random(m) + 0.1
    return x, y, a / a.sum(), b / b.sum()


def _naive_sinkhorn(a, b, C, reg, n_iter):
    K = np.exp(-C / reg)
    u = np.ones_like(a)
    v = np.ones_like(b)
    for _ in range(n_iter):
        v = b / (K.T @ u)
        u = a / (K @ v)
    return u[:, None] * K * v[None, :]


def _naive_unbalanced(a, b, C, reg, reg_m, n_iter):
    K = np.exp(-C / reg) * a[:, None] * b[None, :]
    fi = reg_m / (reg_m + reg)
    u = np.ones_like(a)
    v = np.ones_like(b)
    for _ in range(n_iter):
        u = (a / (K @ v)) ** fi
        v = (b / (K.T @ u)) ** fi
    return u[:, None] * K * v[None, :]


def _brute_force_emd(a, b, C):
    """Minimum over every vertex of the transportation polytope (bases of n+m-1 cells)."""
    n, m = C.shape
    A = np.zeros((n + m, n * m))
    for i in range(n):
        A[i, i * m:(i + 1) * m] = 1
    for j in range(m):
        A[n + j, j::m] = 1
    rhs = np.concatenate([a, b])
    best = math.inf
    for cells in itertools.combinations(range(n * m), n + m - 1):
        sub = A[:, cells]
        if np.linalg.matrix_rank(sub) < n + m - 1:
            continue
        sol, *_ = np.linalg.lstsq(sub, rhs, rcond=None)
        if np.any(sol < -1e-12) or np.abs(sub @ sol - rhs).max() > 1e-10:
            continue
        best = min(best, float(sol @ C.ravel()[list(cells)]))
    return best


# ------------------------------------------------------------------------------ Sinkhorn
@pytest.mark.parametrize("n,m", [(1, 1), (1, 7), (6, 1), (20, 30), (64, 9)])
def test_sinkhorn_marginals_equal_weights(n, m):
    x, y, a, b = _problem(n, m)
    r = ot(x, y, a=a, b=b, reg=0.5, tol=1e-11, max_iter=100000)
    np.testing.assert_allclose(r.plan.sum(1), a, atol=1e-10)
    np.testing.assert_allclose(r.plan.sum(0), b, atol=1e-10)
    assert r.distance == pytest.approx(float((r.plan * _sqdist(x, y)).sum()), rel=1e-12)
    assert r.diagnostics["converged"]


@pytest.mark.parametrize("reg", [2.0, 0.3, 0.05])
def test_sinkhorn_matches_naive_reference(reg):
    x, y, a, b = _problem(25, 18, seed=3)
    C = _sqdist(x, y)
    r = ot(x, y, a=a, b=b, reg=reg, tol=1e-12, max_iter=200000)
    ref = _naive_sinkhorn(a, b, C, reg, 20000)
    np.testing.assert_allclose(r.plan, ref, atol=1e-10)


def test_sinkhorn_small_reg_stays_finite():
    # exp(-C / reg) underflows to 0 everywhere in the plain domain; the log domain copes
    x, y, a, b = _problem(30, 40, seed=4)
    with pytest.warns(ConvergenceWarning):
        r = ot(x, y, a=a, b=b, reg=1e-3, tol=1e-9, max_iter=200)
    assert np.all(np.isfinite(r.plan))
    # the last half-step fits the rows exactly
    np.testing.assert_allclose(r.plan.sum(1), a, atol=1e-9)
    assert r.diagnostics["marginal_error"] < 0.5


def test_float32_and_precomputed_cost_agree():
    x, y, a, b = _problem(15, 12, seed=5)
    r64 = ot(x, y, a=a, b=b, reg=0.4, tol=1e-12)
    r32 = ot(x.astype(np.float32), y.astype(np.float32), a=a, b=b, reg=0.4, tol=1e-12)
    rc = ot(cost=_sqdist(x, y), a=a, b=b, reg=0.4, tol=1e-12)
    np.testing.assert_allclose(rc.plan, r64.plan, atol=1e-12)
    np.testing.assert_allclose(r32.plan, r64.plan, atol=1e-6)


def test_zero_weight_frames_get_no_mass():
    x, y, a, b = _problem(10, 8, seed=6)
    a[3] = 0.0
    a /= a.sum()
    b[0] = 0.0
    b /= b.sum()
    for method in ("sinkhorn", "emd"):
        r = ot(x, y, a=a, b=b, method=method, reg=0.5, tol=1e-11)
        assert np.all(r.plan[3] == 0) and np.all(r.plan[:, 0] == 0)
        np.testing.assert_allclose(r.plan.sum(1), a, atol=1e-9)


def test_non_convergence_warns_and_never_returns_nan():
    x, y, a, b = _problem(40, 30, seed=7)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        r = ot(x, y, a=a, b=b, reg=1e-3, tol=1e-12, max_iter=3, epsilon_scaling=False)
    assert not r.diagnostics["converged"]
    assert "did not converge" in r.diagnostics["warning"]
    assert np.all(np.isfinite(r.plan)) and math.isfinite(r.distance)


def test_temporal_prior_pulls_mass_to_the_diagonal():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((40, 2))
    y = rng.standard_normal((40, 2))
    ii, jj = np.meshgrid(np.arange(40) / 39, np.arange(40) / 39, indexing="ij")
    spread = [float((ot(x, y, reg=0.5, temporal_prior=w).plan * (ii - jj) ** 2).sum())
              for w in (None, 50.0)]
    assert spread[1] < 0.5 * spread[0]


def test_progress_and_cancel():
    x, y, a, b = _problem(30, 30)
    seen = []
    ot(x, y, reg=0.5, progress=seen.append)
    assert seen and seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)
    with pytest.raises(Cancelled):
        ot(x, y, reg=0.5, cancel=lambda: True)


# ------------------------------------------------------------------------------ unbalanced
def test_unbalanced_matches_naive_reference_and_relaxes_marginals():
    x, y, a, b = _problem(20, 15, seed=9)
    b = 2.0 * b  # unequal masses are the point of unbalanced OT
    C = _sqdist(x, y)
    reg, reg_m = 0.5, 1.5
    r = ot(x, y, a=a, b=b, method="unbalanced", reg=reg, reg_m=reg_m, tol=1e-13,
           max_iter=100000)
    np.testing.assert_allclose(r.plan, _naive_unbalanced(a, b, C, reg, reg_m, 5000), atol=1e-12)
    # first-order optimality of the KL relaxation: reg_m * log(row mass / a) = -f
    f_pot = r.diagnostics["potentials"][0] - reg * np.log(a)
    np.testing.assert_allclose(reg_m * np.log(r.plan.sum(1) / a), -f_pot, atol=1e-8)
    assert not np.allclose(r.plan.sum(1), a, atol=1e-3)


def test_unbalanced_with_infinite_reg_m_is_balanced():
    x, y, a, b = _problem(12, 10, seed=10)
    r = ot(x, y, a=a, b=b, method="unbalanced", reg=0.5, reg_m=math.inf, tol=1e-13,
           max_iter=100000)
    np.testing.assert_allclose(r.plan.sum(1), a, atol=1e-9)
    np.testing.assert_allclose(r.plan.sum(0), b, atol=1e-9)


# ------------------------------------------------------------------------------ exact
@pytest.mark.parametrize("n,m,seed", [(2, 3, 0), (3, 3, 1), (3, 2, 2), (1, 4, 3)])
def test_emd_equals_brute_force(n, m, seed):
    x, y, a, b = _problem(n, m, seed=seed)
    r = ot(x, y, a=a, b=b, method="emd")
    assert r.distance == pytest.approx(_brute_force_emd(a, b, _sqdist(x, y)), rel=1e-10)
    np.testing.assert_allclose(r.plan.sum(1), a, atol=1e-12)
    np.testing.assert_allclose(r.plan.sum(0), b, atol=1e-12)


@pytest.mark.parametrize("n,m,seed", [(8, 13, 0), (25, 17, 1), (40, 40, 2), (1, 9, 3)])
def test_network_simplex_equals_highs(n, m, seed):
    from core.transport import _emd_highs
    x, y, a, b = _problem(n, m, seed=seed)
    C = _sqdist(x, y)
    r = ot(x, y, a=a, b=b, method="emd")
    assert r.diagnostics["solver"].startswith("network simplex")
    plan_h, _ = _emd_highs(C, a, b)
    assert r.distance == pytest.approx(float(np.sum(plan_h * C)), rel=1e-10)
    np.testing.assert_allclose(r.plan.sum(1), a, atol=1e-12)
    np.testing.assert_allclose(r.plan.sum(0), b, atol=1e-12)
    assert np.all(r.plan >= 0)
    assert np.count_nonzero(r.plan) <= n + m - 1  # a vertex of the polytope


def test_network_simplex_in_chunks_equals_one_call():
    from core._kernels import network_simplex as ns
    x, y, a, b = _problem(60, 45, seed=31)
    C = _sqdist(x, y)
    C = C / C.max()
    b = b * (a.sum() / b.sum())
    st1 = np.zeros(5, dtype=np.int64)
    r1, c1, f1 = ns.network_simplex(C, a, b, 10**9, 1e-12, st1, *ns.allocate(60, 45))
    st2 = np.zeros(5, dtype=np.int64)
    work = ns.allocate(60, 45)
    calls = 0
    while True:
        r2, c2, f2 = ns.network_simplex(C, a, b, 7, 1e-12, st2, *work)
        calls += 1
        if st2[0] != 1:
            break
    assert st1[0] == st2[0] == 0 and calls > 3
    P1 = np.zeros((60, 45))
    P1[r1, c1] = f1
    P2 = np.zeros((60, 45))
    P2[r2, c2] = f2
    assert np.sum(P1 * C) == pytest.approx(np.sum(P2 * C), rel=1e-12)


def test_emd_cancel_between_pivot_chunks():
    x, y, a, b = _problem(600, 500, seed=32)
    seen = []
    with pytest.raises(Cancelled):
        # cancel once the simplex has reported progress (after its first chunk)
        ot(x, y, a=a, b=b, method="emd", progress=seen.append,
           cancel=lambda: any(0.3 < f < 0.9 for f in seen))


def test_network_simplex_degenerate_ties():
    # integer costs with many ties and weights with equal partial sums (degenerate pivots)
    from core.transport import _emd_highs
    rng = np.random.default_rng(5)
    C = rng.integers(0, 3, size=(30, 20)).astype(float)
    a = np.full(30, 1 / 30)
    b = np.full(20, 1 / 20)
    r = ot(cost=C, a=a, b=b, method="emd")
    plan_h, _ = _emd_highs(C, a, b)
    assert r.distance == pytest.approx(float(np.sum(plan_h * C)), rel=1e-10, abs=1e-14)
    np.testing.assert_allclose(r.plan.sum(1), a, atol=1e-12)
    np.testing.assert_allclose(r.plan.sum(0), b, atol=1e-12)
    # constant cost: any feasible plan is optimal
    r0 = ot(cost=np.ones((4, 6)), a=np.full(4, .25), b=np.full(6, 1 / 6), method="emd")
    assert r0.distance == pytest.approx(1.0)


def test_emd_uniform_equals_permutation_brute_force():
    x, y, _, _ = _problem(5, 5, seed=11)
    C = _sqdist(x, y)
    best = min(C[np.arange(5), list(p)].sum() / 5 for p in itertools.permutations(range(5)))
    assert ot(x, y, method="emd").distance == pytest.approx(best, rel=1e-12)


def test_assignment_equals_linear_sum_assignment():
    from scipy.optimize import linear_sum_assignment
    x, y, _, _ = _problem(40, 40, seed=12)
    C = _sqdist(x, y)
    rows, cols = linear_sum_assignment(C)
    r = ot(x, y, method="assignment")
    assert r.distance == pytest.approx(C[rows, cols].mean(), rel=1e-12)
    np.testing.assert_array_equal(r.diagnostics["assignment"][:, 1], cols)
    np.testing.assert_allclose(r.plan.sum(1), 1 / 40)
    np.testing.assert_allclose(r.plan.sum(0), 1 / 40)


# ------------------------------------------------------------------------------ POT
def test_against_pot():
    pot = pytest.importorskip("ot")
    x, y, a, b = _problem(60, 45, seed=13)
    M = pot.dist(x, y)
    G = pot.sinkhorn(a, b, M, 0.3, method="sinkhorn_log", stopThr=1e-12, numItermax=100000)
    r = ot(x, y, a=a, b=b, reg=0.3, tol=1e-12, max_iter=100000)
    np.testing.assert_allclose(r.plan, G, atol=1e-12)
    e = pot.emd2(a, b, M, numItermax=10**8)
    assert ot(x, y, a=a, b=b, method="emd").distance == pytest.approx(e, rel=1e-9)
    Gu = pot.unbalanced.sinkhorn_unbalanced(a, b, M, 0.3, 2.0, stopThr=1e-13,
                                            numItermax=100000)
    ru = ot(x, y, a=a, b=b, method="unbalanced", reg=0.3, reg_m=2.0, tol=1e-13,
            max_iter=100000)
    np.testing.assert_allclose(ru.plan, Gu, atol=1e-12)


@pytest.mark.parametrize("n, m, reg, tol", [(60, 80, 0.05, 1e-6), (90, 70, 0.02, 1e-9),
                                            (40, 40, 0.5, 1e-4)])
def test_tol_is_pots_stop_threshold(n, m, reg, tol):
    """The same call stops where POT stops: the same norm of the column-marginal error,
    checked at the same iterations; the plan is POT's. With epsilon scaling the last
    stage checks the same way from a warm start: below tol, the plan equal to the
    tolerance."""
    pot = pytest.importorskip("ot")
    x, y, a, b = _problem(n, m, seed=n + m)
    M = pot.dist(x, y)
    M /= M.max()
    G, log = pot.sinkhorn(a, b, M, reg, method="sinkhorn_log", stopThr=tol,
                          numItermax=100000, log=True)
    r = ot(cost=M, a=a, b=b, reg=reg, tol=tol, max_iter=100000, epsilon_scaling=False)
    assert r.diagnostics["n_iter"] == log["niter"] + 1  # POT counts from 0
    assert r.diagnostics["marginal_error"] == pytest.approx(float(log["err"][-1]), rel=1e-6,
                                                            abs=1e-15)
    np.testing.assert_allclose(r.plan, G, rtol=1e-9, atol=1e-15)
    scaled = ot(cost=M, a=a, b=b, reg=reg, tol=tol, max_iter=100000)
    assert scaled.diagnostics["marginal_error"] < tol
    assert np.abs(scaled.plan.sum(0) - b).sum() < 3 * math.sqrt(m) * tol
    np.testing.assert_allclose(scaled.plan, G, atol=2 * tol)


def test_unbalanced_precomputed_and_on_the_fly_agree(monkeypatch):
    import core.transport as tr
    x, y, a, b = _problem(50, 40, seed=21)
    b = b * 1.5
    kw = dict(a=a, b=b, method="unbalanced", reg=0.5, reg_m=2.0, tol=1e-13, max_iter=100000)
    r_plain = ot(x, y, **kw)
    assert r_plain.diagnostics["domain"].startswith("plain")
    monkeypatch.setattr(tr, "_PRECOMPUTE_MAX_BYTES", 0)
    r_log = ot(x, y, **kw)
    assert r_log.diagnostics["domain"].startswith("log")
    np.testing.assert_allclose(r_plain.plan, r_log.plan, atol=1e-14, rtol=1e-9)
    assert r_plain.distance == pytest.approx(r_log.distance, rel=1e-10)


def test_unbalanced_tiny_reg_falls_back_to_log_domain():
    x, y, a, b = _problem(30, 20, seed=22)
    r = ot(x, y, a=a, b=b, method="unbalanced", reg=1e-3, reg_m=1.0, tol=1e-9,
           max_iter=20000)
    assert r.diagnostics["domain"].startswith("log")
    assert np.all(np.isfinite(r.plan))


# ------------------------------------------------------------------------------ path
def test_plan_to_path_follows_a_permutation_plan():
    plan = np.eye(6)[:, [0, 1, 2, 3, 4, 5]] / 6
    np.testing.assert_array_equal(plan_to_path(plan), np.stack([np.arange(6)] * 2, 1))


def test_ot_path_is_monotone_and_spans_both():
    x, y, a, b = _problem(30, 20, seed=14)
    r = ot(x, y, reg=0.5)
    p = r.path
    assert tuple(p[0]) == (0, 0) and tuple(p[-1]) == (29, 19)
    assert np.all(np.diff(p, axis=0) >= 0) and np.all(np.diff(p, axis=0) <= 1)
    assert "plan_to_path" in r.diagnostics["path_from"]


def test_time_ordered_sequences_give_the_diagonal_path():
    t = np.linspace(0, 1, 50)[:, None]
    r = ot(t, t, reg=1e-3, tol=1e-8, max_iter=20000)
    np.testing.assert_array_equal(r.path, np.stack([np.arange(50)] * 2, 1))


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs,match", [
    ({"reg": 0.0}, "reg"),
    ({"reg": -1.0}, "reg"),
    ({"reg": math.nan}, "reg"),
    ({"a": -np.ones(5) / 5}, "a: weights must be non-negative"),
    ({"b": np.ones(4)}, "b: weights must sum to 1"),
    ({"a": np.ones(3) / 3}, "a: expected a 1-D array of 5"),
    ({"a": np.full(5, np.nan)}, "a: contains NaN"),
    ({"method": "magic"}, "method"),
    ({"metric": "hamming"}, "metric"),
    ({"tol": 0.0}, "tol"),
    ({"max_iter": 0}, "max_iter"),
    ({"temporal_prior": -1.0}, "temporal_prior"),
    ({"method": "unbalanced", "reg_m": 0.0}, "reg_m"),
])
def test_bad_arguments(kwargs, match):
    x, y, _, _ = _problem(5, 4)
    with pytest.raises(ValueError, match=match):
        ot(x, y, **kwargs)


def test_bad_features():
    x, y, _, _ = _problem(5, 4)
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match="x: contains NaN"):
        ot(x, y)
    with pytest.raises(ValueError, match="y: expected a non-empty"):
        ot(np.ones((3, 2)), np.ones((0, 2)))
    with pytest.raises(ValueError, match="dimensions differ"):
        ot(np.ones((3, 2)), np.ones((3, 4)))
    with pytest.raises(ValueError, match="plan: entries must be non-negative"):
        plan_to_path(-np.ones((2, 2)))


def test_greedy_plan_to_path_follows_a_band_and_validates():
    plan = np.zeros((5, 7))
    cells = [(0, 0), (1, 1), (1, 2), (2, 3), (3, 4), (4, 5), (4, 6)]
    for i, j in cells:
        plan[i, j] = 1.0
    np.testing.assert_array_equal(plan_to_path(plan, method="greedy"), cells)
    np.testing.assert_array_equal(plan_to_path(plan), cells)
    with pytest.raises(ValueError, match="method"):
        plan_to_path(plan, method="argmax")


def test_without_plan_the_path_follows_row_maxima():
    x, y, a, b = _problem(40, 30, seed=15)
    full = ot(x, y, reg=0.3, tol=1e-10)
    lean = ot(x, y, reg=0.3, tol=1e-10, return_plan=False)
    assert lean.plan is None
    assert lean.distance == pytest.approx(full.distance, rel=1e-12)
    p = lean.path
    assert tuple(p[0]) == (0, 0) and tuple(p[-1]) == (39, 29)
    steps = np.diff(p, axis=0)
    assert np.all(steps >= 0) and np.all(steps <= 1) and np.all(steps.sum(1) >= 1)
    # every row's running-maximum argmax column is on the path
    target = np.maximum.accumulate(np.argmax(full.plan, axis=1))
    for i in range(39):
        assert target[i] in p[p[:, 0] == i, 1] or target[i] < p[p[:, 0] == i, 1].min()
    t = np.linspace(0, 1, 50)[:, None]
    np.testing.assert_array_equal(ot(t, t, reg=1e-3, tol=1e-8, max_iter=20000,
                                     return_plan=False).path,
                                  np.stack([np.arange(50)] * 2, 1))
