"""Synthetic sequences with a known alignment, for tests and benchmarks.

``warped_views`` makes two views of one smooth latent path through unknown linear maps of
different dimensions, with noise and known non-linear warps: the case Canonical Time
Warping is made for, and one plain DTW cannot even compare.
"""

from __future__ import annotations

import numpy as np

__all__ = ["warped_views", "mean_path_error"]


def warped_views(n=600, m=720, dx=20, dy=30, latent=3, noise=0.1, seed=0):
    """Two warped views of one latent path.

    Returns
    -------
    x : ndarray, shape (n, dx)
    y : ndarray, shape (m, dy)
    j_true : ndarray, shape (n,)
        The true (fractional) frame of ``y`` for each frame of ``x``.
    """
    rng = np.random.default_rng(seed)
    freq = rng.uniform(1, 4, (latent, 2))
    phase = rng.uniform(0, 2 * np.pi, (latent, 2))

    def z(t):
        return np.stack([np.sin(2 * np.pi * f[0] * t + p[0])
                         + 0.5 * np.sin(2 * np.pi * f[1] * t + p[1])
                         for f, p in zip(freq, phase, strict=True)], axis=1)

    sa = np.linspace(0, 1, n)
    sb = np.linspace(0, 1, m)
    ta = sa + 0.08 * np.sin(2 * np.pi * sa)
    tb = 0.5 * sb ** 1.3 + 0.5 * sb - 0.05 * np.sin(4 * np.pi * sb)
    x = z(ta) @ rng.standard_normal((latent, dx)) + noise * rng.standard_normal((n, dx)) + 3
    y = z(tb) @ rng.standard_normal((latent, dy)) + noise * rng.standard_normal((m, dy)) - 1
    return x, y, np.interp(ta, tb, np.arange(m))


def mean_path_error(path, j_true):
    """Mean |path's frame of y - true frame| over the frames of x (runs averaged)."""
    path = np.asarray(path)
    n = len(j_true)
    total = np.zeros(n)
    count = np.zeros(n)
    np.add.at(total, path[:, 0], path[:, 1])
    np.add.at(count, path[:, 0], 1)
    return float(np.mean(np.abs(total / count - j_true)))
