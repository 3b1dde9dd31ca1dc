"""Segmentation: cut a stream into units from its features, and group units into kinds.

- :func:`novelty`: Foote's novelty curve, a checkerboard kernel (Gaussian-tapered) slid
  along the diagonal of the self-similarity matrix (cosine similarity of the frames).
- :func:`segment`: units between the novelty peaks, at least ``min_unit_s`` long (for
  video, shot cuts: the same on thumbnail features, where a cut is a sharp peak).
- :func:`unit_costs`: normalized DTW distance between every pair of units (of one
  stream or of two), so that units of different lengths compare fairly.
- :func:`cluster_units`: kinds by average-linkage clustering of those distances
  (repeated sections share a kind).
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Unit", "novelty", "segment", "unit_costs", "cluster_units", "frame_costs"]


@dataclasses.dataclass(frozen=True)
class Unit:
    """Frames ``start`` .. ``end - 1`` of a stream at ``rate_hz``; ``kind`` (-1: not
    clustered)."""

    start: int
    end: int
    rate_hz: float
    kind: int = -1

    @property
    def start_s(self) -> float:
        return self.start / self.rate_hz

    @property
    def end_s(self) -> float:
        return self.end / self.rate_hz

    def as_dict(self) -> dict:
        return {"start_s": round(self.start_s, 4), "end_s": round(self.end_s, 4),
                "kind": int(self.kind)}


def _unit(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def frame_costs(x, y):
    """Cosine distances (1 - cosine similarity) between the rows of x and y."""
    return np.clip(1.0 - _unit(x) @ _unit(y).T, 0.0, 2.0)


def novelty(x, half_width):
    """Foote novelty of features ``x`` (T, D) with a checkerboard kernel of
    ``half_width`` frames; shape (T,), zero at the ends."""
    x = _unit(x)
    t = x.shape[0]
    w = int(half_width)
    out = np.zeros(t)
    if t < 2 * w + 1 or w < 1:
        return out
    a = np.arange(-w, w) + 0.5
    taper = np.exp(-0.5 * (a / (0.5 * w)) ** 2)
    kernel = np.outer(taper, taper) * np.sign(a)[:, None] * np.sign(a)[None, :]
    kernel /= np.abs(kernel).sum()
    sim = x @ x.T  # small: the caller segments at a few frames per second
    for k in range(w, t - w):
        block = sim[k - w:k + w, k - w:k + w]
        out[k] = float(np.sum(block * kernel))
    return np.maximum(out, 0.0)


def segment(x, rate_hz, *, min_unit_s=2.0, kernel_s=2.0, threshold=None):
    """Cut a stream into units.

    Parameters
    ----------
    x : ndarray (T, D)
        Features at ``rate_hz``.
    min_unit_s : float
        No unit is shorter (except a whole stream shorter than that).
    kernel_s : float
        Half-width of the checkerboard kernel.
    threshold : float, optional
        Novelty a boundary must reach (default: mean + 0.5 std of the curve).

    Returns
    -------
    list of Unit
        Covering frames 0..T-1 in order.
    """
    x = np.asarray(x, dtype=np.float64)
    t = x.shape[0]
    if t == 0:
        return []
    curve = novelty(x, max(1, int(round(kernel_s * rate_hz))))
    if threshold is None:
        threshold = float(curve.mean() + 0.5 * curve.std())
    min_len = max(1, int(round(min_unit_s * rate_hz)))
    # peaks, strongest first, each keeping min_len away from the ends and the others
    peaks = [k for k in range(1, t - 1) if curve[k] >= threshold and curve[k] > 0
             and curve[k] >= curve[k - 1] and curve[k] > curve[k + 1]]
    peaks.sort(key=lambda k: -curve[k])
    chosen: list[int] = []
    for k in peaks:
        if k < min_len or t - k < min_len:
            continue
        if all(abs(k - c) >= min_len for c in chosen):
            chosen.append(k)
    bounds = [0, *sorted(chosen), t]
    return [Unit(s, e, float(rate_hz)) for s, e in zip(bounds[:-1], bounds[1:], strict=True)]


def unit_costs(cost, units_a, units_b):
    """Normalized DTW distance between every unit of A (rows of ``cost``) and of B
    (columns); shape (len(units_a), len(units_b))."""
    from .._kernels.jumps import unit_dtw

    cost = np.ascontiguousarray(cost, dtype=np.float64)
    out = np.empty((len(units_a), len(units_b)))
    for p, ua in enumerate(units_a):
        for q, ub in enumerate(units_b):
            out[p, q] = unit_dtw(cost, ua.start, ua.end, ub.start, ub.end)
    return out


def cluster_units(distances, threshold):
    """Kinds (labels 0, 1, ... in order of first appearance) from a square matrix of
    unit distances: average linkage, cut at ``threshold``."""
    d = np.asarray(distances, dtype=np.float64)
    n = d.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    sym = 0.5 * (d + d.T)
    np.fill_diagonal(sym, 0.0)
    labels = fcluster(linkage(squareform(np.maximum(sym, 0.0), checks=False), "average"),
                      t=float(threshold), criterion="distance")
    order: dict[int, int] = {}
    return np.array([order.setdefault(int(v), len(order)) for v in labels], dtype=np.int64)
