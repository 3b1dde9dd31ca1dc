"""core.structure: segmentation, unit assignment, the jump DP, PiecewiseAlignment, its
files and transfer, and align_recordings(structure=...) on small generated audio."""

from __future__ import annotations

import json

import numpy as np
import pytest

import core
from core.alignment import Alignment
from core.formats.annotations import Annotation, Interval, Point, Tier
from core.formats.transfer import transfer_annotation
from core.structure import (
    PiecewiseAlignment,
    analyse_units,
    cluster_units,
    find_pieces,
    segment,
    unit_costs,
)
from core.structure.segments import frame_costs
from core.synthetic.music import tone_sections
from core.warping._source import CostSource


def _blocks(rng, kinds, length=20, dim=12, noise=0.05):
    """Frames of blocks; equal kinds share a prototype (with a slow pattern inside)."""
    protos = {}
    out = []
    for k in kinds:
        if k not in protos:
            base = rng.standard_normal((length, dim))
            protos[k] = np.cumsum(base, axis=0) * 0.3 + 3 * rng.standard_normal(dim)
        out.append(protos[k] + noise * rng.standard_normal((length, dim)))
    return np.vstack(out)


def _piece(rows, n_a=100, n_b=100, rate=10.0):
    return Alignment(np.asarray(rows), rate, rate, n_a=n_a, n_b=n_b, method="dtw")


# ------------------------------------------------------------------ segmentation


def test_segment_finds_block_boundaries_and_kinds():
    rng = np.random.default_rng(0)
    x = _blocks(rng, ["a", "b", "a", "c"], length=20)
    units = segment(x, 10.0, min_unit_s=1.0, kernel_s=0.8)
    bounds = [u.start for u in units[1:]]
    assert len(bounds) == 3
    assert np.all(np.abs(np.array(bounds) - [20, 40, 60]) <= 1)
    assert units[0].start == 0 and units[-1].end == 80
    d = unit_costs(frame_costs(x, x), units, units)
    kinds = cluster_units(d, 0.5 * (np.median(d) + d[d > 0].min()))
    assert kinds[0] == kinds[2] != kinds[1]
    assert kinds[3] not in (kinds[0], kinds[1])


def test_segment_respects_min_unit_length():
    rng = np.random.default_rng(1)
    x = _blocks(rng, list("abcdefgh"), length=5)
    units = segment(x, 10.0, min_unit_s=1.2, kernel_s=0.3)
    assert all(u.end - u.start >= 12 for u in units)


def test_segment_cuts_the_same_material_the_same_way_whatever_comes_before():
    # textureless frames (every frame its own note): the novelty is all small peaks, and
    # which of them became cuts used to depend on the strongest peaks of the whole stream
    rng = np.random.default_rng(4)
    shared = rng.random((100, 12))
    for seed in range(8):
        other = np.random.default_rng(10 + seed)
        x = np.vstack([other.random((17, 12)), shared])
        y = np.vstack([other.random((29, 12)), shared])
        cuts_x = [u.start - 17 for u in segment(x, 2.0)[1:]]
        cuts_y = [u.start - 29 for u in segment(y, 2.0)[1:]]
        # away from the different openings (the threshold's window of four kernels, a
        # kernel and a unit: 24 frames at 2 Hz), the same cuts
        assert [c for c in cuts_x if c >= 24] == [c for c in cuts_y if c >= 24], seed
        assert len([c for c in cuts_x if c >= 24]) >= 5


def test_segment_leaves_a_long_quiet_stretch_whole():
    # a threshold from the curve around a frame alone let noise peaks cut a long quiet
    # block every unit; it is never below the stream's mean
    rng = np.random.default_rng(5)
    pa, pb, pc = (rng.random(12) + 0.2 for _ in range(3))

    def block(n, proto, noise):
        return proto + noise * rng.standard_normal((n, len(proto)))

    x = np.vstack([block(20, pa, 0.05), block(20, pb, 0.05), block(120, pc, 0.002),
                   block(20, pa, 0.05)])
    cuts = [u.start for u in segment(x, 10.0, min_unit_s=1.0, kernel_s=0.8)[1:]]
    assert np.all(np.abs(np.array(cuts) - [20, 40, 160]) <= 1), cuts


def test_repeat_pair_sections_of_the_same_material_share_their_kind(tmp_path):
    import soundfile as sf

    from core.media import open_recording
    from core.structure.align import unit_features

    sf.write(tmp_path / "a.wav", tone_sections([220, 330, 262, 392, 294]), 8000)
    sf.write(tmp_path / "b.wav", tone_sections([220, 330, 262, 330, 392, 294]), 8000)
    x, y, rate = unit_features(open_recording(tmp_path / "a.wav"),
                               open_recording(tmp_path / "b.wav"))
    out = analyse_units(x, y, rate)

    def kind_at(units, t_s):
        return next(u.kind for u in units if u.start_s <= t_s < u.end_s)

    # the 392 Hz section: 12-16 s on A, 16-20 s on B (after the repeated 330 Hz one)
    for t_a in (13.0, 14.0, 15.0):
        assert kind_at(out["units_a"], t_a) == kind_at(out["units_b"], t_a + 4.0), t_a
    assert kind_at(out["units_b"], 14.0) == kind_at(out["units_a"], 6.0)  # the repeat


def test_unit_costs_compare_units_of_different_lengths():
    rng = np.random.default_rng(2)
    x = _blocks(rng, ["a", "b"], length=30)
    slow = np.repeat(x[:30], 2, axis=0)  # unit "a" played at half speed
    y = np.vstack([slow, x[30:]])
    from core.structure import Unit
    ua = [Unit(0, 30, 10.0), Unit(30, 60, 10.0)]
    ub = [Unit(0, 60, 10.0), Unit(60, 90, 10.0)]
    d = unit_costs(frame_costs(x, y), ua, ub)
    assert d[0, 0] < 0.2 * d[0, 1] and d[1, 1] < 0.2 * d[1, 0]


def test_analyse_units_matches_repeated_and_leaves_foreign_unmatched():
    rng = np.random.default_rng(3)
    x = _blocks(rng, ["a", "b", "c"], length=20)
    # (a section right after itself shows no novelty: the jump DP finds such repeats)
    y = np.vstack([x, x[20:40], _blocks(np.random.default_rng(9), ["z"], length=20)])
    out = analyse_units(x, y, 5.0, min_unit_s=2.0)
    assert [u.start for u in out["units_b"]] == [0, 20, 40, 60, 80]
    assert list(out["matches"]) == [0, 1, 2, 1, -1]
    kinds_b = [u.kind for u in out["units_b"]]
    assert kinds_b[1] == kinds_b[3] == out["units_a"][1].kind
    assert kinds_b[4] not in [u.kind for u in out["units_a"]]


