"""Local distances between the frames of two feature sequences, computed in tiles.

The whole N x M matrix is only built on request (:func:`pairwise`); the engine computes
distances per tile, :func:`overview` gives a downsampled matrix for display and
:func:`region` a full-resolution window, both without building the whole matrix.
"""

from __future__ import annotations

import numpy as np

from ._progress import Monitor

__all__ = ["METRICS", "pairwise", "region", "overview", "check_features", "check_pair",
           "check_cost"]

METRICS = ("euclidean", "sqeuclidean", "cosine", "cityblock")
_TILE_CELLS = 1 << 21  # float64 cells per tile (16 MB)


def check_features(name, a, *, dtype=np.float64):
    """Validate a feature sequence: (T,) or (T, D), non-empty, real, finite. Returns (T, D).

    ``dtype=None`` keeps float32 input as float32 and turns anything else into float64.
    """
    try:
        a = np.asarray(a)
    except (TypeError, ValueError) as err:  # ragged input
        raise ValueError(f"{name}: expected a numeric (T, D) array ({err})") from None
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number)
                                 or a.dtype == bool):
        raise ValueError(f"{name}: expected a numeric (T, D) array, got dtype {a.dtype}")
    if np.iscomplexobj(a):
        raise ValueError(f"{name}: complex values are not supported")
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty (T, D) array, got shape {a.shape}")
    if dtype is None:
        dtype = np.float32 if a.dtype == np.float32 else np.float64
    a = np.ascontiguousarray(a, dtype=dtype)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return a


def check_pair(x, y, *, dtype=np.float64):
    """Validate two feature sequences of the same dimension (see :func:`check_features`)."""
    if x is None or y is None:
        raise ValueError("x, y: both are required unless cost is given")
    x = check_features("x", x, dtype=dtype)
    y = check_features("y", y, dtype=dtype)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x, y: feature dimensions differ ({x.shape[1]} vs {y.shape[1]})")
    return x, y


def check_cost(cost, *, nonnegative=False):
    """Validate a precomputed (N, M) cost matrix; returns it as contiguous float64."""
    try:
        cost = np.asarray(cost)
    except (TypeError, ValueError):
        raise ValueError("cost: expected a numeric 2-D array") from None
    if cost.ndim != 2:
        raise ValueError(f"cost: expected a 2-D (N, M) array, got {cost.ndim}-D")
    if cost.size == 0:
        raise ValueError(f"cost: expected a non-empty 2-D array, got shape {cost.shape}")
    if not (np.issubdtype(cost.dtype, np.number) or cost.dtype == bool) \
            or np.iscomplexobj(cost):
        raise ValueError(f"cost: expected real numbers, got dtype {cost.dtype}")
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    if not np.all(np.isfinite(cost)):
        raise ValueError("cost: contains NaN or infinite values")
    if nonnegative and np.any(cost < 0):
        raise ValueError("cost: costs must be non-negative")
    return cost


def check_metric(metric):
    if metric not in METRICS:
        raise ValueError(f"metric: expected one of {METRICS}, got {metric!r}")
    return metric


def _pair(x, y, metric):
    x, y = check_pair(x, y)
    return x, y, check_metric(metric)


def unit_rows(a):
    """Rows scaled to unit length (zero rows stay zero: their cosine distance is 1)."""
    norm = np.sqrt(np.einsum("ij,ij->i", a, a))
    return a / np.where(norm > 0, norm, 1.0)[:, None]


def _block(x, y, metric):
    """Distances between all rows of x and y (already validated, unit rows for cosine)."""
    if metric == "cosine":
        out = x @ y.T
        np.subtract(1.0, out, out=out)
        return np.clip(out, 0.0, 2.0, out=out)
    from scipy.spatial.distance import cdist  # 0.5-1 s to import: only when used

    return cdist(x, y, metric=metric)


