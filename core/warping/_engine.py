"""Solving a DTW problem: segments between anchors, choice of method, open ends."""

from __future__ import annotations

import threading

import numpy as np

from .._progress import Monitor
from ..errors import AlignmentError
from . import _long
from ._band import BandPlan, is_monotone, solve_band, solve_fast, solve_pruned, use_band
from ._generic import generic_bytes, solve_generic
from ._long import multiscale_window, solve_checkpointed
from ._tiles import TilePlan, choose_shape, plan_bytes, solve_tiles
from .steps import get_step_pattern
from .windows import window_intervals, window_outline

DEFAULT_MEMORY_BUDGET = 1 << 30  # 1 GiB of backpointers before the exact method gives way

# rough costs per cell on a 2-core laptop-class machine, used by estimate() (seconds)
_GENERIC_S = 7e-9
_TILE_S = 1e-9
_COST_S = 0.2e-9


def _segments(anchors, start, end):
    starts = [tuple(map(int, start))] + [tuple(map(int, a)) for a in anchors]
    ends = [tuple(map(int, a)) for a in anchors] + [tuple(map(int, end))]
    return list(zip(starts, ends, strict=True))


def _sub_window(lo, hi, mask, si, sj, ei, ej):
    w = ej - sj + 1
    lo_s = np.clip(lo[si:ei + 1] - sj, 0, w)
    hi_s = np.maximum(np.clip(hi[si:ei + 1] - sj, 0, w), lo_s)
    mask_s = None if mask is None else np.ascontiguousarray(mask[si:ei + 1, sj:ej + 1])
    return np.ascontiguousarray(lo_s), np.ascontiguousarray(hi_s), mask_s


PRUNE_MIN_CELLS = 1 << 22  # below this a plain sweep is as fast as bounding + pruning


def _choose(source, pattern, lo, hi, mask, exact, budget):
    """The method a (sub)problem will use and the memory it needs."""
    weights = pattern.simple_weights
    cells = int(np.sum(hi - lo))
    m = source.m
    if weights is None or mask is not None:
        need = generic_bytes(pattern, lo, hi, m)
        if need <= budget or exact is True or source.cost is not None:
            return "generic", need
        return "multiscale", need
    if use_band(lo, hi):
        need = BandPlan(lo, hi, m).memory_bytes
        if need <= budget and not (exact is False and source.cost is None
                                   and cells > _long.COARSEST_CELLS):
            return "band", need
        plan = None
    plan = TilePlan(lo, hi, *choose_shape(lo, hi))
    need = plan_bytes(plan, m) if plan is not None else need
    features = source.cost is None
    if exact is False and features and cells > _long.COARSEST_CELLS:
        return "multiscale", need
    if need <= budget:
        return "tiles", need
    if exact is True or not features:
        return "checkpoint", need
    return "multiscale", need


