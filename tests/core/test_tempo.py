"""A pair at very different tempi: the shorter side's features sampled oftener
(core.pipeline.tempo)."""

from __future__ import annotations

import numpy as np
import pytest

from core.pipeline import align_recordings, cost_source, tempo
from core.warping import Term
from tests.core.media_factory import ArrayAudio as _Audio

# ------------------------------------------------------------------ the plan


def test_a_ratio_below_the_threshold_changes_nothing():
    assert tempo.tempo_plan(10.0, 10.0) is None
    assert tempo.tempo_plan(10.0, 17.0) is None  # 1.7: the generated pairs' range
    assert tempo.tempo_plan(17.0, 10.0) is None


def test_the_shorter_side_is_sampled_oftener_by_the_ratio():
    assert tempo.tempo_plan(10.0, 20.0) == {"side": "a", "factor": 2.0, "ratio": 2.0}
    assert tempo.tempo_plan(20.0, 10.0) == {"side": "b", "factor": 2.0, "ratio": 2.0}
    # frames at one rate say the same as seconds
    assert tempo.tempo_plan(1000, 1900) == tempo.tempo_plan(10.0, 19.0)


def test_the_factor_is_capped():
    plan = tempo.tempo_plan(10.0, 50.0)
    assert plan["ratio"] == 5.0 and plan["factor"] == tempo._MAX_FACTOR


@pytest.mark.parametrize("spans", [(0.0, 1.0), (1.0, -2.0), (np.nan, 1.0), (1.0, np.inf)])
def test_bad_spans_are_refused(spans):
    with pytest.raises(ValueError, match="span_a, span_b: expected positive lengths"):
        tempo.tempo_plan(*spans)


# ------------------------------------------------------------------ the terms


def test_oftener_is_linear_between_frames():
    values = np.stack([np.arange(7.0), np.arange(7.0) ** 2], axis=1).astype(np.float32)
    out = tempo.oftener(values, 2.5)
    assert out.shape == (16, 2) and out.dtype == np.float32  # floor(6 * 2.5) + 1
    at = np.arange(16) / 2.5
    assert np.allclose(out[:, 0], at)
    lo = np.minimum(at.astype(int), 5)
    assert np.allclose(out[:, 1], lo ** 2 + (at - lo) * ((lo + 1) ** 2 - lo ** 2))
    assert out[0, 1] == values[0, 1] and out[-1, 1] == values[-1, 1]
    assert tempo.oftener(values, 1.0) is values
    assert tempo.oftener(values[:1], 3.0).shape == (1, 2)


def test_tempo_terms_change_one_side_and_its_rate():
    rng = np.random.default_rng(0)
    terms = [Term("chroma", rng.random((10, 12)), rng.random((19, 12)), "cosine"),
             Term("dlnco", rng.random((10, 3)), rng.random((19, 3)), "euclidean")]
    out, rates = tempo.tempo_terms(terms, (100.0, 100.0), {"side": "a", "factor": 1.9})
    assert rates == (190.0, 100.0)
    for old, new in zip(terms, out, strict=True):
        assert new.x.shape == (18, old.x.shape[1]) and new.y is old.y
        assert new.name == old.name and new.metric == old.metric
    same, rates = tempo.tempo_terms(terms, (100.0, 100.0), None)
    assert rates == (100.0, 100.0) and all(a is b for a, b in zip(same, terms, strict=True))
    with pytest.raises(ValueError, match="plan: expected side"):
        tempo.tempo_terms(terms, (100.0, 100.0), {"side": "c", "factor": 2.0})
    with pytest.raises(ValueError, match="plan: expected side"):
        tempo.tempo_terms(terms, (100.0, 100.0), {"side": "a", "factor": 0.5})


def test_the_slower_sides_time_options_are_stretched():
    out = tempo.slow_options("dlnco", {"compression": 1e5, "memory_s": 0.0}, 2.0)
    assert out == {"compression": 1e5, "memory_s": 0.0, "rise_s": pytest.approx(0.04),
                   "decay_s": pytest.approx(0.2), "spread_s": pytest.approx(0.6),
                   "local_s": pytest.approx(4.0)}
    # a sustained side's floor (core.pipeline.ensemble) is stretched too, where it is on
    out = tempo.slow_options("dlnco", {"floor_s": 1.0}, 2.0)
    assert out["floor_s"] == pytest.approx(2.0)
    # frames that do not depend on the tempo
    assert tempo.slow_options("chroma", {}, 2.0) is None
    assert tempo.slow_options("logmel", {"n_mels": 40}, 2.0) is None


# ------------------------------------------------------------------ the music pipeline


