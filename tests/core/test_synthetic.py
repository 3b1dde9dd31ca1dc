"""Generators of material with known alignment (core.synthetic)."""

import csv
import json

import numpy as np
import pytest

from core.synthetic import crossmodal, music
from core.synthetic import video as sv


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def clip():
    return sv.render_clip(seed=3, duration_s=3.0, fps=20.0, size=(64, 48), shot_s=(1.0, 1.5),
                          still_s=0.3)


def _plain(kind, seed=1, **changes):
    cfg = sv.video_config(kind, seed)
    cfg.update(changes)
    return cfg


def test_video_config_is_seeded_and_kind_specific():
    assert sv.video_config("combined", 5) == sv.video_config("combined", 5)
    assert sv.video_config("combined", 5) != sv.video_config("combined", 6)
    freeze = sv.video_config("freeze", 1)
    assert freeze["freezes"] and not freeze["skips"] and freeze["crop"] == 0
    with pytest.raises(ValueError, match="kind"):
        sv.video_config("wobble", 1)


def test_video_pair_truth_names_the_frame_b_shows(clip):
    frames, fps = clip
    cfg = _plain("trim", trim_a=(0.5, 0.3), trim_b=(0.2, 0.0), freezes=[(0.4, 0.4)],
                 skips=[(0.7, 0.3)])
    fa, fb, fps_a, fps_b, truth = sv.make_video_pair(frames, fps, cfg)
    assert len(fb) == truth.shape[0]
    assert len(fa) == len(frames) - 10 - 6
    for j in range(len(fb)):  # no photometric change: B shows its clip frame exactly
        assert np.array_equal(fb[j], frames[truth[j, 0]])
        if truth[j, 1] >= 0:
            assert np.array_equal(fa[truth[j, 1]], fb[j])
            assert truth[j, 2] <= truth[j, 1] <= truth[j, 3]
    src = truth[:, 0]
    assert np.any(np.diff(src) == 0)  # the freeze holds a frame
    assert np.max(np.diff(src)) >= 4  # the skip jumps (0.3 s at 20 fps)
    assert np.all(np.diff(src) >= 0)
    assert np.any(truth[:, 1] < 0)  # B shows frames A was trimmed of


def test_video_pair_photometric_changes_size_and_rate(clip):
    frames, fps = clip
    cfg = _plain("combined", seed=4)
    fa, fb, fps_a, fps_b, truth = sv.make_video_pair(frames, fps, cfg)
    assert fps_b == cfg["fps_b"]
    assert fb[0].shape[:2] != fa[0].shape[:2] or cfg["scale"] == 1.0
    assert fb[0].dtype == np.uint8


def test_frame_accuracy_counts_frames_within_one(clip):
    frames, fps = clip
    cfg = _plain("fps", fps_b=25.0)
    fa, fb, fps_a, fps_b, truth = sv.make_video_pair(frames, fps, cfg)
    jb = np.arange(truth.shape[0])
    perfect = np.column_stack([truth[:, 1] / fps_a, jb / fps_b])
    assert sv.frame_accuracy(perfect, truth, fps_a, fps_b)[0] == 1.0
    shifted = np.column_stack([(truth[:, 1] + 3) / fps_a, jb / fps_b])
    assert sv.frame_accuracy(shifted, truth, fps_a, fps_b)[0] < 0.5


def test_written_video_reads_back(tmp_path, clip):
    frames, fps = clip
    sv.write_frames(tmp_path / "c.mp4", frames[:10], fps)
    back, rate = sv.read_clip(tmp_path / "c.mp4")
    assert len(back) == 10 and rate == pytest.approx(fps)