# ------------------------------------------------------------------ jump DP


def _cost_source(x, y):
    return CostSource(cost=frame_costs(x, y))


@pytest.mark.parametrize("change", ["repeat", "drop", "move", "none"])
def test_find_pieces_recovers_the_cuts(change):
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.standard_normal((120, 8)), axis=0) + 0.3 * rng.standard_normal((120, 8))
    x = x - x.mean(axis=0)
    spans = {"repeat": [(0, 70), (40, 120)], "drop": [(0, 40), (70, 120)],
             "move": [(0, 30), (60, 90), (30, 60), (90, 120)], "none": [(0, 120)]}[change]
    y = np.vstack([x[s:e] for s, e in spans])
    pieces, match, info = find_pieces(_cost_source(x, y), 10.0, jump_s=1.0, min_piece_s=1.0)
    assert len(pieces) == len(spans)
    offset = 0
    for (i0, i1, j0, _j1), (s, e) in zip(pieces, spans, strict=True):
        assert abs(j0 - offset) <= 2 and abs(i0 - s) <= 2 and abs(i1 - (e - 1)) <= 2
        offset += e - s


# ------------------------------------------------------------------ PiecewiseAlignment


def _repeat_alignment():
    # B plays A 0..49, then A 20..49 again, then A 50..99
    p0 = _piece([(i, i) for i in range(50)], n_b=130)
    p1 = _piece([(i, i + 30) for i in range(20, 50)], n_b=130)
    p2 = _piece([(i, i + 30) for i in range(50, 100)], n_b=130)
    return PiecewiseAlignment((p0, p1, p2), sources={"a": {"duration_s": 10.0},
                                                     "b": {"duration_s": 13.0}})


def test_piecewise_maps_every_occurrence():
    al = _repeat_alignment()
    assert al.map_a_to_b(1.0) == pytest.approx((1.0,))
    assert al.map_a_to_b(3.0) == pytest.approx((3.0, 6.0))
    assert al.map_b_to_a(6.0) == pytest.approx((3.0,))
    assert al.map_b_to_a(np.array([1.0, 6.0])) == [pytest.approx((1.0,)),
                                                    pytest.approx((3.0,))]
    jumps = al.jumps
    assert [j["kind"] for j in jumps] == ["back", "forward"]
    assert jumps[0]["a_from_s"] == pytest.approx(4.9) and jumps[0]["a_to_s"] == pytest.approx(2.0)
    assert al.path.shape == (130, 2) and list(np.unique(al.piece_index)) == [0, 1, 2]


def test_piecewise_refuses_overlapping_pieces():
    p0 = _piece([(i, i) for i in range(50)])
    p1 = _piece([(i, i) for i in range(40, 60)])
    with pytest.raises(ValueError, match="pieces\\[1\\]"):
        PiecewiseAlignment((p0, p1))
    with pytest.raises(ValueError, match="pieces"):
        PiecewiseAlignment(())


def test_skipped_section_maps_to_nothing():
    p0 = _piece([(i, i) for i in range(30)], n_b=70)
    p1 = _piece([(i, i - 30) for i in range(60, 100)], n_b=70)
    al = PiecewiseAlignment((p0, p1))
    assert al.map_a_to_b(4.5) == ()
    assert al.jumps[0]["kind"] == "forward"


# ------------------------------------------------------------------ files and transfer


def test_json_and_csv_round_trip(tmp_path):
    al = _repeat_alignment()
    for name in ("out.json", "out.csv"):
        core.write_alignment(al, tmp_path / name)
        back = core.read_alignment(tmp_path / name)
        assert isinstance(back, PiecewiseAlignment)
        assert len(back.pieces) == 3
        assert np.allclose(back.times_s, al.times_s)
        assert back.map_a_to_b(3.0) == pytest.approx((3.0, 6.0))
    doc = json.loads((tmp_path / "out.json").read_text())
    assert [len(p["path_frames"]) for p in doc["pieces"]] == [50, 30, 50]
    header, first = (tmp_path / "out.csv").read_text().splitlines()[:2]
    assert header == "time_a_s,time_b_s,piece" and first.endswith(",0")


def test_formats_without_pieces_are_refused(tmp_path):
    with pytest.raises(ValueError, match="jumps"):
        core.write_alignment(_repeat_alignment(), tmp_path / "out.TextGrid")
    assert not (tmp_path / "out.TextGrid").exists()


def test_transfer_duplicates_labels_on_each_occurrence():
    al = _repeat_alignment()
    ann = Annotation((Tier("words", "interval", (Interval(0.5, 1.5, "intro"),
                                                 Interval(2.5, 3.5, "theme"),
                                                 Interval(4.5, 5.5, "bridge"))),
                      Tier("beats", "point", (Point(3.0, "x"),))))
    result = transfer_annotation(ann, al)
    words = result.annotation.tier("words").items
    assert [w.label for w in words] == ["intro", "theme", "bridge", "theme", "bridge",
                                        "bridge"]
    themes = [w for w in words if w.label == "theme"]
    assert themes[0].start_s == pytest.approx(2.5) and themes[1].start_s == pytest.approx(5.5)
    # "bridge" (A 4.5-5.5) is cut by the jump back at A 5.0: each part keeps its label
    beats = result.annotation.tier("beats").items
    assert [b.time_s for b in beats] == pytest.approx([3.0, 6.0])
    back = transfer_annotation(result.annotation, al, direction="b2a")
    assert [w.label for w in back.annotation.tier("words").items].count("theme") == 2


# ------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def structured_pair(tmp_path_factory):
    import soundfile as sf

    folder = tmp_path_factory.mktemp("structure")
    a = tone_sections([220, 330, 262, 392, 294])
    b = tone_sections([220, 330, 262, 330, 392, 294])  # section 2 repeated after 3
    pa, pb, pc = folder / "a.wav", folder / "b.wav", folder / "c.wav"
    sf.write(pa, a, 8000)
    sf.write(pb, b, 8000)
    sf.write(pc, a, 8000)
    return pa, pb, pc


def test_auto_switches_to_pieces_on_a_repeat(structured_pair):
    pa, pb, _ = structured_pair
    al = core.align_files(pa, pb, structure="auto")
    assert isinstance(al, PiecewiseAlignment)
    back = [j for j in al.jumps if j["kind"] == "back"]
    assert len(back) == 1
    assert back[0]["b_to_s"] == pytest.approx(12.0, abs=0.5)
    assert back[0]["a_from_s"] == pytest.approx(12.0, abs=0.5)
    assert back[0]["a_to_s"] == pytest.approx(4.0, abs=0.5)
    assert al.map_a_to_b(6.0) == pytest.approx((6.0, 14.0), abs=0.2)
    assert al.diagnostics["structure"]["result"] == "pieces"