def _solve_one(source, pattern, lo, hi, mask, *, open_begin, open_end, origin_value, exact,
               budget, monitor, prune=True):
    method, need = _choose(source, pattern, lo, hi, mask, exact, budget)
    weights = pattern.simple_weights
    info = {"exact": True, "method": method, "cells": int(np.sum(hi - lo)),
            "memory_bytes": int(need)}
    if method == "multiscale":
        guide = weights if weights is not None else (2.0, 1.0, 1.0)
        share = _long.coarse_share(source.n, source.m, lo, hi)
        lo_c, hi_c, n_levels = multiscale_window(
            source, guide, lo, hi, open_begin=open_begin, open_end=open_end,
            monitor=monitor.sub(0.0, share))
        monitor = monitor.sub(share, 1.0)
        if mask is None:
            lo, hi = lo_c, hi_c
        else:
            lo, hi = np.maximum(lo, lo_c), np.maximum(np.minimum(hi, hi_c), np.maximum(lo, lo_c))
        info.update(exact=False, levels=n_levels, cells=int(np.sum(hi - lo)))
        info["_searched"] = (lo, hi)  # the corridor, for solve()'s outline
        if weights is None or mask is not None:
            info["memory_bytes"] = generic_bytes(pattern, lo, hi, source.m)
            sol = solve_generic(source, pattern, lo, hi, mask, open_begin=open_begin,
                                origin_value=origin_value, monitor=monitor)
        elif use_band(lo, hi):
            plan = BandPlan(lo, hi, source.m)
            info["memory_bytes"] = plan.memory_bytes
            sol = solve_band(source, weights, lo, hi, open_begin=open_begin,
                             origin_value=origin_value, monitor=monitor, plan=plan)
        else:
            plan = TilePlan(lo, hi, *choose_shape(lo, hi))
            info["memory_bytes"] = plan_bytes(plan, source.m)
            sol = solve_tiles(source, weights, lo, hi, open_begin=open_begin,
                              origin_value=origin_value, monitor=monitor, plan=plan)
        return sol, info
    if prune and method in ("band", "tiles") and info["cells"] >= PRUNE_MIN_CELLS \
            and source.cost is None and not open_end and is_monotone(lo, hi):
        # exact, usually much cheaper: skip cells that cannot beat a known path; give up
        # (and sweep everything) once a quarter of the window had to be computed
        sol, cells = _solve_pruned(source, weights, lo, hi, open_begin=open_begin,
                                   origin_value=origin_value,
                                   budget=min(budget, int(need) // 4), monitor=monitor)
        if sol is not None:
            info.update(method="pruned", cells=int(cells),
                        memory_bytes=_pruned_bytes(sol, source))
            return sol, info
    if method == "band":
        sol = solve_band(source, weights, lo, hi, open_begin=open_begin,
                         origin_value=origin_value, monitor=monitor)
    elif method == "generic":
        sol = solve_generic(source, pattern, lo, hi, mask, open_begin=open_begin,
                            origin_value=origin_value, monitor=monitor)
    elif method == "tiles":
        sol = solve_tiles(source, weights, lo, hi, open_begin=open_begin,
                          origin_value=origin_value, monitor=monitor)
    else:
        sol = None
        if source.cost is None and not open_end and is_monotone(lo, hi):
            # the alternative (checkpoints) costs a full sweep: always worth trying
            sol, cells = _solve_pruned(source, weights, lo, hi, open_begin=open_begin,
                                       origin_value=origin_value, budget=budget,
                                       monitor=monitor, probe=False)
            if sol is not None:
                info.update(method="pruned", cells=int(cells),
                            memory_bytes=_pruned_bytes(sol, source))
        if sol is None:
            sol, plan = solve_checkpointed(source, weights, lo, hi, open_begin=open_begin,
                                           origin_value=origin_value, monitor=monitor,
                                           budget=budget, open_end=open_end)
            info["memory_bytes"] = int(min(need, budget)) + 8 * source.m * 8
    return sol, info


PRUNE_PROBE_CELLS = 1 << 20  # size of the downsampled problem that predicts pruning
PRUNE_PROBE_FRACTION = 0.35  # prune when the probe computes at most this share of cells


def _pruning_pays(source, weights, lo, hi, *, open_begin):
    """Predict pruning from a downsampled copy of the problem: solve it, prune it with
    its own optimum as the bound, and look at the share of cells that had to be
    computed (roughly scale-invariant). Costs two solves of ~1M cells."""
    cells = float(np.sum(hi - lo))
    factor = int(np.ceil(np.sqrt(cells / PRUNE_PROBE_CELLS)))
    if factor < 2:
        return True
    probe = source.pooled(factor)
    lo_c, hi_c = _long.pool_window(lo, hi, factor)
    hi_c = np.maximum(np.minimum(hi_c, probe.m), lo_c)
    if not is_monotone(lo_c, hi_c):
        return False
    origin = probe.cell(0, 0)
    mute = Monitor()
    full = solve_fast(probe, weights, lo_c, hi_c, open_begin=open_begin, origin_value=origin,
                      monitor=mute)
    bound = float(full.last_row[-1])
    if not np.isfinite(bound):
        return False
    budget = int(PRUNE_PROBE_FRACTION * np.sum(hi_c - lo_c) / 4) + 64
    sol, _ = solve_pruned(probe, weights, lo_c, hi_c, open_begin=open_begin,
                          origin_value=origin, bound=bound * (1 + 1e-9) + 1e-12,
                          capacity=budget)
    return sol is not None


def _pruned_bytes(sol, source):
    return int(sol.plan.diag_byte[-1]) + 3 * 8 * (source.n + source.m) + 3 * 8 * source.n


def _solve_pruned(source, weights, lo, hi, *, open_begin, origin_value, budget, monitor,
                  probe=True):
    """Exact solving past the memory budget, first try: the multiscale path's cost bounds
    the optimum, and cells whose accumulated cost exceeds it are skipped (exact, since
    costs are non-negative). Gives way (None) when too few cells can be skipped."""
    if probe and not _pruning_pays(source, weights, lo, hi, open_begin=open_begin):
        return None, 0
    lo_c, hi_c, _ = multiscale_window(source, weights, lo, hi, open_begin=open_begin,
                                      open_end=False, monitor=monitor.sub(0.0, 0.2))
    guide = solve_fast(source, weights, lo_c, hi_c, open_begin=open_begin,
                       origin_value=origin_value, monitor=monitor.sub(0.2, 0.3))
    bound = float(guide.last_row[-1])
    if not np.isfinite(bound):
        return None, 0
    bound = bound * (1.0 + 1e-9) + 1e-12
    capacity = max(1 << 16, int(budget) - 64 * (source.n + source.m))
    sol, cells = solve_pruned(source, weights, lo, hi, open_begin=open_begin,
                              origin_value=origin_value, bound=bound, capacity=capacity,
                              monitor=monitor.sub(0.3, 1.0))
    if sol is None or not np.isfinite(sol.last_row[-1]):
        return None, 0
    monitor.report(1.0)
    return sol, cells


def _end_column(last_row, prefix, norm, n_total, j_offset, open_end):
    m = last_row.shape[0]
    if not open_end:
        return m - 1
    total = prefix + last_row
    cols = j_offset + np.arange(m)
    if norm == "N+M":
        score = total / (n_total + cols + 1)
    elif norm == "M":
        score = total / (cols + 1)
    else:
        score = total / n_total
    if not np.any(np.isfinite(score)):
        return -1
    return int(np.argmin(score))


def solve_window(source, steps, lo, hi, monitor, *, budget=DEFAULT_MEMORY_BUDGET):
    """Exact DTW of a whole (sub)problem inside a window, closed ends, with a pattern of
    the steps (1,1), (1,0), (0,1) (``steps``: its name); band or tiles, checkpoints past
    ``budget``, no pruning (meant for corridors, where its guide costs as much as the
    sweep). Returns ``(path, distance, info)``."""
    pattern = get_step_pattern(steps)
    sol, info = _solve_one(source, pattern, lo, hi, None, open_begin=False, open_end=False,
                           origin_value=source.cell(0, 0), exact=True, budget=budget,
                           monitor=monitor, prune=False)
    j = source.m - 1
    if not np.isfinite(sol.last_row[j]):
        raise AlignmentError("window: no warping path: the corridor admits no path")
    return sol.path(j), float(sol.last_row[j]), info


def _outline_of(lo_s, hi_s, si, sj, max_blocks):
    return window_outline(lo_s, np.maximum(hi_s, lo_s), max_blocks=max_blocks,
                          row_offset=si, col_offset=sj)


def solve(source, pattern, lo, hi, mask, anchors, *, open_begin, open_end, exact, budget,
          monitor, reuse=None, recipe=None, start=None, end=None):
    """Solve every segment between anchors; returns (path, distance, j_end, info).

    Segments run from ``start`` (default (0, 0)) through the anchors to ``end`` (default
    the last cell). ``recipe``: solve each segment in stages
    (:func:`core.warping._staged.solve_segment`) instead of at once; ``info`` then has a
    ``confidence`` per path step.

    ``reuse`` maps ``(start, end, is_first, is_last)`` of a segment to ``(piece,
    distance, record, confidence)`` from an earlier solve of the same problem: those
    segments are taken as they are (an open-ended last segment is always solved again,
    since its end column depends on the distance before it)."""
    from ._staged import solve_segment

    n, m = source.n, source.m
    start = (0, 0) if start is None else start
    end = (n - 1, m - 1) if end is None else end
    segments = _segments(anchors, start, end)
    reuse = reuse or {}
    max_blocks = max(20, 1000 // len(segments))
    pieces = []
    confidences = []
    distance = 0.0
    infos = []
    records = []
    n_solved = 0
    cells_solved = 0

    def stage_solve(src, steps, lo_k, hi_k, mon):
        return solve_window(src, steps, lo_k, hi_k, mon, budget=budget)

    def reused(k):
        (start_k, end_k), last = segments[k], k == len(segments) - 1
        return (start_k, end_k, k == 0, last) in reuse and not (open_end and last)

    def staged_segment(k, mon):
        (si, sj), (ei, ej) = segments[k]
        if ei < si or ej < sj:
            raise AlignmentError(f"anchors: segment {k} runs backwards, from {(si, sj)} to "
                                 f"{(ei, ej)}")
        lo_s, hi_s, _ = _sub_window(lo, hi, None, si, sj, ei, ej)
        if np.any(hi_s <= lo_s):
            raise AlignmentError("window: no warping path: a row admits no column")
        return solve_segment(source.sub(si, sj, ei - si + 1, ej - sj + 1), recipe, lo_s,
                             hi_s, solve=stage_solve, monitor=mon)

    staged = {}
    if recipe is not None:
        todo = [k for k in range(len(segments)) if not reused(k)]
        staged = _in_parallel(staged_segment, todo, monitor)

    for k, ((si, sj), (ei, ej)) in enumerate(segments):
        first, last = k == 0, k == len(segments) - 1
        key = ((si, sj), (ei, ej), first, last)
        path_start = sum(len(q) for q in pieces) - (0 if first else 1)
        if reused(k):
            p, seg_distance, old, conf = reuse[key]
            record = dict(old, path_start=path_start, path_length=len(p), reused=True)
            infos.append(record)
            records.append(record)
            distance += seg_distance
            pieces.append(p if first else p[1:])
            confidences.append(conf if (conf is None or first) else conf[1:])
            j_end = int(p[-1, 1])
            if recipe is None:
                monitor.report((k + 1) / len(segments))
            continue
        conf = None
        searched = None
        if recipe is not None:
            p, seg_distance, info, conf, searched = staged[k]
            j = ej - sj
        else:
            sub = source.sub(si, sj, ei - si + 1, ej - sj + 1)
            lo_s, hi_s, mask_s = _sub_window(lo, hi, mask, si, sj, ei, ej)
            ob = open_begin and first
            origin_value = source.cell(si, sj) if (first and not ob) else 0.0
            mon = monitor.sub(k / len(segments), (k + 1) / len(segments))
            if pattern.simple_weights is not None and np.any(hi_s <= lo_s):
                raise AlignmentError("window: no warping path: a row admits no column")
            sol, info = _solve_one(sub, pattern, lo_s, hi_s, mask_s, open_begin=ob,
                                   open_end=open_end and last, origin_value=origin_value,
                                   exact=exact, budget=budget, monitor=mon)
            searched = info.pop("_searched", None)
            j = _end_column(sol.last_row, distance, pattern.norm, n, sj, open_end and last)
            if j < 0 or not np.isfinite(sol.last_row[j]):
                what = "the window and step pattern admit" if len(segments) == 1 else \
                    f"segment {k} (from {(si, sj)} to {(ei, ej)}) admits"
                raise AlignmentError(f"window: no warping path: {what} no path")
            seg_distance = float(sol.last_row[j])
            p = sol.path(j)
            if hasattr(sol, "resweeps"):  # checkpoints: groups swept again for the path
                info["resweeps"] = int(sol.resweeps)
        infos.append(info)
        n_solved += 1
        cells_solved += info["cells"]
        p[:, 0] += si
        p[:, 1] += sj
        record = {"start": (si, sj), "end": (ei, ej), "distance": seg_distance,
                  "path_start": path_start, "path_length": len(p),
                  "method": info["method"], "cells": info["cells"],
                  "exact": info["exact"], "memory_bytes": info.get("memory_bytes", 0),
                  "reused": False}
        if "stages" in info:
            record["stages"] = info["stages"]
        if searched is not None:
            record["search_window"] = _outline_of(*searched, si, sj, max_blocks)
        records.append(record)
        distance += seg_distance
        pieces.append(p if first else p[1:])
        confidences.append(conf if (conf is None or first) else conf[1:])
        j_end = sj + j
    path = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
    info = {
        "exact": all(i["exact"] for i in infos),
        "method": infos[0]["method"] if len(infos) == 1 else
        ",".join(sorted({i["method"] for i in infos})),
        "cells": sum(i["cells"] for i in infos),
        "memory_bytes": max(i.get("memory_bytes", 0) for i in infos),
        "n_segments": len(segments),
        "n_segments_solved": n_solved,
        "cells_solved": cells_solved,
        "segments": records,
    }
    if any("resweeps" in i for i in infos):
        info["resweeps"] = sum(i.get("resweeps", 0) for i in infos)
    if any("levels" in i for i in infos):
        info["levels"] = max(i.get("levels", 0) for i in infos)
    outline = _searched_outline(segments, records, lo, hi, n, m)
    if outline is not None:
        info["search_window"] = outline
    if all(c is not None for c in confidences):
        info["confidence"] = np.concatenate(confidences)
    return path, distance, j_end, info


def _in_parallel(func, items, monitor):
    """``{item: func(item, monitor)}``, on two threads when there are several items (the
    kernels release the GIL). Progress (the items' mean) and cancellation are handled by
    the calling thread, which waits; a failure or a cancel stops the other items at their
    next report."""
    from concurrent.futures import ThreadPoolExecutor, wait

    from ._tiles import n_workers

    if len(items) <= 1 or n_workers() < 2:
        return {item: func(item, monitor.sub(k / max(len(items), 1),
                                             (k + 1) / max(len(items), 1)))
                for k, item in enumerate(items)}
    done = np.zeros(len(items))
    stop = threading.Event()

    def cancelled():
        return stop.is_set()

    def run(k, item):
        def progress(fraction, k=k):
            done[k] = fraction
        return func(item, Monitor(progress, cancelled))

    with ThreadPoolExecutor(max_workers=n_workers()) as pool:
        futures = [pool.submit(run, k, item) for k, item in enumerate(items)]
        try:
            pending = futures
            while pending:
                _, pending = wait(pending, timeout=0.02)
                monitor.report(float(done.mean()))
                if any(f.done() and f.exception() is not None for f in futures):
                    break
        except BaseException:
            stop.set()
            raise
        finally:
            if any(f.done() and f.exception() is not None for f in futures):
                stop.set()
    return {item: f.result() for item, f in zip(items, futures, strict=True)}


def _searched_outline(segments, records, lo, hi, n, m):
    """Where the solves looked when some segment searched a corridor (multiscale, or the
    search stage of a recipe): each such segment's outline, the window itself for the
    others, joined at the anchors, as :func:`window_outline`; None when no segment did."""
    if not any("search_window" in r for r in records):
        return None
    lo_all = np.full(n, m, dtype=np.int64)
    hi_all = np.zeros(n, dtype=np.int64)
    for ((si, sj), (ei, ej)), rec in zip(segments, records, strict=True):
        outline = rec.get("search_window")
        if outline is not None and len(outline["lo"]):
            rows = np.asarray(outline["rows"], dtype=np.int64)
            counts = np.diff(rows)
            r0 = int(rows[0])
            lo_s = np.repeat(np.asarray(outline["lo"], dtype=np.int64), counts)
            hi_s = np.repeat(np.asarray(outline["hi"], dtype=np.int64), counts)
            sl = slice(r0, r0 + lo_s.shape[0])
        else:  # solved in its window
            sl = slice(si, ei + 1)
            lo_s = np.clip(lo[sl], sj, ej + 1)
            hi_s = np.clip(hi[sl], sj, ej + 1)
        some = hi_s > lo_s  # rows the outline does not reach carry empty intervals
        lo_all[sl] = np.where(some, np.minimum(lo_all[sl], lo_s), lo_all[sl])
        hi_all[sl] = np.where(some, np.maximum(hi_all[sl], hi_s), hi_all[sl])
    rows = np.flatnonzero(hi_all > lo_all)
    if rows.size == 0:
        return None
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    return window_outline(lo_all[r0:r1], hi_all[r0:r1], row_offset=r0)


def estimate(n, m, *, window=None, step_pattern="symmetric2", dim=1, exact=None,
             memory_budget_bytes=DEFAULT_MEMORY_BUDGET):
    """Memory and time a :func:`dtw` call would take, before running it.

    Parameters
    ----------
    n, m : int
        Lengths of x and y.
    window, step_pattern, exact, memory_budget_bytes
        As in :func:`dtw`.
    dim : int
        Feature dimension D.

    Returns
    -------
    dict
        ``bytes`` (peak extra memory), ``seconds`` (rough, for this machine class),
        ``method`` and ``exact``.
    """
    n, m = int(n), int(m)
    if n < 1 or m < 1:
        raise ValueError(f"n, m: expected positive lengths, got {n}, {m}")
    pattern = get_step_pattern(step_pattern)
    lo, hi, mask = window_intervals(window, n, m)
    cells = int(np.sum(hi - lo))
    budget = int(memory_budget_bytes)

    class _Shape:  # what _choose needs to know about the source
        cost = None
    shape = _Shape()
    shape.m = m
    method, need = _choose(shape, pattern, lo, hi, mask, exact, budget)
    per_cell = (_GENERIC_S if method == "generic" else _TILE_S) + _COST_S * max(int(dim), 1)
    if method == "checkpoint":
        # one sweep keeping the codes around a guide path; the groups are swept again
        # only where the optimal path leaves them (rare for features)
        mem, seconds = min(need, budget) + 64 * m, 1.1 * cells * per_cell
    elif method == "multiscale":
        width = 2 * (2 * 3 + 1) * 4 + 8
        ms_cells = min(cells, (n + m) * width)
        mem = ms_cells // 4 + 8 * (n + m) * max(int(dim), 1)
        seconds = 1.6 * ms_cells * per_cell
    else:
        mem, seconds = need, cells * per_cell
    return {"bytes": int(mem), "seconds": float(seconds), "method": method,
            "exact": method != "multiscale", "cells": cells}
