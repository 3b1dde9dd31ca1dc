"""DTW engine: naive reference, dtw-python parity, windows, open ends, anchors, errors."""

import math

import numpy as np
import pytest

from core import AlignmentError, Cancelled
from core.cost import pairwise
from core.warping import PATTERN_NAMES, StepPattern, dtw, estimate, rabiner_juang
from core.warping.steps import get_step_pattern
from core.warping.windows import window_intervals

# ----------------------------------------------------------------------- reference


def naive_dtw(cost, pattern="symmetric2", inside=None, open_begin=False, open_end=False):
    """Plain-Python DTW with dtw-python's recursion; returns (distance, normalized, path)."""
    p = get_step_pattern(pattern)
    n, m = cost.shape
    if inside is None:
        inside = np.ones((n, m), dtype=bool)
    g = {}
    back = {}

    def acc(i, j):
        if i == -1 and open_begin and 0 <= j < m:
            return 0.0
        return g.get((i, j), math.inf)

    def c(i, j):
        return 0.0 if i < 0 else cost[i, j]

    for i in range(n):
        for j in range(m):
            if not inside[i, j]:
                continue
            if i == 0 and j == 0 and not open_begin:
                g[0, 0] = cost[0, 0]
                continue
            best, best_k = math.inf, -1
            for k in range(p.n_steps):
                si, sj = i - p.start_di[k], j - p.start_dj[k]
                if sj < 0 or si < -1 or (si >= 0 and not inside[si, sj]):
                    continue
                v = acc(si, sj)
                if v == math.inf:
                    continue
                for q in range(p.cell_first[k], p.cell_first[k + 1]):
                    v += p.cell_w[q] * c(i - p.cell_di[q], j - p.cell_dj[q])
                if v < best:
                    best, best_k = v, k
            if best < math.inf:
                g[i, j] = best
                back[i, j] = best_k
    last = np.array([acc(n - 1, j) for j in range(m)])
    cols = np.arange(m)
    norm = {"N+M": n + cols + 1, "N": np.full(m, n), "M": cols + 1}.get(p.norm)
    j_end = int(np.argmin(last / norm)) if open_end else m - 1
    dist = last[j_end]
    if dist == math.inf:
        return math.inf, math.nan, None
    nd = dist / norm[j_end] if norm is not None else math.nan
    path = [(n - 1, j_end)]
    i, j = n - 1, j_end
    while (i, j) in back:
        k = back[i, j]
        for q in range(p.cell_first[k + 1] - 1, p.cell_first[k] - 1, -1):
            di, dj = p.cell_di[q], p.cell_dj[q]
            if (di, dj) != (0, 0) and i - di >= 0:
                path.append((i - di, j - dj))
        i, j = i - p.start_di[k], j - p.start_dj[k]
        if i < 0:
            break
        path.append((i, j))
    return dist, nd, np.array(path[::-1])


def path_cost(cost, path, pattern):
    """Recompute a path's total from its steps (checks the path, not only the value)."""
    return float(np.sum(cost[path[:, 0], path[:, 1]]))


def mask_of(window, n, m):
    lo, hi, mask = window_intervals(window, n, m)
    jj = np.arange(m)[None, :]
    inside = (jj >= lo[:, None]) & (jj < hi[:, None])
    return inside if mask is None else inside & mask


def check_path(path, n, m, open_begin=False, open_end=False):
    assert path.ndim == 2 and path.shape[1] == 2
    assert np.all(np.diff(path, axis=0) >= 0)
    assert np.all(np.any(np.diff(path, axis=0) > 0, axis=1))
    assert path[-1, 0] == n - 1 and path[0, 0] == 0
    if not open_begin:
        assert path[0, 1] == 0
    if not open_end:
        assert path[-1, 1] == m - 1


SIZES = [(1, 1), (1, 7), (7, 1), (9, 9), (12, 17), (17, 12), (40, 6), (5, 33)]
ALL_PATTERNS = [n for n in PATTERN_NAMES if n != "rigid"]


def _cost(n, m, seed):
    return np.random.default_rng(seed).random((n, m))


# ----------------------------------------------------------------------- parity


