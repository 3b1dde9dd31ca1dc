"""Running core functions on worker threads: job ids, progress, cancel, latest wins.

The GUI thread builds a :class:`Request` (a frozen snapshot: read-only arrays, copied
parameters) and hands it to :meth:`JobRunner.submit`, which returns an increasing job id.
Requests share a *channel* (``"align"``, ``"matrix_region"``, ``"frame_a"``...): a new
request in a channel cancels the one running there, and a result whose id is no longer
the latest of its channel is dropped. The function runs on the runner's own QThreadPool
and receives ``progress`` and ``cancel`` callbacks; ``cancel`` is polled by the core
functions between tiles or iterations (cooperative cancel). Closing the window calls
:meth:`JobRunner.shutdown`, which cancels every job and waits for the pool.

Signals are emitted from worker threads on a QObject living in the GUI thread, so
connected slots run on the GUI thread (queued connections). Results are handed on at most
one per event-loop turn (in order, with the failures and ends queued behind them), so the
window repaints between two results that arrived together: opening two files made both
views and the whole window redraw in one pause.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from core.errors import Cancelled

__all__ = ["Request", "JobRunner", "freeze"]

_ids = itertools.count(1)


def freeze(value):
    """A read-only snapshot of ``value``: arrays become read-only copies (views of
    already read-only arrays are kept), mappings become read-only proxies."""
    if isinstance(value, np.ndarray):
        if value.flags.writeable:
            value = value.copy()
            value.setflags(write=False)
        return value
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class Request:
    """One unit of work: ``fn(*args, **kwargs, progress=..., cancel=...)``.

    Parameters
    ----------
    channel : str
        Requests of one channel replace each other (the latest wins).
    fn : callable
        Runs on a worker thread; must accept ``progress`` and ``cancel`` keywords.
    args, kwargs
        Frozen at construction (see :func:`freeze`).
    label : str
        What the status bar says while it runs.
    """

    channel: str
    fn: Callable
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self):
        object.__setattr__(self, "args", tuple(freeze(a) for a in self.args))
        object.__setattr__(self, "kwargs", freeze(dict(self.kwargs)))


class _Signals(QObject):
    started = Signal(int)
    progress = Signal(int, float)
    returned = Signal(int, object)
    errored = Signal(int, str)
    finished = Signal(int)


_niced_threads: set[int] = set()
#: nice value of worker threads (0: leave them alone)
WORKER_NICE = int(os.environ.get("ALIGNMENT_INSPECTOR_WORKER_NICE", "10"))


def _lower_this_thread_priority() -> None:
    """Give the GUI thread the CPU first: worker threads run at nice 10 (Linux only,
    where a thread's nice value is per thread; elsewhere nothing happens)."""
    tid = threading.get_native_id()
    if tid in _niced_threads or not sys.platform.startswith("linux") or WORKER_NICE <= 0:
        return
    _niced_threads.add(tid)
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, max(current, WORKER_NICE))
    except OSError:
        pass


