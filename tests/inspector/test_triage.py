"""Batch triage in the window: File → Open batch…, the table sorted by doubt, path
thumbnails, double-click opens a pair, Save to batch writes the correction back
(inspector/files/triage.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import melody, write_wav
from inspector_gui_helpers import TIMEOUT_MS, anchor_corrects, wait_idle
from PySide6.QtCore import QPoint, Qt

from core.alignment import Alignment
from core.batch.summary import SummaryRow, read_summary, write_summary
from core.formats import read_alignment, write_alignment
from core.media import open_recording
from core.structure import PiecewiseAlignment
from core.structure.carrier import piecewise_of
from inspector.files.triage import (
    COLUMNS,
    JUMPS_COLOUR,
    ORDER_COLOUR,
    WARNING_COLOUR,
    doubt_order,
)


def _straight(a, b, rate=50.0, confidence=0.9):
    da, db = open_recording(a).duration_s, open_recording(b).duration_s
    n_a, n_b = int(da * rate), int(db * rate)
    i = np.arange(n_a)
    path = np.column_stack([i, np.round(i * (n_b - 1) / (n_a - 1)).astype(int)])
    keep = np.ones(len(path), bool)
    keep[1:] = np.any(np.diff(path, axis=0) != 0, axis=1)
    path = path[keep]
    conf = np.full(len(path), confidence)
    conf[len(path) // 3: len(path) // 2] = 0.1
    return Alignment(path, rate, rate, n_a=n_a, n_b=n_b, method="dtw", confidence=conf,
                     sources={"a": {"path": a, "duration_s": da},
                              "b": {"path": b, "duration_s": db}}), da, db


@pytest.fixture
def batch(tmp_path):
    """A batch folder made with core's writers: two aligned pairs (confidence 0.9 and
    0.35), one failed pair."""
    media = tmp_path / "media"
    media.mkdir()
    a1 = write_wav(media / "take1.wav", melody(3.0, tempo=1.0))
    b1 = write_wav(media / "take2.wav", melody(3.5, tempo=0.85, seed=1))
    a2 = write_wav(media / "take3.wav", melody(2.5, tempo=1.0, seed=2))
    b2 = write_wav(media / "take4.wav", melody(3.0, tempo=0.8, seed=3))
    out = tmp_path / "out"
    out.mkdir()
    rows = []
    for pid, a, b, conf in (("sure", a1, b1, 0.95), ("doubtful", a2, b2, 0.4)):
        al, da, db = _straight(a, b, confidence=conf)
        write_alignment(al, out / f"{pid}.json")
        rows.append(SummaryRow(pid, "ok", "", da, db, 1.0, float(np.mean(al.confidence)),
                               float(np.mean(al.confidence < 0.5)), "music",
                               f"{pid}.json", a, b))
    rows.append(SummaryRow("broken", "failed", f"{media / 'gone.wav'}: file not found",
                           None, None, 0.1, None, None, "", "", str(media / "gone.wav"), b1))
    write_summary(rows, out / "summary.csv")
    return out, rows


def test_doubt_order_puts_failures_then_the_least_confident_first():
    rows = [SummaryRow("a", "ok", mean_confidence=0.9), SummaryRow("b", "ok"),
            SummaryRow("c", "failed", "bad"), SummaryRow("d", "skipped", mean_confidence=0.2),
            SummaryRow("e", "ok", mean_confidence=0.5)]
    assert [rows[k].id for k in doubt_order(rows)] == ["c", "d", "e", "a", "b"]


def test_doubt_order_puts_pairs_with_jumps_right_after_the_failures():
    rows = [SummaryRow("a", "ok", mean_confidence=0.2),
            SummaryRow("b", "ok", mean_confidence=0.95, jumps=2),
            SummaryRow("c", "failed", "bad"),
            SummaryRow("d", "skipped", mean_confidence=0.6, jumps=1),
            SummaryRow("e", "ok", mean_confidence=0.5, jumps=None)]
    assert [rows[k].id for k in doubt_order(rows)] == ["c", "d", "b", "a", "e"]


def test_doubt_order_puts_warned_pairs_after_those_with_jumps():
    rows = [SummaryRow("a", "ok", mean_confidence=0.2),
            SummaryRow("b", "ok", mean_confidence=0.95, warning="B has a lead-in",
                       unshared_s=3.5),
            SummaryRow("c", "failed", "bad"),
            SummaryRow("d", "ok", mean_confidence=0.9, jumps=1),
            SummaryRow("e", "skipped", mean_confidence=0.6, warning="did not converge")]
    assert [rows[k].id for k in doubt_order(rows)] == ["c", "d", "e", "b", "a"]


def test_doubt_order_puts_pairs_whose_order_differs_after_jumps_before_warnings():
    rows = [SummaryRow("a", "ok", mean_confidence=0.2),
            SummaryRow("b", "ok", mean_confidence=0.95, warning="B has a lead-in"),
            SummaryRow("c", "ok", mean_confidence=0.9, order_differs="B 8.0-16.3 s (A 7-14 s)"),
            SummaryRow("d", "ok", mean_confidence=0.9, jumps=1)]
    assert [rows[k].id for k in doubt_order(rows)] == ["d", "c", "b", "a"]


def _double_click(qtbot, view, pos):
    """What a user's double-click sends: press, release, double-click, release (Qt's
    test double-click alone sends no first press, which item views need)."""
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def _open_batch(qtbot, window, path):
    window.files.ask_open = lambda *args: (str(path), "")
    window.files.triage.open_action.trigger()
    table = window.files.triage.table
    assert table is not None and table.isVisible(), window.banner.text()
    return table


def test_triage_table_sorted_by_doubt_with_thumbnails(qtbot, window, batch):
    out, rows = batch
    table = _open_batch(qtbot, window, out)
    ids = [table.table.item(r, 2).text() for r in range(table.table.rowCount())]
    assert ids == ["broken", "doubtful", "sure"]
    # the failed pair shows its error
    assert "gone.wav: file not found" in table.table.item(0, COLUMNS.index("error")).text()
    assert table.table.item(0, 3).text() == "failed"
    # thumbnails arrive from workers for the pairs with an output
    qtbot.waitUntil(lambda: table.has_thumbnail(0) and table.has_thumbnail(1),
                    timeout=TIMEOUT_MS)
    assert not table.has_thumbnail(2)
    wait_idle(qtbot, window)


def test_double_click_opens_the_pair_and_save_writes_the_correction_back(qtbot, window,
                                                                        batch):
    out, rows = batch
    table = _open_batch(qtbot, window, out / "summary.csv")
    triage = window.files.triage
    assert not triage.save_action.isEnabled()
    view = table.table
    cell = view.visualRect(view.model().index(1, 2))  # "doubtful"
    assert view.item(1, 2).text() == "doubtful"
    with qtbot.waitSignal(triage.pair_opened, timeout=TIMEOUT_MS) as blocker:
        _double_click(qtbot, view, cell.center())
    rid = blocker.args[0]
    session = window.session
    assert str(session.recording_info("a").path) == rows[1].a
    assert str(session.recording_info("b").path) == rows[1].b
    # the batch's alignment is the active (and only) result: no default run
    assert session.alignment_ids() == [rid] and session.active_id == rid
    original = read_alignment(out / "doubtful.json")
    assert np.array_equal(session.alignment(rid).path, original.path)
    assert triage.save_action.isEnabled()

    # a correction, then Ctrl+Alt+S writes it back in the batch's format
    al = session.alignment(rid)
    edited = al.replace(path=np.column_stack([al.path[:, 0], al.path[:, 1] // 2]),
                        n_b=al.n_b)
    session.apply_edit(rid, edited, "halve B")
    before = (out / "sure.json").read_bytes()
    with qtbot.waitSignal(triage.saved, timeout=TIMEOUT_MS) as saved:
        window.activateWindow()
        qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier
                        | Qt.KeyboardModifier.AltModifier)
    assert saved.args == [str(out / "doubtful.json")]
    back = read_alignment(out / "doubtful.json")
    assert np.array_equal(back.path, edited.path)
    assert (out / "sure.json").read_bytes() == before  # the other pairs untouched
    assert view.item(1, COLUMNS.index("status")).text() == "ok, corrected"
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))
    # the mark is in the summary, so the batch opened again still shows it
    marks = {r.id: r.corrected for r in read_summary(out)}
    assert marks["doubtful"] and not marks["sure"] and not marks["broken"]
    wait_idle(qtbot, window)
    table = _open_batch(qtbot, window, out)
    ids = [table.table.item(r, 2).text() for r in range(table.table.rowCount())]
    status = table.table.item(ids.index("doubtful"), COLUMNS.index("status"))
    assert status.text() == "ok, corrected" and marks["doubtful"] in status.toolTip()
    assert table.table.item(ids.index("sure"), COLUMNS.index("status")).text() == "ok"
    wait_idle(qtbot, window)


def test_triage_bad_input_gives_messages(qtbot, window, batch, tmp_path):
    out, rows = batch
    # a failed pair cannot be opened
    table = _open_batch(qtbot, window, out)
    view = table.table
    cell = view.visualRect(view.model().index(0, 2))
    _double_click(qtbot, view, cell.center())
    assert "broken" in window.banner.text() and "file not found" in window.banner.text()
    assert window.session.alignment_ids() == []
    # Save to batch with no pair open says so
    window.files.triage.save_to_batch()
    assert "no pair of a batch is open" in window.banner.text()
    # a summary that is not one
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "summary.csv").write_text("x,y\n1,2\n")
    window.files.ask_open = lambda *args: (str(bad), "")
    window.hide_error()
    window.files.triage.open_action.trigger()
    assert window.banner.isVisible()
    assert "summary.csv" in window.banner.text() and "not a batch summary" in \
        window.banner.text()
    # a pair whose output was removed: the message names the file
    (out / "sure.json").unlink()
    table = _open_batch(qtbot, window, out)
    cell = view.visualRect(view.model().index(2, 2))
    window.hide_error()
    _double_click(qtbot, view, cell.center())
    qtbot.waitUntil(window.banner.isVisible, timeout=TIMEOUT_MS)
    assert "sure.json" in window.banner.text()
    assert window.session.alignment_ids() == []
    wait_idle(qtbot, window)


def _column(table, name):
    return [table.table.item(r, COLUMNS.index(name)).text()
            for r in range(table.table.rowCount())]


def _open_with_sure_changed(qtbot, window, batch, **changes):
    """The batch, its pair "sure" with ``changes`` in its summary row, opened."""
    out, rows = batch
    rows = [dataclasses.replace(r, **changes) if r.id == "sure" else r for r in rows]
    write_summary(rows, out / "summary.csv")
    return _open_batch(qtbot, window, out)


def _sorted_twice_by(qtbot, table, name):
    """Column ``name`` after one click on its header, then after a second one."""
    header = table.table.horizontalHeader()
    x = header.sectionViewportPosition(COLUMNS.index(name)) + 5
    orders = []
    for _ in range(2):
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
        orders.append(tuple(_column(table, name)))
    return sorted(orders)


def test_jumps_column_marks_pairs_with_jumps_and_sorts(qtbot, window, batch):
    table = _open_with_sure_changed(qtbot, window, batch, jumps=2)
    # "sure" has the higher confidence, but its path jumps: it comes before "doubtful"
    assert _column(table, "id") == ["broken", "sure", "doubtful"]
    assert _column(table, "jumps") == ["", "2", ""]
    cell = table.table.item(1, COLUMNS.index("jumps"))
    assert cell.background().color().name() == JUMPS_COLOUR
    assert "jumps 2 time(s)" in cell.toolTip()
    assert table.table.item(2, COLUMNS.index("jumps")).background().style() == \
        Qt.BrushStyle.NoBrush
    assert "1 with jumps" in table.header.text()
    # a click on the header sorts by jumps, a second click the other way
    assert _sorted_twice_by(qtbot, table, "jumps") == [("", "", "2"), ("2", "", "")]
    # the "#" column gives the doubt order back
    header = table.table.horizontalHeader()
    x = header.sectionViewportPosition(0) + 5
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, 5))
    if _column(table, "#")[0] != "1":
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(x, 5))
    assert _column(table, "id") == ["broken", "sure", "doubtful"]
    wait_idle(qtbot, window)


def test_jumps_column_tells_a_structure_run_without_jumps_from_a_monotone_one(
        qtbot, window, batch):
    # "sure" ran with structure auto and found no jump; "doubtful" ran monotone
    table = _open_with_sure_changed(qtbot, window, batch, jumps=0)
    assert _column(table, "id") == ["broken", "doubtful", "sure"]
    assert _column(table, "jumps") == ["", "", "0"]
    cell = table.table.item(2, COLUMNS.index("jumps"))
    assert cell.background().style() == Qt.BrushStyle.NoBrush
    assert "with jumps" not in table.header.text()
    wait_idle(qtbot, window)


def test_a_monotone_pair_whose_order_differs_is_marked_and_comes_first(qtbot, window,
                                                                          batch):
    where = "B 8.0-16.3 s (A 7.0-14.3 s)"
    table = _open_with_sure_changed(qtbot, window, batch, order_differs=where)
    # "sure" is the more confident, but its order seems to differ: it comes first
    assert _column(table, "id") == ["broken", "sure", "doubtful"]
    assert _column(table, "jumps") == ["", "order differs", ""]
    cell = table.table.item(1, COLUMNS.index("jumps"))
    assert cell.background().color().name() == ORDER_COLOUR
    assert where in cell.toolTip() and "Run with structure" in cell.toolTip()
    assert "1 whose order seems to differ" in table.header.text()
    wait_idle(qtbot, window)


def test_warning_column_marks_warned_pairs_counts_them_and_sorts(qtbot, window, batch):
    text = "B (take2.wav) has material at its start (0.0-3.5 s) that A (take1.wav) seems to lack"
    table = _open_with_sure_changed(qtbot, window, batch, warning=text, unshared_s=3.5)
    # "sure" is the more confident, but the batch left a part of B out: it comes first
    assert _column(table, "id") == ["broken", "sure", "doubtful"]
    assert _column(table, "warning") == ["", "3.5 s left out", ""]
    cell = table.table.item(1, COLUMNS.index("warning"))
    assert cell.background().color().name() == WARNING_COLOUR
    assert not cell.icon().isNull() and cell.toolTip() == text
    plain = table.table.item(2, COLUMNS.index("warning"))
    assert plain.icon().isNull() and plain.background().style() == Qt.BrushStyle.NoBrush
    assert "1 with a warning" in table.header.text()
    assert _sorted_twice_by(qtbot, table, "warning") == [("", "", "3.5 s left out"),
                                                         ("3.5 s left out", "", "")]
    wait_idle(qtbot, window)


def test_a_batch_with_a_lead_in_one_side_lacks_warns_up_to_the_triage(qtbot, window,
                                                                       lead_in_pair,
                                                                       tmp_path, capfd):
    """End to end on generated media: B has 4 s of noise before the melody A plays; the
    batch command's summary row carries the warning and the seconds left out, its pair's
    line says it and its last line counts the warned pair, and the triage window marks
    it."""
    from core import cli
    from core.batch import read_summary

    a, b = lead_in_pair
    manifest = tmp_path / "pairs.csv"
    manifest.write_text(f"id,a,b\nlead,{a},{b}\nsame,{a},{a}\n")
    out = tmp_path / "out"
    assert cli.main(["batch", str(manifest), "-o", str(out), "--workers", "1"]) == 0
    err = capfd.readouterr().err.splitlines()  # the workers' too
    assert any(line.startswith("batch: lead: ok, warning: B (b.wav) has material at its "
                               "start") for line in err), err
    assert err[-1].startswith("batch: 2 pairs: 2 aligned, 0 failed, 1 with a warning"), err
    # said once, with its pair: the worker does not print it as well
    assert not any("PartialOverlapWarning" in line for line in err), err
    lead, same = read_summary(out)
    assert lead.warning.startswith("B (b.wav) has material at its start (0.0-3.")
    assert 3.0 < lead.unshared_s <= 4.5
    assert (same.warning, same.unshared_s) == ("", None)
    table = _open_batch(qtbot, window, out)
    assert _column(table, "id") == ["lead", "same"]
    cell = table.table.item(0, COLUMNS.index("warning"))
    assert cell.text() == f"{lead.unshared_s:.1f} s left out"
    assert cell.toolTip() == lead.warning and not cell.icon().isNull()
    assert "1 with a warning" in table.header.text()
    qtbot.waitUntil(lambda: table.has_thumbnail(0) and table.has_thumbnail(1),
                    timeout=TIMEOUT_MS)
    wait_idle(qtbot, window)


def test_a_summary_without_the_jumps_column_still_opens(qtbot, window, batch):
    out, rows = batch
    lines = (out / "summary.csv").read_text().splitlines()
    assert lines[0].endswith(",jumps,warning,unshared_s,corrected,order_differs")
    (out / "summary.csv").write_text("\n".join(line.rsplit(",", 4)[0] for line in lines)
                                     + "\n")
    table = _open_batch(qtbot, window, out)
    assert not window.banner.isVisible()
    assert _column(table, "id") == ["broken", "doubtful", "sure"]
    assert _column(table, "jumps") == ["", "", ""]
    assert _column(table, "warning") == ["", "", ""]
    assert "with jumps" not in table.header.text()
    assert "with a warning" not in table.header.text()
    wait_idle(qtbot, window)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_batch_pair_with_pieces_opens_as_a_result_with_jumps(qtbot, window, repeat_pair,
                                                               tmp_path, fmt):
    """End to end: a tiny batch with structure auto on generated media (B repeats a
    section of A), its output (JSON pieces or CSV piece column) opened from the triage
    window: the workspace shows the pieces as it shows an imported ``align --structure
    auto`` result, and Save to batch writes them back as pieces."""
    from core import cli
    from core.batch import align_pairs

    a, b = repeat_pair
    out = tmp_path / "out"
    rows = align_pairs([{"id": "repeat", "a": a, "b": b, "structure": "auto"},
                        {"id": "same", "a": a, "b": a, "structure": "auto"}],
                       out, format=fmt, n_workers=1)
    assert [r.status for r in rows] == ["ok", "ok"], [r.error for r in rows]
    assert rows[0].jumps and rows[1].jumps == 0  # auto ran on "same" and found none
    output = out / f"repeat.{fmt}"
    batch_pw = read_alignment(output)
    # what a single pair's align --structure auto writes
    single = tmp_path / f"single.{fmt}"
    assert cli.main(["align", a, b, "-o", str(single), "--structure", "auto", "-q"]) == 0
    single_pw = read_alignment(single)
    assert isinstance(batch_pw, PiecewiseAlignment) and isinstance(single_pw,
                                                                   PiecewiseAlignment)
    assert len(batch_pw.jumps) == rows[0].jumps == len(single_pw.jumps)
    for got, want in zip(batch_pw.pieces, single_pw.pieces, strict=True):
        assert np.array_equal(got.path, want.path)

    table = _open_batch(qtbot, window, out)
    assert _column(table, "id") == ["repeat", "same"]
    assert _column(table, "jumps") == [str(rows[0].jumps), "0"]
    triage = window.files.triage
    view = table.table
    r = _column(table, "id").index("repeat")
    cell = view.visualRect(view.model().index(r, COLUMNS.index("id")))
    with qtbot.waitSignal(triage.pair_opened, timeout=TIMEOUT_MS) as blocker:
        _double_click(qtbot, view, cell.center())
    rid = blocker.args[0]
    wait_idle(qtbot, window)
    session = window.session
    assert session.alignment_ids() == [rid] and session.active_id == rid
    shown = piecewise_of(session.alignment(rid))
    assert shown is not None, "the pieces were flattened into one monotone path"
    assert len(shown.pieces) == len(single_pw.pieces)
    for got, want in zip(shown.pieces, single_pw.pieces, strict=True):
        assert np.array_equal(got.path, want.path)
    # the matrix draws it as an imported result with jumps: each piece its own curve,
    # both ends of each jump marked, the carrier's monotone curve hidden
    st = window.structure
    assert len(st.piece_curves) == len(shown.pieces)
    assert len(st.jump_marks.data) == 2 * len(shown.jumps)
    assert not window.matrix.path_curves["active"].isVisible()
    # the cursor follows a jump: B inside the repeat (12-16 s) is A's section 2 (4-8 s)
    session.move_cursor("b", 14.0)
    assert session.cursor[0] == pytest.approx(6.0, abs=0.5)

    # Save to batch keeps the pieces (the file's format holds them)
    with qtbot.waitSignal(triage.saved, timeout=TIMEOUT_MS):
        triage.save_action.trigger()
    back = read_alignment(output)
    assert isinstance(back, PiecewiseAlignment) and len(back.pieces) == len(shown.pieces)
    for got, want in zip(back.pieces, shown.pieces, strict=True):
        assert np.array_equal(got.path, want.path)
    assert view.item(r, COLUMNS.index("status")).text() == "ok, corrected"
    wait_idle(qtbot, window)


def test_save_to_batch_refuses_jumps_in_a_format_that_holds_one_path(qtbot, window, batch):
    """A result with jumps saved to a batch whose format holds one monotone path (here
    TextGrid) is refused with a message naming the pair; the file is not touched."""
    from core.structure.carrier import to_carrier

    out, rows = batch
    al = read_alignment(out / "doubtful.json")
    write_alignment(al, out / "doubtful.TextGrid")
    rows = [dataclasses.replace(r, output="doubtful.TextGrid") if r.id == "doubtful" else r
            for r in rows]
    write_summary(rows, out / "summary.csv")
    table = _open_batch(qtbot, window, out)
    triage = window.files.triage
    r = _column(table, "id").index("doubtful")
    view = table.table
    with qtbot.waitSignal(triage.pair_opened, timeout=TIMEOUT_MS):
        _double_click(qtbot, view, view.visualRect(view.model().index(r, 2)).center())
    wait_idle(qtbot, window)
    # a result with a jump back: B's second half plays part of A's first half again
    opened = window.session.active_alignment()
    path = opened.path
    half = len(path) // 2
    second = path[half:].copy()
    second[:, 0] -= second[0, 0] // 2
    pieces = PiecewiseAlignment(tuple(
        Alignment(p, opened.rate_a_hz, opened.rate_b_hz, n_a=opened.n_a, n_b=opened.n_b,
                  method="dtw") for p in (path[:half], second)))
    assert len(pieces.jumps) == 1
    window.session.add_alignment(to_carrier(pieces), label="with a jump")
    before = (out / "doubtful.TextGrid").read_bytes()
    window.hide_error()
    triage.save_to_batch()
    qtbot.waitUntil(window.banner.isVisible, timeout=TIMEOUT_MS)
    text = window.banner.text()
    assert text.startswith("pair doubtful: ") and "jumps" in text and "textgrid" in text
    assert (out / "doubtful.TextGrid").read_bytes() == before
    wait_idle(qtbot, window)


def _open_one_pair(qtbot, window, out, al, a, b, confidence) -> int:
    """A summary of one pair (``out/pair.json``, already written) opened in the triage,
    the pair double-clicked; returns its result id."""
    write_summary([SummaryRow("pair", "ok", "", al.n_a / al.rate_a_hz, al.n_b / al.rate_b_hz,
                              1.0, confidence, 0.0, "music", "pair.json", a, b)],
                  out / "summary.csv")
    table = _open_batch(qtbot, window, out / "summary.csv")
    with qtbot.waitSignal(window.files.triage.pair_opened, timeout=TIMEOUT_MS) as blocker:
        _double_click(qtbot, table.table, table.table.visualRect(
            table.table.model().index(0, 2)).center())
    return blocker.args[0]


def test_a_batch_pair_opened_alone_is_corrected_with_an_anchor(qtbot, window, audio_pair,
                                                               tmp_path):
    """A pair opened from the triage has its batch file's path and no other result: a
    Shift+click re-solves it exactly on the recordings (the default pipeline's terms);
    it used to say "the active result's features are not at hand yet", for good."""
    from core import align_files

    a, b = audio_pair
    out = tmp_path / "out"
    out.mkdir()
    al = align_files(a, b)
    write_alignment(al, out / "pair.json")
    rid = _open_one_pair(qtbot, window, out, al, a, b, float(np.mean(al.confidence)))
    wait_idle(qtbot, window)
    anchor_corrects(qtbot, window, rid, 2.0, float(al.map_a_to_b(2.0)) + 0.25)
    wait_idle(qtbot, window)


def test_a_batch_pair_opens_with_the_settings_the_batch_ran_with(qtbot, window, audio_pair,
                                                                  tmp_path):
    """The method panel shows the method, values and features of the batch's run (the
    result file keeps them), not its own defaults; Save to batch keeps them too."""
    from core import registry
    from core.formats import read_recipe

    a, b = audio_pair
    out = tmp_path / "out"
    out.mkdir()
    recipe = registry.recipe("dtw", {"window": "sakoe_chiba", "radius_s": 1.5,
                                     "metric": "cosine"}, feature="mfcc", rate_hz=20.0)
    run = registry.run(recipe, open_recording(a), open_recording(b))
    al = run.alignment
    write_alignment(al, out / "pair.json", recipe=run.recipe)
    panel = window.method_panel
    assert (panel.feature_a.currentData(), panel.rate_field.value()) != ("mfcc", 20.0)
    rid = _open_one_pair(qtbot, window, out, al, a, b, 0.9)
    triage = window.files.triage
    assert panel.current_method() == "dtw"
    assert panel.feature_a.currentData() == "mfcc" == panel.feature_b.currentData()
    assert panel.rate_field.value() == 20.0
    assert panel.values()["window"] == "sakoe_chiba"
    assert panel.values()["radius_s"] == 1.5 and panel.values()["metric"] == "cosine"
    assert window.session.recipe(rid).features_a[0].name == "mfcc"
    # and the cost matrix of those features (a file's result used to come without one)
    qtbot.waitUntil(lambda: window.session.matrix_inputs(rid) is not None,
                    timeout=TIMEOUT_MS)
    fa, fb, metric = window.session.matrix_inputs(rid)
    assert (fa.name, fa.rate_hz, fb.name, metric) == ("mfcc", 20.0, "mfcc", "cosine")
    wait_idle(qtbot, window)
    assert window.matrix.image.image is not None
    with qtbot.waitSignal(triage.saved, timeout=TIMEOUT_MS):
        triage.save_to_batch()
    assert read_recipe(out / "pair.json").features_a[0].name == "mfcc"
    wait_idle(qtbot, window)


def test_a_batch_pair_of_an_older_batch_still_opens_with_the_panel_as_it_was(
        qtbot, window, batch):
    out, rows = batch  # written without settings
    panel = window.method_panel
    before = (panel.current_method(), panel.feature_a.currentData(), panel.values())
    table = _open_batch(qtbot, window, out)
    with qtbot.waitSignal(window.files.triage.pair_opened, timeout=TIMEOUT_MS):
        _double_click(qtbot, table.table, table.table.visualRect(
            table.table.model().index(1, 2)).center())
    assert (panel.current_method(), panel.feature_a.currentData(), panel.values()) == before
    wait_idle(qtbot, window)


def test_a_file_path_without_features_anywhere_says_what_to_do(qtbot, window, batch):
    """A path of another tool opened alone from the triage cannot be re-solved (no
    features, no recipe): a Shift+click says so and what to do, once."""
    from inspector.editing import NO_FEATURES

    out, _rows = batch
    table = _open_batch(qtbot, window, out / "summary.csv")
    view = table.table
    with qtbot.waitSignal(window.files.triage.pair_opened, timeout=TIMEOUT_MS) as blocker:
        _double_click(qtbot, view, view.visualRect(view.model().index(1, 2)).center())
    rid = blocker.args[0]
    wait_idle(qtbot, window)
    with qtbot.waitSignal(window.session.error_reported, timeout=TIMEOUT_MS) as said:
        window.editor.add_anchor(1.0, 1.2)
    assert said.args == [NO_FEATURES.format(aid=rid)]
    wait_idle(qtbot, window)
    assert window.session.alignment_ids() == [rid]
