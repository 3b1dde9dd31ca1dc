"""The calibrated per-step confidence (core.pipeline.confidence)."""

import numpy as np
import pytest

from core.pipeline import confidence as cm
from core.warping import FeatureTerms, Term


def test_confidence_and_expected_error_are_inverse():
    err = np.array([0.0, 10.0, 50.0, 200.0, 1000.0])
    conf = cm.confidence_from_error(err)
    assert conf[0] == 1.0 and np.all(np.diff(conf) < 0)
    assert conf[2] == pytest.approx(0.5)  # 0.5 stands for 50 ms
    assert np.allclose(cm.expected_error_ms(conf), err, atol=1e-6)


def test_fit_recovers_a_linear_model_and_calibrates_its_table():
    rng = np.random.default_rng(0)
    n = 4000
    ev = {"log_spread": rng.normal(-3, 1, n), "cost": rng.random(n), "margin": rng.random(n)}
    coef = [3.0, 0.5, 1.5, -1.0]
    log_e = coef[0] + coef[1] * ev["log_spread"] + coef[2] * ev["cost"] + coef[3] * ev["margin"]
    err = np.exp(log_e) - cm._FLOOR_MS
    model = cm.fit(ev, err, ("log_spread", "cost", "margin"))
    assert np.allclose(model["coef"], coef, atol=1e-6)
    err = np.exp(log_e) * rng.uniform(0.5, 1.5, n)  # a noisy error, all positive
    model = cm.fit(ev, err, ("log_spread", "cost", "margin"))
    ks, ke = model["knots"]
    assert np.all(np.diff(ks) > 0) and np.all(np.diff(ke) > 0)
    # the expected error is the mean error of steps of that score: calibrated in the
    # mean, per quantile of the prediction
    pred = cm.model_error_ms(ev, model)
    order = np.argsort(pred)
    for part in np.array_split(order, 5):
        assert pred[part].mean() == pytest.approx(err[part].mean(), rel=0.1)


def test_calibration_table_never_falls_and_ignores_noise():
    rng = np.random.default_rng(1)
    n = 3000
    ev = {"cost": rng.random(n), "margin": rng.random(n)}
    # errors rise with cost, margin is noise; heavy tail on a few steps
    err = 20 * ev["cost"] + rng.exponential(5, n)
    err[rng.random(n) < 0.01] += 800
    model = cm.fit(ev, err, ("cost", "margin"))
    assert np.all(np.diff(model["knots"][1]) >= 0)
    pred = cm.model_error_ms(ev, model)
    assert np.corrcoef(pred, ev["cost"])[0, 1] > 0.8
    # a flat relation gives a flat table: the mean error everywhere
    flat = cm.fit(ev, rng.exponential(30, n), ("margin",))
    assert np.ptp(cm.model_error_ms(ev, flat)) < 0.25 * 30


