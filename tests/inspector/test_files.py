"""Files in the window: export and import of alignments, annotations on A or B and their
live transfer, drops, bad files (inspector/files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from inspector_gui_helpers import TIMEOUT_MS, anchor_corrects, open_pair, wait_idle
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from core.alignment import Alignment
from core.formats import (
    ALIGNMENT_FORMATS,
    Annotation,
    Interval,
    Point,
    Tier,
    read_alignment,
    read_annotation,
    write_alignment,
    write_annotation,
)
from inspector.files.controller import ALIGNMENT_FILTERS


def _save_to(path, fmt=None):
    return lambda *args: (str(path), ALIGNMENT_FILTERS[fmt] if fmt else "")


def _open(path):
    return lambda *args: (str(path), "")


def _linear(window, rate=50.0, slope=None):
    """A straight path from (0, 0) to the ends of both recordings."""
    da, db = window.session.duration("a"), window.session.duration("b")
    n_a, n_b = int(da * rate), int(db * rate)
    i = np.arange(n_a)
    j = np.minimum(np.round(i * (n_b - 1) / (n_a - 1)).astype(int), n_b - 1)
    path = np.column_stack([i, j])
    keep = np.ones(len(path), bool)
    keep[1:] = np.any(np.diff(path, axis=0) != 0, axis=1)
    return Alignment(path[keep], rate, rate, n_a=n_a, n_b=n_b, method="linear")


def _annotation_file(tmp_path, name="words.TextGrid", end=3.5):
    ann = Annotation((Tier("words", "interval", (Interval(0.5, 1.25, "one"),
                                                  Interval(1.25, 2.0, "two"),
                                                  Interval(2.5, end, "three"))),
                      Tier("beats", "point", (Point(1.0, "b1"), Point(3.0, "b2")))),
                     start_s=0.0, end_s=max(end, 4.0))
    path = tmp_path / name
    write_annotation(ann, path)
    return path


def _drop(target, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    # what Qt calls at the end of a real drag (a synthetic drop event sent to a widget
    # is not delivered without a drag in progress)
    target.dropEvent(event)


def _press(qtbot, window, key, modifiers=Qt.KeyboardModifier.ControlModifier):
    window.activateWindow()
    qtbot.keyClick(window, key, modifiers)


@pytest.mark.parametrize("fmt", ALIGNMENT_FORMATS)
def test_export_from_the_menu_and_read_the_file_back(qtbot, window, audio_pair, tmp_path,
                                                      fmt):
    open_pair(qtbot, window, *audio_pair)
    out = tmp_path / "exported"  # no extension: the chosen filter adds its own
    window.files.ask_save = _save_to(out, fmt)
    with qtbot.waitSignal(window.files.exported, timeout=TIMEOUT_MS) as blocker:
        _press(qtbot, window, Qt.Key.Key_E)
    written = blocker.args[0]
    assert written.startswith(str(out)) and written != str(out)
    back = read_alignment(written)
    al = window.session.active_alignment()
    t = np.linspace(0, window.session.duration("a"), 50)
    # every format keeps the time map to within a frame or two of the features
    tol = 2.5 / min(al.rate_a_hz, al.rate_b_hz)
    assert np.max(np.abs(back.map_a_to_b(t) - al.map_a_to_b(t))) < tol
    if fmt in ("csv", "json"):
        assert np.allclose(back.times_s, al.times_s, atol=1e-6)
    wait_idle(qtbot, window)


def test_export_takes_the_typed_extension_over_the_default_filter(qtbot, window, audio_pair,
                                                                  tmp_path):
    # the dialog opens on its first filter (CSV); a user who types "out.json" without
    # touching the filter wants JSON, not a refusal ("a .json file holds json, not csv")
    open_pair(qtbot, window, *audio_pair)
    for name, fmt in (("typed.json", "json"), ("typed.svl", "svl"),
                      ("typed.TextGrid", "textgrid")):
        window.files.ask_save = _save_to(tmp_path / name, "csv")
        with qtbot.waitSignal(window.files.exported, timeout=TIMEOUT_MS) as blocker:
            _press(qtbot, window, Qt.Key.Key_E)
        assert blocker.args[0] == str(tmp_path / name)
        assert not window.banner.isVisible()
        back = read_alignment(tmp_path / name, fmt)
        assert back.path.shape[0] > 1
    # an extension the chosen filter can hold keeps the filter's format
    window.files.ask_save = _save_to(tmp_path / "layer.csv", "sv-csv")
    with qtbot.waitSignal(window.files.exported, timeout=TIMEOUT_MS):
        _press(qtbot, window, Qt.Key.Key_E)
    assert not (tmp_path / "layer.csv").read_text().startswith("time_a_s")
    wait_idle(qtbot, window)


def test_export_of_a_chosen_result_and_refused_outputs(qtbot, window, audio_pair, tmp_path):
    first = open_pair(qtbot, window, *audio_pair)
    second = window.session.add_alignment(_linear(window), label="straight")
    assert window.session.active_id == second
    window.files._fill_export_of()
    acts = window.files.export_of_menu.actions()
    assert [a.text().split()[0] for a in acts] == [f"#{first}", f"#{second}"]
    window.files.ask_save = _save_to(tmp_path / "first.csv")
    with qtbot.waitSignal(window.files.exported, timeout=TIMEOUT_MS):
        acts[0].trigger()
    back = read_alignment(tmp_path / "first.csv")
    assert np.allclose(back.times_s, window.session.alignment(first).times_s, atol=1e-6)
    # an output that is one of the recordings is refused, the recording kept intact
    before = Path(audio_pair[0]).read_bytes()
    window.files.ask_save = _save_to(audio_pair[0])
    _press(qtbot, window, Qt.Key.Key_E)
    assert window.banner.isVisible()
    assert "a.wav" in window.banner.text()
    assert Path(audio_pair[0]).read_bytes() == before
    # the next export succeeds: the refusal's banner goes (it stayed up, naming an
    # export that no longer failed)
    window.files.ask_save = _save_to(tmp_path / "second.csv")
    with qtbot.waitSignal(window.files.exported, timeout=TIMEOUT_MS):
        _press(qtbot, window, Qt.Key.Key_E)
    assert not window.banner.isVisible()
    wait_idle(qtbot, window)


def test_import_a_sync_toolbox_csv_becomes_an_editable_result(qtbot, window, audio_pair,
                                                              tmp_path):
    default = open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    straight = _linear(window)
    # the Sync Toolbox saves a warping path in seconds as a (2, L) array
    csv = tmp_path / "synctoolbox_path.csv"
    np.savetxt(csv, straight.times_s.T, delimiter=",", fmt="%.6f")
    window.files.ask_open = _open(csv)
    n_items = window.method_panel.results.count()
    with qtbot.waitSignal(window.files.imported, timeout=TIMEOUT_MS) as blocker:
        _press(qtbot, window, Qt.Key.Key_I)
    rid = blocker.args[0]
    assert rid != default and window.session.active_id == rid
    assert window.method_panel.results.count() == n_items + 1
    assert "synctoolbox_path.csv" in window.session.label(rid)
    al = window.session.alignment(rid)
    t = np.linspace(0, 3.9, 40)
    assert np.max(np.abs(al.map_a_to_b(t) - straight.map_a_to_b(t))) < 0.03
    # a normal result of the project: it can be corrected (an edit) and undone
    edited = al.replace(path=al.path[: len(al.path) // 2 + 1])
    window.session.apply_edit(rid, edited, "cut")
    assert window.session.alignment(rid) is edited
    assert window.session.undo() == "cut"
    # drawn on the matrix
    wait_idle(qtbot, window)
    assert window.session.project.result(rid).alignment is al
    wait_idle(qtbot, window)


def test_a_json_file_brings_its_settings_to_the_panel_and_export_keeps_them(
        qtbot, window, audio_pair, tmp_path):
    from core import registry
    from core.formats import read_recipe
    from core.media import open_recording

    default = open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    # the window's own result: exported as JSON with the settings that made it
    out = tmp_path / "default.json"
    with qtbot.waitSignal(window.files.exported, timeout=TIMEOUT_MS):
        window.files.export_alignment(default, str(out))
    assert read_recipe(out).method == "default" and read_recipe(out).features_a
    # a file made elsewhere with other settings: the panel shows them on import
    recipe = registry.recipe("dtw", {"window": "sakoe_chiba", "radius_s": 1.5},
                             feature="mfcc", rate_hz=20.0)
    run = registry.run(recipe, *map(open_recording, audio_pair))
    other = tmp_path / "other.json"
    write_alignment(run.alignment, other, recipe=run.recipe)
    panel = window.method_panel
    with qtbot.waitSignal(window.files.imported, timeout=TIMEOUT_MS):
        window.files.import_alignment(str(other))
    assert panel.current_method() == "dtw" and panel.values()["radius_s"] == 1.5
    assert panel.feature_a.currentData() == "mfcc" and panel.rate_field.value() == 20.0
    rid = window.session.active_id
    qtbot.waitUntil(lambda: window.session.matrix_inputs(rid) is not None,
                    timeout=TIMEOUT_MS)
    assert window.session.matrix_inputs(rid)[0].name == "mfcc"
    wait_idle(qtbot, window)


def test_an_imported_result_is_corrected_with_an_anchor_in_the_window(qtbot, window,
                                                                     audio_pair, tmp_path):
    """Shift+click on an imported path (a file of another tool: no features of its own)
    re-solves it on the features the matrix shows; it used to say "the active result's
    features are not at hand yet" however long one waited, and nothing changed."""
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    straight = _linear(window)
    csv = tmp_path / "other_tool.csv"
    np.savetxt(csv, straight.times_s, delimiter=",", fmt="%.6f")
    with qtbot.waitSignal(window.files.imported, timeout=TIMEOUT_MS) as blocker:
        window.files.import_alignment(str(csv))
    rid = blocker.args[0]
    wait_idle(qtbot, window)
    anchor_corrects(qtbot, window, rid, 2.0, float(straight.map_a_to_b(2.0)) + 0.3)
    wait_idle(qtbot, window)


