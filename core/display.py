"""What the inspector's views show, computed without Qt: cost images, soft plans reduced
for drawing, diagnostics along a path, window outlines, feature-image rates.

Everything here is plain numpy on arrays and :class:`~core.alignment.Alignment` objects,
safe to call on a worker thread (long functions take ``progress`` and ``cancel``) and
tested without a display. :func:`limit_blas_threads` keeps numpy's matrix products
off the core a GUI thread needs.
"""

from __future__ import annotations

import os

import numpy as np

from ._progress import Monitor
from .alignment import Alignment
from .cost import overview, pairwise, region

__all__ = [
    "block_sum", "block_mean", "cost_overview", "overview_is_exact", "cost_view",
    "cost_region", "path_local_cost", "reduce_plan", "tempo_ratio", "find_stalls",
    "find_jumps", "window_outline_of", "display_rate_hz", "prepare_path",
    "limit_blas_threads", "display_levels", "decimate_path", "peak_decimate", "METRICS",
]

#: the local distances a cost image can show
METRICS = ("euclidean", "sqeuclidean", "cosine", "cityblock")
#: above this many cells the inspector never builds a full cost matrix
FULL_MATRIX_CELLS = 4_000_000
#: above this many cells the overview is the cost between block means of the features
#: (seconds instead of minutes for two hours at 100 Hz); below, the exact block mean
EXACT_OVERVIEW_CELLS = 400_000_000
#: rows summed per numpy call in :func:`block_sum`: each call holds the GIL, and a
#: single cumsum over an hour of frames held it ~35 ms while the window was drawing
BLOCK_ROWS = 16_384


# ---------------------------------------------------------------------------- blocks
def block_sum(v: np.ndarray, n_out: int) -> np.ndarray:
    """Sums of ``n_out`` consecutive blocks of the rows of ``v`` (first axis).

    Block ``b`` holds rows ``floor(b n / n_out)`` up to ``floor((b + 1) n / n_out)``
    (every block non-empty when ``n_out <= n``). Computed in float64, in numpy calls of
    about :data:`BLOCK_ROWS` rows each (short GIL holds next to a GUI thread).

    Parameters
    ----------
    v : ndarray, shape (n, ...)
    n_out : int, 1 <= n_out <= n

    Returns
    -------
    ndarray, shape (n_out, ...), float64
    """
    v = np.asarray(v)
    n = v.shape[0]
    n_out = int(n_out)
    if not 1 <= n_out <= max(n, 1) or n == 0:
        raise ValueError(f"n_out: expected 1 <= n_out <= {n}, got {n_out}")
    edges = np.linspace(0, n, n_out + 1).astype(np.int64)
    out = np.empty((n_out, *v.shape[1:]))
    b = 0
    while b < n_out:  # groups of whole blocks, about BLOCK_ROWS rows each
        e = int(np.searchsorted(edges, edges[b] + BLOCK_ROWS, side="right")) - 1
        e = min(max(e, b + 1), n_out)
        lo = edges[b]
        out[b:e] = np.add.reduceat(v[lo:edges[e]], edges[b:e] - lo, axis=0,
                                   dtype=np.float64)
        b = e
    return out


def block_mean(v: np.ndarray, n_out: int) -> np.ndarray:
    """Means of ``n_out`` consecutive blocks of the rows of ``v`` (see
    :func:`block_sum`); ``v`` itself (as float64) when it has at most ``n_out`` rows."""
    v = np.asarray(v)
    n = v.shape[0]
    if n <= n_out:
        return v.astype(np.float64, copy=False)
    counts = np.diff(np.linspace(0, n, int(n_out) + 1).astype(np.int64))
    return block_sum(v, n_out) / counts.reshape((-1,) + (1,) * (v.ndim - 1))


