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
