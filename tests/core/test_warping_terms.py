"""Multi-term local costs (FeatureTerms): kernels against a plain reference, every solver
against a naive full-matrix DTW, staged solving with anchors and its re-solve."""

import math

import numpy as np
import pytest

from core import AlignmentError
from core.warping import FeatureTerms, Term, dtw, resolve, staged_dtw
from core.warping._tiles import _features

METRIC_NAMES = ("euclidean", "sqeuclidean", "cosine", "cityblock")


def naive_costs(terms, weights):
    """The weighted sum of every term's distance, one cell at a time."""
    n, m = terms[0].x.shape[0], terms[0].y.shape[0]
    out = np.zeros((n, m))
    for t, w in zip(terms, weights, strict=True):
        for i in range(n):
            for j in range(m):
                a, b = t.x[i], t.y[j]
                if t.metric == "cosine":
                    na, nb = np.linalg.norm(a), np.linalg.norm(b)
                    d = 1.0 - (a @ b) / (na * nb) if na > 0 and nb > 0 else 1.0
                elif t.metric == "euclidean":
                    d = math.sqrt(np.sum((a - b) ** 2))
                elif t.metric == "sqeuclidean":
                    d = np.sum((a - b) ** 2)
                else:
                    d = np.sum(np.abs(a - b))
                out[i, j] += w * d
    return out


def naive_dtw(cost, weights=(2.0, 1.0, 1.0), inside=None):
    """Accumulated cost and one optimal path for the steps (1,1), (1,0), (0,1) with
    weights (diagonal, up, left) on the current cell; g(0, 0) = cost(0, 0)."""
    n, m = cost.shape
    inside = np.ones((n, m), bool) if inside is None else inside
    wd, wu, wl = weights
    g = np.full((n, m), np.inf)
    for i in range(n):
        for j in range(m):
            if not inside[i, j]:
                continue
            if i == 0 and j == 0:
                g[i, j] = cost[0, 0]
                continue
            c = cost[i, j]
            best = np.inf
            if i > 0 and j > 0:
                best = min(best, g[i - 1, j - 1] + wd * c)
            if i > 0:
                best = min(best, g[i - 1, j] + wu * c)
            if j > 0:
                best = min(best, g[i, j - 1] + wl * c)
            g[i, j] = best
    return g


def path_total(cost, path, weights=(2.0, 1.0, 1.0)):
    total = cost[path[0, 0], path[0, 1]]
    for (i0, j0), (i1, j1) in zip(path[:-1], path[1:], strict=True):
        step = (i1 - i0, j1 - j0)
        assert step in ((1, 1), (1, 0), (0, 1)), step
        w = {(1, 1): weights[0], (1, 0): weights[1], (0, 1): weights[2]}[step]
        total += w * cost[i1, j1]
    return total


def random_terms(n, m, seed, metrics=("cosine", "euclidean", "cosine", "sqeuclidean",
                                      "cityblock"), dims=(4, 3, 2, 1, 2), integer=False):
    rng = np.random.default_rng(seed)
    terms = []
    for k, (metric, d) in enumerate(zip(metrics, dims, strict=True)):
        if integer:
            x, y = rng.integers(-3, 4, (n, d)).astype(float), rng.integers(-3, 4, (m, d))
        else:
            x = np.cumsum(rng.normal(size=(n, d)), axis=0)
            y = np.cumsum(rng.normal(size=(m, d)), axis=0)
        terms.append(Term(f"t{k}", x, y.astype(float), metric))
    return terms


WEIGHTS = (1.0, 0.25, 0.5, 0.0, 0.75)