def test_auto_keeps_the_monotone_result_when_the_order_is_the_same(structured_pair):
    pa, _, pc = structured_pair
    mono = core.align_files(pa, pc)
    auto = core.align_files(pa, pc, structure="auto")
    assert isinstance(auto, Alignment)
    assert np.array_equal(auto.path, mono.path)
    assert auto.diagnostics["structure"]["result"] == "monotone"
    assert "structure" not in mono.diagnostics


def test_a_result_with_jumps_reports_an_end_b_has_and_a_lacks(structured_pair, tmp_path):
    """The jump DP leaves an unrelated lead-in of B unmatched: the result with jumps says
    so as a monotone result does (``unshared``, ``warning``, the warning raised), so a
    batch's summary and the window can show it."""
    import soundfile as sf

    pa, pb, _ = structured_pair
    b, sr = sf.read(pb)
    rng = np.random.default_rng(7)
    brown = np.cumsum(rng.standard_normal(6 * sr))
    brown = 0.2 * (brown - brown.mean()) / np.abs(brown - brown.mean()).max()
    lead = tmp_path / "lead_b.wav"
    sf.write(lead, np.concatenate([brown, b]), sr)
    with pytest.warns(core.PartialOverlapWarning, match="lead_b.wav") as caught:
        al = core.align_files(pa, lead, structure="auto")
    # once, for the result returned (not also for the monotone result it started from)
    assert len([w for w in caught if w.category is core.PartialOverlapWarning]) == 1
    assert isinstance(al, PiecewiseAlignment)
    assert [j["kind"] for j in al.jumps] == ["back", "forward"]
    spans = [s for s in al.diagnostics["unshared"] if not s["quiet"]]
    assert [(s["side"], s["end"]) for s in spans] == [("b", "start")]
    assert spans[0]["end_s"] == pytest.approx(6.0, abs=0.5)
    assert "B (lead_b.wav)" in al.diagnostics["warning"]
    part = al.diagnostics["aligned_part"]
    assert part["b_s"][0] == pytest.approx(6.0, abs=0.5) and not part["whole_b"]
    # the same lead-in before A's own order: auto keeps the monotone result, which warns
    # once too
    same = tmp_path / "lead_a.wav"
    a, _ = sf.read(pa)
    sf.write(same, np.concatenate([brown, a]), sr)
    with pytest.warns(core.PartialOverlapWarning, match="lead_a.wav") as caught:
        mono = core.align_files(pa, same, structure="auto")
    assert isinstance(mono, Alignment) and mono.diagnostics["warning"]
    assert len([w for w in caught if w.category is core.PartialOverlapWarning]) == 1
    # the repeat pair without a lead-in: nothing left out, no warning
    plain = core.align_files(pa, pb, structure="auto")
    assert "warning" not in plain.diagnostics
    assert not [s for s in plain.diagnostics.get("unshared", []) if not s["quiet"]]


def test_structure_is_checked():
    with pytest.raises(ValueError, match="structure"):
        from core.structure import align_structure
        align_structure(None, None, structure="jumps")


def test_cli_structure_auto(structured_pair, tmp_path, capsys):
    pa, pb, _ = structured_pair
    out = tmp_path / "al.json"
    from core import cli

    assert cli.main(["align", str(pa), str(pb), "-o", str(out), "--structure", "auto"]) == 0
    assert "the order differs" in capsys.readouterr().err
    assert isinstance(core.read_alignment(out), PiecewiseAlignment)
    bad = tmp_path / "al.TextGrid"
    assert cli.main(["align", str(pa), str(pb), "-o", str(bad), "--structure", "auto"]) == 2
    err = capsys.readouterr().err
    assert "--structure" in err and "Traceback" not in err and not bad.exists()


# ------------------------------------------------------------------ junction refinement


@pytest.mark.parametrize("change", ["repeat", "drop"])
@pytest.mark.parametrize("gap", [0, 6])
def test_refine_junctions_moves_a_late_jump_to_the_cut(change, gap):
    from core.structure import refine_junctions

    rng = np.random.default_rng(7)
    x = np.cumsum(rng.standard_normal((160, 8)), axis=0) + 0.3 * rng.standard_normal((160, 8))
    x = x - x.mean(axis=0)
    # B: A 0..79 then (repeat) A 40..159 or (drop) A 110..159; the cut is at B frame 80
    second = 40 if change == "repeat" else 110
    y = np.vstack([x[:80], x[second:]])
    m = len(y)
    late = 8  # the planned jump comes 8 B frames late, p continuing on A past its end
    p = _piece([(j, j) for j in range(80 + late)], n_a=160, n_b=m)
    q = _piece([(second + j - 80, j) for j in range(80 + late + gap, m)], n_a=160, n_b=m)
    out = refine_junctions([p, q], _cost_source(x, y), radius=15, max_gap=10)
    assert int(out[0].path[-1, 1]) == 79 and int(out[1].path[0, 1]) == 80
    assert int(out[0].path[-1, 0]) == 79 and int(out[1].path[0, 0]) == second
    for piece in out:  # continuous, diagonal where the material is
        steps = np.diff(piece.path, axis=0)
        assert np.all(steps >= 0) and np.all(steps <= 1)
        assert np.all(piece.path[:, 0] - piece.path[:, 1] == piece.path[0, 0] - piece.path[0, 1])
    # a gap wider than max_gap is left alone
    far = _piece([(second + j - 80, j) for j in range(100, m)], n_a=160, n_b=m)
    kept = refine_junctions([p, far], _cost_source(x, y), radius=15, max_gap=10)
    assert np.array_equal(kept[1].path, far.path)


