"""Dynamic time warping, the one engine: step patterns, windows, open ends, anchors, long
inputs, staged solving and re-solving.

``dtw(x, y)`` aligns two feature sequences (or ``dtw(cost=C)`` a precomputed local-cost
matrix, or ``dtw(source=FeatureTerms(...))`` a weighted sum of feature terms) and returns
an :class:`~core.alignment.Alignment`. Step patterns, their weights and their
normalization follow dtw-python (Giorgino 2009), so ``distance`` and
``normalized_distance`` are the same as there on the same cost matrix.
:func:`staged_dtw` solves a recipe of stages segment by segment (the default pipelines,
:mod:`core.pipeline`, plan it), and :func:`resolve` re-solves only the segments an anchor
change touched, for either kind of result.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._progress import Monitor
from ..alignment import Alignment, aligned_part
from ..cost import check_cost, check_features, check_metric, check_pair
from ..errors import AlignmentError
from ._engine import DEFAULT_MEMORY_BUDGET, estimate, solve
from ._source import CostSource, FeatureTerms, Term
from ._staged import check_recipe
from .steps import PATTERN_NAMES, StepPattern, get_step_pattern, rabiner_juang
from .windows import window_intervals

__all__ = ["dtw", "staged_dtw", "resolve", "estimate", "normalized_distance", "warm_up",
           "FeatureTerms", "Term", "StepPattern", "rabiner_juang", "PATTERN_NAMES",
           "DEFAULT_MEMORY_BUDGET"]


def _check_anchors(anchors, n, m):
    if anchors is None:
        return np.zeros((0, 2), dtype=np.int64)
    a = np.asarray(anchors)
    if a.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"anchors: expected (K, 2) rows (i, j), got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        if not (np.all(np.isfinite(a)) and np.all(a == np.round(a))):
            raise ValueError("anchors: expected integer frame indices")
    a = a.astype(np.int64)
    if np.any(a[:, 0] < 0) or np.any(a[:, 0] >= n) or np.any(a[:, 1] < 0) \
            or np.any(a[:, 1] >= m):
        raise ValueError(f"anchors: every (i, j) must lie in [0, {n}) x [0, {m})")
    a = np.unique(a, axis=0)  # sorted by i, then j
    if np.any(np.diff(a[:, 1]) < 0):
        raise AlignmentError("anchors: not monotone (a later anchor in x has an earlier "
                             "frame in y), no path passes through all of them")
    return a


def dtw(x=None, y=None, *, cost=None, source=None, metric="euclidean",
        step_pattern="symmetric2", window=None, open_begin=False, open_end=False, anchors=None,
        exact=None, memory_budget_bytes=DEFAULT_MEMORY_BUDGET, rate_a_hz=1.0, rate_b_hz=1.0,
        progress=None, cancel=None):
    """Align two sequences with dynamic time warping.

    Parameters
    ----------
    x : ndarray, shape (N, D) or (N,)
        Features of recording A (rows are frames).
    y : ndarray, shape (M, D) or (M,)
        Features of recording B, same D.
    cost : ndarray, shape (N, M), optional
        A precomputed local-cost matrix instead of ``x`` and ``y`` (``metric`` is then
        ignored).
    source : FeatureTerms, optional
        Instead of ``x`` and ``y``: local costs as a weighted sum of feature terms, each
        with its metric (computed in the kernels, never as a matrix; ``metric`` is then
        ignored and ``params["metric"]`` is ``"terms"``).
    metric : {"euclidean", "sqeuclidean", "cosine", "cityblock"}
        Local distance between frames.
    step_pattern : str or StepPattern
        A dtw-python name (``symmetric2``, ``symmetric1``, ``asymmetric``,
        ``symmetricP05``, ``asymmetricP1``, ``typeIIIc``, ``mori2006``, ...), a
        :class:`StepPattern` (custom steps and weights) or a dtw-python StepPattern.
    window : None, tuple or ndarray of bool
        ``("sakoe_chiba", r)``: ``|i - j| <= r``; ``("slanted_band", r)``:
        ``|j - i (M-1)/(N-1)| <= r``; ``("itakura",)``; ``("rows", starts, stops)``:
        row ``i`` admits ``starts[i] <= j < stops[i]``; or a boolean (N, M) mask. Only
        cells inside the window are visited and stored.
    open_begin, open_end : bool
        Let the path start anywhere in the first row (needs a pattern normalized by
        ``N``, as in dtw-python) or end anywhere in the last row (at the column with the
        least normalized distance). Both: subsequence search of ``x`` inside ``y``.
    anchors : array_like of int, shape (K, 2), optional
        Cells ``(i, j)`` the path must pass through. The segments between anchors are
        solved independently (re-solving one costs only that segment).
    exact : bool or None
        ``None`` (default): exact while the packed backpointers fit in
        ``memory_budget_bytes``, else multiscale (coarse path, exact DP in a corridor
        around it; ``diagnostics["exact"]`` is then False). ``True``: always the exact
        optimum, with a linear-memory checkpointing method past the budget. ``False``:
        multiscale whenever the input is large enough for it to pay.
    memory_budget_bytes : int
        Memory the exact method may use for its backpointers (see :func:`estimate`).
    rate_a_hz, rate_b_hz : float
        Frame rates of x and y (for the times of the result).
    progress, cancel : callable, optional
        ``progress(fraction)`` and ``cancel() -> bool``, called between tiles from the
        calling thread.

    Returns
    -------
    Alignment
        ``path`` (L, 2), ``distance`` (the accumulated weighted cost, as dtw-python's
        ``distance``), ``normalized_distance`` (NaN for patterns without normalization),
        ``diagnostics`` with ``exact``, ``method``, ``cells``, ``memory_bytes``,
        ``elapsed_s``.

    Raises
    ------
    ValueError
        Bad input (NaN or infinite values, empty input, mismatched dimensions, unknown
        metric, pattern or window, a cost matrix that is not 2-D).
    AlignmentError
        When the window, the step pattern or the anchors admit no path.
    Cancelled
        When ``cancel()`` returned True.

    Notes
    -----
    The recursion is dtw-python's: ``g(0, 0) = d(0, 0)`` and ``g(i, j)`` is the minimum
    over the steps of ``g(start) + sum(weight * d(cell))``.

    Methods (``diagnostics["method"]``): ``"band"`` (anti-diagonal sweep of a monotone
    window, only window cells visited) and ``"tiles"`` (tiles swept on two threads) for
    the steps (1,1), (1,0), (0,1) with any weights (symmetric1, symmetric2,
    asymmetricP0, ...): O(W) time and 2 bits per window cell (W the window's area) plus
    O(N + M); ``"generic"`` (any step pattern or a non-contiguous mask, row by row, 2-4
    bits per cell); ``"pruned"`` (exact: the cost of a multiscale path bounds the optimum
    and cells whose accumulated cost exceeds it are skipped, as in PrunedDTW; tried first
    for windows of more than 4M cells, abandoned for a full sweep when more than a
    quarter of the window must be computed, after a downsampled probe predicted it would
    pay); ``"checkpoint"`` (exact in O(sqrt-ish) memory: one sweep that keeps the codes
    of the tiles around a multiscale guide path, plus a re-sweep of groups of rows only
    where the optimal path leaves them; about 1.05 W time with features, 1.5 W for a
    precomputed ``cost``; ``diagnostics["resweeps"]`` counts the groups swept again);
    ``"multiscale"`` (approximate, O(N + M) time and memory for a corridor of fixed
    width). Local costs of multi-dimensional features are computed in float32 (relative
    error ~1e-7); a precomputed ``cost`` is used in float64 as given.

    References
    ----------
    Silva, D. F. & Batista, G. E. (2016). Speeding up all-pairwise dynamic time warping
    matrix calculation. SIAM SDM (PrunedDTW).
    Sakoe, H. & Chiba, S. (1978). Dynamic programming algorithm optimization for spoken
    word recognition. IEEE Trans. ASSP 26(1), 43-49.
    Giorgino, T. (2009). Computing and visualizing dynamic time warping alignments in R:
    the dtw package. J. Stat. Softw. 31(7).
    Müller, M., Mattes, H. & Kurth, F. (2006). An efficient multiscale approach to
    audio synchronization. ISMIR.
    """
    t0 = time.perf_counter()
    monitor = Monitor(progress, cancel)
    source, metric_name = _check_source(x, y, cost, metric, source)
    pattern = get_step_pattern(step_pattern)
    if exact not in (None, True, False):
        raise ValueError(f"exact: expected None, True or False, got {exact!r}")
    budget = _check_budget(memory_budget_bytes)
    _check_rates(rate_a_hz, rate_b_hz)
    open_begin, open_end = bool(open_begin), bool(open_end)
    if open_begin and pattern.norm != "N":
        raise ValueError("open_begin: needs a step pattern normalized by N (e.g. "
                         f"'asymmetric'), {pattern.name!r} has norm {pattern.norm!r}")
    if open_end and pattern.norm == "NA":
        raise ValueError(f"open_end: needs a normalizable step pattern, {pattern.name!r} "
                         "has none")
    return _run(source, metric_name, pattern, window, anchors, open_begin=open_begin,
                open_end=open_end, exact=exact, budget=budget, rate_a_hz=rate_a_hz,
                rate_b_hz=rate_b_hz, monitor=monitor, t0=t0, reuse=None)


def _check_budget(memory_budget_bytes):
    try:
        budget = int(memory_budget_bytes)
    except (TypeError, ValueError):
        raise ValueError("memory_budget_bytes: expected a positive integer") from None
    if budget <= 0:
        raise ValueError(f"memory_budget_bytes: expected a positive integer, got {budget}")
    return budget


def _check_rates(rate_a_hz, rate_b_hz):
    for name, rate in (("rate_a_hz", rate_a_hz), ("rate_b_hz", rate_b_hz)):
        if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
            raise ValueError(f"{name}: expected a positive finite rate, got {rate!r}")


def _check_source(x, y, cost, metric, source=None):
    if source is not None:
        if x is not None or y is not None or cost is not None:
            raise ValueError("source: give either source, or x and y, or cost")
        if not isinstance(source, FeatureTerms) or not source.is_root:
            raise ValueError("source: expected a core.warping.FeatureTerms, got "
                             f"{type(source).__name__}")
        return source, "terms"
    if cost is not None:
        if x is not None or y is not None:
            raise ValueError("cost: give either cost or x and y, not both")
        return CostSource(cost=check_cost(cost)), "precomputed"
    x, y = check_pair(x, y)
    metric_name = check_metric(metric)
    return CostSource(x=x, y=y, metric=metric_name), metric_name


def _window_inside(lo, hi, mask, anchors):
    for i, j in anchors:
        if not (lo[i] <= j < hi[i]) or (mask is not None and not mask[i, j]):
            raise AlignmentError(f"anchors: ({i}, {j}) lies outside the window")


def _normalized(pattern, distance, n, j_end):
    """The distance normalized as the step pattern says (nan for a pattern without)."""
    if pattern.norm == "N+M":
        return distance / (n + j_end + 1)
    if pattern.norm == "N":
        return distance / n
    if pattern.norm == "M":
        return distance / (j_end + 1)
    return math.nan


def normalized_distance(cost, step_pattern="symmetric2"):
    """``dtw(cost=cost, step_pattern=step_pattern).normalized_distance`` without the
    result: the same solve, but no path checks and no fingerprint of the matrix (two
    thirds of the time of a 150 x 150 solve). For callers that score many small cost
    matrices (the key check of :mod:`core.pipeline.key`)."""
    source = CostSource(cost=check_cost(cost))
    pattern = get_step_pattern(step_pattern)
    n, m = source.n, source.m
    lo, hi, mask = window_intervals(None, n, m)
    _, distance, j_end, _ = solve(source, pattern, lo, hi, mask, _check_anchors(None, n, m),
                                  open_begin=False, open_end=False, exact=None,
                                  budget=DEFAULT_MEMORY_BUDGET, monitor=Monitor(None, None),
                                  reuse=None)
    return float(_normalized(pattern, distance, n, j_end))


def _run(source, metric_name, pattern, window, anchors, *, open_begin, open_end, exact,
         budget, rate_a_hz, rate_b_hz, monitor, t0, reuse):
    n, m = source.n, source.m
    lo, hi, mask = window_intervals(window, n, m)
    anchors = _check_anchors(anchors, n, m)
    _window_inside(lo, hi, mask, anchors)

    path, distance, j_end, info = solve(
        source, pattern, lo, hi, mask, anchors, open_begin=open_begin, open_end=open_end,
        exact=exact, budget=budget, monitor=monitor, reuse=reuse)

    normalized = _normalized(pattern, distance, n, j_end)
    params = {"metric": metric_name, "step_pattern": pattern.name,
              "window": _describe_window(window), "open_begin": open_begin,
              "open_end": open_end, "anchors": [tuple(map(int, a)) for a in anchors],
              "exact": exact, "memory_budget_bytes": budget}
    if metric_name == "terms":
        params["terms"] = source.describe()
        params["weights"] = list(source.weights)
    diagnostics = dict(info)
    diagnostics["input_fingerprint"] = source.fingerprint()
    diagnostics["elapsed_s"] = time.perf_counter() - t0
    return Alignment(path, float(rate_a_hz), float(rate_b_hz), n_a=n, n_b=m, method="dtw",
                     params=params, distance=float(distance),
                     normalized_distance=float(normalized), diagnostics=diagnostics)


# diagnostics a staged solve writes (the rest of a result's diagnostics is its caller's,
# and a re-solve keeps it)
_STAGED_KEYS = ("exact", "method", "cells", "memory_bytes", "n_segments", "n_segments_solved",
                "cells_solved", "segments", "search_window", "input_fingerprint", "elapsed_s",
                "aligned_part", "coarse_factor")


def _part_window(window, part, n, m):
    """Row intervals of the whole problem: ``window`` (a tuple of :func:`window_intervals`
    or None) laid over the rectangle ``part`` = (i0, i1, j0, j1)."""
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, m, dtype=np.int64)
    if window is not None:
        i0, i1, j0, j1 = part
        lo_p, hi_p, mask = window_intervals(tuple(window), i1 - i0 + 1, j1 - j0 + 1)
        if mask is not None:
            raise ValueError("recipe: a staged solve takes a band, not a mask")
        lo[i0:i1 + 1] = lo_p + j0
        hi[i0:i1 + 1] = np.maximum(hi_p, lo_p + 1) + j0
        # consecutive rows must overlap (a path moves at most one row per step)
        lo[i0 + 1:i1 + 1] = np.minimum(lo[i0 + 1:i1 + 1], hi[i0:i1])
    return lo, hi


def staged_dtw(source, recipe, *, anchors=None, rate_a_hz=1.0, rate_b_hz=1.0,
               memory_budget_bytes=DEFAULT_MEMORY_BUDGET, params=None, diagnostics=None,
               sources=None, progress=None, cancel=None, _reuse=None, _t0=None):
    """DTW in stages, segment by segment: the engine's side of the default pipelines.

    The path runs from the first to the last cell of ``recipe["part"]`` (the shared
    part of the two recordings; stretched to take in every anchor) and passes through
    every anchor. Each segment between anchors is solved on its own by the recipe's
    stages (:mod:`core.warping._staged`: a coarse-to-fine search, then searches around
    its path, possibly at other rates and with other weights of the terms), so adding
    or moving an anchor changes only the segments next to it, and :func:`resolve` redoes
    only those.

    Parameters
    ----------
    source : FeatureTerms
        The terms at the result's frame rates.
    recipe : dict
        ``stages`` and ``confidence`` (see :mod:`core.warping._staged`), ``part``
        ``[i0, i1, j0, j1]`` (inclusive frames; default everything) and ``window``
        (``None`` or ``["slanted_band", r]`` in frames over the part). Plain values:
        recorded in ``params["recipe"]``.
    anchors : array_like of int, shape (K, 2), optional
        Cells the path passes through.
    rate_a_hz, rate_b_hz : float
        Frame rates of the source.
    memory_budget_bytes : int
        As in :func:`dtw` (per stage).
    params, diagnostics, sources : mapping, optional
        The caller's entries of the result (its own parameters, what it found out, what
        it knows of the inputs); the engine's entries win.
    progress, cancel : callable, optional

    Returns
    -------
    Alignment
        ``confidence`` per step (when the recipe asks for it), ``diagnostics`` with
        ``segments`` (each with its stages), ``aligned_part``, ``search_window`` (where
        the search stages looked, when it was not everything) and the input fingerprint.

    Raises
    ------
    ValueError
        Bad recipe, anchors or source.
    AlignmentError
        When a window admits no path.
    Cancelled
    """
    t0 = time.perf_counter() if _t0 is None else _t0
    monitor = Monitor(progress, cancel)
    if not isinstance(source, FeatureTerms) or not source.is_root:
        raise ValueError("source: expected a core.warping.FeatureTerms")
    recipe = check_recipe(recipe, len(source.terms))
    budget = _check_budget(memory_budget_bytes)
    _check_rates(rate_a_hz, rate_b_hz)
    n, m = source.n, source.m
    part = recipe.get("part") or [0, n - 1, 0, m - 1]
    i0, i1, j0, j1 = (int(v) for v in part)
    if not (0 <= i0 <= i1 < n and 0 <= j0 <= j1 < m):
        raise ValueError(f"recipe: part {part} does not fit {n} x {m} frames")
    anchors = _check_anchors(anchors, n, m)
    if anchors.shape[0]:  # the aligned part takes in every anchor
        i0, j0 = min(i0, int(anchors[0, 0])), min(j0, int(anchors[0, 1]))
        i1, j1 = max(i1, int(anchors[-1, 0])), max(j1, int(anchors[-1, 1]))
    lo, hi = _part_window(recipe.get("window"), (i0, i1, j0, j1), n, m)
    _window_inside(lo, hi, None, anchors)
    pattern = get_step_pattern(recipe["stages"][-1].get("steps", "symmetric1"))
    path, distance, _, info = solve(
        source, pattern, lo, hi, None, anchors, open_begin=False, open_end=False,
        exact=False, budget=budget, monitor=monitor, reuse=_reuse, recipe=recipe,
        start=(i0, j0), end=(i1, j1))
    confidence = info.pop("confidence", None)
    records = info["segments"]
    info["coarse_factor"] = max(
        [max(st.get("coarse_factors") or [1]) for r in records for st in r.get("stages", ())
         if st["kind"] == "search"] or [1])
    rates = (float(rate_a_hz), float(rate_b_hz))
    info["aligned_part"] = aligned_part((path[0, 0], path[-1, 0]), (path[0, 1], path[-1, 1]),
                                        n, m, *rates)
    out_params = dict(params or {})
    out_params.update({
        "metric": "terms", "terms": source.describe(), "step_pattern": pattern.name,
        "recipe": dict(recipe, part=[int(v) for v in part]),
        "anchors": [tuple(map(int, a)) for a in anchors],
        "anchors_s": [[float(i / rates[0]), float(j / rates[1])] for i, j in anchors],
        "memory_budget_bytes": budget})
    out_diag = {k: v for k, v in dict(diagnostics or {}).items() if k not in _STAGED_KEYS}
    out_diag.update(info)
    out_diag["input_fingerprint"] = source.fingerprint()
    out_diag["elapsed_s"] = round(time.perf_counter() - t0, 3)
    monitor.report(1.0)
    return Alignment(path, rates[0], rates[1], n_a=n, n_b=m, method="dtw", params=out_params,
                     distance=float(distance), normalized_distance=float(distance) / (n + m),
                     confidence=confidence, diagnostics=out_diag, sources=dict(sources or {}))


_SAME = object()


def resolve(previous, anchors, x=None, y=None, *, cost=None, source=None,
            step_pattern=None, window=_SAME, progress=None, cancel=None, kept=None):
    """Re-solve an anchored alignment after its anchors changed, solving only the
    segments the change touched.

    A segment runs from one anchor to the next (or from a corner of the cost matrix, or
    of the aligned part of a staged result). Every segment of the new anchor set whose
    end points are those of a segment of ``previous`` is taken from ``previous``
    unchanged; only the others are solved. The result equals ``dtw(x, y,
    anchors=anchors, ...)`` (or :func:`staged_dtw`, for a default-pipeline result) with
    the options of ``previous``.

    Parameters
    ----------
    previous : Alignment
        A result of :func:`dtw`, :func:`staged_dtw` (the default pipeline,
        :func:`core.align_files`) or :func:`resolve` (its ``diagnostics["segments"]``),
        possibly seen from the other side (:meth:`Alignment.transposed`): then the
        inputs are given in that order too, and the anchors as its cells.
    anchors : array_like of int, shape (K, 2)
        The new anchor set (all anchors, not only the changed ones), cells (i, j) of
        ``previous``'s frame grid.
    x, y : ndarray, shape (N, D) and (M, D), optional
        The same features ``previous`` was computed from.
    cost : ndarray, shape (N, M), optional
        Or the same precomputed cost matrix.
    source : FeatureTerms, optional
        Or the same terms (for a default-pipeline result:
        :func:`core.pipeline.cost_source` rebuilds them from the two recordings).
    step_pattern : str or StepPattern, optional
        Needed only when ``previous`` used a custom :class:`StepPattern` (its name does
        not rebuild it); must then be the same pattern.
    window : optional
        Needed only when ``previous`` used a ``("rows", ...)`` window or a boolean mask
        (``params`` keeps only their description); must then be the same window.
    progress, cancel : callable, optional
        As in :func:`dtw`.
    kept : mapping, optional
        More segments to take as they are, beside ``previous``'s: ``(start, end)`` cells
        -> ``(piece, distance, record, confidence)``, the piece running from ``start`` to
        ``end`` (:func:`core.constraints.recompute` keeps the base path this way between
        cells of it far from every moved anchor). ``previous``'s own segments come first.

    Returns
    -------
    Alignment
        As :func:`dtw`; ``diagnostics["n_segments_solved"]`` and
        ``diagnostics["cells_solved"]`` say what was computed, and each entry of
        ``diagnostics["segments"]`` has ``reused`` True or False. A staged result keeps
        the rest of ``previous``'s diagnostics and its ``sources``.

    Raises
    ------
    ValueError
        When ``previous`` is not a DTW result with segments, or the inputs differ from
        those of ``previous`` (shape or sampled fingerprint), or a custom pattern or
        window is needed and missing; bad anchors as in :func:`dtw`.
    AlignmentError, Cancelled
        As in :func:`dtw`.

    Notes
    -----
    Moving, adding or removing one anchor touches at most the two segments around it:
    O(W_s) time for the window area W_s of those segments, plus O(L) to copy the rest of
    the path. With ``open_end`` the last segment is always solved again (its end column
    depends on the distance before it).
    """
    t0 = time.perf_counter()
    if not isinstance(previous, Alignment) or previous.method != "dtw" \
            or "segments" not in previous.diagnostics:
        raise ValueError("previous: expected an Alignment returned by core.dtw, "
                         "staged_dtw or resolve")
    if previous.params.get("transposed"):
        # solved with A and B the other way round: re-solve it that way and turn back
        back = previous.transposed()
        swapped = None if anchors is None else np.asarray(anchors).reshape(-1, 2)[:, ::-1]
        if source is not None:
            if not isinstance(source, CostSource) or not source.is_root:
                raise ValueError("source: expected a core.warping.FeatureTerms")
            source = source.transposed()
        if cost is not None:
            cost = np.asarray(cost).T
        if kept:
            kept = {(tuple(s[::-1]), tuple(e[::-1])): (np.ascontiguousarray(p[:, ::-1]), d,
                                                       dict(r, start=tuple(s[::-1]),
                                                            end=tuple(e[::-1])), c)
                    for (s, e), (p, d, r, c) in kept.items()}
        return resolve(back, swapped, y, x, cost=cost, source=source,
                       step_pattern=step_pattern, window=window, progress=progress,
                       cancel=cancel, kept=kept).transposed()
    monitor = Monitor(progress, cancel)
    params = previous.params
    metric = params["metric"]
    if metric == "terms" and source is None:
        raise ValueError("source: previous was computed from feature terms, give them "
                         "again (core.warping.FeatureTerms)")
    src, metric_name = _check_source(x, y, cost, metric if metric not in
                                     ("precomputed", "terms") else None, source)
    if metric_name != metric and "precomputed" in (metric, metric_name):
        raise ValueError("cost: previous was computed from "
                         + ("a cost matrix" if metric == "precomputed" else "features"))
    if (metric_name == "terms") != (metric == "terms"):
        raise ValueError("source: previous was computed from "
                         + ("feature terms" if metric == "terms" else "features x, y"))
    if metric == "terms" and src.describe() != [dict(t) for t in params["terms"]]:
        raise ValueError(f"source: previous used the terms {list(params['terms'])}, got "
                         f"{src.describe()}")
    fingerprint = previous.diagnostics.get("input_fingerprint")
    if (src.n, src.m) != (previous.n_a, previous.n_b) or src.fingerprint() != fingerprint:
        raise ValueError("x, y, cost, source: not the inputs previous was computed from")
    path = np.asarray(previous.path)
    conf = previous.confidence
    reuse = {}
    segs = previous.diagnostics["segments"]
    for k, rec in enumerate(segs):
        a, b = rec["path_start"], rec["path_start"] + rec["path_length"]
        key = (tuple(rec["start"]), tuple(rec["end"]), k == 0, k == len(segs) - 1)
        reuse[key] = (path[a:b].copy(), float(rec["distance"]), dict(rec),
                      None if conf is None else np.asarray(conf[a:b]))
    if kept:
        ends = {key[:2] for key in reuse}
        for (s, e), entry in kept.items():
            if (tuple(s), tuple(e)) not in ends:
                for first in (False, True):
                    for last in (False, True):
                        reuse[(tuple(s), tuple(e), first, last)] = entry
    if "recipe" in params:
        kept = {k: v for k, v in params.items()
                if k not in ("metric", "terms", "step_pattern", "recipe", "anchors",
                             "anchors_s", "memory_budget_bytes")}
        return staged_dtw(src, params["recipe"], anchors=anchors,
                          rate_a_hz=previous.rate_a_hz, rate_b_hz=previous.rate_b_hz,
                          memory_budget_bytes=params["memory_budget_bytes"], params=kept,
                          diagnostics=previous.diagnostics, sources=previous.sources,
                          progress=progress, cancel=cancel, _reuse=reuse, _t0=t0)
    if metric == "terms" and list(src.weights) != list(params["weights"]):
        raise ValueError(f"source: previous used the weights {list(params['weights'])}, "
                         f"got {list(src.weights)}")
    if step_pattern is None:
        try:
            pattern = get_step_pattern(params["step_pattern"])
        except ValueError:
            raise ValueError("step_pattern: previous used a custom pattern, give it "
                             "again") from None
    else:
        pattern = get_step_pattern(step_pattern)
        if pattern.name != params["step_pattern"]:
            raise ValueError(f"step_pattern: previous used {params['step_pattern']!r}, "
                             f"got {pattern.name!r}")
    if window is _SAME:
        window = params["window"]
        if isinstance(window, str):
            raise ValueError(f"window: previous used a {window!r} window, give it again")
    elif _describe_window(window) != params["window"]:
        raise ValueError(f"window: previous used {params['window']!r}")
    return _run(src, metric_name, pattern, window, anchors,
                open_begin=params["open_begin"], open_end=params["open_end"],
                exact=params["exact"], budget=params["memory_budget_bytes"],
                rate_a_hz=previous.rate_a_hz, rate_b_hz=previous.rate_b_hz,
                monitor=monitor, t0=t0, reuse=reuse)


def _describe_window(window):
    if window is None:
        return None
    if isinstance(window, np.ndarray):
        return f"mask{window.shape}"
    if window[0] == "rows":
        return "rows"
    return tuple(window)


def warm_up():
    """Compile (or load from the numba cache) every DTW kernel on tiny inputs.

    The first call of a kernel costs about a second per kernel on a cold start; an
    application calls this on a background thread at start-up. Returns the elapsed
    seconds."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    x1, y1 = np.cumsum(rng.normal(size=(2, 60)), axis=1)
    x3, y3 = np.cumsum(rng.normal(size=(2, 60, 3)), axis=1)
    x64, y64 = rng.normal(size=(2, 40, 64))
    for x, y in ((x1, y1), (x3, y3), (x64, y64)):
        for metric in ("euclidean", "sqeuclidean", "cosine", "cityblock"):
            dtw(x, y, metric=metric)
            dtw(x, y, metric=metric, window=("sakoe_chiba", 50))
    dtw(cost=np.abs(x1[:, None] - y1[None, :]))
    dtw(x3, y3, step_pattern="asymmetric")
    dtw(x3, y3, step_pattern="asymmetricP0", open_begin=True, open_end=True)
    dtw(x3, y3, exact=True, memory_budget_bytes=1)
    # large enough for the threaded tiles, pruning and its probe, and multiscale
    t = np.linspace(0.0, 1.0, 2100)
    for d in (1, 3, 64):
        xl = np.sin(np.outer(t, np.arange(1, d + 1)) * 20.0)
        yl = np.sin(np.outer(t ** 1.1, np.arange(1, d + 1)) * 20.0)
        dtw(xl, yl)
        dtw(xl, yl, exact=False)
        dtw(xl[:1100, :], yl[:1000, :] + 1.0)
        dtw(xl[:600, :] + 1.0, yl)  # wide: tiles on two threads
        for metric in ("euclidean", "cosine"):  # float64 and float32 features
            # tiles on one thread, many strips per call: a window wider than the band
            # kernel's and narrower than a tile, as the coarsest level of a multiscale
            # search or a pruned solve's guide has it from about 6,500 frames on (an
            # 8.7-minute pair's first alignment compiled it, 2.5 s, after this warm-up)
            dtw(xl[:1600, :], yl[:1600, :], metric=metric)
    from ._band import solve_pruned
    from ._source import CostSource

    lo = np.zeros(60, dtype=np.int64)
    hi = np.full(60, 60, dtype=np.int64)
    for x, y in ((x1, y1), (x3, y3)):
        src = CostSource(x=check_features("x", x), y=check_features("y", y),
                         metric="euclidean")
        solve_pruned(src, (2.0, 1.0, 1.0), lo, hi, open_begin=False,
                     origin_value=src.cell(0, 0), bound=np.inf, capacity=1 << 12)
    return time.perf_counter() - t0
