"""Qt-free path thumbnails for the batch triage table: a small RGB image of a path."""

from __future__ import annotations

import numpy as np

from core.alignment import Alignment

__all__ = ["path_thumbnail", "THUMB_SIZE"]

THUMB_SIZE = (72, 40)  # width (time of A), height (time of B)
_BACK = np.array([22, 24, 28], np.uint8)
_DIAG = np.array([60, 64, 72], np.uint8)
_SURE = np.array([90, 220, 120], np.float64)
_DOUBT = np.array([255, 70, 60], np.float64)


def path_thumbnail(alignment: Alignment, size: tuple[int, int] = THUMB_SIZE) -> np.ndarray:
    """An ``(height, width, 3)`` uint8 image of ``alignment``'s path: time of A to the
    right, time of B upwards, the diagonal in grey; each point coloured from green
    (confidence 1) to red (0), white when the alignment has no confidence."""
    w, h = int(size[0]), int(size[1])
    img = np.empty((h, w, 3), np.uint8)
    img[:] = _BACK
    n = max(w, h) * 4
    d = np.linspace(0.0, 1.0, n)
    img[(h - 1 - np.round(d * (h - 1))).astype(int), np.round(d * (w - 1)).astype(int)] = _DIAG
    t = alignment.times_s
    da, db = max(alignment.duration_a_s, 1e-9), max(alignment.duration_b_s, 1e-9)
    # at most a few points per pixel column: a long path is sampled evenly
    step = max(1, len(t) // (8 * w))
    rows = np.arange(0, len(t), step)
    x = np.clip(np.round(t[rows, 0] / da * (w - 1)), 0, w - 1).astype(int)
    y = np.clip(h - 1 - np.round(t[rows, 1] / db * (h - 1)), 0, h - 1).astype(int)
    if alignment.confidence is not None:
        c = np.clip(np.nan_to_num(alignment.confidence[rows], nan=0.0), 0.0, 1.0)[:, None]
        colours = np.round(c * _SURE + (1 - c) * _DOUBT).astype(np.uint8)
    else:
        colours = np.full((len(rows), 3), 240, np.uint8)
    img[y, x] = colours
    img[np.maximum(y - 1, 0), x] = colours  # two pixels thick
    return img
