"""The inspector's worker functions (Qt-free): envelope, cost images, estimates."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import write_wav
from scipy.spatial.distance import cdist

from core.errors import Cancelled, MediaError
from inspector import compute


def test_envelope_levels_bound_the_signal(tmp_path):
    rng = np.random.default_rng(0)
    x = (0.5 * rng.standard_normal(50_000)).clip(-1, 1).astype(np.float32)
    rec = compute.open_recording(write_wav(tmp_path / "n.wav", x, rate=8000))
    env = compute.compute_envelope(rec)
    signal = np.asarray(rec.audio(mono=True))
    lo, hi = env.levels[0]
    spb = env.samples_per_bin[0]
    for b in (0, 7, len(lo) - 1):
        seg = signal[b * spb:(b + 1) * spb]
        assert lo[b] == pytest.approx(seg.min()) and hi[b] == pytest.approx(seg.max())
    # every coarser level holds the extremes of what it covers
    for (clo, chi), cspb in zip(env.levels[1:], env.samples_per_bin[1:], strict=True):
        assert clo.min() >= signal.min() - 1e-6 and chi.max() <= signal.max() + 1e-6
        seg = signal[:cspb]
        assert clo[0] == pytest.approx(seg.min()) and chi[0] == pytest.approx(seg.max())
    # picking a range gives about the requested number of bins, in seconds
    t, plo, phi = env.pick(1.0, 2.0, 100)
    assert 100 <= len(t) <= 2 * 100 * 4 + 4
    assert t[0] <= 1.0 + 1e-9 and t[-1] >= 2.0 - 0.01
    assert np.all(plo <= phi)


def test_envelope_can_be_cancelled(tmp_path):
    rec = compute.open_recording(write_wav(tmp_path / "z.wav", np.zeros(5000, np.float32)))
    with pytest.raises(Cancelled):
        compute.compute_envelope(rec, cancel=lambda: True)


def test_opening_a_bad_file_names_it(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(MediaError, match="bad.wav"):
        compute.open_recording(bad)


def test_cost_view_is_exact_when_small_and_approximate_when_large():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((300, 4)), rng.standard_normal((200, 4))
    image, exact = compute.cost_view(x, y, 10, 60, 20, 90, 100)
    assert exact
    np.testing.assert_allclose(image, cdist(x[10:60], y[20:90]), rtol=1e-5)
    image, exact = compute.cost_view(x, y, 0, 300, 0, 200, 50)
    assert not exact and image.shape == (50, 50)


def test_cost_overview_has_the_requested_shape():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((90, 3)), rng.standard_normal((70, 3))
    out = compute.cost_overview(x, y, (30, 20))
    assert out.shape == (30, 20)
    full = compute.cost_overview(x, y, (1000, 1000))
    np.testing.assert_allclose(full, cdist(x, y), rtol=1e-5)


def test_path_local_cost_reads_the_cost_along_the_path():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((20, 3)), rng.standard_normal((25, 3))
    path = np.array([[0, 0], [1, 2], [5, 7], [19, 24]])
    c = compute.path_local_cost(x, y, path)
    np.testing.assert_allclose(c, cdist(x, y)[path[:, 0], path[:, 1]])


@pytest.mark.parametrize("method", list(compute.METHODS))
def test_estimates_are_positive_and_grow_with_size(method):
    small = compute.estimate(method, 100, 100, 12, {})
    large = compute.estimate(method, 1000, 1000, 12, {})
    assert small[0] > 0 and small[1] > 0
    assert large[0] > small[0] and large[1] > small[1]


def test_a_missing_method_is_reported_not_raised(monkeypatch):
    monkeypatch.setitem(compute.METHODS, "ot", ("core.not_written_yet", "ot"))
    ok, why = compute.method_available("ot")
    assert not ok and "not available yet" in why
    with pytest.raises(RuntimeError, match="not available yet"):
        compute.run_method("ot", np.zeros((3, 1)), np.zeros((3, 1)), {}, rate_a_hz=1.0,
                           rate_b_hz=1.0)


def test_stream_images_of_long_recordings_come_from_a_child_process(tmp_path, monkeypatch):
    from conftest import melody, write_wav

    from inspector import compute

    rec = compute.open_recording(write_wav(tmp_path / "a.wav", melody(3.0)))
    here = compute.display_features_job(rec, "logmel", rate_hz=20.0)
    monkeypatch.setattr(compute, "DISPLAY_PROCESS_MIN_S", 0.0)  # every file counts as long
    child = compute.display_features_job(rec, "logmel", rate_hz=20.0)
    assert isinstance(child, compute.DisplayFeatures)
    assert not child.values.flags.writeable
    assert child.rate_hz == here.rate_hz and child.name == "logmel"
    np.testing.assert_allclose(child.values, here.values, rtol=1e-5, atol=1e-6)


def test_a_bad_file_in_the_feature_child_process_names_it(tmp_path, monkeypatch):
    from inspector import compute

    class Fake:
        path = str(tmp_path / "gone.wav")
        duration_s = 4000.0

    monkeypatch.setattr(compute, "DISPLAY_PROCESS_MIN_S", 0.0)
    with pytest.raises(ValueError, match="gone.wav"):
        compute.display_features_job(Fake(), "logmel", rate_hz=20.0)