# ------------------------------------------------------------------ costs
@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (7, 1), (13, 17)])
def test_costs_equal_the_weighted_sum(shape):
    terms = random_terms(*shape, seed=sum(shape))
    src = FeatureTerms(terms, WEIGHTS)
    np.testing.assert_allclose(src.costs(0, shape[0], 0, shape[1]),
                               naive_costs(terms, WEIGHTS), rtol=1e-12, atol=1e-12)
    # cosine terms share one group of dimensions, zero weights cost nothing
    assert src.groups.shape[0] == 4 and src.groups[0, 1] == 6
    np.testing.assert_array_equal(src.group_weights, [1.5, 0.25, 0.0, 0.75])
    assert src.metric == "terms"
    # other weights, the same proportion of the cosine terms: the same kernel arrays
    other = src.reweighted((2.0, 1.0, 1.0, 1.0, 0.0))
    assert other.x is src.x and other._cache is src._cache
    np.testing.assert_allclose(other.costs(0, shape[0], 0, shape[1]),
                               naive_costs(terms, (2.0, 1.0, 1.0, 1.0, 0.0)), atol=1e-12)


def test_zero_rows_cost_one_under_cosine():
    x = np.zeros((3, 4))
    y = np.ones((2, 4))
    src = FeatureTerms([Term("z", x, y, "cosine")])
    np.testing.assert_array_equal(src.costs(0, 3, 0, 2), np.ones((3, 2)))


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (5, 1), (11, 14)])
@pytest.mark.parametrize("weights", [WEIGHTS, (0.0, 2.0, 0.0, 0.0, 0.0), (1, 1, 1, 1, 1)])
def test_kernel_costs_match_the_reference(shape, weights):
    """The kernels' diagonal costs (float32) against the weighted sum, every diagonal."""
    from core._kernels.dtw_tiles import _diagonal_terms

    n, m = shape
    terms = random_terms(n, m, seed=n * m + 1)
    src = FeatureTerms(terms, weights)
    xt, yr = _features(src, np.float32)
    ref = naive_costs(terms, weights)
    acc = np.empty(n + m, np.float32)
    tmp = np.empty(n + m, np.float32)
    for t in range(n + m - 1):
        a, b = max(0, t - m + 1), min(n - 1, t)
        count = b - a + 1
        _diagonal_terms(acc, tmp, xt, yr, np.uint64(a), np.uint64(m - 1 - t + a),
                        np.uint64(count), src.groups, src.group_weights)
        want = np.array([ref[i, t - i] for i in range(a, b + 1)])
        np.testing.assert_allclose(acc[:count], want, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("shape", [(1, 1), (1, 8), (6, 1), (12, 15)])
def test_band_cost_kernel_matches_the_reference(shape):
    from core.warping._staged import band_costs

    n, m = shape
    terms = random_terms(n, m, seed=n + 7 * m)
    src = FeatureTerms(terms, WEIGHTS)
    ref = naive_costs(terms, WEIGHTS)
    rng = np.random.default_rng(n)
    lo = rng.integers(0, m, n)
    hi = np.minimum(m, lo + rng.integers(1, m + 1, n))
    got = band_costs(src, lo, hi)
    for i in range(n):
        np.testing.assert_allclose(got[i, :hi[i] - lo[i]], ref[i, lo[i]:hi[i]], rtol=2e-6,
                                   atol=2e-6)
    sub = src.sub(1, 1, n - 1, m - 1) if min(n, m) > 1 else None
    if sub is not None:
        lo_s, hi_s = np.zeros(n - 1, np.int64), np.full(n - 1, m - 1, np.int64)
        np.testing.assert_allclose(band_costs(sub, lo_s, hi_s), ref[1:, 1:], rtol=2e-6,
                                   atol=2e-6)


def test_one_term_of_weight_one_is_the_plain_metric():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(40, 5)), rng.normal(size=(50, 5))
    for metric in METRIC_NAMES:
        a = dtw(x, y, metric=metric)
        b = dtw(source=FeatureTerms([Term("f", x, y, metric)]))
        np.testing.assert_array_equal(a.path, b.path)
        assert a.distance == b.distance
        assert b.params["metric"] == "terms" and b.params["terms"][0]["metric"] == metric


