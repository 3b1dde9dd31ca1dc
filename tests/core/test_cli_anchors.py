"""``align --anchors FILE`` for every method, ``--base ALIGNMENT``, and hard anchors that
survive every re-analysis (other features, another method, other parameters)."""

import numpy as np
import pytest

from core import cli, registry
from core.constraints import Anchor, Constraints, recompute
from core.correcting import constrained_run, edit_source
from core.formats import read_alignment
from core.media import open_recording
from tests.core.media_factory import tone_sequence

SR = 16000


# the anchors are off the natural path (B is 1.4x slower: 1.0 s of A is about 1.4 s of B)
ANCHORS = ((0.6, 1.15), (1.3, 1.55))


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_anchors")
    melody = [60, 64, 67, 72, 71, 67, 65, 62]
    return (tone_sequence(folder / "a.wav", melody, 0.25),
            tone_sequence(folder / "b.wav", melody, 0.35))


def passes(al, ta, tb):
    d = np.abs(al.times_s - [ta, tb]) * [al.rate_a_hz, al.rate_b_hz]
    return bool(np.any(np.all(d <= 1.0 + 1e-9, axis=1)))


def write_anchors(path, rows, header="time_a_s,time_b_s"):
    path.write_text(header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


@pytest.mark.parametrize("method", ["default", "dtw", "ctw", "ot", "soft_dtw", "attention"])
def test_every_method_passes_through_the_anchors(pair, tmp_path, method):
    anchors = write_anchors(tmp_path / "anchors.csv", ANCHORS)
    out = tmp_path / "out.json"
    extra = ["--variant", "emd"] if method == "ot" else []
    code = cli.main(["align", str(pair[0]), str(pair[1]), "--method", method, *extra,
                     "--anchors", str(anchors), "-o", str(out), "-q"])
    assert code == 0
    al = read_alignment(out)
    for ta, tb in ANCHORS:
        assert passes(al, ta, tb), (method, ta, tb)


def test_soft_anchors_and_the_base_file(pair, tmp_path):
    base = tmp_path / "base.csv"
    assert cli.main(["align", str(pair[0]), str(pair[1]), "--method", "ot",
                     "--variant", "emd", "-o", str(base), "-q"]) == 0
    anchors = write_anchors(tmp_path / "a.csv", [(0.6, 1.15, 1), (1.3, 1.55, 0)],
                            "time_a_s,time_b_s,hard")
    out = tmp_path / "out.json"
    assert cli.main(["align", str(pair[0]), str(pair[1]), "--anchors", str(anchors),
                     "--base", str(base), "-o", str(out), "-q"]) == 0
    al = read_alignment(out)
    assert passes(al, 0.6, 1.15) and passes(al, 1.3, 1.55)
    assert al.params["base_method"] != "manual"


@pytest.mark.parametrize("args, message", [
    (["--base", "{base}"], "--base: needs --anchors"),
    (["--anchors", "{bad}"], "bad.csv, line 2"),
    (["--anchors", "{missing}"], "missing.csv"),
])
def test_bad_anchor_options_are_one_line(pair, tmp_path, capsys, args, message):
    bad = tmp_path / "bad.csv"
    bad.write_text("time_a_s,time_b_s\n1,x\n")
    names = {"base": str(pair[0]), "bad": str(bad), "missing": str(tmp_path / "missing.csv")}
    code = cli.main(["align", str(pair[0]), str(pair[1]), "-q", "-o", str(tmp_path / "o.csv")]
                    + [a.format(**names) for a in args])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_hard_anchors_survive_every_reanalysis(pair):
    """The same constraints on a new analysis (other features, another method, other
    parameters) put every hard anchor on the new path."""
    rec_a, rec_b = open_recording(str(pair[0])), open_recording(str(pair[1]))
    constraints = Constraints(tuple(Anchor(ta, tb) for ta, tb in ANCHORS))
    recipes = [
        registry.recipe("default"),
        registry.recipe("dtw", {"metric": "cosine"}, feature="chroma"),
        registry.recipe("dtw", {"step_pattern": "asymmetric"}, feature="mfcc", rate_hz=40),
        registry.recipe("ctw", {"max_iter": 5}, feature="mfcc"),
        registry.recipe("ot", {"variant": "emd"}, feature="chroma", rate_hz=25),
    ]
    for rec in recipes:
        al = constrained_run(rec, rec_a, rec_b, constraints)
        assert al.method == "manual", rec.method
        for a in constraints.anchors:
            assert passes(al, a.time_a_s, a.time_b_s), (rec, a)
    # the default result, re-solved exactly from its own terms
    run = registry.run(registry.recipe("default"), rec_a, rec_b)
    kw = edit_source(run.alignment, rec_a, rec_b, run.recipe)
    assert kw["mode"] == "exact"
    al = recompute(run.alignment, constraints, **kw)
    assert all(passes(al, a.time_a_s, a.time_b_s) for a in constraints.anchors)


def test_the_correction_is_refined_at_chord_changes_by_default(pair):
    """constrained_run (``align --anchors`` of a method without anchors of its own, and
    what ``--base`` calls) re-lays the path near hard anchors through the changes of both
    recordings by default; ``refine=False`` is the plain re-solve."""
    rec_a, rec_b = open_recording(str(pair[0])), open_recording(str(pair[1]))
    # at note changes: A's notes last 0.25 s, B's 0.35 s
    constraints = Constraints((Anchor(0.5, 0.7), Anchor(1.25, 1.75)))
    recipe = registry.recipe("default")
    al = constrained_run(recipe, rec_a, rec_b, constraints)
    report = al.diagnostics["anchor_refinement"]
    assert len(report) == 2 and all(r["lag_s"] is not None for r in report), report
    for a in constraints.anchors:
        assert passes(al, a.time_a_s, a.time_b_s)
    plain = constrained_run(recipe, rec_a, rec_b, constraints, refine=False)
    assert plain.diagnostics["anchor_refinement"] == []
    # soft anchors only: nothing to refine at
    soft = Constraints((Anchor(0.5, 0.7, hard=False),))
    assert constrained_run(recipe, rec_a, rec_b, soft).diagnostics["anchor_refinement"] == []
