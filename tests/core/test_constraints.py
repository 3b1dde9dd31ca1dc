"""Manual corrections as constraints (core.constraints)."""

from __future__ import annotations

import numpy as np
import pytest

from core import dtw
from core.alignment import Alignment
from core.constraints import (
    Anchor,
    Constraints,
    Region,
    anchor_cells,
    doubtful_spots,
    linear_cells,
    lock_region,
    parse_anchor_text,
    read_anchor_file,
    recompute,
)
from core.errors import AlignmentError, FormatError


def _pair(n=400, m=460, seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    s = np.linspace(0, 1, m) ** 1.2
    f = rng.uniform(2, 9, 6)
    x = np.sin(np.outer(t, f) * 6.0) + 0.05 * rng.standard_normal((n, 6))
    y = np.sin(np.outer(s, f) * 6.0) + 0.05 * rng.standard_normal((m, 6))
    return x, y


def _passes(al, ta, tb):
    """Does the path pass within one frame of (ta, tb)?"""
    d = np.abs(al.times_s - [ta, tb]) * [al.rate_a_hz, al.rate_b_hz]
    return bool(np.any(np.all(d <= 1.0 + 1e-9, axis=1)))


def test_constraints_round_trip_as_plain_data():
    al = dtw(*_pair(), rate_a_hz=10, rate_b_hz=10)
    c = Constraints((Anchor(5.0, 6.0), Anchor(12.0, 14.5, hard=False, origin="proposed")),
                    (lock_region(al, 20.0, 25.0), Region(30.0, 33.0, "linear")))
    data = c.to_data()
    import json

    again = Constraints.from_data(json.loads(json.dumps(data)))
    assert again == c
    assert Constraints.from_data(None) == Constraints()


def test_moved_anchor_stays_between_neighbours():
    c = Constraints((Anchor(1, 1), Anchor(2, 2), Anchor(3, 3)))
    moved = c.moved_anchor(1, 10.0, -4.0)
    a = moved.anchors[1]
    assert 1.0 < a.time_a_s < 3.0 and 1.0 < a.time_b_s < 3.0
    assert [x.time_a_s for x in moved.anchors] == sorted(x.time_a_s for x in moved.anchors)


@pytest.mark.parametrize("mode", ["exact", "corridor"])
def test_recomputed_path_passes_every_anchor(mode):
    x, y = _pair()
    base = dtw(x, y, rate_a_hz=10, rate_b_hz=10)
    tb = base.map_a_to_b(15.0)
    c = Constraints((Anchor(8.0, base.map_a_to_b(8.0) + 1.5), Anchor(15.0, tb - 2.0),
                     Anchor(30.0, base.map_a_to_b(30.0))))
    out = recompute(base, c, (x, y, "euclidean"), mode=mode)
    assert out.method == "manual"
    for a in c.anchors:
        assert _passes(out, a.time_a_s, a.time_b_s)
    assert out.diagnostics["constraint_mode"] == mode
    assert Constraints.from_data(out.params["constraints"]) == c


def test_corridor_reuses_untouched_segments_and_keeps_the_base_far_away():
    x, y = _pair(800, 900)
    base = dtw(x, y, rate_a_hz=10, rate_b_hz=10)
    anchors = [Anchor(t, base.map_a_to_b(t) + 0.8) for t in (10.0, 30.0, 60.0)]
    c = Constraints(tuple(anchors))
    first = recompute(base, c, (x, y), mode="corridor")
    moved = c.moved_anchor(2, 60.0, anchors[2].time_b_s + 1.0)
    second = recompute(base, moved, (x, y), mode="corridor", previous=first)
    segs = second.diagnostics["constraint_segments"]
    assert second.diagnostics["n_solved"] == 2
    assert all(s["kind"] == "reused" for s in segs if s["end"][0] <= 300)
    # up to the second anchor the path is the first recompute's, cell for cell
    k = int(np.flatnonzero(np.all(first.path == [300, first.path[first.path[:, 0] == 300][0, 1]],
                                  axis=1))[0])
    assert np.array_equal(second.path[:k + 1], first.path[:k + 1])


def test_soft_anchor_that_contradicts_a_hard_one_is_left_out():
    c = Constraints((Anchor(2.0, 5.0), Anchor(3.0, 1.0, hard=False)))
    cells = anchor_cells(c, 10, 10, 100, 100)
    assert cells.tolist() == [[20, 50]]
    with pytest.raises(AlignmentError):
        anchor_cells(Constraints((Anchor(2.0, 5.0), Anchor(3.0, 1.0))), 10, 10, 100, 100)


@pytest.mark.parametrize("mode", ["exact", "corridor"])
def test_locked_region_is_kept_cell_for_cell(mode):
    x, y = _pair()
    base = dtw(x, y, rate_a_hz=10, rate_b_hz=10)
    region = lock_region(base, 12.0, 22.0)
    c = Constraints((Anchor(10.0, base.map_a_to_b(10.0) - 1.0),
                     Anchor(25.0, base.map_a_to_b(25.0) + 1.0)), (region,))
    out = recompute(base, c, (x, y), mode=mode)
    cells = np.asarray(region.cells)
    k = int(np.flatnonzero(np.all(out.path == cells[0], axis=1))[0])
    assert out.path[k:k + len(cells)].tobytes() == cells.tobytes()
    # an anchor inside a locked region does not change it
    c2 = c.with_anchor(Anchor(17.0, base.map_a_to_b(17.0) + 3.0))
    out2 = recompute(base, c2, (x, y), mode=mode)
    k2 = int(np.flatnonzero(np.all(out2.path == cells[0], axis=1))[0])
    assert out2.path[k2:k2 + len(cells)].tobytes() == cells.tobytes()


def test_linear_region_is_a_straight_line():
    x, y = _pair()
    base = dtw(x, y, rate_a_hz=10, rate_b_hz=10)
    c = Constraints((), (Region(10.0, 20.0, "linear", 12.0, 22.0),))
    out = recompute(base, c, (x, y), mode="corridor")
    line = linear_cells((100, 120), (200, 220))
    k = int(np.flatnonzero(np.all(out.path == [100, 120], axis=1))[0])
    assert np.array_equal(out.path[k:k + len(line)], line)


def test_non_dtw_result_is_corrected_from_its_path():
    x, y = _pair()
    path = linear_cells((0, 0), (399, 459))
    imported = Alignment(path, 10, 10, n_a=400, n_b=460, method="imported")
    c = Constraints((Anchor(20.0, 25.0),))
    out = recompute(imported, c, (x, y))
    assert out.diagnostics["constraint_mode"] == "corridor"
    assert _passes(out, 20.0, 25.0)
    # at another grid: the result is on the features' grid
    coarse = Alignment(linear_cells((0, 0), (199, 229)), 5, 5, n_a=200, n_b=230, method="x")
    out2 = recompute(coarse, c, (x, y), rate_a_hz=10, rate_b_hz=10)
    assert (out2.n_a, out2.n_b, out2.rate_a_hz) == (400, 460, 10.0)
    assert _passes(out2, 20.0, 25.0)


def test_anchor_file(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("time_a_s,time_b_s,hard\n1.0,1.5,1\n3,2.5,soft\n")
    anchors = read_anchor_file(p)
    assert [(a.time_a_s, a.time_b_s, a.hard) for a in anchors] == [(1.0, 1.5, True),
                                                                   (3.0, 2.5, False)]
    assert [a.hard for a in parse_anchor_text("2,3\n1,1\n", "x.csv")] == [True, True]
    assert [a.hard for a in parse_anchor_text("1;1;0\n2;3;1\n", "x.csv")] == [False, True]
    with pytest.raises(FormatError, match="x.csv.*line 2"):
        parse_anchor_text("time_a_s,time_b_s,hard\n1,2,maybe\n", "x.csv")
    with pytest.raises(FormatError, match="contradict"):
        parse_anchor_text("1,5\n2,3\n", "x.csv")
    with pytest.raises(FormatError, match="not found"):
        read_anchor_file(tmp_path / "missing.csv")


def test_doubtful_spots():
    path = linear_cells((0, 0), (99, 99))
    conf = np.ones(100)
    conf[20:40] = 0.1
    conf[70:72] = 0.2
    al = Alignment(path, 10, 10, confidence=conf)
    assert doubtful_spots(al) == [(2.0, 3.9)]


def test_ranked_doubtful_spots_go_by_expected_error():
    from core.constraints import ranked_doubtful_spots
    from core.pipeline.confidence import expected_error_ms

    path = linear_cells((0, 0), (199, 199))
    conf = np.ones(200)
    conf[20:40] = 0.4   # the milder spot first in time
    conf[100:130] = 0.3
    conf[110] = 0.05    # the worst step of the second spot
    conf[160:170] = 0.45
    al = Alignment(path, 10, 10, confidence=conf)
    ranked = ranked_doubtful_spots(al)
    assert [(a, b) for a, b, _ in ranked] == [(10.0, 12.9), (2.0, 3.9), (16.0, 16.9)]
    assert [e for *_, e in ranked] == pytest.approx(expected_error_ms([0.05, 0.4, 0.45]))
    assert ranked_doubtful_spots(Alignment(path, 10, 10)) == []


def test_project_keeps_constraints_in_snapshot_and_undo_redo():
    from core.project import Project
    from core.registry import Recipe

    x, y = _pair()
    base = dtw(x, y, rate_a_hz=10, rate_b_hz=10)
    p = Project()
    rid = p.add_result(base, Recipe("dtw", {}), label="dtw")
    c1 = Constraints((Anchor(10.0, base.map_a_to_b(10.0) + 1.0),))
    e1 = recompute(base, c1, (x, y))
    p.edit_result(rid, e1, c1, "add anchor")
    c2 = c1.moved_anchor(0, 10.0, c1.anchors[0].time_b_s + 0.5)
    e2 = recompute(base, c2, (x, y))
    p.edit_result(rid, e2, c2, "move anchor")
    assert p.result(rid).constraints == c2
    assert p.undo() == "move anchor" and p.result(rid).constraints == c1
    assert p.alignment(rid) is e1
    assert p.redo() == "move anchor" and p.alignment(rid) is e2 and not p.can_redo()
    p.undo()
    snap = p.snapshot()
    q = Project()
    q.restore(snap)
    assert q.result(rid).constraints == c1
    assert q.can_redo() and q.redo() == "move anchor"
    assert q.result(rid).constraints == c2
    np.testing.assert_array_equal(q.alignment(rid).path, e2.path)
    # a new edit clears the redo steps
    q.undo()
    q.edit_result(rid, e2, c2, "again")
    assert not q.can_redo()
    # swapping A and B turns the constraints too
    q.swap()
    a = q.result(rid).constraints.anchors[0]
    assert (a.time_a_s, a.time_b_s) == (c2.anchors[0].time_b_s, c2.anchors[0].time_a_s)


def test_settle_result_reaches_the_undo_and_redo_steps_of_its_edit():
    """A better path for an edit (the window's exact re-solve after a corridor stand-in)
    replaces that edit's path wherever it is kept: in the result, and in the undo or
    redo step that restores it when the user undid it or edited again meanwhile."""
    from core.project import Project
    from core.registry import Recipe

    x, y = _pair()
    base = dtw(x, y, rate_a_hz=10, rate_b_hz=10)
    p = Project()
    rid = p.add_result(base, Recipe("dtw", {}), label="dtw")
    c1 = Constraints((Anchor(10.0, base.map_a_to_b(10.0) + 1.0),))
    quick1 = recompute(base, c1, (x, y))
    exact1 = recompute(base, c1, (x, y), mode="exact")
    p.edit_result(rid, quick1, c1, "add anchor")
    # undone before the better path lands: the redo step gets it
    assert p.undo() == "add anchor" and p.alignment(rid) is base
    assert p.settle_result(rid, exact1, c1)
    assert p.alignment(rid) is base and not p.can_undo()
    assert p.redo() == "add anchor" and p.alignment(rid) is exact1
    # edited again before it lands: the undo step of the later edit gets it
    p.undo()
    p.edit_result(rid, quick1, c1, "add anchor")
    c2 = c1.moved_anchor(0, 10.0, c1.anchors[0].time_b_s + 0.5)
    quick2 = recompute(base, c2, (x, y))
    p.edit_result(rid, quick2, c2, "move anchor")
    exact2 = recompute(base, c2, (x, y), mode="exact")
    assert p.settle_result(rid, exact1, c1) and p.alignment(rid) is quick2
    assert p.settle_result(rid, exact2, c2) and p.alignment(rid) is exact2
    assert p.undo() == "move anchor" and p.alignment(rid) is exact1
    # constraints that are equal but not the edit's own are left alone
    assert not p.settle_result(rid, quick1, Constraints(c1.anchors, c1.regions))
    assert p.alignment(rid) is exact1
    assert not p.settle_result(rid + 1, quick1, c1)
    with pytest.raises(TypeError):
        p.settle_result(rid, "path", c1)


def _scorer_map(al, t):
    """A -> B as evaluation scripts read a path: the mean B time of each A frame,
    interpolated between frames."""
    times = al.times_s
    ua, inv = np.unique(times[:, 0], return_inverse=True)
    ub = np.bincount(inv, weights=times[:, 1]) / np.bincount(inv)
    return float(np.interp(t, ua, ub))


@pytest.mark.parametrize("mode", ["exact", "corridor"])
def test_an_anchor_far_off_the_features_path_is_crossed_on_a_diagonal(mode):
    """Where the anchor pulls the path 2 s (20 frames) off the features' path, the path
    catches up before the anchor but crosses it diagonally, from (i - 2, j - 2) to
    (i + 2, j + 2): the frames i - 1 .. i + 1 hold one cell each, and the A -> B mapping
    of a scorer (mean of a frame, interpolated) meets the anchor within one frame."""
    x, y = _pair()
    base = dtw(x, y, rate_a_hz=10, rate_b_hz=10)
    ta = 15.04
    tb = float(base.map_a_to_b(ta)) + 2.0
    out = recompute(base, Constraints((Anchor(ta, tb),)), (x, y, "euclidean"), mode=mode)
    i, j = int(round(ta * 10)), int(round(tb * 10))
    p = np.asarray(out.path)
    cells = {tuple(c) for c in p.tolist()}
    assert (i - 2, j - 2) in cells and (i + 2, j + 2) in cells
    for d in range(-1, 2):
        assert p[p[:, 0] == i + d].tolist() == [[i + d, j + d]]
        assert p[p[:, 1] == j + d].tolist() == [[i + d, j + d]]
    # within one frame: the two times are each rounded to their frame (half a frame)
    assert abs(_scorer_map(out, ta) - tb) <= 0.1 + 1e-9
    assert abs(_scorer_map(out.transposed(), tb) - ta) <= 0.1 + 1e-9


def test_corridor_keeps_the_base_path_away_from_a_correct_anchor():
    """The window's corridor re-solve runs on other features than the base's (the
    matrix's): a correct anchor where the base is wrong fixes the path there and leaves
    it as good as it was more than 2 s away (the re-solved segments are spliced back onto
    the base path where they meet it); without splicing, the worse features' path
    replaced the base all the way to the ends."""
    n, m = 600, 700
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, n)
    s = np.linspace(0, 1, m) ** 1.2
    f = rng.uniform(2, 9, 6)
    x = np.sin(np.outer(t, f) * 6.0) + 0.05 * rng.standard_normal((n, 6))
    y = np.sin(np.outer(s, f) * 6.0) + 0.05 * rng.standard_normal((m, 6))
    truth = t ** (1 / 1.2) * (m - 1)  # the frame of y of each frame of x
    wrong = x.copy()
    wrong[270:330] = wrong[270:330][::-1]  # the base goes wrong around 30 s
    base = dtw(wrong, y, rate_a_hz=10, rate_b_hz=10)
    # the matrix's features: the same streams, noisier
    xm = x + rng.standard_normal(x.shape)
    ym = y + rng.standard_normal(y.shape)

    def errors(al):
        p = np.asarray(al.path)
        rows, inv = np.unique(p[:, 0], return_inverse=True)
        cols = np.bincount(inv, weights=p[:, 1]) / np.bincount(inv)
        return np.abs(np.interp(np.arange(n), rows, cols) - truth)

    i = 300
    c = Constraints((Anchor(i / 10, float(truth[i]) / 10),))
    far = np.abs(np.arange(n) - i) > 20
    e0 = errors(base)
    out = recompute(base, c, (xm, ym, "euclidean"), mode="corridor")
    e = errors(out)
    assert _passes(out, c.anchors[0].time_a_s, c.anchors[0].time_b_s)
    assert e[far].mean() <= e0[far].mean() + 0.05
    assert e.mean() < e0.mean()
    # where the re-solve met the base, the base's cells are kept
    away = np.abs(out.path[:, 0] - i) > 20
    assert np.isin(out.path[away, 0] * 10000 + out.path[away, 1],
                   base.path[:, 0] * 10000 + base.path[:, 1]).mean() > 0.9
    old = recompute(base, c, (xm, ym, "euclidean"), mode="corridor", splice=False)
    assert errors(old)[far].mean() > e0[far].mean() + 0.5  # what the window did before


def test_exact_re_solve_is_spliced_back_onto_the_base_path():
    """An exact re-solve keeps the base path where the re-solved segments meet it again:
    away from the anchor the path is the base's, cell for cell; the anchor holds; the
    segment records tile the spliced path, so a later re-solve reuses them."""
    x, y, truth, base = _wrong_base_pair()  # the base goes wrong around 30 s
    i = 300
    c = Constraints((Anchor(i / 10, float(truth[i]) / 10),))
    out = recompute(base, c, (x, y, "euclidean"), mode="exact")
    assert out.diagnostics["constraint_mode"] == "exact"
    assert _passes(out, c.anchors[0].time_a_s, c.anchors[0].time_b_s)
    cells = set(map(tuple, base.path.tolist()))
    away = np.abs(out.path[:, 0] - i) > 20
    assert all(tuple(p) in cells for p in out.path[away].tolist())
    for rec in out.diagnostics["segments"]:
        piece = out.path[rec["path_start"]:rec["path_start"] + rec["path_length"]]
        assert tuple(piece[0]) == tuple(rec["start"]) and tuple(piece[-1]) == tuple(rec["end"])
    moved = c.moved_anchor(0, i / 10, float(truth[i]) / 10 + 0.3)
    again = recompute(base, moved, (x, y, "euclidean"), mode="exact", previous=out)
    assert _passes(again, moved.anchors[0].time_a_s, moved.anchors[0].time_b_s)
    away = np.abs(again.path[:, 0] - i) > 30
    assert all(tuple(p) in cells for p in again.path[away].tolist())


def _wrong_base_pair(seed=1):
    n, m = 600, 700
    x, y = _pair(n, m, seed)
    truth = np.linspace(0, 1, n) ** (1 / 1.2) * (m - 1)
    x[270:330] = x[270:330][::-1]  # the base goes wrong around 30 s
    return x, y, truth, dtw(x, y, rate_a_hz=10, rate_b_hz=10)


def test_bounded_exact_re_solve_equals_the_full_one_and_solves_less(monkeypatch):
    """The exact re-solve solves only from a knot off the base path to stops on the base
    path BOUNDED_SPAN_S away (the splice keeps the base beyond where the path meets it
    anyway): the same path as solving the whole segments and splicing, in fewer cells;
    moving the anchor again reuses the untouched stretches."""
    import core.splicing as splicing

    x, y, truth, base = _wrong_base_pair()
    i = 300
    c = Constraints((Anchor(i / 10, float(truth[i]) / 10),))
    moved = c.moved_anchor(0, i / 10, float(truth[i]) / 10 + 0.4)
    bounded = recompute(base, c, (x, y, "euclidean"), mode="exact")
    bounded2 = recompute(base, moved, (x, y, "euclidean"), mode="exact", previous=bounded)
    monkeypatch.setattr(splicing, "BOUNDED_SPAN_S", 1e6)  # no stops: whole segments
    full = recompute(base, c, (x, y, "euclidean"), mode="exact")
    full2 = recompute(base, moved, (x, y, "euclidean"), mode="exact", previous=full)
    assert np.array_equal(bounded.path, full.path)
    assert np.array_equal(bounded2.path, full2.path)
    assert bounded.diagnostics["cells_solved"] < 0.5 * full.diagnostics["cells_solved"]
    assert bounded2.diagnostics["cells_solved"] < 0.5 * full2.diagnostics["cells_solved"]
    # the stops are not the user's anchors
    assert len(bounded.params["anchors"]) == len(full.params["anchors"])


def test_bounded_exact_re_solve_widens_when_a_stop_bends_the_path(monkeypatch):
    """A stop so close that the new path meets the base only next to it: the stretch is
    doubled and solved again, until the path meets the base in its near half; the anchor
    holds and the base is kept away from it."""
    import core.splicing as splicing

    x, y, truth, base = _wrong_base_pair()
    calls = []
    real = splicing._bounded_stops
    monkeypatch.setattr(splicing, "_bounded_stops",
                        lambda *a: calls.append(dict(a[-1])) or real(*a))
    monkeypatch.setattr(splicing, "BOUNDED_SPAN_S", 0.5)
    monkeypatch.setattr(splicing, "_BOUNDED_OFF", 0.0)  # no head start
    i = 100
    # 2 s late on B where the base is right: the path runs level to meet the base again
    c = Constraints((Anchor(i / 10, float(truth[i]) / 10 + 2.0),))
    out = recompute(base, c, (x, y, "euclidean"), mode="exact")
    assert len(calls) >= 3
    for before, after in zip(calls, calls[1:], strict=False):
        assert all(after[k] in (before[k], 2 * before[k]) for k in before)
        assert any(after[k] == 2 * before[k] for k in before)
    assert _passes(out, c.anchors[0].time_a_s, c.anchors[0].time_b_s)
    cells = set(map(tuple, base.path.tolist()))
    away = np.abs(out.path[:, 0] - i) > 50
    assert all(tuple(p) in cells for p in out.path[away].tolist())
    monkeypatch.setattr(splicing, "BOUNDED_SPAN_S", 1e6)
    assert np.array_equal(out.path, recompute(base, c, (x, y, "euclidean"),
                                              mode="exact").path)