# ------------------------------------------------------------------ solvers
@pytest.fixture
def tiles_only(shrunk_tiles, monkeypatch):
    import core.warping._band as band
    monkeypatch.setattr(band, "BAND_MAX_WIDTH", -1)


def _check_optimal(al, cost, weights=(2.0, 1.0, 1.0), inside=None, rel=2e-5):
    n, m = cost.shape
    path = np.asarray(al.path)
    assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (n - 1, m - 1)
    best = naive_dtw(cost, weights, inside)[-1, -1]
    assert path_total(cost, path, weights) == pytest.approx(best, rel=rel, abs=1e-9)
    assert al.distance == pytest.approx(best, rel=rel, abs=1e-9)


@pytest.mark.parametrize("shape", [(1, 1), (1, 12), (10, 1), (23, 31), (40, 25)])
@pytest.mark.parametrize("pattern, weights", [("symmetric2", (2.0, 1.0, 1.0)),
                                              ("symmetric1", (1.0, 1.0, 1.0))])
def test_band_paths_are_optimal(shape, pattern, weights):
    terms = random_terms(*shape, seed=3)
    cost = naive_costs(terms, WEIGHTS)
    al = dtw(source=FeatureTerms(terms, WEIGHTS), step_pattern=pattern)
    if min(shape) > 1:
        assert al.diagnostics["method"] == "band"
    _check_optimal(al, cost, weights)


@pytest.mark.parametrize("shape", [(1, 40), (40, 1), (60, 75), (90, 33)])
def test_tile_paths_are_optimal(tiles_only, shape):
    terms = random_terms(*shape, seed=5)
    al = dtw(source=FeatureTerms(terms, WEIGHTS))
    if min(shape) > 1:
        assert al.diagnostics["method"] == "tiles"
    _check_optimal(al, naive_costs(terms, WEIGHTS))


def test_tile_paths_with_many_dimensions_are_optimal(tiles_only):
    # 64 dimensions: the tiles take their costs from numpy blocks
    terms = random_terms(50, 60, seed=6, metrics=("cosine", "euclidean"), dims=(40, 24))
    al = dtw(source=FeatureTerms(terms, (1.0, 0.3)))
    assert al.diagnostics["method"] == "tiles"
    _check_optimal(al, naive_costs(terms, (1.0, 0.3)))


@pytest.mark.parametrize("weights", [(1.0, 1.0), (2.0, 0.5)])
def test_exact_arithmetic_gives_the_reference_path(shrunk_tiles, monkeypatch, weights):
    """Small integers under squared euclidean and cityblock: float32 costs are exact, so
    the path is the reference's, tie-breaking included (diagonal, left, up)."""
    import core.warping._band as band

    terms = random_terms(30, 26, seed=8, metrics=("sqeuclidean", "cityblock"), dims=(2, 3),
                         integer=True)
    src = FeatureTerms(terms, weights)
    by_band = dtw(source=src, window=("sakoe_chiba", 29))
    monkeypatch.setattr(band, "BAND_MAX_WIDTH", -1)
    by_tiles = dtw(source=src)
    assert by_band.diagnostics["method"] == "band"
    assert by_tiles.diagnostics["method"] == "tiles"
    full = dtw(cost=naive_costs(terms, weights))
    np.testing.assert_array_equal(by_band.path, full.path)
    np.testing.assert_array_equal(by_tiles.path, full.path)
    assert by_band.distance == full.distance == by_tiles.distance


def test_generic_paths_are_optimal():
    terms = random_terms(25, 30, seed=9)
    src = FeatureTerms(terms, WEIGHTS)
    al = dtw(source=src, step_pattern="asymmetric")
    ref = dtw(cost=naive_costs(terms, WEIGHTS), step_pattern="asymmetric")
    assert al.diagnostics["method"] == "generic"
    assert al.distance == pytest.approx(ref.distance, rel=2e-5)
    mask = np.ones((25, 30), bool)
    mask[5, 10:20] = False
    masked = dtw(source=src, window=mask)
    assert masked.diagnostics["method"] == "generic"
    _check_optimal(masked, naive_costs(terms, WEIGHTS), inside=mask)