@pytest.mark.parametrize("name", ALL_PATTERNS)
@pytest.mark.parametrize("size", SIZES)
def test_every_pattern_matches_naive(name, size):
    cost = _cost(*size, seed=hash((name, size)) % 1000)
    dist, nd, path = naive_dtw(cost, name)
    if dist == math.inf:
        with pytest.raises(AlignmentError, match="no warping path"):
            dtw(cost=cost, step_pattern=name)
        return
    a = dtw(cost=cost, step_pattern=name)
    assert a.distance == pytest.approx(dist, rel=1e-12)
    if math.isnan(nd):
        assert math.isnan(a.normalized_distance)
    else:
        assert a.normalized_distance == pytest.approx(nd, rel=1e-12)
    np.testing.assert_array_equal(a.path, path)
    check_path(a.path, *size)


WINDOWS = [None, ("sakoe_chiba", 2), ("sakoe_chiba", 0), ("slanted_band", 1.5),
           ("itakura",), "rows", "mask"]


def _window(kind, n, m, seed):
    rng = np.random.default_rng(seed)
    if kind == "rows":
        centre = np.round(np.linspace(0, m - 1, n)).astype(int)
        return ("rows", centre - rng.integers(0, 3, n), centre + rng.integers(1, 4, n))
    if kind == "mask":
        return rng.random((n, m)) < 0.85
    return kind


@pytest.mark.parametrize("kind", WINDOWS, ids=str)
@pytest.mark.parametrize("name", ["symmetric2", "symmetric1", "asymmetric", "symmetricP1",
                                  "asymmetricP05", "typeIIIc"])
@pytest.mark.parametrize("size", [(1, 5), (6, 1), (10, 10), (14, 19), (25, 8)])
def test_windows_match_naive(kind, name, size):
    n, m = size
    cost = _cost(n, m, seed=7)
    window = _window(kind, n, m, seed=3)
    dist, nd, path = naive_dtw(cost, name, inside=mask_of(window, n, m))
    if dist == math.inf:
        with pytest.raises(AlignmentError, match="no warping path"):
            dtw(cost=cost, step_pattern=name, window=window)
        return
    a = dtw(cost=cost, step_pattern=name, window=window)
    assert a.distance == pytest.approx(dist, rel=1e-12)
    np.testing.assert_array_equal(a.path, path)
    assert np.all(mask_of(window, n, m)[a.path[:, 0], a.path[:, 1]] | (name != "symmetric2"))


@pytest.mark.parametrize("name", ["asymmetric", "asymmetricP05", "typeIIIc", "symmetric2",
                                  "symmetricP1", "mori2006"])
@pytest.mark.parametrize("size", [(1, 9), (5, 20), (12, 12), (4, 60)])
@pytest.mark.parametrize("ends", [(False, True), (True, True), (True, False)])
def test_open_ends_match_naive(name, size, ends):
    ob, oe = ends
    cost = _cost(*size, seed=11)
    pattern = get_step_pattern(name)
    if (ob and pattern.norm != "N") or (oe and pattern.norm == "NA"):
        with pytest.raises(ValueError, match="open_begin|open_end"):
            dtw(cost=cost, step_pattern=name, open_begin=ob, open_end=oe)
        return
    dist, nd, path = naive_dtw(cost, name, open_begin=ob, open_end=oe)
    if dist == math.inf:
        with pytest.raises(AlignmentError):
            dtw(cost=cost, step_pattern=name, open_begin=ob, open_end=oe)
        return
    a = dtw(cost=cost, step_pattern=name, open_begin=ob, open_end=oe)
    assert a.distance == pytest.approx(dist, rel=1e-12)
    assert a.normalized_distance == pytest.approx(nd, rel=1e-12)
    np.testing.assert_array_equal(a.path, path)
    check_path(a.path, *size, open_begin=ob, open_end=oe)


def test_subsequence_finds_the_query():
    rng = np.random.default_rng(5)
    y = rng.normal(size=(300, 3))
    x = y[120:170] + 0.01 * rng.normal(size=(50, 3))
    a = dtw(x, y, step_pattern="asymmetric", open_begin=True, open_end=True)
    assert a.path[0, 1] == 120 and a.path[-1, 1] == 169


