import numpy as np
import pytest

from core import Alignment


def make(path, **kw):
    return Alignment(np.array(path), 10.0, 20.0, **kw)


def test_times_and_readonly():
    a = make([[0, 0], [1, 1], [1, 2], [2, 3]])
    np.testing.assert_allclose(a.times_s, [[0, 0], [0.1, 0.05], [0.1, 0.1], [0.2, 0.15]])
    assert a.n_a == 3 and a.n_b == 4
    with pytest.raises(ValueError):
        a.path[0, 0] = 5
    with pytest.raises(TypeError):
        a.params["x"] = 1
    with pytest.raises(AttributeError):
        a.method = "x"


def test_invariants():
    with pytest.raises(ValueError, match="not monotone"):
        make([[0, 0], [2, 1], [1, 2]])
    with pytest.raises(ValueError, match="repeats"):
        make([[0, 0], [1, 1], [1, 1]])
    with pytest.raises(ValueError, match="leaves"):
        make([[0, 0], [5, 5]], n_a=3)
    with pytest.raises(ValueError, match=r"\(L, 2\)"):
        make(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="rate_a_hz"):
        Alignment(np.array([[0, 0]]), 0.0, 1.0)
    with pytest.raises(ValueError, match="integer"):
        make([[0, 0], [0.5, 1]])


def test_map_interpolates_and_handles_runs():
    # A holds at i=1 while B advances 1..3: A's time of frame 1 maps to the middle (j=2)
    a = Alignment(np.array([[0, 0], [1, 1], [1, 2], [1, 3], [2, 4], [3, 4], [4, 4], [5, 5]]),
                  1.0, 1.0)
    assert a.map_a_to_b(1.0) == pytest.approx(2.0)
    assert a.map_a_to_b(0.5) == pytest.approx(1.0)
    assert a.map_b_to_a(4.0) == pytest.approx(3.0)
    np.testing.assert_allclose(a.map_a_to_b([0.0, 5.0, 99.0, -1.0]), [0, 5, 5, 0])
    # round trip on a strictly diagonal stretch
    b = Alignment(np.c_[np.arange(10), 2 * np.arange(10)], 10.0, 10.0)
    t = np.linspace(0, 0.9, 7)
    np.testing.assert_allclose(b.map_b_to_a(b.map_a_to_b(t)), t)


def test_replace_revalidates():
    a = make([[0, 0], [1, 1]])
    b = a.replace(method="manual")
    assert b.method == "manual" and a.method == "unknown"
    with pytest.raises(ValueError):
        a.replace(path=np.array([[1, 1], [0, 0]]))


def test_plan_and_confidence_shapes():
    a = make([[0, 0], [1, 1]], plan=np.ones((2, 2)) / 4, confidence=[1.0, 0.5])
    assert a.plan.shape == (2, 2) and not a.plan.flags.writeable
    with pytest.raises(ValueError, match="plan"):
        make([[0, 0], [1, 1]], plan=np.ones((3, 2)))
    with pytest.raises(ValueError, match="confidence"):
        make([[0, 0], [1, 1]], confidence=[1.0])


def test_mapping_knots_are_computed_once_and_follow_a_replaced_path():
    path = np.c_[np.arange(6), [0, 0, 1, 3, 4, 5]]
    al = Alignment(path, 10.0, 10.0)
    first = al.map_a_to_b([0.0, 0.25, 0.5])
    assert al.mapping_knots(0) is al.mapping_knots(0)  # cached on the (immutable) alignment
    assert not al.mapping_knots(0)[0].flags.writeable
    np.testing.assert_allclose(al.map_a_to_b([0.0, 0.25, 0.5]), first)
    moved = al.replace(path=np.c_[np.arange(6), np.arange(6)])
    np.testing.assert_allclose(moved.map_a_to_b([0.0, 0.25, 0.5]), [0.0, 0.25, 0.5])
    np.testing.assert_allclose(al.map_a_to_b([0.0, 0.25, 0.5]), first)


def test_an_alignment_survives_pickling():
    import pickle

    al = Alignment(np.c_[np.arange(4), [0, 1, 1, 2]], 10.0, 20.0, n_b=5, method="dtw",
                   params={"window": ("sakoe_chiba", 2)}, diagnostics={"x": {"y": 1}},
                   confidence=np.linspace(0, 1, 4), sources={"a": {"path": "a.wav"}})
    al.map_a_to_b(0.1)  # a cached mapping does not travel
    back = pickle.loads(pickle.dumps(al))
    np.testing.assert_array_equal(back.path, al.path)
    assert (back.rate_a_hz, back.rate_b_hz, back.n_a, back.n_b) == (10.0, 20.0, 4, 5)
    assert dict(back.params) == dict(al.params) and back.diagnostics["x"] == {"y": 1}
    np.testing.assert_array_equal(back.confidence, al.confidence)
    assert not back.path.flags.writeable
    assert back.map_a_to_b(0.1) == al.map_a_to_b(0.1)


