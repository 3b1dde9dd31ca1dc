"""Video features from RGB frames (numpy/OpenCV).

thumbnail
    Grey frame, a small border trimmed (letterboxes, crops), resized to ``size`` by area
    averaging, then rank-normalized (each pixel replaced by its rank among the frame's
    pixels, mapped to [-1, 1]) and L2-normalized: invariant to gain, bias, gamma and tint.
histogram
    Per-channel colour histograms (``n_bins`` per channel) of the trimmed frame, square
    roots of the shares (Hellinger embedding: the euclidean distance of two frames is the
    Hellinger distance of their histograms).
small (internal: the default video pipeline)
    Grey frame area-resized to 64 x 36, uint8 (as much memory as a thumbnail):
    ``thumbnail_of_small`` makes thumbnails of any centred crop of it, so the crop
    between two copies (one zoomed in) is found after reading the frames once
    (:mod:`core.pipeline.video`).
motion
    Mean absolute difference between consecutive grey thumbnails (64 x 36), divided by the
    frame's contrast; frame 0 is 0. A cut is a spike; an impact or flash is a peak.
flow (used by the video-against-audio pipeline; not one of ``VIDEO_FEATURES``)
    The picture's global motion since the previous frame: the mean dense optical flow
    (Farneback, on an 80 x 60 grey thumbnail) in x and y, in thumbnail pixels per frame,
    and the mean absolute grey difference (0-255); frame 0 is zeros. Changes of direction
    (a turn, a bounce, a beat) are changes of the flow vector
    (:func:`core.pipeline.crossmodal.visual_events`).
"""

from __future__ import annotations

import numpy as np

from ._grid import n_feature_frames

_TRIM = 0.05


def _grey(frame):
    frame = np.asarray(frame)
    if frame.ndim == 2:
        return frame.astype(np.float32)
    if frame.ndim != 3 or frame.shape[2] < 3:
        raise ValueError(f"frames: expected (H, W, 3) RGB or (H, W) grey frames, "
                         f"got shape {frame.shape}")
    f = frame[:, :, :3].astype(np.float32)
    return 0.299 * f[:, :, 0] + 0.587 * f[:, :, 1] + 0.114 * f[:, :, 2]


def _trim(image, fraction=_TRIM):
    h, w = image.shape[:2]
    dh, dw = int(h * fraction), int(w * fraction)
    return image[dh:h - dh or None, dw:w - dw or None]


def _resize(image, size):
    import cv2

    w, h = size
    return cv2.resize(np.ascontiguousarray(image), (w, h), interpolation=cv2.INTER_AREA)


def _rank_normalize(values):
    order = np.argsort(values, kind="stable")
    ranks = np.empty(values.shape[0], dtype=np.float64)
    ranks[order] = np.arange(values.shape[0])
    # equal values share their mean rank so flat frames stay flat
    uniq, inverse = np.unique(values, return_inverse=True)
    if uniq.shape[0] < values.shape[0]:
        ranks = (np.bincount(inverse, weights=ranks) / np.bincount(inverse))[inverse]
    n = values.shape[0]
    out = 2.0 * ranks / max(n - 1, 1) - 1.0
    norm = np.linalg.norm(out)
    return out / norm if norm > 1e-9 else out


def compute(frames, name, monitor, *, n_frames=None, **options):
    """Dispatch: returns (values (T, D), params, labels)."""
    func = _FUNCS[name]
    rows = []
    state = {}
    params = None
    for k, frame in enumerate(frames):
        row, params = func(frame, state, **options)
        rows.append(row)
        if k % 64 == 0:
            monitor.report(0.95 * k / n_frames if n_frames else 0.0)
    if not rows:
        raise ValueError("frames: no frame to compute features from")
    labels = ("motion",) if name == "motion" else ("vx", "vy", "diff") if name == "flow" \
        else None
    return np.asarray(rows, dtype=np.float32), params, labels


def thumbnail(frame, state, *, size=(32, 18), **options):
    if options:
        raise ValueError(f"options: unknown option(s) {sorted(options)}")
    w, h = int(size[0]), int(size[1])
    if w < 1 or h < 1:
        raise ValueError(f"size: expected positive (width, height), got {size}")
    g = _resize(_trim(_grey(frame)), (w, h)).ravel().astype(np.float64)
    return _rank_normalize(g), dict(size=(w, h), trim=_TRIM)


def histogram(frame, state, *, n_bins=16, **options):
    if options:
        raise ValueError(f"options: unknown option(s) {sorted(options)}")
    n_bins = int(n_bins)
    if n_bins < 2:
        raise ValueError(f"n_bins: expected at least 2, got {n_bins}")
    f = np.asarray(frame)
    if f.ndim == 2:
        f = f[:, :, None]
    f = _trim(f)
    parts = []
    for c in range(f.shape[2] if f.shape[2] < 3 else 3):
        counts = np.bincount((f[:, :, c].astype(np.int64).ravel() * n_bins) // 256,
                             minlength=n_bins)[:n_bins].astype(np.float64)
        parts.append(np.sqrt(counts / max(counts.sum(), 1.0)))
    return np.concatenate(parts) / np.sqrt(len(parts)), dict(n_bins=n_bins)


def motion(frame, state, *, size=(64, 36), **options):
    if options:
        raise ValueError(f"options: unknown option(s) {sorted(options)}")
    g = _resize(_trim(_grey(frame)), (int(size[0]), int(size[1]))).astype(np.float64)
    prev = state.get("prev")
    state["prev"] = g
    if prev is None or prev.shape != g.shape:
        return np.zeros(1), dict(size=tuple(size))
    contrast = max(float(g.std()), float(prev.std()), 1.0)
    return np.array([np.abs(g - prev).mean() / contrast]), dict(size=tuple(size))