def anchored_reference(cost, anchors, name):
    """Constrained optimum: best to each anchor plus best from it (the naive DP of each
    piece counts the anchor's own cost once, in the piece that ends there)."""
    pts = [(0, 0)] + [tuple(a) for a in anchors] + [(cost.shape[0] - 1, cost.shape[1] - 1)]
    total = 0.0
    for k in range(len(pts) - 1):
        (si, sj), (ei, ej) = pts[k], pts[k + 1]
        if ei < si or ej < sj:
            return math.inf, math.nan, None
        d, _, _ = naive_dtw(cost[si:ei + 1, sj:ej + 1], name)
        total += d - (cost[si, sj] if k > 0 else 0.0)
    return total, math.nan, None


@pytest.mark.parametrize("name", ["symmetric2", "symmetric1", "asymmetric", "symmetricP05"])
@pytest.mark.parametrize("anchors", [[(0, 0)], [(5, 9)], [(3, 2), (10, 10)],
                                     [(19, 24)], [(4, 4), (4, 7), (12, 20)]], ids=str)
def test_anchors_match_constrained_reference(name, anchors):
    cost = _cost(20, 25, seed=2)
    dist, nd, path = anchored_reference(cost, anchors, name)
    if dist == math.inf:
        with pytest.raises(AlignmentError):
            dtw(cost=cost, step_pattern=name, anchors=anchors)
        return
    a = dtw(cost=cost, step_pattern=name, anchors=anchors)
    assert a.distance == pytest.approx(dist, rel=1e-12)
    rows = {tuple(r) for r in a.path}
    assert all(tuple(p) in rows for p in anchors)
    assert a.distance >= dtw(cost=cost, step_pattern=name).distance - 1e-12
    assert a.diagnostics["n_segments"] == len(anchors) + 1


def test_anchor_on_the_optimal_path_changes_nothing():
    cost = _cost(30, 30, seed=4)
    free = dtw(cost=cost)
    anchors = free.path[[5, 20, 40]]
    anchored = dtw(cost=cost, anchors=anchors)
    assert anchored.distance == pytest.approx(free.distance, rel=1e-12)


# ----------------------------------------------------------------------- dtw-python


@pytest.mark.parametrize("name", ALL_PATTERNS)
def test_dtw_python_parity(name):
    dtwpy = pytest.importorskip("dtw")
    cost = _cost(45, 60, seed=21)
    try:
        ref = dtwpy.dtw(cost, step_pattern=getattr(dtwpy, name))
    except ValueError:
        with pytest.raises(AlignmentError):
            dtw(cost=cost, step_pattern=name)
        return
    a = dtw(cost=cost, step_pattern=name)
    assert a.distance == pytest.approx(ref.distance, rel=1e-9)
    if math.isnan(ref.normalizedDistance):
        assert math.isnan(a.normalized_distance)
    else:
        assert a.normalized_distance == pytest.approx(ref.normalizedDistance, rel=1e-9)
    np.testing.assert_array_equal(a.path, np.c_[ref.index1, ref.index2])


@pytest.mark.parametrize("window", [("sakoechiba", {"window_size": 5}, ("sakoe_chiba", 5)),
                                    ("slantedband", {"window_size": 3}, ("slanted_band", 3)),
                                    ("itakura", {}, ("itakura",))], ids=lambda w: w[0])
@pytest.mark.parametrize("name", ["symmetric2", "asymmetric", "symmetricP1"])
def test_dtw_python_window_parity(window, name):
    dtwpy = pytest.importorskip("dtw")
    cost = _cost(40, 44, seed=8)
    kind, args, ours = window
    ref = dtwpy.dtw(cost, step_pattern=getattr(dtwpy, name), window_type=kind,
                    window_args=args)
    a = dtw(cost=cost, step_pattern=name, window=ours)
    assert a.distance == pytest.approx(ref.distance, rel=1e-9)
    assert a.normalized_distance == pytest.approx(ref.normalizedDistance, rel=1e-9)