def _rich():
    """A DTW result with everything transposed() touches: anchors in frames and
    seconds, a search outline, segments, fingerprints, a plan and a confidence."""
    from core.warping import dtw

    rng = np.random.default_rng(2)
    x = np.cumsum(rng.normal(size=(60, 2)), axis=0)
    y = np.cumsum(rng.normal(size=(45, 2)), axis=0)
    al = dtw(x, y, anchors=[(20, 15), (40, 30)], rate_a_hz=10.0, rate_b_hz=20.0)
    from core.warping.windows import window_outline

    jmin = np.full(60, 99)
    jmax = np.zeros(60, int)
    np.minimum.at(jmin, al.path[:, 0], al.path[:, 1])
    np.maximum.at(jmax, al.path[:, 0], al.path[:, 1])
    outline = window_outline(np.maximum(jmin - 3, 0), np.minimum(jmax + 4, 45), max_blocks=7)
    plan = rng.random((60, 45))
    return al.replace(plan=plan, confidence=rng.random(len(al.path)),
                      params=dict(al.params, anchors_s=[[2.0, 0.75], [4.0, 1.5]]),
                      diagnostics=dict(al.diagnostics, search_window=outline),
                      sources={"a": {"path": "a.wav"}, "b": {"path": "b.wav"}})


def test_transposed_exchanges_a_and_b():
    al = _rich()
    t = al.transposed()
    np.testing.assert_array_equal(t.path, al.path[:, ::-1])
    assert (t.rate_a_hz, t.rate_b_hz, t.n_a, t.n_b) == (20.0, 10.0, 45, 60)
    np.testing.assert_array_equal(t.plan, al.plan.T)
    np.testing.assert_array_equal(t.confidence, al.confidence)
    assert t.sources == {"a": {"path": "b.wav"}, "b": {"path": "a.wav"}}
    assert t.params["anchors"] == [(15, 20), (30, 40)]
    assert t.params["anchors_s"] == [[0.75, 2.0], [1.5, 4.0]]
    assert t.params["transposed"] is True
    fp = al.diagnostics["input_fingerprint"]
    assert t.diagnostics["input_fingerprint"] == {"a": fp["b"], "b": fp["a"]}
    assert [s["start"] for s in t.diagnostics["segments"]] == [(0, 0), (15, 20), (30, 40)]
    assert [s["end"] for s in t.diagnostics["segments"]] == [(15, 20), (30, 40), (44, 59)]
    # the outline now runs over B's frames and still encloses the path
    outline = t.diagnostics["search_window"]
    k = np.searchsorted(outline["rows"], t.path[:, 0], side="right") - 1
    assert np.all(np.asarray(outline["lo"])[k] <= t.path[:, 1])
    assert np.all(t.path[:, 1] < np.asarray(outline["hi"])[k])
    for s in (0.3, 1.1, 2.0):
        assert t.map_b_to_a(s) == pytest.approx(al.map_a_to_b(s))
    back = t.transposed()
    np.testing.assert_array_equal(back.path, al.path)
    assert dict(back.params) == dict(al.params) and dict(back.sources) == dict(al.sources)
    assert back.diagnostics["segments"] == [dict(s, start=tuple(s["start"]),
                                                 end=tuple(s["end"]))
                                            for s in al.diagnostics["segments"]]




def test_transposed_exchanges_the_sides_of_the_ends_left_out():
    spans = [{"side": "b", "end": "start", "start_s": 0.0, "end_s": 4.0, "quiet": False},
             {"side": "a", "end": "end", "start_s": 2.0, "end_s": 3.0, "quiet": True}]
    al = _rich()
    al = al.replace(diagnostics=dict(al.diagnostics, unshared=spans))
    t = al.transposed()
    assert [u["side"] for u in t.diagnostics["unshared"]] == ["a", "b"]
    assert [u["start_s"] for u in t.diagnostics["unshared"]] == [0.0, 2.0]
    assert t.transposed().diagnostics["unshared"] == spans


def test_transposed_words_the_warning_about_the_ends_left_out_for_the_new_sides():
    from core.alignment import unshared_warning

    spans = [{"side": "b", "end": "start", "start_s": 0.0, "end_s": 14.1, "quiet": False}]
    al = _rich()
    sources = {"a": {"path": "/x/a.wav"}, "b": {"path": "/x/lead_in.wav"}}
    text = unshared_warning(spans, sources)
    assert text.startswith("B (lead_in.wav) has material at its start (0.0-14.1 s) that "
                           "A (a.wav) seems to lack")
    al = al.replace(sources=sources,
                    diagnostics=dict(al.diagnostics, unshared=spans, warning=text))
    t = al.transposed()
    assert t.diagnostics["warning"].startswith(
        "A (lead_in.wav) has material at its start (0.0-14.1 s) that B (a.wav) seems to lack")
    assert t.transposed().diagnostics["warning"] == text
    # another warning (not the engine's words about these ends) is left as it is
    other = al.replace(diagnostics=dict(al.diagnostics, warning="did not converge"))
    assert other.transposed().diagnostics["warning"] == "did not converge"
    # spans of another shape (a file written elsewhere) keep the warning as read
    odd = al.replace(diagnostics=dict(al.diagnostics, unshared=[{"side": "b"}]))
    assert odd.transposed().diagnostics["warning"] == text