def test_the_no_confidence_note_of_an_imported_path_fits_its_track(qtbot, window,
                                                                   audio_pair, tmp_path):
    """An imported path has no confidence: the track says why, wrapped inside the track
    (on one line it ran past both ends: "onfidence: ... (made elsewhere or edit")."""
    window.resize(1440, 900)
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    csv = tmp_path / "other_tool.csv"
    np.savetxt(csv, _linear(window).times_s, delimiter=",", fmt="%.6f")
    with qtbot.waitSignal(window.files.imported, timeout=TIMEOUT_MS):
        window.files.import_alignment(str(csv))
    wait_idle(qtbot, window)
    diagnostics = window.diagnostics
    note = diagnostics.conf_note
    assert note.toPlainText().startswith("no confidence:")
    track = diagnostics.conf_plot.getViewBox().width()
    assert 0 < note.textItem.boundingRect().width() <= track
    window.resize(1100, 800)  # narrower: wrapped again
    qtbot.waitUntil(lambda: diagnostics.conf_plot.getViewBox().width() < track,
                    timeout=TIMEOUT_MS)
    assert note.textItem.boundingRect().width() <= diagnostics.conf_plot.getViewBox().width()

    def inside_track() -> bool:
        # in the track's own terms (the text item's scene transform follows only when
        # painted): its anchor, the middle of the text, at most half the text's width
        # from either edge
        view_box = diagnostics.conf_plot.getViewBox()
        (x0, x1), _ = view_box.viewRange()
        px_per_s = view_box.width() / (x1 - x0)
        half = note.textItem.boundingRect().width() / 2
        x = note.pos().x()
        return (x - x0) * px_per_s >= half - 1 and (x1 - x) * px_per_s >= half - 1

    qtbot.waitUntil(inside_track, timeout=TIMEOUT_MS)
    # zoomed on the first fifth of A: the note was placed at the middle of A, past the
    # track's right edge (its end cut off, or all of it out of sight)
    diagnostics.conf_plot.setXRange(0.0, window.session.duration("a") / 5, padding=0.0)
    qtbot.waitUntil(inside_track, timeout=TIMEOUT_MS)


