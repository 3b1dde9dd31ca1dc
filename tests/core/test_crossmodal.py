"""Video against audio (core.pipeline.crossmodal): visual events from motion, matching of
event trains, and the pipeline on generated pairs (pendulum turns, conductor-like
stops, cuts) that the motion-energy peaks alone could not align."""

import csv
import json

import numpy as np
import pytest

from core._progress import Monitor
from core.pipeline import align_files
from core.pipeline import crossmodal as cm
from core.synthetic import crossmodal as sc

FPS = 25.0


def _turns(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return 0.8 + np.cumsum(rng.uniform(0.35, 0.8, n))


def _recall(found, truth, tol):
    return np.mean([np.min(np.abs(found - t)) <= tol for t in truth])


@pytest.mark.parametrize("motion", ["pendulum", "bounce", "conductor"])
def test_visual_events_at_changes_of_direction(motion):
    """A pendulum's turns (its motion is slowest there), a bounce's impacts and a
    conductor's ictus are found within two frames."""
    events = _turns()
    frames = sc.render_motion(motion, events, FPS, events[-1] + 1.0, seed=1)
    motion_rows = cm.video_motion(iter(frames), Monitor(None, None))
    found, _ = cm.event_times(cm.visual_events(motion_rows, FPS), FPS)
    assert _recall(found, events, 2.0 / FPS) >= 0.8, (found, events)
    # few extras: not every frame of a smooth swing
    assert len(found) <= 1.5 * len(events) + 2


def test_visual_events_take_the_first_frame_of_a_fading_flash_and_a_cut():
    rng = np.random.default_rng(0)
    frames = []
    level = np.full(60, 60.0)
    level[20:] += 120 * np.exp(-np.arange(40) / 4.0)  # a flash at frame 20, fading
    for k in range(60):
        frames.append(np.clip(level[k] + rng.normal(0, 2, (30, 40, 3)), 0, 255)
                      .astype(np.uint8))
    scene = rng.uniform(0, 255, (30, 40, 3)).astype(np.uint8)
    frames[45:] = [scene] * 15  # a cut at frame 45
    rows = cm.video_motion(iter(frames), Monitor(None, None))
    found, _ = cm.event_times(cm.visual_events(rows, FPS), FPS)
    assert np.min(np.abs(found - 20 / FPS)) < 0.5 / FPS
    assert np.min(np.abs(found - 45 / FPS)) < 0.5 / FPS
    # nothing in the fade after the flash
    assert not np.any((found > 21.5 / FPS) & (found < 44.5 / FPS)), found


def test_event_matching_survives_missing_and_extra_events():
    """B plays A's events under another, abruptly changing tempo; A misses some, B has
    extras: every matched pair is a true pair and most true pairs are matched."""
    rng = np.random.default_rng(3)
    ta = np.cumsum(rng.choice([0.3, 0.6, 0.6, 0.9, 1.2], 40)) + 0.5
    ratio = np.where(ta < 12, 1.3, 0.8)  # abrupt tempo change halfway
    tb = 0.7 + np.concatenate([[0.0], np.cumsum(np.diff(ta) * ratio[1:])])
    keep = rng.random(40) > 0.15
    extra = rng.uniform(ta[0], ta[-1], 5)
    seen_a = np.sort(np.concatenate([ta[keep], extra]))
    seen_b = np.sort(np.concatenate([tb, rng.uniform(tb[0], tb[-1], 4)]))
    truth = dict(zip(np.round(ta, 6), tb, strict=True))
    pairs = cm.match_events(seen_a, seen_b, (0.0, ta[-1] + 1), (0.0, tb[-1] + 1))
    true_pairs = [p for p in pairs if np.round(p[0], 6) in truth
                  and abs(truth[np.round(p[0], 6)] - p[1]) < 1e-9]
    assert len(true_pairs) >= 0.8 * keep.sum()
    assert len(true_pairs) >= len(pairs) - 3
    knots, info = cm.event_knots(seen_a, seen_b, (0.0, ta[-1] + 1), (0.0, tb[-1] + 1))
    assert not info["fallback"]
    err = np.abs(np.interp(ta, knots[:, 0], knots[:, 1]) - tb)
    assert np.mean(err <= 0.1) >= 0.9


def test_weak_evidence_falls_back_to_the_straight_line():
    """Too few events to match: the map is the straight line from start to end."""
    knots, info = cm.event_knots(np.array([1.0, 2.0]), np.array([0.5, 3.0, 4.0]),
                                 (0.0, 10.0), (0.0, 20.0))
    assert info["fallback"]
    assert np.allclose(np.interp([0.0, 5.0, 10.0], knots[:, 0], knots[:, 1]),
                       [0.0, 10.0, 20.0])


def _truth(d):
    with open(d / "gt.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return (np.array([float(r["time_a_s"]) for r in rows]),
            np.array([float(r["time_b_s"]) for r in rows]))


@pytest.mark.parametrize("motion,seed", [("pendulum", 301), ("conductor", 302)])
def test_pipeline_aligns_motion_without_flashes_to_the_tune(tmp_path, motion, seed):
    """Generated pairs (another tempo map on each side): most events within 100 ms and
    better than a constant tempo ratio."""
    d = sc.make_crossmodal_pair(tmp_path / motion, motion, seed=seed, n_events=16)
    al = align_files(d / "video.mp4", d / "audio.wav")
    assert al.diagnostics["material"] == "video-vs-audio"
    assert not al.diagnostics["events"]["fallback"]
    ga, gb = _truth(d)
    err = np.abs(al.map_a_to_b(ga) - gb)
    meta = json.loads((d / "meta.json").read_text())
    linear = np.abs(ga * meta["duration_b_s"] / meta["duration_a_s"] - gb)
    assert np.mean(err <= 0.1) >= 0.8, err
    assert err.mean() < linear.mean()


def _motion_rows(x, y):
    """video_motion-like rows from positions per frame: velocity k = x[k] - x[k-1]."""
    vx = np.r_[0.0, np.diff(x)]
    vy = np.r_[0.0, np.diff(y)]
    return np.column_stack([vx, vy, np.abs(vx) + np.abs(vy)])


def test_turning_points_are_a_pendulums_extremes_and_a_bounces_floor():
    """A swing that slows to a stop at each extreme (twice per period, both sides) is
    found there within a frame; its lowest-point passes are not turns. A ball's
    lowest points (the floor) are 'bottoms', its apexes are not."""
    events = _turns(seed=4)
    t = np.arange(int((events[-1] + 1.0) * FPS)) / FPS
    i = np.clip(np.searchsorted(events, t, side="right") - 1, 0, len(events) - 2)
    s = np.clip((t - events[i]) / (events[i + 1] - events[i]), 0, 1)
    side = np.where(i % 2 == 0, 1.0, -1.0)
    angle = 0.7 * side * np.cos(np.pi * s)
    rows = _motion_rows(30 * np.sin(angle), 30 * np.cos(angle))
    found = cm.turning_points(rows, FPS)["turns"][0]
    inner = events[1:-1]
    assert _recall(found, inner, 1.0 / FPS) >= 0.9, (found, inner)
    assert len(found) <= len(events) + 1
    y = 40 - 30 * 4 * s * (1 - s)  # image y grows downwards: the floor at 40
    bottoms = cm.turning_points(_motion_rows(t * 3.0, y), FPS)["bottoms"][0]
    assert _recall(bottoms, inner, 1.0 / FPS) >= 0.9, (bottoms, inner)
    mids = (events[:-1] + events[1:]) / 2
    assert np.all([np.min(np.abs(bottoms - m)) > 0.1 for m in mids[1:-1]])


def test_a_periodic_event_train_without_accents_falls_back_to_the_straight_line():
    """Both sides steady at one beat per 0.5 s: any shift by a beat fits as well, so
    the events say nothing the straight line does not; the notes say why."""
    t = np.arange(int(20.5 * FPS)) / FPS
    rows = _motion_rows(30 * np.sin(np.pi * t / 0.5 + 0.3), np.zeros_like(t))
    onsets = np.arange(0.4, 20.0, 0.5)
    knots, info = cm.video_event_knots(rows, FPS, onsets, (0.0, t[-1]), (0.0, 20.5))
    assert info["fallback"] and info["used"] is None
    assert "periodic" in info["note"] and "straight line" in info["note"]
    assert np.allclose(knots, [[0.0, 0.0], [t[-1], 20.5]])


def test_a_map_that_leaves_the_audio_is_not_trusted():
    """Visual events that fit the onsets only under a tempo that maps the video far
    beyond the end of the audio are not used."""
    onsets = 0.5 + np.cumsum(np.random.default_rng(5).choice([0.3, 0.6, 0.9], 30))
    knots, info = cm._assess(onsets / 0.5, onsets, (0.0, onsets[-1] / 0.5 + 20.0),
                             (0.0, onsets[-1] + 0.5))
    assert not info["trusted"]
    assert any("outside the audio" in r for r in info["reasons"])
    # the same events under a tempo that stays within the audio: not refused for that
    good = cm._assess(onsets / 0.9, onsets, (0.0, onsets[-1] / 0.9 + 0.5),
                      (0.0, onsets[-1] + 0.5))[1]
    assert not any("outside the audio" in r for r in good["reasons"]), good


def test_pipeline_falls_back_to_the_straight_line_on_a_steady_swing(tmp_path):
    """A pendulum swinging steadily against a steady click: no accents, so no event map
    can be trusted; the path is the straight line and the notes say why."""
    import soundfile as sf

    from core.synthetic.video import write_frames

    events = np.arange(0.5, 12.0, 0.5)
    frames = sc.render_motion("pendulum", events, FPS, 12.5, seed=2)
    write_frames(tmp_path / "v.mp4", frames, FPS)
    sr = 22050
    x = np.zeros(int(12.5 * sr))
    click = np.sin(2 * np.pi * 880 * np.arange(int(0.05 * sr)) / sr) \
        * np.exp(-np.arange(int(0.05 * sr)) / (0.01 * sr))
    for t in np.arange(0.4, 12.0, 0.5):
        k = int(t * sr)
        x[k:k + len(click)] += 0.5 * click
    sf.write(tmp_path / "a.wav", x, sr)
    al = align_files(tmp_path / "v.mp4", tmp_path / "a.wav")
    assert al.diagnostics["events"]["fallback"]
    assert any("straight line" in n and "periodic" in n for n in al.diagnostics["notes"])
    t = np.linspace(1.0, 11.0, 11)
    assert np.allclose(al.map_a_to_b(t), t * (12.5 / (len(frames) / FPS)), atol=0.1)


def test_onset_peaks_in_a_long_silence_are_not_onsets():
    """A melody with a silence longer than the local normalization's window: the noise
    floor's flickers there are no onsets (they reach a ten-thousandth of the notes'
    strength), while notes played ten times softer still count."""
    from core.pipeline import _peak_curve

    rate = cm.ONSET_RATE_HZ
    rng = np.random.default_rng(7)
    curve = 1e-3 * rng.random(int(30 * rate))
    loud, soft = np.arange(1.0, 10.0, 0.5), np.arange(21.0, 29.0, 0.5)
    for t, level in [(t, 20.0) for t in loud] + [(t, 2.0) for t in soft]:
        curve[int(round(t * rate))] += level
    peaks = _peak_curve(curve, rate, sigma_s=0.0, nms_s=cm.ONSET_NMS_S,
                        min_level=cm.ONSET_LEVEL)
    found = cm.event_times(peaks, rate, min_share=cm.ONSET_SHARE, nms_s=cm.ONSET_NMS_S)[0]
    assert not np.any((found > 10.5) & (found < 20.5)), found
    assert _recall(found, np.r_[loud, soft], 0.011) == 1.0


def test_a_floor_that_flashes_at_each_impact_does_not_move_the_ball():
    """A ball bouncing on a floor that lights up at every impact and fades over 0.2 s:
    the lit floor is a region changing in place, not the moving object, so the lowest
    points of the ball's motion stay on the impacts (the lit floor's centroid pulled
    them two frames late)."""
    events = _turns(n=14, seed=6)
    frames = sc.render_motion("bounce", events, FPS, events[-1] + 1.0, seed=3)
    h = frames[0].shape[0]
    for k, frame in enumerate(frames):
        i = np.searchsorted(events, k / FPS, side="right") - 1
        if i >= 0:
            lit = 200.0 * np.exp(-(k / FPS - events[i]) / 0.08)
            floor = frame[int(0.85 * h):].astype(np.float32) + lit
            frame[int(0.85 * h):] = np.clip(floor, 0, 255).astype(np.uint8)
    rows = cm.video_motion(iter(frames), Monitor(None, None))
    bottoms = cm.turning_points(rows, FPS)["bottoms"][0]
    inner = events[1:-1]
    offsets = np.array([bottoms[np.argmin(np.abs(bottoms - t))] - t for t in inner])
    assert np.mean(np.abs(offsets) <= 1.0 / FPS) >= 0.9, offsets


@pytest.mark.parametrize("hold", [0.0, 1.0])
def test_a_note_held_longer_on_one_side_costs_one_change_of_tempo(hold):
    """Two steady trains under a constant tempo ratio, except two notes (fermatas) held
    1.8 times longer on B: matched one by one only when a held interval costs one change
    of tempo (in) and the return to the old tempo none; charged twice, the chain skips
    the note after the hold and lags one note behind."""
    rng = np.random.default_rng(11)
    ia = rng.uniform(0.75, 0.95, 30)
    ib = ia * 1.25 * np.exp(rng.normal(0, 0.03, 30))
    for h in (9, 20):
        ia[h] *= 1.7
        ib[h] = ia[h] * 1.25 * 1.8
    ta = 0.8 + np.r_[0, np.cumsum(ia)]
    tb = 0.6 + np.r_[0, np.cumsum(ib)]
    # (the hold alone: not the costlier skips of trains that nearly all pair up)
    pairs = cm.match_events(ta, tb, (0, ta[-1] + 1), (0, tb[-1] + 1), hold=hold,
                            complete_skip=0.0)
    right = np.abs(pairs[:, 1] - np.interp(pairs[:, 0], ta, tb)) < 1e-9
    if hold == cm._MATCH["hold"]:  # the default
        assert len(pairs) == len(ta) and right.all(), pairs
    else:
        assert right.sum() < len(ta) - 3


def test_a_textured_scene_keeps_all_its_foreground(monkeypatch):
    """Cuts between textured scenes have no single compact object (their foreground is
    many fragments): no part of it is left out as a lit region, so the rows are those
    of the whole foreground."""
    events = _turns(n=8, seed=8)
    bars = events[::2]
    frames = sc.render_motion("cuts", events, FPS, events[-1] + 1.0, seed=5, bars=bars)
    rows = cm.video_motion(iter(frames), Monitor(None, None))
    monkeypatch.setattr(cm, "_FG_BLOB", np.inf)
    monkeypatch.setattr(cm, "_FG_GAP", -1)
    whole = cm.video_motion(iter(frames), Monitor(None, None))
    assert np.array_equal(rows, whole)


@pytest.mark.parametrize("lone_ends", [False, True])
def test_the_lone_first_events_of_both_sides_are_a_pair(lone_ends):
    """The first note lasts 1.4 times longer (relative to the rest) on B than on A, so
    the chain's tempo penalty leaves its pair out; but one event on each side precedes
    the chain and nothing else is there for them to be: they are paired (the map's
    start no longer extrapolated from the rest's mean tempo)."""
    rng = np.random.default_rng(12)
    ia = rng.uniform(0.4, 0.9, 20)
    ib = ia * 1.1 * np.exp(rng.normal(0, 0.02, 20))
    ib[0] = ia[0] * 1.1 * 1.4
    ta = 0.8 + np.r_[0, np.cumsum(ia)]
    tb = 0.5 + np.r_[0, np.cumsum(ib)]
    span_a, span_b = (0, ta[-1] + 1), (0, tb[-1] + 1)
    pairs = cm.match_events(ta, tb, span_a, span_b, lone_ends=lone_ends)
    if lone_ends:  # the default
        assert np.allclose(pairs, np.column_stack([ta, tb]))
    else:
        assert pairs[0, 0] > ta[0]
    # a spurious event before the first on one side: no longer alone, left out
    extra = cm.match_events(np.r_[0.2, ta], tb, span_a, span_b, lone_ends=lone_ends)
    assert extra[0, 0] > ta[0]


def test_steps_beyond_the_matched_events_are_doubtful(tmp_path):
    """Before the first matched pair of events and after the last, the map is the
    matched stretch's tempo continued: those steps are doubtful, the others keep the
    calibrated confidence."""
    from core.pipeline.confidence import doubtful_confidence

    d = sc.make_crossmodal_pair(tmp_path / "bounce", "bounce", seed=303, n_events=12)
    al = align_files(d / "video.mp4", d / "audio.wav")
    span = al.diagnostics["events"]["matched_a_s"]
    t = al.times_s[:, 0]
    outside = (t < span[0] - cm._END_MARGIN_S) | (t > span[1] + cm._END_MARGIN_S)
    assert outside.any() and (~outside).any()
    assert np.all(al.confidence[outside] < doubtful_confidence(al))
    assert np.mean(al.confidence[~outside] < doubtful_confidence(al)) < 0.5


@pytest.mark.parametrize("complete_skip", [0.0, 1.0])
def test_complete_trains_do_not_slip_a_note(complete_skip):
    """The bounces and xylophone onsets of 16 notes of BWV 145.5 (samekind pair
    xmodal_f02: rubato 0.1 against 0.14, a pause held 3 s on one side and 4.3 s on the
    other, then eight even quarter notes): every event has its partner, but at a skip
    cost of 0.5 the chain leaves out the note after the pause on A and one before the
    half note on B, and pairs the even notes between a note off (cheaper in tempo
    changes). Nearly all events pair up, so the skips then cost more: one to one."""
    ta = np.array([14.02, 14.68, 15.3, 16.78, 19.76, 20.42, 21.01, 21.59, 22.18, 22.76,
                   23.32, 23.89, 24.53, 26.1, 28.85, 29.48])
    tb = np.array([17.18, 17.85, 18.46, 19.92, 24.27, 25.14, 25.93, 26.64, 27.34, 28.14,
                   29.1, 30.09, 30.94, 32.45, 36.6, 37.42])
    span_a, span_b = (ta[0] - 0.5, ta[-1] + 0.5), (tb[0] - 0.5, tb[-1] + 0.5)
    pairs = cm.match_events(ta, tb, span_a, span_b, complete_skip=complete_skip)
    right = np.searchsorted(ta, pairs[:, 0]) == np.searchsorted(tb, pairs[:, 1])
    if complete_skip == cm._MATCH["complete_skip"]:  # the default
        assert np.allclose(pairs, np.column_stack([ta, tb])), pairs
    else:
        assert (~right).sum() >= 5, pairs
    # a train with many events without a partner keeps the ordinary skip cost
    noisy = np.sort(np.r_[ta, ta[:-1] + 0.23])
    assert np.array_equal(cm.match_events(noisy, tb, span_a, span_b, complete_skip=complete_skip),
                          cm.match_events(noisy, tb, span_a, span_b, complete_skip=0.0))