def _late_cut(seed, cut, second, late):
    """A (160 frames) and B = A[:cut] + A[second:] (a little noise), and their local
    costs with A's continuation of the first piece a perfect match for the ``late`` B
    frames after the cut."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal((160, 8)), axis=0)
    x = x - x.mean(axis=0)
    y = np.vstack([x[:cut], x[second:]]) + 0.05 * rng.standard_normal((cut + 160 - second, 8))
    cost = frame_costs(x, y)
    for k in range(late):
        cost[cut + k, cut + k] = 0.0
    return x, y, cost


def test_refine_junctions_prefers_a_splice_in_b_where_a_is_ambiguous():
    """Right after the cut, B's frames also match A's continuation of the first piece
    (A holds similar material there) a little better than the true copy: the local costs
    alone put the jump late; B's own discontinuity at the cut puts it there."""
    from core.structure import refine_junctions

    cut, second, late = 80, 120, 8
    x, y, cost = _late_cut(3, cut, second, late)
    m = len(y)
    p = _piece([(j, j) for j in range(cut + late + 4)], n_a=160, n_b=m)
    q = _piece([(second + j - cut, j) for j in range(cut + late + 5, m)], n_a=160, n_b=m)
    source = CostSource(cost=cost)
    plain = refine_junctions([p, q], source, radius=15, max_gap=10)
    assert int(plain[1].path[0, 1]) == cut + late  # the local costs alone: late
    self_b = CostSource(cost=frame_costs(y, y))
    out = refine_junctions([p, q], source, radius=15, max_gap=10, self_b=self_b,
                           splice_w=0.5, splice_width=2)
    assert int(out[0].path[-1, 1]) == cut - 1 and int(out[1].path[0, 1]) == cut
    assert int(out[0].path[-1, 0]) == cut - 1 and int(out[1].path[0, 0]) == second
    # continuous material (no cut in B): the bonus is small and nothing moves
    from core.structure.junctions import splice_costs

    s = splice_costs(self_b, 60, 100, 2)
    assert int(np.argmax(s)) + 60 == cut - 1


def test_refine_junctions_does_not_take_an_onset_that_a_has_too_for_a_cut():
    """B's own discontinuity counts only beyond A's where the pieces leave and join it:
    an onset 6 frames after the cut, present in A too, does not pull the jump there."""
    from core.structure import refine_junctions

    rng = np.random.default_rng(5)
    x = np.cumsum(0.3 * rng.standard_normal((160, 8)), axis=0) + 3 * rng.standard_normal(8)
    cut, second, onset = 80, 120, 6
    x[second + onset:] += 4 * rng.standard_normal(8)  # a strong change inside the copy
    y = np.vstack([x[:cut], x[second:]]) + 0.05 * rng.standard_normal((cut + 40, 8))
    m = len(y)
    p = _piece([(j, j) for j in range(cut + 4)], n_a=160, n_b=m)
    q = _piece([(second + j - cut, j) for j in range(cut + 5, m)], n_a=160, n_b=m)
    source = CostSource(cost=frame_costs(x, y))
    self_b, self_a = CostSource(cost=frame_costs(y, y)), CostSource(cost=frame_costs(x, x))
    b_only = refine_junctions([p, q], source, radius=15, max_gap=10, self_b=self_b,
                              splice_w=1.0, splice_width=2)
    assert int(b_only[1].path[0, 1]) == cut + onset  # B alone: the onset looks like a cut
    out = refine_junctions([p, q], source, radius=15, max_gap=10, self_b=self_b,
                           self_a=self_a, splice_w=1.0, splice_width=2)
    assert int(out[0].path[-1, 1]) == cut - 1 and int(out[1].path[0, 1]) == cut
    assert int(out[1].path[0, 0]) == second


def test_refine_junctions_does_not_take_an_onset_of_b_after_the_cut_for_it():
    """The cut falls in the middle of similar material (B barely changes across it),
    and 6 frames later B has an onset that A does not have (another performance's
    accent). The local costs put the jump at the cut; the splice bonus alone pulls it to
    B's onset (B is discontinuous there, A is not); with the splice match, that split
    claims a jump across which A changes much less than B does, and the jump stays at
    the cut."""
    from core.structure import refine_junctions

    rng = np.random.default_rng(4)
    cut, second, onset = 80, 120, 6
    x = np.cumsum(0.3 * rng.standard_normal((160, 8)), axis=0) + 3 * rng.standard_normal(8)
    x[second:] += x[cut - 1] - x[second] + 0.3 * rng.standard_normal(8)  # near A's end
    change = rng.standard_normal(8)
    y = np.vstack([x[:cut], x[second:]]) + 0.05 * rng.standard_normal((cut + 40, 8))
    y[cut + onset:] += 3.0 * change  # B only
    m = len(y)
    p = _piece([(j, j) for j in range(cut + 4)], n_a=160, n_b=m)
    q = _piece([(second + j - cut, j) for j in range(cut + 5, m)], n_a=160, n_b=m)
    source = CostSource(cost=frame_costs(x, y))
    self_b, self_a = CostSource(cost=frame_costs(y, y)), CostSource(cost=frame_costs(x, x))
    plain = refine_junctions([p, q], source, radius=15, max_gap=10)
    assert int(plain[1].path[0, 1]) == cut
    splice = {"self_b": self_b, "self_a": self_a, "splice_w": 1.0, "splice_width": 2}
    bonus = refine_junctions([p, q], source, radius=15, max_gap=10, **splice)
    assert int(bonus[1].path[0, 1]) == cut + onset
    out = refine_junctions([p, q], source, radius=15, max_gap=10, match_w=1.0, **splice)
    assert int(out[0].path[-1, 1]) == cut - 1 and int(out[1].path[0, 1]) == cut
    assert int(out[0].path[-1, 0]) == cut - 1 and int(out[1].path[0, 0]) == second


def test_cross_costs_across_a_jump_and_across_a_frame():
    from core.structure.junctions import cross_costs, splice_costs

    rng = np.random.default_rng(4)
    x = rng.standard_normal((30, 5))
    own = CostSource(cost=frame_costs(x, x))
    full = frame_costs(x, x)
    got = cross_costs(own, [10, 20], [25, 3], 3)
    want = [sum(full[e - i, s + i] for i in range(3)) for e, s in ((10, 25), (20, 3))]
    assert got == pytest.approx(want)
    # by a recording's end, the pairs left count as their mean
    assert cross_costs(own, [10], [28], 3)[0] == pytest.approx(
        1.5 * (full[10, 28] + full[9, 29]))
    # across one frame: how discontinuous the recording is there
    ends = np.arange(5, 20)
    assert splice_costs(own, 5, 20, 3) == pytest.approx(cross_costs(own, ends, ends + 1, 3))


