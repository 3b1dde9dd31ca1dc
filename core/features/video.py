"""Video features from RGB frames (numpy/OpenCV).

thumbnail
    Grey frame, a small border trimmed (letterboxes, crops), resized to ``size`` by area
    averaging, then rank-normalized (each pixel replaced by its rank among the frame's
    pixels, mapped to [-1, 1]) and L2-normalized: invariant to gain, bias, gamma and tint.
histogram
    Per-channel colour histograms (``n_bins`` per channel) of the trimmed frame, square
    roots of the shares (Hellinger embedding: the euclidean distance of two frames is the
    Hellinger distance of their histograms).
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


_FUNCS = {"thumbnail": thumbnail, "histogram": histogram, "motion": motion, "flow": flow}


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
    return {name: np.asarray(r, dtype=np.float32) for name, r in rows.items()}


def resample(values, fps, rate_hz):
    """Per-frame values sampled at ``rate_hz`` (nearest video frame)."""
    if abs(rate_hz - fps) <= 1e-9 * fps:
        return values
    n_out = max(1, int(np.floor((values.shape[0] - 1) * rate_hz / fps + 1e-9)) + 1)
    idx = np.minimum(np.round(np.arange(n_out) * fps / rate_hz).astype(np.int64),
                     values.shape[0] - 1)
    return values[idx]
