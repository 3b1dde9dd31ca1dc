"""Alignments and annotations shared by the format tests."""

import numpy as np

from core import Alignment


def sample_alignment(rate_a=50.0, rate_b=22050 / 512, **kw) -> Alignment:
    """A continuous DTW-like path with horizontal and vertical runs."""
    rng = np.random.default_rng(3)
    steps = rng.choice(3, size=300, p=[0.2, 0.2, 0.6])
    moves = np.array([[1, 0], [0, 1], [1, 1]])[steps]
    path = np.vstack([[0, 0], np.cumsum(moves, axis=0)])
    return Alignment(path, rate_a, rate_b, method="dtw", **kw)


def interp_alignment(ta, tb, rate=100.0) -> Alignment:
    """A path at ``rate`` through the knots ``(ta, tb)`` seconds (piecewise linear)."""
    n_a = int(round(ta[-1] * rate)) + 1
    i = np.arange(n_a)
    j = np.round(np.interp(i / rate, ta, tb) * rate).astype(int)
    path = [(0, j[0])]
    for ii, jj in zip(i[1:], j[1:], strict=True):
        pi, pj = path[-1]
        for k in range(pj + 1, jj):
            path.append((pi, k))
        path.append((ii, max(jj, pj)))
    return Alignment(np.array(path), rate, rate)