def test_refine_junctions_re_solves_a_junction_that_moved_centred_on_its_new_place():
    """The pieces put the junction 10 frames before the cut, and the second piece's
    path starts 8 A frames early and catches up only 10-17 frames after the cut. The
    window around the planned junction ends on that stray start, so its second piece
    lands early on A; re-solved once around the split it found (it moved more than
    ``settle`` frames), the window ends on the second piece's true line and the landing
    is right."""
    from core.structure import refine_junctions

    n, m, cut, second, early, off = 220, 120, 60, 130, 10, 8
    cost = np.ones((n, m))
    cols = np.arange(m)
    cost[cols[:cut], cols[:cut]] = 0.0
    cost[second + cols[cut:] - cut, cols[cut:]] = 0.0
    p = _piece([(j, j) for j in range(cut - early)], n_a=n, n_b=m)
    cells = []
    for j in range(cut - early, m):
        row = min(second + j - cut, second + j - cut - off + max(0, j - cut - 9))
        if cells and row - cells[-1][0] == 2:
            cells.append((row - 1, j - 1))
        cells.append((row, j))
    q = _piece(cells, n_a=n, n_b=m)
    source = CostSource(cost=cost)
    once = refine_junctions([p, q], source, radius=20, max_gap=0)
    assert int(once[1].path[0, 1]) == cut and int(once[1].path[0, 0]) < second
    out = refine_junctions([p, q], source, radius=20, max_gap=0, passes=2, settle=5)
    assert int(out[0].path[-1, 1]) == cut - 1 and int(out[0].path[-1, 0]) == cut - 1
    assert int(out[1].path[0, 1]) == cut and int(out[1].path[0, 0]) == second
    # a junction that moved by no more than ``settle`` frames is not re-solved
    kept = refine_junctions([p, q], source, radius=20, max_gap=0, passes=2, settle=early)
    assert np.array_equal(kept[1].path, once[1].path)


def test_refine_junctions_moves_a_split_just_after_an_onset_of_b_back_to_it():
    """The local costs put the jump 2 frames after the cut (A's continuation of the first
    piece matches B's first frames after it as well): a note that starts at the cut
    would go to the first piece. An onset of B at the cut, at most ``snap`` frames
    before the split, moves the split back to it; a farther onset does not."""
    from core.structure import refine_junctions

    cut, second, late = 80, 120, 2
    x, y, cost = _late_cut(11, cut, second, late)
    m = len(y)
    p = _piece([(j, j) for j in range(cut + 6)], n_a=160, n_b=m)
    q = _piece([(second + j - cut, j) for j in range(cut + 6, m)], n_a=160, n_b=m)
    source = CostSource(cost=cost)
    plain = refine_junctions([p, q], source, radius=15, max_gap=10)
    assert int(plain[1].path[0, 1]) == cut + late
    onsets = np.array([40.2, cut - 0.3, 110.0])  # B frames; the second rounds to the cut
    out = refine_junctions([p, q], source, radius=15, max_gap=10, onsets_b=onsets, snap=3)
    assert int(out[0].path[-1, 1]) == cut - 1 and int(out[1].path[0, 1]) == cut
    assert int(out[0].path[-1, 0]) == cut - 1 and int(out[1].path[0, 0]) == second
    for piece in out:
        assert np.all(np.diff(piece.path, axis=0) >= 0)
    # an onset farther back than ``snap`` frames, or no snap: the split stays
    for kwargs in ({"snap": 1}, {"snap": 0}):
        kept = refine_junctions([p, q], source, radius=15, max_gap=10, onsets_b=onsets,
                                **kwargs)
        assert np.array_equal(kept[1].path, plain[1].path)


# ------------------------------------------------------------------ jump kernel, pinned ends


def _jump_reference(cost, hold_w, skip_w, jump_p, null_c, null_p, start_cost, null_start):
    """Plain jump DP (the kernel's recurrence, one column at a time): the last column's
    totals and the null state's."""
    n, m = cost.shape
    acc = [cost[i, 0] + start_cost[i] for i in range(n)]
    null = null_c + null_start
    for j in range(1, m):
        best = min(acc)
        new = []
        for i in range(n):
            options = [acc[i] + hold_w, best + jump_p, null + null_p]
            if i >= 1:
                options.append(acc[i - 1])
            if i >= 2:
                options.append(acc[i - 2] + skip_w)
            new.append(min(options) + cost[i, j])
        null = min(null, best + null_p) + null_c
        acc = new
    return np.array(acc), null


def _run_jump_kernel(cost, start_cost, null_start, block=3, params=(0.5, 0.5, 4.0, 0.5, 2.0)):
    from core._kernels.jumps import jump_columns

    n, m = cost.shape
    acc, null = np.zeros(n), np.zeros(1)
    back = np.zeros((m, n), dtype=np.int8)
    jump_from = np.zeros(m, dtype=np.int64)
    null_back = np.zeros(m, dtype=np.int8)
    for c0 in range(0, m, block):
        jump_columns(np.ascontiguousarray(cost[:, c0:c0 + block]), c0, acc, null, back,
                     jump_from, null_back, *params, start_cost, null_start)
    return acc, null[0], back, jump_from, null_back


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (9, 1), (2, 30), (30, 4), (17, 23)])
def test_jump_columns_matches_a_plain_dp_with_start_costs(shape):
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    for _ in range(3):
        cost = rng.standard_normal(shape)
        start_cost = rng.uniform(0, 3, shape[0])
        null_start = float(rng.uniform(0, 3))
        acc, null, *_ = _run_jump_kernel(cost, start_cost, null_start)
        ref_acc, ref_null = _jump_reference(cost, 0.5, 0.5, 4.0, 0.5, 2.0, start_cost,
                                            null_start)
        np.testing.assert_allclose(acc, ref_acc)
        assert null == pytest.approx(ref_null)


def test_jump_columns_pins_the_start_to_a_start():
    from core._kernels.jumps import jump_backtrack

    # a perfect diagonal from row 10 and a slightly worse one from row 0
    n, m = 40, 20
    cost = np.ones((n, m))
    cost[np.arange(m) + 10, np.arange(m)] = 0.0
    cost[np.arange(m), np.arange(m)] = 0.1
    starts = {}
    for label, start_cost in (("free", np.zeros(n)),
                              ("pinned", np.minimum(0.5 * np.arange(n), 5.0))):
        acc, null, back, jump_from, null_back = _run_jump_kernel(cost, start_cost, 0.0)
        match = np.empty(m, dtype=np.int64)
        jump_backtrack(back, jump_from, null_back, int(np.argmin(acc)), match)
        starts[label] = int(match[0])
        assert np.all(np.diff(match) == 1)
    assert starts == {"free": 10, "pinned": 0}


