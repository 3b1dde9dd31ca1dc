"""The project file: round trip, compact paths, media lookup, bad files, recovery files."""

from __future__ import annotations

import json
import os
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from core import project_file as pf
from core.alignment import Alignment
from core.project import Project, RecordingInfo
from core.registry import FeatureSpec, Recipe


def _wav(path, seconds=2.0, rate=8000, seed=0):
    x = np.random.default_rng(seed).standard_normal(int(seconds * rate)) * 3000
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.astype("<i2").tobytes())
    return str(path)


def _walk(n_a, n_b, seed=0):
    """A monotone path from (0, 0) to (n_a - 1, n_b - 1) with random steps."""
    rng = np.random.default_rng(seed)
    i = j = 0
    rows = [(0, 0)]
    while i < n_a - 1 or j < n_b - 1:
        r = rng.random()
        if i < n_a - 1 and (j == n_b - 1 or r < 0.33):
            i += 1
        elif j < n_b - 1 and (i == n_a - 1 or r < 0.66):
            j += 1
        else:
            i += 1
            j += 1
        rows.append((i, j))
    return np.array(rows)


def _project(folder: Path) -> tuple[Project, int]:
    a = _wav(folder / "a.wav", 2.0)
    b = _wav(folder / "b.wav", 2.5, seed=1)
    p = Project()
    p.set_recording("a", RecordingInfo(a, "aa" * 32, "audio", 2.0, 8000.0, 16000, 1))
    p.set_recording("b", RecordingInfo(b, "bb" * 32, "audio", 2.5, 8000.0, 20000, 1))
    p.set_display_feature("a", FeatureSpec("logmel", 50.0))
    path = _walk(100, 125)
    conf = np.linspace(0.2, 1.0, len(path))
    al = Alignment(path, 50.0, 50.0, 100, 125, method="dtw", params={"band": 0.1},
                   distance=3.5, confidence=conf, diagnostics={"iters": np.int64(3),
                                                               "hist": [1.0, float("nan")]})
    recipe = Recipe("dtw", {"band_s": 0.5}, (FeatureSpec("chroma", 50.0),),
                    (FeatureSpec("chroma", 50.0),))
    first = p.add_result(al, recipe, label="dtw one",
                         image=(FeatureSpec("chroma", 50.0), FeatureSpec("chroma", 50.0),
                                "cosine"))
    second = p.add_result(Alignment(_walk(100, 125, seed=3), 50.0, 50.0, 100, 125,
                                    method="ctw"), Recipe("ctw", {}), label="ctw")
    p.set_compared(first)
    edited = Alignment(np.vstack([path[:50], path[-1:]]), 50.0, 50.0, 100, 125,
                       method="manual")
    p.apply_edit(second, edited, "straighten")
    p.add_anchor(0.5, 0.7)
    p.add_anchor(1.5, 2.0)
    p.move_cursor_to(1.25, 1.5)
    p.set_view("matrix", {"a": (0.0, 1.0), "b": (0.5, 2.0)})
    return p, second


def test_round_trip_keeps_results_anchors_view_cursor_and_undo(tmp_path):
    p, second = _project(tmp_path)
    out = tmp_path / "p.alignproj"
    pf.save_project(p, out)
    q, loaded = pf.load_project(out)
    assert loaded.problems == []
    assert q.result_ids() == p.result_ids()
    for rid in p.result_ids():
        ra, rb = p.result(rid), q.result(rid)
        assert np.array_equal(ra.alignment.path, rb.alignment.path)
        assert ra.recipe == rb.recipe
        assert ra.label == rb.label and dict(ra.inputs) == dict(rb.inputs)
        assert ra.image == rb.image
        assert ra.alignment.method == rb.alignment.method
        assert dict(ra.alignment.params) == dict(rb.alignment.params)
    al = q.alignment(q.result_ids()[0])
    assert al.distance == 3.5
    assert np.abs(al.confidence - p.alignment(1).confidence).max() <= 0.5 / 254 + 1e-12
    assert isinstance(al.diagnostics["iters"], np.int64)
    assert np.isnan(al.diagnostics["hist"][1])
    assert q.anchors == p.anchors
    assert q.cursor == p.cursor
    assert q.view == p.view and isinstance(q.view["matrix"]["a"], tuple)
    assert (q.active_id, q.compared_id, q.next_id) == (p.active_id, p.compared_id, p.next_id)
    assert q.display_feature("a") == FeatureSpec("logmel", 50.0)
    assert q.recording("a") == p.recording("a")
    # undo still works after reopening: the edit goes back
    before = p.undo()
    assert q.undo() == before == "straighten"
    assert np.array_equal(q.alignment(second).path, p.alignment(second).path)
    assert not q.can_undo()


