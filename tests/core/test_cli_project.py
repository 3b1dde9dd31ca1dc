"""``align A B -o OUT.alignproj`` and ``convert PROJECT.alignproj -o OUT.csv``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from core import cli, formats
from core import project_file as pf

SR = 8000


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cliproj")
    out = []
    for name, note_s in (("a.wav", 0.3), ("b.wav", 0.45)):
        t = np.arange(int(note_s * SR)) / SR
        notes = [np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t) * np.exp(-4 * t)
                 for p in (60, 64, 67, 72, 71, 67, 65, 62)]
        sf.write(folder / name, np.concatenate(notes).astype(np.float32) * 0.5, SR)
        out.append(folder / name)
    return out


@pytest.fixture(scope="module")
def project(pair, tmp_path_factory):
    out = tmp_path_factory.mktemp("cliproj_out") / "out.alignproj"
    assert cli.main(["align", str(pair[0]), str(pair[1]), "-o", str(out), "-q"]) == 0
    return out


def test_align_writes_a_project_with_recordings_and_recipe(project, pair):
    data = json.loads(project.read_text())
    assert data["format"] == pf.FORMAT_NAME and data["version"] == pf.FORMAT_VERSION
    assert data["media"]["a"]["path"] == str(pair[0])
    assert data["media"]["b"]["size"] == pair[1].stat().st_size
    q, loaded = pf.load_project(project)
    assert loaded.problems == []
    assert q.recording("a").content_hash is not None
    res = q.result(q.active_id)
    assert res.recipe.method == cli.registry.DEFAULT_METHOD
    assert res.recipe.engine_version


def test_convert_exports_the_active_result(project, tmp_path, pair):
    out = tmp_path / "out.csv"
    assert cli.main(["convert", str(project), "-o", str(out)]) == 0
    direct = tmp_path / "direct.csv"
    assert cli.main(["align", str(pair[0]), str(pair[1]), "-o", str(direct), "-q"]) == 0
    assert out.read_text() == direct.read_text()
    al = formats.read_alignment(str(out))
    assert np.array_equal(al.path, pf.read_active_alignment(project).path)


@pytest.mark.parametrize("damage, message", [
    (lambda t: t[:200], "is truncated"),
    (lambda t: b"\x89PNG garbage", "not a project file"),
    (lambda t: t.replace(b'"version":1', b'"version":2', 1), "newer Alignment Inspector"),
])
def test_convert_of_a_bad_project_exits_2_and_changes_nothing(project, tmp_path, capsys,
                                                              damage, message):
    bad = tmp_path / "bad.alignproj"
    bad.write_bytes(damage(project.read_bytes()))
    before = bad.read_bytes()
    assert cli.main(["convert", str(bad), "-o", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and message in err
    assert bad.read_bytes() == before
    assert not (tmp_path / "x.csv").exists()


def test_align_to_a_project_refuses_a_missing_folder_before_work(pair, tmp_path, capsys):
    out = tmp_path / "nope" / "p.alignproj"
    assert cli.main(["align", str(pair[0]), str(pair[1]), "-o", str(out), "-q"]) == 2
    assert "nope" in capsys.readouterr().err


def test_transfer_render_and_base_take_a_project_as_the_alignment(project, tmp_path, pair,
                                                                  capsys):
    """A path corrected in the window and saved needs no export first: transfer, render
    --alignment and align --base were refused ("cannot tell the alignment format from
    the extension .alignproj") while convert took the project."""
    active = pf.read_active_alignment(project)
    labels = tmp_path / "a.txt"
    labels.write_text("0.500000\t1.000000\tone\n1.500000\t1.500000\tpoint\n")
    out = tmp_path / "b.txt"
    assert cli.main(["transfer", str(project), str(labels), "-o", str(out)]) == 0
    rows = [line.split("\t") for line in out.read_text().splitlines()]
    assert np.allclose([float(r[0]) for r in rows], active.map_a_to_b([0.5, 1.5]), atol=1e-6)
    warped = tmp_path / "warped.wav"
    assert cli.main(["render", str(pair[0]), str(pair[1]), "-o", str(warped),
                     "--alignment", str(project), "-q"]) == 0
    assert sf.info(warped).frames == sf.info(pair[0]).frames
    anchors = tmp_path / "anchors.csv"
    anchors.write_text("time_a_s,time_b_s\n1.2,1.9\n")
    based = tmp_path / "based.csv"
    assert cli.main(["align", str(pair[0]), str(pair[1]), "--anchors", str(anchors),
                     "--base", str(project), "-o", str(based), "-q"]) == 0
    assert abs(float(formats.read_alignment(str(based)).map_a_to_b(1.2)) - 1.9) < 0.05
    assert capsys.readouterr().err == ""
