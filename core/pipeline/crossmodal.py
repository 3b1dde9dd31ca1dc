"""Video against audio: the visual events a video shares with the onsets of a recording.

:func:`visual_events` turns the per-frame global motion of a video (the ``flow`` feature:
mean optical flow and mean grey difference) into one event-strength curve, the maximum
of two normalized parts:

- **changes of direction**: the difference between the mean flow vector over the
  ``turn_s`` after a frame and over the ``turn_s`` before it. A bounce (the motion
  reverses at the floor), a pendulum's turn (the motion stops and reverses: the speed is
  at a *minimum* there), a conductor's ictus (a sharp change of direction at nearly the
  same speed) all peak; steady motion, uniform acceleration (a ball in flight) and
  stillness do not;
- **picture changes**: the rise of the mean grey difference over the previous frame's
  and its running median, relative to that median: a cut or a flash (even one that fades
  out) rises on one frame to many times the frame-to-frame change around it.

What it cannot see: events without motion or a picture change at the event time (a light
slowly fading in, a colour change under constant brightness is seen only as far as it
changes the grey picture), changes of direction of several objects that cancel in the
picture's mean flow (two balls bouncing in opposite phase), and a motion that turns
smoothly *and* slowly (its change of direction is spread over more than ~0.3 s: the
peak is too flat to place within 100 ms). A moving camera adds its own changes of
direction (a pan that stops counts as an event).

Besides that curve (``"changes"``), :func:`visual_candidates` offers other readings of
the same motion, because which visual moment is the beat depends on the motion:

- ``"turns"``: the zero crossings of the velocity along the motion's main axis (sub-frame
  times): a pendulum's extremes, both sides (twice per period; the speed is zero and the
  acceleration largest there). A pendulum's lowest-point passes (fastest, where its
  vertical motion turns) are not used: the generator and a conductor's or player's
  swing put the beat on the extremes;
- ``"bottoms"``: the turns of the vertical motion from down to up only: a bounce on a
  floor, the ictus at the bottom of a conductor's sweep (not the top of the rebound);
- ``"kinks"``: peaks of the frame-to-frame change of velocity (an acceleration peak: a
  sharp ictus, a hit), and ``"changes+kinks"``, the two merged.

:func:`video_event_knots` matches every candidate to the onsets and keeps the trusted
map that explains most events of both sides. A map is not trusted when it puts hardly
more visual events on onsets than the straight line (a constant tempo ratio), when the
same map shifted in time by 0.12-1 s does nearly as well (a periodic event train
without accents: any beat could be any other), when it maps the video outside the
audio, or when fewer than ``MIN_PAIRS`` events match. When no candidate is trusted the
path follows the straight line from start to end, and the result's notes
(``diagnostics["notes"]``) say so and why.
"""

from __future__ import annotations

import numpy as np

__all__ = ["accel_peaks", "event_knots", "event_map", "event_times", "linear_evidence",
           "match_events", "turning_points", "video_event_knots", "visual_candidates",
           "visual_events"]

# audio onsets: detected at this rate, peaks reaching this share of the local maximum
ONSET_RATE_HZ = 100.0
ONSET_SHARE = 0.1
# ... and dominating this long on either side (notes may follow 0.2 s apart); and at
# least this share of the recording's strong onsets (a silence's noise is not onsets)
ONSET_NMS_S = 0.08
ONSET_LEVEL = 0.05
# the path's guide: a cost of 1 per GUIDE_SCALE_S seconds off the matched map; the peak
# trains weigh CURVE_WEIGHT against it
GUIDE_SCALE_S = 0.1
CURVE_WEIGHT = 0.1
# the matched map must put this much larger a share of the visual events on onsets than
# the straight line, from at least MIN_PAIRS pairs
MIN_GAIN = 0.1
MIN_PAIRS = 4

# changes of direction: mean flow over this long after minus before a frame
_TURN_S = 0.12
# turns: the change of the mean flow (thumbnail pixels per frame) times its reversal
# share to this power; speeds below _SPEED_EPS count as noise
_SHARPEN = 1.0
# sudden stops (the grey difference falls over half a turn window): weight against turns
_STOP = 3.0
_SPEED_EPS = 0.05
# picture changes: the difference above its running median (over _SPIKE_MEDIAN_S), in
# units of that median; _SPIKE_FULL of them count as a full-strength event
_SPIKE_MEDIAN_S = 0.25
_SPIKE_FULL = 4.0
# part normalization: running maximum over this long
_LOCAL_S = 3.0


