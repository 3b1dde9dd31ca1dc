"""core.structure.order: the monotone result's order check (where the order seems to
differ), on small generated audio: found on a moved section, not on an unchanged pair,
the path never changed, the steps of the stretch doubtful; the batch's column."""

from __future__ import annotations

import numpy as np
import pytest

import core
from core import pipeline
from core.alignment import Alignment
from core.pipeline.confidence import doubtful_confidence
from core.structure import order
from core.synthetic.music import tone_sections

KEYS = [220, 330, 262, 392, 294, 440]
MOVED = [220, 262, 392, 330, 294, 440]


@pytest.fixture(scope="module")
def moved_pair(tmp_path_factory):
    """A: six sections of 10 s; B: the same with A's second section (10-20 s) moved
    after the fourth (B 30-40 s); C: A again."""
    import soundfile as sf

    folder = tmp_path_factory.mktemp("order")
    pa, pb, pc = folder / "a.wav", folder / "b.wav", folder / "c.wav"
    sf.write(pa, tone_sections(KEYS, sec=10.0), 8000)
    sf.write(pb, tone_sections(MOVED, sec=10.0), 8000)
    sf.write(pc, tone_sections(KEYS, sec=10.0), 8000)
    return pa, pb, pc


def _without_check(monkeypatch, pa, pb):
    monkeypatch.setattr(pipeline, "_with_order_check", lambda result, *_: result)
    return core.align_files(pa, pb)


def test_a_moved_section_is_found_and_its_steps_are_doubtful(moved_pair, monkeypatch):
    pa, pb, _ = moved_pair
    al = core.align_files(pa, pb)
    check = al.diagnostics["order_check"]
    assert check["jumps_found"] >= 1
    assert "Try Run with structure" in check["message"]
    # where B left A's order (B 10 s on) and the moved section (B 30-40 s) are in stretches
    stretches = [tuple(f["b_s"]) for f in check["stretches"]]
    assert any(b0 <= 15.0 <= b1 for b0, b1 in stretches), stretches
    assert any(b0 <= 38.0 <= b1 for b0, b1 in stretches), stretches
    plain = _without_check(monkeypatch, pa, pb)
    # the path is the same; only the confidence inside the stretches is lowered
    assert np.array_equal(al.path, plain.path)
    t = al.times_s
    inside = np.zeros(len(t), dtype=bool)
    for f in check["stretches"]:
        inside |= ((t[:, 1] >= f["b_s"][0]) & (t[:, 1] <= f["b_s"][1])) \
            | ((t[:, 0] >= f["a_s"][0]) & (t[:, 0] <= f["a_s"][1]))
    low = doubtful_confidence(al)
    assert np.all(al.confidence[inside] < low)
    np.testing.assert_array_equal(al.confidence[~inside], plain.confidence[~inside])
    assert np.mean(plain.confidence[inside] < low) < 0.5  # what the check adds
    assert np.mean(al.confidence < low) > np.mean(plain.confidence < low) + 0.1
    assert "order_check" not in plain.diagnostics


def test_an_unchanged_pair_has_no_order_check(moved_pair, monkeypatch):
    pa, _, pc = moved_pair
    al = core.align_files(pa, pc)
    assert "order_check" not in al.diagnostics
    plain = _without_check(monkeypatch, pa, pc)
    assert np.array_equal(al.path, plain.path)
    np.testing.assert_array_equal(al.confidence, plain.confidence)


def test_structure_auto_decides_alone(moved_pair):
    """``auto`` asks the same question itself: its result (pieces here) carries no order
    check of its monotone path."""
    pa, pb, _ = moved_pair
    al = core.align_files(pa, pb, structure="auto")
    assert "order_check" not in al.diagnostics
    assert al.diagnostics["structure"]["result"] == "pieces"


def test_high_cost_runs_by_hand():
    norm = np.array([0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1], dtype=float)
    assert order.high_cost_runs(norm, 1.0, smooth_s=1.0) == [(2, 5), (6, 7), (9, 11)]
    assert order.high_cost_runs(norm, 1.0, threshold=1.0, smooth_s=1.0) == []
    assert order.high_cost_runs(np.zeros(0), 10.0) == []
    # smoothed over 3 frames: frame 5 (between two high ones) rises to 2/3, the lone
    # frame 6 falls to 1/3
    assert order.high_cost_runs(norm, 1.0, smooth_s=3.0) == [(2, 6), (9, 11)]


def _straight(n=200, rate=10.0):
    i = np.arange(n)
    return Alignment(np.column_stack([i, i]), rate, rate, n_a=n, n_b=n, method="dtw",
                     confidence=np.full(n, 0.99))