def test_find_pieces_starts_a_moved_section_at_a_start():
    # A: s0 s1 s0' s2 s3, s0' a poor copy of s0 just before s2; B: s0 s2 s1 s3 (s1 and s2
    # swapped). Free ends start B on s0' (it runs on into s2: one jump saved); pinned ends
    # start it at A's start
    rng = np.random.default_rng(11)
    s = [np.cumsum(rng.standard_normal((30, 8)), axis=0) * 0.5 + 3 * rng.standard_normal(8)
         for _ in range(4)]
    copy = s[0] + 2.5 * rng.standard_normal(s[0].shape)
    x = np.vstack([s[0], s[1], copy, s[2], s[3]])
    y = np.vstack([s[0], s[2], s[1], s[3]])
    source = _cost_source(x, y)
    free, _, _ = find_pieces(source, 10.0, jump_s=1.5, min_piece_s=1.0, ends_w=0.0)
    pinned, _, _ = find_pieces(source, 10.0, jump_s=1.5, min_piece_s=1.0, ends_w=0.5)
    assert free[0][0] >= 55
    assert pinned[0][0] <= 2 and len(pinned) == 4
    assert [p[0] // 30 for p in pinned] == [0, 3, 1, 4]
    with pytest.raises(ValueError, match="ends_w"):
        find_pieces(source, 10.0, ends_w=-1.0)


def _slope_mean_reference(c, offsets):
    n, m = c.shape
    radius = offsets.shape[1] // 2
    out = np.full((n, m), np.inf)
    for i in range(n):
        for j in range(m):
            for line in offsets:
                vals = [c[i + d, j + k - radius] for k, d in enumerate(line)
                        if 0 <= i + d < n and 0 <= j + k - radius < m]
                if vals:
                    out[i, j] = min(out[i, j], float(np.mean(vals)))
    return out


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (9, 1), (2, 30), (30, 4), (17, 23)])
def test_slope_mean_matches_a_plain_reference(shape):
    from core._kernels.jumps import diagonal_mean, slope_mean

    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    cost = rng.random(shape)
    steps = np.arange(-3, 4)
    offsets = np.array([np.round(s * steps) for s in (0.5, 1.0, 2.0)], dtype=np.int64)
    out = np.empty(shape)
    slope_mean(cost, offsets, 0, 0, out)
    np.testing.assert_allclose(out, _slope_mean_reference(cost, offsets))
    # a part of the matrix (the wrapper's blocks), and the diagonal alone
    if shape[0] > 2 and shape[1] > 2:
        part = np.empty((shape[0] - 2, shape[1] - 2))
        slope_mean(cost, offsets, 1, 2, part)
        np.testing.assert_allclose(part, _slope_mean_reference(cost, offsets)[1:-1, 2:])
    diag, line = np.empty(shape), np.empty(shape)
    diagonal_mean(cost, 3, 0, 0, diag)
    slope_mean(cost, steps[None, :].astype(np.int64), 0, 0, line)
    np.testing.assert_allclose(line, diag)


def test_slope_mean_on_random_blocks_narrower_than_its_lines():
    """Blocks anywhere in the matrix, lines wider than the block (the slice adds must
    skip a line that misses every column) and missing costs, against the reference."""
    from core._kernels.jumps import slope_mean

    rng = np.random.default_rng(17)
    for _ in range(200):
        n, m = (int(v) for v in rng.integers(1, 25, 2))
        radius = int(rng.integers(0, 7))
        steps = np.arange(-radius, radius + 1)
        slopes = 2.0 ** (np.arange(-3, 4)[: int(rng.integers(1, 8))] / 4)
        offsets = np.array([np.round(s * steps) for s in slopes], dtype=np.int64)
        cost = rng.random((n, m))
        cost[rng.random((n, m)) < 0.1] = np.nan
        i_off, j_off = int(rng.integers(0, n)), int(rng.integers(0, m))
        h, w = int(rng.integers(1, n - i_off + 1)), int(rng.integers(1, m - j_off + 1))
        out = np.empty((h, w))
        slope_mean(cost, offsets, i_off, j_off, out)
        expected = _slope_mean_reference(cost, offsets)[i_off:i_off + h, j_off:j_off + w]
        np.testing.assert_allclose(out, expected)


def _moved_at_another_tempo(seed, tempo=0.7):
    """A: 240 frames of unrelated features; B: A's 60-frame sections in the order 0 2 1
    3, each played at ``tempo`` (B frame k of a section shows A frame ``s + k * tempo``),
    with as much noise as signal. Returns x, y and each section's (A start, B start)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((240, 12))
    ys, starts, offset = [], [], 0
    for s, e in [(0, 60), (120, 180), (60, 120), (180, 240)]:
        rows = np.minimum(s + np.round(tempo * np.arange(int((e - s) / tempo))), e - 1)
        ys.append(x[rows.astype(np.int64)] + rng.standard_normal((len(rows), 12)))
        starts.append((s, offset))
        offset += len(rows)
    return x, np.vstack(ys), starts


def test_find_pieces_finds_a_move_at_another_tempo_on_lines_of_several_slopes():
    # the diagonal mean blurs a path of slope 0.7 with its neighbours: the moved
    # sections cost little more elsewhere, and most seeds lose a jump or two
    from core.structure.align import _SLOPES, _DiagonalMean

    slopes = _SLOPES["speech"]
    found = {"diagonal": 0, "slopes": 0}
    for seed in range(8):
        x, y, starts = _moved_at_another_tempo(seed)
        source = _cost_source(x, y)
        for label, lines in (("diagonal", (1.0,)), ("slopes", slopes)):
            pieces, _, _ = find_pieces(_DiagonalMean(source, 5, lines), 10.0,
                                       min_piece_s=1.0)
            found[label] += len(pieces) == 4 and all(
                abs(p[0] - s) <= 3 and abs(p[2] - o) <= 3
                for p, (s, o) in zip(pieces, starts, strict=True))
    assert found["slopes"] == 8
    assert found["diagonal"] <= 4


def _melody_section(notes, sr=8000, sec=4.0):
    t = np.arange(int(sr * sec / len(notes))) / sr
    return np.concatenate([0.3 * np.sin(2 * np.pi * f * t) * np.exp(-3 * t) for f in notes])


@pytest.fixture(scope="module")
def moved_pair_with_a_copy(tmp_path_factory):
    """A: m0 m1 m0' m2 m3 (4 s sections; m0' is m0 with 3 of its 8 notes changed); B: m0
    m2 m1 m3 (m1 and m2 swapped: junctions at B 4, 8 and 12 s)."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    mel = [f * 2 ** (rng.integers(0, 12, 8) / 12) for f in (220, 330, 262, 392)]
    copy = mel[0].copy()
    changed = rng.choice(8, 3, replace=False)
    copy[changed] = 200 * 2 ** (rng.integers(0, 12, 3) / 12)
    a = np.concatenate([_melody_section(m) for m in (mel[0], mel[1], copy, mel[2], mel[3])])
    b = np.concatenate([_melody_section(m) for m in (mel[0], mel[2], mel[1], mel[3])])
    folder = tmp_path_factory.mktemp("moved")
    pa, pb = folder / "a.wav", folder / "b.wav"
    sf.write(pa, a, 8000)
    sf.write(pb, b, 8000)
    return pa, pb