def _terms(n=120, shift=0):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, 6))
    # B: A's frames, the second half a repetition of its first half (ambiguous)
    y = x.copy()
    y[n // 2:] = x[:n - n // 2] + 0.01 * rng.standard_normal((n - n // 2, 6))
    return FeatureTerms([Term("f", x, y, "euclidean")])


def test_evidence_sees_cost_and_ambiguity():
    source = _terms()
    n = source.n
    path = np.column_stack([np.arange(n), np.arange(n)])
    raw = np.ones(n)
    ev = cm.step_evidence(source, path, raw, 1, 10, 2, 2, 0.05)
    assert set(ev) == set(cm.EVIDENCE)
    assert all(v.shape == (n,) for v in ev.values())
    # the first half matches its own frames only: a clear margin; the second half matches
    # A's second half badly (high cost, no margin over other columns)
    first, second = slice(5, n // 2 - 15), slice(n // 2 + 15, n - 5)
    assert ev["cost"][first].mean() < ev["cost"][second].mean()
    assert ev["margin"][first].mean() > ev["margin"][second].mean()
    # a drifting alternative (raw agreement low) raises the spread
    raw2 = raw.copy()
    raw2[:10] = 1e-3
    assert cm.step_evidence(source, path, raw2, 1, 10, 2, 2, 0.05)["log_spread"][0] \
        > ev["log_spread"][0]


def test_recipe_model_applies_the_group_model(monkeypatch):
    source = _terms()
    n = source.n
    path = np.column_stack([np.arange(n), np.arange(n)])
    monkeypatch.setattr(cm, "CALIBRATION", {})
    assert cm.recipe_model("music", 2, 50.0, 0.05) is None  # no model: raw agreement
    monkeypatch.setattr(cm, "CALIBRATION", {"audio": {
        "features": ["cost", "margin"], "coef": [4.0, 3.0, 0.0],
        "knots": [[3.0, 4.0, 6.0], [5.0, 40.0, 300.0]]}})
    model = cm.recipe_model("music", 1, 10.0, 0.05)
    assert model["group"] == "audio" and model["radius"] == 10
    conf = cm.apply_model(source, path, np.full(n, 0.7), model)
    assert conf.shape == (n,) and np.all((conf > 0) & (conf <= 1))
    assert conf[5:n // 2 - 15].mean() > conf[n // 2 + 15:n - 5].mean()
    assert cm.group_of("video") == "video" and cm.group_of("video-vs-audio") == "crossmodal"


def test_pipeline_confidence_is_calibrated_and_survives_resolve(monkeypatch):
    """The model rides in the recipe: a fresh run and a re-solve agree (see also
    test_pipeline's anchors test). The engine hands the model its stages' shift."""
    from core.pipeline import align_recordings
    from core.synthetic.music import make_score, render

    class Rec:
        kind = "audio"
        rate_hz = 22050

        def __init__(self, x, name):
            self.x, self.path, self.duration_s = x, name, len(x) / 22050
            self.n_frames = len(x)

        def audio(self, mono=True):
            return self.x

    rng = np.random.default_rng(3)
    events = make_score(rng, 10)
    xa, _ = render(rng, events, "piano", "smooth", 0.3)
    xb, _ = render(rng, events, "organ", "abrupt", 0.5)
    monkeypatch.setattr(cm, "RECORD", [])
    al = align_recordings(Rec(xa, "a.wav"), Rec(xb, "b.wav"))
    assert cm.RECORD and all(np.ptp(r["stage_shift"]) > 0 for r in cm.RECORD)
    assert al.diagnostics["confidence_model"]["calibrated"]
    assert al.params["recipe"]["confidence"]["model"]["group"] == "audio"
    assert al.confidence.shape == (al.path.shape[0],)
    assert np.all((al.confidence > 0) & (al.confidence <= 1))


def test_sharp_sees_a_neighbouring_frame_as_good_a_match():
    """``sharp``: where B holds one frame (a freeze), the next column is as good a match
    as the path's, so the valley has no edge one frame away; elsewhere it has."""
    rng = np.random.default_rng(4)
    n = 120
    x = rng.standard_normal((n, 6))
    y = x.copy()
    y[60:90] = x[75]  # B frozen on one frame for 30 frames
    source = FeatureTerms([Term("f", x, y, "euclidean")])
    path = np.column_stack([np.arange(n), np.arange(n)])
    ev = cm.step_evidence(source, path, np.ones(n), 1, 10, 3, 1, 0.05)
    assert ev["sharp"][10:50].min() > 0.3
    assert np.abs(ev["sharp"][65:85]).max() < 0.05
    assert np.all(ev["sharp_min"] <= np.minimum(ev["sharp"], ev["sharp_b"]) + 1e-12)
    assert ev["sharp_rel"] == pytest.approx(ev["sharp"] - np.median(ev["sharp"]))


def test_doubtful_threshold_rides_in_the_recipe(monkeypatch):
    from core.alignment import Alignment
    from core.constraints import doubtful_spots, linear_cells

    monkeypatch.setattr(cm, "CALIBRATION", {"video": {
        "features": ["cost"], "coef": [0.0, 1.0], "knots": [[0.0, 1.0], [1.0, 6.0]],
        "doubtful_ms": 3.5}, "audio": {
        "features": ["cost"], "coef": [0.0, 1.0], "knots": [[0.0, 1.0], [5.0, 90.0]]}})
    assert cm.recipe_model("video", 1, 25.0, 0.04)["doubtful_ms"] == 3.5
    # a calibration without its own threshold: 50 ms
    assert cm.recipe_model("music", 2, 50.0, 0.05)["doubtful_ms"] == cm.DOUBTFUL_MS
    path = linear_cells((0, 0), (99, 99))
    conf = np.full(100, float(cm.confidence_from_error(1.0)))
    conf[30:50] = cm.confidence_from_error(5.0)  # above 3.5 ms, far below 50 ms
    model = {"recipe": {"confidence": {"model": cm.recipe_model("video", 1, 25.0, 0.04)}}}
    al = Alignment(path, 10, 10, confidence=conf, params=model)
    assert cm.doubtful_error_ms(al) == 3.5
    assert cm.doubtful_confidence(al) == pytest.approx(cm.confidence_from_error(3.5))
    assert doubtful_spots(al) == [(3.0, 4.9)]
    # without a model (or with an explicit threshold): 50 ms, nothing doubtful here
    plain = Alignment(path, 10, 10, confidence=conf)
    assert cm.doubtful_error_ms(plain) == cm.DOUBTFUL_MS
    assert doubtful_spots(plain) == [] and doubtful_spots(al, threshold=0.5) == []


def _calibrate_script():
    """benchmarks/accuracy/calibrate.py (a script, not a package) as a module."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "accuracy" / "calibrate.py"
    spec = importlib.util.spec_from_file_location("calibrate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_doubtful_threshold_holds_85_percent_of_the_large_errors_within_the_cap():
    """calibrate.doubtful_threshold: the flagged steps hold 85 % of the large errors (a
    threshold chosen on the fitted steps holds less on other pairs), at most 30 % of the
    steps flagged (a fifth cut off audio's large errors just below it)."""
    cal = _calibrate_script()
    assert (cal.COVER, cal.FLAG_CAP) == (0.85, 0.3)
    pred = np.arange(100.0)
    err = np.zeros(100)
    # seven large errors, six of them on the 25 highest steps: beyond a fifth, within 30 %
    err[[50, 75, 80, 85, 90, 95, 99]] = 200.0
    t = cal.doubtful_threshold(pred, err)
    flagged = pred > t
    assert flagged[err > 100].sum() == 6 and flagged.sum() == 25
    # 85 % would need 90 % of the steps: capped at 30 %
    err[:] = 0.0
    err[[10, 20, 95, 99]] = 200.0
    t = cal.doubtful_threshold(pred, err)
    assert np.mean(pred > t) == pytest.approx(0.3, abs=0.011)
    # no large error: nothing beyond the cap, and never below 50 ms
    assert cal.doubtful_threshold(pred, np.zeros(100)) == 69.0
    assert cal.doubtful_threshold(pred / 10, np.zeros(100)) == cm.DOUBTFUL_MS
    # the share of large errors on the top fifth: a flat prediction holds none
    assert cal.top_cover(pred, err) == 0.5 and cal.top_cover(np.ones(100), err) == 0.0


def test_ambiguity_is_the_segments_share_of_steps_with_as_good_a_match_elsewhere():
    """``ambiguity``: one value per segment, the share of its steps whose row or column
    has another cell (beyond ``exclude``, within ``radius``) at least as cheap as the
    path's. B repeating A's first half (a repeated passage) makes every step of the
    repetition ambiguous; a pair without repetition has none."""
    n = 120
    path = np.column_stack([np.arange(n), np.arange(n)])
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, 6))
    clear = FeatureTerms([Term("f", x, x + 0.01 * rng.standard_normal((n, 6)), "euclidean")])
    ev = cm.step_evidence(clear, path, np.ones(n), 1, 10, 2, 2, 0.05)
    assert np.all(ev["ambiguity"] == ev["ambiguity"][0])
    assert ev["ambiguity"][0] == pytest.approx(np.mean(ev["margin_min"] < 0.0))
    assert ev["ambiguity"][0] < 0.05
    # a passage whose frames repeat every 8 frames on both sides: within the radius
    # another cell is as good a match on most steps
    period = x[:8]
    xr = np.tile(period, (n // 8, 1))
    rep = FeatureTerms([Term("f", xr, xr + 0.01 * rng.standard_normal(xr.shape), "euclidean")])
    ev_r = cm.step_evidence(rep, path, np.ones(n), 1, 10, 2, 2, 0.05)
    assert ev_r["ambiguity"][0] > 0.5
    assert ev_r["ambiguity"][0] == pytest.approx(np.mean(ev_r["margin_min"] < 0.0))


def test_speech_has_its_own_calibration_falling_back_to_the_audio_one(monkeypatch):
    """Speech and other sounds get the ``speech`` calibration (fitted without the
    segment-level evidence), music the ``audio`` one; a calibration without a speech
    model gives speech the audio model."""
    assert cm.group_of("music") == "audio"
    assert cm.group_of("speech") == "speech" and cm.group_of("other") == "speech"
    audio = {"features": ["cost", "ambiguity"], "coef": [0.0, 1.0, 1.0],
             "knots": [[0.0, 2.0], [5.0, 90.0]], "doubtful_ms": 40.0}
    speech = {"features": ["cost"], "coef": [0.0, 1.0], "knots": [[0.0, 1.0], [5.0, 60.0]],
              "doubtful_ms": 30.0}
    monkeypatch.setattr(cm, "CALIBRATION", {"audio": audio, "speech": speech})
    assert cm.recipe_model("music", 2, 50.0, 0.05)["features"] == ["cost", "ambiguity"]
    model = cm.recipe_model("speech", 4, 50.0, 0.05)
    assert model["group"] == "speech" and model["features"] == ["cost"]
    assert model["doubtful_ms"] == 30.0
    monkeypatch.setattr(cm, "CALIBRATION", {"audio": audio})
    model = cm.recipe_model("other", 4, 50.0, 0.05)
    assert model["group"] == "speech" and model["features"] == ["cost", "ambiguity"]
    assert set(cm.SEGMENT_EVIDENCE) <= set(cm.EVIDENCE)


def test_calibration_fits_speech_from_the_audio_pairs_without_segment_evidence():
    """calibrate.fit_all: the audio tuning pairs give the music model (which may take the
    segment's ambiguity) and the speech one, which never does."""
    cal = _calibrate_script()
    rng = np.random.default_rng(5)
    pairs, per = 12, 40
    amb = np.repeat(rng.random(pairs), per)  # one value per pair
    spread = rng.normal(-3.0, 0.5, pairs * per)
    err = np.exp(1.0 + 3.0 * amb + 0.8 * (spread + 3.0) + rng.normal(0, 0.3, pairs * per))
    g = {"err": err, "raw": np.ones_like(err),
         "pair": np.repeat(np.array([f"p{i}" for i in range(pairs)], dtype=object), per),
         "ambiguity": amb, "log_spread": spread}
    calibration = cal.fit_all({"audio": g}, log=lambda *a: None)
    assert "ambiguity" in calibration["audio"]["features"]
    assert calibration["speech"]["features"] == ["log_spread"]
    assert cal.doubtful_ms(calibration, "speech") == calibration["speech"]["doubtful_ms"]
    # a calibration without a speech model: speech gets the audio one
    assert cal.doubtful_ms({"audio": calibration["audio"]}, "speech") \
        == calibration["audio"]["doubtful_ms"]


def test_stage_shift_measures_where_the_later_stages_moved_the_path():
    """``stage_shift``: the first stage's path (at a coarser factor) against the final
    one, per final step, in final frames; in the evidence, log seconds (+ 10 ms)."""
    from core.warping._staged import stage_shift

    n = 200
    final = np.column_stack([np.arange(n), np.arange(n)])
    # the first stage at factor 2 agrees, except rows 100..139 (final rows) where it ran
    # 10 final frames (5 of its own) later
    first = np.column_stack([np.arange(n // 2), np.arange(n // 2)])
    first[50:70, 1] += 5
    shift = stage_shift((first, 2), final, 1)
    assert shift.shape == (n,)
    assert np.all(shift[:90] <= 0.5) and np.all(shift[150:] <= 0.5)
    assert np.all(np.abs(shift[100:140] - 10.0) <= 0.5)
    # in the evidence: 0 without a later stage, log(seconds + 0.01) otherwise
    source = _terms(n=n)
    ev = cm.step_evidence(source, final, np.ones(n), 1, 10, 2, 1, 0.05)
    assert np.allclose(ev["stage_shift"], np.log(0.01))
    ev = cm.step_evidence(source, final, np.ones(n), 1, 10, 2, 1, 0.05, shift)
    # radius 10 frames = 1 s: 10 frames are 1 s
    assert ev["stage_shift"][120] == pytest.approx(np.log(shift[120] / 10 + 0.01), abs=1e-9)
    assert ev["stage_shift"][120] == pytest.approx(np.log(1.0 + 0.01), abs=0.06)
    assert ev["stage_shift"][20] < np.log(0.07)  # half a final frame: the coarse resolution


def test_order_bound_is_what_a_perfect_order_of_distinct_confidences_reaches():
    """calibrate.order_bound: distinct errors, -1; mostly tied errors (a video pair's
    exact frames), far from it, and no confidence of distinct values does better."""
    from scipy.stats import spearmanr

    cal = _calibrate_script()
    rng = np.random.default_rng(6)
    assert cal.order_bound(rng.exponential(20, 500)) == pytest.approx(-1.0)
    err = np.zeros(1000)
    err[:50] = rng.exponential(40, 50) + 1
    bound = cal.order_bound(err)
    assert -0.5 < bound < -0.2
    for _ in range(5):  # a distinct confidence, however good, is no better
        conf = -err + rng.normal(0, 5, 1000)
        assert spearmanr(conf, err)[0] >= bound - 1e-9


def test_evidence_subset_equals_the_full_measure_and_checks_its_names():
    """``step_evidence(evidence=...)`` skips the column scan and the agreement where no
    wanted evidence needs them; what it returns equals the full measure exactly."""
    source = _terms()
    n = source.n
    rng = np.random.default_rng(5)
    path = np.column_stack([np.arange(n), np.clip(np.arange(n) + rng.integers(-2, 3, n),
                                                   0, n - 1)])
    path[:, 1] = np.maximum.accumulate(path[:, 1])
    path[0], path[-1] = (0, 0), (n - 1, n - 1)
    shift = rng.random(n) * 3
    full = cm.step_evidence(source, path, rng.random(n), 1, 10, 2, 2, 0.05, shift)
    for wanted in (["stage_shift", "contrast_rel", "margin_rel"],  # speech's model
                   ["stage_shift", "ambiguity", "cost", "margin_rel"],  # music's
                   ["slope", "cost", "contrast_rel", "sharp_min_rel"]):  # video's
        part = cm.step_evidence(source, path, None, 1, 10, 2, 2, 0.05, shift,
                                evidence=wanted)
        assert set(part) == set(wanted)
        for name in wanted:
            assert np.array_equal(part[name], full[name]), name
    with pytest.raises(ValueError, match="evidence: unknown"):
        cm.step_evidence(source, path, None, 1, 10, 2, 2, 0.05, evidence=["cost", "nope"])
    with pytest.raises(ValueError, match="raw_confidence: needed"):
        cm.step_evidence(source, path, None, 1, 10, 2, 2, 0.05, evidence=["log_spread_rel"])


def test_engine_solves_alternatives_only_for_a_model_that_reads_them(monkeypatch):
    """A calibrated model without ``log_spread`` (speech, music, video) is applied without
    the alternative paths' solves (``agreement_confidence``); the confidence is the one
    measured with them (a benchmark's RECORD measures everything). A model with it
    (crossmodal) still has them solved."""
    from core.pipeline import _recipe
    from core.warping import _staged, staged_dtw

    rng = np.random.default_rng(6)
    t = np.linspace(0.0, 6.0, 300)
    shape = np.c_[np.sin(3 * t), np.cos(5 * t), 1.2 + np.sin(7 * t)]
    warp = np.clip((t[:260] * 1.1) / 6.0 * 299, 0, 299).astype(int)
    terms = [Term("shape", shape, shape[warp] + 0.05 * rng.standard_normal((260, 3)),
                  "cosine"),
             Term("onset", rng.random((300, 1)), rng.random((260, 1)), "euclidean", "max")]
    source = FeatureTerms(terms, [1.0, 0.25])
    calls = []
    original = _staged.agreement_confidence
    monkeypatch.setattr(_staged, "agreement_confidence",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    for features in (["stage_shift", "contrast_rel", "margin_rel"], ["log_spread", "cost"]):
        monkeypatch.setattr(cm, "RECORD", None)
        monkeypatch.setattr(cm, "CALIBRATION", {"speech": {
            "features": features, "coef": [3.0] + [0.5] * len(features),
            "knots": [[0.0, 3.0, 6.0], [5.0, 40.0, 300.0]]}})
        recipe = _recipe([1.0, 0.25], [1.0, 0.25], 2, 25.0, 50.0, source)
        recipe["confidence"]["model"] = cm.recipe_model("speech", 2, 25.0, 0.05)
        calls.clear()
        fast = staged_dtw(source, recipe)
        assert len(calls) == (1 if "log_spread" in features else 0)
        monkeypatch.setattr(cm, "RECORD", [])  # every evidence, the alternatives solved
        full = staged_dtw(source, recipe)
        assert len(calls) == (2 if "log_spread" in features else 1)
        assert np.array_equal(fast.path, full.path)
        assert np.array_equal(fast.confidence, full.confidence)
        assert np.ptp(fast.confidence) > 0


def test_fine_share_and_the_demo_report_count_false_alarms():
    """calibrate.fine_share: the flagged share of the steps of *fine* pairs only (no
    error above FINE_MS), nan without one; calibrate.demo_report: the demo's doubtful
    share of its whole path's steps (as the window's band) and of its events."""
    cal = _calibrate_script()
    pred = np.array([10.0, 30.0, 30.0, 30.0, 5.0, 40.0])
    err = np.array([5.0, 20.0, 10.0, 200.0, 5.0, 10.0])
    pairs = np.array(["fine", "fine", "fine", "off", "fine2", "fine2"])
    # fine: 2 of 3 above 20 ms; fine2: 1 of 2; the "off" pair (200 ms) does not count
    assert cal.fine_share(pred, err, pairs, 20.0) == pytest.approx(3 / 5)
    assert np.isnan(cal.fine_share(pred[3:4], err[3:4], pairs[3:4], 20.0))
    model = {"features": ["cost"], "coef": [0.0, 1.0], "knots": [[0.0, 1.0], [0.0, 100.0]],
             "doubtful_ms": 45.0}
    cost = np.linspace(0.0, 1.0, 11)  # expected error 0, 10, ..., 100 ms (+ the tilt)
    demo = {"path_evidence": {"group": "audio", "cost": cost.tolist()},
            "index": [0, 10], "error_ms": [3.0, 40.0]}
    lines = []
    pred = cal.demo_report(demo, {"audio": model}, log=lines.append)
    assert pred.shape == (11,)
    # 6 of the 11 steps (50-100 ms) are above 45 ms, 1 of the 2 events
    assert "55% of the path's steps doubtful, 50% of its 2 events" in lines[0]
    assert "21.5 ms mean, 40.0 ms worst" in lines[0]
