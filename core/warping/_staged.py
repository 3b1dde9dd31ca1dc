"""Staged solving of one segment: a coarse-to-fine search, then searches around its path.

A *recipe* (plain values, stored in a result's ``params["recipe"]`` so that
:func:`core.warping.resolve` can redo a segment) lists the stages; every stage solves
exactly, with the engine's band or tile kernels, in a window built from the previous
stage's path. The default pipelines (:mod:`core.pipeline`) plan these recipes.

Stage kinds (frames are those of the stage's own rate, ``factor`` times lower than the
source's):

``{"kind": "search", "factor", "weights", "steps", "radius", "max_factor", "max_cells"}``
    Coarse-to-fine search of the whole segment (its window): while a level has more than
    ``max_cells`` cells, pool by ``ceil(sqrt(cells / max_cells))`` (at most
    ``max_factor``), search that level (recursively, with a radius of ``max(2,
    ceil(radius / factor))`` there) and keep the columns within ``radius + factor`` of
    the coarse path in every row (:func:`~core.warping._long.corridor`, rows not
    dilated).
``{"kind": "around", "factor", "weights", "steps", "radius"[, "widen"]}``
    The previous stage's path brought to this stage's rate, and the columns within
    ``radius`` of it in every row; ``"widen": {"radius", "tol", "weights"[, "runs"]}``
    widens the corridor (up to ``widen.radius``) over the columns next to the path whose
    cost under ``widen.weights`` is within ``tol`` of the path's own cell (an ambiguous
    stretch, where the path may be off by more than ``radius``) and, with ``runs`` > 0,
    across the path's straight runs of more than ``runs`` steps (a run of ``L`` steps
    on one row or column: the path may be off by up to ``L`` there).

``weights`` are the terms' weights (:class:`~core.warping.FeatureTerms`), ``steps`` a
step pattern of the steps (1,1), (1,0), (0,1) (``"symmetric1"``, ``"symmetric2"``).
``recipe["confidence"] = {"stage", "steps", "scale", "smooth"[, "model"]}`` adds a confidence per
path step from the agreement of alternative paths in that stage's window
(:func:`agreement_confidence`).
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._kernels import lazy
from ..errors import AlignmentError
from ._long import coarse_to_fine, corridor, pool_window
from ._tiles import _block_features
from .steps import get_step_pattern

_tiles_k = lazy("dtw_tiles")  # numba: imported where a kernel first runs
_corridor_k = lazy("corridor")

STAGE_KINDS = ("search", "around")


def search_step(max_factor, max_cells):
    """The levels of a search stage (see the module docstring), as a ``step`` of
    :func:`~core.warping._long.coarse_to_fine`."""

    def step(n, m, cells, radius):
        factor = min(int(max_factor), int(math.ceil(math.sqrt(cells / float(max_cells)))))
        if factor <= 1:
            return None
        return factor, (0, radius + factor), max(2, int(math.ceil(radius / factor)))

    return step


def check_recipe(recipe, n_terms):
    """Validate a recipe's structure (from a saved result, say); returns it."""
    if not isinstance(recipe, dict) or not isinstance(recipe.get("stages"), list | tuple) \
            or not recipe["stages"]:
        raise ValueError("recipe: expected a dict with a non-empty list of stages")
    for k, st in enumerate(recipe["stages"]):
        if not isinstance(st, dict) or st.get("kind") not in STAGE_KINDS:
            raise ValueError(f"recipe: stage {k} must be a dict with kind in {STAGE_KINDS}")
        if k == 0 and st["kind"] != "search":
            raise ValueError("recipe: the first stage must be a search")
        if len(st.get("weights", ())) != n_terms:
            raise ValueError(f"recipe: stage {k} needs {n_terms} weights (one per term)")
        if get_step_pattern(st.get("steps", "symmetric1")).simple_weights is None:
            raise ValueError(f"recipe: stage {k}: steps must be (1,1), (1,0), (0,1)")
        if int(st["factor"]) < 1:
            raise ValueError(f"recipe: stage {k}: factor must be at least 1")
        if k > 0 and int(recipe["stages"][k - 1]["factor"]) % int(st["factor"]):
            raise ValueError(f"recipe: stage {k}: its factor must divide the previous one")
    return recipe