def test_auto_places_every_junction_of_a_move_within_half_a_second(moved_pair_with_a_copy):
    # with free ends the path started B on m0' (it runs on into m2: a jump saved) and the
    # first junction was lost
    pa, pb = moved_pair_with_a_copy
    al = core.align_files(pa, pb, structure="auto")
    assert isinstance(al, PiecewiseAlignment)
    truth = [(4.0, 4.0, 12.0), (8.0, 16.0, 4.0), (12.0, 8.0, 16.0)]
    got = [(j["b_from_s"], j["a_from_s"], j["a_to_s"]) for j in al.jumps]
    assert len(got) == 3
    for (b, a_from, a_to), (gb, ga_from, ga_to) in zip(truth, got, strict=True):
        assert gb == pytest.approx(b, abs=0.5)
        assert ga_from == pytest.approx(a_from, abs=0.5)
        assert ga_to == pytest.approx(a_to, abs=0.5)


def test_junctions_are_refined_on_the_global_weights(moved_pair_with_a_copy, monkeypatch):
    import core.structure.align as structure_align

    seen = []
    original = structure_align.refine_junctions

    def spy(pieces, source, *args, **kwargs):
        seen.append(list(source.weights))
        return original(pieces, source, *args, **kwargs)

    monkeypatch.setattr(structure_align, "refine_junctions", spy)
    pa, pb = moved_pair_with_a_copy
    al = core.align_files(pa, pb, structure="pieces")
    weights = al.diagnostics["features"]
    assert seen and seen[0] == pytest.approx([f["weight"] for f in weights])
    # the music plan's local stages weigh the terms otherwise
    assert [f["weight"] for f in weights] != [f["local_weight"] for f in weights]


def test_the_jump_price_is_the_materials_unless_given(structured_pair, monkeypatch):
    # speech pays 1.0 s for a jump, other material 1.5 s (issue 17, results.md); an
    # explicit jump_s wins
    import core.structure.align as structure_align

    assert structure_align._JUMP_S_OF["speech"] < structure_align._JUMP_S
    seen = []
    original = structure_align.find_pieces

    def spy(*args, **kwargs):
        seen.append(kwargs["jump_s"])
        return original(*args, **kwargs)

    monkeypatch.setattr(structure_align, "find_pieces", spy)
    monkeypatch.setattr(structure_align, "_JUMP_S_OF", {"music": 0.7})
    pa, pb, _ = structured_pair
    ra, rb = core.open_recording(pa), core.open_recording(pb)
    al = structure_align.align_structure(ra, rb, structure="pieces")
    assert al.diagnostics["material"] == "music"
    assert seen == [0.7] and al.params["jump_s"] == 0.7
    al = structure_align.align_structure(ra, rb, structure="pieces", jump_s=2.0)
    assert seen[-1] == 2.0 and al.params["jump_s"] == 2.0
    with pytest.raises(ValueError, match="jump_s"):
        structure_align.align_structure(ra, rb, structure="pieces", jump_s=0.0)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (9, 1), (2, 30), (30, 4), (17, 23)])
def test_column_centred_costs_match_a_plain_reference(shape):
    from core.structure.align import _ColumnCentred

    rng = np.random.default_rng(shape[0] * 31 + shape[1])
    cost = rng.random(shape) + 3 * rng.random(shape[1])[None, :]
    centred = _ColumnCentred(CostSource(cost=cost))
    medians = np.median(cost, axis=0)  # every row of A: it has no more than 400
    expected = cost - medians[None, :] + np.median(medians)
    n, m = shape
    np.testing.assert_allclose(centred.costs(0, n, 0, m), expected)
    # a block of the matrix (the DP's columns, the monotone path's rows)
    r0, c0 = n // 3, m // 2
    np.testing.assert_allclose(centred.costs(r0, n, c0, m), expected[r0:, c0:])


def test_column_centred_costs_on_sampled_rows_remove_a_column_offset():
    """A longer A: the medians come from rows spread over it; a cost that is a row
    pattern plus a per-column offset becomes the same in every column."""
    from core.structure.align import _ColumnCentred

    rng = np.random.default_rng(5)
    rows, offsets = rng.random(1000), 5 * rng.random(60)
    centred = _ColumnCentred(CostSource(cost=rows[:, None] + offsets[None, :]), rows=100)
    out = centred.costs(0, 1000, 0, 60)
    np.testing.assert_allclose(out - out[:, :1], 0.0, atol=1e-12)
    np.testing.assert_allclose(out[:, 0] - rows, out[0, 0] - rows[0], atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (9, 1), (2, 30), (30, 4), (17, 23)])
