"""A new alignment's arrival: path data prepared on the worker, views one per loop turn.
(Block means in short numpy calls: tests/core/test_display.py.)"""

from __future__ import annotations

import numpy as np
import shiboken6
from PySide6.QtCore import QObject

from core.alignment import Alignment, path_knots
from core.display import prepare_path
from inspector.session import Session
from inspector.views.common import TurnQueue


def warped_alignment(n_a: int = 400, n_b: int = 530, seed: int = 0) -> Alignment:
    rng = np.random.default_rng(seed)
    steps = rng.integers(0, 3, n_a + n_b)  # 0: i, 1: j, 2: both
    i = j = 0
    path = [(0, 0)]
    for s in steps:
        if i == n_a - 1 and j == n_b - 1:
            break
        di = int(s != 1 and i < n_a - 1)
        dj = int(s != 0 and j < n_b - 1)
        if di == dj == 0:
            di, dj = int(i < n_a - 1), int(j < n_b - 1)
        i, j = i + di, j + dj
        path.append((i, j))
    while i < n_a - 1 or j < n_b - 1:
        i, j = min(i + 1, n_a - 1), min(j + 1, n_b - 1)
        path.append((i, j))
    return Alignment(np.array(path), 50.0, 40.0, n_a=n_a, n_b=n_b, method="dtw")


def test_prepare_path_maps_like_the_alignment():
    al = warped_alignment()
    knots_before = (path_knots(al.path, 0), path_knots(al.path, 1))
    times_before = al.path / np.array([al.rate_a_hz, al.rate_b_hz])
    assert prepare_path(al) is al
    t = np.linspace(-0.5, al.duration_a_s + 0.5, 997)
    (xa, ya), (xb, yb) = al.mapping_knots(0), al.mapping_knots(1)
    (ka, kb), (kb2, ka2) = knots_before
    np.testing.assert_allclose(np.interp(t, xa, ya),
                               np.interp(t, ka / al.rate_a_hz, kb / al.rate_b_hz))
    u = np.linspace(0.0, al.duration_b_s, 701)
    np.testing.assert_allclose(np.interp(u, xb, yb),
                               np.interp(u, kb2 / al.rate_b_hz, ka2 / al.rate_a_hz))
    np.testing.assert_array_equal(al.times_s, times_before)
    assert al.mapping_knots(0) is al.mapping_knots(0) and al.times_s is al.times_s


def test_session_uses_prepared_data_only_for_that_alignment(qapp):
    al = prepare_path(warped_alignment())
    session = Session()
    aid = session.add_alignment(al)
    prepared_times = al.times_s
    assert session.path_times(aid) is prepared_times
    t = np.linspace(0.0, al.duration_a_s, 333)
    np.testing.assert_allclose(session.map_a_to_b(t), al.map_a_to_b(t))
    # an edit replaces the alignment: the prepared data of the old one is not used
    edited = warped_alignment(seed=3)
    session.apply_edit(aid, edited)
    np.testing.assert_array_equal(session.path_times(aid), edited.times_s)
    np.testing.assert_allclose(session.map_a_to_b(t), edited.map_a_to_b(t))
    session.undo()
    assert session.path_times(aid) is prepared_times
    assert session.path_times(aid + 1) is None


def test_turn_queue_runs_one_call_per_turn_in_order(qtbot):
    queue = TurnQueue()
    owners = [QObject() for _ in range(3)]
    calls = []

    def call(name):
        return lambda: calls.append((name, queue.n_pending))

    queue.queue(owners[0], call("first"))
    queue.queue(owners[1], call("second"))
    queue.queue(owners[2], call("third"))
    queue.queue(owners[0], call("first again"))  # replaces the queued one, goes last
    assert queue.n_pending == 3 and calls == []
    qtbot.waitUntil(lambda: queue.n_pending == 0, timeout=5_000)
    # each call ran on its own turn: the others were still waiting
    assert calls == [("second", 2), ("third", 1), ("first again", 0)]


def test_turn_queue_drops_calls_of_deleted_owners(qtbot):
    queue = TurnQueue()
    gone = QObject()
    calls = []
    queue.queue(gone, lambda: calls.append("gone"))
    kept = QObject(queue)
    queue.queue(kept, lambda: calls.append("kept"))
    shiboken6.delete(gone)
    qtbot.waitUntil(lambda: queue.n_pending == 0, timeout=5_000)
    assert calls == ["kept"]
