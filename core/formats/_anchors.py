"""A monotone path as strictly increasing anchor pairs, and back.

Tier formats (Praat point tiers, ELAN tiers) cannot hold two marks at the same time,
while a warping path repeats a frame of A wherever B advances alone. These formats store
the path's anchors: the first row, the last row, and every row where both frames have
moved past the previous anchor. Re-importing joins consecutive anchors with a straight
run followed by one diagonal step (the shape a continuous path takes between such
anchors), or a digital line when both moved more than one frame; the result passes
through every anchor, so the time map differs from the original by at most a frame
between anchors.
"""

from __future__ import annotations

import numpy as np

__all__ = ["path_anchors", "fill_path"]


def path_anchors(path: np.ndarray) -> np.ndarray:
    """Rows of ``path`` (L, 2) that increase strictly in both columns, ends included."""
    path = np.asarray(path)
    anchors = [path[0]]
    for row in path[1:]:
        if row[0] > anchors[-1][0] and row[1] > anchors[-1][1]:
            anchors.append(row)
    last = path[-1]
    if not np.array_equal(anchors[-1], last):
        while len(anchors) > 1 and (anchors[-1][0] >= last[0] or anchors[-1][1] >= last[1]):
            anchors.pop()
        if anchors[-1][0] < last[0] and anchors[-1][1] < last[1]:
            anchors.append(last)
    return np.array(anchors, dtype=np.int64).reshape(-1, 2)


def fill_path(anchors: np.ndarray) -> np.ndarray:
    """A monotone path with unit steps through every anchor (anchors strictly increase)."""
    anchors = np.asarray(anchors, dtype=np.int64).reshape(-1, 2)
    rows = [anchors[0]]
    for (i0, j0), (i1, j1) in zip(anchors[:-1], anchors[1:], strict=True):
        di, dj = int(i1 - i0), int(j1 - j0)
        if di == 1:
            seg = [(i0, j0 + s) for s in range(1, dj)] + [(i1, j1)]
        elif dj == 1:
            seg = [(i0 + s, j0) for s in range(1, di)] + [(i1, j1)]
        else:
            n = max(di, dj)
            s = np.arange(1, n + 1)
            seg = np.stack([i0 + np.round(s * di / n), j0 + np.round(s * dj / n)], axis=1)
        rows.extend(np.asarray(seg, dtype=np.int64).reshape(-1, 2))
    return np.array(rows, dtype=np.int64).reshape(-1, 2)
