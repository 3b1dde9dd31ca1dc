"""A music pair played in two keys: the transposition between A and B, and B's pitch-class
features turned back to A's key (issue 16).

A copy played faster (resampled) or transposed by a singer or a band moves every pitch
class by the same number of semitones, and chroma-type features (12 pitch classes) then
compare the wrong classes: the path has nothing to follow (K.545 two semitones up: 2.2 s
mean error). The transposition is the roll of B's pitch classes under which the two
chroma sequences match best: each of the 12 rolls is scored by the DTW distance of the
chroma, averaged into at most ``_MAX_FRAMES`` frames per side (a few milliseconds in
all). A roll is applied only when the evidence is clear: its distance is below
``_CLEAR_RATIO`` of both the unrolled distance and the next-best roll's, so a pair in
one key never changes (on the public pairs the unrolled distance is 2-3 times below every
other roll's). The mean chroma alone is not enough: on the Bach chorale (piano against
strings, two semitones up) its circular correlation peaks at the wrong roll.
"""

from __future__ import annotations

import numpy as np

from ..warping import normalized_distance

__all__ = ["PITCH_CLASS_FEATURES", "estimate_shift", "transpose_terms"]

#: features whose 12 columns are pitch classes (C, C#, ..., B): rolled together
PITCH_CLASS_FEATURES = ("chroma", "cens", "dlnco")
_MAX_FRAMES = 150
_CLEAR_RATIO = 0.75


def _pooled(values, factor):
    n = values.shape[0] // factor
    if n == 0:
        return values[:1] / max(float(np.linalg.norm(values[:1])), 1e-12)
    p = values[:n * factor].reshape(n, factor, -1).mean(axis=1)
    return p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)


def estimate_shift(x, y):
    """The roll of B's pitch classes that matches A's, and the evidence.

    Parameters
    ----------
    x, y : numpy.ndarray, shape (N, 12) and (M, 12)
        Chroma of A and B (any non-negative pitch-class energies).

    Returns
    -------
    shift : int
        ``k`` in 0..11 such that ``np.roll(y, -k, axis=1)`` is in A's key (B is ``k``
        semitones above A, modulo the octave); 0 unless the evidence is clear.
    costs : numpy.ndarray, shape (12,)
        The normalized DTW distance (cosine, symmetric2) of each roll.

    Notes
    -----
    12 DTWs on at most ``_MAX_FRAMES`` x ``_MAX_FRAMES`` cells: O(12 F^2), milliseconds.
    """
    factor = max(1, -(-max(x.shape[0], y.shape[0]) // _MAX_FRAMES))
    px, py = _pooled(np.asarray(x, np.float64), factor), _pooled(np.asarray(y, np.float64),
                                                                  factor)
    costs = np.empty(12)
    for k in range(12):
        cost = np.clip(1.0 - px @ np.roll(py, -k, axis=1).T, 0.0, None)
        costs[k] = normalized_distance(cost)
    best = int(np.argmin(costs))
    others = np.delete(costs, best)
    if best == 0 or not costs[best] < _CLEAR_RATIO * min(costs[0], float(others.min())):
        return 0, costs
    return best, costs


def transpose_terms(terms):
    """The terms with B's pitch-class features rolled into A's key, and what was done.

    Returns ``(terms, info)``: ``info["shift_semitones"]`` (B above A, -5..6, 0 when
    nothing was rolled), ``info["applied"]`` and the 12 distances. Terms without a
    ``chroma`` term are returned unchanged.
    """
    chroma = [t for t in terms if t.name == "chroma" and t.x.shape[1] == 12]
    if not chroma:
        return terms, {"applied": False}
    shift, costs = estimate_shift(chroma[0].x, chroma[0].y)
    info = {"applied": bool(shift), "shift_semitones": int((shift + 5) % 12 - 5) if shift
            else 0, "costs": [round(float(c), 4) for c in costs]}
    if not shift:
        return terms, info
    out = [t._replace(y=np.ascontiguousarray(np.roll(t.y, -shift, axis=1)))
           if t.name in PITCH_CLASS_FEATURES and t.y.shape[1] == 12 else t for t in terms]
    return out, info
