"""Video pairs with a known frame mapping, made from any clip.

``render_clip`` draws a clip (a panning textured scene with moving shapes, shot cuts and a
held still shot); ``read_clip`` reads any video with OpenCV. ``make_video_pair`` derives A
and B from one clip's frames: each side is a stretch of the clip (trims: either side may
start later or end earlier), B is re-timed through a monotone warp with optional freezes
(one frame held) and skips (a jump forward), at another frame rate, and altered
photometrically (crop, rescale, gamma, gain, tint, blur, noise, JPEG-like compression).

``CHANGES`` names the alterations one at a time and combined; ``video_config(kind, seed)``
draws the parameters of one kind from a seed (tuning and held-out sets differ by seed).
Ground truth: for every B frame, the clip frame it shows and the A frame that is (or
``-1`` when A does not contain it).
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHANGES", "frame_accuracy", "make_video_pair", "read_clip", "render_clip",
           "video_config", "write_frames"]

CHANGES = ("trim", "freeze", "skip", "crop", "rescale", "fps", "colour", "gamma", "blur",
           "noise", "compression", "combined")


def render_clip(seed=0, *, duration_s=10.0, fps=25.0, size=(160, 96), shot_s=(1.5, 4.0),
                still_s=0.6):
    """A clip of BGR uint8 frames: shots of a panning smooth texture with three moving
    ellipses (some shots nearly still, some fast), cut every ``shot_s`` seconds
    (random), one shot held still for
    ``still_s`` seconds (a still frame, not a cut). Returns (frames, fps)."""
    import cv2

    rng = np.random.default_rng(seed)
    w, h = size
    n = int(round(duration_s * fps))
    frames = []
    cuts = [0]
    while cuts[-1] < n:
        cuts.append(cuts[-1] + int(rng.uniform(*shot_s) * fps))
    still_shot = int(rng.integers(0, max(1, len(cuts) - 1)))
    for s, (c0, c1) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
        canvas = rng.random((h * 2 // 8 + 2, w * 3 // 8 + 2, 3)).astype(np.float32)
        canvas = cv2.resize(canvas, (w * 3, h * 2), interpolation=cv2.INTER_CUBIC)
        canvas = cv2.GaussianBlur(canvas, (0, 0), 3.0)
        lo, hi = canvas.min(), canvas.max()
        canvas = (40 + 180 * (canvas - lo) / max(hi - lo, 1e-6)).astype(np.float32)
        # some shots barely move (a slow pan: neighbouring frames differ by little more
        # than noise), others pan fast
        speed = float(rng.choice([0.05, 0.2, 1.0]))
        pan = rng.uniform(-1.0, 1.0, 2) * np.array([w, h]) / fps / 3.0 * speed
        origin = rng.uniform(0, 1, 2) * np.array([w * 2, h])
        shapes = [(rng.uniform(0, w, 2), rng.uniform(-1, 1, 2) * w / fps / 2 * speed,
                   rng.uniform(6, 18, 2), rng.uniform(0, 255, 3)) for _ in range(3)]
        held = None
        for k in range(c0, min(c1, n)):
            t = k - c0
            if s == still_shot and t >= int(still_s * fps) and held is not None \
                    and t < 2 * int(still_s * fps):
                frames.append(held.copy())
                continue
            ox, oy = origin + pan * t
            ox = int(np.clip(ox, 0, w * 2 - 1))
            oy = int(np.clip(oy, 0, h - 1))
            im = canvas[oy:oy + h, ox:ox + w].copy()
            for pos, vel, axes, colour in shapes:
                x, y = pos + vel * t
                x = abs((x % (2 * w)) - w)
                y = abs((y % (2 * h)) - h)
                cv2.ellipse(im, (int(x), int(y)), (int(axes[0]), int(axes[1])), 0, 0, 360,
                            colour.tolist(), -1, lineType=cv2.LINE_AA)
            im = np.clip(im, 0, 255).astype(np.uint8)
            held = im
            frames.append(im)
    return frames[:n], float(fps)


def read_clip(path, max_frames=None):
    """BGR frames of any video OpenCV reads, and its frame rate."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = float(cap.get(cv2.CAP_PROP_FPS)) or 25.0
    frames = []
    while max_frames is None or len(frames) < max_frames:
        ok, im = cap.read()
        if not ok:
            break
        frames.append(im)
    cap.release()
    if not frames:
        raise ValueError(f"{path}: no frame could be read")
    return frames, fps


