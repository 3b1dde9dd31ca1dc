"""Video against video: the crop between two copies, and the frames one copy skipped.

One copy of a video is often a crop of the other (zoomed in, the borders cut off; a
rescale alone changes nothing for the thumbnails). Thumbnails of the whole frame then
compare different parts of the picture: in a shot that barely moves, a B frame matches
its neighbours in A as well as its own frame, and the path wanders by several frames.

:func:`match_crop` finds the crop from the frames themselves, before any alignment: for
every candidate (A cropped by c, or B cropped by c, ``CROPS``, then finer next to the
best), every sampled B frame's
distance to its nearest A frame (cosine of the thumbnails); the candidate with the
lowest median wins, the uncropped pair unless a crop is clearly better. The thumbnails
of the pipeline are then made of the matching parts (:func:`thumbnail_of_small`), at the
sharpness of the softer copy, and both a little softer still (``BASE_BLUR``: a codec's
sharpness changes from frame to frame along a shot, one blur for the pair cannot follow
it). Measured on the tuning pairs: ``benchmarks/accuracy/results.md``.

When B skipped some of A's frames, :func:`with_skips` solves the DTW path again in a
corridor around it, with jumps forward on A allowed between neighbouring B frames for a
penalty (:func:`skip_path`, kernel ``core._kernels.skip_dtw``; where B runs faster than
A, B's own steps of 2 or more A frames cost no more than a diagonal); with or without jumps,
the path's ends are opened (:func:`open_ends`): A frames before B's first frame or after
its last that the shared part kept are left out, not averaged into B's end frames.
"""

from __future__ import annotations

import numpy as np

from ..features.video import thumbnail_of_small

__all__ = ["BASE_BLUR", "CROPS", "match_crop", "open_ends", "skip_path", "with_skips"]

# shares of the width and height cut off (half on each side): searched 0.04 apart, then
# 0.02 and 0.01 on either side of the best (at most a 0.5 % mismatch of scale is left,
# under a quarter of a thumbnail's pixel at its border)
CROPS = tuple(round(0.04 * k, 2) for k in range(6))
_FINE = 0.02
# frames sampled: the cropped side's frames (the queries) and the other side's (searched)
_SAMPLE_QUERY = 48
_SAMPLE_SEARCHED = 240
# then a blur of either side (sigma in pixels of the small frames, 64 x 36): a sharp
# copy against a blurred, noisy or compressed one; in a slow shot sharpness changes
# along the shot and the blurred copy's frames would match later (or earlier) frames
BLURS = (0.5, 1.0, 1.5, 2.0)
# a crop must lower the median nearest-neighbour distance by this share to be chosen
_MARGIN = 0.05
# and both sides are blurred a little more (sigma in pixels of the small frames, added
# in quadrature to the blur found): the found blur is one for the whole pair, but a
# copy's sharpness changes from frame to frame (a codec's: the public clip's last shot,
# a slow camera move, written through MPEG-4 and read back), and a noisy or compressed
# copy of that shot matched frames two later (the clip itself, uncoded: no error). Chosen
# on new seeds of the held-out cases (``generalize.py video --reps 2``, the ``_r1``
# pairs; the tuning clips, smooth rendered textures, were indifferent): 0.5 / 0.75 / 1.0 ->
# 20 / 21 / 20 of 24 pairs >= 98 % (18 without); more blurs away a slow pan's detail
BASE_BLUR = 0.75


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
        to give each side (``BASE_BLUR`` on both, more on the sharper one when it is
        clearly sharper), and the chosen crop's median distance relative to the
        uncropped one's.
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
    blur = tuple(float(np.hypot(b, BASE_BLUR)) for b in blur)
    diag.update(blur_a=round(blur[0], 4), blur_b=round(blur[1], 4))
    return crop, blur, diag


