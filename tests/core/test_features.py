"""Features: textbook cases, shapes, dtypes, frame timing, bad input."""

import numpy as np
import pytest
from scipy.signal import find_peaks

from core.features import (
    AUDIO_FEATURES,
    Features,
    audio_features,
    compute_features,
    normalize_features,
    video_features,
)
from core.features.audio import estimate_tuning, frame_centers

SR = 22050


def tone(freq, seconds=1.5, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def clicks(times, seconds=3.0, sr=SR):
    x = np.random.default_rng(0).normal(0, 1e-4, int(seconds * sr)).astype(np.float32)
    for c in times:
        x[int(round(c * sr))] += 1.0
    return x


@pytest.mark.parametrize("freq, pitch_class", [(440.0, "A"), (261.63, "C"), (98.0, "G"),
                                               (1318.5, "E"), (185.0, "F#")])
def test_pure_tone_chroma_peaks_at_its_pitch_class(freq, pitch_class):
    f = audio_features(tone(freq), SR, "chroma")
    assert f.labels[int(np.argmax(f.values.mean(axis=0)))] == pitch_class
    assert f.values.shape[1] == 12


def test_cens_of_a_tone_peaks_at_its_pitch_class():
    f = audio_features(tone(392.0), SR, "cens")
    mean = f.values[20:-20].mean(axis=0)
    # quantization may tie the neighbours (window leakage, strongly compressed)
    assert mean[f.labels.index("G")] >= mean.max() - 1e-6
    assert mean[f.labels.index("C")] < 0.1 * mean.max()
    np.testing.assert_allclose(np.linalg.norm(f.values, axis=1), 1.0, atol=1e-5)


def test_tuning_estimate_of_a_sharp_tone():
    sharp = 12 * np.log2(445.0 / 440.0)
    assert estimate_tuning(tone(445.0), SR) == pytest.approx(sharp, abs=0.03)
    assert estimate_tuning(tone(440.0), SR) == pytest.approx(0.0, abs=0.03)


def test_mfcc_of_white_noise_is_flat():
    x = np.random.default_rng(1).normal(size=3 * SR).astype(np.float32)
    v = audio_features(x, SR, "mfcc").values.mean(axis=0)
    # coefficient 0 carries the level; the shape coefficients are near zero
    assert np.all(np.abs(v[2:]) < 0.02 * abs(v[0]))
    assert abs(v[1]) < 0.05 * abs(v[0])


def test_click_train_onset_peaks_at_the_clicks():
    times = [0.5, 1.0, 1.53, 2.2]
    f = audio_features(clicks(times), SR, "onset", rate_hz=50.0)
    curve = f.values[:, 0]
    peaks, _ = find_peaks(curve, height=0.5 * curve.max())
    np.testing.assert_allclose(peaks / 50.0, times, atol=0.021)


@pytest.mark.parametrize("freq", [1046.5, 392.0, 146.8])
def test_dlnco_fires_at_a_note_start_and_decays(freq):
    note = tone(freq, 1.0)
    note[-2205:] *= np.linspace(1, 0, 2205, dtype=np.float32)  # no click at the end
    x = np.concatenate([np.zeros(SR // 2, np.float32), note])
    f = audio_features(x, SR, "dlnco", rate_hz=50.0)
    strength = np.linalg.norm(f.values, axis=1)
    k = int(np.argmax(strength))
    # (the strong compression makes the attack transient of a pure tone broadband:
    # DLNCO marks when, its chroma says little about which pitch)
    assert abs(k / 50.0 - 0.5) <= 0.04
    assert strength[k + 5] < strength[k]
    assert strength[k + 30] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("name", AUDIO_FEATURES)
@pytest.mark.parametrize("rate", [50.0, 31.5])
def test_audio_shapes_and_frame_count(name, rate):
    x = tone(330.0, 1.0)
    f = audio_features(x, SR, name, rate_hz=rate)
    assert f.values.dtype == np.float32 and not f.values.flags.writeable
    assert f.n_frames == frame_centers(x.shape[0], SR, rate).shape[0]
    assert f.rate_hz == rate and f.name == name
    assert f.times_s[-1] <= x.shape[0] / SR


def test_frame_k_is_centred_on_k_over_rate():
    c = frame_centers(SR + 1, SR, 50.0)
    assert c[0] == 0 and c[50] == SR and c.shape[0] == 51
    assert frame_centers(SR, SR, 50.0).shape[0] == 50


@pytest.mark.parametrize("mode", ["none", "zscore", "l2"])
def test_normalizations(mode):
    x = np.random.default_rng(2).normal(size=(40, 5))
    x[3] = 0
    v = normalize_features(x, mode)
    assert v.dtype == np.float32
    if mode == "zscore":
        np.testing.assert_allclose(v.mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(v.std(axis=0), 1, atol=1e-4)
    if mode == "l2":
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="name"):
        audio_features(tone(440), SR, "nope")
    with pytest.raises(ValueError, match="normalize"):
        audio_features(tone(440), SR, "mfcc", normalize="max")
    with pytest.raises(ValueError, match="signal"):
        audio_features(np.array([np.nan, 1.0]), SR, "mfcc")
    with pytest.raises(ValueError, match="signal"):
        audio_features(np.zeros(0), SR, "mfcc")
    with pytest.raises(ValueError, match="sample_rate"):
        audio_features(tone(440), -1, "mfcc")
    with pytest.raises(ValueError, match="rate_hz"):
        audio_features(tone(440), SR, "mfcc", rate_hz=0)
    with pytest.raises(ValueError, match="options"):
        audio_features(tone(440), SR, "mfcc", colour="red")
    with pytest.raises(ValueError, match="midi_range"):
        audio_features(tone(440), SR, "chroma", midi_range=(90, 30))
    with pytest.raises(ValueError, match="values"):
        Features(np.zeros((0, 3)), 50.0, "x")
    with pytest.raises(ValueError, match="rate_hz"):
        Features(np.zeros((3, 3)), 0.0, "x")
    with pytest.raises(ValueError, match="labels"):
        Features(np.zeros((3, 3)), 50.0, "x", labels=("a",))


# ---------------------------------------------------------------- video
def _scene(seed, n, h=72, w=128):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(h // 8, w // 8, 3), dtype=np.uint8)
    base = np.kron(base, np.ones((8, 8, 1), dtype=np.uint8))
    frames = []
    for k in range(n):  # a slow pan
        frames.append(np.roll(base, k, axis=1))
    return frames


def test_a_cut_is_a_spike_in_motion_energy():
    frames = _scene(0, 20) + _scene(1, 20)
    f = video_features(iter(frames), 25.0, "motion")
    m = f.values[:, 0]
    assert int(np.argmax(m)) == 20
    assert m[20] > 5 * np.median(m[1:])


def test_thumbnail_is_invariant_to_gain_bias_and_gamma():
    frames = _scene(3, 3)
    altered = [np.clip(255 * ((f / 255.0) ** 0.8) * 1.05 + 4, 0, 255).astype(np.uint8)
               for f in frames]
    a = video_features(iter(frames), 25.0, "thumbnail").values
    b = video_features(iter(altered), 25.0, "thumbnail").values
    assert np.all(np.sum(a * b, axis=1) > 0.97)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_histogram_and_resampling():
    frames = _scene(4, 25)
    f = video_features(iter(frames), 25.0, "histogram", n_bins=8)
    assert f.values.shape == (25, 24)
    np.testing.assert_allclose(np.sum(f.values ** 2, axis=1), 1.0, atol=1e-5)
    g = video_features(iter(frames), 25.0, "histogram", rate_hz=50.0)
    assert g.n_frames == 49 and g.rate_hz == 50.0


def test_video_bad_input():
    with pytest.raises(ValueError, match="name"):
        video_features(iter(_scene(0, 2)), 25.0, "mfcc")
    with pytest.raises(ValueError, match="frames"):
        video_features(iter([]), 25.0, "thumbnail")
    with pytest.raises(ValueError, match="fps"):
        video_features(iter(_scene(0, 2)), 0.0, "thumbnail")


class _FakeAudio:
    kind = "audio"
    rate_hz = float(SR)
    path = "fake.wav"

    def audio(self, mono=True):
        return tone(440.0)


def test_compute_features_on_a_recording():
    f = compute_features(_FakeAudio(), "chroma")
    assert f.rate_hz == 50.0 and f.params["path"] == "fake.wav"
    with pytest.raises(ValueError, match="name"):
        compute_features(_FakeAudio(), "thumbnail")
    with pytest.raises(ValueError, match="recording"):
        compute_features(object(), "chroma")


def test_cross_check_chroma_with_librosa():
    librosa = pytest.importorskip("librosa")
    x = tone(523.25)
    ours = audio_features(x, SR, "chroma").values.mean(axis=0)
    theirs = librosa.feature.chroma_stft(y=x, sr=SR).mean(axis=1)
    assert int(np.argmax(ours)) == int(np.argmax(theirs)) == 0


def test_compute_features_on_an_opened_wav(tmp_path):
    sf = pytest.importorskip("soundfile")
    media = pytest.importorskip("core.media")
    path = tmp_path / "tone.wav"
    sf.write(path, np.stack([tone(440.0), tone(440.0)], axis=1), SR)
    rec = media.open_recording(path)
    f = compute_features(rec, "chroma", rate_hz=25.0)
    assert f.rate_hz == 25.0 and f.labels[int(np.argmax(f.values.mean(axis=0)))] == "A"
    assert f.params["path"] == str(path)


def test_compute_features_on_an_opened_video(tmp_path):
    media = pytest.importorskip("core.media")
    factory = pytest.importorskip("tests.core.media_factory")
    path = factory.write_video(tmp_path / "clip.mp4", 20, fps=10.0)
    rec = media.open_recording(path)
    thumbs = compute_features(rec, "thumbnail")
    assert thumbs.rate_hz == 10.0 and thumbs.n_frames == rec.n_frames
    motion = compute_features(rec, "motion", rate_hz=20.0)
    assert motion.rate_hz == 20.0 and motion.values.shape[1] == 1
    # the barcode changes every frame: motion is positive after frame 0
    assert np.all(motion.values[2:, 0] >= 0) and motion.values[:, 0].max() > 0