def video_config(kind, seed):
    """Parameters of one kind of change (see ``CHANGES``), drawn from ``seed``."""
    if kind not in CHANGES:
        raise ValueError(f"kind: expected one of {CHANGES}, got {kind!r}")
    rng = np.random.default_rng(seed)
    cfg = dict(kind=kind, seed=int(seed), stretch=float(rng.uniform(0.85, 1.2)),
               depth=float(rng.uniform(0.1, 0.35)), fps_b=None, trim_a=(0.0, 0.0),
               trim_b=(0.0, 0.0), freezes=[], skips=[], crop=0.0, scale=1.0, gamma=1.0,
               gain=1.0, bias=0.0, tint=(1.0, 1.0, 1.0), blur=0.0, noise=0.0, quality=None)
    combined = kind == "combined"
    if kind == "trim" or combined:
        cfg["trim_a"] = (float(rng.uniform(0, 1.5)), float(rng.uniform(0, 1.5)))
        cfg["trim_b"] = (float(rng.uniform(0, 1.5)), float(rng.uniform(0, 1.5)))
    if kind == "freeze" or combined:
        cfg["freezes"] = [(float(rng.uniform(0.15, 0.85)), float(rng.uniform(0.3, 0.8)))
                          for _ in range(int(rng.integers(1, 3)))]
    if kind == "skip" or combined:
        cfg["skips"] = [(float(rng.uniform(0.15, 0.85)), float(rng.uniform(0.2, 0.6)))
                        for _ in range(int(rng.integers(1, 3)))]
    if kind == "crop" or combined:
        cfg["crop"] = float(rng.uniform(0.04, 0.12))
    if kind == "rescale" or combined:
        cfg["scale"] = float(rng.choice([0.5, 0.75, 1.5]))
    if kind == "fps" or combined:
        cfg["fps_b"] = float(rng.choice([24.0, 25.0, 29.97, 30.0]))
    if kind == "colour" or combined:
        cfg["tint"] = tuple(float(v) for v in rng.uniform(0.8, 1.2, 3))
        cfg["gain"] = float(rng.uniform(0.8, 1.2))
        cfg["bias"] = float(rng.uniform(-20, 20))
    if kind == "gamma" or combined:
        cfg["gamma"] = float(rng.choice([0.6, 0.8, 1.25, 1.6]))
    if kind == "blur" or combined:
        cfg["blur"] = float(rng.uniform(1.0, 2.5))
    if kind == "noise" or combined:
        cfg["noise"] = float(rng.uniform(6, 15))
    if kind == "compression" or combined:
        cfg["quality"] = int(rng.integers(8, 25))
    return cfg


def _warp(n_b, fps_b, s0, s1, cfg, rng):
    """Clip time (s) of every B frame: monotone from s0 to s1, freezes flat, skips jump."""
    t = np.arange(n_b) / fps_b
    tb = max(t[-1], 1e-9)
    knots = np.linspace(0, tb, 6)
    log_rate = np.interp(t, knots, rng.normal(0, cfg["depth"], knots.shape[0]))
    rate = np.exp(log_rate)
    for where, dur in cfg["freezes"]:
        rate[(t >= where * tb) & (t < where * tb + dur)] = 0.0
    w = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(t))])
    jumps = sum(d for _, d in cfg["skips"])
    span = max(s1 - s0 - jumps, 0.1 * (s1 - s0))
    w = s0 + w * span / max(w[-1], 1e-9)
    for where, dur in cfg["skips"]:
        w = w + dur * (t >= where * tb)
    return w