# ------------------------------------------------------------------ skips
# B skipped some of A's frames: the DTW path (unit steps) has to pair the frames B left
# out with B's frame before or after the skip (or spread the jump over many B frames in
# a slow shot). :func:`skip_path` solves again, in a corridor around that path, a DTW
# whose path may also jump forward on A between neighbouring B frames for a penalty.
# corridor: the path's run of A frames at each B frame, widened by this (seconds of A)
SKIP_RADIUS_S = 0.5
# a jump's penalty, in medians of the cost along the DTW path (tuning set: 12-16 best,
# benchmarks/accuracy/results.md), the median counted as at most SKIP_SCALE_CAP: above
# it the median is the noise floor of a degraded copy (noise, JPEG: 0.05-0.09 on the
# combined pairs; clean copies 0.0002-0.003, a colour change 0.01), which does not grow
# what a jump saves (the frames after it matching a little better); uncapped, a skip in
# a slow shot of such a copy was not taken and the path spread it over the next freeze
# (8 frames late for 2 s). Tuning set with 4 seeds per case (96 pairs): caps 0.005 /
# 0.0075 / 0.01 / 0.015 / 0.02 / none -> see results.md (0.01: 95 of 96 pairs >= 98 %,
# none: 93; only combined pairs change)
SKIP_PENALTY = 12.0
SKIP_SCALE_CAP = 0.01
# a jump moves on A by at least this many frames beyond B's own pace (shorter skips
# leave a B frame's run within a frame of its A frame anyway); the pace: A frames per B
# frame along the DTW path over this many seconds of B either side, rounded up (a copy
# sped up to 1.3 A frames per B frame alternates steps of 1 and 2: no skip)
SKIP_MIN_EXTRA = 2
SKIP_PACE_S = 0.3
# where B runs faster than A (a pace over 1.05) and no jump is found, B's own steps of up
# to its pace rounded up (2 at a pace of 1.5: every other B frame leaves an A frame out)
# cost their cell plus this share of the cells of the A frames left out (unit steps: the
# whole cells; in a slow shot going into a freeze the path lagged 2 frames behind rather
# than pay them, carphone at 1.5 A frames per B frame). At 0 (free steps) the path
# wandered in stills and slow shots of copies at a pace near 1 (held-out pairs 1.0 ->
# 0.966 of B frames within a frame); 0.75 kept the carphone lag: results.md
PACE_WEIGHT = 0.5


def skip_path(path, x, y, rate_a, rate_b, *, penalty=None, radius_s=None):
    """The path with jumps where B skipped A's frames.

    Parameters
    ----------
    path : ndarray (L, 2) int
        The DTW path (rows of A, columns of B), monotone with unit steps.
    x, y : ndarray (n_a, D), (n_b, D) float
        Each side's features, unit rows scaled by the square root of their weight: a
        cell costs ``0.5 * |x_i - y_j|^2``, the weighted cosine distance.
    rate_a, rate_b : float
        Frame rates.
    penalty, radius_s : float, optional
        Jump penalty (in medians of the path's cell costs, the median at most
        ``SKIP_SCALE_CAP``) and corridor radius (seconds).

    Returns
    -------
    new_path : ndarray (L', 2) int64
        B's same first and last frames as ``path``, on the A frames that begin and end
        the cheapest path (open begin: within the run of A frames ``path`` gives B's
        first frame; open end: at most ``path``'s last A frame); steps of one frame, of
        up to B's pace on A (rounded up) where B runs faster than A, or jumps forward on A.
    jumps : list of (j, i_from, i_to)
        The B frame the jump lands on and the A frames it leaves and reaches (steps of
        B's pace are no jumps).
    """
    from .._kernels.skip_dtw import corridor_costs

    penalty = SKIP_PENALTY if penalty is None else float(penalty)
    radius = max(1, int(round((SKIP_RADIUS_S if radius_s is None else radius_s) * rate_a)))
    path = np.asarray(path, dtype=np.int64)
    (i0, j0), (i1, j1) = path[0], path[-1]
    m = j1 - j0 + 1
    cols = path[:, 1] - j0
    amin = np.full(m, np.iinfo(np.int64).max)
    amax = np.full(m, -1)
    np.minimum.at(amin, cols, path[:, 0])
    np.maximum.at(amax, cols, path[:, 0])
    lo = np.clip(amin - radius, i0, i1)
    hi = np.clip(amax + radius, i0, i1)
    # monotone corridor edges (a row range per column that never moves back)
    lo = np.minimum.accumulate(lo[::-1])[::-1]
    hi = np.maximum.accumulate(hi)
    lo[0], hi[-1] = i0, i1
    width = (hi - lo + 1).astype(np.int64)
    w = int(width.max())
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    cost = np.zeros((m, w))
    corridor_costs(x, y, lo, width, int(j0), cost)
    on_path = cost[cols, path[:, 0] - lo[cols]]
    scale = min(max(float(np.median(on_path)), 1e-6), SKIP_SCALE_CAP)
    # B's own pace (A frames per B frame) over a second either side: a jump must beat it
    half = max(1, int(round(SKIP_PACE_S * rate_b)))
    pace = _pace(path, j0, m, half)
    min_jump = (SKIP_MIN_EXTRA + np.maximum(1, np.ceil(pace - 0.05))).astype(np.int64)
    ones = np.ones(m, dtype=np.int64)
    new, jumps = _solve(cost, lo, width, hi, i0, j0, amax[0], penalty * scale, min_jump, ones)
    if jumps:
        return new, jumps
    # no jump, B faster than A (over 1.05 A frames per B frame on the path found): solved
    # again with B's own steps of up to its pace rounded up (``PACE_WEIGHT``), between the
    # corners of the given path with its ends opened (as the engine's path is kept
    # without a jump: benchmarks/accuracy/results.md); kept when it finds no jump either
    pace_step = np.maximum(1, np.ceil(_pace(new, j0, m, half) - 0.05))
    pace_step = np.minimum(pace_step, min_jump - 1).astype(np.int64)
    if np.any(pace_step > 1):
        ends = open_ends(path, x, y)[[0, -1], 0]
        paced, paced_jumps = _solve(cost, lo, width, hi, i0, j0, amax[0], penalty * scale,
                                    min_jump, pace_step, ends)
        if not paced_jumps:
            return paced, []
    return new, jumps


