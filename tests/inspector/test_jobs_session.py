"""JobRunner (frozen requests, typed outcomes to the submitter, latest wins, cancel) and
Session (cursor, ids)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.alignment import Alignment
from core.errors import Cancelled, MediaError
from inspector.jobs import Failure, JobRunner, Request, freeze
from inspector.session import Session

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


class Outcomes:
    """What one submitter heard: (kind, payload) per outcome."""

    def __init__(self):
        self.heard = []

    def callbacks(self, name=""):
        return {"on_result": lambda r: self.heard.append((name, "result", r)),
                "on_failure": lambda f: self.heard.append((name, "failure", f)),
                "on_cancel": lambda: self.heard.append((name, "cancelled", None))}


def test_a_job_returns_its_result_to_its_submitter(qtbot, runner):
    outcomes, progress = Outcomes(), []
    job = runner.submit(Request("sum", add, (2, 3)), **outcomes.callbacks(),
                        on_progress=progress.append)
    qtbot.waitUntil(lambda: runner.n_running == 0, timeout=TIMEOUT_MS)
    assert outcomes.heard == [("", "result", 5)]
    assert job.outcome == "result" and progress == [1.0]


def test_failures_carry_the_exception_type_and_message(qtbot, runner):
    outcomes = Outcomes()
    job = runner.submit(Request("bad", fail), **outcomes.callbacks())
    qtbot.waitUntil(lambda: runner.n_running == 0, timeout=TIMEOUT_MS)
    [(_, kind, failure)] = outcomes.heard
    assert kind == "failure" and job.outcome == "failure"
    assert failure.kind is ValueError and failure.message == "x: expected something else"
    assert failure.text() == "x: expected something else"
    assert "Traceback" in failure.traceback
    # bad input speaks for itself; anything else is shown with its kind (a bug)
    assert Failure.of(MediaError("a.wav", "empty file")).text() == "a.wav: empty file"
    assert Failure.of(KeyError("k")).text() == "KeyError: 'k'"


def test_the_latest_request_of_a_channel_wins(qtbot, runner):
    started = threading.Event()
    outcomes = Outcomes()
    first = runner.submit(Request("c", wait_for_cancel, (started,)),
                          **outcomes.callbacks("first"))
    assert started.wait(10)
    second = runner.submit(Request("c", add, (1, 1)), **outcomes.callbacks("second"))
    qtbot.waitUntil(lambda: runner.n_running == 0, timeout=TIMEOUT_MS)
    # one outcome each, to its own submitter: a cancel is not an error
    assert sorted(outcomes.heard) == [("first", "cancelled", None), ("second", "result", 2)]
    assert runner.latest("c") is second and first.outcome == "cancelled"


def test_a_replaced_job_is_cancelled_even_when_it_finished_its_work(qtbot, runner):
    release = threading.Event()
    outcomes = Outcomes()

    def slow(*, progress=None, cancel=None):
        release.wait(10)
        return "done anyway"

    runner.submit(Request("c", slow), **outcomes.callbacks("first"))
    runner.submit(Request("c", add, (2, 2)), **outcomes.callbacks("second"))
    release.set()
    qtbot.waitUntil(lambda: runner.n_running == 0, timeout=TIMEOUT_MS)
    assert sorted(outcomes.heard) == [("first", "cancelled", None), ("second", "result", 4)]


def test_cancel_and_shutdown_stop_a_running_job(qtbot, runner):
    started = threading.Event()
    outcomes = Outcomes()
    job = runner.submit(Request("c", wait_for_cancel, (started,)), **outcomes.callbacks())
    assert started.wait(10)
    assert runner.is_running("c") and job.running
    assert runner.cancel("c")
    qtbot.waitUntil(lambda: runner.n_running == 0, timeout=TIMEOUT_MS)
    assert outcomes.heard == [("", "cancelled", None)]
    assert not job.cancel()  # over already
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


def test_transposed_alignment_swaps_everything():
    al = small_alignment()
    t = al.transposed()
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
    finished = []
    runner.job_finished.connect(lambda job, channel: finished.append(job))
    runner.submit(Request("one", add, (1, 1)), on_result=got.append)
    runner.submit(Request("two", add, (2, 2)), on_result=got.append)
    assert runner.wait(TIMEOUT_MS)
    QCoreApplication.sendPostedEvents()  # the workers' reports reach the runner's inbox
    assert got == []
    runner._deliver()  # one loop turn
    assert len(got) == 1 and len(finished) <= 1  # one result (and what was queued before it)
    qtbot.waitUntil(lambda: runner.n_running == 0, timeout=TIMEOUT_MS)
    assert sorted(got) == [2, 4] and len(finished) == 2