@pytest.mark.parametrize("ends", [(False, True), (True, True)])
def test_dtw_python_open_end_parity(ends):
    dtwpy = pytest.importorskip("dtw")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2))
    y = rng.normal(size=(90, 2))
    ref = dtwpy.dtw(x, y, step_pattern=dtwpy.asymmetric, open_begin=ends[0],
                    open_end=ends[1])
    a = dtw(x, y, step_pattern="asymmetric", open_begin=ends[0], open_end=ends[1])
    assert a.distance == pytest.approx(ref.distance, rel=1e-9)
    assert a.normalized_distance == pytest.approx(ref.normalizedDistance, rel=1e-9)
    np.testing.assert_array_equal(a.path, np.c_[ref.index1, ref.index2])


def test_dtw_python_rabiner_juang_parity():
    dtwpy = pytest.importorskip("dtw")
    cost = _cost(30, 34, seed=9)
    for t in range(1, 8):
        for w in "abcd":
            ref_p = dtwpy.rabinerJuangStepPattern(t, w, False)
            try:
                ref = dtwpy.dtw(cost, step_pattern=ref_p)
            except ValueError:
                continue
            a = dtw(cost=cost, step_pattern=rabiner_juang(t, w))
            assert a.distance == pytest.approx(ref.distance, rel=1e-9)


# ----------------------------------------------------------------------- features


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine", "cityblock"])
def test_metrics_equal_precomputed(metric):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(23, 4)), rng.normal(size=(31, 4))
    a = dtw(x, y, metric=metric)
    b = dtw(cost=pairwise(x, y, metric))
    # multi-dimensional features are compared in float32 (the precomputed path is float64)
    assert a.distance == pytest.approx(b.distance, rel=1e-6)
    np.testing.assert_array_equal(a.path, b.path)


def test_properties_identity_and_symmetry():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    y = rng.normal(size=(37, 3))
    assert dtw(x, x).distance == 0.0
    np.testing.assert_array_equal(dtw(x, x).path, np.c_[np.arange(50), np.arange(50)])
    for name in ("symmetric1", "symmetric2", "symmetricP05", "symmetricP1", "symmetricP2"):
        ab = dtw(x, y, step_pattern=name)
        ba = dtw(y, x, step_pattern=name)
        assert ab.distance == pytest.approx(ba.distance, rel=1e-12)


def test_custom_pattern_and_transpose():
    cost = _cost(15, 19, seed=6)
    custom = StepPattern([[(1, 1), (0, 0, 3)], [(1, 0), (0, 0, 1)], [(0, 1), (0, 0, 1)]],
                         "N+M", name="heavy_diagonal")
    dist, nd, path = naive_dtw(cost, custom)
    a = dtw(cost=cost, step_pattern=custom)
    assert a.distance == pytest.approx(dist, rel=1e-12)
    t = get_step_pattern("asymmetric").transposed()
    assert dtw(cost=cost.T, step_pattern=t).distance == pytest.approx(
        dtw(cost=cost, step_pattern="asymmetric").distance, rel=1e-12)


def test_result_fields_and_times():
    rng = np.random.default_rng(0)
    a = dtw(rng.normal(size=20), rng.normal(size=30), rate_a_hz=10.0, rate_b_hz=20.0)
    assert a.n_a == 20 and a.n_b == 30 and a.method == "dtw"
    assert a.diagnostics["exact"] is True
    np.testing.assert_allclose(a.times_s, a.path / [10.0, 20.0])