def test_with_order_check_lowers_the_stretch_only_and_keeps_the_path():
    al = _straight()
    check = {"stretches": [{"b_s": [5.0, 7.0], "a_s": [5.0, 7.0]},
                           {"b_s": [12.0, 12.1], "a_s": [13.0, 15.0]}],
             "message": "m", "jumps_found": 1}
    out = order.with_order_check(al, check)
    t = al.times_s
    # on B or on A: a skipped section of A is crossed by few B frames
    inside = ((t[:, 1] >= 5.0) & (t[:, 1] <= 7.0)) | ((t[:, 1] >= 12.0) & (t[:, 1] <= 12.1)) \
        | ((t[:, 0] >= 13.0) & (t[:, 0] <= 15.0))
    assert np.array_equal(out.path, al.path)
    assert np.all(out.confidence[inside] < doubtful_confidence(out))
    assert np.all(out.confidence[~inside] == 0.99)
    assert out.diagnostics["order_check"] is check
    assert order.with_order_check(al, None) is al
    assert order.stretches_text(check) == ("B 5.0-7.0 s (A 5.0-7.0 s); "
                                           "B 12.0-12.1 s (A 13.0-15.0 s)")
    assert order.stretches_text(None) == ""


def test_the_batch_row_says_where_the_order_differs(moved_pair, tmp_path):
    from core.batch._task import order_differs_text
    from core.batch.summary import SummaryRow, read_summary, write_summary

    pa, pb, pc = moved_pair
    moved, same = core.align_files(pa, pb), core.align_files(pa, pc)
    text = order_differs_text(moved)
    assert text == order.stretches_text(moved.diagnostics["order_check"]) and text
    assert order_differs_text(same) == ""
    write_summary([SummaryRow("moved", "ok", order_differs=text), SummaryRow("same", "ok")],
                  tmp_path / "summary.csv")
    back = read_summary(tmp_path)
    assert [(r.id, r.order_differs) for r in back] == [("moved", text), ("same", "")]


def test_a_swap_of_a_and_b_exchanges_the_stretches_sides():
    check = {"stretches": [{"b_s": [20.0, 24.0], "a_s": [10.0, 11.0]},
                           {"b_s": [5.0, 6.0], "a_s": [30.0, 33.0]}],
             "message": "m", "jumps_found": 2}
    al = order.with_order_check(_straight(400), check).transposed()
    got = al.diagnostics["order_check"]
    assert got["stretches"] == [{"b_s": [10.0, 11.0], "a_s": [20.0, 24.0]},
                                {"b_s": [30.0, 33.0], "a_s": [5.0, 6.0]}]
    assert "B 10.0-11.0 s (A 20.0-24.0 s)" in got["message"] and got["jumps_found"] == 2
    back = al.transposed().diagnostics["order_check"]
    assert [f["b_s"] for f in back["stretches"]] == [[5.0, 6.0], [20.0, 24.0]]


def test_align_on_the_command_line_says_where_the_order_differs(moved_pair, tmp_path,
                                                                capsys):
    from core import cli

    pa, pb, pc = moved_pair
    assert cli.main(["align", str(pa), str(pb), "-o", str(tmp_path / "al.json")]) == 0
    err = capsys.readouterr().err
    assert "note: The order seems to differ near B" in err and "--structure auto" in err
    assert cli.main(["align", str(pa), str(pc), "-o", str(tmp_path / "same.json")]) == 0
    assert "order" not in capsys.readouterr().err


def test_the_pipeline_s_warm_up_compiles_the_order_check_s_kernels():
    """A first music, speech or video pair's order check compiles nothing after the
    warm-up (a fresh process: the kernels are compiled or loaded from the numba cache
    only when called)."""
    import os
    import subprocess
    import sys

    code = ("from core.pipeline import warm_up; warm_up(); from core._kernels import jumps; "
            "print(all(k.signatures for k in (jumps.diagonal_mean, jumps.slope_mean, "
            "jumps.jump_columns, jumps.jump_backtrack)))")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=root)
    assert out.stdout.strip().splitlines()[-1] == "True"


def test_an_anchor_edit_keeps_the_stretches_doubtful(moved_pair):
    """The window's anchor re-solve (core.constraints.recompute, exact) solves the
    segments next to an anchor again: their steps inside the order check's stretches
    stayed doubtful only where the base's confidence was kept, while the notice stayed."""
    from core.constraints import Anchor, Constraints, recompute

    pa, pb, _ = moved_pair
    al = core.align_files(pa, pb)
    check = al.diagnostics["order_check"]
    source = pipeline.cost_source(core.open_recording(pa), core.open_recording(pb), al)
    # an anchor inside the first stretch, where the monotone path holds A still
    b = float(np.mean(check["stretches"][0]["b_s"]))
    edited = recompute(al, Constraints((Anchor(float(al.map_b_to_a(b)) + 0.5, b),)),
                       source, mode="exact")
    assert edited.diagnostics["order_check"] == check
    t = edited.times_s
    inside = np.zeros(len(t), dtype=bool)
    for f in check["stretches"]:
        inside |= ((t[:, 1] >= f["b_s"][0]) & (t[:, 1] <= f["b_s"][1])) \
            | ((t[:, 0] >= f["a_s"][0]) & (t[:, 0] <= f["a_s"][1]))
    assert inside.any()
    assert np.all(edited.confidence[inside] < doubtful_confidence(edited))
