"""Video against video: the crop between two copies.

One copy of a video is often a crop of the other (zoomed in, the borders cut off; a
rescale alone changes nothing for the thumbnails). Thumbnails of the whole frame then
compare different parts of the picture: in a shot that barely moves, a B frame matches
its neighbours in A as well as its own frame, and the path wanders by several frames.

:func:`match_crop` finds the crop from the frames themselves, before any alignment: for
every candidate (A cropped by c, or B cropped by c, ``CROPS``, then finer next to the
best), every sampled B frame's
distance to its nearest A frame (cosine of the thumbnails); the candidate with the
lowest median wins, the uncropped pair unless a crop is clearly better. The thumbnails
of the pipeline are then made of the matching parts (:func:`thumbnail_of_small`).
Measured on the tuning pairs: ``benchmarks/accuracy/results.md``.
"""

from __future__ import annotations

import numpy as np

from ..features.video import thumbnail_of_small

__all__ = ["CROPS", "match_crop"]

# shares of the width and height cut off (half on each side): searched 0.04 apart, then
# 0.02 and 0.01 on either side of the best (at most a 0.5 % mismatch of scale is left,
# under a quarter of a thumbnail's pixel at its border)
CROPS = tuple(round(0.04 * k, 2) for k in range(6))
_FINE = 0.02
# frames sampled: the cropped side's frames (the queries) and the other side's (searched)
_SAMPLE_QUERY = 48
_SAMPLE_SEARCHED = 240
# then a blur of either side (sigma in pixels of the small frames, 64 x 36): a sharp
# copy against a blurred, noisy or compressed one; in a slow zoom sharpness changes
# along the shot and the blurred copy's frames would match later (or earlier) frames
BLURS = (0.5, 1.0, 1.5, 2.0)
# a crop must lower the median nearest-neighbour distance by this share to be chosen
_MARGIN = 0.05


def _sample(n, most):
    return np.unique(np.linspace(0, n - 1, min(n, most)).round().astype(np.int64))


def _nearest(searched, queries):
    """Per query row, the cosine distance to its nearest searched row (rows unit norm);
    einsum's own loop (a BLAS product of this small size waits on its threads)."""
    return 1.0 - np.max(np.einsum("ik,jk->ij", queries, searched), axis=1)


def match_crop(small_a, small_b):
    """The crop and the blur that make A's and B's pictures match.

    Parameters
    ----------
    small_a, small_b : ndarray (T, 36, 64) uint8
        Every frame of each side, as ``core.features.video.small`` makes them.

    Returns
    -------
    (crop_a, crop_b), (blur_a, blur_b), diag
        The shares of A's and B's width and height to cut off (one of them 0), the blur
        to give each side (one of them 0), and the chosen crop's median distance
        relative to the uncropped one's.
    """
    smalls = (small_a, small_b)
    queries = [s[_sample(s.shape[0], _SAMPLE_QUERY)] for s in smalls]
    searched = [thumbnail_of_small(s[_sample(s.shape[0], _SAMPLE_SEARCHED)], 0.0)
                for s in smalls]
    plain = {}
    scores = {}

    def score(side, c):
        # side 0: A cropped by c, its frames looked up among B's; side 1: the other way
        if (side, c) not in scores:
            if side not in plain:
                plain[side] = float(np.median(_nearest(
                    searched[1 - side], thumbnail_of_small(queries[side], 0.0))))
            d = float(np.median(_nearest(searched[1 - side],
                                         thumbnail_of_small(queries[side], c))))
            scores[(side, c)] = d / max(plain[side], 1e-12)
        return scores[(side, c)]

    for c in CROPS[1:]:
        score(0, c), score(1, c)
    for step in (_FINE, _FINE / 2):  # finer on either side of the best so far
        side, c = min(scores, key=scores.get)
        for fine in (c - step, c + step):
            fine = round(fine, 3)
            if fine > 0:
                score(side, fine)
    side, c = min(scores, key=scores.get)
    if scores[(side, c)] > 1.0 - _MARGIN:
        side, c = 0, 0.0
    crop = (c, 0.0) if side == 0 else (0.0, c)
    diag = {"crop_a": crop[0], "crop_b": crop[1],
            "relative_distance": round(scores.get((side, c), 1.0), 4)}
    # the blur, on the crop found (either side may be the sharper one)
    cropped = [thumbnail_of_small(q, cr) for q, cr in zip(queries, crop, strict=True)]
    searched = [x if cr == 0 else thumbnail_of_small(s[_sample(s.shape[0], _SAMPLE_SEARCHED)],
                                                     cr)
                for x, s, cr in zip(searched, smalls, crop, strict=True)]
    base = [float(np.median(_nearest(searched[1 - k], cropped[k]))) for k in (0, 1)]
    blurs = {}
    for k in (0, 1):  # side k blurred: its frames looked up among the other side's
        for sigma in BLURS:
            d = float(np.median(_nearest(searched[1 - k], thumbnail_of_small(
                queries[k], crop[k], blur=sigma))))
            blurs[(k, sigma)] = d / max(base[k], 1e-12)
    k, sigma = min(blurs, key=blurs.get)
    blur = (0.0, 0.0)
    if blurs[(k, sigma)] <= 1.0 - _MARGIN:
        blur = (sigma, 0.0) if k == 0 else (0.0, sigma)
    diag.update(blur_a=blur[0], blur_b=blur[1])
    return crop, blur, diag