def _half_tempo_pair(seed=3):
    """One generated score on a piano, B at half A's tempo (every beat twice as long,
    the same tempo curve over the beats): its shared part is 1.9 times A's. Of four
    seeds this is one whose path, aligned at one rate, slips by whole notes (up to
    1.5 s); on the other three both ways are within 1 ms of each other's mean error."""
    from core.synthetic.music import make_score, render

    events = [e for e in make_score(np.random.default_rng(seed), 24) if e[0] is not None]
    xa, oa = render(np.random.default_rng(seed + 100), events, "piano", "smooth", 0.5)
    slow = [(pitches, 2.0 * beats) for pitches, beats in events]
    xb, ob = render(np.random.default_rng(seed + 100), slow, "piano", "smooth", 0.5)
    return xa, xb, oa, ob


def test_a_pair_at_half_the_tempo_is_aligned_on_a_grid_of_one_tempo(monkeypatch):
    xa, xb, oa, ob = _half_tempo_pair()
    ra, rb = _Audio(xa, "a.wav"), _Audio(xb, "b.wav")
    al = align_recordings(ra, rb)
    plan = al.diagnostics["tempo"]
    assert al.diagnostics["material"] == "music"
    assert plan["side"] == "a" and 1.75 <= plan["ratio"] <= 2.1
    assert al.params["tempo"] == {k: plan[k] for k in ("side", "factor", "ratio")}
    assert al.rate_a_hz == pytest.approx(plan["factor"] * al.rate_b_hz)
    assert al.path[-1, 0] == al.n_a - 1 and al.n_a > al.n_b * 0.9
    assert plan["stretched"] == ["dlnco"]  # B's DLNCO computed again, stretched
    err = al.map_a_to_b(oa) - ob

    monkeypatch.setattr(tempo, "tempo_plan", lambda *args, **kwargs: None)
    plain = align_recordings(ra, rb)
    monkeypatch.undo()
    assert "tempo" not in plain.params and "tempo" not in plain.diagnostics
    assert plain.rate_a_hz == plain.rate_b_hz
    err_plain = plain.map_a_to_b(oa) - ob
    assert np.max(np.abs(err_plain)) > 1.0  # whole notes slipped
    assert np.max(np.abs(err)) < 0.25
    assert np.mean(np.abs(err)) < np.mean(np.abs(err_plain)) / 3

    # a re-solve works on the features sampled as often: cost_source checks them against
    # the result, and the path comes back unchanged without anchors
    from core.warping import resolve

    source = cost_source(ra, rb, al)
    same = resolve(al, np.zeros((0, 2), dtype=int), source=source)
    assert np.array_equal(same.path, al.path) and same.params["tempo"] == al.params["tempo"]
    # the features as first computed are not the result's
    monkeypatch.setattr(tempo, "tempo_terms", lambda terms, rates, plan: (list(terms), rates))
    with pytest.raises(ValueError, match="not the recordings"):
        cost_source(ra, rb, al)


def test_a_pair_at_one_tempo_is_not_resampled():
    from tests.core.media_factory import timbre_pair

    xa, xb, _, _ = timbre_pair(2, 16, "piano", "organ")
    al = align_recordings(_Audio(xa), _Audio(xb))
    assert "tempo" not in al.params and al.rate_a_hz == al.rate_b_hz


def _slow_pair(instrument, seed, ratio=2.0):
    """One generated score, B played ``ratio`` times as slowly (the attacks as fast)."""
    from core.synthetic.music import make_score, render

    events = [e for e in make_score(np.random.default_rng(seed), 24) if e[0] is not None]
    xa, oa = render(np.random.default_rng(seed + 100), events, instrument, "smooth", 0.5)
    slow = [(pitches, ratio * beats) for pitches, beats in events]
    xb, ob = render(np.random.default_rng(seed + 100), slow, instrument, "smooth", 0.5)
    return xa, xb, oa, ob


def test_the_slower_sides_onsets_keep_their_shape_on_the_common_grid(monkeypatch):
    # an organ at half the tempo: A's DLNCO, sampled 1.9 times oftener, rises, decays
    # and spreads over 1.9 times as many frames as B's computed at its own tempo; B's,
    # computed again with its time constants stretched as much, match them
    from core import pipeline

    xa, xb, oa, ob = _slow_pair("organ", 1)
    ra, rb = _Audio(xa, "a.wav"), _Audio(xb, "b.wav")
    al = align_recordings(ra, rb)
    assert al.diagnostics["tempo"]["stretched"] == ["dlnco"]
    err = np.mean(np.abs(al.map_a_to_b(oa) - ob))
    assert err < 0.03  # 12 ms

    monkeypatch.setattr(pipeline, "_slow_side", lambda *args, **kwargs: {})
    plain = align_recordings(ra, rb)
    assert plain.diagnostics["tempo"]["stretched"] == []
    assert np.mean(np.abs(plain.map_a_to_b(oa) - ob)) > 0.1  # 140 ms: notes slipped

    # a re-solve rebuilds the stretched features (cost_source checks their fingerprint)
    monkeypatch.undo()
    from core.warping import resolve

    same = resolve(al, np.zeros((0, 2), dtype=int), source=cost_source(ra, rb, al))
    assert np.array_equal(same.path, al.path)