def band_costs(source, lo, hi):
    """Costs of the cells ``lo[i] <= j < hi[i]`` of every row of a (sub)problem, as an
    (n, width) array (row ``i`` in ``[:hi[i] - lo[i]]``), computed by the kernels."""
    x32, _, yt32, _, _ = _block_features(source)
    n = lo.shape[0]
    width = max(1, int(np.max(hi - lo))) if n else 1
    out = np.zeros((n, width))
    acc = np.empty(width, dtype=np.float32)
    _tiles_k.band_costs(x32[source.i_off:source.i_off + n], yt32, lo + source.j_off,
                hi + source.j_off, source.groups, source.group_weights, acc, out)
    return out


def _path_columns(path, n):
    """Smallest and largest column of the path in every row, shape (n,) each."""
    jmin = np.full(n, np.iinfo(np.int64).max)
    jmax = np.full(n, -1)
    np.minimum.at(jmin, path[:, 0], path[:, 1])
    np.maximum.at(jmax, path[:, 0], path[:, 1])
    return jmin, jmax


def widened_corridor(path, source_w, n, m, *, radius, max_radius, tol, runs=0):
    """Columns within ``radius`` of the path in every row, widened (up to
    ``max_radius``) over the columns next to the path whose cost under ``source_w`` is
    within ``tol`` of the path's own cell: a chord struck again and again, where the
    spectral shape cannot tell the strokes apart and the path may be off by more than
    the radius. With ``runs`` > 0, also around the path's straight runs of more than
    ``max(runs, radius)`` steps (:func:`_widen_runs`). Monotone and connected."""
    jmin, jmax = _path_columns(path, n)
    lo = np.clip(jmin - radius, 0, m - 1).astype(np.int64)
    hi = np.clip(jmax + 1 + radius, 1, m).astype(np.int64)
    if source_w is not None and max_radius > radius:
        wlo = np.clip(jmin - max_radius, 0, m - 1)
        whi = np.clip(jmax + 1 + max_radius, 1, m)
        _corridor_k.widen_ambiguous(band_costs(source_w, wlo, whi), wlo, whi, jmin, jmax,
                                    float(tol), lo, hi)
    if runs > 0 and max_radius > radius:
        _widen_runs(jmin, jmax, lo, hi, m, max(int(runs), radius), max_radius)
    return _connected(lo, hi, m)


def _widen_runs(jmin, jmax, lo, hi, m, min_run, max_radius):
    """Widen ``lo``/``hi`` (in place) around the path's straight runs longer than
    ``min_run`` steps: a run of ``L`` steps on one column (A moves on, B stands) or one row
    means the costs could not place the match along it (a held sound on one side
    against a decaying one, a chord struck twice), so the right cells may lie up to
    ``L`` away across it. On one column ``j`` over rows ``i1..i2``, those rows get the
    columns ``j - L .. j + L``; on one row ``i`` over columns ``j1..j2``, the ``L`` rows
    before it reach up to ``j2`` and the ``L`` rows after it down to ``j1`` (``L``
    capped at ``max_radius``). Treats A and B alike: the same widening as the transposed
    problem's."""
    n = jmin.shape[0]
    # horizontal steps: row r starts on the column row r - 1 ended on
    flat = np.zeros(n, dtype=bool)
    flat[1:] = jmin[1:] == jmax[:-1]
    r = 1
    while r < n:
        if not flat[r]:
            r += 1
            continue
        start = r - 1
        while r < n and flat[r] and jmin[r] == jmax[r]:
            r += 1
        end = r if r < n and flat[r] else r - 1  # (the last row may leave upwards)
        length = end - start
        if length > min_run:
            reach = min(length, max_radius)
            j = int(jmax[start])
            lo[start:end + 1] = np.minimum(lo[start:end + 1], max(0, j - reach))
            hi[start:end + 1] = np.maximum(hi[start:end + 1], min(m, j + 1 + reach))
        r = end + 1
    for i in np.flatnonzero(jmax - jmin > min_run):
        reach = min(int(jmax[i] - jmin[i]), max_radius)
        before = slice(max(0, i - reach), i)
        after = slice(i + 1, min(n, i + 1 + reach))
        hi[before] = np.maximum(hi[before], jmax[i] + 1)
        lo[after] = np.minimum(lo[after], jmin[i])


def _connected(lo, hi, m):
    """Monotone, connected row intervals from the start cell to the end cell."""
    lo = np.maximum.accumulate(lo)
    hi = np.minimum.accumulate(hi[::-1])[::-1]
    hi = np.maximum(hi, lo + 1)
    lo[0] = 0
    hi[-1] = m
    lo[1:] = np.minimum(lo[1:], hi[:-1])
    return lo.astype(np.int64), hi.astype(np.int64)


