"""The default audio pipeline on transformed copies (issue 16): an inverted channel, a
key shift, mains hum, a telephone band. Each case failed before its fix."""

import numpy as np
import soundfile as sf

from core.media import open_recording
from core.pipeline import align_files
from tests.core.test_pipeline import SR, _pair


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_a_stereo_file_with_one_channel_inverted_is_mixed_not_cancelled(tmp_path):
    a, b, times_a, times_b = _pair()
    sf.write(tmp_path / "a.wav", a, SR)
    sf.write(tmp_path / "b.wav", np.column_stack([b, -b]), SR, subtype="FLOAT")
    rec = open_recording(tmp_path / "b.wav")
    weights = rec.mix_weights()
    assert weights.tolist() == [0.5, -0.5]
    np.testing.assert_allclose(rec.audio(), b, atol=1e-6)
    np.testing.assert_allclose(rec.read_block(100, 900), b[100:900], atol=1e-6)
    al = align_files(tmp_path / "a.wav", tmp_path / "b.wav")  # was refused as silent
    assert np.mean(np.abs(al.map_a_to_b(times_a) - times_b)) < 0.03


def test_an_ordinary_stereo_file_keeps_the_plain_average(tmp_path):
    rng = np.random.default_rng(0)
    left = rng.normal(0, 0.1, 20000).astype(np.float32)
    right = (0.5 * left + rng.normal(0, 0.1, 20000)).astype(np.float32)
    sf.write(tmp_path / "s.wav", np.column_stack([left, right]), SR, subtype="FLOAT")
    rec = open_recording(tmp_path / "s.wav")
    assert rec.mix_weights().tolist() == [0.5, 0.5]
    np.testing.assert_allclose(rec.audio(), 0.5 * (left + right), atol=1e-6)