def _photometric(im, cfg, size_b, rng):
    import cv2

    h, w = im.shape[:2]
    c = cfg["crop"]
    if c > 0:
        y0, x0 = int(round(h * c / 2)), int(round(w * c / 2))
        im = im[y0:h - y0, x0:w - x0]
    im = cv2.resize(im, size_b, interpolation=cv2.INTER_AREA if cfg["scale"] <= 1
                    else cv2.INTER_LINEAR)
    if cfg["blur"] > 0:
        im = cv2.GaussianBlur(im, (0, 0), cfg["blur"])
    f = np.power(im.astype(np.float32) / 255.0, cfg["gamma"])
    f = f * np.asarray(cfg["tint"], np.float32) * cfg["gain"] * 255.0 + cfg["bias"]
    if cfg["noise"] > 0:
        f = f + rng.normal(0, cfg["noise"], f.shape).astype(np.float32)
    out = np.clip(f, 0, 255).astype(np.uint8)
    if cfg["quality"] is not None:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(cfg["quality"])])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


def make_video_pair(frames, fps, cfg):
    """A and B frames from one clip.

    Returns
    -------
    frames_a, frames_b : lists of BGR uint8 frames
    fps_a, fps_b : float
    truth : ndarray (n_b, 2) int
        Per B frame: the clip frame it shows, the A frame (or -1 when A lacks it), and
        the first and last A frame identical to it (a still shot).
    """
    rng = np.random.default_rng(cfg["seed"] + 7)
    n = len(frames)
    dur = n / fps
    a0 = int(round(cfg["trim_a"][0] * fps))
    a1 = n - int(round(cfg["trim_a"][1] * fps))
    frames_a = frames[a0:a1]
    s0 = cfg["trim_b"][0]
    s1 = dur - 1.0 / fps - cfg["trim_b"][1]
    fps_b = cfg["fps_b"] or fps
    n_b = int(round((s1 - s0) * cfg["stretch"] * fps_b))
    src_t = _warp(n_b, fps_b, s0, s1, cfg, rng)
    src = np.clip(np.floor(src_t * fps + 0.5).astype(np.int64), 0, n - 1)
    h, w = frames[0].shape[:2]
    c = cfg["crop"]
    size_b = (max(16, int(round(w * (1 - c) * cfg["scale"] / 2)) * 2),
              max(16, int(round(h * (1 - c) * cfg["scale"] / 2)) * 2))
    frames_b = [_photometric(frames[s], cfg, size_b, rng) for s in src]
    frame_a = np.where((src >= a0) & (src < a1), src - a0, -1)
    # a still shot holds identical frames: any of them is right
    same = np.r_[False, [np.array_equal(frames[k], frames[k - 1]) for k in range(1, n)]]
    run = np.cumsum(~same) - 1
    starts = np.flatnonzero(~same)
    ends = np.r_[starts[1:] - 1, n - 1]
    first, last = starts[run], ends[run]
    lo_a = np.where(frame_a >= 0, np.maximum(first[src] - a0, 0), -1)
    hi_a = np.where(frame_a >= 0, np.minimum(last[src] - a0, len(frames_a) - 1), -1)
    truth = np.column_stack([src, frame_a, lo_a, hi_a])
    return frames_a, frames_b, float(fps), float(fps_b), truth


def write_frames(path, frames, fps):
    """Write BGR frames with OpenCV (MPEG-4 part 2 for .mp4/.avi, MJPG for .mkv)."""
    import cv2

    h, w = frames[0].shape[:2]
    fourcc = "MJPG" if str(path).endswith(".mkv") else "mp4v"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), float(fps), (w, h))
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV cannot write this video")
    for f in frames:
        writer.write(np.ascontiguousarray(f))
    writer.release()
    return path


def frame_accuracy(times_s, truth, fps_a, fps_b):
    """Share of B frames whose A frame (the path's B -> A map, runs averaged, rounded) is
    within one frame of the truth, over the B frames A contains; and the exact share."""
    t = np.asarray(times_s, dtype=np.float64)
    tb, ta = t[:, 1], t[:, 0]
    ub, inv = np.unique(tb, return_inverse=True)
    ua = np.bincount(inv, weights=ta) / np.bincount(inv)
    keep = truth[:, 1] >= 0
    jb = np.arange(truth.shape[0])[keep] / fps_b
    pred = np.round(np.interp(jb, ub, ua) * fps_a).astype(np.int64)
    lo, hi = truth[keep, 2], truth[keep, 3]
    err = np.maximum(lo - pred, 0) + np.maximum(pred - hi, 0)
    return float(np.mean(err <= 1)), float(np.mean(err == 0))