def test_any_plain_data_of_the_snapshot_round_trips():
    data = {"constraints": [{"kind": "region", "a": (1.0, 2.0), "weight": np.float32(0.5)}],
            "history": [(1, "edit", np.arange(12).reshape(6, 2))],
            "odd_keys": {1: "one", (2, 3): "pair", "$x": 4}, "inf": float("-inf"),
            "bools": [True, False, None], "matrix": np.eye(3, dtype=np.float32)}
    arrays = {}
    text = json.dumps(pf.encode_state(data, arrays), allow_nan=False)
    back = pf.decode_state(json.loads(text), arrays)
    assert back["constraints"][0]["a"] == (1.0, 2.0)
    assert back["constraints"][0]["weight"] == np.float32(0.5)
    assert isinstance(back["constraints"][0]["weight"], np.float32)
    assert np.array_equal(back["history"][0][2], np.arange(12).reshape(6, 2))
    assert back["odd_keys"] == {1: "one", (2, 3): "pair", "$x": 4}
    assert back["inf"] == float("-inf") and back["bools"] == [True, False, None]
    assert back["matrix"].dtype == np.float32 and np.array_equal(back["matrix"], np.eye(3))
    with pytest.raises(TypeError, match="cannot be saved"):
        pf.encode_state({"x": object()}, {})


@pytest.mark.parametrize("a", [
    np.arange(10), np.zeros((0, 2), dtype=np.int64), np.array([[5, 7]]),
    np.array([[0, 0], [2, 1], [2, 5]]), np.random.default_rng(0).standard_normal((7, 3)),
    np.array([[1, 0], [0, 1]], dtype=np.int32), np.array([True, False]),
    np.array([0.5, np.nan, 1.0]), np.arange(6, dtype=">i4")])
def test_array_codecs_are_lossless(a):
    back = pf._decode_array(pf._pack(pf._encode_array(a)))
    assert back.shape == a.shape and back.dtype == a.dtype.newbyteorder("<")
    assert np.array_equal(back, a, equal_nan=a.dtype.kind == "f")


def _tempo_path(n_a, seed=0):
    """A path following a slowly changing tempo (as a performance does)."""
    rng = np.random.default_rng(seed)
    tempo = 1.0 + 0.2 * np.sin(np.arange(n_a) / 3000.0) + 0.02 * rng.standard_normal(n_a)
    j = np.floor(np.cumsum(tempo)).astype(np.int64)
    j -= j[0]
    rows = []
    for i in range(n_a):  # fill jumps of B with vertical steps
        start = rows[-1][1] + 1 if rows else 0
        for jj in range(start, j[i]):
            rows.append((i, jj))
        rows.append((i, j[i]))
    return np.array(rows)


@pytest.mark.parametrize("make, limit", [
    (lambda: _walk(360_000, 370_000, seed=1), 250_000),  # random steps: the worst case
    (lambda: _tempo_path(360_000), 120_000)])
def test_a_one_hour_path_is_small(make, limit):
    path = make()  # one hour at 100 Hz
    arrays = {}
    pf.encode_state({"path": path}, arrays)
    size = len(json.dumps(arrays))
    assert size < limit, size
    back = pf.decode_state({"$array": next(iter(arrays))}, arrays)
    assert np.array_equal(back, path)


def test_a_moved_folder_finds_its_media_by_relative_path(tmp_path):
    (tmp_path / "one").mkdir()
    p, _ = _project(tmp_path / "one")
    pf.save_project(p, tmp_path / "one" / "p.alignproj")
    shutil.move(tmp_path / "one", tmp_path / "two")
    q, loaded = pf.load_project(tmp_path / "two" / "p.alignproj")
    assert loaded.problems == []
    assert q.recording("a").path == str(tmp_path / "two" / "a.wav")
    assert q.recording("a").key == p.recording("a").key  # results keep their inputs


def test_media_found_next_to_the_last_located_file(tmp_path):
    (tmp_path / "proj").mkdir()
    (tmp_path / "elsewhere").mkdir()
    p, _ = _project(tmp_path)
    pf.save_project(p, tmp_path / "proj" / "p.alignproj")
    shutil.move(tmp_path / "a.wav", tmp_path / "elsewhere" / "a.wav")
    shutil.move(tmp_path / "b.wav", tmp_path / "elsewhere" / "b.wav")
    loaded = pf.read_project(tmp_path / "proj" / "p.alignproj",
                             search_dirs=[tmp_path / "elsewhere"])
    assert loaded.problems == []
    assert loaded.snapshot["recordings"]["b"]["path"] == str(tmp_path / "elsewhere" / "b.wav")


