"""Helpers shared by the GUI tests (imported by name: tests/inspector is on sys.path)."""

from __future__ import annotations

TIMEOUT_MS = 60_000


def open_pair(qtbot, window, a, b) -> int:
    """Open A and B and wait for the default alignment; returns its id."""
    with qtbot.waitSignal(window.workspace.default_alignment_finished,
                          timeout=TIMEOUT_MS) as blocker:
        window.workspace.open_file("a", a)
        window.workspace.open_file("b", b)
    aid = blocker.args[0]
    assert aid != -1, window.banner.text()
    return aid


def wait_idle(qtbot, window) -> None:
    """Wait until no job runs and no view waits for its turn to draw a new alignment
    (results drawn, no worker left)."""
    from inspector.views.common import turn_queue

    queue = turn_queue(window.session)
    # (a view's turn submits its jobs synchronously: both zero means all is drawn)
    link = getattr(window, "linked_zoom", None)  # views waiting to follow a zoom
    qtbot.waitUntil(lambda: window.jobs.n_running == 0 and queue.n_pending == 0
                    and (link is None or link.n_pending == 0), timeout=TIMEOUT_MS)


def anchor_corrects(qtbot, window, rid, time_a_s, time_b_s) -> int:
    """Shift+click's anchor on result ``rid`` (the active one): waits for the re-solve,
    checks that no error was said and that the new manual result passes through the
    anchor (within a frame and a half); returns its id."""
    errors = []
    window.session.error_reported.connect(errors.append)
    with qtbot.waitSignal(window.editor.resolved, timeout=TIMEOUT_MS) as done:
        window.editor.add_anchor(time_a_s, time_b_s)
    window.session.error_reported.disconnect(errors.append)
    assert errors == []
    new = done.args[0]
    assert new != rid and window.session.active_id == new
    al = window.session.alignment(new)
    assert abs(float(al.map_a_to_b(time_a_s)) - time_b_s) <= 1.5 / al.rate_b_hz
    return new