def test_opening_annotations_counts_the_labels_not_the_gaps(qtbot, window, audio_pair,
                                                            tmp_path):
    """A TextGrid tier tiles its span with empty intervals between the labels: the
    message counted them (8 "labels" for 3 words and 2 beats)."""
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    annotations = window.files.annotations
    with qtbot.waitSignal(annotations.opened_changed, timeout=TIMEOUT_MS):
        annotations.open("a", str(_annotation_file(tmp_path)))
    assert "2 tier(s), 5 label(s) on A" in window.statusBar().currentMessage()
    wait_idle(qtbot, window)


def test_annotations_show_under_their_stream_and_follow_the_active_path(
        qtbot, window, audio_pair, tmp_path):
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    tg = _annotation_file(tmp_path)
    window.files.ask_open = _open(tg)
    annotations = window.files.annotations
    with qtbot.waitSignal(annotations.opened_changed, timeout=TIMEOUT_MS):
        window.files.annotation_actions["a"].trigger()
    lane_a, lane_b = annotations.lanes["a"], annotations.lanes["b"]
    assert lane_a.plot.isVisible() and lane_b.plot.isVisible()
    assert [(t.name, t.moved) for t in lane_a.rows] == [("words", False), ("beats", False)]
    assert [(t.name, t.moved) for t in lane_b.rows] == [("words", True), ("beats", True)]
    assert "one" in lane_a.label_texts() and "one" in lane_b.label_texts()
    assert lane_a.tier_names() == ["words", "beats"]
    assert lane_b.tier_names() == ["→ words", "→ beats"]

    def transferred_starts():
        tier = lane_b.rows[0]
        # (a TextGrid tier tiles its span: the gaps are intervals without a label)
        return np.array([t for t, label in zip(tier.starts, tier.labels, strict=True) if label])

    starts_a = np.array([0.5, 1.25, 2.5])
    al = window.session.active_alignment()
    assert np.allclose(transferred_starts(), al.map_a_to_b(starts_a))

    # a new active result: the transfer follows
    straight = _linear(window)
    with qtbot.waitSignal(annotations.changed, timeout=TIMEOUT_MS):
        window.session.add_alignment(straight, label="straight")
    assert np.allclose(transferred_starts(), straight.map_a_to_b(starts_a))
    # what the lane draws is what core's transfer makes, collapsed intervals included
    flat = straight.replace(path=np.column_stack([straight.path[:, 0],
                                                  np.minimum(straight.path[:, 1], 60)]))
    with qtbot.waitSignal(annotations.changed, timeout=TIMEOUT_MS):
        window.session.add_alignment(flat, label="holds B still after 1.2 s")
    core_tiers = annotations.transferred("a").annotation.tiers
    assert any(it.collapsed for it in core_tiers[0].items)
    for drawn, tier in zip(lane_b.rows, core_tiers, strict=True):
        items = tier.items
        starts = [getattr(it, "start_s", getattr(it, "time_s", None)) for it in items]
        assert np.allclose(drawn.starts, starts)
        if tier.kind == "interval":
            assert np.allclose(drawn.ends, [it.end_s for it in items])
            assert list(drawn.collapsed) == [it.collapsed for it in items]
        assert list(drawn.labels) == [it.label for it in items]
    with qtbot.waitSignal(annotations.changed, timeout=TIMEOUT_MS):
        window.session.set_active(window.session.alignment_ids()[1])
    assert np.allclose(transferred_starts(), straight.map_a_to_b(starts_a))
    # an edit of the active path: the transfer follows
    shifted = straight.replace(path=np.column_stack([straight.path[:, 0],
                                                     straight.path[:, 1] // 2]))
    with qtbot.waitSignal(annotations.changed, timeout=TIMEOUT_MS):
        window.session.apply_edit(window.session.active_id, shifted, "halve")
    assert np.allclose(transferred_starts(), shifted.map_a_to_b(starts_a))
    # undo: back to the straight path
    with qtbot.waitSignal(annotations.changed, timeout=TIMEOUT_MS):
        window.session.undo()
    assert np.allclose(transferred_starts(), straight.map_a_to_b(starts_a))

    # export the transferred annotations and read them back
    out = tmp_path / "words_on_b.TextGrid"
    offered = []

    def save_to(parent, title, filter, name=""):
        offered.append(name)
        return str(out), ""

    window.files.ask_save = save_to
    with qtbot.waitSignal(window.files.exported, timeout=TIMEOUT_MS):
        window.files.transfer_actions["a"].trigger()
    # the name offered: beside the file read (not the working folder), Praat's spelling
    assert offered == [str(Path(annotations.opened["a"].path).with_name("words.on-B.TextGrid"))]
    back = read_annotation(out)
    words = [it for it in back.tier("words").items if it.label]
    assert np.allclose([it.start_s for it in words], straight.map_a_to_b(starts_a),
                       atol=1e-6)
    assert [it.label for it in words] == ["one", "two", "three"]
    assert np.allclose([p.time_s for p in back.tier("beats").items],
                       straight.map_a_to_b(np.array([1.0, 3.0])), atol=1e-6)

    # swapping A and B: the annotations move with their recording
    with qtbot.waitSignal(annotations.changed, timeout=TIMEOUT_MS):
        window.workspace.swap()
    assert annotations.opened["b"] is not None and annotations.opened["a"] is None
    assert [t.name for t in annotations.lanes["b"].rows if not t.moved] == ["words", "beats"]
    wait_idle(qtbot, window)


def test_a_label_at_the_start_is_not_hidden_under_its_tier_name(qtbot, window,
                                                                audio_pair, tmp_path):
    """The tier's name sits over the left edge of its row; a label starting there was
    drawn under the name's box ("labels" hid "one" at 0.5 s of the demo pair: "labels
    e"). It now starts just right of the name, its tick still at its time."""
    window.resize(1440, 900)
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    annotations = window.files.annotations
    ann = Annotation((Tier("words", "interval", (Interval(0.1, 1.0, "one"),
                                                  Interval(2.5, 3.5, "three"))),),
                     start_s=0.0, end_s=4.0)
    write_annotation(ann, tmp_path / "early.TextGrid")
    annotations.open("a", str(tmp_path / "early.TextGrid"))
    wait_idle(qtbot, window)
    lane = annotations.lanes["a"]
    qtbot.waitUntil(lambda: "one" in lane.label_texts(), timeout=TIMEOUT_MS)
    # zoomed in: "one" runs on past the left edge, where its label starts
    window.stream_a.set_visible_range(0.5, 3.0)
    view_box = lane.plot.getViewBox()
    qtbot.waitUntil(lambda: view_box.viewRange()[0][0] == pytest.approx(0.5),
                    timeout=TIMEOUT_MS)
    name = lane._row_items[0].name
    # in seconds: where the name's box ends (it is drawn in pixels from the left edge)
    name_end = 0.5 + name.textItem.boundingRect().width() * view_box.viewPixelSize()[0]

    def placed():
        labels = {item.toPlainText(): item for item in lane._labels[: lane._n_labels]}
        return labels if {"one", "three"} <= set(labels) else None

    qtbot.waitUntil(lambda: placed() is not None and
                    placed()["one"].pos().x() != pytest.approx(0.1), timeout=TIMEOUT_MS)
    qtbot.wait(100)  # the labels are placed 40 ms after a range change
    labels = placed()
    assert labels["one"].pos().x() >= name_end
    assert labels["three"].pos().x() == pytest.approx(2.5)  # clear of it: at its time


def test_dropping_alignment_and_annotation_files(qtbot, window, audio_pair, tmp_path):
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    csv = tmp_path / "pairs.csv"
    straight = _linear(window)
    np.savetxt(csv, straight.times_s, delimiter=",", fmt="%.5f", header="time_a_s,time_b_s",
               comments="")
    with qtbot.waitSignal(window.files.imported, timeout=TIMEOUT_MS):
        _drop(window, [csv])
    assert "pairs.csv" in window.session.label(window.session.active_id)
    # annotations dropped on pane B are B's (labels well inside B's 5 s)
    labels = _annotation_file(tmp_path, "b_words.TextGrid", end=4.5)
    with qtbot.waitSignal(window.files.annotations.opened_changed, timeout=TIMEOUT_MS) as b:
        _drop(window.stream_b, [labels])
    assert b.args == ["b"]
    assert window.files.annotations.lanes["a"].rows[0].moved  # transferred to A
    wait_idle(qtbot, window)


def test_dropping_media_then_an_alignment_in_one_drop(qtbot, window, audio_pair, tmp_path):
    from core.formats import write_alignment
    from core.media import open_recording

    da = open_recording(audio_pair[0]).duration_s
    db = open_recording(audio_pair[1]).duration_s
    n_a, n_b = int(da * 100), int(db * 100)
    i = np.arange(n_a)
    path = np.column_stack([i, np.round(i * (n_b - 1) / (n_a - 1)).astype(int)])
    out = tmp_path / "straight.json"
    write_alignment(Alignment(path, 100.0, 100.0, n_a=n_a, n_b=n_b), out)
    window.workspace.auto_align = False
    with qtbot.waitSignal(window.files.imported, timeout=TIMEOUT_MS):
        _drop(window, [audio_pair[0], audio_pair[1], out])
    assert window.session.has_both()
    assert "straight.json" in window.session.label(window.session.active_id)
    wait_idle(qtbot, window)


def test_an_alignproj_drop_goes_to_the_window_when_it_can_open_projects(qtbot, window,
                                                                          tmp_path):
    proj = tmp_path / "session.alignproj"
    proj.write_text("{}")
    seen = []
    window.open_project_file = seen.append
    _drop(window, [proj])
    assert seen == [str(proj)]
    del window.open_project_file
    _drop(window, [proj])
    assert "session.alignproj" in window.banner.text()


def _write(path, text):
    path.write_text(text)
    return path


def test_bad_files_give_a_message_naming_the_file_and_nothing_changes(
        qtbot, window, audio_pair, tmp_path):
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    session = window.session
    ids, active = session.alignment_ids(), session.active_id

    def expect_error(action, name, *words):
        window.hide_error()
        action()
        qtbot.waitUntil(window.banner.isVisible, timeout=TIMEOUT_MS)
        text = window.banner.text()
        assert name in text, text
        for word in words:
            assert word in text, text
        assert session.alignment_ids() == ids and session.active_id == active

    # a corrupt alignment
    corrupt = _write(tmp_path / "corrupt.json", '{"path": [[0, 0], [1')
    window.files.ask_open = _open(corrupt)
    expect_error(lambda: _press(qtbot, window, Qt.Key.Key_I), "corrupt.json")
    # an alignment of other recordings: its path runs past the end of A (4 s)
    long = _write(tmp_path / "long.csv", "time_a_s,time_b_s\n0,0\n5,2\n20,4.9\n")
    window.files.ask_open = _open(long)
    expect_error(lambda: _press(qtbot, window, Qt.Key.Key_I), "long.csv", "past the end")
    # a JSON alignment that records other durations
    from core.formats import write_alignment
    al = session.active_alignment()
    other = al.replace(sources={"a": {"duration_s": 60.0}, "b": {"duration_s": 5.0}})
    write_alignment(other, tmp_path / "other.json")
    window.files.ask_open = _open(tmp_path / "other.json")
    expect_error(lambda: _press(qtbot, window, Qt.Key.Key_I), "other.json", "60.000 s")
    # annotations of another recording (labels up to 30 s on a 4 s recording)
    far = _annotation_file(tmp_path, "far.TextGrid", end=30.0)
    window.files.ask_open = _open(far)
    expect_error(lambda: window.files.annotation_actions["a"].trigger(), "far.TextGrid",
                 "past the end")
    assert window.files.annotations.opened["a"] is None
    assert not window.files.annotations.lanes["a"].plot.isVisible()
    # a file that is neither, dropped
    junk = _write(tmp_path / "junk.csv", "this,is\nnot,numbers\nat,all\n")
    expect_error(lambda: _drop(window, [junk]), "junk.csv")
    # a corrupt TextGrid
    broken = _write(tmp_path / "broken.TextGrid",
                    'File type = "ooTextFile"\nObject class = "TextGrid"\nxmin = x\n')
    window.files.ask_open = _open(broken)
    expect_error(lambda: window.files.annotation_actions["b"].trigger(), "broken.TextGrid")
    # good annotations stay when a bad file follows
    good = _annotation_file(tmp_path, "good.TextGrid")
    window.files.ask_open = _open(good)
    with qtbot.waitSignal(window.files.annotations.opened_changed, timeout=TIMEOUT_MS):
        window.files.annotation_actions["a"].trigger()
    window.files.ask_open = _open(far)
    expect_error(lambda: window.files.annotation_actions["a"].trigger(), "far.TextGrid")
    assert window.files.annotations.opened["a"].path == str(good)
    # exporting transferred annotations over the annotation file itself is refused
    before = good.read_bytes()
    window.files.ask_save = _save_to(good)
    expect_error(lambda: window.files.transfer_actions["a"].trigger(), "good.TextGrid")
    assert good.read_bytes() == before
    wait_idle(qtbot, window)


def test_export_of_a_result_with_jumps_writes_its_pieces(qtbot, window, audio_pair,
                                                         tmp_path):
    """File ▸ Export of a result with jumps (a carrier) writes the pieces (JSON, CSV);
    a format that holds one path refuses it with a message, and writes nothing."""
    from core.structure import PiecewiseAlignment
    from core.structure.carrier import to_carrier

    open_pair(qtbot, window, *audio_pair)
    line = _linear(window)
    half = len(line.path) // 2
    second = line.path[half:].copy()
    second[:, 0] -= second[0, 0] // 2  # B's second half plays part of A's first again
    pw = PiecewiseAlignment(tuple(line.replace(path=p) for p in (line.path[:half], second)))
    rid = window.session.add_alignment(to_carrier(pw), label="with a jump")
    for name in ("jumps.json", "jumps.csv"):
        with qtbot.waitSignal(window.files.exported, timeout=TIMEOUT_MS):
            window.files.export_alignment(rid, str(tmp_path / name))
        back = read_alignment(tmp_path / name)
        assert isinstance(back, PiecewiseAlignment) and len(back.jumps) == 1
        for got, want in zip(back.pieces, pw.pieces, strict=True):
            assert np.array_equal(got.path, want.path)
    window.hide_error()
    window.files.export_alignment(rid, str(tmp_path / "jumps.TextGrid"))
    qtbot.waitUntil(window.banner.isVisible, timeout=TIMEOUT_MS)
    assert "jumps" in window.banner.text() and "textgrid" in window.banner.text()
    assert not (tmp_path / "jumps.TextGrid").exists()
    wait_idle(qtbot, window)


def test_a_file_with_pieces_made_with_a_and_b_swapped_keeps_its_pieces():
    """check_alignment (Qt-free) carries a file's pieces and, for a file that named A and
    B the other way round, transposes them with the carrier: the jumps stay."""
    from core.project import RecordingInfo
    from core.structure import PiecewiseAlignment
    from core.structure.carrier import piecewise_of, to_carrier
    from inspector.files.checks import check_alignment

    rate, n_x, n_y = 10.0, 100, 70  # x.wav 10 s; y.wav 7 s skips x's 4-7 s

    def piece(i0, i1, j0):
        i = np.arange(i0, i1)
        return Alignment(np.column_stack([i, i - i0 + j0]), rate, rate, n_a=n_x, n_b=n_y,
                         method="dtw")

    made = PiecewiseAlignment((piece(0, 40, 0), piece(70, 100, 40)),
                              sources={"a": {"path": "/m/x.wav", "duration_s": 10.0},
                                       "b": {"path": "/m/y.wav", "duration_s": 7.0}})
    assert len(made.jumps) == 1
    a = RecordingInfo("/w/y.wav", None, "audio", 7.0, 8000.0)  # opened the other way round
    b = RecordingInfo("/w/x.wav", None, "audio", 10.0, 8000.0)
    for given in (made, to_carrier(made)):
        fit = check_alignment("pieces.json", given, a, b)
        assert isinstance(fit.alignment, Alignment)
        assert any("transposed" in note for note in fit.notes)
        pw = piecewise_of(fit.alignment)
        assert pw is not None and len(pw.pieces) == 2
        assert np.array_equal(pw.pieces[0].path, made.pieces[0].path[:, ::-1])
        assert np.array_equal(pw.pieces[1].path, made.pieces[1].path[:, ::-1])
        assert pw.duration_a_s == pytest.approx(7.0) and pw.duration_b_s == pytest.approx(10.0)


def test_annotation_lanes_leave_the_recording_room_to_show(qtbot, window, audio_pair,
                                                          tmp_path):
    """Two tiers on A and two on B make four lanes under each stream (its own and the
    other's transferred): at the window's size the lanes took the whole pane and the
    waveform and its feature image were squeezed to a few pixels."""
    window.resize(1440, 900)
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    annotations = window.files.annotations
    for slot in ("a", "b"):
        with qtbot.waitSignal(annotations.opened_changed, timeout=TIMEOUT_MS):
            annotations.open(slot, str(_annotation_file(tmp_path, f"{slot}.TextGrid")))
    wait_idle(qtbot, window)
    for slot in ("a", "b"):
        view = window.stream_views[slot]
        assert len(annotations.lanes[slot].rows) == 4
        qtbot.waitUntil(lambda v=view: v.top.height() + v.bottom.height() >= 90,
                        timeout=TIMEOUT_MS)
    wait_idle(qtbot, window)