def _window_means(v, w):
    """Mean of ``v`` over the ``w`` rows up to and including each row, and over the
    ``w`` rows after it (fewer at the ends)."""
    n = v.shape[0]
    c = np.concatenate([np.zeros((1, v.shape[1])), np.cumsum(v, axis=0)])
    k = np.arange(n)
    a0, a1 = np.clip(k - w + 1, 0, n), k + 1
    b0, b1 = np.minimum(k + 1, n), np.minimum(k + 1 + w, n)
    before = (c[a1] - c[a0]) / np.maximum(a1 - a0, 1)[:, None]
    after = (c[b1] - c[b0]) / np.maximum(b1 - b0, 1)[:, None]
    return before, after


# the moving object's position: grey thumbnails of this size against their median
# (the background); pixels _FG_NOISE x the frame's median difference (+ _FG_FLOOR grey
# levels) away from it are the foreground, used while it covers under _FG_MAX_SHARE
_FG_SIZE = (40, 30)
_FG_NOISE = 3.0
_FG_FLOOR = 8.0
_FG_MAX_SHARE = 0.25
_FG_SAMPLES = 300
# foreground parts over this many times the object's size are lit regions, not the
# object; gaps of up to this many frames without the object are bridged
_FG_BLOB = 4.0
_FG_GAP = 3
# ... when a single part of the object's size is in this share of the frames
_FG_ONE = 0.6


def video_motion(frames, monitor, *, n_frames=None):
    """Per frame (T, 3): the picture's velocity (x, y; thumbnail pixels of 80 x 60 per
    frame) and its mean grey difference to the previous frame.

    The velocity is that of the foreground's centroid (the pixels that differ from the
    video's median picture: a moving object in front of a still background), which
    follows fast small objects; where there is no compact foreground (a moving camera,
    a cut, nothing moving) it is the mean optical flow (the ``flow`` feature)."""
    from ..features import video as fv

    rows, thumbs, state = [], [], {}
    for k, frame in enumerate(frames):
        rows.append(fv.flow(frame, state)[0])
        thumbs.append(fv._resize(state["prev"], _FG_SIZE))
        if k % 64 == 0:
            monitor.report(0.95 * k / n_frames if n_frames else 0.0)
    if not rows:
        raise ValueError("frames: no frame to compute features from")
    flow = np.asarray(rows, dtype=np.float64)
    return _object_motion(np.asarray(thumbs, dtype=np.float32), flow)