def test_reverb_and_band_limit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(music.SR).astype(np.float32)
    y = music.band_limit(x, 300.0, 3400.0)
    spec = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1 / music.SR)
    assert spec[f < 100].mean() < 0.01 * spec[(f > 500) & (f < 3000)].mean()
    click = np.zeros(music.SR, np.float32)
    click[100] = 1.0
    wet = music.reverb(click, 0.5)
    assert np.abs(wet[music.SR // 4:]).max() > 0  # the room rings on after the click


def test_audio_pair_ground_truth(tmp_path):
    d = music.make_audio_pair(tmp_path / "p", "voice_reverb_band", seed=2, n_events=6)
    rows = _rows(d / "gt.csv")
    assert len(rows) >= 6
    ta = np.array([float(r["time_a_s"]) for r in rows])
    tb = np.array([float(r["time_b_s"]) for r in rows])
    assert np.all(np.diff(ta) > 0) and np.all(np.diff(tb) > 0)
    meta = json.loads((d / "meta.json").read_text())
    assert tb[-1] < meta["duration_b_s"]


@pytest.mark.parametrize("motion", crossmodal.MOTIONS)
def test_crossmodal_pair(tmp_path, motion):
    d = crossmodal.make_crossmodal_pair(tmp_path / motion, motion, seed=1, n_events=8,
                                        fps=10.0)
    rows = _rows(d / "gt.csv")
    meta = json.loads((d / "meta.json").read_text())
    assert len(rows) == meta["n_events"] >= 1
    if motion != "cuts":
        assert len(rows) == 8
    frames, fps = sv.read_clip(d / "video.mp4")
    assert fps == pytest.approx(10.0)
    assert float(rows[-1]["time_a_s"]) < len(frames) / fps


def test_motion_peaks_at_bounce_impacts():
    from core.features import video as fv

    events = np.array([0.5, 1.1, 1.6, 2.4])
    frames = crossmodal.render_motion("bounce", events, 30.0, 3.0, seed=0)
    from core._progress import Monitor

    motion = fv.compute_many(iter(frames), ["motion"], Monitor(None, None))["motion"][:, 0]
    # the ball is fastest at an impact, slowest at the top of its flight
    for a, b in zip(events[:-1], events[1:], strict=True):
        mid = int(round(0.5 * (a + b) * 30))
        assert motion[int(round(a * 30)) + 1] > motion[mid]


def test_render_holds_notes_as_asked_and_takes_a_timbre_function():
    """``held`` shortens the notes (staccato), ``tail_s`` lets a ringing note sound on,
    and a timbre may be any ``note(freq_hz, dur_s, t)``; the defaults are unchanged."""
    events = [((60,), 1.0), ((64,), 1.0), ((67,), 1.0)]

    def tone(f, dur, t):
        return np.sin(2 * np.pi * f * t) * (t < dur)

    def sounding_s(x):  # time above 1 % of the peak, noise aside
        return np.count_nonzero(np.abs(x) > 0.01 * np.abs(x).max()) / music.SR

    legato, onsets = music.render(np.random.default_rng(0), events, tone, "smooth", 0.2)
    staccato, onsets_s = music.render(np.random.default_rng(0), events, tone, "smooth", 0.2,
                                      held=0.3)
    assert np.allclose(onsets, onsets_s)
    assert sounding_s(staccato) < 0.45 * sounding_s(legato)
    ring, _ = music.render(np.random.default_rng(0), events, "piano", "smooth", 0.2,
                           tail_s=3.0, end_s=3.0)
    short, _ = music.render(np.random.default_rng(0), events, "piano", "smooth", 0.2)
    assert ring.size > short.size
    same, _ = music.render(np.random.default_rng(0), events, "piano", "smooth", 0.2,
                           tail_s=0.6, held=0.92, end_s=1.5)
    assert np.array_equal(same, short)


def test_bass_line_holds_a_low_note_a_bar_from_melody_onsets(tmp_path):
    import soundfile as sf

    events = [((64,), 2.0), ((67, 60), 1.5), (None, 1.0), ((65,), 0.5), ((62,), 3.0),
              ((60,), 1.0)]
    bass = music.bass_line(events)
    # bars at beats 0, 4, 8: the first played event at or after each bar line
    assert [(k0, k1) for _, k0, k1 in bass] == [(0, 3), (3, 5), (5, 6)]
    assert [p for p, _, _ in bass] == [40, 41, 36]
    assert all(36 <= p < 48 for p, _, _ in bass)
    plain = music.make_audio_pair(tmp_path / "plain", "piano_organ", seed=3, n_events=8)
    held = music.make_audio_pair(tmp_path / "bass", "piano_organ", seed=3, n_events=8,
                                 bass_level=0.5)
    # the same melody and tempo curves: the same ground truth, a louder low band
    assert (plain / "gt.csv").read_text() == (held / "gt.csv").read_text()
    xa, sr = sf.read(plain / "b.wav")
    ya, _ = sf.read(held / "b.wav")
    assert len(xa) == len(ya)
    low = np.fft.rfftfreq(len(xa), 1 / sr) < 150.0

    def low_share(x):
        spec = np.abs(np.fft.rfft(x)) ** 2
        return spec[low].sum() / spec.sum()

    assert low_share(ya) > 2 * low_share(xa)
    with pytest.raises(ValueError, match="bass_level: expected 0 or more"):
        music.make_audio_pair(tmp_path / "bad", "piano_organ", seed=3, bass_level=-1.0)
