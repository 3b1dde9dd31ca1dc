"""Segmentation: cut a stream into units from its features, and group units into kinds.

- :func:`novelty`: Foote's novelty curve, a checkerboard kernel (Gaussian-tapered) slid
  along the diagonal of the self-similarity matrix (cosine similarity of the frames).
- :func:`segment`: units between the novelty peaks (each the highest point within
  ``min_unit_s`` around it, so the same material is cut the same way in any stream), at
  least ``min_unit_s`` long (for video, shot cuts: the same on thumbnail features, where
  a cut is a sharp peak).
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


# the default threshold's window, in kernel half-widths on either side of a frame
_THRESHOLD_KERNELS = 4


def _local_threshold(curve, radius):
    """Mean + 0.5 std of ``curve`` within ``radius`` frames of each frame (the statistics
    of the material around a frame, not of the whole stream: see :func:`segment`)."""
    from scipy.ndimage import uniform_filter1d

    size = 2 * int(radius) + 1
    mean = uniform_filter1d(curve, size, mode="nearest")
    square = uniform_filter1d(curve * curve, size, mode="nearest")
    return mean + 0.5 * np.sqrt(np.maximum(square - mean * mean, 0.0))


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
        Novelty a boundary must reach (default: mean + 0.5 std of the curve within four
        kernel half-widths of the frame, and at least the mean of the whole curve).

    Returns
    -------
    list of Unit
        Covering frames 0..T-1 in order.
    """
    x = np.asarray(x, dtype=np.float64)
    t = x.shape[0]
    if t == 0:
        return []
    half_width = max(1, int(round(kernel_s * rate_hz)))
    curve = novelty(x, half_width)
    if threshold is None:
        # never below the stream's mean: in a long quiet stretch the curve around is
        # all small noise, whose own mean + 0.5 std let noise peaks cut it every unit
        threshold = np.maximum(_local_threshold(curve, _THRESHOLD_KERNELS * half_width),
                               curve.mean())
    threshold = np.broadcast_to(np.asarray(threshold, dtype=np.float64), curve.shape)
    min_len = max(1, int(round(min_unit_s * rate_hz)))
    # A boundary is the highest point of the curve within min_len - 1 frames on either side
    # (the first of equal highs), so that whether a frame is cut depends only on the
    # material around it. Choosing the strongest peaks of the whole stream first (as this
    # did before) let a peak far away suppress a neighbour, which freed another, and so
    # on: the same section was cut differently in two recordings that differ elsewhere,
    # and its units got different kinds (a repeat pair's last sections).
    chosen = [k for k in range(min_len, t - min_len + 1)
              if curve[k] > 0 and curve[k] >= threshold[k]
              and curve[k] > curve[max(0, k - min_len + 1):k].max(initial=0.0)
              and curve[k] >= curve[k + 1:k + min_len].max(initial=0.0)]
    bounds = [0, *chosen, t]
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