def _unchanged(path):
    before = Path(path).read_bytes()

    class Check:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            assert Path(path).read_bytes() == before

    return Check()


def _saved(tmp_path) -> Path:
    p, _ = _project(tmp_path)
    out = tmp_path / "p.alignproj"
    pf.save_project(p, out)
    return out


@pytest.mark.parametrize("damage, message", [
    (lambda t: t[: len(t) // 2], "is truncated"),
    (lambda t: b"", "is empty"),
    (lambda t: b"\x00\x01garbage\xff" * 50, "not a project file"),
    (lambda t: b"hello world", "not a project file"),
    (lambda t: b'{"a": 1}', "is not an Alignment Inspector project"),
    (lambda t: t.replace(b'"version":1', b'"version":7', 1), "newer Alignment Inspector"),
    (lambda t: t.replace(b'"state":{', b'"state":{"x', 1), "damaged"),
])
def test_bad_project_files_name_the_file_and_the_problem(tmp_path, damage, message):
    out = _saved(tmp_path)
    out.write_bytes(damage(out.read_bytes()))
    with _unchanged(out), pytest.raises(pf.ProjectError) as info:
        pf.load_project(out)
    assert str(out) in str(info.value) and message in str(info.value)


def test_missing_and_changed_media_are_named_and_the_rest_opens(tmp_path):
    out = _saved(tmp_path)
    os.remove(tmp_path / "a.wav")
    _wav(tmp_path / "b.wav", 2.5, seed=9)  # same size, other content
    with _unchanged(out):
        q, loaded = pf.load_project(out)
    assert any("a.wav not found" in m for m in loaded.problems)
    assert any("b.wav changed" in m and "hash differs" in m for m in loaded.problems)
    assert q.recording("a") is None and q.recording("b") is None
    assert len(q.result_ids()) == 2  # results still there
    assert set(loaded.missing) == {"a", "b"}
    # saved again, the missing entries are kept
    again = tmp_path / "again.alignproj"
    pf.save_project(q, again, media=loaded.missing)
    assert json.loads(again.read_text())["media"]["a"]["path"] == str(tmp_path / "a.wav")


def test_a_result_whose_path_points_outside_its_recordings_is_left_out(tmp_path):
    p, _ = _project(tmp_path)
    long = Alignment(_walk(300, 300), 50.0, 50.0, method="dtw")  # 6 s on a 2 s recording
    p.add_result(long, Recipe("dtw", {}), label="too long")
    out = tmp_path / "p.alignproj"
    pf.save_project(p, out)
    with _unchanged(out):
        q, loaded = pf.load_project(out)
    assert any("too long" in m and "outside recording A" in m for m in loaded.problems)
    assert len(q.result_ids()) == 2


def test_recovery_files_rotate_three_backups(tmp_path):
    p, _ = _project(tmp_path)
    rec = pf.recovery_path(tmp_path / "p.alignproj")
    for k in range(5):
        p.move_cursor_to(k, k)
        pf.write_recovery(p, rec, project_path=tmp_path / "p.alignproj", edits=k)
    files = pf.recovery_files(rec)
    assert [f.name for f in files] == ["p.alignproj.recovery", "p.alignproj.recovery.1",
                                      "p.alignproj.recovery.2", "p.alignproj.recovery.3"]
    loaded = pf.read_recovery(rec)
    assert loaded.snapshot["cursor"] == [4.0, 4.0]
    assert loaded.header["recovery"]["edits"] == 4
    rec.write_bytes(b"{broken")  # the newest is damaged: the backup before it is used
    assert pf.read_recovery(rec).snapshot["cursor"] == [3.0, 3.0]
    pf.remove_recovery(rec)
    assert pf.recovery_files(rec) == []


def test_run_length_coding_round_trips_short_and_huge_runs():
    rng = np.random.default_rng(5)
    for _ in range(50):
        n = int(rng.integers(1, 300))
        codes = np.repeat(rng.integers(1, 4, n).astype(np.uint8),
                          rng.integers(1, int(rng.choice([3, 200, 40_000])), n))
        assert np.array_equal(pf._unrle(pf._rle(codes)), codes)
    huge = np.repeat(np.array([1, 3, 2], np.uint8), [3_000_000, 1, 130])
    assert np.array_equal(pf._unrle(pf._rle(huge)), huge)
    with pytest.raises(ValueError):
        pf._unrle(pf._rle(huge)[:-1])