SMALL_SIZE = (64, 36)


def small(frame, state, **options):
    if options:
        raise ValueError(f"options: unknown option(s) {sorted(options)}")
    g = _resize(_grey(frame), SMALL_SIZE)
    return np.clip(np.round(g), 0, 255).astype(np.uint8), dict(size=SMALL_SIZE)


def thumbnail_of_small(smalls, crop=0.0, *, size=(32, 18), blur=0.0):
    """Thumbnails (T, w*h) of ``small`` frames (T, 36, 64) as ``thumbnail`` makes them of
    the frame's centre with a share ``crop`` of its width and height cut off (half on
    each side) before the usual border trim; ``blur``: a Gaussian blur first (sigma in
    pixels of the small frame)."""
    smalls = np.asarray(smalls)
    t, h, w = smalls.shape
    keep = (1.0 - float(crop)) * (1.0 - 2 * _TRIM)
    # the crop's edges fall between pixels: area weights of fractional pixels
    ry = _area_matrix(h, size[1], h * (1.0 - keep) / 2, h * (1.0 + keep) / 2)
    rx = _area_matrix(w, size[0], w * (1.0 - keep) / 2, w * (1.0 + keep) / 2)
    rows = np.flatnonzero(ry.any(axis=0))
    cols = np.flatnonzero(rx.any(axis=0))
    ry, rx = ry[:, rows[0]:rows[-1] + 1], rx[:, cols[0]:cols[-1] + 1]
    out = np.empty((t, size[0] * size[1]), dtype=np.float64)
    for k0 in range(0, t, 512):
        part = smalls[k0:k0 + 512, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        part = part.astype(np.float64)
        if blur > 0:
            from scipy.ndimage import gaussian_filter1d

            part = gaussian_filter1d(gaussian_filter1d(part, blur, axis=1, mode="nearest"),
                                     blur, axis=2, mode="nearest")
        out[k0:k0 + 512] = (ry @ (part @ rx.T)).reshape(part.shape[0], -1)
    return _rank_normalize_rows(out).astype(np.float32)


def _area_matrix(n_in, n_out, lo=0.0, hi=None):
    """(n_out, n_in) weights of an area-averaging resize (OpenCV's INTER_AREA) of the
    span [lo, hi) of n_in pixels (fractional edges weigh their pixels in part)."""
    hi = float(n_in) if hi is None else float(hi)
    edges = lo + np.arange(n_out + 1) * ((hi - lo) / n_out)
    lo_e, hi_e = edges[:-1, None], edges[1:, None]
    px = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi_e, px + 1) - np.maximum(lo_e, px), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def _rank_normalize_rows(values):
    """``_rank_normalize`` of every row at once (ties share their mean rank)."""
    t, n = values.shape
    if n == 0 or t == 0:
        return values
    order = np.argsort(values, axis=1)  # ties get their mean rank below: any order
    srt = np.take_along_axis(values, order, axis=1)
    pos = np.broadcast_to(np.arange(n, dtype=np.float64), (t, n))
    new = np.ones((t, n), dtype=bool)
    new[:, 1:] = srt[:, 1:] != srt[:, :-1]
    start = np.maximum.accumulate(np.where(new, pos, 0.0), axis=1)
    last = np.ones((t, n), dtype=bool)
    last[:, :-1] = new[:, 1:]
    end = np.minimum.accumulate(np.where(last, pos, n - 1.0)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty((t, n), dtype=np.float64)
    np.put_along_axis(ranks, order, 0.5 * (start + end), axis=1)
    out = 2.0 * ranks / max(n - 1, 1) - 1.0
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return np.where(norm > 1e-9, out / np.maximum(norm, 1e-9), out)


def flow(frame, state, *, size=(80, 60), **options):
    import cv2

    if options:
        raise ValueError(f"options: unknown option(s) {sorted(options)}")
    g = _resize(_trim(_grey(frame)), (int(size[0]), int(size[1])))
    g8 = np.clip(g, 0, 255).astype(np.uint8)
    prev = state.get("prev")
    state["prev"] = g8
    if prev is None or prev.shape != g8.shape:
        return np.zeros(3), dict(size=tuple(size))
    f = cv2.calcOpticalFlowFarneback(prev, g8, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    d = np.abs(g8.astype(np.float32) - prev.astype(np.float32))
    diff = float(d.mean())
    return np.array([f[..., 0].mean(), f[..., 1].mean(), diff]), dict(size=tuple(size))


_FUNCS = {"thumbnail": thumbnail, "histogram": histogram, "motion": motion, "small": small,
          "flow": flow}


def compute_many(frames, names, monitor, *, n_frames=None):
    """Several features in one pass over the frames: {name: (T, D) float32}."""
    for name in names:
        if name not in _FUNCS:
            raise ValueError(f"names: unknown video feature {name!r}")
    rows = {name: [] for name in names}
    states = {name: {} for name in names}
    for k, frame in enumerate(frames):
        for name in names:
            rows[name].append(_FUNCS[name](frame, states[name])[0])
        if k % 64 == 0:
            monitor.report(0.95 * k / n_frames if n_frames else 0.0)
    if not any(rows.values()) or not rows[names[0]]:
        raise ValueError("frames: no frame to compute features from")
    return {name: np.asarray(r, dtype=np.uint8 if name == "small" else np.float32)
            for name, r in rows.items()}


def resample(values, fps, rate_hz):
    """Per-frame values sampled at ``rate_hz`` (nearest video frame)."""
    if abs(rate_hz - fps) <= 1e-9 * fps:
        return values
    n_out = n_feature_frames(values.shape[0], fps, rate_hz)
    idx = np.minimum(np.round(np.arange(n_out) * fps / rate_hz).astype(np.int64),
                     values.shape[0] - 1)
    return values[idx]
