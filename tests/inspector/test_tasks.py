"""The window's task functions (Qt-free): opening, waveform envelopes, features in a child
process, recipes, errors that keep their type."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import melody, write_wav

from core import registry
from core.errors import MediaError
from inspector.tasks import align as align_tasks
from inspector.tasks import features as feature_tasks
from inspector.tasks import media as media_tasks
from inspector.tasks.process import rebuilt_exception


def test_opening_records_the_content_hash(tmp_path):
    import hashlib

    path = write_wav(tmp_path / "a.wav", melody(1.0))
    opened = media_tasks.open_recording(path)
    assert opened.info.kind == "audio" and opened.info.duration_s == pytest.approx(1.0)
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    assert opened.info.content_hash == digest
    assert opened.info.key == f"sha256:{opened.info.content_hash}"


def test_opening_a_bad_file_names_it(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(MediaError, match="bad.wav"):
        media_tasks.open_recording(bad)


def test_wave_envelope_bins_bound_the_signal(tmp_path):
    rng = np.random.default_rng(0)
    x = (0.5 * rng.standard_normal(50_000)).clip(-1, 1).astype(np.float32)
    rec = media_tasks.open_recording(write_wav(tmp_path / "n.wav", x, rate=8000)).recording
    signal = np.asarray(rec.audio(mono=True))
    env = media_tasks.wave_envelope(rec, 1.0, 2.0, 100)
    assert len(env.lo) == 100 and env.t0_s == 1.0 and env.t1_s == 2.0
    for b in (0, 37, 99):
        seg = signal[8000 + 80 * b: 8000 + 80 * (b + 1)]
        assert env.lo[b] == pytest.approx(seg.min()) and env.hi[b] == pytest.approx(seg.max())
    np.testing.assert_allclose(env.times[:2], [1.0 + 0.005, 1.0 + 0.015])
    # what a view may draw from it: the range it covers at about its resolution
    assert env.covers(1.2, 1.8, 60) and not env.covers(0.5, 1.5, 100)
    assert not env.covers(1.0, 2.0, 10)  # far too many bins for 10 pixels
    assert not env.covers(1.0, 1.1, 500)  # too coarse for a zoom
    t, lo, hi = env.slice(1.25, 1.5)
    assert t[0] <= 1.25 <= t[1] and t[-1] >= 1.5 and np.all(lo <= hi)
    whole = media_tasks.wave_envelope(rec, 0.0, rec.duration_s, 64)
    assert whole.lo.min() == pytest.approx(signal.min())
    assert whole.hi.max() == pytest.approx(signal.max())


def test_a_wave_pyramid_draws_every_zoom_down_to_its_finest_bins(tmp_path):
    x = np.random.default_rng(1).uniform(-1, 1, 80_000).astype(np.float32)
    rec = media_tasks.open_recording(write_wav(tmp_path / "p.wav", x, rate=8000)).recording
    pyramid = media_tasks.wave_pyramid(rec)
    spb = [round(env.bin_s * 8000) for env in pyramid.levels]
    assert spb[0] == media_tasks.FINE_SAMPLES_PER_BIN
    assert all(b == 4 * a for a, b in zip(spb[:-1], spb[1:], strict=False))
    assert len(pyramid.levels[-1].lo) <= media_tasks.COARSE_BINS
    for env in pyramid.levels:  # every level holds the signal's extremes
        assert env.lo.min() == pytest.approx(x.min(), abs=1e-4)
        assert env.hi.max() == pytest.approx(x.max(), abs=1e-4)
    whole = pyramid.pick(0.0, 10.0, 1000)
    assert 1000 <= len(whole.lo) <= 4000
    assert pyramid.pick(2.0, 3.0, 500) is pyramid.finest  # 500 bins of 16 samples
    assert pyramid.pick(2.0, 2.5, 1000) is None  # 4 samples per bin wanted: a job


def test_a_zoom_finer_than_the_samples_still_covers(tmp_path):
    rec = media_tasks.open_recording(
        write_wav(tmp_path / "s.wav", melody(1.0), rate=8000)).recording
    env = media_tasks.wave_envelope(rec, 0.5, 0.51, 2000)  # 80 samples for 2000 pixels
    assert len(env.lo) == 80
    assert env.covers(0.5, 0.51, 2000)


def test_stream_images_of_long_recordings_come_from_a_child_process(tmp_path, monkeypatch):
    from core.features import Features

    rec = media_tasks.open_recording(write_wav(tmp_path / "a.wav", melody(3.0))).recording
    spec = registry.FeatureSpec("logmel", 20.0)
    here = feature_tasks.stream_features_job(rec, spec)
    monkeypatch.setattr(feature_tasks, "DISPLAY_PROCESS_MIN_S", 0.0)  # every file is long
    child = feature_tasks.stream_features_job(rec, spec)
    assert isinstance(child, Features)
    assert not child.values.flags.writeable
    assert child.rate_hz == here.rate_hz and child.name == "logmel"
    np.testing.assert_allclose(child.values, here.values, rtol=1e-5, atol=1e-6)


def test_a_bad_file_in_the_feature_child_process_keeps_its_error_type(tmp_path, monkeypatch):
    class Fake:
        path = str(tmp_path / "gone.wav")
        duration_s = 4000.0

    monkeypatch.setattr(feature_tasks, "DISPLAY_PROCESS_MIN_S", 0.0)
    with pytest.raises(MediaError, match="gone.wav"):
        feature_tasks.stream_features_job(Fake(), registry.FeatureSpec("logmel", 20.0))


def test_errors_are_rebuilt_with_their_type_and_message():
    exc = rebuilt_exception(MediaError, "a.wav: file not found")
    assert isinstance(exc, MediaError) and str(exc) == "a.wav: file not found"
    assert type(rebuilt_exception("not a type", "x")) is RuntimeError


def test_a_recipe_run_records_its_cost_image(tmp_path):
    a = media_tasks.open_recording(write_wav(tmp_path / "a.wav", melody(2.0))).recording
    b = media_tasks.open_recording(
        write_wav(tmp_path / "b.wav", melody(2.5, tempo=0.8, seed=1))).recording
    out = align_tasks.run_recipe(registry.recipe("dtw", {"metric": "cosine"}, rate_hz=10.0),
                                 a, b)
    assert out.image == (out.recipe.features_a[0], out.recipe.features_b[0], "cosine")
    assert out.features_a.name == "chroma" and out.features_a.rate_hz == 10.0
    assert out.alignment.params["metric"] == "cosine"
    default = align_tasks.run_recipe(registry.recipe("default"), a, b)
    spec_a, spec_b, metric = default.image
    assert spec_a.name == "chroma" and metric == "cosine"  # the pipeline's tonal feature
    assert spec_a.rate_hz == default.alignment.rate_a_hz
    assert default.features_a.values.shape[0] == default.alignment.n_a
    assert [f.name for f in default.recipe.features_a][:2] == ["dlnco", "chroma"]


def test_a_child_s_warnings_arrive_here_under_this_process_s_filters():
    """A warning in a child process is shown here with its category, text, file and line,
    after the filters this process had when the task started: shown (once per place
    for ``default``), left out (``ignore``) or made the task's error (``error``)."""
    import warnings

    import child_targets

    from core.errors import PartialOverlapWarning
    from inspector.tasks.process import in_child

    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("default")
        warnings.filterwarnings("ignore", message="step 1", category=RuntimeWarning)
        assert in_child(child_targets.warn_twice, (3,)) == "done"
    said = [(w.category, str(w.message)) for w in shown]
    assert said == [(PartialOverlapWarning, "B has a lead-in A lacks"),
                    (RuntimeWarning, "step 0 is odd"), (RuntimeWarning, "step 2 is odd")]
    assert all(w.filename == child_targets.__file__ and w.lineno > 1 for w in shown)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PartialOverlapWarning)
        with pytest.raises(PartialOverlapWarning, match="B has a lead-in A lacks"):
            in_child(child_targets.warn_twice, (1,))


def test_a_child_that_dies_is_said_to_have_ended():
    import child_targets

    from inspector.tasks.process import in_child

    with pytest.raises(RuntimeError, match="the die process ended unexpectedly "
                                           r"\(exit code 3\)"):
        in_child(child_targets.die, (3,))


def test_the_default_alignment_in_a_child_process_warns_here(lead_in_pair, monkeypatch):
    """What an alignment in the window's process raises, one in a child process raises
    here: the pipeline's warning about B's lead-in."""
    from core.errors import PartialOverlapWarning

    recs = [media_tasks.open_recording(p).recording for p in lead_in_pair]
    monkeypatch.setattr(align_tasks, "PROCESS_MIN_TOTAL_S", 0.0)  # every pair is long
    with pytest.warns(PartialOverlapWarning, match=r"B \(b\.wav\) has material at its start"):
        out = align_tasks.align_job(registry.recipe("default"), *recs)
    assert out.alignment.diagnostics["warning"].startswith("B (b.wav) has material")