def test_dear_rows_lowered_match_a_plain_reference(shape):
    from core.structure.align import _DearRowsLowered

    rng = np.random.default_rng(shape[0] * 17 + shape[1])
    cost = rng.random(shape) + 3 * rng.random(shape[0])[:, None]
    lowered = _DearRowsLowered(CostSource(cost=cost), 0.8)
    medians = np.median(cost, axis=1)  # every column of B: it has no more than 400
    limit = np.quantile(medians, 0.8)
    expected = cost - np.maximum(0.0, medians - limit)[:, None]
    n, m = shape
    np.testing.assert_allclose(lowered.costs(0, n, 0, m), expected)
    np.testing.assert_allclose(lowered.costs(n // 2, n, m // 3, m), expected[n // 2:, m // 3:])
    # the rows at or below the quantile keep their costs
    keep = medians <= limit
    np.testing.assert_array_equal(lowered.costs(0, n, 0, m)[keep], cost[keep])
    # quantile 1: nothing is lowered
    np.testing.assert_allclose(_DearRowsLowered(CostSource(cost=cost), 1.0).costs(0, n, 0, m),
                               cost)


def test_dear_rows_lowered_on_sampled_columns_remove_a_row_offset_above_the_quantile():
    """A longer B: the medians come from columns spread over it; rows made dearer than
    the others by an offset come down to the quantile's level, the others stay."""
    from core.structure.align import _DearRowsLowered

    rng = np.random.default_rng(6)
    cols = rng.random(1000)
    offsets = np.zeros(50)
    offsets[[3, 17, 40]] = [2.0, 5.0, 9.0]
    cost = cols[None, :] + offsets[:, None]
    lowered = _DearRowsLowered(CostSource(cost=cost), 0.8, columns=100)
    np.testing.assert_allclose(lowered.costs(0, 50, 0, 1000), np.tile(cols, (50, 1)),
                               atol=1e-12)


def test_find_pieces_lowers_a_dear_section_of_a_so_that_the_jump_lands_there():
    # B drops A 100-150; A's frames 150-175, where B lands after the cut, cost a typical
    # cost more against every B frame (A's own loud attacks on an onset term): on the
    # column-centred costs the junction slides 7 frames, B going on through A's dropped
    # section to avoid them; with A's dear rows lowered it lands on the cut
    from core.structure.align import _ColumnCentred, _DearRowsLowered

    for seed in range(8):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((200, 8))
        y = x[np.r_[0:100, 150:200]] + 0.5 * rng.standard_normal((150, 8))
        cost = frame_costs(x, y)
        cost[150:175, :] += np.median(cost)
        source = _ColumnCentred(CostSource(cost=cost))
        truth = [[0, 99, 0, 99], [150, 199, 100, 149]]
        assert find_pieces(source, 10.0)[0] != truth
        assert find_pieces(_DearRowsLowered(source, 0.8), 10.0)[0] == truth


def test_dp_costs_lower_a_dear_stretch_of_a_for_music_only():
    from core.structure.align import _dp_costs

    rng = np.random.default_rng(3)
    x = rng.standard_normal((120, 6))
    y = x + 0.1 * rng.standard_normal((120, 6))
    x[50:60] *= 4  # loud frames of A: dear against every B frame (euclidean)
    mono = _piece(np.c_[np.arange(120), np.arange(120)], 120, 120)
    medians = {}
    for material in ("music", "speech"):
        smoothed = _dp_costs(CostSource(x=x, y=y), (10.0, 10.0), material, mono)[2]
        medians[material] = np.median(smoothed.costs(0, 120, 0, 120), axis=1)
    speech, music = medians["speech"], medians["music"]
    assert np.all(speech[52:58] > speech[:40].max() + 1.0)  # as the features make them
    assert np.all(music[52:58] <= np.quantile(music, 0.8) + 0.01)  # lowered to it


def test_find_pieces_on_column_centred_costs_keeps_a_section_after_a_loud_attack():
    # B drops A 100-150; its second section costs a typical cost more against every A
    # frame (an onset term's euclidean distance where B's notes start loudly), so on the
    # plain costs it matches nothing better than null and the jump is lost
    from core.structure.align import _ColumnCentred

    for seed in range(8):
        rng = np.random.default_rng(seed)
        x = np.cumsum(rng.standard_normal((200, 8)), axis=0) * 0.3
        x += 0.3 * rng.standard_normal((200, 8))
        y = x[np.r_[0:100, 150:200]] + 0.3 * rng.standard_normal((150, 8))
        cost = frame_costs(x, y)
        cost[:, 100:] += np.median(cost)
        source = CostSource(cost=cost)
        assert find_pieces(source, 10.0)[0] == [[0, 99, 0, 99]]
        assert find_pieces(_ColumnCentred(source), 10.0)[0] == [[0, 99, 0, 99],
                                                                 [150, 199, 100, 149]]


def test_warm_up_compiles_every_structure_kernel():
    """The window's background warm-up (inspector.app.WARM_UP) includes it: a first "Run
    with structure" compiled these kernels itself, about 3 s on an empty numba cache."""
    from numba.core.registry import CPUDispatcher

    import core._kernels.jumps as kernels
    from core.structure import warm_up

    warm_up()
    dispatchers = {name: f for name, f in vars(kernels).items()
                   if isinstance(f, CPUDispatcher)}
    assert len(dispatchers) >= 6
    assert {name for name, f in dispatchers.items() if not f.signatures} == set()


def _monotone(a_of_b, n_b=600, rate=10.0):
    """A monotone path at ``rate`` frames per second through A frame ``a_of_b(j)`` for
    each B frame ``j``."""
    j = np.arange(n_b)
    i = np.maximum.accumulate(np.round(a_of_b(j)).astype(np.int64))
    return Alignment(np.column_stack([i, j]), rate, rate, n_a=int(i[-1]) + 1, n_b=n_b,
                     method="dtw")


def test_the_jump_dp_smooths_along_the_tempo_of_a_pair_at_another_tempo(monkeypatch):
    """A copy at 0.5x the tempo: its costs were averaged along the diagonal, the right
    path looked dear, and auto switched to pieces (unseen.py copies of k545 at 0.5x and
    0.6x: 6.9 and 5.0 ms monotone, 4830 and 4032 ms with auto). The slope follows the
    path's tempo where its overall and its median slopes agree and it is far from 1;
    a path bent by a repeat, or a tempo near 1, keeps the diagonal."""
    from core.structure import align

    half = _monotone(lambda j: 0.5 * j)  # B twice as slow: half an A frame per B frame
    assert align._path_tempo(half, 10.0, 10.0) == pytest.approx(0.5, rel=0.02)
    assert align._path_tempo(half, 10.0, 20.0) == pytest.approx(0.25, rel=0.02)
    assert align._path_tempo(_monotone(lambda j: 0.85 * j), 10.0, 10.0) == 1.0
    # a repeat of 15 s in 60 s: A holds while B goes on; overall 0.75, median 1
    repeat = _monotone(lambda j: np.where(j < 200, j, np.where(j < 350, 200, j - 150)))
    assert align._path_tempo(repeat, 10.0, 10.0) == 1.0
    # a repeat at half tempo: the median (0.5) and the overall slope (0.375) disagree
    slow_repeat = _monotone(lambda j: 0.5 * np.where(j < 200, j, np.where(j < 350, 200,
                                                                          j - 150)))
    assert align._path_tempo(slow_repeat, 10.0, 10.0) == 1.0
    seen = []
    real = align._DiagonalMean

    def spy(source, radius, slopes=(1.0,)):
        seen.append(tuple(slopes))
        return real(source, radius, slopes)

    monkeypatch.setattr(align, "_DiagonalMean", spy)
    x = np.random.default_rng(0).random((300, 4))
    y = np.repeat(x, 2, axis=0)
    source = CostSource(x=x, y=y, metric="euclidean")
    path = np.column_stack([np.arange(600) // 2, np.arange(600)])
    mono = Alignment(path, 10.0, 10.0, n_a=300, n_b=600, method="dtw")
    align._dp_costs(source, (10.0, 10.0), "music", mono)
    assert seen[-1] == pytest.approx((0.5,), rel=0.02)
