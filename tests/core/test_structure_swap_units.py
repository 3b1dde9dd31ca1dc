"""A result with jumps through a swap of A and B (core.structure.carrier.transposed,
Project.swap), and units kept in a project and its file."""

from __future__ import annotations

import numpy as np
import pytest
from test_project_file import _project
from test_structure_carrier import _repeat

from core import project_file as pf
from core.alignment import Alignment
from core.project import Project
from core.registry import Recipe
from core.structure import PiecewiseAlignment
from core.structure.carrier import piecewise_of, to_carrier, transposed


def _move():
    """B = A[50:100] then A[0:50] (a moved section), at 10 Hz."""
    p0 = Alignment(np.stack([np.arange(50, 100), np.arange(50)], 1), 10.0, 10.0, n_a=100,
                   n_b=100, method="dtw", distance=1.0)
    p1 = Alignment(np.stack([np.arange(50), np.arange(50, 100)], 1), 10.0, 10.0, n_a=100,
                   n_b=100, method="dtw", distance=2.0)
    return PiecewiseAlignment((p0, p1))


def test_a_moved_section_swaps_into_pieces_and_back():
    pw = _move()
    t = piecewise_of(transposed(to_carrier(pw)))
    assert t is not None and len(t.pieces) == 2
    assert "swap_note" not in t.diagnostics
    # seen from B: A's 0-5 s is B's 5-10 s
    assert t.map_b_to_a(2.0)[0] == pytest.approx(7.0)
    assert t.map_a_to_b(7.0) == (pytest.approx(2.0),)
    back = piecewise_of(transposed(transposed(to_carrier(pw))))
    for p, q in zip(back.pieces, pw.pieces, strict=True):
        assert np.array_equal(p.path, q.path)


def test_a_repeat_swaps_into_a_skip_said_and_comes_back_exactly():
    pw = _repeat()
    c = to_carrier(pw)
    t = transposed(c)
    tp = piecewise_of(t)
    assert tp is not None and (tp.n_a, tp.n_b) == (120, 100)
    assert [j["kind"] for j in tp.jumps] == ["forward"]
    assert "6.0-8.0 s" in t.diagnostics["swap_note"]  # A (was B) 6-8 s repeats B 2-4 s
    assert tp.map_a_to_b(7.0) == ()                   # the repeat: skipped
    back = transposed(t)
    bp = piecewise_of(back)
    assert np.array_equal(back.path, c.path) and len(bp.pieces) == 3
    for p, q in zip(bp.pieces, pw.pieces, strict=True):
        assert np.array_equal(p.path, q.path)
    assert "swap_note" not in back.diagnostics
    # a plain alignment is transposed as usual
    plain = Alignment(np.stack([np.arange(10), np.arange(10)], 1), 10.0, 10.0)
    assert piecewise_of(transposed(plain)) is None


def test_project_swap_keeps_pieces_and_units(tmp_path):
    p, _ = _project(tmp_path)
    rid = p.add_result(to_carrier(_move()), Recipe("dtw", {}), label="pieces")
    p.set_units([0, 20, 60], [0, 30], 10.0)
    p.swap()
    assert piecewise_of(p.alignment(rid)) is not None
    assert p.units["a"] == [0, 30] and p.units["b"] == [0, 20, 60]
    assert p.units["inputs"] == {"a": p.recording("a").key, "b": p.recording("b").key}


def test_units_round_trip_through_the_project_file(tmp_path):
    p, _ = _project(tmp_path)
    changes = []
    p.subscribe(lambda c: changes.append(c.what))
    p.set_units([0, 20, 60], [0, 30, 45], 2.0)
    assert changes == ["units_changed"]
    p.set_units([0, 20, 60], [0, 30, 45], 2.0)  # the same: no change
    assert changes == ["units_changed"]
    out = tmp_path / "u.alignproj"
    pf.save_project(p, out)
    q, loaded = pf.load_project(out)
    assert q.units == p.units
    # a project written before units were kept opens without them
    snap = p.snapshot()
    del snap["units"]
    r = Project()
    r.restore(snap)
    assert r.units is None
    with pytest.raises(ValueError, match="starts_b"):
        p.set_units([0, 5], [3, 2], 2.0)
    with pytest.raises(ValueError, match="rate_hz"):
        p.set_units([0, 5], [0, 2], 0.0)