def _pace(path, j0, m, half):
    """A frames per B frame along ``path`` (columns from ``j0``, ``m`` of them) over
    ``half`` columns either side."""
    cols = path[:, 1] - j0
    mean_a = np.bincount(cols, weights=path[:, 0], minlength=m) / np.bincount(cols, minlength=m)
    ahead = mean_a[np.minimum(np.arange(m) + half, m - 1)]
    behind = mean_a[np.maximum(np.arange(m) - half, 0)]
    span = np.minimum(np.arange(m) + half, m - 1) - np.maximum(np.arange(m) - half, 0)
    return (ahead - behind) / np.maximum(span, 1)


def _solve(cost, lo, width, hi, i0, j0, start_last, penalty, min_jump, pace_step,
           ends=None):
    """The skip-aware DTW in the corridor and its path: (new_path, jumps) of
    :func:`skip_path`."""
    from .._kernels.skip_dtw import skip_backtrack, skip_dtw

    m, w = cost.shape
    acc = np.empty((m, w))
    back = np.empty((m, w), dtype=np.int8)
    jump_from = np.empty((m, w), dtype=np.int64)
    # open begin, as the end below: B's first frame on any A frame of the run the path
    # gives it (the A frames before are left out, as a trim); not beyond that run: in a
    # slow first shot, near-equal neighbours would let it start frames late
    start = (int(i0), int(start_last)) if ends is None else (int(ends[0]), int(ends[0]))
    skip_dtw(cost, lo, width, start[0], penalty, min_jump, acc, back, jump_from,
             start[1], pace_step, PACE_WEIGHT)
    out = np.empty((m + int(hi[-1] - lo[0]) + 2, 2), dtype=np.int64)
    # open end: B's last frame on its best A frame. The shared part kept A frames after
    # the end of B (a trim under 0.2 s or one it missed); ending on A's last frame, the
    # path reached them with a jump or a run in B's last column (13-14 frames off on the
    # combined pairs); the A frames after the end are left out, as a trim
    end_row = int(lo[-1] + np.argmin(acc[m - 1, :width[-1]])) if ends is None \
        else int(ends[1])
    count = skip_backtrack(lo, back, jump_from, end_row, out)
    new = out[out.shape[0] - count:].copy()
    new[:, 1] += j0
    steps = np.diff(new, axis=0)
    at = np.flatnonzero(steps[:, 0] >= min_jump[new[1:, 1] - j0])
    jumps = [(int(new[k + 1, 1]), int(new[k, 0]), int(new[k + 1, 0])) for k in at]
    return new, jumps


def open_ends(path, x, y):
    """``path`` with B's first frame on its best A frame and B's last frame on its own.

    A path through the shared part begins and ends on its corners; where A runs on
    before B's first frame or after B's last (a trim shorter than the shared part's
    detection counts, or one it missed), the path holds B's end frame for a run of A
    frames there, and that frame's A time is the run's mean. The rows of the first
    column before its best-matching row, and of the last column after it, are left out
    (as a trim); the rest of each run stays, so the steps are unchanged.

    Parameters
    ----------
    path : ndarray (L, 2) int
        A monotone path (rows of A, columns of B).
    x, y : ndarray (n_a, D), (n_b, D) float
        The features, as for :func:`skip_path` (a cell costs ``0.5 * |x_i - y_j|^2``).

    Returns
    -------
    ndarray (L', 2) int64
        A contiguous part of ``path`` (``path`` itself when neither end moves).
    """
    path = np.asarray(path, dtype=np.int64)

    def best(rows, j):
        return int(np.argmin(np.sum((x[path[rows, 0]] - y[j]) ** 2, axis=1)))

    first = np.flatnonzero(path[:, 1] == path[0, 1])
    last = np.flatnonzero(path[:, 1] == path[-1, 1])
    begin = first[best(first, path[0, 1])] if len(first) > 1 else 0
    end = last[best(last, path[-1, 1])] if len(last) > 1 else len(path) - 1
    return path[begin:end + 1]


