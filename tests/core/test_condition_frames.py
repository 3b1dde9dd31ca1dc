"""The frames the recording-condition checks share (core.pipeline.frames) and the faster
searches built on them: the same measurements as the plain per-check computations."""

import functools

import numpy as np
import pytest
from scipy.fft import rfft

from core.pipeline import band, hum, noise
from core.pipeline.frames import frame_starts, hann, spread_frames, symmetric_hann

SR = 22050


def _speechlike(seconds, seed):
    """Bursts of a gliding harmonic tone (syllables) between silences, a little hiss."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = 140.0 * (1.0 + 0.2 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    bursts = (np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6)) > 0.2).astype(float)
    hiss = 0.003 * rng.standard_normal(t.size)
    return (0.3 * voice * bursts + hiss).astype(np.float32)


def _with_hum(x, mains, level, start_s=0.0):
    t = np.arange(x.size) / SR
    line = sum(np.sin(2 * np.pi * mains * h * t + h) / h for h in range(1, 5))
    return (x + level * line * (t >= start_s)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _signals():
    """Generated signals by name (read-only)."""
    rng = np.random.default_rng(3)
    white = rng.standard_normal(30 * SR).astype(np.float32)
    speech = _speechlike(30.0, 1)
    out = {
        "speech": speech,
        "speech+offset": (speech + 0.2).astype(np.float32),
        "white": white,
        "speech+noise": (speech + 0.3 * white[:speech.size]).astype(np.float32),
        "silence": np.zeros(8 * SR, dtype=np.float32),
        "short": speech[:SR // 2],
        "hum60": _with_hum(speech, 60.0, 0.2),
        "hum50": _with_hum(speech, 50.0, 0.02),
        "hum from 20 %": _with_hum(speech, 60.0, 0.05, start_s=6.0),  # in 80 % of segments
        "hum from 5 %": _with_hum(speech, 50.0, 0.05, start_s=1.5),
    }
    for x in out.values():
        x.flags.writeable = False
    return out


NAMES = ["speech", "speech+offset", "white", "speech+noise", "silence", "short", "hum60",
         "hum50", "hum from 20 %", "hum from 5 %"]


# ------------------------------------------------------- plain references (the old code)

def _reference_frames(x, starts, window, remove_mean):
    out = []
    for s in starts:
        seg = np.asarray(x[s:s + window.size], dtype=np.float32)
        out.append((seg - seg.mean()) * window if remove_mean else seg * window)
    return np.array(out, dtype=np.float32)


def _reference_hum(x, sr):
    """detect_hum as a plain search over every segment (no early stop)."""
    x = np.asarray(x, dtype=np.float32)
    n_fft = 1 << int(np.ceil(np.log2(hum._SEGMENT_S * sr)))
    n_segments = min(hum._MAX_SEGMENTS, x.shape[0] // n_fft)
    if n_segments < hum._MIN_SEGMENTS:
        return None, []
    top = min(n_fft // 2 + 1, int(np.ceil((hum._MAX_HARMONIC_HZ + 2 * hum._NEIGHBOURHOOD_HZ)
                                          * n_fft / sr)))
    window = np.hanning(n_fft).astype(np.float32)
    power = np.array([np.abs(rfft((x[s:s + n_fft] - x[s:s + n_fft].mean()) * window)[:top])
                      ** 2 for s in np.linspace(0, x.shape[0] - n_fft, n_segments).astype(int)],
                     dtype=np.float64)
    freqs = np.arange(top) * sr / n_fft
    found = {}
    for mains in hum.MAINS_HZ:
        found[mains] = []
        for h in range(1, int(min(hum._MAX_HARMONIC_HZ, 0.45 * sr) // mains) + 1):
            dist = np.abs(freqs - h * mains)
            line = dist <= hum._LINE_HZ
            near = (dist <= hum._NEIGHBOURHOOD_HZ) & (dist > hum._GAP_HZ)
            if not line.any() or near.sum() < 4:
                continue
            ratio = power[:, line].max(axis=1) / np.maximum(
                np.median(power[:, near], axis=1), 1e-30)
            share = float(np.mean(ratio > hum._LINE_RATIO))
            if share >= hum._HARMONIC_SHARE:
                found[mains].append((h * mains, share))
    steady = {m: sum(s >= hum._STATIONARY_SHARE for _, s in found[m]) for m in hum.MAINS_HZ}
    mains = max(hum.MAINS_HZ, key=lambda m: (steady[m], len(found[m])))
    if not steady[mains]:
        return None, []
    return mains, [f for f, _ in found[mains]]


# ------------------------------------------------------------------------------ tests

@pytest.mark.parametrize("remove_mean", [False, True])
@pytest.mark.parametrize("n_fft, n_frames", [(1024, 400), (4096, 7), (32768, 4), (64, 1)])
def test_spread_frames_are_the_per_frame_computation(remove_mean, n_fft, n_frames):
    x = _signals()["speech+offset"]
    starts = frame_starts(x.size, n_fft, n_frames)
    assert starts.size == n_frames and starts[0] == 0
    assert n_frames == 1 or starts[-1] == x.size - n_fft
    for window in (hann(n_fft), symmetric_hann(n_fft)):
        got = spread_frames(x, starts, window, remove_mean=remove_mean)
        np.testing.assert_array_equal(got, _reference_frames(x, starts, window, remove_mean))


def test_the_windows_are_numpys_and_scipys_and_read_only():
    from scipy.signal import get_window

    np.testing.assert_allclose(hann(1024), get_window("hann", 1024), atol=1e-7)
    np.testing.assert_array_equal(symmetric_hann(4096), np.hanning(4096).astype(np.float32))
    with pytest.raises(ValueError, match="read-only"):
        hann(16)[0] = 1.0


@pytest.mark.parametrize("name", NAMES)
def test_the_noise_floor_is_the_plain_percentile_over_frames(name):
    x = _signals()[name]
    floor, share = noise.noise_floor(x, SR)
    n_fft = noise._n_fft(SR)
    if x.size < 2 * n_fft:
        assert share == 0.0 and not floor.any()
        return
    starts = np.linspace(0, x.size - n_fft, min(noise._MAX_FRAMES, x.size // n_fft))
    mag = np.abs(rfft(_reference_frames(x, starts.astype(int), hann(n_fft), True), axis=1))
    expected = np.percentile(mag, noise._PERCENTILE, axis=0)
    np.testing.assert_array_equal(floor, expected)
    freqs = np.arange(expected.size) * SR / n_fft
    inside = (freqs >= 100.0) & (freqs <= 8000.0)
    power = mag[:, inside].astype(np.float64) ** 2
    total = np.sum(np.mean(power, axis=0))
    if not total:
        assert share == 0.0
        return
    # counted up to 0.57 (a Rayleigh distribution's 20th percentile over its median) times
    # each bin's median over the tenth of the frames with the least energy in the band
    quiet = np.argsort(power.sum(axis=1), kind="stable")[:max(4, len(starts) // 10)]
    bound = np.sqrt(np.log(1.25) / np.log(2.0)) * np.median(mag[quiet][:, inside], axis=0)
    steady = np.minimum(expected[inside], bound).astype(np.float64)
    assert share == pytest.approx(np.sum(steady ** 2) / total, rel=1e-6)  # float32


@pytest.mark.parametrize("name", NAMES)
def test_the_hum_search_answers_as_the_search_over_every_segment(name):
    x = _signals()[name]
    assert hum.detect_hum(x, SR) == _reference_hum(x, SR)


def test_the_hum_answers_of_the_generated_signals_cover_every_case():
    answers = {name: hum.detect_hum(x, SR) for name, x in _signals().items()}
    assert answers["speech"] == (None, []) and answers["white"] == (None, [])
    assert answers["hum60"] == (60.0, [60.0, 120.0, 180.0, 240.0])
    assert answers["hum50"][0] == 50.0
    assert answers["hum from 20 %"] == (None, [])  # steady in 80 % of the segments only
    assert answers["hum from 5 %"][0] == 50.0


def test_a_recording_without_hum_is_ruled_out_after_the_first_segments(monkeypatch):
    import scipy.fft

    transformed = []
    real = scipy.fft.rfft

    def counting(frames, *args, **kwargs):
        transformed.append(np.atleast_2d(frames).shape[0])
        return real(frames, *args, **kwargs)

    monkeypatch.setattr(scipy.fft, "rfft", counting)
    x = _signals()["speech"]
    n_segments = min(hum._MAX_SEGMENTS, x.size // 32768)
    assert n_segments >= 15
    assert hum.detect_hum(x, SR) == (None, [])
    assert sum(transformed) <= 8 < n_segments
    transformed.clear()
    assert hum.detect_hum(_signals()["hum60"], SR)[0] == 60.0
    assert sum(transformed) == n_segments  # hum: every segment is looked at


@pytest.mark.parametrize("name", ["speech", "white", "silence", "short", "hum60"])
def test_the_band_levels_are_the_mean_power_of_the_spread_frames(name):
    x = _signals()[name]
    edges = band.band_edges(SR, SR)
    levels = band.band_levels(x, SR, edges)
    padded = np.pad(x, (0, max(0, band._N_FFT - x.size)))
    starts = np.linspace(0, padded.size - band._N_FFT,
                         min(band._MAX_FRAMES, max(1, padded.size // band._N_FFT))).astype(int)
    frames = _reference_frames(padded, starts, np.hanning(band._N_FFT).astype(np.float32),
                               False)
    power = np.mean(np.abs(rfft(frames, axis=1)) ** 2, axis=0, dtype=np.float64)
    freqs = np.arange(power.size) * SR / band._N_FFT
    for k in range(edges.size - 1):
        inside = power[(freqs >= edges[k]) & (freqs < edges[k + 1])]
        expected = 10 * np.log10(max(inside.mean(), 1e-20)) if inside.size else np.nan
        np.testing.assert_array_equal(levels[k], expected)


def test_the_features_filters_are_remembered_read_only_and_handed_out_as_copies():
    from core.features import audio as fa

    x = _signals()["speech"][:3 * SR]
    before = fa.logmel(x, SR, 100.0, None, n_mels=40)[0]
    handed = fa.mel_filters(SR, 1024, 40)
    handed[:] = 0.0  # a caller's copy: the features keep theirs
    np.testing.assert_array_equal(fa.logmel(x, SR, 100.0, None, n_mels=40)[0], before)
    assert fa._mel_filters(SR, 1024, 40, 30.0, None) is fa._mel_filters(SR, 1024, 40, 30.0, None)
    for kept in (fa._mel_filters(SR, 1024, 40, 30.0, None),
                 fa._pitch_filters(SR, 4096, 0.0, 21, 44)):
        assert not kept.flags.writeable
    np.testing.assert_array_equal(fa.pitch_filters(SR, 4096, 0.0, 21, 44),
                                  fa._pitch_filters(SR, 4096, 0.0, 21, 44))