def test_pruned_paths_are_exact():
    t = np.linspace(0, 1, 700)
    rng = np.random.default_rng(1)
    terms = [Term("shape", np.c_[np.sin(30 * t), np.cos(17 * t), 1 + t],
                  np.c_[np.sin(30 * t ** 1.1), np.cos(17 * t ** 1.1), 1 + t ** 1.1]
                  + 0.01 * rng.normal(size=(700, 3)), "cosine"),
             Term("level", np.sin(9 * t)[:, None], np.sin(9 * t ** 1.1)[:, None], "euclidean")]
    src = FeatureTerms(terms, (1.0, 0.5))
    full = dtw(source=src)
    low = dtw(source=src, exact=True, memory_budget_bytes=30_000)
    assert low.diagnostics["method"] == "pruned"
    assert low.distance == pytest.approx(full.distance, rel=1e-9)
    np.testing.assert_array_equal(low.path, full.path)


def test_checkpoints_and_multiscale(tiles_only, monkeypatch):
    import core.warping._engine as engine
    import core.warping._long as long_

    terms = random_terms(120, 110, seed=11)
    src = FeatureTerms(terms, WEIGHTS)
    full = dtw(source=src)
    monkeypatch.setattr(engine, "_solve_pruned", lambda *a, **k: (None, 0))
    low = dtw(source=src, exact=True, memory_budget_bytes=1500)
    assert low.diagnostics["method"] == "checkpoint"
    assert low.distance == pytest.approx(full.distance, rel=1e-12)
    np.testing.assert_array_equal(low.path, full.path)
    monkeypatch.setattr(long_, "COARSEST_CELLS", 2000)
    approx = dtw(source=src, exact=False)
    assert approx.diagnostics["method"] == "multiscale" and approx.diagnostics["levels"] >= 2
    assert approx.distance >= full.distance * (1 - 1e-6)
    check = naive_costs(terms, WEIGHTS)
    assert path_total(check, np.asarray(approx.path)) == pytest.approx(approx.distance,
                                                                       rel=2e-5)


def test_pooled_reweighted_transposed():
    terms = random_terms(10, 7, seed=2)
    terms[1] = terms[1]._replace(pool="max")
    src = FeatureTerms(terms, WEIGHTS)
    half = src.pooled(3)
    assert (half.n, half.m) == (4, 3)
    np.testing.assert_allclose(half.terms[1].x[1], terms[1].x[3:6].max(axis=0))
    cos = terms[0].x / np.linalg.norm(terms[0].x, axis=1, keepdims=True)
    mean = cos[9:].mean(axis=0)
    np.testing.assert_allclose(half.terms[0].x[3], mean / np.linalg.norm(mean))
    other = src.reweighted((0, 1, 0, 0, 0))
    np.testing.assert_allclose(other.costs(0, 10, 0, 7), naive_costs(terms, (0, 1, 0, 0, 0)))
    assert other.fingerprint() == src.fingerprint()
    t = src.transposed()
    np.testing.assert_allclose(t.costs(0, 7, 0, 10), src.costs(0, 10, 0, 7).T)
    assert t.fingerprint() == {"a": src.fingerprint()["b"], "b": src.fingerprint()["a"]}
    sub = src.sub(2, 1, 5, 4)
    np.testing.assert_allclose(sub.pooled(1).costs(0, 5, 0, 4), src.costs(2, 7, 1, 5))