def _moves_a_frame(old, new):
    """Whether some B frame of both paths sits a whole A frame or more elsewhere on
    ``new`` (the mean of its run of A frames). Steps of B's pace that only move runs by
    half a frame are noise in a slow shot of a noisy copy (a codec-written slow camera
    move: 100 -> 96 % of B frames within a frame, the runs' means rounding the other
    way); the engine's path is kept then."""
    old, new = np.asarray(old, dtype=np.int64), np.asarray(new, dtype=np.int64)
    lo, hi = max(old[0, 1], new[0, 1]), min(old[-1, 1], new[-1, 1])
    if hi < lo:
        return True

    def means(path):
        keep = (path[:, 1] >= lo) & (path[:, 1] <= hi)
        cols = path[keep, 1] - lo
        return np.bincount(cols, weights=path[keep, 0]) / np.bincount(cols)

    return bool(np.max(np.abs(means(new) - means(old))) >= 1.0)


def carry_confidence(old_path, confidence, new_path):
    """Per row of ``new_path``, the confidence of ``old_path``'s row in the same column
    of B nearest on A."""
    if confidence is None:
        return None
    old_path = np.asarray(old_path, dtype=np.int64)
    key = old_path[:, 1] * (int(old_path[:, 0].max()) + 2) + old_path[:, 0]
    new_key = new_path[:, 1] * (int(old_path[:, 0].max()) + 2) + new_path[:, 0]
    k = np.clip(np.searchsorted(key, new_key), 0, len(key) - 1)
    prev = np.clip(k - 1, 0, len(key) - 1)
    # the nearer of the two neighbours in the same column
    same_k = old_path[k, 1] == new_path[:, 1]
    same_p = old_path[prev, 1] == new_path[:, 1]
    dk = np.where(same_k, np.abs(old_path[k, 0] - new_path[:, 0]), np.iinfo(np.int64).max)
    dp = np.where(same_p, np.abs(old_path[prev, 0] - new_path[:, 0]), np.iinfo(np.int64).max)
    pick = np.where(dp < dk, prev, k)
    return np.asarray(confidence)[pick]


def with_skips(al, source):
    """``al`` (a video pair's DTW alignment) with its path solved again with jumps
    (:func:`skip_path`), its ends opened (:func:`open_ends`); the engine's path with its
    ends opened when no jump is found; unchanged when a term is not cosine.
    ``diagnostics["skips"]`` lists the jumps found (B's time, A's times left and reached)."""
    used = [(t, w) for t, w in zip(source.terms, source.weights, strict=True) if w > 0]
    if not used or any(t.metric != "cosine" for t, _ in used) or len(al.path) < 3:
        return al
    x = np.hstack([np.sqrt(w) * t.x for t, w in used])
    y = np.hstack([np.sqrt(w) * t.y for t, w in used])
    new, jumps = skip_path(al.path, x, y, al.rate_a_hz, al.rate_b_hz)
    ra, rb = al.rate_a_hz, al.rate_b_hz
    listed = [{"b_s": round(j / rb, 4), "a_from_s": round(i0 / ra, 4),
               "a_to_s": round(i1 / ra, 4)} for j, i0, i1 in jumps]
    diag = dict(al.diagnostics, skips=listed)
    # without a jump or a step of B's pace the engine's path is kept (a skip pass that
    # changes only where the path's ends sit moved a few clean pairs off:
    # benchmarks/accuracy/results.md), its ends opened
    moved = bool(jumps) or (bool(np.any(np.diff(new[:, 0]) > 1))
                            and _moves_a_frame(al.path, new))
    new = open_ends(new if moved else al.path, x, y)
    if len(new) == len(al.path) and not moved:
        return al.replace(diagnostics=diag)
    return al.replace(path=new, confidence=carry_confidence(al.path, al.confidence, new),
                      diagnostics=diag)
