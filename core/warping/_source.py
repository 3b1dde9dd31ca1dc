"""Where local costs come from: a precomputed matrix, two feature sequences, or a weighted
sum of feature terms (:class:`FeatureTerms`)."""

from __future__ import annotations

import copy
import hashlib
import math
from typing import NamedTuple

import numpy as np

from .._kernels import CITYBLOCK, COSINE, EUCLIDEAN, SQEUCLIDEAN
from ..cost import METRICS, _block, check_features, check_metric, unit_rows

__all__ = ["CostSource", "FeatureTerms", "Term", "pool_frames"]

METRIC_CODES = {"sqeuclidean": SQEUCLIDEAN, "euclidean": EUCLIDEAN, "cityblock": CITYBLOCK,
                "cosine": COSINE}
_METRIC_NAMES = {v: k for k, v in METRIC_CODES.items()}
POOLS = ("mean", "max")


def pool_frames(a, factor, how="mean"):
    """Pool consecutive blocks of ``factor`` frames (the last block may be shorter):
    their mean, or with ``how="max"`` their maximum (onset-like features keep their
    peaks). The one pooling function of the engine and the pipelines."""
    factor = int(factor)
    n, d = a.shape
    if factor <= 1:
        return np.asarray(a, dtype=np.float64)
    full = n // factor
    out = np.empty((-(-n // factor), d))
    # a reshape and a reduction over the middle axis: several times faster than reduceat
    blocks = a[:full * factor].reshape(full, factor, d)
    if how == "max":
        np.max(blocks, axis=1, out=out[:full])
        if full < out.shape[0]:
            out[full] = a[full * factor:].max(axis=0)
    else:
        np.sum(blocks, axis=1, out=out[:full])
        out[:full] /= factor
        if full < out.shape[0]:
            out[full] = a[full * factor:].mean(axis=0)
    return out


def _hash_arrays(arrays, extra=b""):
    """A cheap check that a re-solve is given the same inputs: a hash of the shapes and of
    at most ~64k evenly spaced values of each array (not a proof of equality)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(extra)
    for a in arrays:
        h.update(repr(a.shape).encode())
        flat = a.reshape(-1)
        step = max(1, flat.shape[0] // 65536)
        h.update(np.ascontiguousarray(flat[::step], dtype=np.float64).tobytes())
    return h.hexdigest()


class CostSource:
    """Local costs of a (sub)problem of shape (n, m), offset (i_off, j_off) in the whole.

    From features, the kernels read ``x`` (N, D) and ``y`` (M, D) and the cost of a cell
    is ``sum_g group_weights[g] * distance_g``, where group ``g`` is the dimensions
    ``groups[g, 0] .. groups[g, 1] - 1`` under the metric coded ``groups[g, 2]`` (cosine
    groups on unit rows). A plain metric is one group of weight 1."""

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
        if cost is None:
            self.groups = np.array([[0, x.shape[1], METRIC_CODES[metric]]], dtype=np.int64)
            self.group_weights = np.ones(1)
        else:
            self.groups = self.group_weights = None
        self._cache = {}  # kernel copies of the features, shared with sub-problems

    @property
    def dims(self):
        return 0 if self.cost is not None else self.x.shape[1]

    @property
    def is_root(self):
        full = self.cost.shape if self.cost is not None else (self.x.shape[0],
                                                              self.y.shape[0])
        return self.i_off == 0 and self.j_off == 0 and (self.n, self.m) == tuple(full)

    def sub(self, i0, j0, n, m):
        """The sub-problem of local rows i0..i0+n-1, columns j0..j0+m-1."""
        s = copy.copy(self)
        s.i_off, s.j_off = self.i_off + int(i0), self.j_off + int(j0)
        s.n, s.m = int(n), int(m)
        return s

    def block(self, r0, r1, c0, c1):
        """``(array, ci0, cj0)`` with ``array[a, b]`` the cost of local cell
        ``(ci0 + a, cj0 + b)``; covers at least rows r0..r1-1, columns c0..c1-1."""
        if self.cost is not None:
            return self.cost, -self.i_off, -self.j_off
        return self.costs(r0, r1, c0, c1), r0, c0

    def costs(self, r0, r1, c0, c1):
        """The local costs of rows r0..r1-1 and columns c0..c1-1 (float64, computed with
        numpy: the kernels compute the same in float32)."""
        if self.cost is not None:
            return np.array(self.cost[self.i_off + r0:self.i_off + r1,
                                      self.j_off + c0:self.j_off + c1], dtype=np.float64)
        xs = self.x[self.i_off + r0:self.i_off + r1]
        ys = self.y[self.j_off + c0:self.j_off + c1]
        out = None
        for (d0, d1, code), w in zip(self.groups, self.group_weights, strict=True):
            if w == 0.0:
                continue
            part = _block(np.ascontiguousarray(xs[:, d0:d1]),
                          np.ascontiguousarray(ys[:, d0:d1]), _METRIC_NAMES[int(code)])
            if w != 1.0:
                part *= w
            out = part if out is None else out + part
        return np.ascontiguousarray(out)

    def cell(self, i, j):
        if self.cost is not None:
            return float(self.cost[self.i_off + i, self.j_off + j])
        return float(self.costs(i, i + 1, j, j + 1)[0, 0])

    def pooled(self, factor):
        """The (sub)problem at a rate ``factor`` times lower, as a new whole problem
        (features only; :func:`pool_frames`, cosine rows normalized again)."""
        x = self.x[self.i_off:self.i_off + self.n]
        y = self.y[self.j_off:self.j_off + self.m]
        return CostSource(x=pool_frames(x, factor), y=pool_frames(y, factor),
                          metric=self.metric)

    def transposed(self):
        """The whole problem with A and B exchanged."""
        if self.cost is not None:
            return CostSource(cost=np.ascontiguousarray(self.cost.T))
        return CostSource(x=self.y, y=self.x, metric=self.metric)

    def fingerprint(self):
        """Per side (``{"a": ..., "b": ...}``, or ``{"cost": ...}``) a sampled hash of the
        inputs, to check that a re-solve is given the same ones."""
        if self.cost is not None:
            return {"cost": _hash_arrays([self.cost])}
        return {"a": _hash_arrays([self.x]), "b": _hash_arrays([self.y])}


class Term(NamedTuple):
    """One feature's contribution to a multi-term local cost.

    ``x`` (N, D) and ``y`` (M, D) are the feature of A and B, ``metric`` one of
    :data:`core.cost.METRICS`, ``pool`` how the term is brought to a lower rate
    (``"mean"``, or ``"max"`` for onset-like features, which keep their peaks)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    metric: str = "euclidean"
    pool: str = "mean"


class FeatureTerms(CostSource):
    """Local costs as a weighted sum of feature terms, computed in the kernels.

    ``cost(i, j) = sum_k weights[k] * d_k(x_k[i], y_k[j])`` with ``d_k`` the metric of term
    ``k``. Cosine terms (unit rows) share one group of dimensions: on unit rows
    ``sum_k w_k (1 - <x_k, y_k>) = W (1 - <x', y'>)`` with ``W = sum_k w_k`` and the rows
    scaled by ``sqrt(w_k / W)``, so they cost one dot product; every other term is a
    group of its own (a square root each for euclidean). Terms of weight 0 are kept (a
    :meth:`reweighted` copy may use them) but cost nothing. Reweighted copies share the
    kernel arrays as long as the cosine weights keep their proportions.

    Parameters
    ----------
    terms : sequence of Term or (name, x, y[, metric[, pool]]) tuples
        Every term's ``x`` has the same number of rows N, every ``y`` the same M.
    weights : sequence of float, optional
        Non-negative, finite, at least one positive; default all 1.

    Raises
    ------
    ValueError
        Empty or mismatched terms, NaN or infinite features, an unknown metric or pool,
        bad weights (naming the term or argument).
    """

    def __init__(self, terms, weights=None):
        if isinstance(terms, Term) or not isinstance(terms, list | tuple) or not terms:
            raise ValueError("terms: expected a non-empty sequence of Term(name, x, y, "
                             "metric, pool)")
        checked = []
        for k, t in enumerate(terms):
            try:
                t = Term(*t)
            except TypeError:
                raise ValueError(f"terms[{k}]: expected Term(name, x, y, metric, pool), got "
                                 f"{type(t).__name__}") from None
            x = check_features(f"terms[{k}].x", t.x)
            y = check_features(f"terms[{k}].y", t.y)
            if x.shape[1] != y.shape[1]:
                raise ValueError(f"terms[{k}]: x and y have different dimensions "
                                 f"({x.shape[1]} vs {y.shape[1]})")
            try:
                check_metric(t.metric)
            except ValueError:
                raise ValueError(f"terms[{k}].metric: expected one of {METRICS}, got "
                                 f"{t.metric!r}") from None
            if t.pool not in POOLS:
                raise ValueError(f"terms[{k}].pool: expected one of {POOLS}, got {t.pool!r}")
            if checked and (x.shape[0], y.shape[0]) != (checked[0].x.shape[0],
                                                       checked[0].y.shape[0]):
                raise ValueError(f"terms[{k}]: {x.shape[0]} x {y.shape[0]} frames, the first "
                                 f"term has {checked[0].x.shape[0]} x {checked[0].y.shape[0]}")
            if t.metric == "cosine":
                x, y = unit_rows(x), unit_rows(y)
            checked.append(Term(str(t.name), x, y, t.metric, t.pool))
        self._init(tuple(checked), _check_weights(weights, len(checked)))

    def _init(self, terms, weights, shared=None):
        self.terms = terms
        self.weights = weights
        self.cost = None
        self.i_off = self.j_off = 0
        self.n, self.m = terms[0].x.shape[0], terms[0].y.shape[0]
        # what every reweighted copy of these terms shares: the fingerprint and the
        # kernel layouts (with their kernel copies of the features), one per proportion
        # of the cosine weights
        self._shared = {"layouts": {}} if shared is None else shared
        cos = [k for k, t in enumerate(terms) if t.metric == "cosine" and weights[k] > 0]
        total = math.fsum(weights[k] for k in cos)
        key = tuple((k, weights[k] / total) for k in cos)
        layouts = self._shared["layouts"]
        if not key and layouts:  # no cosine weight: any layout will do (its cosine
            key = next(iter(layouts))  # group, if any, weighs 0)
        layout = layouts.get(key)
        if layout is None:
            layout = layouts[key] = _layout(terms, key)
        self.x, self.y, self.groups, self._cache = layout
        # the cosine group weighs their sum; every other term is a group (weight 0:
        # skipped by the kernels)
        gw = ([total] if key else []) + [weights[k] for k, t in enumerate(terms)
                                          if t.metric != "cosine"]
        self.group_weights = np.array(gw, dtype=np.float64)
        single = len(gw) == 1 and gw[0] == 1.0
        self.metric = _METRIC_NAMES[int(self.groups[0, 2])] if single else "terms"

    @classmethod
    def _trusted(cls, terms, weights, shared=None):
        s = cls.__new__(cls)
        s._init(tuple(terms), tuple(float(w) for w in weights), shared)
        return s

    @property
    def names(self):
        return [t.name for t in self.terms]

    def reweighted(self, weights):
        """The same terms with other weights (no copy of the terms' features)."""
        w = _check_weights(weights, len(self.terms))
        out = FeatureTerms._trusted(self.terms, w, self._shared)
        if (self.i_off, self.j_off, self.n, self.m) != (0, 0, out.n, out.m):
            out = out.sub(self.i_off, self.j_off, self.n, self.m)
        return out

    def pooled(self, factor):
        """The (sub)problem at a rate ``factor`` times lower, as a new whole problem: each
        term pooled as its ``pool`` says, cosine rows normalized again."""
        if int(factor) <= 1 and self.is_root:
            return self
        terms = []
        for t in self.terms:
            x = t.x[self.i_off:self.i_off + self.n]
            y = t.y[self.j_off:self.j_off + self.m]
            if int(factor) > 1:
                x, y = pool_frames(x, factor, t.pool), pool_frames(y, factor, t.pool)
                if t.metric == "cosine":
                    x, y = unit_rows(x), unit_rows(y)
            terms.append(Term(t.name, x, y, t.metric, t.pool))
        return FeatureTerms._trusted(terms, self.weights)

    def transposed(self):
        """The whole problem with A and B exchanged."""
        return FeatureTerms._trusted([Term(t.name, t.y, t.x, t.metric, t.pool)
                                      for t in self.terms], self.weights)

    def fingerprint(self):
        """Per side, a sampled hash of every term's features with its name, metric and
        pool (independent of the weights)."""
        out = self._shared.get("fingerprint")
        if out is None:
            out = {}
            for side in ("a", "b"):
                arrays = [t.x if side == "a" else t.y for t in self.terms]
                names = "|".join(f"{t.name}:{t.metric}:{t.pool}" for t in self.terms)
                out[side] = _hash_arrays(arrays, names.encode())
            self._shared["fingerprint"] = out
        return dict(out)

    def describe(self):
        """Plain values: each term's name, metric and pool (for a result's recipe)."""
        return [{"name": t.name, "metric": t.metric, "pool": t.pool} for t in self.terms]


def _layout(terms, cosine):
    """Kernel arrays of terms: the cosine terms of ``cosine`` ((term, share of the cosine
    weight) pairs) as one group of rows scaled by sqrt(share), then every other term as a
    group of its own. Returns (x, y, groups, cache)."""
    xs, ys, groups = [], [], []
    d = 0
    if cosine:
        for k, share in cosine:
            s = 1.0 if len(cosine) == 1 else math.sqrt(share)
            xs.append(terms[k].x if s == 1.0 else s * terms[k].x)
            ys.append(terms[k].y if s == 1.0 else s * terms[k].y)
            d += terms[k].x.shape[1]
        groups.append((0, d, COSINE))
    for t in terms:
        if t.metric == "cosine":
            continue
        xs.append(t.x)
        ys.append(t.y)
        groups.append((d, d + t.x.shape[1], METRIC_CODES[t.metric]))
        d += t.x.shape[1]
    x = xs[0] if len(xs) == 1 else np.ascontiguousarray(np.hstack(xs))
    y = ys[0] if len(ys) == 1 else np.ascontiguousarray(np.hstack(ys))
    return x, y, np.array(groups, dtype=np.int64).reshape(-1, 3), {}


def _check_weights(weights, n_terms):
    if weights is None:
        return (1.0,) * n_terms
    try:
        w = tuple(float(v) for v in weights)
    except (TypeError, ValueError):
        raise ValueError(f"weights: expected {n_terms} numbers, got {weights!r}") from None
    if len(w) != n_terms:
        raise ValueError(f"weights: expected {n_terms} numbers (one per term), got {len(w)}")
    if not all(math.isfinite(v) and v >= 0 for v in w) or not any(v > 0 for v in w):
        raise ValueError(f"weights: expected finite non-negative numbers, at least one "
                         f"positive, got {list(w)}")
    return w
