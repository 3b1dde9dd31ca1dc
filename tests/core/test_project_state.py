"""The Qt-free project state: changes, swap, snapshot and restore."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core import registry
from core.alignment import Alignment
from core.project import Cache, Project, RecordingInfo

REPO = Path(__file__).resolve().parents[2]


def info(name, duration_s=4.0, kind="audio"):
    return RecordingInfo(f"/data/{name}.wav", f"hash-{name}", kind, duration_s, 22050.0,
                         n_frames=int(duration_s * 22050), n_channels=1)


def small_alignment(plan=False):
    path = np.array([[0, 0], [1, 0], [2, 1], [3, 2], [3, 3], [4, 4]])
    return Alignment(path, 10.0, 20.0, n_a=5, n_b=5, method="dtw",
                     params={"window": ("sakoe_chiba", 2), "metric": "euclidean"},
                     plan=np.eye(5) / 5 if plan else None,
                     confidence=np.linspace(0, 1, 6))


def test_changes_are_announced_in_order():
    p = Project()
    changes = []
    unsubscribe = p.subscribe(changes.append)
    p.set_recording("a", info("a"))
    p.set_recording("b", info("b"))
    rid = p.add_result(small_alignment(), registry.recipe("default"), label="first")
    p.add_anchor(1.0, 2.0)
    p.move_cursor("a", 0.2)
    whats = [c.what for c in changes]
    assert whats[:4] == ["recording_opened", "cursor_moved", "recording_opened",
                         "cursor_moved"]
    assert whats[4:6] == ["result_added", "active_changed"]
    assert changes[4].result_id == rid and whats[-2:] == ["anchors_changed", "cursor_moved"]
    assert p.cursor == (0.2, pytest.approx(small_alignment().map_a_to_b(0.2)))
    unsubscribe()
    p.clear_anchors()
    assert [c.what for c in changes][-1] == "cursor_moved"


def test_a_result_records_the_recordings_it_was_made_from():
    p = Project()
    p.set_recording("a", info("a"))
    p.set_recording("b", info("b"))
    rid = p.add_result(small_alignment(), registry.recipe("dtw", rate_hz=10.0))
    assert p.result(rid).inputs == {"a": "sha256:hash-a", "b": "sha256:hash-b"}
    p.set_recording("b", info("c"))  # a new recording: results of the old one go
    assert p.result_ids() == [] and p.active_id == -1


def test_swap_transposes_results_recipes_anchors_and_cursor():
    p = Project()
    p.set_recording("a", info("a", 3.0))
    p.set_recording("b", info("b", 5.0))
    rec = registry.recipe("dtw", {"anchors_s": [(0.5, 1.0)]}, feature="chroma",
                          feature_b="cens", rate_hz=10.0)
    image = (rec.features_a[0], rec.features_b[0], "euclidean")
    rid = p.add_result(small_alignment(), rec, image=image)
    p.add_anchor(1.0, 2.0)
    p.move_cursor_to(0.3, 0.4)
    before = p.result(rid).alignment
    p.swap()
    res = p.result(rid)
    assert p.recording("a").path.endswith("b.wav") and p.duration("a") == 5.0
    assert (res.alignment.rate_a_hz, res.alignment.rate_b_hz) == \
        (before.rate_b_hz, before.rate_a_hz)
    np.testing.assert_array_equal(res.alignment.path, before.path[:, ::-1])
    assert res.recipe.params["anchors_s"] == ((1.0, 0.5),)
    assert res.image[0].name == "cens" and res.inputs["a"] == "sha256:hash-b"
    assert p.anchors == ((2.0, 1.0),) and p.cursor == (0.4, 0.3)


def test_cache_keeps_live_objects_by_content():
    cache = Cache()
    spec = registry.FeatureSpec("chroma", 25.0)
    cache.put_recording("k1", object())
    cache.put_features("k1", spec, "features")
    cache.put_envelope("k2", "envelope")
    assert cache.features("k1", registry.FeatureSpec("chroma", 25.0)) == "features"
    assert cache.features("k1", registry.FeatureSpec("chroma", 50.0)) is None
    cache.keep_only({"k1"})
    assert cache.envelope("k2") is None and cache.features_of("k1") == {spec: "features"}


SNAPSHOT_SCRIPT = textwrap.dedent("""
    import sys

    import numpy as np

    from core import registry
    from core.alignment import Alignment
    from core.project import Project, RecordingInfo


    def equal(a, b):
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                    and a.shape == b.shape and a.dtype == b.dtype
                    and np.array_equal(a, b, equal_nan=True))
        if isinstance(a, dict):
            return (isinstance(b, dict) and a.keys() == b.keys()
                    and all(equal(a[k], b[k]) for k in a))
        if isinstance(a, (list, tuple)):
            return (type(a) is type(b) and len(a) == len(b)
                    and all(equal(x, y) for x, y in zip(a, b)))
        return a == b or (a != a and b != b)


    p = Project()
    p.set_recording("a", RecordingInfo("/d/a.wav", "aa", "audio", 4.0, 22050.0, 88200, 1))
    p.set_recording("b", RecordingInfo("/d/b.mp4", "bb", "video", 5.0, 25.0, 125, 0, 64, 48))
    p.set_display_feature("a", registry.FeatureSpec("logmel", 50.0))
    path = np.array([[0, 0], [1, 1], [2, 1], [3, 2], [4, 4]])
    dtw = Alignment(path, 10.0, 10.0, n_a=5, n_b=5, method="dtw",
                    params={"window": ("slanted_band", 3), "anchors": [(2, 1)]},
                    distance=1.5, normalized_distance=0.15,
                    diagnostics={"segments": [{"start": (0, 0), "end": (2, 1)}],
                                 "search_window": {"rows": [0, 5], "lo": [0], "hi": [5]}},
                    sources={"a": {"path": "/d/a.wav"}, "b": {"path": "/d/b.mp4"}})
    ot = Alignment(path, 10.0, 10.0, n_a=5, n_b=5, method="ot", plan=np.full((5, 5), 0.04),
                   params={"method": "sinkhorn", "reg": 0.1})
    att = Alignment(path, 10.0, 10.0, n_a=5, n_b=5, method="attention",
                    confidence=np.linspace(0, 1, 5),
                    diagnostics={"row_softmax": np.eye(5), "temperature": 0.2})
    dtw_recipe = registry.recipe("dtw", {"anchors_s": [(0.2, 0.1)]}, rate_hz=10.0)
    first = p.add_result(dtw, dtw_recipe, label="dtw chroma",
                         image=(dtw_recipe.features_a[0], dtw_recipe.features_b[0], "cosine"))
    p.add_result(ot, registry.recipe("ot", {"variant": "unbalanced"}, rate_hz=10.0))
    third = p.add_result(att, registry.recipe("attention", rate_hz=10.0), activate=False)
    p.apply_edit(first, dtw.replace(method="manual"), "straighten")
    p.set_compared(third)
    p.add_anchor(1.0, 2.0)
    p.add_anchor(3.0, 4.5)
    p.move_cursor_to(1.25, 2.5)
    p.set_view("matrix", {"colour_map": "magma", "range": [0.0, 2.0, 0.0, 3.0]})

    snap = p.snapshot()
    restored = Project()
    changes = []
    restored.subscribe(changes.append)
    restored.restore(snap)
    again = restored.snapshot()
    assert equal(snap, again), "snapshot changed by restore"
    assert [c.what for c in changes] == ["restored"]
    assert len(again["results"]) == 3 and again["anchors"] == [[1.0, 2.0], [3.0, 4.5]]
    assert restored.alignment(first).method == "manual" and restored.can_undo()
    assert restored.undo() == "straighten"
    assert restored.alignment(first).params["window"] == ("slanted_band", 3)
    assert restored.result(first).recipe.params["anchors_s"] == ((0.2, 0.1),)
    assert restored.compared_id == third and restored.cursor == (1.25, 2.5)
    np.testing.assert_array_equal(restored.alignment(2).plan, ot.plan)
    qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6",
                                                              "pyqtgraph", "inspector"))
    assert not qt, qt
    print("ok")
