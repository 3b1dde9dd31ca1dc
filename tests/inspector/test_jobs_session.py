"""JobRunner (frozen requests, latest wins, errors, cancel) and Session (cursor, ids)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.alignment import Alignment
from core.errors import Cancelled
from inspector.jobs import JobRunner, Request, freeze
from inspector.session import Session, transpose_alignment

TIMEOUT_MS = 20_000


@pytest.fixture
def runner(qtbot):
    jobs = JobRunner()
    yield jobs
    assert jobs.shutdown(10_000)
    assert jobs._pool.activeThreadCount() == 0


def add(a, b, *, progress=None, cancel=None):
    progress(1.0)
    return a + b


def wait_for_cancel(event, *, progress=None, cancel=None):
    event.set()
    while not cancel():
        threading.Event().wait(0.005)
    raise Cancelled("stop")


def fail(*, progress=None, cancel=None):
    raise ValueError("x: expected something else")


def test_a_request_is_a_frozen_snapshot():
    a = np.arange(4.0)
    req = Request("c", add, (a, 1), {"p": {"k": [1, 2]}})
    a[0] = 99.0
    assert req.args[0][0] == 0.0
    assert not req.args[0].flags.writeable
    with pytest.raises(TypeError):
        req.kwargs["p"]["k"] = 3
    assert req.kwargs["p"]["k"] == (1, 2)
    ro = freeze(np.zeros(3))
    assert freeze(ro) is ro


def test_a_job_returns_its_result_with_its_id(qtbot, runner):
    with qtbot.waitSignal(runner.job_returned, timeout=TIMEOUT_MS) as blocker:
        job = runner.submit(Request("sum", add, (2, 3)))
    assert blocker.args == [job, "sum", 5]
    qtbot.waitUntil(lambda: runner.n_running == 0, timeout=TIMEOUT_MS)


def test_errors_are_reported_as_messages(qtbot, runner):
    with qtbot.waitSignal(runner.job_failed, timeout=TIMEOUT_MS) as blocker:
        runner.submit(Request("bad", fail))
    assert blocker.args[2] == "x: expected something else"
    qtbot.waitUntil(lambda: runner.n_running == 0, timeout=TIMEOUT_MS)


def test_the_latest_request_of_a_channel_wins(qtbot, runner):
    started = threading.Event()
    returned = []
    runner.job_returned.connect(lambda i, c, r: returned.append((i, r)))
    with qtbot.waitSignal(runner.job_cancelled, timeout=TIMEOUT_MS) as cancelled:
        first = runner.submit(Request("c", wait_for_cancel, (started,)))
        assert started.wait(10)
        second = runner.submit(Request("c", add, (1, 1)))
    assert cancelled.args[0] == first
    qtbot.waitUntil(lambda: runner.n_running == 0, timeout=TIMEOUT_MS)
    assert returned == [(second, 2)]
    assert runner.is_latest(second) and not runner.is_latest(first)


def test_cancel_and_shutdown_stop_a_running_job(qtbot, runner):
    started = threading.Event()
    runner.submit(Request("c", wait_for_cancel, (started,)))
    assert started.wait(10)
    assert runner.is_running("c")
    with qtbot.waitSignal(runner.job_cancelled, timeout=TIMEOUT_MS):
        assert runner.cancel("c")
    qtbot.waitUntil(lambda: runner.n_running == 0, timeout=TIMEOUT_MS)
    started.clear()
    runner.submit(Request("d", wait_for_cancel, (started,)))
    assert started.wait(10)
    assert runner.shutdown(10_000)
    assert runner.n_running == 0


def small_alignment():
    path = np.array([[0, 0], [1, 0], [2, 1], [3, 2], [3, 3], [4, 4]])
    return Alignment(path, 10.0, 20.0, n_a=5, n_b=5, method="test",
                     plan=np.eye(5), confidence=np.linspace(0, 1, 6))


class FakeRecording:
    def __init__(self, duration_s, kind="audio"):
        self.duration_s = duration_s
        self.kind = kind
        self.rate_hz = 100.0
        self.path = f"/fake/{kind}_{duration_s}.wav"


def test_session_cursor_follows_the_active_alignment(qtbot):
    s = Session()
    s.set_recording("a", FakeRecording(1.0))
    s.set_recording("b", FakeRecording(1.0))
    s.move_cursor("a", 0.2)
    assert s.cursor == (0.2, 0.0)  # no alignment: B keeps its time
    al = small_alignment()
    with qtbot.waitSignals([s.alignment_added, s.active_alignment_changed]):
        aid = s.add_alignment(al)
    assert s.active_id == aid
    with qtbot.waitSignal(s.cursor_moved) as blocker:
        s.move_cursor("a", 0.25)
    assert blocker.args == pytest.approx([0.25, al.map_a_to_b(0.25)])
    s.move_cursor("b", 0.1)
    assert s.cursor[0] == pytest.approx(al.map_b_to_a(0.1))
    s.move_cursor("a", 99.0)  # clamped to the recording
    assert s.cursor[0] == 1.0
    with pytest.raises(ValueError, match="slot"):
        s.move_cursor("c", 0.0)


def test_session_ids_active_compared_and_removal(qtbot):
    s = Session()
    first = s.add_alignment(small_alignment(), label="one")
    second = s.add_alignment(small_alignment(), label="two")
    assert s.active_id == second and s.label(first) == "one"
    s.set_compared(first)
    assert s.compared_id == first
    s.set_compared(second)  # the active one is never also the compared one
    assert s.compared_id == -1
    s.remove_alignment(second)
    assert s.active_id == first
    with pytest.raises(KeyError, match="no alignment"):
        s.set_active(12345)
    with pytest.raises(TypeError, match="Alignment"):
        s.add_alignment("not one")


def test_transpose_alignment_swaps_everything():
    al = small_alignment()
    t = transpose_alignment(al)
    np.testing.assert_array_equal(t.path, al.path[:, ::-1])
    assert (t.rate_a_hz, t.rate_b_hz) == (al.rate_b_hz, al.rate_a_hz)
    np.testing.assert_array_equal(t.plan, al.plan.T)
    for x in (0.05, 0.12, 0.2):
        assert t.map_b_to_a(x) == pytest.approx(al.map_a_to_b(x))


def test_an_edit_replaces_the_alignment_and_can_be_undone(qtbot):
    s = Session()
    al = small_alignment()
    aid = s.add_alignment(al)
    edited = al.replace(path=np.array([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]]),
                        confidence=None, method="manual")
    with qtbot.waitSignal(s.alignment_edited) as blocker:
        s.apply_edit(aid, edited, "straighten")
    assert blocker.args == [aid]
    assert s.alignment(aid).method == "manual"
    assert s.can_undo()
    assert s.undo() == "straighten"
    assert s.alignment(aid) is al
    assert s.undo() is None and not s.can_undo()
    with pytest.raises(KeyError, match="no alignment"):
        s.apply_edit(999, edited)


def test_results_that_arrive_together_are_handed_on_one_per_turn(qtbot, runner):
    from PySide6.QtCore import QCoreApplication

    got = []
    runner.job_returned.connect(lambda job, channel, result: got.append(result))
    finished = []
    runner.job_finished.connect(lambda job, channel: finished.append(job))
    runner.submit(Request("one", add, (1, 1)))
    runner.submit(Request("two", add, (2, 2)))
    assert runner.wait(TIMEOUT_MS)
    QCoreApplication.sendPostedEvents()  # the workers' reports reach the runner's inbox
    assert got == []
    runner._deliver()  # one loop turn
    assert len(got) == 1 and len(finished) <= 1  # one result (and what was queued before it)
    qtbot.waitUntil(lambda: runner.n_running == 0, timeout=TIMEOUT_MS)
    assert sorted(got) == [2, 4] and len(finished) == 2
