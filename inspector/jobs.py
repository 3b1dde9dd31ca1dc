"""Running core functions on worker threads: typed outcomes, progress, cancel, latest wins.

The GUI thread builds a :class:`Request` (a frozen snapshot: read-only arrays, copied
parameters) and hands it to :meth:`JobRunner.submit` with the callbacks that want its
outcome; it gets a :class:`Job` handle back. A job ends in exactly one of three
outcomes, delivered to its submitter only:

- its **result** (``on_result(result)``),
- a **failure** (``on_failure(Failure)``: the exception's type and message),
- a **cancellation** (``on_cancel()``): asked by :meth:`Job.cancel`, by
  :meth:`JobRunner.cancel`, or by a newer request on the same *channel* (``"align"``,
  ``"matrix_region"``, ``"frame_a"``...: the latest request of a channel wins; the one it
  replaces is cancelled, whatever its function did after that).

The function runs on the runner's own QThreadPool and receives ``progress`` and
``cancel`` callbacks; ``cancel`` is polled by the core functions between tiles or
iterations (cooperative cancel). Closing the window calls :meth:`JobRunner.shutdown`,
which cancels every job and waits for the pool.

Outcomes are handed on on the GUI thread, at most one result per event-loop turn (in
order, with the failures, cancellations and ends queued behind them), so the window
repaints between two results that arrived together: opening two files made both views
and the whole window redraw in one pause. The runner's signals say only that jobs
started and ended (for a busy indicator), never what they returned.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from core._kernels import load_numba, preload_numba
from core.display import limit_blas_threads
from core.errors import Cancelled

__all__ = ["Request", "Job", "Failure", "JobRunner", "freeze"]

_ids = itertools.count(1)

#: scipy's modules that the engine imports where it uses them (0.7 s together, scipy.signal
#: 0.5 s of it): imported once, after numba, by the import thread the workers wait for
#: (core._kernels.preload_numba), because two workers importing them at once have failed
#: with scipy's circular imports ("partially initialized module")
ENGINE_MODULES = ("scipy.fft", "scipy.ndimage", "scipy.signal", "scipy.spatial.distance",
                  "scipy.optimize", "scipy.interpolate", "scipy.sparse",
                  "scipy.cluster.hierarchy")

#: failures whose message speaks for itself: shown without the exception's type name
EXPECTED_FAILURES = (ValueError, OSError, RuntimeError, MemoryError)


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


@dataclasses.dataclass(frozen=True)
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
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    label: str = ""

    def __post_init__(self):
        object.__setattr__(self, "args", tuple(freeze(a) for a in self.args))
        object.__setattr__(self, "kwargs", freeze(dict(self.kwargs)))


@dataclasses.dataclass(frozen=True)
class Failure:
    """How a job failed: the exception's type (``kind``) and message; the traceback is
    kept for developers (``ALIGNMENT_INSPECTOR_DEBUG``), never shown to users."""

    kind: type[BaseException]
    message: str
    traceback: str = ""

    @classmethod
    def of(cls, exc: BaseException, tb: str = "") -> Failure:
        return cls(type(exc), str(exc) or type(exc).__name__, tb)

    def text(self) -> str:
        """The message for the user: bad input speaks for itself (it names the file or
        argument); anything else is prefixed with its kind (a bug)."""
        if issubclass(self.kind, EXPECTED_FAILURES):
            return self.message
        return f"{self.kind.__name__}: {self.message}"


class Job:
    """The handle of one submitted request (GUI thread).

    ``outcome`` is None while it runs, then ``"result"``, ``"failure"`` or
    ``"cancelled"``.
    """

    def __init__(self, runner: JobRunner, job_id: int, request: Request, callbacks: dict):
        self.id = job_id
        self.channel = request.channel
        self.label = request.label or request.channel
        self.outcome: str | None = None
        self._runner = runner
        self._callbacks = callbacks
        self._cancelled = threading.Event()

    def cancel(self) -> bool:
        """Ask the job to stop; True if it was still running."""
        if self.outcome is not None:
            return False
        self._cancelled.set()
        return True

    @property
    def cancel_requested(self) -> bool:
        return self._cancelled.is_set()

    @property
    def running(self) -> bool:
        return self.outcome is None

    def __repr__(self) -> str:
        return f"Job({self.id}, {self.channel!r}, outcome={self.outcome!r})"


class _Signals(QObject):
    started = Signal(int)
    progress = Signal(int, float)
    ended = Signal(int, str, object)  # outcome: "result" | "failure" | "cancelled"


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


class _Worker(QRunnable):
    """Runs one request; talks to the GUI thread only through ``signals``."""

    def __init__(self, job: Job, request: Request, signals: _Signals):
        super().__init__()
        self.job_id = job.id
        self.request = request
        self.signals = signals
        self.cancelled = job._cancelled
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
        outcome, payload = "cancelled", None
        try:
            sig.started.emit(self.job_id)
            if self.cancelled.is_set():
                raise Cancelled("cancelled before start")
            load_numba()  # waits for the import thread (JobRunner.submit): 0 once loaded
            result = self.request.fn(*self.request.args, **self.request.kwargs,
                                     progress=self._progress, cancel=self.cancelled.is_set)
        except Cancelled:
            pass
        except Exception as exc:  # noqa: BLE001 - every failure goes to its submitter
            if not self.cancelled.is_set():
                outcome, payload = "failure", Failure.of(exc, traceback.format_exc())
        else:
            if not self.cancelled.is_set():
                outcome, payload = "result", result
        sig.ended.emit(self.job_id, outcome, payload)


class JobRunner(QObject):
    """Submits requests to a private thread pool and hands each outcome to its
    submitter on the GUI thread.

    Signals
    -------
    job_started(id, channel), job_finished(id, channel)   for busy indicators
    idle()                                                no job is left

    Methods run on the GUI thread.
    """

    job_started = Signal(int, str)
    job_finished = Signal(int, str)
    idle = Signal()

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 2):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        limit_blas_threads()
        self._latest: dict[str, Job] = {}
        self._jobs: dict[int, Job] = {}
        self._workers: dict[int, _Worker] = {}
        self._signals: dict[int, _Signals] = {}
        # finished workers stay referenced until the pool is empty: a pool thread may still
        # be returning from run() when the GUI thread handles the job's last signal
        self._graveyard: list[tuple[_Worker, _Signals]] = []
        # outcomes, delivered in order, one result per turn
        self._inbox: deque[tuple[int, str, Any]] = deque()
        self._inbox_timer = QTimer(self)
        self._inbox_timer.setSingleShot(True)
        self._inbox_timer.setInterval(0)
        self._inbox_timer.timeout.connect(self._deliver)

    # ------------------------------------------------------------------ public
    def submit(self, request: Request, *, on_result: Callable[[Any], Any] | None = None,
               on_failure: Callable[[Failure], Any] | None = None,
               on_cancel: Callable[[], Any] | None = None,
               on_progress: Callable[[float], Any] | None = None) -> Job:
        """Run ``request``; the previous job of its channel is cancelled.

        The callbacks run on the GUI thread; exactly one of ``on_result``,
        ``on_failure`` and ``on_cancel`` is called (a missing one: nothing happens).
        ``on_progress`` gets fractions in [0, 1] while the job is the latest of its
        channel.
        """
        # numba and ENGINE_MODULES are imported on one thread of its own (the window
        # starts it once shown, else this does); every worker waits for it (_Worker.run):
        # imported on two threads at once, modules numba shares with the jobs (scipy's)
        # can be seen half-initialized; imported here, it would pause the event loop.
        preload_numba(also=ENGINE_MODULES)
        job_id = next(_ids)
        old = self._latest.get(request.channel)
        if old is not None:
            old.cancel()
        job = Job(self, job_id, request, {"result": on_result, "failure": on_failure,
                                          "cancelled": on_cancel, "progress": on_progress})
        self._latest[request.channel] = job
        signals = _Signals()
        signals.started.connect(self._on_started)
        signals.progress.connect(self._on_progress)
        signals.ended.connect(self._queue_ended)
        worker = _Worker(job, request, signals)
        worker.setAutoDelete(False)
        self._jobs[job_id] = job
        self._workers[job_id] = worker
        self._signals[job_id] = signals
        self._pool.start(worker)
        return job

    def cancel(self, channel: str) -> bool:
        """Ask the latest job of ``channel`` to stop; True if one was running."""
        job = self._latest.get(channel)
        return job is not None and job.id in self._jobs and job.cancel()

    def cancel_all(self) -> None:
        for job in self._jobs.values():
            job.cancel()

    def latest(self, channel: str) -> Job | None:
        """The newest job submitted on ``channel`` (running or not)."""
        return self._latest.get(channel)

    def is_running(self, channel: str | None = None) -> bool:
        if channel is None:
            return bool(self._jobs)
        return any(j.channel == channel for j in self._jobs.values())

    def running_labels(self) -> list[str]:
        return [j.label for j in self._jobs.values()]

    @property
    def n_running(self) -> int:
        return len(self._jobs)

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the pool is empty (GUI thread: use only at shutdown and in tests)."""
        return self._pool.waitForDone(timeout_ms)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel every job and wait for the workers; outcomes not yet delivered are
        discarded (the window is closing)."""
        self.cancel_all()
        self._pool.clear()
        done = self._pool.waitForDone(timeout_ms)
        for signals in self._signals.values():
            signals.blockSignals(True)
        self._inbox.clear()
        self._inbox_timer.stop()
        self._jobs.clear()
        self._workers.clear()
        self._signals.clear()
        if done:
            self._graveyard.clear()
        return done

    # ------------------------------------------------------------------ slots (GUI thread)
    def _on_started(self, job_id: int) -> None:
        job = self._jobs.get(job_id)
        if job is not None and not job.cancel_requested:
            self.job_started.emit(job_id, job.channel)

    def _on_progress(self, job_id: int, fraction: float) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.cancel_requested:
            return
        callback = job._callbacks["progress"]
        if callback is not None:
            callback(fraction)

    def _queue_ended(self, job_id: int, outcome: str, payload) -> None:
        self._inbox.append((job_id, outcome, payload))
        if not self._inbox_timer.isActive():
            self._inbox_timer.start()

    def _deliver(self) -> None:
        """Hand on queued outcomes up to and including one result, then yield the turn."""
        while self._inbox:
            job_id, outcome, payload = self._inbox.popleft()
            delivered = self._end(job_id, outcome, payload)
            if delivered == "result":
                break
        if self._inbox:
            self._inbox_timer.start()

    def _end(self, job_id: int, outcome: str, payload) -> str | None:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return None
        worker = self._workers.pop(job_id, None)
        self._graveyard.append((worker, self._signals.pop(job_id, None)))
        if self._pool.activeThreadCount() == 0:
            self._graveyard.clear()
        if job.cancel_requested:  # cancelled after its function returned: still a cancel
            outcome, payload = "cancelled", None
        job.outcome = outcome
        callback = job._callbacks[outcome]
        job._callbacks = {}
        try:
            if callback is not None:
                callback() if outcome == "cancelled" else callback(payload)
        finally:
            self.job_finished.emit(job_id, job.channel)
            if not self._jobs:
                self.idle.emit()
        return outcome