def limit_blas_threads(n_threads: int | None = None) -> None:
    """Keep BLAS (numpy's matrix products) to fewer threads than cores, so a worker's
    matrix product never takes the core the GUI thread needs (uses threadpoolctl when it
    is installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    if n_threads is None:
        n_threads = max(1, (os.cpu_count() or 2) - 1)
    threadpool_limits(n_threads, user_api="blas")


class _Worker(QRunnable):
    """Runs one request; talks to the GUI thread only through ``signals``."""

    def __init__(self, job_id: int, request: Request, signals: _Signals):
        super().__init__()
        self.job_id = job_id
        self.request = request
        self.signals = signals
        self.cancelled = threading.Event()
        self._last_progress = 0.0

    def _progress(self, fraction: float) -> None:
        # throttled: a kernel may report thousands of times per second
        now = time.monotonic()
        if now - self._last_progress >= 0.05 or fraction >= 1.0:
            self._last_progress = now
            self.signals.progress.emit(self.job_id, float(fraction))

    def run(self) -> None:  # worker thread
        sig = self.signals
        _lower_this_thread_priority()
        try:
            sig.started.emit(self.job_id)
            if self.cancelled.is_set():
                raise Cancelled("cancelled before start")
            result = self.request.fn(*self.request.args, **self.request.kwargs,
                                     progress=self._progress, cancel=self.cancelled.is_set)
        except Cancelled:
            sig.errored.emit(self.job_id, "")
        except Exception as exc:  # noqa: BLE001 - every error goes to the window
            msg = str(exc) or type(exc).__name__
            if not isinstance(exc, (ValueError, OSError, RuntimeError, MemoryError)):
                msg = f"{type(exc).__name__}: {msg}"
            sig.errored.emit(self.job_id, msg)
            # keep the traceback for developers without showing it to users
            self.traceback = traceback.format_exc()
        else:
            sig.returned.emit(self.job_id, result)
        finally:
            sig.finished.emit(self.job_id)


class JobRunner(QObject):
    """Submits requests to a private thread pool and reports on the GUI thread.

    Signals
    -------
    job_started(id, channel), job_progressed(id, channel, fraction),
    job_returned(id, channel, result), job_failed(id, channel, message),
    job_cancelled(id, channel), job_finished(id, channel), idle()

    Results, failures and progress of a job that is no longer the latest of its channel
    are not emitted. Methods run on the GUI thread.
    """

    job_started = Signal(int, str)
    job_progressed = Signal(int, str, float)
    job_returned = Signal(int, str, object)
    job_failed = Signal(int, str, str)
    job_cancelled = Signal(int, str)
    job_finished = Signal(int, str)
    idle = Signal()

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 2):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        limit_blas_threads()
        self._latest: dict[str, int] = {}
        self._workers: dict[int, _Worker] = {}
        self._signals: dict[int, _Signals] = {}
        self._channel_of: dict[int, str] = {}
        self._labels: dict[int, str] = {}
        # finished workers stay referenced until the pool is empty: a pool thread may still
        # be returning from run() when the GUI thread handles the job's last signal
        self._graveyard: list[tuple[_Worker, _Signals]] = []
        # returned / errored / finished reports, delivered in order, one result per turn
        self._inbox: deque[tuple[Callable, tuple]] = deque()
        self._inbox_timer = QTimer(self)
        self._inbox_timer.setSingleShot(True)
        self._inbox_timer.setInterval(0)
        self._inbox_timer.timeout.connect(self._deliver)

    # ------------------------------------------------------------------ public
    def submit(self, request: Request) -> int:
        """Run ``request``; cancel the previous job of its channel. Returns the job id."""
        job_id = next(_ids)
        old = self._latest.get(request.channel)
        if old is not None and old in self._workers:
            self._workers[old].cancelled.set()
        self._latest[request.channel] = job_id
        signals = _Signals()
        signals.started.connect(self._on_started)
        signals.progress.connect(self._on_progress)
        signals.returned.connect(self._queue_returned)
        signals.errored.connect(self._queue_errored)
        signals.finished.connect(self._queue_finished)
        worker = _Worker(job_id, request, signals)
        worker.setAutoDelete(False)
        self._workers[job_id] = worker
        self._signals[job_id] = signals
        self._channel_of[job_id] = request.channel
        self._labels[job_id] = request.label or request.channel
        self._pool.start(worker)
        return job_id

    def cancel(self, channel: str) -> bool:
        """Ask the latest job of ``channel`` to stop; True if one was running."""
        job_id = self._latest.get(channel)
        worker = self._workers.get(job_id) if job_id is not None else None
        if worker is None:
            return False
        worker.cancelled.set()
        return True

    def cancel_all(self) -> None:
        for worker in self._workers.values():
            worker.cancelled.set()

    def is_latest(self, job_id: int) -> bool:
        """True if no newer job was submitted on ``job_id``'s channel."""
        return job_id in self._latest.values()

    def is_running(self, channel: str | None = None) -> bool:
        if channel is None:
            return bool(self._workers)
        return any(c == channel for c in (self._channel_of[k] for k in self._workers))

    def running_labels(self) -> list[str]:
        return [self._labels[k] for k in self._workers]

    @property
    def n_running(self) -> int:
        return len(self._workers)

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the pool is empty (GUI thread: use only at shutdown and in tests)."""
        return self._pool.waitForDone(timeout_ms)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel every job and wait for the workers; queued signals are discarded."""
        self.cancel_all()
        self._pool.clear()
        done = self._pool.waitForDone(timeout_ms)
        for signals in self._signals.values():
            signals.blockSignals(True)
        self._inbox.clear()
        self._inbox_timer.stop()
        self._workers.clear()
        self._signals.clear()
        if done:
            self._graveyard.clear()
        return done

    # ------------------------------------------------------------------ slots (GUI thread)
    def _on_started(self, job_id: int) -> None:
        if self.is_latest(job_id):
            self.job_started.emit(job_id, self._channel_of[job_id])

    def _on_progress(self, job_id: int, fraction: float) -> None:
        if self.is_latest(job_id) and job_id in self._workers:
            self.job_progressed.emit(job_id, self._channel_of[job_id], fraction)

    def _queue_returned(self, job_id: int, result: object) -> None:
        self._post(self._on_returned, job_id, result)

    def _queue_errored(self, job_id: int, message: str) -> None:
        self._post(self._on_errored, job_id, message)

    def _queue_finished(self, job_id: int) -> None:
        self._post(self._on_finished, job_id)

    def _post(self, fn: Callable, *args) -> None:
        self._inbox.append((fn, args))
        if not self._inbox_timer.isActive():
            self._inbox_timer.start()

    def _deliver(self) -> None:
        """Hand on queued reports up to and including one result, then yield the turn."""
        while self._inbox:
            fn, args = self._inbox.popleft()
            fn(*args)
            if fn == self._on_returned:
                break
        if self._inbox:
            self._inbox_timer.start()

    def _on_returned(self, job_id: int, result: object) -> None:
        worker = self._workers.get(job_id)
        if worker is None or worker.cancelled.is_set() or not self.is_latest(job_id):
            return
        self.job_returned.emit(job_id, self._channel_of[job_id], result)

    def _on_errored(self, job_id: int, message: str) -> None:
        if job_id not in self._workers:
            return
        channel = self._channel_of[job_id]
        if not message:
            self.job_cancelled.emit(job_id, channel)
        elif self.is_latest(job_id):
            self.job_failed.emit(job_id, channel, message)

    def _on_finished(self, job_id: int) -> None:
        worker = self._workers.pop(job_id, None)
        if worker is None:
            return
        self._graveyard.append((worker, self._signals.pop(job_id, None)))
        if self._pool.activeThreadCount() == 0:
            self._graveyard.clear()
        channel = self._channel_of.pop(job_id)
        self._labels.pop(job_id, None)
        self.job_finished.emit(job_id, channel)
        if not self._workers:
            self.idle.emit()
