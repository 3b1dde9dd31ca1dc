"""Video against video: thumbnails of small frames and the crop between two copies."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from core._progress import Monitor
from core.features import video as fv
from core.pipeline import align_files, align_recordings
from core.pipeline.video import BASE_BLUR, match_crop
from core.synthetic import video as sv
from tests.core.media_factory import FakeVideo


@pytest.fixture(scope="module")
def clip():
    return sv.render_clip(seed=5, duration_s=4.0, fps=20.0, size=(128, 72),
                          shot_s=(1.0, 2.0), still_s=0.3)


def _smalls(frames):
    return fv.compute_many(iter(frames), ["small"], Monitor(None, None))["small"]


def _centre(frame, crop):
    h, w = frame.shape[:2]
    y0, x0 = int(round(h * crop / 2)), int(round(w * crop / 2))
    return cv2.resize(frame[y0:h - y0, x0:w - x0], (w, h), interpolation=cv2.INTER_LINEAR)


def test_rank_normalize_rows_equals_the_frame_by_frame_one():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 6, (9, 50)).astype(np.float64)  # many ties
    values[4] = 3.0  # a flat frame stays flat
    rows = fv._rank_normalize_rows(values)
    for k in range(values.shape[0]):
        np.testing.assert_allclose(rows[k], fv._rank_normalize(values[k]), atol=1e-12)


@pytest.mark.parametrize("crop", [0.0, 0.1])
def test_thumbnail_of_small_is_the_area_resize_of_the_cropped_small_frame(clip, crop):
    smalls = _smalls(clip[0][:5])
    assert smalls.shape == (5, 36, 64) and smalls.dtype == np.uint8
    thumbs = fv.thumbnail_of_small(smalls, crop)
    # reference: each small pixel as 50 x 50 pixels, so that the crop's edges (between
    # pixels) fall on whole pixels, then OpenCV's area resize of exactly that part
    keep = (1 - crop) * 0.9
    up = 50
    dh, dw = 36 * up * (1 - keep) / 2, 64 * up * (1 - keep) / 2
    assert abs(dh - round(dh)) < 1e-6 and abs(dw - round(dw)) < 1e-6
    dh, dw = round(dh), round(dw)
    for k in range(5):
        big = np.kron(smalls[k].astype(np.float32), np.ones((up, up), np.float32))
        part = big[dh:big.shape[0] - dh, dw:big.shape[1] - dw]
        ref = cv2.resize(part, (32, 18), interpolation=cv2.INTER_AREA).ravel()
        want = fv._rank_normalize(ref.astype(np.float64))
        # the same up to the order of near-equal pixels (float32 sums in another order)
        assert float(thumbs[k] @ want) > 0.999
        assert np.abs(thumbs[k] - want).max() < 0.01


def test_thumbnail_of_small_crops_between_pixels(clip):
    smalls = _smalls(clip[0][:5])
    near = [fv.thumbnail_of_small(smalls, c) for c in (0.04, 0.045, 0.05)]
    # a crop half-way between two others gives thumbnails between theirs
    d = lambda x, y: float(np.mean(1 - np.sum(x * y, axis=1)))  # noqa: E731
    assert d(near[0], near[1]) > 0 and d(near[1], near[2]) > 0
    assert d(near[0], near[2]) > max(d(near[0], near[1]), d(near[1], near[2]))


@pytest.mark.parametrize("side", ["a", "b", "none"])
def test_match_crop_finds_which_copy_is_zoomed_in(clip, side):
    frames = clip[0]
    zoomed = [_centre(f, 0.1) for f in frames]
    rng = np.random.default_rng(1)
    noisy = [np.clip(f + rng.normal(0, 4, f.shape), 0, 255).astype(np.uint8) for f in frames]
    a, b = {"a": (zoomed, noisy), "b": (frames, zoomed), "none": (frames, noisy)}[side]
    (crop_a, crop_b), _, diag = match_crop(_smalls(a), _smalls(b))
    if side == "none":
        assert (crop_a, crop_b) == (0.0, 0.0)
    elif side == "a":  # A shows less: B is cut down to A's part
        assert crop_a == 0.0 and abs(crop_b - 0.1) <= 0.021
    else:
        assert crop_b == 0.0 and abs(crop_a - 0.1) <= 0.021
    assert diag["crop_a"] == crop_a and diag["crop_b"] == crop_b


def test_cropped_copy_of_a_slow_shot_lands_on_its_frames(clip):
    frames, fps = clip
    cfg = sv.video_config("crop", 11)
    cfg.update(crop=0.1, stretch=1.0)
    fa, fb, fps_a, fps_b, truth = sv.make_video_pair(frames, fps, cfg)
    al = align_recordings(FakeVideo(fa, fps_a), FakeVideo(fb, fps_b))
    assert al.diagnostics["crop"]["crop_a"] == pytest.approx(0.1, abs=0.021)
    within, _ = sv.frame_accuracy(np.asarray(al.times_s), truth, fps_a, fps_b)
    assert within >= 0.98


def test_skip_in_a_noisy_blurred_half_size_copy_is_jumped():
    # a copy at half size, blurred, noisy and compressed (its frames' cost along the path
    # is mostly noise): with the jump penalty in plain medians (no cap) the skip was not
    # taken and spread over the next frames (92 % within one frame; 100 % with the cap)
    frames, fps = sv.render_clip(seed=5, duration_s=6.0, fps=20.0, size=(128, 72),
                                 shot_s=(2.0, 3.0), still_s=0.3)
    cfg = sv.video_config("skip", 0)
    cfg.update(noise=14.0, quality=12, blur=1.5, scale=0.5)
    fa, fb, fps_a, fps_b, truth = sv.make_video_pair(frames, fps, cfg)
    al = align_recordings(FakeVideo(fa, fps_a), FakeVideo(fb, fps_b))
    jb = int(np.flatnonzero(np.diff(truth[:, 0]) > 5)[0]) + 1
    assert [abs(s["b_s"] * fps_b - jb) <= 1 for s in al.diagnostics["skips"]] == [True]
    within, _ = sv.frame_accuracy(np.asarray(al.times_s), truth, fps_a, fps_b)
    assert within >= 0.98


@pytest.mark.parametrize("soft", ["a", "b"])
def test_match_crop_blurs_the_sharper_copy(clip, soft):
    frames = clip[0]
    blurred = [cv2.GaussianBlur(f, (0, 0), 1.5) for f in frames]
    a, b = (blurred, frames) if soft == "a" else (frames, blurred)
    crop, (blur_a, blur_b), diag = match_crop(_smalls(a), _smalls(b))
    assert crop == (0.0, 0.0)
    # both sides get the base blur, the sharper one more
    if soft == "a":
        assert blur_a == BASE_BLUR and blur_b > BASE_BLUR
    else:
        assert blur_b == BASE_BLUR and blur_a > BASE_BLUR
    assert (diag["blur_a"], diag["blur_b"]) == pytest.approx((blur_a, blur_b), abs=1e-4)


def test_match_crop_gives_equally_sharp_copies_the_base_blur(clip):
    (_, _), blur, diag = match_crop(_smalls(clip[0]), _smalls(clip[0]))
    assert BASE_BLUR > 0 and blur == (BASE_BLUR, BASE_BLUR)
    assert (diag["blur_a"], diag["blur_b"]) == (BASE_BLUR, BASE_BLUR)


BIKES = Path(__file__).resolve().parents[3] / "shared" / "data" / "public" / "video" / \
    "video_p01_bikes" / "a.mp4"


@pytest.mark.skipif(not BIKES.exists(), reason="../shared/data is absent")
def test_noisy_copy_of_a_real_slow_shot_through_a_codec_lands_on_its_frames(tmp_path):
    # the public clip's last shot (a slow camera move, 60 frames), both copies written
    # through MPEG-4 as real copies are: a noisy copy's frames matched frames two later
    # (89 % within one frame) until both sides got the base blur (100 %)
    frames, fps = sv.read_clip(BIKES)
    frames = [cv2.resize(f, (213, 90), interpolation=cv2.INTER_AREA) for f in frames[190:]]
    fa, fb, fps_a, fps_b, truth = sv.make_video_pair(frames, fps, sv.video_config("noise", 209))
    sv.write_frames(tmp_path / "a.mp4", fa, fps_a)
    sv.write_frames(tmp_path / "b.mp4", fb, fps_b)
    al = align_files(tmp_path / "a.mp4", tmp_path / "b.mp4")
    within, _ = sv.frame_accuracy(np.asarray(al.times_s), truth, fps_a, fps_b)
    assert within >= 0.98