@pytest.mark.parametrize("terms, weights, match", [
    ([], None, "terms: expected a non-empty"),
    ([("a", np.ones((3, 2)), np.ones((4, 3)))], None, r"terms\[0\]: x and y have different"),
    ([("a", np.ones((3, 2)), np.ones((4, 2))), ("b", np.ones((2, 1)), np.ones((4, 1)))],
     None, r"terms\[1\]: 2 x 4 frames"),
    ([("a", np.ones((3, 2)), np.ones((4, 2)), "hamming")], None, r"terms\[0\].metric"),
    ([("a", np.ones((3, 2)), np.ones((4, 2)), "cosine", "median")], None, r"terms\[0\].pool"),
    ([("a", np.full((3, 2), np.nan), np.ones((4, 2)))], None, r"terms\[0\].x: contains NaN"),
    ([("a", np.ones((3, 2)), np.ones((4, 2)))], [0.0], "weights: expected finite"),
    ([("a", np.ones((3, 2)), np.ones((4, 2)))], [1.0, 2.0], "weights: expected 1 numbers"),
])
def test_bad_terms(terms, weights, match):
    with pytest.raises(ValueError, match=match):
        FeatureTerms(terms, weights)


def test_bad_source_arguments():
    src = FeatureTerms(random_terms(5, 6, seed=0))
    with pytest.raises(ValueError, match="source: give either"):
        dtw(np.ones((5, 1)), np.ones((6, 1)), source=src)
    with pytest.raises(ValueError, match="source: expected a core.warping.FeatureTerms"):
        dtw(source=np.ones((5, 6)))


def test_resolve_with_terms():
    terms = random_terms(80, 70, seed=12)
    src = FeatureTerms(terms, WEIGHTS)
    prev = dtw(source=src, anchors=[(30, 20), (60, 50)])
    got = resolve(prev, [(30, 20), (55, 52)], source=src)
    fresh = dtw(source=src, anchors=[(30, 20), (55, 52)])
    np.testing.assert_array_equal(got.path, fresh.path)
    assert got.diagnostics["n_segments_solved"] == 2
    with pytest.raises(ValueError, match="source: previous used the weights"):
        resolve(prev, [(30, 20)], source=src.reweighted((1, 1, 1, 1, 1)))
    with pytest.raises(ValueError, match="source: previous was computed from feature terms"):
        resolve(prev, [(30, 20)], terms[0].x, terms[0].y)
    with pytest.raises(ValueError, match="not the inputs"):
        resolve(prev, [(30, 20)], source=FeatureTerms(random_terms(80, 70, seed=13), WEIGHTS))


# ------------------------------------------------------------------ staged solving
def _recipe(n_terms=2, search_cells=10**9):
    w = [1.0, 0.25][:n_terms]
    return {"stages": [{"kind": "search", "factor": 2, "weights": w, "steps": "symmetric1",
                        "radius": 4, "max_factor": 8, "max_cells": search_cells},
                       {"kind": "around", "factor": 2, "weights": [1.0, 1.0][:n_terms],
                        "steps": "symmetric1", "radius": 3,
                        "widen": {"radius": 6, "tol": 0.05, "weights": [1.0, 0.0][:n_terms]}},
                       {"kind": "around", "factor": 1, "weights": w, "steps": "symmetric1",
                        "radius": 2}],
            "confidence": {"stage": 0, "steps": "symmetric2", "scale": 2.0, "smooth": 3}}


