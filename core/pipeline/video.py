"""Video against video: the crop between two copies.

One copy of a video is often a crop of the other (zoomed in, the borders cut off; a
rescale alone changes nothing for the thumbnails). Thumbnails of the whole frame then
compare different parts of the picture: in a shot that barely moves, a B frame matches
its neighbours in A as well as its own frame, and the path wanders by several frames.

:func:`match_crop` finds the crop from the frames themselves, before any alignment: for
every candidate (A cropped by c, or B cropped by c, ``CROPS``), every sampled B frame's
distance to its nearest A frame (cosine of the thumbnails); the candidate with the
lowest median wins, the uncropped pair unless a crop is clearly better. The thumbnails
of the pipeline are then made of the matching parts (:func:`thumbnail_of_small`).
Measured on the tuning pairs: ``benchmarks/accuracy/results.md``.
"""

from __future__ import annotations

import numpy as np

from ..features.video import thumbnail_of_small

__all__ = ["CROPS", "match_crop"]

# shares of the width and height cut off (half on each side); 0.02 apart (at most a
# 1 % mismatch of scale is left, under half a pixel of a thumbnail at its border)
CROPS = tuple(round(0.02 * k, 2) for k in range(11))
# frames sampled: every B frame up to this many, A frames up to this many
_SAMPLE_B = 120
_SAMPLE_A = 1500
# a crop must lower the median nearest-neighbour distance by this share to be chosen
_MARGIN = 0.05


def _sample(n, most):
    return np.unique(np.linspace(0, n - 1, min(n, most)).round().astype(np.int64))


def _nearest(xa, xb):
    """Per row of xb, the cosine distance to its nearest row of xa (rows unit norm)."""
    return 1.0 - np.max(xb @ xa.T, axis=1)


def match_crop(small_a, small_b):
    """The crop that makes A's and B's pictures match.

    Parameters
    ----------
    small_a, small_b : ndarray (T, 72, 128) uint8
        Every frame of each side, as ``core.features.video.small`` makes them.

    Returns
    -------
    (crop_a, crop_b), diag
        The shares of A's and B's width and height to cut off (one of them 0), and the
        median distances per candidate.
    """
    ia = _sample(small_a.shape[0], _SAMPLE_A)
    ib = _sample(small_b.shape[0], _SAMPLE_B)
    sa, sb = small_a[ia], small_b[ib]
    a0, b0 = thumbnail_of_small(sa, 0.0), thumbnail_of_small(sb, 0.0)
    scores = {(0.0, 0.0): float(np.median(_nearest(a0, b0)))}
    for c in CROPS[1:]:
        scores[(c, 0.0)] = float(np.median(_nearest(thumbnail_of_small(sa, c), b0)))
        scores[(0.0, c)] = float(np.median(_nearest(a0, thumbnail_of_small(sb, c))))
    best = min(scores, key=scores.get)
    if scores[best] > (1.0 - _MARGIN) * scores[(0.0, 0.0)]:
        best = (0.0, 0.0)
    diag = {"crop_a": best[0], "crop_b": best[1],
            "median_distance": round(scores[best], 4),
            "median_distance_uncropped": round(scores[(0.0, 0.0)], 4)}
    return best, diag
