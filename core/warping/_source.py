"""Where local costs come from: a precomputed matrix or two feature sequences."""

from __future__ import annotations

import numpy as np

from ..cost import _block, unit_rows


class CostSource:
    """Local costs of a (sub)problem of shape (n, m), offset (i_off, j_off) in the whole."""

    def __init__(self, *, cost=None, x=None, y=None, metric="euclidean", i_off=0, j_off=0,
                 n=None, m=None):
        self.cost = cost
        self.metric = metric
        if cost is None and metric == "cosine" and i_off == 0 and j_off == 0 and n is None:
            x, y = unit_rows(x), unit_rows(y)
        self.x, self.y = x, y
        self.i_off, self.j_off = int(i_off), int(j_off)
        full = cost.shape if cost is not None else (x.shape[0], y.shape[0])
        self.n = full[0] - self.i_off if n is None else int(n)
        self.m = full[1] - self.j_off if m is None else int(m)

    @property
    def dims(self):
        return 0 if self.cost is not None else self.x.shape[1]

    def sub(self, i0, j0, n, m):
        """The sub-problem of local rows i0..i0+n-1, columns j0..j0+m-1."""
        s = CostSource.__new__(CostSource)
        s.cost, s.metric, s.x, s.y = self.cost, self.metric, self.x, self.y
        s.i_off, s.j_off = self.i_off + int(i0), self.j_off + int(j0)
        s.n, s.m = int(n), int(m)
        return s

    def block(self, r0, r1, c0, c1):
        """``(array, ci0, cj0)`` with ``array[a, b]`` the cost of local cell
        ``(ci0 + a, cj0 + b)``; covers at least rows r0..r1-1, columns c0..c1-1."""
        if self.cost is not None:
            return self.cost, -self.i_off, -self.j_off
        xs = self.x[self.i_off + r0:self.i_off + r1]
        ys = self.y[self.j_off + c0:self.j_off + c1]
        return np.ascontiguousarray(_block(xs, ys, self.metric)), r0, c0

    def cell(self, i, j):
        if self.cost is not None:
            return float(self.cost[self.i_off + i, self.j_off + j])
        a = self.x[self.i_off + i:self.i_off + i + 1]
        b = self.y[self.j_off + j:self.j_off + j + 1]
        return float(_block(a, b, self.metric)[0, 0])
