"""A confidence for results whose method gives none: how much cheaper the path's cell
is than the cells of B beside it, in the cost image's features.

Where the cost valley is sharp (the path's frame of B matches far better than its
neighbours a fraction of a second away), the confidence is near 1; where it is flat
(a held note, a pause, unrelated content), near 0. Worker-side, O(L·D) per offset.
"""

from __future__ import annotations

import numpy as np

from core.display import path_local_cost

__all__ = ["cost_margin_confidence", "OFFSETS_S", "SOURCE"]

#: how far (seconds on B) the neighbouring cells lie, each side of the path
OFFSETS_S = (0.15, 0.3, 0.6, 1.0)
#: smoothing of the per-step values (seconds of A)
SMOOTH_S = 0.5
#: what ``diagnostics["confidence_source"]`` says for a confidence made here
SOURCE = "cost margin: the path's cost against its neighbours on B (image features)"


def cost_margin_confidence(x, y, path: np.ndarray, rate_a_hz: float, rate_b_hz: float, *,
                           metric: str = "euclidean") -> np.ndarray:
    """Confidence in [0, 1] per path step: ``1 - c / mean(c_k)`` clipped, with ``c``
    the cost at the path's cell and ``c_k`` the costs at the cells of B shifted by
    :data:`OFFSETS_S` each way (inside B), smoothed over :data:`SMOOTH_S` of A."""
    path = np.asarray(path)
    m = len(y)
    here = path_local_cost(x, y, path, metric=metric)
    around = np.zeros(len(path))
    count = 0
    for off_s in OFFSETS_S:
        k = max(1, int(round(off_s * rate_b_hz)))
        for sign in (-1, 1):
            shifted = path.copy()
            shifted[:, 1] = np.clip(path[:, 1] + sign * k, 0, m - 1)
            around += path_local_cost(x, y, shifted, metric=metric)
            count += 1
    around /= count
    conf = np.clip(1.0 - here / np.maximum(around, 1e-12), 0.0, 1.0)
    conf = np.where(around > 1e-12, conf, 0.0)
    steps = max(1, int(SMOOTH_S * rate_a_hz))
    from scipy.ndimage import uniform_filter1d  # 0.3 s to import: not before the window

    return uniform_filter1d(conf, steps, mode="nearest")
