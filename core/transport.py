"""Assignment and optimal transport between the frames of two recordings (``core.ot``).

Four solvers behind one entry point, as in POT: ``"sinkhorn"`` (entropic OT,
log-domain Sinkhorn in numba with costs computed on the fly), ``"unbalanced"``
(KL-relaxed marginals), ``"emd"`` (exact OT by linear programming) and
``"assignment"`` (one-to-one matching). ``reg`` and ``reg_m`` mean what they mean in
POT, so ``Alignment.distance`` (the transport cost ``<plan, cost>``) can be checked
against ``ot.sinkhorn(..., method="sinkhorn_log")``, ``ot.emd2`` and
``ot.unbalanced.sinkhorn_unbalanced``.

A plan is many-to-many and not ordered in time; :func:`plan_to_path` turns it into a
monotone path (an explicit, lossy step) so that OT can drive playback and export.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from ._kernels import lazy
from ._progress import Monitor
from .alignment import Alignment
from .cost import check_cost, check_pair
from .errors import ConvergenceWarning

_k = lazy("ot")  # numba: imported where a kernel first runs
_ns = lazy("network_simplex")

__all__ = ["ot", "plan_to_path", "ConvergenceWarning", "warm_up"]

_METHODS = ("sinkhorn", "unbalanced", "emd", "assignment")
_METRICS = {"sqeuclidean": 0, "euclidean": 1, "cosine": 0}
_EMD_MAX_CELLS = 50_000_000
_EMD_MAX_PIVOTS = 10**9
_BLOCK_CELLS = 1 << 22
_PRECOMPUTE_MAX_BYTES = 512 << 20  # unbalanced: kernel in memory up to this size


# ---------------------------------------------------------------------------- validation
def _check_positive(name, value, *, allow_inf=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a positive number, got {value!r}") from None
    if not (v > 0) or math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return v


def _check_weights(name, w, size, *, normalized):
    if w is None:
        return np.full(size, 1.0 / size)
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != size:
        raise ValueError(f"{name}: expected a 1-D array of {size} weights, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name}: contains NaN or infinite weights")
    if np.any(w < 0):
        raise ValueError(f"{name}: weights must be non-negative")
    total = float(w.sum())
    if not total > 0:
        raise ValueError(f"{name}: weights sum to zero")
    if normalized and abs(total - 1.0) > 1e-6:
        raise ValueError(f"{name}: weights must sum to 1 (they sum to {total:.9g})")
    return w / total if normalized else w.copy()


def _prepare(x, y, cost, metric):
    """Returns (X, yT, metric_code, n, m) for the kernels."""
    if cost is not None:
        if x is not None or y is not None:
            raise ValueError("cost: give either cost or x and y, not both")
        c = check_cost(cost, nonnegative=True)
        return c, np.zeros((1, 1)), 2, c.shape[0], c.shape[1]
    x, y = check_pair(x, y, dtype=None)
    if metric not in _METRICS:
        raise ValueError(f"metric: expected one of {sorted(_METRICS)}, got {metric!r}")
    if metric == "cosine":
        # 1 - cos(x, y) = |x/|x| - y/|y||^2 / 2: scale unit vectors by 1/sqrt(2)
        nx_ = np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
        ny_ = np.linalg.norm(y.astype(np.float64), axis=1, keepdims=True)
        if np.any(nx_ == 0) or np.any(ny_ == 0):
            raise ValueError("x, y: the cosine metric needs non-zero frames")
        x = x / (nx_ * math.sqrt(2.0))
        y = y / (ny_ * math.sqrt(2.0))
    y_t = np.ascontiguousarray(y.T)
    if x.dtype != y_t.dtype:
        x = x.astype(np.float64)
        y_t = y_t.astype(np.float64)
    return x, y_t, _METRICS[metric], x.shape[0], y.shape[0]


def _full_cost(X, yT, code, prior_w, n, m, mon):
    out = np.empty((n, m))
    step = max(1, _BLOCK_CELLS // m)
    for i0 in range(0, n, step):
        _k.cost_rows(X, yT, code, prior_w, n, out[i0:], i0, min(n, i0 + step))
        mon.report(i0 / n)
    return out


def _cost_scale(X, yT, code, prior_w, n, m):
    """Median of the cost on a fixed sample of cells (for the default ``reg``)."""
    rng = np.random.default_rng(0)
    rows = np.unique(rng.integers(0, n, size=min(n, 64)))
    out = np.empty((len(rows), m))
    for r, i in enumerate(rows):
        _k.cost_rows(X, yT, code, prior_w, n, out[r:], i, i + 1)
    return float(np.median(out))


# ---------------------------------------------------------------------------- Sinkhorn
class _Passes:
    """The two log-sum-exp passes, row-blocked, with cancel checks between blocks."""

    def __init__(self, X, yT, code, prior_w, n, m, mon):
        self.X, self.yT, self.code, self.w = X, yT, code, float(prior_w)
        self.n, self.m, self.mon = n, m, mon
        self.step = max(1, _BLOCK_CELLS // max(m, 1))

    def fused(self, inv_reg, U, V, la, fi):
        """Row update ``U_new`` and ``LSE_cols(U_new)`` in one pass over the cells."""
        U_new = np.empty(self.n)
        acc = np.zeros(self.m)
        for i0 in range(0, self.n, self.step):
            _k.fused_pass(self.X, self.yT, self.code, self.w, self.n, inv_reg, U, V, la, fi,
                          U_new, acc, i0, min(self.n, i0 + self.step))
            self.mon.check()
        if np.all(np.isfinite(U_new)) and np.all((acc > 1e-280) & (acc < 1e280)):
            return U_new, np.log(acc) - V
        return U_new, self.cols(inv_reg, U_new, V)

    def cols(self, inv_reg, U, V):
        acc = np.zeros(self.m)
        for i0 in range(0, self.n, self.step):
            _k.acc_cols(self.X, self.yT, self.code, self.w, self.n, inv_reg, U, V, acc,
                        i0, min(self.n, i0 + self.step))
            self.mon.check()
        if np.all((acc > 1e-280) & (acc < 1e280)):
            return np.log(acc) - V
        # some column under- or overflowed: redo with the exact column maxima
        mx = np.full(self.m, -np.inf)
        for i0 in range(0, self.n, self.step):
            _k.max_cols(self.X, self.yT, self.code, self.w, self.n, inv_reg, U, mx,
                        i0, min(self.n, i0 + self.step))
        acc[:] = 0.0
        for i0 in range(0, self.n, self.step):
            _k.acc_cols(self.X, self.yT, self.code, self.w, self.n, inv_reg, U, -mx, acc,
                        i0, min(self.n, i0 + self.step))
            self.mon.check()
        return mx + np.log(acc)

    def plan(self, inv_reg, U, V, store, mon):
        plan = np.empty((self.n, self.m)) if store else np.empty((1, 1))
        row_cost = np.empty(self.n)
        row_mass = np.empty(self.n)
        for i0 in range(0, self.n, self.step):
            _k.plan_rows(self.X, self.yT, self.code, self.w, self.n, inv_reg, U, V, plan,
                         store, row_cost, row_mass, i0, min(self.n, i0 + self.step))
            mon.report(i0 / self.n)
        return (plan if store else None), row_cost, row_mass


# the marginal error is checked every _CHECK_EVERY iterations (from the first), as POT
# does: the same call then stops at the same iteration as POT's sinkhorn / sinkhorn_log
_CHECK_EVERY = 10


def _sinkhorn_balanced(P, a, b, reg, tol, max_iter, eps_scaling, cost_scale, mon):
    """Log-domain Sinkhorn with POT's iteration and stopping rule.

    Each iteration updates the column potential, then the row potential (from zero
    potentials, as POT's ``sinkhorn_log``); every ``_CHECK_EVERY``-th iteration, from
    the first, the L2 norm of the column-marginal error of the current plan is checked
    against ``tol`` (POT's ``stopThr``). With epsilon scaling, the stages before the last
    run at larger ``reg`` to a looser tolerance (checked every iteration) and the last
    stage, warm-started, checks like POT.
    """
    la, lb = np.log(a), np.log(b)
    n, m = len(a), len(b)
    U = np.zeros(n)
    V = np.zeros(m)
    regs = [reg]
    if eps_scaling and cost_scale > 0 and reg < cost_scale:
        r = cost_scale
        regs = []
        while r > reg:
            regs.append(r)
            r *= 0.25
        regs.append(reg)
    history = []
    n_iter = 0
    err = math.inf
    converged = False
    stage_iters = []
    for s, r in enumerate(regs):
        final = s == len(regs) - 1
        inv = 1.0 / r
        if s > 0:
            # potentials f = reg * U carry over from one stage to the next
            U *= regs[s - 1] / r
            V *= regs[s - 1] / r
        else:
            V = lb - P.cols(inv, U, V)  # the first column update, from U = 0
        stage_tol = tol if final else max(tol, 1e-3 * float(np.max(b)) * math.sqrt(m))
        k_stage = 0
        while True:
            U_new, L = P.fused(inv, U, V, la, 1.0)
            if not (np.all(np.isfinite(U_new)) and np.all(np.isfinite(L))):
                break  # keep the last finite potentials
            U = U_new
            n_iter += 1
            if not final or k_stage % _CHECK_EVERY == 0:
                col_mass = np.exp(np.minimum(V + L, 700.0))
                err = float(np.linalg.norm(col_mass - b))
                if final:
                    history.append(err)
                if err < stage_tol:
                    converged = final
                    break
            k_stage += 1
            if n_iter >= max_iter or (not final and k_stage >= 100):
                break
            V = lb - L
            mon.report(min(1.0, n_iter / max_iter))
        stage_iters.append(k_stage)
        if n_iter >= max_iter:
            if not final:
                # out of iterations in a coarse stage: bring the potentials to the final
                # reg and fit the marginals once, so the plan belongs to ``reg``
                U *= r / reg
                V *= r / reg
                inv = 1.0 / reg
                U, L = P.fused(inv, U, V, la, 1.0)
                err = float(np.linalg.norm(np.exp(np.minimum(V + L, 700.0)) - b))
                history.append(err)
            break
    return U, V, {"n_iter": n_iter, "marginal_error": err, "converged": converged,
                  "error_history": history, "reg_schedule": regs, "stage_iters": stage_iters}


def _sinkhorn_unbalanced_plain(P, a, b, reg, reg_m, tol, max_iter, mon):
    """Unbalanced Sinkhorn in the plain domain on a kernel computed once (as POT's
    ``sinkhorn_knopp_unbalanced``: matrix-vector products, no exp per pass).

    Returns None when the kernel would underflow or the scalings leave the floating
    range: the caller then runs the log-domain iteration.
    """
    K = _full_cost(P.X, P.yT, P.code, P.w, P.n, P.m, Monitor())
    c_lo, c_hi = float(K.min()), float(K.max())
    if c_hi / reg > 600.0 or c_lo / reg < -600.0:
        return None
    K *= -1.0 / reg
    np.exp(K, out=K)
    K *= a[:, None]
    K *= b[None, :]
    fi = reg_m / (reg_m + reg) if math.isfinite(reg_m) else 1.0
    u = np.ones(len(a))
    v = np.ones(len(b))
    history = []
    err = math.inf
    converged = False
    n_iter = 0
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        while n_iter < max_iter:
            Kv = K @ v
            u_new = (a / Kv) ** fi if fi != 1.0 else a / Kv
            Ktu = K.T @ u_new
            v_new = (b / Ktu) ** fi if fi != 1.0 else b / Ktu
            if not (np.all(np.isfinite(u_new)) and np.all(np.isfinite(v_new))
                    and np.all(u_new > 0) and np.all(v_new > 0)):
                return None
            err_u = np.max(np.abs(u_new - u)) / max(np.max(np.abs(u_new)),
                                                     np.max(np.abs(u)), 1.0)
            err_v = np.max(np.abs(v_new - v)) / max(np.max(np.abs(v_new)),
                                                     np.max(np.abs(v)), 1.0)
            err = float(0.5 * (err_u + err_v))
            history.append(err)
            u, v = u_new, v_new
            n_iter += 1
            mon.check()
            if n_iter % 16 == 0:
                mon.report(min(1.0, n_iter / max_iter))
            if err < tol:
                converged = True
                break
    U = np.log(a) + np.log(u)
    V = np.log(b) + np.log(v)
    return U, V, {"n_iter": n_iter, "change": err, "converged": converged,
                  "error_history": history, "domain": "plain (kernel precomputed)"}


def _sinkhorn_unbalanced(P, a, b, reg, reg_m, tol, max_iter, mon):
    la, lb = np.log(a), np.log(b)
    fi = reg_m / (reg_m + reg) if math.isfinite(reg_m) else 1.0
    inv = 1.0 / reg
    U = la.copy()  # POT starts from scalings u = v = 1 with the a b^T reference
    V = lb.copy()
    history = []
    err = math.inf
    converged = False
    n_iter = 0
    while n_iter < max_iter:
        U_new, L = P.fused(inv, U, V, la, fi)
        V_new = lb - fi * L
        if not (np.all(np.isfinite(U_new)) and np.all(np.isfinite(V_new))):
            break
        # POT's criterion on the scalings u = exp(U - log a), v = exp(V - log b)
        u0, u1 = np.exp(np.clip(U - la, -700, 700)), np.exp(np.clip(U_new - la, -700, 700))
        v0, v1 = np.exp(np.clip(V - lb, -700, 700)), np.exp(np.clip(V_new - lb, -700, 700))
        err_u = np.max(np.abs(u1 - u0)) / max(np.max(np.abs(u1)), np.max(np.abs(u0)), 1.0)
        err_v = np.max(np.abs(v1 - v0)) / max(np.max(np.abs(v1)), np.max(np.abs(v0)), 1.0)
        err = float(0.5 * (err_u + err_v))
        history.append(err)
        U, V = U_new, V_new
        n_iter += 1
        mon.report(min(1.0, n_iter / max_iter))
        if err < tol:
            converged = True
            break
    return U, V, {"n_iter": n_iter, "change": err, "converged": converged,
                  "error_history": history}


# ---------------------------------------------------------------------------- exact
def _emd(C, a, b, mon):
    """Exact OT by our network simplex (block search pivots) on a [0, 1]-scaled cost,
    run in chunks of pivots with cancel checks between them."""
    lo, hi = float(C.min()), float(C.max())
    Cn = (C - lo) * (1.0 / (hi - lo)) if hi > lo else np.zeros_like(C)
    # both marginals sum to 1 up to rounding; give the demands the supplies' total
    b = b * (a.sum() / b.sum())
    n, m = C.shape
    state = np.zeros(5, dtype=np.int64)
    work = _ns.allocate(n, m)
    chunk = max(5_000, 4 * (n + m))
    while True:
        rows, cols, flows = _ns.network_simplex(Cn, a, b, chunk, 1e-12, state, *work)
        if state[0] != 1 or state[1] >= _EMD_MAX_PIVOTS:
            break
        mon.check()
        # typical solves take ~10 (n + m) pivots
        mon.report(min(0.95, state[1] / (12.0 * (n + m))))
    if state[0] != 0:
        raise RuntimeError(f"exact OT: the network simplex stopped (status {state[0]} "
                           f"after {state[1]} pivots)")
    plan = np.zeros(C.shape)
    plan[rows, cols] = np.maximum(flows, 0.0)
    return plan, {"solver": "network simplex (numba, block search pivots)",
                  "n_pivots": int(state[1])}


def _emd_highs(C, a, b):
    """Exact OT by scipy's HiGHS dual simplex (kept as a cross-check for tests)."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_array, eye_array, kron, vstack

    n, m = C.shape
    rows = kron(eye_array(n), np.ones((1, m)))
    cols = csr_array(kron(np.ones((1, n)), eye_array(m)))
    A = vstack([rows, cols[:-1]]).tocsr()  # one constraint is redundant
    rhs = np.concatenate([a, b[:-1]])
    res = linprog(C.ravel(), A_eq=A, b_eq=rhs, bounds=(0, None), method="highs-ds",
                  options={"primal_feasibility_tolerance": 1e-10,
                           "dual_feasibility_tolerance": 1e-10})
    if res.status != 0:
        raise RuntimeError(f"exact OT: the LP solver failed ({res.message})")
    plan = np.maximum(res.x.reshape(n, m), 0.0)
    return plan, {"solver": "scipy linprog (HiGHS dual simplex)",
                  "lp_objective": float(res.fun)}


def plan_to_path(plan, *, method="max_prob"):
    """Turn a transport plan or soft alignment into a monotone path (lossy).

    The path runs from ``(0, 0)`` to ``(N-1, M-1)`` with steps (1, 0), (0, 1) and
    (1, 1). ``method="max_prob"`` maximizes ``sum log plan_ij`` over the cells it visits
    (cells with no mass count as 1e-300 of the largest entry; O(NM)); ``"greedy"``
    steps from each cell to the successor with the most mass (O(N + M); right for
    plans concentrated on one band, such as soft-DTW's expected alignment). Mass that
    goes backwards in time, and the spread of a soft match, is lost: this is a named,
    explicit approximation.

    Parameters
    ----------
    plan : array_like, shape (N, M)
        Non-negative, finite, not all zero.
    method : {"max_prob", "greedy"}

    Returns
    -------
    ndarray of int64, shape (L, 2)

    Notes
    -----
    O(NM) time, one int8 byte per cell for the back-pointers.
    """
    if method not in ("max_prob", "greedy"):
        raise ValueError(f"method: expected 'max_prob' or 'greedy', got {method!r}")
    p = np.asarray(plan, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"plan: expected a non-empty (N, M) array, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("plan: contains NaN or infinite values")
    if np.any(p < 0):
        raise ValueError("plan: entries must be non-negative")
    top = float(p.max())
    if not top > 0:
        raise ValueError("plan: all entries are zero")
    n, m = p.shape
    path = np.empty((n + m, 2), dtype=np.int64)
    if method == "greedy":
        return path[:_k.greedy_path(p, path)].copy()
    back = np.empty((n, m), dtype=np.int8)
    length = _k.max_prob_path(np.ascontiguousarray(p), 1.0 / top, back, path)
    return path[:length][::-1].copy()


# ---------------------------------------------------------------------------- public
def ot(x=None, y=None, *, a=None, b=None, cost=None, method="sinkhorn",
       metric="sqeuclidean", reg=None, reg_m=1.0, tol=1e-9, max_iter=1000,
       epsilon_scaling=True, temporal_prior=None, return_plan=True,
       rate_a_hz=1.0, rate_b_hz=1.0, progress=None, cancel=None):
    """Optimal transport (or assignment) between the frames of A and B.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Features of A (float32 or float64).
    y : ndarray, shape (M, D)
        Features of B.
    a, b : ndarray, shape (N,) and (M,), optional
        Frame weights (default uniform). Non-negative; for the balanced methods they
        must sum to 1. Frames with zero weight get no mass.
    cost : ndarray, shape (N, M), optional
        A precomputed non-negative cost instead of ``x``, ``y`` and ``metric``.
    method : {"sinkhorn", "unbalanced", "emd", "assignment"}
        Entropic OT, entropic OT with KL-relaxed marginals, exact OT, or a one-to-one
        assignment (``scipy.optimize.linear_sum_assignment``; uniform weights only).
    metric : {"sqeuclidean", "euclidean", "cosine"}
        Local cost; squared euclidean as POT's ``ot.dist``.
    reg : float, optional
        Entropic regularization (POT's ``reg``). Default: 5 % of the median cost.
    reg_m : float
        Marginal relaxation (POT's ``reg_m``) for ``"unbalanced"``; ``inf`` = balanced.
    tol : float
        Sinkhorn: POT's ``stopThr``: stop when the L2 norm of the column-marginal error is
        below ``tol``, checked every 10th iteration from the first, as POT does (without
        epsilon scaling, the same call stops at the same iteration as POT's
        ``sinkhorn_log`` and gives its plan). Unbalanced: POT's relative change of the
        scalings, checked every iteration.
    max_iter : int
        Most Sinkhorn iterations (all stages together).
    epsilon_scaling : bool
        Sinkhorn: start from a large ``reg`` and divide it by 4 per stage down to
        ``reg``; the last stage runs to ``tol`` at ``reg``, so the plan is the same.
    temporal_prior : float, optional
        Weight ``w`` of a cost term ``w * (i / (N-1) - j / (M-1)) ** 2`` that keeps the
        plan near the diagonal (as in order-preserving Wasserstein).
    return_plan : bool
        If False (Sinkhorn only) the plan is not stored: the result has no ``plan``,
        memory stays O(N + M), and the path follows each row's largest plan entry
        (recomputed from the potentials) made monotone by a running maximum.
    rate_a_hz, rate_b_hz : float
        Frame rates of A and B.
    progress, cancel : callables, optional
        See :mod:`core._progress`.

    Returns
    -------
    Alignment
        ``plan`` the (N, M) plan, ``distance`` the transport cost ``<plan, cost>``,
        ``path`` the plan turned into a monotone path by :func:`plan_to_path`.

    Raises
    ------
    ValueError
        Bad features, weights, parameters or method. ``core.Cancelled`` on cancel.

    Warns
    -----
    ConvergenceWarning
        If Sinkhorn stops at ``max_iter`` before reaching ``tol``.

    Notes
    -----
    Sinkhorn runs in the log domain (no under- or overflow at small ``reg``), each
    iteration is two passes over the N x M cells with costs recomputed on the fly:
    O(NMD) time per iteration and O(N + M) memory besides the plan. The plan is
    computed row block by row block. Exact OT solves the transportation problem with
    a primal network simplex (block search pivot rule, numba; the cost matrix is held
    in memory, up to 5e7 cells); uniform weights with N = M use the assignment solver,
    whose optimum is an optimal plan.

    References
    ----------
    Cuturi, "Sinkhorn distances", NeurIPS 2013. Schmitzer, "Stabilized sparse scaling
    algorithms for entropy regularized transport problems", SIAM J. Sci. Comput. 2019.
    Chizat et al., "Scaling algorithms for unbalanced optimal transport problems",
    Math. Comp. 2018. Su & Hua, "Order-preserving Wasserstein distance", CVPR 2017.
    """
    t0 = time.perf_counter()
    if method not in _METHODS:
        raise ValueError(f"method: expected one of {_METHODS}, got {method!r}")
    mon = Monitor(progress, cancel)
    X, yT, code, n, m = _prepare(x, y, cost, metric)
    prior_w = 0.0
    if temporal_prior is not None:
        prior_w = float(temporal_prior)
        if not (math.isfinite(prior_w) and prior_w >= 0):
            raise ValueError(f"temporal_prior: expected a weight >= 0, got {temporal_prior!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter: expected a positive integer, got {max_iter!r}")
    tol = _check_positive("tol", tol)
    balanced = method != "unbalanced"
    wa = _check_weights("a", a, n, normalized=balanced)
    wb = _check_weights("b", b, m, normalized=balanced)
    params = {"method": method, "metric": "precomputed" if code == 2 else metric,
              "tol": tol, "max_iter": int(max_iter), "temporal_prior": temporal_prior}
    diag = {}
    plan = None
    mon.check()

    if method == "assignment":
        if a is not None or b is not None:
            raise ValueError("a, b: the assignment method takes no weights (uniform)")
        from scipy.optimize import linear_sum_assignment
        C = _full_cost(X, yT, code, prior_w, n, m, mon.sub(0.0, 0.3))
        rows, cols = linear_sum_assignment(C)
        k = len(rows)
        plan = np.zeros((n, m))
        plan[rows, cols] = 1.0 / k
        distance = float(C[rows, cols].sum() / k)
        diag.update(solver="scipy linear_sum_assignment", n_matched=k,
                    assignment=np.stack([rows, cols], axis=1))
    elif method == "emd":
        sa, sb = wa > 0, wb > 0
        C = _full_cost(X, yT, code, prior_w, n, m, mon.sub(0.0, 0.3))
        uniform = (n == m and np.all(wa == wa[0]) and np.all(wb == wb[0]))
        if uniform:
            from scipy.optimize import linear_sum_assignment
            rows, cols = linear_sum_assignment(C)
            plan = np.zeros((n, m))
            plan[rows, cols] = 1.0 / n
            diag["solver"] = "scipy linear_sum_assignment (uniform weights, N = M)"
        else:
            ns, ms = int(sa.sum()), int(sb.sum())
            if ns * ms > _EMD_MAX_CELLS:
                raise ValueError(
                    f"method: 'emd' is limited to {_EMD_MAX_CELLS} cells with non-uniform "
                    f"weights (got {ns} x {ms}); use method='sinkhorn' with a small reg")
            sub_plan, info = _emd(C[np.ix_(sa, sb)], wa[sa], wb[sb], mon.sub(0.3, 0.9))
            plan = np.zeros((n, m))
            plan[np.ix_(sa, sb)] = sub_plan
            diag.update(info)
        mon.report(0.9)
        distance = float(np.sum(plan * C))
    else:
        if reg is None:
            scale = _cost_scale(X, yT, code, prior_w, n, m)
            reg_v = 0.05 * scale if scale > 0 else 1.0
        else:
            reg_v = _check_positive("reg", reg)
            scale = _cost_scale(X, yT, code, prior_w, n, m) if epsilon_scaling else 0.0
        params["reg"] = reg_v
        sa, sb = wa > 0, wb > 0
        Xs = X[sa] if code != 2 else X[np.ix_(sa, sb)]
        yTs = yT[:, sb] if code != 2 else yT
        if prior_w != 0.0 and (not np.all(sa) or not np.all(sb)):
            # the temporal prior needs the original frame positions: precompute the cost
            full = _full_cost(X, yT, code, prior_w, n, m, Monitor())
            Xs, yTs, code_s, prior_s = full[np.ix_(sa, sb)].copy(), np.zeros((1, 1)), 2, 0.0
        else:
            code_s, prior_s = code, prior_w
            Xs = np.ascontiguousarray(Xs)
            yTs = np.ascontiguousarray(yTs)
        ns, ms = int(sa.sum()), int(sb.sum())
        P = _Passes(Xs, yTs, code_s, prior_s, ns, ms, mon.sub(0.0, 0.9))
        it_mon = mon.sub(0.0, 0.9)
        if method == "sinkhorn":
            U, V, info = _sinkhorn_balanced(P, wa[sa], wb[sb], reg_v, tol, int(max_iter),
                                            bool(epsilon_scaling), scale, it_mon)
        else:
            reg_m_v = _check_positive("reg_m", reg_m, allow_inf=True)
            params["reg_m"] = reg_m_v
            res = None
            if 2 * ns * ms * 8 <= _PRECOMPUTE_MAX_BYTES:
                res = _sinkhorn_unbalanced_plain(P, wa[sa], wb[sb], reg_v, reg_m_v, tol,
                                                 int(max_iter), it_mon)
            if res is None:
                res = _sinkhorn_unbalanced(P, wa[sa], wb[sb], reg_v, reg_m_v, tol,
                                           int(max_iter), it_mon)
                res[2]["domain"] = "log (costs on the fly)"
            U, V, info = res
        diag.update(info)
        if not info["converged"]:
            msg = (f"Sinkhorn ({method}) did not converge in {info['n_iter']} iterations "
                   f"(error {info['error_history'][-1] if info['error_history'] else math.inf:.3g}"
                   f" > tol {tol:g}); raise max_iter or reg")
            diag["warning"] = msg
            warnings.warn(msg, ConvergenceWarning, stacklevel=2)
        sub_plan, row_cost, row_mass = P.plan(1.0 / reg_v, U, V, bool(return_plan),
                                              mon.sub(0.9, 0.97))
        distance = float(row_cost.sum())
        diag["mass"] = float(row_mass.sum())
        if return_plan:
            if ns == n and ms == m:
                plan = sub_plan
            else:
                plan = np.zeros((n, m))
                plan[np.ix_(sa, sb)] = sub_plan
        diag["potentials"] = (reg_v * U, reg_v * V)
        if info.get("domain", "").startswith("plain"):
            diag["solver"] = "plain-domain unbalanced Sinkhorn (kernel precomputed, BLAS)"
        else:
            diag["solver"] = "log-domain Sinkhorn (numba, costs on the fly)"
    if plan is not None:
        path = plan_to_path(plan)
        diag["path_from"] = "plan_to_path: max log-plan monotone path (lossy)"
    else:
        # no plan in memory: follow each row's largest entry, recomputed from the
        # potentials row block by row block, made monotone by a running maximum
        cols = np.zeros(n, dtype=np.int64)
        sub_cols = np.empty(ns, dtype=np.int64)
        for i0 in range(0, ns, P.step):
            _k.row_argmax(P.X, P.yT, P.code, P.w, ns, 1.0 / reg_v, V, sub_cols, i0,
                          min(ns, i0 + P.step))
            mon.check()
        support_j = np.flatnonzero(sb)
        cols[sa] = support_j[sub_cols]
        if not np.all(sa):
            # rows without mass follow the previous row
            cols = np.maximum.accumulate(np.where(sa, cols, 0))
        path_buf = np.empty((n + m, 2), dtype=np.int64)
        path = path_buf[:_k.knots_to_path(cols, m, path_buf)].copy()
        diag["path_from"] = ("row argmax of the plan from the potentials, made monotone "
                             "by a running maximum (lossy; return_plan=False)")
    mon.report(1.0)
    diag["elapsed_s"] = time.perf_counter() - t0
    return Alignment(path, rate_a_hz, rate_b_hz, n_a=n, n_b=m, method="ot", params=params,
                     distance=distance, plan=plan, diagnostics=diag)


def warm_up():
    """Compile (or load from the numba cache) every OT kernel specialization on tiny
    inputs, float64 and float32 features; for the application's start-up thread."""
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x = rng.standard_normal((4, 2)).astype(dtype)
        y = rng.standard_normal((3, 2)).astype(dtype)
        ot(x, y, reg=1.0, max_iter=50, tol=1e-3)
        ot(x, y, reg=1.0, max_iter=50, tol=1e-3, return_plan=False, metric="euclidean",
           temporal_prior=1.0)
        ot(x, y, method="unbalanced", reg=1.0, max_iter=50, tol=1e-3)
    ot(cost=np.ones((3, 3)), reg=1.0, max_iter=50, tol=1e-3)
    ot(cost=np.ones((3, 4)), a=np.full(3, 1 / 3), b=np.full(4, 0.25), method="emd")
    plan_to_path(np.ones((3, 4)), method="greedy")