def test_estimate_is_available_and_grows_with_the_window():
    full = estimate(1000, 1000)
    band = estimate(1000, 1000, window=("sakoe_chiba", 50))
    assert band["bytes"] < full["bytes"] and band["cells"] < full["cells"]
    assert full["seconds"] > 0


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, match", [
    ({"x": [[np.nan]], "y": [[1.0]]}, "x: contains NaN"),
    ({"x": [[1.0]], "y": [[np.inf]]}, "y: contains NaN"),
    ({"x": np.zeros((0, 2)), "y": np.zeros((3, 2))}, "x: expected a non-empty"),
    ({"x": np.zeros((3, 2)), "y": np.zeros((3, 3))}, "feature dimensions differ"),
    ({"x": np.zeros((3, 2, 2)), "y": np.zeros((3, 2))}, "x: expected a non-empty"),
    ({"cost": np.zeros(5)}, "cost: expected a 2-D"),
    ({"cost": np.zeros((0, 5))}, "cost: expected a non-empty"),
    ({"cost": [[1.0, np.nan]]}, "cost: contains NaN"),
    ({"x": [1.0], "y": [1.0], "metric": "hamming"}, "metric: expected one of"),
    ({"cost": np.ones((3, 3)), "step_pattern": "nope"}, "step_pattern: unknown name"),
    ({"cost": np.ones((3, 3)), "window": ("band", 3)}, "window: unknown kind"),
    ({"cost": np.ones((3, 3)), "window": ("sakoe_chiba", -1)}, "window: radius"),
    ({"cost": np.ones((3, 3)), "window": np.ones((2, 3), bool)}, "window: a mask"),
    ({"cost": np.ones((3, 3)), "anchors": [(5, 1)]}, "anchors: every"),
    ({"cost": np.ones((3, 3)), "anchors": [1, 2, 3]}, "anchors: expected"),
    ({"cost": np.ones((3, 3)), "open_begin": True}, "open_begin: needs"),
    ({"cost": np.ones((3, 3)), "step_pattern": "symmetric1", "open_end": True},
     "open_end: needs"),
    ({"cost": np.ones((3, 3)), "exact": "yes"}, "exact: expected"),
    ({"cost": np.ones((3, 3)), "memory_budget_bytes": 0}, "memory_budget_bytes"),
    ({"x": None, "y": [1.0]}, "x, y: both are required"),
    ({"cost": np.ones((3, 3)), "rate_a_hz": 0.0}, "rate_a_hz"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dtw(**kwargs)


def test_no_path_errors():
    with pytest.raises(AlignmentError, match="no warping path"):
        dtw(cost=np.ones((10, 3)), step_pattern="typeIIIc")  # slope at most 2
    with pytest.raises(AlignmentError, match="no warping path"):
        dtw(cost=np.ones((5, 5)), window=("rows", np.zeros(5, int), np.ones(5, int) * 2))
    with pytest.raises(AlignmentError, match="not monotone"):
        dtw(cost=np.ones((5, 5)), anchors=[(1, 3), (3, 1)])
    with pytest.raises(AlignmentError, match="outside the window"):
        dtw(cost=np.ones((9, 9)), anchors=[(1, 7)], window=("sakoe_chiba", 2))


def test_cancel_and_progress():
    seen = []
    cost = _cost(200, 200, seed=1)
    dtw(cost=cost, progress=seen.append)
    assert seen and seen[-1] == pytest.approx(1.0)
    assert all(b >= a for a, b in zip(seen, seen[1:], strict=False))
    with pytest.raises(Cancelled):
        dtw(cost=cost, cancel=lambda: True)


# ----------------------------------------------------------------------- long inputs


@pytest.fixture
def small_tiles(shrunk_tiles, monkeypatch):
    """Tiles of 16 rows x 24 columns, so that small inputs use many strips and chunks
    (and no band solver)."""
    import core.warping._band as band
    monkeypatch.setattr(band, "BAND_MAX_WIDTH", -1)


def _walks(n, m, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(size=(n, d)), 0), np.cumsum(rng.normal(size=(m, d)), 0)


@pytest.mark.parametrize("window", [None, ("sakoe_chiba", 30), ("slanted_band", 12),
                                    ("itakura",), "rows"], ids=str)
@pytest.mark.parametrize("size", [(150, 130), (61, 200), (1, 90), (90, 1)])
def test_tiles_in_parallel_match_naive(small_tiles, window, size):
    n, m = size
    cost = _cost(n, m, seed=12)
    win = _window(window, n, m, seed=1) if window == "rows" else window
    dist, nd, path = naive_dtw(cost, "symmetric2", inside=mask_of(win, n, m))
    if dist == math.inf:
        with pytest.raises(AlignmentError):
            dtw(cost=cost, window=win)
        return
    a = dtw(cost=cost, window=win)
    assert a.diagnostics["method"] == "tiles"
    assert a.distance == pytest.approx(dist, rel=1e-12)
    np.testing.assert_array_equal(a.path, path)


@pytest.mark.parametrize("window", [None, ("sakoe_chiba", 7), ("slanted_band", 3),
                                    ("itakura",), "rows"], ids=str)
@pytest.mark.parametrize("size", [(150, 130), (61, 200), (2, 90), (90, 2), (40, 40)])
@pytest.mark.parametrize("ends", [(False, False), (False, True), (True, True)])
def test_band_kernel_matches_naive(window, size, ends):
    n, m = size
    cost = _cost(n, m, seed=13)
    win = window
    if window == "rows":  # a monotone corridor, as the accuracy pipeline builds
        _, starts, stops = _window(window, n, m, seed=2)
        win = ("rows", np.maximum.accumulate(starts), np.maximum.accumulate(stops))
    name = "asymmetricP0" if ends[0] else "symmetric2"
    dist, nd, path = naive_dtw(cost, name, inside=mask_of(win, n, m), open_begin=ends[0],
                               open_end=ends[1])
    if dist == math.inf:
        with pytest.raises(AlignmentError):
            dtw(cost=cost, window=win, step_pattern=name, open_begin=ends[0],
                open_end=ends[1])
        return
    a = dtw(cost=cost, window=win, step_pattern=name, open_begin=ends[0], open_end=ends[1])
    assert a.diagnostics["method"] == "band"
    assert a.distance == pytest.approx(dist, rel=1e-12)
    np.testing.assert_array_equal(a.path, path)


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine", "cityblock"])
@pytest.mark.parametrize("d", [1, 5, 40])
def test_band_features_match_reference(metric, d):
    x, y = _walks(97, 120, d=d, seed=d)
    a = dtw(x, y, metric=metric, window=("sakoe_chiba", 40))
    ref = naive_dtw(pairwise(x, y, metric), inside=mask_of(("sakoe_chiba", 40), 97, 120))
    assert a.diagnostics["method"] == "band"
    assert a.distance == pytest.approx(ref[0], rel=1e-5)


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine", "cityblock"])
@pytest.mark.parametrize("d", [1, 5, 40, 64])
def test_tiles_features_match_generic_kernel(small_tiles, metric, d):
    # d = 64 takes the matrix-multiply tiles (float32 dot products): looser tolerance
    x, y = _walks(97, 120, d=d, seed=d)
    a = dtw(x, y, metric=metric)
    ref = naive_dtw(pairwise(x, y, metric))
    assert a.distance == pytest.approx(ref[0], rel=1e-5 if d < 48 else 1e-4)


@pytest.mark.parametrize("window", [None, ("sakoe_chiba", 40)], ids=str)
@pytest.mark.parametrize("ends", [(False, False), (True, True), (False, True)])
def test_checkpointed_exact_equals_full(small_tiles, window, ends):
    x, y = _walks(230, 210)
    kw = {"window": window, "open_begin": ends[0], "open_end": ends[1],
          "step_pattern": "asymmetricP0" if ends[0] else "symmetric2"}
    full = dtw(x, y, **kw)
    low = dtw(x, y, exact=True, memory_budget_bytes=3000, **kw)
    assert full.diagnostics["method"] == "tiles"
    assert low.diagnostics["method"] in ("checkpoint", "pruned") and low.diagnostics["exact"]
    assert low.distance == pytest.approx(full.distance, rel=1e-12)
    np.testing.assert_array_equal(low.path, full.path)


@pytest.mark.parametrize("window", [None, ("sakoe_chiba", 40)], ids=str)
def test_checkpoints_alone_equal_full(small_tiles, monkeypatch, window):
    import core.warping._engine as engine
    monkeypatch.setattr(engine, "_solve_pruned", lambda *a, **k: (None, 0))
    x, y = _walks(230, 210, seed=4)
    full = dtw(x, y, window=window)
    low = dtw(x, y, window=window, exact=True, memory_budget_bytes=3000)
    assert low.diagnostics["method"] == "checkpoint"
    assert low.distance == pytest.approx(full.distance, rel=1e-12)
    np.testing.assert_array_equal(low.path, full.path)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("d, metric", [(1, "euclidean"), (3, "sqeuclidean"), (12, "cosine")])
def test_pruned_exact_equals_full(seed, d, metric):
    # noisy random walks: some inputs prune well, others fall back to checkpoints;
    # either way the result is the exact optimum
    x, y = _walks(700, 650, d=d, seed=seed)
    full = dtw(x, y, metric=metric)
    low = dtw(x, y, metric=metric, exact=True, memory_budget_bytes=50_000)
    assert low.diagnostics["exact"] and low.diagnostics["method"] in ("pruned", "checkpoint")
    assert low.distance == pytest.approx(full.distance, rel=1e-12)
    np.testing.assert_array_equal(low.path, full.path)


def test_pruned_skips_most_cells_on_a_clear_alignment():
    rng = np.random.default_rng(0)
    n = 3000
    t = np.linspace(0, 1, n)
    x = np.c_[np.sin(30 * t), np.cos(17 * t)]
    y = np.c_[np.sin(30 * t ** 1.1), np.cos(17 * t ** 1.1)] + 0.01 * rng.normal(size=(n, 2))
    full = dtw(cost=pairwise(x, y))  # a cost matrix: never pruned (float64 costs)
    low = dtw(x, y, exact=True, memory_budget_bytes=2_000_000)
    assert low.diagnostics["method"] == "pruned"
    assert low.diagnostics["cells"] < full.diagnostics["cells"] / 5
    assert low.distance == pytest.approx(full.distance, rel=1e-6)
    np.testing.assert_array_equal(low.path, full.path)


def test_multiscale_is_close_and_says_so(monkeypatch):
    import core.warping._long as long_
    monkeypatch.setattr(long_, "COARSEST_CELLS", 40000)
    rng = np.random.default_rng(3)
    n = 2400
    t = np.linspace(0, 1, n)
    warp = t + 0.08 * np.sin(2 * np.pi * t)

    def feats(s):
        return np.c_[np.sin(40 * s), np.cos(23 * s), np.sin(7 * s)]

    x = feats(t) + 0.05 * rng.normal(size=(n, 3))
    y = feats(warp) + 0.05 * rng.normal(size=(n, 3))
    exact = dtw(x, y)
    approx = dtw(x, y, exact=False)
    assert approx.diagnostics["exact"] is False and approx.diagnostics["method"] == "multiscale"
    assert approx.diagnostics["levels"] >= 2
    assert approx.diagnostics["cells"] < n * n / 10
    assert approx.distance >= exact.distance - 1e-9
    assert approx.distance <= exact.distance * 1.01
    # the default turns to multiscale when the budget is too small
    small = dtw(x, y, memory_budget_bytes=100_000)
    assert small.diagnostics["method"] == "multiscale"
    # where it searched is recorded (for the matrix view) and holds the whole path
    outline = approx.diagnostics["search_window"]
    assert_outline_holds(outline, approx.path)
    assert "search_window" not in exact.diagnostics
    # with anchors: the segments' corridors joined, an anchor off the natural path kept
    i_mid = n // 2
    j_mid = int(approx.path[approx.path[:, 0] == i_mid][0, 1]) + 60
    anchored = dtw(x, y, exact=False, anchors=[(i_mid, j_mid)])
    assert anchored.diagnostics["n_segments"] == 2
    assert [i_mid, j_mid] in anchored.path.tolist()
    assert_outline_holds(anchored.diagnostics["search_window"], anchored.path)


def assert_outline_holds(outline, cells):
    rows = np.asarray(outline["rows"])
    k = np.searchsorted(rows, cells[:, 0], side="right") - 1
    assert np.all((k >= 0) & (k < len(outline["lo"])))
    lo = np.asarray(outline["lo"])[k]
    hi = np.asarray(outline["hi"])[k]
    assert np.all((lo <= cells[:, 1]) & (cells[:, 1] < hi))


@pytest.mark.parametrize("n, m, max_blocks", [(50, 70, 1000), (3000, 2500, 100), (7, 3, 2)])
def test_window_outline_encloses_the_window_and_its_transpose(n, m, max_blocks):
    from core.warping.windows import transpose_outline, window_outline

    rng = np.random.default_rng(n)
    centre = np.sort(rng.integers(0, m, n))
    lo = np.clip(centre - rng.integers(0, 5, n), 0, m - 1)
    hi = np.clip(centre + rng.integers(1, 5, n), lo + 1, m)
    cells = np.array([(i, j) for i in range(0, n, max(1, n // 200))
                      for j in range(lo[i], hi[i])])
    outline = window_outline(lo, hi, max_blocks=max_blocks)
    assert len(outline["lo"]) == min(n, max_blocks)
    assert_outline_holds(outline, cells)
    if n <= max_blocks:  # one row per block: the window itself
        assert outline["lo"] == lo.tolist() and outline["hi"] == hi.tolist()
    flipped = transpose_outline(outline, n, m, max_blocks=max_blocks)
    assert_outline_holds(flipped, cells[:, ::-1])
    # offsets and a scale map a coarse window onto a finer grid
    fine = window_outline(lo, hi, max_blocks=max_blocks, row_offset=3, col_offset=5, scale=2)
    assert_outline_holds(fine, np.c_[2 * cells[:, 0] + 3 + 1, 2 * cells[:, 1] + 5 + 1])


def test_estimate_before_running_reports_the_method():
    big = estimate(180_000, 180_000, dim=12)
    assert big["method"] == "multiscale" and big["exact"] is False
    exact = estimate(180_000, 180_000, dim=12, exact=True)
    assert exact["method"] == "checkpoint" and exact["bytes"] <= 2 * (1 << 30)
    small = estimate(1000, 1000)
    assert small["method"] in ("band", "tiles") and 250_000 <= small["bytes"] < 10_000_000


def test_anchored_segments_use_tiles_and_agree(small_tiles):
    x, y = _walks(120, 140, seed=5)
    free = dtw(x, y)
    anchors = free.path[[30, 100, 180]]
    anchored = dtw(x, y, anchors=anchors)
    assert anchored.distance == pytest.approx(free.distance, rel=1e-12)
    np.testing.assert_array_equal(anchored.path, free.path)


def test_warm_up_runs_the_single_thread_strips_for_both_feature_types(monkeypatch):
    """The multiscale search's coarsest level (and a pruned solve's guide) from about
    6,500 frames on runs tiles on one thread, many strips per kernel call: a first
    alignment of an 8.7-minute pair compiled that kernel (2.5 s) after the warm-up."""
    import core.warping._tiles as tiles
    from core.warping import warm_up

    seen = set()
    real = tiles._sweep_batched

    def spy(plan, rows, lo, hi, use_matrix, cmat, source, xt, *rest):
        seen.add(np.dtype(xt.dtype).name)
        return real(plan, rows, lo, hi, use_matrix, cmat, source, xt, *rest)

    monkeypatch.setattr(tiles, "_sweep_batched", spy)
    assert warm_up() >= 0.0
    assert seen == {"float64", "float32"}


def test_pruned_reports_progress_and_cancels():
    t = np.linspace(0, 1, 2500)
    x = np.c_[np.sin(30 * t), np.cos(17 * t)]
    y = np.c_[np.sin(30 * t ** 1.1), np.cos(17 * t ** 1.1)]
    seen = []
    a = dtw(x, y, exact=True, memory_budget_bytes=1_000_000, progress=seen.append)
    assert a.diagnostics["method"] == "pruned"
    assert seen[-1] == pytest.approx(1.0)
    assert all(q >= p for p, q in zip(seen, seen[1:], strict=False))
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        dtw(x, y, exact=True, memory_budget_bytes=1_000_000, cancel=cancel)


@pytest.mark.parametrize("pattern", ["symmetric2", "symmetric1", "asymmetric"])
def test_normalized_distance_is_the_solves_without_a_result(pattern):
    from core.warping import normalized_distance

    rng = np.random.default_rng(7)
    for n, m in ((1, 1), (5, 9), (40, 33), (150, 150)):
        cost = rng.random((n, m))
        expected = dtw(cost=cost, step_pattern=pattern).normalized_distance
        got = normalized_distance(cost, pattern)
        assert got == pytest.approx(expected, rel=1e-12) or (np.isnan(got)
                                                             and np.isnan(expected))
