"""The method registry: declarations checked against the engine, values, units, runs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core import registry
from core.registry import METHODS, FeatureSpec, Param, ParamError, Recipe


def walks(n, m, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(size=(n, d)), 0), np.cumsum(rng.normal(size=(m, d)), 0)


class FakeFeatures:
    def __init__(self, values, rate_hz, name="chroma"):
        self.values = np.asarray(values)
        self.rate_hz = rate_hz
        self.name = name


def test_every_engine_keyword_is_one_the_function_takes():
    import inspect

    for entry in METHODS.values():
        sig = inspect.signature(entry.function).parameters
        for p in entry.params:
            if p.engine is not None:
                assert p.engine in sig, (entry.name, p.name)
        for keyword in entry.fixed:
            assert keyword in sig


def test_a_keyword_the_function_does_not_take_is_an_error():
    dtw_entry = METHODS["dtw"]
    with pytest.raises(TypeError, match="takes no keyword 'no_such_keyword'"):
        dataclasses.replace(dtw_entry, params=(
            *dtw_entry.params, Param("extra", "float", "x", default=1.0,
                                     engine="no_such_keyword")))


def test_defaults_come_from_the_engine_signature():
    assert METHODS["ot"].param("max_iter").default == 1000
    assert METHODS["ot"].param("metric").default == "sqeuclidean"
    assert METHODS["soft_dtw"].param("gamma").default == 1.0
    assert METHODS["default"].param("solver").default == "dtw"


@pytest.mark.parametrize(("method", "values", "match"), [
    ("dtw", {"radius_s": -1.0}, "radius_s: expected a number in \\(0, 86400\\]"),
    ("dtw", {"metric": "manhattan"}, "metric: expected one of euclidean"),
    ("ot", {"reg_m": 0.0}, "reg_m: expected a number in \\(0"),
    ("ctw", {"max_iter": 2.5}, "max_iter: expected an integer"),
    ("ctw", {"gamma": 1.0}, "gamma: not a parameter of ctw"),
    ("soft_dtw", {"gamma": float("nan")}, "gamma"),
    ("default", {"feature": "chroma+magic"}, "feature: expected one of auto"),
])
def test_values_out_of_range_are_refused_naming_the_parameter(method, values, match):
    with pytest.raises(ParamError, match=match):
        METHODS[method].check(values)


def test_text_values_parse_like_the_command_line():
    p = METHODS["ot"].param("reg")
    assert p.parse("auto") is None and p.parse("0.5") == 0.5
    assert METHODS["ctw"].param("max_iter").parse("12") == 12
    assert METHODS["dtw"].param("open_end").parse("yes") is True
    with pytest.raises(ParamError, match="reg_m: expected a number"):
        METHODS["ot"].param("reg_m").parse("lots")


def test_seconds_become_frames_in_one_place():
    entry = METHODS["dtw"]
    values = {"window": "slanted_band", "radius_s": 0.5, "anchors_s": [(1.0, 2.04)]}
    kwargs = entry.engine_kwargs(values, rate_a_hz=10.0, rate_b_hz=25.0, n_a=40, n_b=80)
    assert kwargs["window"] == ("slanted_band", 5)
    assert kwargs["anchors"] == [(10, 51)]
    assert registry.to_frames(0.5, 10.0) == 5 and registry.to_frames(0.51, 10.0) == 6
    assert registry.to_frames(1e-6, 10.0) == 1
    # a radius without a band window does not apply: no window keyword at all
    assert "window" not in entry.engine_kwargs({"radius_s": 3.0}, rate_a_hz=10.0)
    assert entry.engine_kwargs({"window": "itakura"})["window"] == ("itakura",)


def test_parameters_apply_only_where_declared():
    entry = METHODS["ot"]
    sinkhorn = entry.engine_kwargs({"reg": 0.5, "reg_m": 3.0})
    assert sinkhorn["method"] == "sinkhorn" and sinkhorn["reg"] == 0.5
    assert "reg_m" not in sinkhorn
    unbalanced = entry.engine_kwargs({"variant": "unbalanced", "reg_m": 3.0})
    assert unbalanced["reg_m"] == 3.0 and "reg" not in unbalanced  # auto: not passed
    exact = entry.engine_kwargs({"variant": "emd", "reg": 0.5})
    assert "reg" not in exact and "max_iter" not in exact


def test_feature_dimensions_match_the_computed_features():
    from core.features import audio_features, video_features

    x = np.random.default_rng(0).normal(size=8000).astype(np.float32)
    frames = [np.random.default_rng(k).integers(0, 255, (36, 64, 3), dtype=np.uint8)
              for k in range(3)]
    for info in registry.FEATURES.values():
        if info.kind == "audio":
            values = audio_features(x, 8000, info.name).values
        else:
            values = video_features(iter(frames), 10.0, info.name).values
        assert values.shape[1] == info.dim, info.name


def test_a_recipe_checks_its_inputs_before_any_work():
    r = registry.recipe("dtw", kind_a="audio", kind_b="audio", rate_hz=20.0)
    assert r.features_a == (FeatureSpec("chroma", 20.0),)
    with pytest.raises(ValueError, match="dtw needs features of the same dimension"):
        registry.recipe("dtw", kind_a="video", kind_b="audio")
    ctw = registry.recipe("ctw", kind_a="video", kind_b="audio", rate_hz=10.0, fps_a=5.0)
    assert ctw.features_a == (FeatureSpec("thumbnail", 5.0),)  # not above the video's rate
    with pytest.raises(ParamError, match="logmel is a audio feature; for video"):
        registry.recipe("ctw", kind_a="video", kind_b="audio", feature="logmel")
    with pytest.raises(ParamError, match="rate_hz"):
        registry.recipe("dtw", rate_hz=0.0)
    with pytest.raises(ValueError, match="method: expected one of default, dtw"):
        registry.recipe("magic")


@pytest.mark.filterwarnings("ignore::core.errors.ConvergenceWarning")
@pytest.mark.parametrize("method", [m for m in METHODS if METHODS[m].inputs == "features"])
def test_every_feature_method_runs_with_its_defaults(method):
    x, y = walks(40, 50, seed=3)
    rec = registry.recipe(method, rate_hz=10.0)
    run = registry.run(rec, features_a=FakeFeatures(x, 10.0), features_b=FakeFeatures(y, 10.0))
    al = run.alignment
    assert al.n_a == 40 and al.n_b == 50 and al.rate_a_hz == 10.0
    assert run.recipe.params == METHODS[method].defaults()
    assert "elapsed_s" in al.diagnostics


def test_a_result_s_params_are_what_the_engine_ran_with():
    x, y = walks(60, 70, seed=4)
    rec = registry.recipe("dtw", {"window": "slanted_band", "radius_s": 0.8}, rate_hz=10.0)
    run = registry.run(rec, features_a=FakeFeatures(x, 10.0), features_b=FakeFeatures(y, 10.0))
    assert run.alignment.params["window"] == ("slanted_band", 8)
    assert "radius_s" not in run.alignment.params  # the user's value stays in the recipe
    assert run.recipe.params["radius_s"] == 0.8
    from core.warping import resolve

    again = resolve(run.alignment, [(30, 33)], x, y)  # accepted: its params are the engine's
    assert [30, 33] in again.path.tolist()


def test_different_dimensions_are_refused_where_the_method_needs_equal_ones():
    x, _ = walks(30, 30, d=3)
    _, y = walks(30, 30, d=5)
    rec = registry.recipe("soft_dtw", rate_hz=10.0)
    with pytest.raises(ValueError, match="soft_dtw needs features of the same dimension"):
        registry.run(rec, features_a=FakeFeatures(x, 10.0), features_b=FakeFeatures(y, 10.0))
    ctw = registry.run(registry.recipe("ctw", rate_hz=10.0), features_a=FakeFeatures(x, 10.0),
                       features_b=FakeFeatures(y, 10.0))
    assert ctw.alignment.method == "ctw"


def test_recipes_are_plain_data_and_transpose():
    rec = registry.recipe("dtw", {"anchors_s": [(1.0, 2.0), (3.0, 3.5)]}, feature="chroma",
                          feature_b="cens", rate_hz=20.0)
    data = rec.to_data()
    assert data["params"]["anchors_s"] == [[1.0, 2.0], [3.0, 3.5]]
    assert Recipe.from_data(data) == rec
    t = registry.transpose_recipe(rec)
    assert t.params["anchors_s"] == ((2.0, 1.0), (3.5, 3.0))
    assert t.features_a[0].name == "cens" and t.features_b[0].name == "chroma"
    assert registry.transpose_recipe(t) == rec


def test_descriptions_come_from_the_recipe():
    rec = registry.recipe("dtw", {"anchors_s": [(1.0, 2.0)], "window": "sakoe_chiba"},
                          rate_hz=20.0)
    text = registry.describe(rec)
    assert text.startswith("dtw chroma@20Hz") and "anchors=1" in text
    assert "window=sakoe_chiba" in text and "radius_s=2" in text
    assert registry.describe(registry.recipe("default")) == "default dtw"
    assert "band_s=2" in registry.describe(registry.recipe("default", {"band_s": 2.0}))


def test_estimates_are_positive_and_grow_with_size():
    for name in METHODS:
        rec = registry.recipe(name, rate_hz=25.0)
        small = registry.estimate(rec, 4.0, 4.0)
        large = registry.estimate(rec, 40.0, 40.0)
        assert small.seconds > 0 and small.bytes > 0, name
        assert large.seconds > small.seconds and large.bytes > small.bytes, name


def test_the_cost_image_of_a_default_result_follows_the_features_it_used():
    from core.alignment import Alignment

    path = np.array([[0, 0], [1, 1], [2, 2]])
    music = Alignment(path, 100.0, 100.0, method="dtw", diagnostics={"features": [
        {"name": "dlnco", "metric": "euclidean", "weight": 0.25,
         "params_a": {"normalize": "none"}, "params_b": {"normalize": "none"}},
        {"name": "chroma", "metric": "cosine", "weight": 1.0,
         "params_a": {"normalize": "l2"}, "params_b": {"normalize": "l2"}}]})
    used_a, used_b = registry.pipeline_features(music)
    assert [f.name for f in used_a] == ["dlnco", "chroma"]
    rec = Recipe("default", METHODS["default"].defaults(), used_a, used_b)
    spec_a, spec_b, metric = registry.image_inputs(rec, music)
    # the tonal feature, not the striped onsets, with the normalization the pipeline used
    assert spec_a == FeatureSpec("chroma", 100.0, {"normalize": "l2"}) and metric == "cosine"
    crossmodal = Alignment(path, 30.0, 30.0, method="dtw", diagnostics={"features": [
        {"name": "motion", "side": "a", "metric": "euclidean", "weight": 1.0},
        {"name": "onset", "side": "b", "metric": "euclidean", "weight": 1.0}]})
    used_a, used_b = registry.pipeline_features(crossmodal)
    assert [f.name for f in used_a] == ["motion"] and [f.name for f in used_b] == ["onset"]
    rec = Recipe("default", METHODS["default"].defaults(), used_a, used_b)
    spec_a, spec_b, _ = registry.image_inputs(rec, crossmodal)
    assert (spec_a.name, spec_b.name) == ("motion", "onset")
    assert spec_a.kwargs == {"normalize": "zscore"} == spec_b.kwargs  # comparable scales
    assert registry.image_inputs(Recipe("default", {}), crossmodal) is None


def test_the_default_pipeline_takes_anchors_in_seconds_through_the_registry():
    """The default entry declares the pipeline's anchors (seconds, only with the DTW
    solver): a run through the registry passes through them, within one frame."""
    from test_pipeline import FakeAudio, _pair  # tests/core is on sys.path

    entry = METHODS["default"]
    anchors = entry.params[[p.name for p in entry.params].index("anchors_s")]
    assert anchors.unit == "seconds" and anchors.engine == "anchors"
    assert not anchors.applies({"solver": "ctw"}) and anchors.applies({"solver": "dtw"})
    a, b, times_a, times_b = _pair()
    point = (float(times_a[6]), float(times_b[6]))
    rec = registry.recipe("default", {"anchors_s": [point]})
    al = registry.run(rec, FakeAudio(a, "a.wav"), FakeAudio(b, "b.wav")).alignment
    assert abs(al.map_a_to_b(point[0]) - point[1]) <= 1.0 / al.rate_a_hz + 1e-9
    # recorded as the cells the path passes through: within one frame of what was asked
    np.testing.assert_allclose(al.params["anchors_s"], [point], atol=1.0 / al.rate_a_hz)


def test_the_estimate_counts_frames_as_the_features_do():
    from core.features import audio_features, video_features

    # audio: 4.37 s at 8 kHz gives 1 + floor((n - 1) * 50 / 8000) = 219 frames at 50 Hz
    # (duration * rate = 218.5 would say 218)
    n_samples, sr = 34_960, 8000
    feats = audio_features(np.zeros(n_samples, np.float32), sr, "onset", rate_hz=50.0)
    assert registry.feature_frames(n_samples / sr, 50.0, sr) == feats.n_frames == 219
    # video: 100 frames at 30 fps resampled to 20 Hz give 67 frames (not 100 / 30 * 20)
    frames = np.zeros((100, 18, 32, 3), np.uint8)
    vfeats = video_features(iter(frames), 30.0, "histogram", rate_hz=20.0, n_frames=100)
    assert registry.feature_frames(100 / 30.0, 20.0, 30.0) == vfeats.n_frames == 67
    assert registry.feature_frames(100 / 30.0, 30.0, 30.0) == 100
    # the estimate grows with the counted frames (one more row of A)
    rec = registry.recipe("dtw", {"window": "none"}, rate_hz=50.0)
    at_rate = registry.estimate(rec, n_samples / sr, n_samples / sr)
    counted = registry.estimate(rec, n_samples / sr, n_samples / sr,
                                source_rates_hz=(sr, sr))
    assert counted.bytes > at_rate.bytes