def _object_motion(stack, flow):
    """:func:`video_motion`'s rows from grey thumbnails (T, h, w) and the ``flow``
    feature's rows (T, 3).

    When the foreground is one compact object (a single connected part of the object's
    size, :func:`_object_size`, in at least ``_FG_ONE`` of the frames: a ball, a bob, a
    baton; not the fragments of a textured scene), its parts larger than ``_FG_BLOB``
    times that size are left out: a region that lights up in place (a floor flashing at
    an impact, a lamp) is not the object, and its centroid pulled the object's towards it
    for as long as the light faded. A frame whose object merged with such a region (the
    ball on the lit floor) takes its position from the frames on either side, up to
    ``_FG_GAP`` frames apart."""
    from scipy import ndimage

    step = max(1, len(stack) // _FG_SAMPLES)
    background = np.median(stack[::step], axis=0)
    dev = np.abs(stack - background)
    floor = _FG_NOISE * np.median(dev.reshape(len(dev), -1), axis=1) + _FG_FLOOR
    weight = np.maximum(dev - floor[:, None, None], 0.0)
    share = np.mean(weight > 0, axis=(1, 2))
    seen = (weight.sum(axis=(1, 2)) > 0) & (share < _FG_MAX_SHARE)
    # parts: 8-connected within a frame, never across frames
    labels, n_parts = ndimage.label(weight > 0, structure=np.pad(np.ones((1, 3, 3)),
                                                                 ((1, 1), (0, 0), (0, 0))))
    if n_parts:
        area = np.bincount(labels.ravel(), minlength=n_parts + 1)[1:]
        frame_of = np.zeros(n_parts, dtype=np.int64)
        flat = labels.reshape(len(stack), -1)
        k, pix = np.nonzero(flat)
        frame_of[flat[k, pix] - 1] = k
        size = _object_size(area, frame_of, len(stack))
        near = (area >= size / 2) & (area <= 2 * size)
        if np.mean(np.bincount(frame_of[near], minlength=len(stack)) == 1) >= _FG_ONE:
            big = np.r_[False, area > _FG_BLOB * size]
            weight[big[labels]] = 0.0
    mass = weight.sum(axis=(1, 2))
    ys, xs = np.indices(_FG_SIZE[::-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (weight * xs).sum(axis=(1, 2)) / mass
        cy = (weight * ys).sum(axis=(1, 2)) / mass
    ok = (mass > 0) & (share < _FG_MAX_SHARE)
    # frames whose whole foreground was a lit region, shortly between frames with the
    # object: positions in between
    held = np.flatnonzero(ok)
    lost = np.flatnonzero(seen & ~ok)
    if len(held) >= 2 and len(lost):
        prev = np.searchsorted(held, lost) - 1
        inner = (prev >= 0) & (prev + 1 < len(held))
        lost, prev = lost[inner], prev[inner]
        lost = lost[held[prev + 1] - held[prev] <= _FG_GAP + 1]
        cx[lost] = np.interp(lost, held, cx[held])
        cy[lost] = np.interp(lost, held, cy[held])
        ok[lost] = True
    scale = 80.0 / _FG_SIZE[0]
    vel = flow[:, :2].copy()
    both = ok[1:] & ok[:-1]
    idx = np.flatnonzero(both) + 1
    vel[idx, 0] = (cx[idx] - cx[idx - 1]) * scale
    vel[idx, 1] = (cy[idx] - cy[idx - 1]) * scale
    return np.column_stack([vel, flow[:, 2]])


def _object_size(area, frame_of, n_frames):
    """The moving object's size (pixels): of the foreground parts' sizes ``area`` (in
    frames ``frame_of``), the one that most frames hold a part of within a factor of 2
    (the object is in nearly every frame; a flash, a speck in some): the median size of
    the parts within a factor of 2 of the best quarter octave (the smallest of equals)."""
    q = np.round(4 * np.log2(np.maximum(area, 1))).astype(np.int64)
    present = np.zeros((n_frames, q.max() + 1), dtype=bool)
    present[frame_of, q] = True
    # frames holding a part within a factor of 2 (4 quarter octaves) of each size
    c = np.concatenate([np.zeros((n_frames, 1), dtype=np.int64),
                        np.cumsum(present, axis=1)], axis=1)
    lo = np.clip(np.arange(q.max() + 1) - 4, 0, None)
    hi = np.minimum(np.arange(q.max() + 1) + 5, q.max() + 1)
    held = ((c[:, hi] - c[:, lo]) > 0).sum(axis=0)
    best = int(np.argmax(held))
    return float(np.median(area[np.abs(q - best) <= 4]))


def _turns(flow, fps, w):
    """Changes of direction and sudden stops over windows of ``w`` frames, each frame's
    share of the largest within ``_LOCAL_S``."""
    from scipy.ndimage import maximum_filter1d, median_filter

    # velocity of frame k: the motion from k - 1 to k; a turn at frame k lies between
    # velocities k and k + 1
    vel = flow[:, :2]
    before, after = _window_means(vel, w)
    change = np.linalg.norm(after - before, axis=1)
    # a reversal (after = -before) gives 1, a steady or uniformly accelerating motion
    # little: it sharpens a smooth turn (a pendulum's) to the frame it reverses on
    reversal = change / (np.linalg.norm(after, axis=1) + np.linalg.norm(before, axis=1)
                         + _SPEED_EPS)
    turn = change * reversal ** _SHARPEN
    # a sudden stop (a conductor's ictus: the baton halts and rebounds): the frame
    # difference before minus after, times its share, in velocity units
    if _STOP > 0:
        sb, sa = _window_means(flow[:, 2:3], max(1, w // 2))
        drop = np.maximum(sb[:, 0] - sa[:, 0], 0.0)
        stop = drop * drop / (sb[:, 0] + sa[:, 0] + 0.5)
        scale = np.median(np.linalg.norm(vel, axis=1)) / max(np.median(flow[:, 2]), 1e-9)
        turn = np.maximum(turn, _STOP * stop * scale)
    # keep what rises above the running median (uniform acceleration, jitter)
    turn = np.maximum(turn - median_filter(turn, 8 * w + 1, mode="nearest"), 0.0)
    local = maximum_filter1d(turn, max(1, int(round(_LOCAL_S * fps))), mode="nearest")
    return turn / np.maximum(local, 1e-9)


def visual_events(flow, fps, *, turn_s=_TURN_S):
    """Event strength per video frame (0..1) from :func:`video_motion`'s rows (T, 3):
    velocity x, y and grey difference. ``turn_s``: the windows (seconds, one or several)
    over which changes of direction are measured; several count by their maximum."""
    from scipy.ndimage import median_filter

    flow = np.asarray(flow, dtype=np.float64)
    if flow.ndim != 2 or flow.shape[1] < 3:
        raise ValueError(f"flow: expected (T, 3) rows (vx, vy, diff), got {flow.shape}")
    n = flow.shape[0]
    if n < 3:
        return np.zeros(n)
    fps = float(fps)
    widths = sorted({max(1, int(round(t * fps))) for t in np.atleast_1d(turn_s)})
    turn = np.max([_turns(flow, fps, w) for w in widths], axis=0)
    diff = flow[:, 2]
    base = median_filter(diff, 2 * max(1, int(round(_SPIKE_MEDIAN_S * fps))) + 1,
                         mode="nearest")
    # the frame the change starts on: a flash that fades, or a cut, rises once
    rise = diff - np.maximum(np.concatenate([[diff[0]], diff[:-1]]), base)
    spike = np.clip(rise / np.maximum(base, 0.5) / _SPIKE_FULL, 0.0, 1.0)
    # the motion across a cut is meaningless: the spike speaks for those frames
    return np.maximum(turn * (1.0 - spike), spike)


def event_times(curve, rate, *, min_share=0.3, nms_s=0.1):
    """Times (s) of the local maxima of an event curve that dominate ``nms_s`` on each
    side and reach ``min_share`` of the maximum within 3 s, with their strengths."""
    from scipy.ndimage import maximum_filter1d

    v = np.asarray(curve, dtype=np.float64).reshape(-1)
    width = 2 * max(1, int(round(nms_s * rate))) + 1
    local = maximum_filter1d(v, max(1, int(round(_LOCAL_S * rate))), mode="nearest")
    half = width // 2
    padded = np.concatenate([np.full(half, -np.inf), v])
    # of equal values (a plateau), the first
    left = np.lib.stride_tricks.sliding_window_view(padded, half)[:len(v)].max(axis=1)
    keep = (v >= maximum_filter1d(v, width, mode="nearest")) & (v > left) \
        & (v >= min_share * local) & (v > 1e-9)
    idx = np.flatnonzero(keep)
    return idx / float(rate), v[idx]


def _hits(mapped, targets, tol):
    if len(mapped) == 0 or len(targets) == 0:
        return 0.0
    pos = np.clip(np.searchsorted(targets, mapped), 1, len(targets) - 1) \
        if len(targets) > 1 else np.zeros(len(mapped), dtype=np.int64)
    near = np.minimum(np.abs(targets[pos] - mapped), np.abs(targets[pos - 1] - mapped)) \
        if len(targets) > 1 else np.abs(targets[0] - mapped)
    return float(np.mean(near <= tol))


def linear_evidence(times_s, events_a, events_b, span_a, span_b, tol=0.08):
    """Share of A's events that land within ``tol`` of one of B's under the path
    (``times_s`` (K, 2) pairs) and under the straight line from ``span_a`` to ``span_b``
    ((start, end) seconds on each side)."""
    t = np.asarray(times_s, dtype=np.float64)
    order = np.argsort(t[:, 0], kind="stable")
    on_path = np.interp(events_a, t[order, 0], t[order, 1])
    slope = (span_b[1] - span_b[0]) / max(span_a[1] - span_a[0], 1e-9)
    on_line = span_b[0] + (np.asarray(events_a) - span_a[0]) * slope
    eb = np.sort(np.asarray(events_b, dtype=np.float64))
    return _hits(on_path, eb, tol), _hits(on_line, eb, tol)


# event matching (see core._kernels.event_match)
_MATCH = {"k": 10, "skip_a": 0.5, "skip_b": 0.5, "start": 2.0, "lam": 4.0, "cap": 3.0,
          "tol": 0.03, "ratio": 3.0, "hold": 1.0,
          "hold_depth": 3, "hold_long": 1.0, "lone_ends": True,
          "complete": 0.9, "complete_skip": 1.0}
_LONE_RATIO = 2.0
_MAX_CELLS = 4_000_000


def match_events(ta, tb, span_a, span_b, **options):
    """Matched event pairs (L, 2) of times (s): the best chain of
    :func:`core._kernels.event_match.event_chain` between the sorted event times ``ta``
    and ``tb``; B's events searched in a band around the straight line from ``span_a``
    to ``span_b`` when the trains are long."""
    p = dict(_MATCH, **options)
    ta = np.asarray(ta, dtype=np.float64)
    tb = np.asarray(tb, dtype=np.float64)
    n, m = len(ta), len(tb)
    if n < 2 or m < 2:
        return np.zeros((0, 2))
    chain = _chain(ta, tb, span_a, span_b, p)
    # trains that nearly all pair up (the chain matched ``complete`` of the longer one)
    # have hardly an event without a partner: a skip there costs ``complete_skip``, and
    # that chain is kept when it pairs more events. A passage of even notes otherwise
    # slips by one note (an event left out on each side, the run between paired with
    # its neighbours) wherever that spares the tempo changes of a rubato held
    # differently on the two sides (pair xmodal_f02: 8 notes a note off)
    skip = max(p["skip_a"], p["skip_b"])
    if p["complete_skip"] > skip and len(chain) >= p["complete"] * max(n, m):
        q = dict(p, skip_a=max(p["skip_a"], p["complete_skip"]),
                 skip_b=max(p["skip_b"], p["complete_skip"]))
        strict = _chain(ta, tb, span_a, span_b, q)
        if len(strict) > len(chain):
            chain = strict
    if p["lone_ends"] and len(chain) >= 2:
        chain = _lone_ends(ta, tb, chain)
    return np.column_stack([ta[chain[:, 0]], tb[chain[:, 1]]])


def _chain(ta, tb, span_a, span_b, p):
    """The chain (L, 2) of index pairs of :func:`match_events` under options ``p``."""
    from .._kernels.event_match import event_chain

    n, m = len(ta), len(tb)
    k = int(p["k"])
    width = min(m, max(4 * k, _MAX_CELLS // max(1, n * k * k)))
    slope = (span_b[1] - span_b[0]) / max(span_a[1] - span_a[0], 1e-9)
    centre = np.searchsorted(tb, span_b[0] + (ta - span_a[0]) * slope)
    jlo = np.clip(centre - width // 2, 0, m - width).astype(np.int64)
    jlo = np.maximum.accumulate(jlo)
    lim = float(np.log(p["ratio"]))
    chain = event_chain(ta, tb, jlo, int(width), k, float(p["skip_a"]), float(p["skip_b"]),
                        float(p["start"]), float(p["lam"]), float(p["cap"]), float(p["tol"]),
                        float(np.log(slope) - lim), float(np.log(slope) + lim), float(p["hold"]),
                        int(p["hold_depth"]), float(p["hold_long"]))
    return chain


def _lone_ends(ta, tb, chain):
    """``chain`` with the pair of the first events added when exactly one event of each
    side precedes its first pair (and the same at the end): nothing else is there for
    either to be, and the chain's tempo penalty left them out because the first or last
    note of two performances differs most (a lead-in, a final ritardando). Kept within
    a factor of ``_LONE_RATIO`` of the neighbouring step's tempo ratio."""
    (i0, j0), (i1, j1) = chain[0], chain[1]
    if i0 == 1 and j0 == 1:
        step = (tb[j0] - tb[0]) / max(ta[i0] - ta[0], 1e-9)
        ref = (tb[j1] - tb[j0]) / max(ta[i1] - ta[i0], 1e-9)
        if abs(np.log(step / ref)) <= np.log(_LONE_RATIO):
            chain = np.vstack([[0, 0], chain])
    (i0, j0), (i1, j1) = chain[-1], chain[-2]
    if i0 == len(ta) - 2 and j0 == len(tb) - 2:
        step = (tb[-1] - tb[j0]) / max(ta[-1] - ta[i0], 1e-9)
        ref = (tb[j0] - tb[j1]) / max(ta[i0] - ta[i1], 1e-9)
        if abs(np.log(step / ref)) <= np.log(_LONE_RATIO):
            chain = np.vstack([chain, [len(ta) - 1, len(tb) - 1]])
    return chain


def event_map(pairs, span_a, span_b):
    """A monotone piecewise-linear map A -> B through matched pairs, continued beyond
    the first and last pair with the mean tempo ratio of the matched stretch; the
    straight line from ``span_a`` to ``span_b`` when there are fewer than two pairs.
    Returns knots (K, 2)."""
    line = np.array([[span_a[0], span_b[0]], [span_a[1], span_b[1]]], dtype=np.float64)
    if len(pairs) < 2:
        return line
    p = np.asarray(pairs, dtype=np.float64)
    slope = (p[-1, 1] - p[0, 1]) / max(p[-1, 0] - p[0, 0], 1e-9)
    head = [span_a[0], p[0, 1] - (p[0, 0] - span_a[0]) * slope]
    tail = [span_a[1], p[-1, 1] + (span_a[1] - p[-1, 0]) * slope]
    knots = p
    if head[0] < p[0, 0]:
        knots = np.vstack([head, knots])
    if tail[0] > p[-1, 0]:
        knots = np.vstack([knots, tail])
    return knots


def event_knots(events_a, events_b, span_a, span_b):
    """The map A -> B for a pair's event trains: knots (K, 2) of the matched map, or of
    the straight line from ``span_a`` to ``span_b`` when the evidence is weak; and a
    summary (counts, shares of A's events on B's under either map, ``"fallback"``)."""
    pairs = match_events(events_a, events_b, span_a, span_b)
    knots = event_map(pairs, span_a, span_b)
    on_map, on_line = linear_evidence(knots, events_a, events_b, span_a, span_b)
    fallback = len(pairs) < MIN_PAIRS or on_map < on_line + MIN_GAIN
    if fallback:
        knots = event_map(np.zeros((0, 2)), span_a, span_b)
    return knots, {"events_a": int(len(events_a)), "events_b": int(len(events_b)),
                   "matched": int(len(pairs)), "on_onsets_matched": round(on_map, 3),
                   "on_onsets_linear": round(on_line, 3), "fallback": bool(fallback)}


# ------------------------------------------------------------------ turning points
# velocity smoothing (frames) before its zero crossings are found; a run of one sign
# whose travel is under _RUN_SHARE of the largest run within _LOCAL_S is jitter and
# merged into its neighbours
_VEL_SIGMA = 1.0
_RUN_SHARE = 0.25


def _crossings(v, fps, keep="both"):
    """Times (s) where the velocity component ``v`` (per frame; frame k's velocity is
    the motion from k - 1 to k, at time (k - 0.5) / fps) changes sign, after merging
    runs of one sign too short to be a swing. ``keep``: ``"both"``, ``"pos_neg"`` (from
    positive to negative only) or ``"neg_pos"``. Returns (times, strengths)."""
    from scipy.ndimage import gaussian_filter1d, maximum_filter1d

    v = gaussian_filter1d(np.asarray(v, dtype=np.float64), _VEL_SIGMA, mode="nearest")
    n = len(v)
    if n < 3:
        return np.zeros(0), np.zeros(0)
    sign = np.where(v >= 0, 1, -1)
    edges = np.flatnonzero(sign[1:] != sign[:-1]) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [n]])
    travel = np.add.reduceat(np.abs(v), starts)
    # merge jitter runs: the smallest first, until every run is a swing
    runs = [[int(a), int(b), float(t), int(sign[a])]
            for a, b, t in zip(starts, stops, travel, strict=True)]
    win = max(1, int(round(_LOCAL_S * fps)))
    while len(runs) > 2:
        mids = np.array([(r[0] + r[1]) / 2 for r in runs])
        amps = np.array([r[2] for r in runs])
        local = np.array([amps[np.abs(mids - m) <= win / 2].max() for m in mids])
        small = np.flatnonzero(amps < _RUN_SHARE * local)
        small = small[(small > 0) & (small < len(runs) - 1)]
        if len(small) == 0:
            break
        k = int(small[np.argmin(amps[small])])
        a, b, c = runs[k - 1], runs[k], runs[k + 1]
        runs[k - 1:k + 2] = [[a[0], c[1], a[2] + c[2] - b[2], a[3]]]
    times, strength = [], []
    for r0, r1 in zip(runs[:-1], runs[1:], strict=True):
        if r0[3] == r1[3]:
            continue
        if keep == "pos_neg" and r0[3] < 0 or keep == "neg_pos" and r0[3] > 0:
            continue
        # the last sign change before the next run starts: between velocities k-1, k
        k = r1[0]
        lo = k - 1
        while lo > r0[0] and np.sign(v[lo]) != r0[3]:
            lo -= 1
        f = v[lo] / (v[lo] - v[k]) if v[lo] != v[k] else 0.5
        times.append((lo - 0.5 + f * (k - lo)) / fps)
        strength.append(min(r0[2], r1[2]))
    t, s = np.asarray(times), np.asarray(strength)
    if len(t):
        ref = maximum_filter1d(s, max(1, int(round(_LOCAL_S * len(t) / max(t[-1] - t[0], 1e-9)))),
                               mode="nearest")
        s = s / np.maximum(ref, 1e-9)
    return t, s


def turning_points(motion, fps):
    """Candidate visual event trains from the velocity's changes of sign (sub-frame
    times): ``"turns"``, every turn of the motion along its main axis (a pendulum's
    extremes, both sides: its speed is zero there, its acceleration largest), and
    ``"bottoms"``, the lowest points of a vertical motion (the velocity turns from
    down to up: a conductor's ictus, a bounce on a floor). A pendulum's lowest-point
    passes are *not* events here (its vertical turn there is a small part of the
    motion; the main-axis velocity is largest)."""
    vel = np.asarray(motion, dtype=np.float64)[:, :2]
    moving = np.linalg.norm(vel, axis=1) > _SPEED_EPS
    if moving.sum() < 3:
        return {}
    cov = vel[moving].T @ vel[moving] / moving.sum()
    axis = np.linalg.eigh(cov)[1][:, -1]
    return {"turns": _crossings(vel @ axis, fps, "both"),
            # image y grows downwards: a bottom is a change from + (down) to - (up)
            "bottoms": _crossings(vel[:, 1], fps, "pos_neg")}


def accel_peaks(motion, fps, *, min_share=0.3, nms_s=0.1):
    """Candidate train ``"kinks"``: peaks of the change of velocity from one frame to
    the next (an acceleration peak: a conductor's ictus, a bounce, a hit), at the frame
    between the two velocities. Returns (times, strengths)."""
    from scipy.ndimage import gaussian_filter1d

    v = gaussian_filter1d(np.asarray(motion, dtype=np.float64)[:, :2], 0.7, axis=0,
                          mode="nearest")
    acc = np.r_[np.linalg.norm(v[1:] - v[:-1], axis=1), 0.0]
    return event_times(acc, fps, min_share=min_share, nms_s=nms_s)


# trust: the map must stay within B (its ends within _END_SLACK of B's length plus
# _END_SLACK_S), cover at least _MIN_COVER of B, and put clearly more events on onsets
# than the same map shifted by _SHIFTS_S (a periodic train without accents matches
# shifted by a period just as well)
_END_SLACK = 0.1
_END_SLACK_S = 1.0
_MIN_COVER = 0.6
_SHIFTS_S = np.r_[-np.arange(0.12, 1.01, 0.02), np.arange(0.12, 1.01, 0.02)]
MIN_SHIFT_GAIN = 0.15
# two candidate events closer than this are one
_MERGE_S = 0.1


def visual_candidates(motion, fps):
    """The candidate visual event trains of a video: name -> (times, strengths)."""
    out = {"changes": event_times(visual_events(motion, fps), fps)}
    for name, (t, s) in turning_points(motion, fps).items():
        out[name] = (t[s >= 0.3], s[s >= 0.3])
    out["kinks"] = accel_peaks(motion, fps)
    # changes of direction or acceleration peaks (one event where both fire)
    t = np.concatenate([out["changes"][0], out["kinks"][0]])
    s = np.concatenate([out["changes"][1], out["kinks"][1]])
    order = np.argsort(t, kind="stable")
    t, s = t[order], s[order]
    keep = np.r_[True, np.diff(t) > _MERGE_S]
    out["changes+kinks"] = (t[keep], s[keep])
    return out


def _assess(events_a, events_b, span_a, span_b, tol=0.08):
    """Match one candidate train; its map's knots and the evidence for it."""
    ea = np.asarray(events_a, dtype=np.float64)
    eb = np.sort(np.asarray(events_b, dtype=np.float64))
    pairs = match_events(ea, eb, span_a, span_b)
    knots = event_map(pairs, span_a, span_b)
    on_map, on_line = linear_evidence(knots, ea, eb, span_a, span_b, tol)
    mapped = np.interp(ea, knots[:, 0], knots[:, 1])
    shifted = max((_hits(mapped + d, eb, tol) for d in _SHIFTS_S), default=0.0)
    ends = np.interp([span_a[0], span_a[1]], knots[:, 0], knots[:, 1])
    len_b = span_b[1] - span_b[0]
    slack = _END_SLACK * len_b + _END_SLACK_S
    hits = min(on_map * len(ea), len(eb))
    f = 2.0 * hits / max(len(ea) + len(eb), 1)
    reasons = []
    if len(pairs) < MIN_PAIRS:
        reasons.append(f"only {len(pairs)} events matched")
    if on_map < on_line + MIN_GAIN:
        reasons.append("the matched map puts hardly more visual events on onsets than "
                       "a constant tempo")
    if on_map < shifted + MIN_SHIFT_GAIN:
        reasons.append("the map shifted in time fits nearly as well (a periodic event "
                       "train without accents)")
    if ends[0] < span_b[0] - slack or ends[1] > span_b[1] + slack \
            or ends[1] - ends[0] < _MIN_COVER * len_b:
        reasons.append("the matched tempo maps the video outside the audio")
    return knots, {"events_a": int(len(ea)), "matched": int(len(pairs)),
                   "on_onsets_matched": round(on_map, 3),
                   "on_onsets_linear": round(on_line, 3),
                   "on_onsets_shifted": round(shifted, 3), "f": round(f, 3),
                   "trusted": not reasons, "reasons": reasons,
                   # (video, audio) times of the first and last matched pair
                   "matched_span_s": [[float(v) for v in pairs[0]], [float(v) for v in pairs[-1]]]
                   if len(pairs) else None}


def video_event_knots(motion, fps, events_b, span_a, span_b):
    """The map A (video) -> B (audio onsets ``events_b``): every candidate visual event
    train (:func:`visual_candidates`) is matched to the onsets; of those whose map can be
    trusted (:func:`_assess`), the one that explains most events of both sides (2 x hits
    / (visual events + onsets)); the straight line from ``span_a`` to ``span_b`` when
    none can. Returns knots (K, 2) and a summary (``"fallback"``, ``"note"``)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    cands = visual_candidates(motion, fps)
    # the matching kernel releases the GIL: the candidates are matched side by side
    with ThreadPoolExecutor(max_workers=max(1, min(len(cands), os.cpu_count() or 1))) as ex:
        assessed = list(ex.map(lambda c: _assess(c[0], events_b, span_a, span_b),
                               cands.values()))
    best, best_f, report = None, -1.0, {}
    for name, (knots, info) in zip(cands, assessed, strict=True):
        report[name] = info
        if info["trusted"] and info["f"] > best_f:
            best, best_f = (name, knots), info["f"]
    summary = {"events_b": int(len(events_b)), "candidates": report}
    if best is None:
        knots = event_map(np.zeros((0, 2)), span_a, span_b)
        why = sorted({r for info in report.values() for r in info["reasons"]})
        summary.update(fallback=True, used=None,
                       note="video against audio: no visual event train could be trusted ("
                            + "; ".join(why) + "): a constant tempo from start to end "
                            "(the straight line) instead")
        return knots, summary
    name, knots = best
    summary.update(report[name], fallback=False, used=name,
                   note=f"video against audio: visual events '{name}' matched to onsets")
    return knots, summary


# beyond the first and last matched pair (by more than _END_MARGIN_S of A) the map is
# the matched stretch's mean tempo, continued: no event supports it there
_END_MARGIN_S = 0.1
_END_ERROR_MS = 150.0


def with_unmatched_ends(result):
    """``result`` (a video-against-audio alignment) with the steps before its event map's
    first matched pair and after its last (``diagnostics["events"]["matched_a_s"]``, on
    A's time axis) doubtful: their expected error raised to at least ``_END_ERROR_MS``
    (a first or last note whose event one side did not show, or whose tempo the chain
    left out, is placed by extrapolation). The path is the same; ``result`` itself when
    the map was not matched (the straight line) or carries no confidence."""
    from .confidence import confidence_from_error

    span = (result.diagnostics.get("events") or {}).get("matched_a_s")
    if span is None or result.confidence is None:
        return result
    t = np.asarray(result.times_s)[:, 0]
    outside = (t < span[0] - _END_MARGIN_S) | (t > span[1] + _END_MARGIN_S)
    confidence = np.array(result.confidence, dtype=np.float64)
    confidence[outside] = np.minimum(confidence[outside],
                                     confidence_from_error(_END_ERROR_MS))
    return result.replace(confidence=confidence)