def _mean_column(path, n):
    """Mean column of the path in every row, shape (n,)."""
    total = np.bincount(path[:, 0], weights=path[:, 1], minlength=n)
    count = np.bincount(path[:, 0], minlength=n)
    return total / np.maximum(count, 1)


def agreement_confidence(path, source, weights, lo, hi, *, steps, scale, smooth, solve,
                         monitor):
    """Confidence of every row in [0, 1] from the agreement of alternative paths.

    The path is searched again in the same window with other choices that are about as
    good a priori: the steps ``steps`` (symmetric2 against symmetric1), and each term
    alone when several have a positive weight. Where the cost valley is sharp they all
    agree; where it is flat or ambiguous (sustained notes, pauses, repeated material,
    unrelated content) they drift apart. ``confidence = exp(-(d / scale) ** 2)`` with
    ``d`` the mean distance in frames between the alternatives and the path, smoothed
    over ``smooth`` rows (an isolated agreeing row inside a drifting stretch is luck).
    """
    from scipy.ndimage import uniform_filter1d

    n = lo.shape[0]
    ref = _mean_column(path, n)
    used = [k for k, w in enumerate(weights) if w > 0]
    runs = [(weights, steps)]
    if len(used) > 1:
        runs += [([w if i == k else 0.0 for i, w in enumerate(weights)], "symmetric1")
                 for k in used]
    alternatives = [solve(source.reweighted(w), s, lo, hi,
                          monitor.sub(r / len(runs), (r + 1) / len(runs)))[0]
                    for r, (w, s) in enumerate(runs)]
    dist = np.zeros(n)
    for alt in alternatives:
        dist += np.abs(_mean_column(alt, n) - ref)
    dist /= len(alternatives)
    dist = uniform_filter1d(dist, max(1, int(smooth)), mode="nearest")
    return np.exp(-(dist / float(scale)) ** 2)


def _needs_agreement(model):
    """Whether a recipe's calibrated model reads the agreement confidence
    (:func:`core.pipeline.confidence.needs_agreement`; imported only for a recipe that
    carries a model)."""
    from ..pipeline.confidence import needs_agreement

    return needs_agreement(model)