def _smooth_terms(n, m, seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    s = np.linspace(0, 1, m) ** 1.2
    shape = lambda u: np.c_[np.sin(12 * u) + 1.5, np.cos(7 * u) + 1.5, np.sin(3 * u) + 1.5]  # noqa: E731
    return [Term("shape", shape(t) + 0.05 * rng.normal(size=(n, 3)),
                 shape(s) + 0.05 * rng.normal(size=(m, 3)), "cosine"),
            Term("onset", np.abs(np.sin(20 * t))[:, None], np.abs(np.sin(20 * s))[:, None],
                 "euclidean", "max")]


def test_staged_search_of_the_whole_matrix_is_plain_dtw():
    """One search stage without pooling and without coarse levels: exactly dtw()."""
    terms = _smooth_terms(90, 80)
    src = FeatureTerms(terms, (1.0, 0.25))
    recipe = {"stages": [{"kind": "search", "factor": 1, "weights": [1.0, 0.25],
                          "steps": "symmetric1", "radius": 5, "max_factor": 8,
                          "max_cells": 10**9}]}
    al = staged_dtw(src, recipe)
    ref = dtw(source=src, step_pattern="symmetric1")
    np.testing.assert_array_equal(al.path, ref.path)
    assert al.distance == ref.distance
    assert al.diagnostics["segments"][0]["stages"][0]["kind"] == "search"
    assert al.confidence is None


def test_staged_with_anchors_resolves_like_a_fresh_run():
    terms = _smooth_terms(240, 200)
    src = FeatureTerms(terms, (1.0, 0.25))
    recipe = _recipe(search_cells=3000)  # coarse levels in the search
    al = staged_dtw(src, recipe, rate_a_hz=50.0, rate_b_hz=40.0)
    assert al.diagnostics["n_segments"] == 1 and al.confidence.shape == (len(al.path),)
    assert al.diagnostics["coarse_factor"] > 1 and "search_window" in al.diagnostics
    anchors = [(100, 90), (180, 150)]
    fresh = staged_dtw(src, recipe, anchors=anchors, rate_a_hz=50.0, rate_b_hz=40.0)
    for a in anchors:
        assert any((al_row == a).all() for al_row in np.asarray(fresh.path))
    got = resolve(al, anchors, source=src)
    np.testing.assert_array_equal(got.path, fresh.path)
    np.testing.assert_array_equal(got.confidence, fresh.confidence)
    assert got.distance == fresh.distance
    assert got.diagnostics["n_segments_solved"] == 3
    moved = [(100, 90), (170, 152)]
    again = resolve(got, moved, source=src)
    assert again.diagnostics["n_segments_solved"] == 2
    assert [s["reused"] for s in again.diagnostics["segments"]] == [True, False, False]
    ref = staged_dtw(src, recipe, anchors=moved, rate_a_hz=50.0, rate_b_hz=40.0)
    np.testing.assert_array_equal(again.path, ref.path)
    np.testing.assert_array_equal(again.confidence, ref.confidence)
    assert again.diagnostics.get("search_window") == ref.diagnostics.get("search_window")
    assert again.params == ref.params


def test_staged_part_and_band():
    terms = _smooth_terms(120, 100)
    src = FeatureTerms(terms, (1.0, 0.25))
    recipe = dict(_recipe(), part=[10, 110, 5, 95], window=["slanted_band", 12])
    al = staged_dtw(src, recipe)
    assert tuple(al.path[0]) == (10, 5) and tuple(al.path[-1]) == (110, 95)
    assert not al.diagnostics["aligned_part"]["whole_a"]
    centre = 5 + (al.path[:, 0] - 10) * 90 / 100
    assert np.all(np.abs(al.path[:, 1] - centre) <= 12 + 1)
    # an anchor before the part stretches it
    stretched = staged_dtw(src, dict(recipe, window=None), anchors=[(3, 8)])
    assert tuple(stretched.path[0]) == (3, 5)
    with pytest.raises(AlignmentError, match="outside the window"):
        staged_dtw(src, recipe, anchors=[(60, 5)])


def test_staged_resolve_of_a_transposed_result():
    terms = _smooth_terms(150, 130, seed=3)
    src = FeatureTerms(terms, (1.0, 0.25))
    recipe = _recipe(search_cells=600)  # coarse levels in every segment
    al = staged_dtw(src, recipe, anchors=[(70, 60)], rate_a_hz=50.0, rate_b_hz=40.0)
    t = al.transposed()
    assert t.params["transposed"] and t.params["anchors"] == [(60, 70)]
    got = resolve(t, [(60, 70), (100, 115)], source=src.transposed())
    fresh = staged_dtw(src, recipe, anchors=[(70, 60), (115, 100)], rate_a_hz=50.0,
                       rate_b_hz=40.0)
    np.testing.assert_array_equal(got.path, fresh.transposed().path)
    assert got.params["transposed"] and got.rate_a_hz == 40.0
    assert got.diagnostics["n_segments_solved"] == 2
    # the outline of where the searches looked, joined from the reused segment (seen
    # twice transposed) and the new ones, encloses the path and stays a corridor
    outline = got.diagnostics["search_window"]
    rows = np.asarray(outline["rows"])
    k = np.searchsorted(rows, got.path[:, 0], side="right") - 1
    assert np.all(np.asarray(outline["lo"])[k] <= got.path[:, 1])
    assert np.all(got.path[:, 1] < np.asarray(outline["hi"])[k])
    ref = fresh.transposed().diagnostics["search_window"]

    def area(o):
        return np.sum(np.diff(o["rows"]) * (np.asarray(o["hi"]) - np.asarray(o["lo"])))

    assert area(outline) < 1.5 * area(ref) < 0.5 * 130 * 150
    with pytest.raises(ValueError, match="not the inputs"):
        resolve(t, [(60, 70)], source=src)  # the inputs in the original order


def test_bad_recipes():
    src = FeatureTerms(_smooth_terms(30, 30), (1.0, 0.25))
    with pytest.raises(ValueError, match="recipe: expected a dict"):
        staged_dtw(src, {"stages": []})
    with pytest.raises(ValueError, match="first stage must be a search"):
        staged_dtw(src, {"stages": [dict(_recipe()["stages"][1])]})
    with pytest.raises(ValueError, match="needs 2 weights"):
        staged_dtw(src, {"stages": [dict(_recipe()["stages"][0], weights=[1.0])]})
    with pytest.raises(ValueError, match="part"):
        staged_dtw(src, dict(_recipe(), part=[0, 40, 0, 29]))


def test_staged_segments_report_progress_and_cancel():
    """Segments are solved on two threads; progress stays monotone and a cancel stops
    them."""
    from core.errors import Cancelled

    src = FeatureTerms(_smooth_terms(200, 180, seed=5), (1.0, 0.25))
    recipe = _recipe(search_cells=3000)
    seen = []
    al = staged_dtw(src, recipe, anchors=[(50, 40), (100, 95), (150, 130)],
                    progress=seen.append)
    assert al.diagnostics["n_segments_solved"] == 4
    assert seen[-1] == pytest.approx(1.0) and np.all(np.diff(seen) >= -1e-12)
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 1  # the first check passes, some later one stops the solve

    with pytest.raises(Cancelled):
        staged_dtw(src, recipe, anchors=[(50, 40), (100, 95), (150, 130)], cancel=cancel)


@pytest.mark.parametrize("seed", range(3))
def test_widen_kernel_matches_a_plain_reference(seed):
    from core._kernels.corridor import widen_ambiguous

    rng = np.random.default_rng(seed)
    n, m = 40, 60
    jmin = np.sort(rng.integers(0, m, n))
    jmax = np.minimum(m - 1, jmin + rng.integers(0, 3, n))
    wlo, whi = np.clip(jmin - 8, 0, m - 1), np.clip(jmax + 9, 1, m)
    cost = np.zeros((n, int((whi - wlo).max())))
    for i in range(n):
        cost[i, :whi[i] - wlo[i]] = rng.random(whi[i] - wlo[i]) * rng.choice([0.01, 1.0])
    lo0, hi0 = np.clip(jmin - 2, 0, m), np.clip(jmax + 3, 0, m)
    lo, hi = lo0.copy(), hi0.copy()
    widen_ambiguous(cost, wlo, whi, jmin, jmax, 0.02, lo, hi)
    for i in range(n):
        c = cost[i, :whi[i] - wlo[i]]
        bad = c > c[jmin[i] - wlo[i]] + 0.02
        left = [k for k in range(jmin[i] - wlo[i]) if bad[k]]
        right = [k for k in range(jmax[i] - wlo[i] + 1, len(c)) if bad[k]]
        assert lo[i] == min(lo0[i], wlo[i] + (left[-1] + 1 if left else 0))
        assert hi[i] == max(hi0[i], wlo[i] + (right[0] if right else len(c)))
