"""Hard clipping (issue 16): a side cut flat at a level is found by its runs of samples
on an extreme, and its chroma is computed with a compression that leaves the distortion
out (:mod:`core.pipeline.clipping`)."""

import numpy as np
import pytest

from core.pipeline.clipping import clip_compression, clip_options, clipped_share, is_clipped
from tests.core.test_pipeline import SR, FakeAudio, _pair


def _sine(freq_hz, seconds=1.0, amplitude=1.0):
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def test_a_clipped_signal_has_its_runs_on_the_extremes_counted():
    x = np.clip(_sine(220.0), -0.5, 0.5)
    share = clipped_share(x)
    # a sine clipped at half its peak stays on a rail for two thirds of each period
    assert 0.64 < share < 0.69
    assert is_clipped(x) == (True, round(share, 4))


@pytest.mark.parametrize("freq_hz", [50.0, 220.0, 3000.0])
def test_a_steady_full_scale_sine_is_not_clipping(freq_hz):
    # its crests touch the peak for a sample or two, never a run
    assert clipped_share(_sine(freq_hz)) < 1e-3
    assert is_clipped(_sine(freq_hz))[0] is False


def test_each_sign_has_its_own_extreme():
    # a 16-bit file clips at 32767 and -32768: both rails count
    x = np.repeat(np.array([32767, -32768, 0, 100], dtype=np.float64), 5) / 32768.0
    assert clipped_share(x) == pytest.approx(0.5)


def test_a_light_clipping_is_not_acted_on():
    # about 3 % of the samples on the rails: too little distortion to change the chroma
    x = np.clip(_sine(50.0), -0.999, 0.999)
    clipped, share = is_clipped(x)
    assert 0.0 < share < 0.05 and clipped is False


def test_silence_and_short_runs_are_not_clipping():
    assert clipped_share(np.zeros(100)) == 0.0
    assert clipped_share(np.zeros(0)) == 0.0
    x = np.zeros(100)
    x[[10, 11, 50]] = 1.0  # runs of two and one sample on the peak
    assert clipped_share(x) == 0.0


def test_a_multichannel_array_is_refused():
    with pytest.raises(ValueError, match="x: expected a mono signal"):
        clipped_share(np.zeros((10, 2)))


def test_only_a_clipped_sides_chroma_changes():
    assert clip_options("chroma", {}, 0.3) == {"compression": pytest.approx(1e4)}
    assert clip_options("chroma", {}, 0.02) == {}
    assert clip_options("dlnco", {"compression": 1e5}, 0.5) == {"compression": 1e5}
    # an explicit compression is kept
    assert clip_options("chroma", {"compression": 10.0}, 0.5) == {"compression": 10.0}


def test_the_compression_falls_with_the_share_on_the_rails():
    shares = [0.0, 0.05, 0.1, 0.2, 0.3, 0.6]
    values = [clip_compression(s) for s in shares]
    assert values[0] == values[1] == pytest.approx(1e5)
    assert values[4] == values[5] == pytest.approx(1e4)
    assert values[1] > values[2] > values[3] > values[4]
    assert values[2] == pytest.approx(10 ** 4.8)  # geometric between the two


def test_the_pipeline_finds_a_clipped_side_and_reports_it():
    from core.pipeline import align_recordings

    a, b, times_a, times_b = _pair()
    peak = 0.1 * float(np.max(np.abs(b)))
    clipped = np.clip(b, -peak, peak) * 5.0
    al = align_recordings(FakeAudio(a, "a.wav"), FakeAudio(clipped, "b.wav"))
    info = al.diagnostics["clipping"]
    assert info["a"]["clipped"] is False and info["a"]["share"] == 0.0
    assert info["b"]["clipped"] is True and info["b"]["share"] > 0.05
    chroma = [f for f in al.diagnostics["features"] if f["name"] == "chroma"]
    assert chroma[0]["params_a"]["compression"] == 1e5
    assert chroma[0]["params_b"]["compression"] == pytest.approx(
        clip_compression(info["b"]["share"]))
    assert chroma[0]["params_b"]["compression"] < 1e5
    assert np.mean(np.abs(al.map_a_to_b(times_a) - times_b)) < 0.03


def test_an_unclipped_pair_keeps_its_chroma():
    from core.pipeline import align_recordings

    a, b, *_ = _pair()
    al = align_recordings(FakeAudio(a, "a.wav"), FakeAudio(b, "b.wav"))
    assert al.diagnostics["clipping"] == {"a": {"clipped": False, "share": 0.0},
                                          "b": {"clipped": False, "share": 0.0}}
    chroma = [f for f in al.diagnostics["features"] if f["name"] == "chroma"]
    assert chroma[0]["params_a"]["compression"] == chroma[0]["params_b"]["compression"] \
        == 1e5
