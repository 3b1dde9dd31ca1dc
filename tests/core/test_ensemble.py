"""A sustained ensemble's side (core.pipeline.ensemble): its DLNCO keeps rising between
the chords; the music pipeline takes that floor off and weighs its onsets less locally."""

from __future__ import annotations

import numpy as np
import pytest

from core.features import audio_features
from core.features.audio import _above_floor
from core.pipeline import align_recordings, ensemble
from tests.core.media_factory import ArrayAudio

SR = ArrayAudio.rate_hz
DEPTH = 3.0  # partial levels wander by up to exp(DEPTH)
SMOOTH = 3200  # over about this many samples (0.15 s)
CHORDS = [(60, 64, 67), (62, 65, 69), (59, 62, 67), (60, 64, 69), (57, 60, 64),
          (55, 59, 62), (60, 64, 67)]


def _chords(kind, seed=0, chord_s=1.0):
    """Chords of three notes, five partials each. ``"ensemble"``: three detuned voices a
    note with vibrato, an 80 ms attack, held, every partial's level wandering by up to
    about 26 dB over 0.15 s (bow noise, beating); ``"plucked"``: one voice, a 2 ms
    attack, decaying."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * chord_s)) / SR
    x = np.zeros(len(t) * len(CHORDS) + SR // 2)
    for c, chord in enumerate(CHORDS):
        start = c * len(t)
        for pitch in chord:
            f0 = 440.0 * 2 ** ((pitch - 69) / 12)
            for cents in ((-6, 0, 6) if kind == "ensemble" else (0,)):
                if kind == "ensemble":
                    vibrato = 1 + 0.012 * np.sin(2 * np.pi * rng.uniform(5, 6.5) * t
                                                 + rng.uniform(0, 2 * np.pi))
                    env = np.minimum(t / 0.08, 1.0)
                else:
                    vibrato = np.ones_like(t)
                    env = np.minimum(t / 0.002, 1.0) * np.exp(-t / 0.3)
                phase = 2 * np.pi * f0 * 2 ** (cents / 1200) * np.cumsum(vibrato) / SR
                for h in range(1, 6):
                    level = 1.0
                    if kind == "ensemble":
                        wander = np.convolve(rng.standard_normal(len(t) + SMOOTH),
                                             np.hanning(SMOOTH), "same")[
                                                 SMOOTH // 2:SMOOTH // 2 + len(t)]
                        level = np.exp(DEPTH * wander / np.abs(wander).max())
                    x[start:start + len(t)] += env * level * np.sin(h * phase) / h
    return 0.5 * x / np.abs(x).max()


def _dlnco(x, **options):
    return audio_features(x, SR, "dlnco", rate_hz=100.0, compression=1e5, **options).values


def test_the_floor_share_tells_a_sustained_ensemble_from_plucked_chords():
    held = ensemble.onset_floor_share(_dlnco(_chords("ensemble")))
    plucked = ensemble.onset_floor_share(_dlnco(_chords("plucked")))
    assert ensemble.is_sustained(held)
    assert not ensemble.is_sustained(plucked)
    assert plucked < 0.2 < held
    assert ensemble.onset_floor_share(np.zeros((50, 12))) is None
    assert not ensemble.is_sustained(None)


def test_above_floor_takes_off_each_dimension_s_running_median():
    rises = np.zeros((40, 2))
    rises[:, 0] = 0.5  # a steady rise: all floor
    rises[10, 0] = rises[30, 1] = 2.0  # onsets stand out of it
    out = _above_floor(rises, 11)
    assert out[10, 0] == pytest.approx(1.5)
    assert out[30, 1] == pytest.approx(2.0)
    out[10, 0] = out[30, 1] = 0.0
    assert not out.any()


def test_dlnco_floor_option():
    x = _chords("ensemble", chord_s=0.5)
    plain = _dlnco(x)
    assert np.array_equal(plain, _dlnco(x, floor_s=0.0))
    result = audio_features(x, SR, "dlnco", rate_hz=100.0, floor_s=1.0)
    assert result.params["floor_s"] == 1.0
    assert not np.array_equal(result.values, audio_features(x, SR, "dlnco",
                                                            rate_hz=100.0).values)
    with pytest.raises(ValueError, match="floor_s"):
        _dlnco(x, floor_s=-1.0)


def _local_weights(al):
    return [(f["name"], f["local_weight"]) for f in al.diagnostics["features"]]


def test_a_sustained_side_gets_the_floor_and_lighter_local_onsets():
    held, plucked = _chords("ensemble", seed=2), _chords("plucked")
    al = align_recordings(ArrayAudio(plucked), ArrayAudio(held))
    info = al.diagnostics["sustained"]
    assert info["applied"]
    share_a, share_b = info["floor_share"]
    assert not ensemble.is_sustained(share_a) and ensemble.is_sustained(share_b)
    dlncos = [f for f in al.diagnostics["features"] if f["name"] == "dlnco"]
    assert all(f["params_b"].get("floor_s") == ensemble.FLOOR_S for f in dlncos)
    assert all("floor_s" not in f["params_a"] for f in dlncos)
    assert [w for _, w in _local_weights(al)] == pytest.approx(
        [0.25 * ensemble.LOCAL_ONSET_SHARE, 1.0, 0.5 * ensemble.LOCAL_ONSET_SHARE])
    # both plucked: as planned
    plain = align_recordings(ArrayAudio(plucked), ArrayAudio(_chords("plucked")[::-1].copy()))
    assert not plain.diagnostics["sustained"]["applied"]
    assert [w for _, w in _local_weights(plain)] == pytest.approx([0.25, 1.0, 0.5])