# ---------------------------------------------------------------------------- costs
def _as_2d(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return v[:, None] if v.ndim == 1 else v


def _summary(v: np.ndarray) -> np.ndarray:
    """A standardized 1-D summary (the amount of change per frame): how two feature
    sequences of different dimensions (a CTW result's) are compared for display."""
    s = np.abs(np.diff(v, axis=0, prepend=v[:1])).sum(axis=1)
    return ((s - s.mean()) / (s.std() + 1e-9))[:, None]


def _comparable(x, y):
    x, y = _as_2d(x), _as_2d(y)
    if x.shape[1] != y.shape[1]:
        x, y = _summary(x), _summary(y)
    return x, y


def _metric(metric: str) -> str:
    return metric if metric in METRICS else "euclidean"


def overview_is_exact(n_a: int, n_b: int) -> bool:
    """Whether :func:`cost_overview` averages exact costs for these sizes."""
    return float(n_a) * float(n_b) <= EXACT_OVERVIEW_CELLS


def cost_overview(x, y, shape: tuple[int, int], *, metric: str = "euclidean",
                  progress=None, cancel=None) -> np.ndarray:
    """A display image of the local cost matrix, at most ``shape`` (rows A, cols B).

    The block mean of the exact costs (:func:`core.cost.overview`, in tiles) up to
    :data:`EXACT_OVERVIEW_CELLS` cells; above, the cost between block means of the
    features (cheap, an approximation for display). Features of different dimensions
    are compared through 1-D summaries of their change.

    Returns
    -------
    ndarray, shape (R, C), float32
    """
    mon = Monitor(progress, cancel)
    x, y = _comparable(x, y)
    metric = _metric(metric)
    n, m = len(x), len(y)
    shape = (min(n, int(shape[0])), min(m, int(shape[1])))
    if overview_is_exact(n, m):
        _, mean = overview(x, y, shape, metric=metric, progress=progress, cancel=cancel)
        return np.asarray(mean, dtype=np.float32)
    xs = block_mean(x, shape[0])
    mon.report(0.3)
    ys = block_mean(y, shape[1])
    mon.report(0.5)
    return pairwise(xs, ys, metric).astype(np.float32)


def cost_region(x, y, i0: int, i1: int, j0: int, j1: int, *, metric: str = "euclidean",
                progress=None, cancel=None) -> np.ndarray:
    """Exact local costs of rows ``i0:i1`` of A and columns ``j0:j1`` of B, float32."""
    Monitor(progress, cancel).check()
    x, y = _comparable(x, y)
    return np.asarray(region(x, y, i0, i1, j0, j1, metric=_metric(metric)), np.float32)


def cost_view(x, y, i0: int, i1: int, j0: int, j1: int, max_side: int, *,
              metric: str = "euclidean", progress=None, cancel=None):
    """The cost image of rows ``i0:i1`` x columns ``j0:j1`` for display.

    Exact (:func:`cost_region`) when the region has at most ``max_side**2`` cells;
    otherwise the cost between block means of the features, at most ``max_side`` per
    side (cheap at any zoom, approximate).

    Returns
    -------
    image : ndarray (R, C) float32
    exact : bool
    """
    if (i1 - i0) * (j1 - j0) <= max_side * max_side:
        return cost_region(x, y, i0, i1, j0, j1, metric=metric, progress=progress,
                           cancel=cancel), True
    Monitor(progress, cancel).check()
    x, y = _comparable(x, y)
    xs = block_mean(x[i0:i1], min(i1 - i0, max_side))
    ys = block_mean(y[j0:j1], min(j1 - j0, max_side))
    return pairwise(xs, ys, _metric(metric)).astype(np.float32), False


def path_local_cost(x, y, path: np.ndarray, *, metric: str = "euclidean", progress=None,
                    cancel=None) -> np.ndarray:
    """Local cost at every path step, O(L·D)."""
    Monitor(progress, cancel).check()
    x, y = _comparable(x, y)
    i = np.clip(path[:, 0], 0, len(x) - 1)
    j = np.clip(path[:, 1], 0, len(y) - 1)
    d = x[i] - y[j]
    metric = _metric(metric)
    if metric == "cosine":
        nx = np.linalg.norm(x[i], axis=1) * np.linalg.norm(y[j], axis=1)
        return 1.0 - (x[i] * y[j]).sum(axis=1) / np.maximum(nx, 1e-12)
    if metric == "sqeuclidean":
        return (d * d).sum(axis=1)
    if metric == "cityblock":
        return np.abs(d).sum(axis=1)
    return np.sqrt((d * d).sum(axis=1))


# ---------------------------------------------------------------------------- soft plans
def reduce_plan(plan: np.ndarray, max_side: int = 768, *, progress=None, cancel=None):
    """Block sums of ``plan`` to at most ``max_side`` per side, and its two marginals.

    Returns
    -------
    image : ndarray (R, C) float32, row_marginal (n_a,), column_marginal (n_b,)
    """
    plan = np.asarray(plan, dtype=np.float64)
    Monitor(progress, cancel).check()
    rows = plan.sum(axis=1)
    cols = plan.sum(axis=0)
    n, m = plan.shape
    image = block_sum(block_sum(plan, min(n, max_side)).T, min(m, max_side)).T
    return image.astype(np.float32), rows, cols


# ---------------------------------------------------------------------------- paths
def tempo_ratio(al: Alignment, n_points: int = 4000, smooth_s: float = 0.5, *,
                map_a_to_b=None):
    """Local tempo ratio dt_B/dt_A along the path, smoothed over ``smooth_s``.

    Returns
    -------
    t_a : ndarray (K,), ratio : ndarray (K,)
    """
    duration = al.duration_a_s
    k = int(min(n_points, max(16, al.n_a)))
    t = np.linspace(0.0, duration, k)
    tb = np.asarray((map_a_to_b or al.map_a_to_b)(t), dtype=np.float64)
    dt = t[1] - t[0] if k > 1 else 1.0
    half = max(1, int(round(0.5 * smooth_s / max(dt, 1e-12))))
    lo = np.clip(np.arange(k) - half, 0, k - 1)
    hi = np.clip(np.arange(k) + half, 0, k - 1)
    ratio = (tb[hi] - tb[lo]) / np.maximum(t[hi] - t[lo], 1e-12)
    return t, ratio


def find_stalls(t: np.ndarray, ratio: np.ndarray, *, low: float = 0.25, high: float = 4.0,
                min_s: float = 0.3) -> list[tuple[float, float]]:
    """Intervals of A time where one stream nearly stops while the other goes on."""
    bad = (ratio < low) | (ratio > high)
    out = []
    k = 0
    n = len(bad)
    while k < n:
        if bad[k]:
            j = k
            while j + 1 < n and bad[j + 1]:
                j += 1
            if t[j] - t[k] >= min_s:
                out.append((float(t[k]), float(t[j])))
            k = j + 1
        else:
            k += 1
    return out


def find_jumps(al: Alignment) -> np.ndarray:
    """A times (s) where the path skips frames (a step larger than 1 on either axis)."""
    steps = np.diff(al.path, axis=0)
    k = np.flatnonzero(np.any(steps > 1, axis=1))
    return al.path[k + 1, 0] / al.rate_a_hz


def window_outline_of(al: Alignment, max_blocks: int = 1000) -> tuple[dict, str] | None:
    """The window a result's path was searched in, as a row-block outline in frames
    (``core.warping.windows.window_outline``) and a label; None when unconstrained.

    The corridor the engine or the pipeline recorded (``diagnostics["search_window"]``:
    multiscale, corridor, band) wins; otherwise the window of the engine's ``params``
    (``("sakoe_chiba", r)``, ``("slanted_band", r)``, ``("itakura",)``), outlined from
    the cells it admits.
    """
    from .warping.windows import window_intervals, window_outline

    outline = al.diagnostics.get("search_window")
    if outline is not None and len(outline.get("lo", ())) > 0:
        return dict(outline), "searched corridor"
    window = al.params.get("window")
    if not isinstance(window, tuple | list) or not window or window[0] not in (
            "sakoe_chiba", "slanted_band", "itakura"):
        return None
    lo, hi, _ = window_intervals(tuple(window), al.n_a, al.n_b)
    label = {"sakoe_chiba": "window (sakoe chiba)", "slanted_band": "window (slanted band)",
             "itakura": "window (Itakura)"}[window[0]]
    return window_outline(lo, hi, max_blocks), label


# ---------------------------------------------------------------------------- drawing
def display_levels(image: np.ndarray, clip_percent: float) -> tuple[float, float]:
    """Colour levels clipping ``clip_percent`` % at both ends (robust contrast)."""
    finite = image[np.isfinite(image)]
    if finite.size == 0:
        return 0.0, 1.0
    if finite.size > 200_000:
        finite = finite[:: finite.size // 200_000 + 1]
    lo, hi = np.percentile(finite, [clip_percent, 100.0 - clip_percent])
    if not hi > lo:
        hi = lo + 1.0
    return float(lo), float(hi)

def decimate_path(times: np.ndarray, max_points: int = 20_000) -> np.ndarray:
    """Every k-th row of a monotone path (and its last), for drawing."""
    n = len(times)
    if n <= max_points:
        return times
    step = int(np.ceil(n / max_points))
    idx = np.r_[np.arange(0, n, step), n - 1]
    return times[idx]

def peak_decimate(x: np.ndarray, y: np.ndarray, n_bins: int = 1500):
    """At most ``2 * n_bins`` points keeping each bin's minimum and maximum of ``y``
    (spikes stay visible); ``x`` must be non-decreasing."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    if n <= 2 * n_bins:
        return x, y
    edges = np.linspace(0, n, n_bins + 1).astype(np.int64)
    starts = edges[:-1]
    lo = np.minimum.reduceat(y, starts)
    hi = np.maximum.reduceat(y, starts)
    xs = np.repeat(x[starts], 2)
    ys = np.empty(2 * n_bins)
    ys[0::2] = lo
    ys[1::2] = hi
    return xs, ys


# ---------------------------------------------------------------------------- misc
def display_rate_hz(duration_s: float, max_frames: int = 16_384) -> float:
    """Frame rate of the feature image of a stream view: 50 Hz, fewer for long files."""
    return float(min(50.0, max(2.0, max_frames / max(duration_s, 1e-3))))


def prepare_path(al: Alignment) -> Alignment:
    """Compute what a window derives from an alignment's path (its cursor-mapping knots
    and its path in seconds) into the alignment's own caches, and return it.

    An hour-long path has ~400k steps: this takes tens of milliseconds, which the
    worker that produced the alignment pays instead of the event loop. (An Alignment is
    immutable, so these stay valid for that object; an edit or a swap makes a new one,
    whose caches fill on first use.)
    """
    al.mapping_knots(0)
    al.mapping_knots(1)
    _ = al.times_s  # a cached property
    return al


def limit_blas_threads(n_threads: int | None = None) -> None:
    """Keep BLAS (numpy's matrix products) to fewer threads than cores, so a worker's
    matrix product never takes the core a GUI thread needs (threadpoolctl).

    Called by the window's process and by its child processes alike: the same thread
    count there also makes their matrix products sum in the same order."""
    from threadpoolctl import threadpool_limits

    if n_threads is None:
        n_threads = max(1, (os.cpu_count() or 2) - 1)
    threadpool_limits(n_threads, user_api="blas")