def pairwise(x, y, metric="euclidean", *, progress=None, cancel=None):
    """The full local-cost matrix.

    Parameters
    ----------
    x : ndarray, shape (N, D) or (N,)
    y : ndarray, shape (M, D) or (M,)
    metric : {"euclidean", "sqeuclidean", "cosine", "cityblock"}
        ``cosine`` is ``1 - <x, y> / (|x| |y|)``; a zero frame has distance 1 to anything.

    Returns
    -------
    ndarray, shape (N, M), float64

    Notes
    -----
    O(NMD) time and O(NM) memory; computed in row tiles (progress and cancel between
    them). For long inputs prefer :func:`overview` and :func:`region`.
    """
    x, y, metric = _pair(x, y, metric)
    if metric == "cosine":
        x, y = unit_rows(x), unit_rows(y)
    mon = Monitor(progress, cancel)
    n, m = x.shape[0], y.shape[0]
    out = np.empty((n, m))
    step = max(1, _TILE_CELLS // max(m, 1))
    for i0 in range(0, n, step):
        mon.report(i0 / n)
        out[i0:i0 + step] = _block(x[i0:i0 + step], y, metric)
    mon.report(1.0)
    return out


def region(x, y, i0, i1, j0, j1, metric="euclidean"):
    """Full-resolution local costs of rows ``i0:i1`` of x against rows ``j0:j1`` of y.

    Returns
    -------
    ndarray, shape (i1 - i0, j1 - j0)
    """
    x, y, metric = _pair(x, y, metric)
    n, m = x.shape[0], y.shape[0]
    for name, a, b, size in (("i0, i1", i0, i1, n), ("j0, j1", j0, j1, m)):
        if not (0 <= int(a) < int(b) <= size):
            raise ValueError(f"{name}: expected 0 <= start < stop <= {size}, got {a}, {b}")
    xs, ys = x[int(i0):int(i1)], y[int(j0):int(j1)]
    if metric == "cosine":
        xs, ys = unit_rows(xs), unit_rows(ys)
    return _block(xs, ys, metric)


def overview(x, y, shape, metric="euclidean", *, progress=None, cancel=None):
    """A downsampled cost matrix for display: block minimum and block mean.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    y : ndarray, shape (M, D)
    shape : (int, int)
        Wanted output shape; clipped to (N, M). Block edges split the rows (columns) as
        evenly as possible.
    metric : str
        As in :func:`pairwise`.

    Returns
    -------
    block_min, block_mean : ndarray, shape (R, C)

    Notes
    -----
    O(NMD) time, O(R C + tile) memory: the full matrix is never built.
    """
    x, y, metric = _pair(x, y, metric)
    try:
        rows, cols = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape: expected two positive integers, got {shape!r}") from None
    if rows < 1 or cols < 1:
        raise ValueError(f"shape: expected two positive integers, got {shape!r}")
    n, m = x.shape[0], y.shape[0]
    rows, cols = min(rows, n), min(cols, m)
    if metric == "cosine":
        x, y = unit_rows(x), unit_rows(y)
    r_edges = np.linspace(0, n, rows + 1).round().astype(np.int64)
    c_edges = np.linspace(0, m, cols + 1).round().astype(np.int64)
    c_sizes = np.diff(c_edges)
    out_min = np.empty((rows, cols))
    out_mean = np.empty((rows, cols))
    mon = Monitor(progress, cancel)
    col_step = max(1, _TILE_CELLS // max(1, int(np.diff(r_edges).max())))
    for r in range(rows):
        mon.report(r / rows)
        a, b = r_edges[r], r_edges[r + 1]
        mins = np.full(cols, np.inf)
        sums = np.zeros(cols)
        c0 = 0
        while c0 < cols:
            # whole column blocks per tile
            c1 = int(np.searchsorted(c_edges, c_edges[c0] + col_step, side="right")) - 1
            c1 = min(max(c1, c0 + 1), cols)
            j0, j1 = c_edges[c0], c_edges[c1]
            tile = _block(x[a:b], y[j0:j1], metric)
            starts = c_edges[c0:c1] - j0
            mins[c0:c1] = np.minimum.reduceat(tile.min(axis=0), starts)
            sums[c0:c1] = np.add.reduceat(tile.sum(axis=0), starts)
            c0 = c1
        out_min[r] = mins
        out_mean[r] = sums / ((b - a) * c_sizes)
    mon.report(1.0)
    return out_min, out_mean
