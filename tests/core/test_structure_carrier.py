"""core.structure.carrier: a path with jumps carried by a plain Alignment through the
project (cursor, snapshot, undo) and its file; unit assignment of edited units."""

from __future__ import annotations

import numpy as np
import pytest

from core.alignment import Alignment
from core.project import Project
from core.project_file import load_project, save_project
from core.structure import PiecewiseAlignment, Unit
from core.structure.align import analyse_units, assign_units
from core.structure.carrier import Follower, cursor_through, piecewise_of, to_carrier


def _repeat():
    """B = A[0:60] then A[20:40] again then A[60:100], at 10 Hz."""
    p0 = Alignment(np.stack([np.arange(60), np.arange(60)], 1), 10.0, 10.0, n_a=100,
                   n_b=120, method="dtw", distance=1.0)
    p1 = Alignment(np.stack([np.arange(20, 40), np.arange(60, 80)], 1), 10.0, 10.0,
                   n_a=100, n_b=120, method="dtw", distance=2.0,
                   confidence=np.linspace(0, 1, 20))
    p2 = Alignment(np.stack([np.arange(60, 100), np.arange(80, 120)], 1), 10.0, 10.0,
                   n_a=100, n_b=120, method="dtw", distance=3.0)
    return PiecewiseAlignment((p0, p1, p2), diagnostics={"structure": {"result": "pieces"}})


def test_carrier_is_monotone_and_gives_the_pieces_back():
    pw = _repeat()
    c = to_carrier(pw)
    assert isinstance(c, Alignment)
    assert np.all(np.diff(c.path, axis=0) >= 0)
    assert (c.n_a, c.n_b) == (100, 120)
    # a fresh copy (as after a project file) rebuilds the pieces from the diagnostics
    copy = Alignment(c.path, c.rate_a_hz, c.rate_b_hz, n_a=c.n_a, n_b=c.n_b,
                     method=c.method, diagnostics=dict(c.diagnostics))
    back = piecewise_of(copy)
    assert back is not pw and len(back.pieces) == 3
    for p, q in zip(back.pieces, pw.pieces, strict=True):
        assert np.array_equal(p.path, q.path)
    assert back.jumps[0]["kind"] == "back"
    assert back.diagnostics["structure"]["result"] == "pieces"
    # transposed: no longer the carrier of these pieces
    assert piecewise_of(c.transposed()) is None
    assert piecewise_of(Alignment(np.stack([np.arange(10)] * 2, 1), 10.0, 10.0)) is None


def test_cursor_follows_the_jumps():
    pw = _repeat()
    # on B, inside the repeat: A goes back
    assert cursor_through(pw, "b", 7.0, (0.0, 0.0)) == pytest.approx((3.0, 7.0))
    # on A, a time heard twice: B goes to the occurrence nearest its cursor
    assert cursor_through(pw, "a", 3.0, (0.0, 1.0)) == pytest.approx((3.0, 3.0))
    assert cursor_through(pw, "a", 3.0, (0.0, 7.5)) == pytest.approx((3.0, 7.0))
    f = Follower(pw)
    assert f.map_b_to_a(7.0) == pytest.approx(3.0)
    assert f.map_a_to_b(6.5) == pytest.approx(8.5)


def test_project_cursor_and_file_keep_the_pieces(tmp_path):
    pw = _repeat()
    proj = Project()
    rid = proj.add_result(to_carrier(pw), _recipe())
    proj.move_cursor("b", 7.0)
    assert proj.cursor == pytest.approx((3.0, 7.0))
    proj.move_cursor("a", 2.5)
    assert proj.cursor == pytest.approx((2.5, 6.5))
    # a point given (a click on the matrix) picks the occurrence nearest it instead
    proj.move_cursor("a", 2.5, near=(2.5, 1.0))
    assert proj.cursor == pytest.approx((2.5, 2.5))
    proj.move_cursor("a", 2.5, near=(2.5, 6.0))
    assert proj.cursor == pytest.approx((2.5, 6.5))
    path = tmp_path / "p.alignproj"
    save_project(proj, path)
    loaded, report = load_project(path, check_media=False)
    assert loaded.result_ids() == [rid]
    al = loaded.alignment(rid)
    back = piecewise_of(al)
    assert back is not None and len(back.pieces) == 3
    assert [j["kind"] for j in back.jumps] == [j["kind"] for j in pw.jumps]
    for p, q in zip(back.pieces, pw.pieces, strict=True):
        assert np.array_equal(p.path, q.path)
        assert p.distance == q.distance
    # (the project file keeps values in [0, 1] to 1/254, as for any confidence)
    assert np.allclose(back.pieces[1].confidence, pw.pieces[1].confidence, atol=0.01)


def _recipe():
    from core.registry import Recipe

    return Recipe("pieces", {})


def test_assign_units_of_edited_units():
    rng = np.random.default_rng(4)
    protos = [np.cumsum(rng.standard_normal((10, 6)), 0) + 3 * rng.standard_normal(6)
              for _ in range(3)]
    x = np.vstack([protos[0], protos[1], protos[2]])
    y = np.vstack([protos[0], protos[1], protos[1], protos[2]])
    base = analyse_units(x, y, 2.0, min_unit_s=4.0)
    ua = [Unit(0, 10, 2.0), Unit(10, 20, 2.0), Unit(20, 30, 2.0)]
    ub = [Unit(0, 10, 2.0), Unit(10, 20, 2.0), Unit(20, 30, 2.0), Unit(30, 40, 2.0)]
    out = assign_units(x, y, ua, ub)
    assert list(out["matches"]) == [0, 1, 1, 2]
    assert out["units_b"][1].kind == out["units_b"][2].kind == out["units_a"][1].kind
    assert out["costs"].shape == (3, 4)
    assert set(base) == set(out)


def test_an_edited_carrier_no_longer_carries_the_pieces():
    c = to_carrier(_repeat())
    path = np.array(c.path, copy=True)
    path[5, 0] = path[4, 0]  # still monotone, same ends: another path
    keep = np.ones(len(path), bool)
    keep[1:] = np.any(np.diff(path, axis=0) != 0, axis=1)
    edited = c.replace(path=path[keep])
    assert "pieces" in edited.diagnostics
    assert piecewise_of(edited) is None
