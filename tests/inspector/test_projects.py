"""Projects in the window: save (Ctrl+S), the unsaved mark, close asks, round trip,
missing media, recovery after a crash. Dialogs are replaced; keys and clicks are real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from inspector_gui_helpers import TIMEOUT_MS, open_pair, wait_idle
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtTest import QTest

from core import project_file as pf
from core.alignment import Alignment


class FakeDialogs:
    """Answers given in advance; records what was asked."""

    def __init__(self, save_as=None, unsaved="cancel", locate=None, open_=None):
        self.save_as, self.unsaved, self.locate, self.open_ = save_as, unsaved, locate, open_
        self.asked = []

    def open_project(self, parent):
        self.asked.append("open")
        return self.open_

    def save_project_as(self, parent, suggested):
        self.asked.append("save_as")
        return self.save_as

    def ask_unsaved(self, parent, name):
        self.asked.append(("unsaved", name))
        return self.unsaved

    def locate_media(self, parent, slot, entry):
        self.asked.append(("locate", slot))
        return self.locate


@pytest.fixture
def make_window(qtbot, tmp_path):
    """Windows with fake dialogs and a data folder in tmp_path; shut down after."""
    from inspector.app import MainWindow

    made = []

    def make(dialogs=None, active=False, **kwargs):
        win = MainWindow(settings=None, **kwargs)
        qtbot.addWidget(win)
        win.projects.dialogs = dialogs or FakeDialogs()
        win.projects.data_dir = tmp_path / "data"
        win.projects._untitled = tmp_path / "data" / "recovery" / f"untitled-{len(made)}" \
            f"{pf.SUFFIX}{pf.RECOVERY_SUFFIX}"
        if active:
            win.projects.activate(offer_recovery=False)
        win.show()
        qtbot.waitExposed(win)
        win.activateWindow()
        made.append(win)
        return win

    yield make
    for win in made:
        win.projects.active = False  # teardown closes without asking
        win.shutdown()
        assert win.jobs.n_running == 0


def press(window, key, modifiers=Qt.KeyboardModifier.NoModifier):
    window.activateWindow()
    QTest.keyClick(window, key, modifiers)


def open_project(qtbot, window, path):
    with qtbot.waitSignal(window.projects.loaded, timeout=TIMEOUT_MS):
        assert window.open_project_file(str(path))
    wait_idle(qtbot, window)


def test_ctrl_s_saves_and_clears_the_unsaved_mark(qtbot, make_window, audio_pair, tmp_path):
    out = tmp_path / "work.alignproj"
    win = make_window(FakeDialogs(save_as=str(out)))
    assert not win.isWindowModified()
    open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    assert win.isWindowModified() and "[*]" in win.windowTitle()
    with qtbot.waitSignal(win.projects.saved, timeout=TIMEOUT_MS):
        press(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert win.projects.dialogs.asked == ["save_as"]
    assert out.is_file() and not win.isWindowModified()
    assert win.windowTitle().startswith("work.alignproj")
    # an edit marks it again (Ctrl+Shift+X swaps A and B: a real key)
    press(win, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier
          | Qt.KeyboardModifier.ShiftModifier)
    assert win.isWindowModified()
    wait_idle(qtbot, win)
    with qtbot.waitSignal(win.projects.saved, timeout=TIMEOUT_MS):
        press(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # no question now
    assert win.projects.dialogs.asked == ["save_as"] and not win.isWindowModified()
    q, _ = pf.load_project(out)
    assert q.recording("a").path == audio_pair[1]  # saved after the swap
    recent = [a.text() for a in win.projects.recent_menu.actions()]
    assert recent == [str(out)]  # the full path


def test_a_failed_save_then_a_save_elsewhere_clears_the_message(qtbot, make_window,
                                                                 audio_pair, tmp_path):
    """"project not saved: ... the folder ... does not exist" stayed up after the project
    was saved elsewhere (Save project as...), saying it was not saved."""
    win = make_window(FakeDialogs(save_as=str(tmp_path / "gone" / "p.alignproj")))
    open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    press(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(win.banner.isVisible, timeout=TIMEOUT_MS)
    assert "project not saved" in win.banner.text() and win.isWindowModified()
    win.projects.dialogs.save_as = str(tmp_path / "p.alignproj")
    with qtbot.waitSignal(win.projects.saved, timeout=TIMEOUT_MS):
        press(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier
              | Qt.KeyboardModifier.ShiftModifier)
    assert not win.banner.isVisible() and not win.isWindowModified()


def test_cursor_moves_do_not_mark_the_project(qtbot, make_window, audio_pair, tmp_path):
    win = make_window(FakeDialogs(save_as=str(tmp_path / "p.alignproj")))
    open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    assert win.projects.save(wait=True)
    press(win, Qt.Key.Key_Right)
    assert win.session.cursor[0] > 0 and not win.isWindowModified()


@pytest.mark.parametrize("answer", ["cancel", "discard", "save"])
def test_closing_with_unsaved_changes_asks(qtbot, make_window, audio_pair, tmp_path, answer):
    out = tmp_path / "p.alignproj"
    win = make_window(FakeDialogs(save_as=str(out), unsaved=answer), active=True)
    open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    win.close()  # as the title bar's close button does: a close event
    assert ("unsaved", "Untitled project") in win.projects.dialogs.asked
    assert win.isVisible() == (answer == "cancel")
    assert out.is_file() == (answer == "save")


def test_closing_a_saved_project_does_not_ask(qtbot, make_window, audio_pair, tmp_path):
    win = make_window(FakeDialogs(save_as=str(tmp_path / "p.alignproj")), active=True)
    open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    assert win.projects.save(wait=True)
    win.close()
    assert not win.isVisible()
    assert not any(isinstance(a, tuple) for a in win.projects.dialogs.asked)


def _edit(session, rid):
    al = session.alignment(rid)
    path = np.vstack([al.path[: len(al.path) // 2], al.path[-1:]])
    session.apply_edit(rid, Alignment(path, al.rate_a_hz, al.rate_b_hz, al.n_a, al.n_b,
                                      method="manual"), "shortcut the path")


def test_round_trip_through_the_window(qtbot, make_window, audio_pair, tmp_path):
    out = tmp_path / "p.alignproj"
    win = make_window(FakeDialogs(save_as=str(out)))
    rid = open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    s = win.session
    before = s.alignment(rid).path.copy()
    _edit(s, rid)
    s.add_anchor(1.0, 1.3)
    s.move_cursor_to(2.0, 2.4)
    win.stream_a.set_visible_range(0.5, 3.0)  # one range per recording (linked zoom)
    win.matrix.set_view_seconds(0.5, 3.0, 1.0, 3.5)
    with qtbot.waitSignal(win.projects.saved, timeout=TIMEOUT_MS):
        press(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert out.is_file()

    other = make_window()
    open_project(qtbot, other, out)
    t = other.session
    assert t.alignment_ids() == s.alignment_ids()
    assert np.array_equal(t.alignment(rid).path, s.alignment(rid).path)
    assert t.anchors == s.anchors and t.cursor == s.cursor
    assert other.stream_a.visible_range() == pytest.approx((0.5, 3.0))
    assert other.matrix.view_seconds() == pytest.approx((0.5, 3.0, 1.0, 3.5))
    assert other.matrix.image.image is not None  # the cost image was recomputed
    assert not other.isWindowModified()
    assert other.windowTitle().startswith("p.alignproj")
    assert t.undo() == "shortcut the path"  # undo works after reopening
    assert np.array_equal(t.alignment(rid).path, before)
    assert other.isWindowModified()


def test_a_reopened_project_whose_active_result_was_imported_shows_the_matrix(
        qtbot, make_window, audio_pair, tmp_path):
    """Saved with a result read from a file active (no features of its own), the project
    reopened on a blank matrix (the window had shown the computed result's cost image
    under it, and a correction of it still re-solves on those features), and the view
    saved was lost to a reset when another result was picked."""
    out = tmp_path / "p.alignproj"
    win = make_window(FakeDialogs(save_as=str(out)))
    rid = open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    s = win.session
    csv = tmp_path / "other_tool.csv"
    np.savetxt(csv, s.alignment(rid).times_s, delimiter=",", fmt="%.6f")
    with qtbot.waitSignal(win.files.imported, timeout=TIMEOUT_MS) as blocker:
        win.files.import_alignment(str(csv))
    imported = blocker.args[0]
    wait_idle(qtbot, win)
    assert s.active_id == imported and s.matrix_inputs(imported) is None
    assert win.matrix.image.image is not None  # the computed result's image, still shown
    win.stream_a.set_visible_range(0.5, 3.0)
    win.matrix.set_view_seconds(0.5, 3.0, 1.0, 3.5)
    with qtbot.waitSignal(win.projects.saved, timeout=TIMEOUT_MS):
        press(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    other = make_window()
    open_project(qtbot, other, out)
    assert other.session.active_id == imported
    qtbot.waitUntil(lambda: other.matrix.image.image is not None, timeout=TIMEOUT_MS)
    wait_idle(qtbot, other)
    assert other.matrix.view_seconds() == pytest.approx((0.5, 3.0, 1.0, 3.5))
    assert other.stream_a.visible_range() == pytest.approx((0.5, 3.0))


def test_a_reopened_project_sets_the_method_panel_as_the_default_alignment_did(
        qtbot, make_window, audio_pair, tmp_path):
    """The panel starts from the features, rate and metric the default pipeline used,
    whether the pair was just aligned or its project reopened (it used to show the
    registry's defaults, 25 Hz and euclidean, after a reopen with two results)."""
    out = tmp_path / "p.alignproj"
    win = make_window(FakeDialogs(save_as=str(out)))
    rid = open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    win.editor.add_anchor(1.0, 1.3)  # the first edit makes a manual result beside it
    qtbot.waitUntil(lambda: len(win.session.alignment_ids()) == 2, timeout=TIMEOUT_MS)
    wait_idle(qtbot, win)
    panel = win.method_panel
    seen = (panel.feature_a.currentData(), panel.feature_b.currentData(),
            panel.rate_field.value(), panel.field("dtw", "metric").value())
    spec_a, spec_b, metric = win.session.project.result(rid).image
    assert seen == (spec_a.name, spec_b.name, min(spec_a.rate_hz, spec_b.rate_hz), metric)
    with qtbot.waitSignal(win.projects.saved, timeout=TIMEOUT_MS):
        press(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    other = make_window()
    open_project(qtbot, other, out)
    assert len(other.session.alignment_ids()) == 2
    shown = other.method_panel
    assert (shown.feature_a.currentData(), shown.feature_b.currentData(),
            shown.rate_field.value(), shown.field("dtw", "metric").value()) == seen


def test_missing_media_are_named_and_can_be_located(qtbot, make_window, audio_pair,
                                                    tmp_path):
    out = tmp_path / "p.alignproj"
    win = make_window(FakeDialogs(save_as=str(out)))
    rid = open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    assert win.projects.save(wait=True)
    moved = tmp_path / "moved"
    moved.mkdir()
    for p in audio_pair:
        shutil.move(p, moved / Path(p).name)
    before = out.read_bytes()

    other = make_window(FakeDialogs(locate=str(moved / "a.wav")))
    open_project(qtbot, other, out)
    bar = other.projects.media_bar
    assert bar.isVisible() and "a.wav not found" in bar.label.text()
    assert "b.wav not found" in bar.label.text()
    assert other.session.alignment_ids() == [rid]  # the rest opened
    assert out.read_bytes() == before
    qtbot.mouseClick(bar.buttons["Locate A…"], Qt.MouseButton.LeftButton)
    # A is opened from where the user pointed, B is found next to it
    qtbot.waitUntil(lambda: other.session.has_both(), timeout=TIMEOUT_MS)
    wait_idle(qtbot, other)
    assert other.session.recording("b").path == moved / "b.wav"
    assert other.session.alignment_ids() == [rid]
    assert not bar.isVisible()
    assert other.isWindowModified()


def test_a_bad_project_shows_an_error_and_keeps_the_window(qtbot, make_window, audio_pair,
                                                           tmp_path):
    bad = tmp_path / "bad.alignproj"
    bad.write_bytes(b'{"format":"alignment-inspector-project","version":99}')
    win = make_window(FakeDialogs(unsaved="discard"))
    rid = open_pair(qtbot, win, *audio_pair)
    with qtbot.waitSignal(win.projects.load_failed, timeout=TIMEOUT_MS):
        win.open_project_file(str(bad))
    assert win.projects.dialogs.asked == [("unsaved", "Untitled project")]
    assert str(bad) in win.banner.text() and "newer" in win.banner.text()
    assert win.session.alignment_ids() == [rid]
    assert win.isWindowModified()  # what it shows is still unsaved
    wait_idle(qtbot, win)


def test_dropping_a_project_opens_it(qtbot, make_window, audio_pair, tmp_path):
    out = tmp_path / "p.alignproj"
    win = make_window(FakeDialogs(save_as=str(out)))
    open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    win.projects.save(wait=True)
    other = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(out))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(other.projects.loaded, timeout=TIMEOUT_MS):
        other.dropEvent(event)
    wait_idle(qtbot, other)
    assert len(other.session.alignment_ids()) == 1


def test_autosave_after_enough_edits(qtbot, make_window, audio_pair, tmp_path):
    win = make_window(active=True)
    win.projects.autosave_edits = 3
    open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    rec = win.projects._recovery_target()
    assert rec.parent == tmp_path / "data" / "recovery"
    qtbot.waitUntil(lambda: bool(pf.recovery_files(rec)), timeout=TIMEOUT_MS)  # opening
    win.projects.edits = 0
    win.session.add_anchor(0.5, 0.6)
    win.session.add_anchor(1.5, 1.6)
    wait_idle(qtbot, win)
    assert pf.read_recovery(rec).snapshot["anchors"] == []  # 2 edits: not yet
    win.session.add_anchor(2.5, 2.6)
    wait_idle(qtbot, win)
    assert len(pf.read_recovery(rec).snapshot["anchors"]) == 3
    assert len(pf.recovery_files(rec)) >= 2  # the previous one kept as a backup


def test_autosave_of_a_project_in_a_folder_that_cannot_be_written_goes_to_the_data_folder(
        qtbot, make_window, audio_pair, tmp_path, monkeypatch):
    """A project opened from a read-only share or medium: its recovery file cannot go
    beside it (every autosave failed, with a status message, and a crash lost the work),
    so it goes to the data folder, naming the project; saving removes it."""
    import inspector.project_io as project_io

    folder = tmp_path / "share"
    folder.mkdir()
    out = folder / "p.alignproj"
    win = make_window(FakeDialogs(save_as=str(out)), active=True)
    open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    win.projects.save(wait=True)
    # root writes anywhere: the share's read-only state is told by _writable
    monkeypatch.setattr(project_io, "_writable", lambda f: Path(f) != folder)
    win.projects.autosave_edits = 1
    win.session.add_anchor(0.5, 0.6)
    wait_idle(qtbot, win)
    rec = win.projects._recovery_target()
    assert rec.parent == tmp_path / "data" / "recovery" and rec.name.startswith("p-")
    qtbot.waitUntil(lambda: bool(pf.recovery_files(rec)), timeout=TIMEOUT_MS)
    loaded = pf.read_recovery(rec)
    assert loaded.header["recovery"]["project"] == str(out.absolute())
    assert loaded.snapshot["anchors"]  # the unsaved anchor
    assert not pf.recovery_files(pf.recovery_path(out))  # nothing beside the project
    monkeypatch.setattr(project_io, "_writable", lambda f: True)  # writable again
    with qtbot.waitSignal(win.projects.saved, timeout=TIMEOUT_MS):
        press(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not pf.recovery_files(rec)


CRASH = """
import os, signal, sys
from core import project_file as pf
from core.project import Project
project, _ = pf.load_project(sys.argv[1])
project.add_anchor(0.5, 0.7)
pf.write_recovery(project, sys.argv[2], edits=1)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _crashed_session(tmp_path, audio_pair, make_window, qtbot):
    """A saved project, then a process that autosaves unsaved work and is killed."""
    out = tmp_path / "p.alignproj"
    win = make_window(FakeDialogs(save_as=str(out)))
    open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    win.projects.save(wait=True)
    rec = tmp_path / "data" / "recovery" / f"untitled-crashed{pf.SUFFIX}{pf.RECOVERY_SUFFIX}"
    rec.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.run([sys.executable, "-c", CRASH, str(out), str(rec)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr
    return rec


def test_after_a_crash_the_next_start_offers_to_restore(qtbot, make_window, audio_pair,
                                                        tmp_path):
    rec = _crashed_session(tmp_path, audio_pair, make_window, qtbot)
    win = make_window(FakeDialogs(save_as=str(tmp_path / "restored.alignproj")))
    assert win.projects.offer_recovery()
    bar = win.projects.recovery_bar
    assert bar.isVisible()
    text = bar.label.text()
    assert "an unsaved project" in text and "a.wav" in text and "1 result" in text
    assert "autosaved at 20" in text  # when, as a date and time
    with qtbot.waitSignal(win.projects.loaded, timeout=TIMEOUT_MS):
        qtbot.mouseClick(bar.buttons["Restore"], Qt.MouseButton.LeftButton)
    wait_idle(qtbot, win)
    assert win.session.anchors == ((0.5, 0.7),)
    assert win.isWindowModified()  # restored work is unsaved
    assert pf.recovery_files(rec)  # kept until saved
    with qtbot.waitSignal(win.projects.saved, timeout=TIMEOUT_MS):
        press(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not pf.recovery_files(rec)
    assert not win.projects.offer_recovery()


def test_declining_keeps_the_recovery_file(qtbot, make_window, audio_pair, tmp_path):
    rec = _crashed_session(tmp_path, audio_pair, make_window, qtbot)
    win = make_window()
    assert win.projects.offer_recovery()
    qtbot.mouseClick(win.projects.recovery_bar.buttons["Not now"], Qt.MouseButton.LeftButton)
    assert not win.projects.recovery_bar.isVisible()
    assert pf.recovery_files(rec)
    assert make_window().projects.offer_recovery()  # offered again at the next start


def test_a_change_during_a_background_save_stays_unsaved(qtbot, make_window, audio_pair,
                                                         tmp_path):
    out = tmp_path / "p.alignproj"
    win = make_window(FakeDialogs(save_as=str(out)))
    open_pair(qtbot, win, *audio_pair)
    wait_idle(qtbot, win)
    with qtbot.waitSignal(win.projects.saved, timeout=TIMEOUT_MS):
        assert win.projects.save()  # on a worker
        win.session.add_anchor(1.0, 1.1)  # before the save is done
    assert win.isWindowModified()
    assert pf.load_project(out)[0].anchors == ()  # the save has the state it started with