""")


def test_a_snapshot_survives_restore_without_importing_qt():
    proc = subprocess.run([sys.executable, "-c", SNAPSHOT_SCRIPT], capture_output=True,
                          text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "ok"


def test_a_snapshot_of_another_version_is_refused():
    p = Project()
    snap = p.snapshot()
    with pytest.raises(ValueError, match="version"):
        p.restore(dict(snap, version=99))
    with pytest.raises(ValueError, match="missing"):
        p.restore({k: v for k, v in snap.items() if k != "cursor"})


def test_set_anchors_replaces_them_with_one_change():
    p = Project()
    p.set_recording("a", info("a", 3.0))
    p.set_recording("b", info("b", 5.0))
    p.add_anchor(0.5, 0.5)
    changes = []
    p.subscribe(changes.append)
    # sorted, clipped to the recordings, one per time of A (the last one wins)
    p.set_anchors([(2.0, 9.0), (1.0, 1.5), (1.0, 2.0)])
    assert p.anchors == ((1.0, 2.0), (2.0, 5.0))
    assert [c.what for c in changes] == ["anchors_changed"]
    p.set_anchors([(1.0, 2.0), (2.0, 5.0)])  # the same: no change announced
    assert len(changes) == 1
    p.set_anchors([])
    assert p.anchors == () and len(changes) == 2
    with pytest.raises(ValueError, match="finite"):
        p.set_anchors([(float("nan"), 1.0)])
    assert p.anchors == ()


def test_a_first_correction_added_with_its_undo_text_is_undone_to_the_base():
    from core.constraints import Anchor, Constraints

    p = Project()
    p.set_recording("a", info("a"))
    p.set_recording("b", info("b"))
    auto = small_alignment()
    rid = p.add_result(auto, registry.recipe("default"))
    corrected = auto.replace(path=np.array([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]]),
                             confidence=None)
    constraints = Constraints((Anchor(0.1, 0.05),))
    new = p.add_result(corrected, registry.recipe("default"), constraints=constraints,
                       base=auto, undo_text="anchor at A 0.10 s")
    assert p.can_undo() and not p.can_redo()
    assert p.undo() == "anchor at A 0.10 s"
    assert p.result_ids() == [rid, new]  # the manual result stays, as the base
    assert np.array_equal(p.alignment(new).path, auto.path)
    assert p.result(new).constraints == Constraints()
    assert p.redo() == "anchor at A 0.10 s"
    assert p.alignment(new) is corrected and p.result(new).constraints == constraints
    with pytest.raises(ValueError, match="undo_text: a result without a base"):
        p.add_result(auto, registry.recipe("default"), undo_text="edit")