def stage_shift(first, path, factor):
    """Per step of ``path`` (at ``factor``), how far (frames at ``factor``) the first
    stage's path ran from it: where the later stages (other weights, a finer rate) moved
    the path, the first search saw something else (a repeated chord the local onsets
    tell apart). ``first`` is (path, its factor)."""
    first_path, first_factor = first
    ratio = max(1, int(first_factor) // int(factor))
    rows = path[:, 0]
    n = int(rows.max()) + 1
    final = _mean_column(path, n)[rows]
    coarse = _mean_column(first_path, int(first_path[:, 0].max()) + 1)
    at_first = coarse[np.minimum(rows // ratio, coarse.shape[0] - 1)] * ratio + (ratio - 1) / 2
    return np.abs(final - at_first)


def solve_segment(source, recipe, lo, hi, *, solve, monitor):
    """Run a recipe's stages on one segment.

    Parameters
    ----------
    source : FeatureTerms
        The segment as a (sub)problem at the source's rate.
    recipe : dict
        See the module docstring.
    lo, hi : ndarray (n,)
        The segment's window at the source's rate.
    solve : callable
        ``solve(source, steps, lo, hi, monitor) -> (path, distance, info)``: an exact
        solve of a whole (sub)problem in a window, closed ends.
    monitor : Monitor

    Returns
    -------
    path, distance, info, confidence, searched
        The path (local cells), the last stage's accumulated cost, diagnostics, a
        confidence per path step (or None), and the search stage's window brought to the
        source's rate (``(lo, hi)``, or None when it was the whole window).
    """
    n, m = source.n, source.m
    stages = recipe["stages"]
    info = {"stages": []}
    pooled = {}

    def at(factor):
        # the segment itself at the source's rate (sharing the whole problem's kernel
        # arrays), pooled copies of it at lower rates
        if factor not in pooled:
            pooled[factor] = source if factor == 1 else source.pooled(factor)
        return pooled[factor]

    conf = recipe.get("confidence")
    model = conf.get("model") if conf else None
    # a calibrated model applies to a segment of three rows or more (below); one that
    # measures no drift of alternative paths does without their solves
    modelled = bool(model) and n - 1 >= 2 and int(conf["stage"]) in range(len(stages))
    agreement = bool(conf) and not (modelled and not _needs_agreement(model))
    path = None
    prev_factor = None
    conf_rows = None
    first = None
    searched = None
    cells = 0
    memory = 0
    n_stages = len(stages)
    for k, st in enumerate(stages):
        mon = monitor.sub(k / n_stages, (k + 1) / n_stages)
        t_stage = time.perf_counter()
        factor = int(st["factor"])
        src = at(factor).reweighted(st["weights"])
        n_k, m_k = src.n, src.m
        lo_w, hi_w = (lo, hi) if factor == 1 else pool_window(lo, hi, factor)
        hi_w = np.minimum(hi_w, m_k)
        stage_info = {"kind": st["kind"], "factor": factor}
        if st["kind"] == "search":
            lo_k, hi_k, factors = coarse_to_fine(
                src, get_step_pattern(st.get("steps", "symmetric1")).simple_weights, lo_w,
                hi_w, open_begin=False, open_end=False, monitor=mon.sub(0.0, 0.5),
                step=search_step(st["max_factor"], st["max_cells"]), radius=int(st["radius"]))
            stage_info["coarse_factors"] = [int(f) for f in factors]
            if factors or np.any(lo_w > 0) or np.any(hi_w < m_k):
                r = np.arange(n) // factor
                searched = (lo_k[r] * factor, np.minimum(hi_k[r] * factor, m))
        else:
            ratio = prev_factor // factor
            if ratio == 1:
                widen = st.get("widen")
                if widen:
                    src_w = at(factor).reweighted(widen["weights"])
                    lo_k, hi_k = widened_corridor(path, src_w, n_k, m_k, radius=int(st["radius"]),
                                                  max_radius=int(widen["radius"]),
                                                  tol=float(widen["tol"]),
                                                  runs=int(widen.get("runs", 0)))
                else:
                    lo_k, hi_k = widened_corridor(path, None, n_k, m_k,
                                                  radius=int(st["radius"]), max_radius=0,
                                                  tol=0.0)
            else:
                lo_k, hi_k = corridor(path, ratio, n_k, m_k, radius_rows=0,
                                      radius_cols=int(st["radius"]))
            lo_k = np.maximum(lo_k, lo_w)
            hi_k = np.maximum(np.minimum(hi_k, hi_w), lo_k)
        if np.any(hi_k <= lo_k):
            raise AlignmentError("window: no warping path: a row admits no column")
        with_conf = agreement and int(conf["stage"]) == k
        path, distance, sinfo = solve(src, st.get("steps", "symmetric1"), lo_k, hi_k,
                                      mon.sub(0.5, 0.6) if with_conf else mon.sub(0.5, 1.0))
        stage_info.update(method=sinfo["method"], cells=int(sinfo["cells"]))
        cells += int(sinfo["cells"])
        memory = max(memory, int(sinfo["memory_bytes"]))
        info["stages"].append(stage_info)
        if with_conf:
            t_conf = time.perf_counter()
            conf_rows = (agreement_confidence(
                path, at(factor), st["weights"], lo_k, hi_k, steps=conf["steps"],
                scale=conf["scale"], smooth=conf["smooth"], solve=solve,
                monitor=mon.sub(0.6, 1.0)), factor)
            stage_info["confidence_s"] = round(time.perf_counter() - t_conf, 4)
        stage_info["elapsed_s"] = round(time.perf_counter() - t_stage, 4)
        if k == 0:
            first = (path, factor)
        prev_factor = factor
        mon.report(1.0)
    info.update(cells=cells, exact=False, method="staged", memory_bytes=memory)
    confidence = None
    if conf_rows is not None:
        rows, factor = conf_rows
        confidence = rows[np.minimum(path[:, 0] // factor, rows.shape[0] - 1)]
    if modelled:
        # (a segment of one or two rows of A, e.g. the diagonal step through an
        # anchor, keeps the raw confidence: the model's slopes need three rows; a path
        # with closed ends spans the segment's n rows)
        # a calibrated model of the expected error (the default pipeline's, see
        # core.pipeline.confidence; imported here only when a recipe carries one)
        from ..pipeline.confidence import apply_model

        confidence = apply_model(at(int(model["refine"])), path, confidence, model,
                                 stage_shift=stage_shift(first, path, prev_factor))
    return path, float(distance), info, confidence, searched
