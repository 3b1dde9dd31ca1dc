"""Global constraints (windows) as per-row column intervals.

Every window becomes two arrays ``lo``, ``hi`` of length N: row ``i`` admits the columns
``lo[i] <= j < hi[i]``. A boolean mask whose rows are not contiguous keeps the mask as well
(cells inside the row's hull but outside the mask are excluded).
"""

from __future__ import annotations

import numpy as np

__all__ = ["window_intervals", "window_outline", "transpose_outline", "WINDOW_KINDS"]

WINDOW_KINDS = ("sakoe_chiba", "slanted_band", "itakura", "rows")


def _radius(window, name):
    if len(window) != 2:
        raise ValueError(f"window: {name!r} takes one radius, e.g. ({name!r}, 10)")
    r = window[1]
    try:
        r = float(r)
    except (TypeError, ValueError):
        raise ValueError(f"window: radius must be a number, got {r!r}") from None
    if not (np.isfinite(r) and r >= 0):
        raise ValueError(f"window: radius must be finite and >= 0, got {r}")
    return r


def window_intervals(window, n: int, m: int):
    """Row intervals of a window.

    Parameters
    ----------
    window : None, tuple or ndarray of bool, shape (n, m)
        ``None`` (every cell), ``("sakoe_chiba", r)`` (``|i - j| <= r``),
        ``("slanted_band", r)`` (``|j - i (m-1)/(n-1)| <= r``), ``("itakura",)``
        (dtw-python's itakuraWindow), ``("rows", starts, stops)`` (row ``i`` admits
        ``starts[i] <= j < stops[i]``) or a boolean mask.
    n, m : int
        Lengths of ``x`` and ``y``.

    Returns
    -------
    lo, hi : ndarray of int64, shape (n,)
        Admitted columns per row (``lo == hi`` for an empty row).
    mask : ndarray of bool, shape (n, m), or None
        Only for a mask whose rows are not contiguous.
    """
    rows = np.arange(n, dtype=np.int64)
    if window is None:
        return np.zeros(n, np.int64), np.full(n, m, np.int64), None
    if isinstance(window, np.ndarray) and window.dtype == bool:
        if window.shape != (n, m):
            raise ValueError(f"window: a mask must have shape {(n, m)}, got {window.shape}")
        any_ = window.any(axis=1)
        lo = np.where(any_, np.argmax(window, axis=1), 0).astype(np.int64)
        hi = np.where(any_, m - np.argmax(window[:, ::-1], axis=1), 0).astype(np.int64)
        counts = window.sum(axis=1)
        contiguous = bool(np.all(counts == hi - lo))
        return lo, hi, None if contiguous else np.ascontiguousarray(window)
    if not isinstance(window, tuple | list) or not window or not isinstance(window[0], str):
        raise ValueError("window: expected None, a boolean (N, M) mask or a tuple such as "
                         f"('sakoe_chiba', r), got {type(window).__name__}")
    kind = window[0]
    if kind == "sakoe_chiba":
        r = _radius(window, kind)
        ri = int(np.floor(r))
        lo = np.maximum(rows - ri, 0)
        hi = np.minimum(rows + ri + 1, m)
    elif kind == "slanted_band":
        r = _radius(window, kind)
        diag = rows * (m - 1) / (n - 1) if n > 1 else np.zeros(n)
        lo = np.ceil(diag - r).astype(np.int64)
        hi = np.floor(diag + r).astype(np.int64) + 1
        # settle the float rounding exactly as the predicate |j - diag| <= r
        lo = np.where(np.abs(lo - 1 - diag) <= r, lo - 1, lo)
        lo = np.where(np.abs(lo - diag) <= r, lo, lo + 1)
        hi = np.where(np.abs(hi - diag) <= r, hi + 1, hi)
        hi = np.where(np.abs(hi - 1 - diag) <= r, hi, hi - 1)
        lo = np.clip(lo, 0, m)
        hi = np.clip(hi, 0, m)
    elif kind == "itakura":
        if len(window) != 1:
            raise ValueError("window: ('itakura',) takes no parameter")
        # dtw-python: j <= 2i, i <= 2j + 1, i >= n - 2m + 2j, j > m - 2n + 2i
        lo = np.maximum(np.maximum((rows - 1 + 1) // 2, m - 2 * n + 2 * rows + 1), 0)
        hi = np.minimum(np.minimum(2 * rows, (rows - n + 2 * m) // 2), m - 1) + 1
    elif kind == "rows":
        if len(window) != 3:
            raise ValueError("window: ('rows', starts, stops) takes two arrays")
        lo = np.asarray(window[1])
        hi = np.asarray(window[2])
        for name, a in (("starts", lo), ("stops", hi)):
            if a.shape != (n,):
                raise ValueError(f"window: {name} must have shape ({n},), got {a.shape}")
            if not (np.issubdtype(a.dtype, np.integer)
                    or (np.all(np.isfinite(a)) and np.all(a == np.round(a)))):
                raise ValueError(f"window: {name} must hold integers")
        lo = np.clip(lo.astype(np.int64), 0, m)
        hi = np.clip(hi.astype(np.int64), 0, m)
    else:
        raise ValueError(f"window: unknown kind {kind!r}; expected one of {WINDOW_KINDS}")
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.maximum(np.asarray(hi, dtype=np.int64), lo)
    return np.ascontiguousarray(lo), np.ascontiguousarray(hi), None


def window_outline(lo: np.ndarray, hi: np.ndarray, max_blocks: int = 1000,
                   row_offset: int = 0, col_offset: int = 0, scale: int = 1) -> dict:
    """A compact outline of a row-interval window, for drawing and for the record.

    Rows are grouped into at most ``max_blocks`` consecutive blocks; each block keeps
    the smallest start and the largest stop of its rows, so the outline encloses the
    window (conservative when blocks hold several rows).

    Parameters
    ----------
    lo, hi : array (n,)
        Row ``i`` admits columns ``lo[i] <= j < hi[i]``.
    max_blocks : int
    row_offset, col_offset, scale : int
        Map to another frame grid: row ``i`` becomes rows ``i * scale + row_offset`` ..
        ``(i + 1) * scale - 1 + row_offset`` and columns likewise (a coarse window drawn
        on the full-rate grid of a trimmed part).

    Returns
    -------
    dict
        ``{"rows": [r0, r1, ...], "lo": [...], "hi": [...]}`` (plain ints, JSON-ready):
        block ``k`` covers rows ``rows[k] <= i < rows[k + 1]`` (``rows`` has one more
        entry than ``lo``), where the window admits columns ``lo[k] <= j < hi[k]``.
    """
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    n = lo.shape[0]
    if n == 0:
        return {"rows": [row_offset], "lo": [], "hi": []}
    if max_blocks < 1:
        raise ValueError(f"max_blocks must be at least 1, got {max_blocks}")
    edges = np.unique(np.linspace(0, n, min(n, max_blocks) + 1).astype(np.int64))
    block_lo = np.minimum.reduceat(lo, edges[:-1])
    block_hi = np.maximum.reduceat(hi, edges[:-1])
    return {"rows": (edges * scale + row_offset).tolist(),
            "lo": (block_lo * scale + col_offset).tolist(),
            "hi": (block_hi * scale + col_offset).tolist()}


def transpose_outline(outline: dict, n_a: int, n_b: int, max_blocks: int = 1000) -> dict:
    """The outline of :func:`window_outline` seen with A and B exchanged.

    Column blocks become row blocks; each keeps the hull of the rows that reach it, so
    the result still encloses the window. ``n_a``, ``n_b``: frames of A and B (before
    the exchange).
    """
    rows = np.asarray(outline["rows"], dtype=np.int64)
    lo = np.asarray(outline["lo"], dtype=np.int64)
    hi = np.asarray(outline["hi"], dtype=np.int64)
    if lo.size == 0 or n_b <= 0:
        return {"rows": [0], "lo": [], "hi": []}
    edges = np.unique(np.linspace(0, n_b, min(n_b, max_blocks) + 1).astype(np.int64))
    n_blocks = len(edges) - 1
    new_lo = np.full(n_blocks, np.iinfo(np.int64).max)
    new_hi = np.full(n_blocks, -1, dtype=np.int64)
    first = np.clip(np.searchsorted(edges, lo, side="right") - 1, 0, n_blocks - 1)
    last = np.clip(np.searchsorted(edges, np.maximum(hi - 1, lo), side="right") - 1,
                   0, n_blocks - 1)
    for k in range(lo.size):
        if hi[k] <= lo[k]:
            continue
        sl = slice(first[k], last[k] + 1)
        np.minimum(new_lo[sl], rows[k], out=new_lo[sl])
        np.maximum(new_hi[sl], min(int(rows[k + 1]), n_a), out=new_hi[sl])
    empty = new_hi < 0
    # columns no row reaches: an empty interval at the neighbouring rows
    new_lo[empty] = 0
    new_hi[empty] = 0
    return {"rows": edges.tolist(), "lo": new_lo.tolist(), "hi": new_hi.tolist()}
