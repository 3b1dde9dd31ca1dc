"""``align_pairs``: a batch of pairs on Dask distributed (a local cluster by default).

How a batch runs
----------------
1. Everything is checked before any work starts: the pairs and their options, the
   output folder (created if missing, then locked so that a second batch cannot write
   in it at the same time), and every pair's output name (:func:`core.paths.check_output`:
   not one of the inputs, short enough for the file system).
2. Pairs finished by an earlier run are kept (``skipped``): their output exists and
   their record's key (content hashes of both files and of the anchors, the options,
   the output format, the engine version) is the key they have now. Files whose size
   and modification time are unchanged are not read again; when those changed (a copy,
   a touch), the worker hashes the files and keeps the output if the key still matches.
3. The other pairs go to Dask, one task per pair, the biggest files first (so that the
   batch ends on short pairs and the workers finish together). Without ``client``, a
   local cluster of worker processes starts (one thread each, ``n_workers`` of them, at
   most one per pair; about 3 s). Each task writes its own output and record
   atomically and returns one small summary row, so a worker that dies loses only the
   pair it was running.
4. A pair whose worker dies (a crash, a kill, the memory limit) is retried on another
   worker once; when that one dies too, the pair is ``failed`` and the batch goes on.
   The local cluster is set up for this (``allowed-failures`` 1, ``worker-saturation``
   1.0 so that a worker holds only the pair it runs and a death implicates no other
   pair); a cluster given by ``client`` or an address keeps its own settings (start its
   scheduler with ``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1`` and
   ``DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0`` for the same behaviour).
5. ``summary.csv`` is written when the batch ends, also when it is interrupted
   (SIGINT, or SIGTERM under :func:`core.paths.cleanup_on_signals`): the pairs it did
   not finish are ``failed`` with the reason ``interrupted``; the local cluster is shut
   down and no temporary file is left in the output folder. A batch killed outright
   (SIGKILL) leaves no summary; running it again redoes only the pairs that were not
   finished.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable

from .. import options as _options
from .. import registry
from ..errors import OutputError
from ..formats import ALIGNMENT_FORMATS
from . import _task
from .manifest import Pair, as_pairs, check_method
from .summary import SUMMARY_NAME, SummaryRow, read_summary, write_summary

__all__ = ["align_pairs", "mark_corrected", "BatchProgress", "BatchError", "local_cluster",
           "EXTENSIONS", "RECORDS_FOLDER"]

#: The extension each output format gets (``OUTDIR/<id><ext>``).
EXTENSIONS = {"csv": ".csv", "json": ".json", "svl": ".svl", "sv-csv": ".sv.csv",
              "audacity": ".txt", "textgrid": ".TextGrid", "eaf": ".eaf"}
#: The folder (inside the output folder) of the pairs' records and of the batch's lock.
RECORDS_FOLDER = ".batch"
_LOCK_NAME = "lock"
_POLL_S = 0.2
_TICK_S = 1.0
_TEMPORARY = re.compile(r"^\.(.+)\.[0-9a-f]{8}\.tmp")


class BatchError(ValueError):
    """The batch cannot start: the scheduler cannot be reached or has no workers."""


@dataclasses.dataclass(frozen=True)
class BatchProgress:
    """Where a batch stands; given to ``progress`` after each pair and about once a
    second.

    Attributes
    ----------
    n_pairs, n_ok, n_failed, n_skipped : int
        Pairs in the batch, and those aligned, failed and kept from an earlier run.
    audio_s : float
        Seconds of media aligned by this run (A and B of the ``ok`` pairs).
    elapsed_s : float
        Seconds since the batch started.
    eta_s : float or None
        Estimated seconds left (None until a pair has been aligned).
    row : SummaryRow or None
        The pair that just finished (None for a periodic update).
    """

    n_pairs: int
    n_ok: int
    n_failed: int
    n_skipped: int
    audio_s: float
    elapsed_s: float
    eta_s: float | None
    row: SummaryRow | None = None

    @property
    def n_done(self) -> int:
        return self.n_ok + self.n_failed + self.n_skipped


def default_workers() -> int:
    """The number of cores this process may use."""
    with contextlib.suppress(AttributeError, OSError):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


_CLUSTER_CONFIG = {
    # a pair that kills its worker is retried once; a worker holds only the pair it runs,
    # so that its death implicates no other pair
    "distributed.scheduler.allowed-failures": 1,
    "distributed.scheduler.worker-saturation": 1.0,
    # Dask sets MALLOC_TRIM_THRESHOLD_=65536 for its workers, which also turns off
    # glibc's adaptive mmap threshold: every large numpy temporary is then mapped and
    # unmapped again, and the pipeline ran 1.7x slower in a worker than in a plain
    # process (music_p02: 3.79 s against 2.21 s without it, runs interleaved)
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}


def local_cluster(n_workers: int | None = None, **kwargs):
    """A Dask ``LocalCluster`` set up for batches: ``n_workers`` processes of one thread
    each on 127.0.0.1, no dashboard, quiet logs, a pair that kills its worker retried
    once (``allowed-failures`` 1), one pair per worker at a time (``worker-saturation``
    1.0), glibc's default memory allocation (not Dask's trimming setting, which slows the
    pipeline down). ``kwargs`` go to ``LocalCluster``. The caller closes it.
    """
    import dask
    from distributed import LocalCluster

    n = default_workers() if n_workers is None else int(n_workers)
    if n < 1:
        raise ValueError(f"n_workers: expected a positive number, got {n_workers!r}")
    options = {"n_workers": n, "threads_per_worker": 1, "processes": True,
               "host": "127.0.0.1", "dashboard_address": None,
               # no dashboard; its HTTP routes (health, metrics) on a free port
               "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"},
               "silence_logs": logging.CRITICAL}
    options.update(kwargs)
    with dask.config.set(_CLUSTER_CONFIG), _sigint_ignored():
        return LocalCluster(**options)


@contextlib.contextmanager
def _sigint_ignored():
    """Ignore SIGINT while the cluster starts: its worker processes inherit that, so that
    Ctrl-C, which a terminal sends to the whole process group, stops the batch through
    this process alone (which shuts the cluster down) instead of making each worker
    print a traceback. (A Ctrl-C during these seconds is lost; workers that nannies
    restart later get the same from :class:`~core.batch._warm.IgnoreInterrupts`.)"""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@dataclasses.dataclass
class _Job:
    pair: Pair
    spec: dict  # what the worker gets (see _task.run_pair)


def align_pairs(pairs: Iterable, out_dir, *, client=None, format: str = "json",
                n_workers: int | None = None, method: str | None = None,
                resume: bool = True, progress: Callable[[BatchProgress], object] | None = None,
                connect_timeout_s: float | None = None, worker_timeout_s: float = 600.0,
                structure: str | None = None, **options) -> list[SummaryRow]:
    """Align every pair with the default pipeline and write one file per pair and a
    summary (see the module docstring for how).

    Parameters
    ----------
    pairs : iterable of Pair or mapping
        From :func:`~core.batch.read_manifest`, or mappings with ``a``, ``b`` and
        optionally ``id``, ``method``, ``anchors``, ``structure`` and options by name
        (relative paths from the current folder).
    out_dir : str or os.PathLike
        The output folder (created if missing): ``<id><ext>`` per pair,
        ``summary.csv``, and the records in ``.batch/``.
    client : distributed.Client or str, optional
        A client of a running cluster, or its scheduler's address; default: a local
        cluster (:func:`local_cluster`) started for this batch and shut down after it.
    format : str
        The output format (as for ``align``): one of
        :data:`core.formats.ALIGNMENT_FORMATS`.
    n_workers : int, optional
        Local cluster only: worker processes (default: the number of cores).
    method : str, optional
        The method of pairs that do not name one (default: the registry's default, the
        default pipeline, as ``align``).
    structure : {"monotone", "auto", "pieces"}, optional
        The structure of pairs that do not set one, as ``align --structure``
        (default: monotone). Other than monotone, a pair needs the default method with
        solver dtw, no anchors and a format that holds pieces (json or csv).
    **options
        Options for the pairs that do not set them, by name (``feature="chroma"``,
        ``band=2.0``, ``solver="ctw"``, ...: :mod:`core.options`); each applies to
        the pairs whose method takes it.
    resume : bool
        Keep the outputs of an earlier run whose key matches (default); False aligns
        every pair again.
    progress : callable, optional
        Called with a :class:`BatchProgress` after each pair and about once a second.
    connect_timeout_s : float, optional
        How long to try to reach a scheduler given by address (default: Dask's
        ``distributed.comm.timeouts.connect``, 30 s unless configured).
    worker_timeout_s : float
        How long to wait while the cluster has no worker before failing the pairs left.

    Returns
    -------
    list of SummaryRow
        One per pair, in the order of ``pairs`` (also written to ``summary.csv``).

    Raises
    ------
    ValueError
        Before any work: a bad pair or option (naming it), a bad output folder
        (:class:`core.errors.OutputError`), a scheduler that cannot be reached
        (:class:`BatchError`).
    KeyboardInterrupt
        On SIGINT (or :class:`core.paths.Terminated`), after shutting down and writing
        the summary.
    """
    t0, started_at = time.perf_counter(), time.time()
    pairs = as_pairs(pairs)
    fmt = str(format).lower()
    if fmt not in ALIGNMENT_FORMATS:
        raise ValueError(f"format: expected one of {', '.join(ALIGNMENT_FORMATS)}, "
                         f"got {format!r}")
    method = check_method(registry.DEFAULT_METHOD if method is None else method)
    structure = _options.check_structure("monotone" if structure is None else structure)
    defaults = {_options.normalize(k): v for k, v in options.items() if v is not None}
    for name, value in defaults.items():
        _options.check_value(name, value)
    methods = {pair.method or method for pair in pairs}
    for name in defaults:
        if not any(_options.applies(name, m) for m in methods):
            raise ValueError(f"{name}: not an option of the batch's methods "
                             f"({', '.join(sorted(methods))})")
    if n_workers is not None and (not isinstance(n_workers, int) or n_workers < 1):
        raise ValueError(f"n_workers: expected a positive whole number, got {n_workers!r}")
    for pair in pairs:
        _check_structure(pair, fmt, method, defaults, structure)
    folder = _prepare_folder(out_dir)
    records = os.path.join(folder, RECORDS_FOLDER)
    jobs = [_job(pair, folder, records, fmt, method, defaults, structure) for pair in pairs]
    rows: dict[str, SummaryRow] = {}
    with _locked(folder, records):
        names = {os.path.basename(j.spec["output"]) for j in jobs} | \
                {os.path.basename(j.spec["record"]) for j in jobs} | {SUMMARY_NAME}
        _sweep_temporaries((folder, records), names)
        to_run = []
        for job in jobs:
            row = _kept(job) if resume else None
            if row is not None:
                rows[job.pair.id] = row
            else:
                to_run.append(job)
        state = _State(len(jobs), t0, progress)
        for row in rows.values():
            state.add(row, computed=False)
        try:
            if to_run:
                _run(to_run, rows, state, client, n_workers, connect_timeout_s,
                     worker_timeout_s, folder, records, names)
        finally:
            ordered = [rows.get(job.pair.id) or _finished_unseen(job, started_at)
                       or _interrupted(job) for job in jobs]
            write_summary(ordered, os.path.join(folder, SUMMARY_NAME))
    return ordered


def _finished_unseen(job: _Job, started_at: float) -> SummaryRow | None:
    """The row of a pair whose worker finished it in this run (output and record
    written) before the batch, interrupted, heard of it."""
    try:
        if os.stat(job.spec["record"]).st_mtime < started_at - 1.0:
            return None
    except OSError:
        return None
    row = _kept(dataclasses.replace(job, spec=dict(job.spec)))
    return None if row is None else dataclasses.replace(row, status="ok")


def _interrupted(job: _Job) -> SummaryRow:
    return SummaryRow(job.pair.id, "failed", error="interrupted before it finished (run "
                      "the batch again to finish it)", a=job.pair.a, b=job.pair.b)


# ---------------------------------------------------------------------------- checks
def _prepare_folder(out_dir) -> str:
    from .. import paths

    folder = os.fspath(out_dir)
    if not folder:
        raise OutputError(out_dir, "the output folder's name is empty")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OutputError(out_dir, "is not a folder (the batch writes one file per pair "
                                   "in its output folder)")
    try:
        os.makedirs(os.path.join(folder, RECORDS_FOLDER), exist_ok=True)
    except NotADirectoryError:
        raise OutputError(out_dir, "cannot be created: a part of its path is not a "
                                   "folder") from None
    except OSError as err:
        raise OutputError(out_dir, f"cannot be created ({err.strerror or err})") from None
    paths.check_output(os.path.join(folder, SUMMARY_NAME))
    paths.check_output(os.path.join(folder, RECORDS_FOLDER, _LOCK_NAME))
    return os.path.abspath(folder)


def _job(pair: Pair, folder: str, records: str, fmt: str, method: str,
         defaults: dict, structure: str = "monotone") -> _Job:
    from .. import paths

    where = f"pair {pair.id!r}" + (f" (manifest line {pair.line})" if pair.line else "")
    method = pair.method or method
    merged = {name: value for name, value in defaults.items()
              if _options.applies(name, method)}
    merged.update({_options.normalize(k): v for k, v in pair.options.items()})
    try:
        _options.split_options(method, merged)  # the values together, before any work
        options = {name: _options.check_value(name, value, method)
                   for name, value in sorted(merged.items())}
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    output = os.path.join(folder, pair.id + EXTENSIONS[fmt])
    record = os.path.join(records, pair.id + ".json")
    inputs = [p for p in (pair.a, pair.b, pair.anchors) if p]
    try:
        paths.check_output(output, inputs=inputs)
        paths.check_output(record, inputs=inputs)
    except OutputError as err:
        raise OutputError(err.path, f"{err.problem} [{where}]") from None
    spec = {"id": pair.id, "a": pair.a, "b": pair.b, "anchors": pair.anchors,
            "method": method, "options": options, "format": fmt, "output": output,
            "record": record, "expect_key": None,
            "structure": pair.structure or structure}
    return _Job(pair, spec)


def _check_structure(pair: Pair, fmt: str, method: str, defaults: dict,
                     structure: str) -> None:
    """What ``align --structure`` refuses (:func:`core.options.check_structure_run`),
    refused for a pair on its raw options before any recording is opened."""
    structure = pair.structure or structure
    method = pair.method or method
    options = {_options.normalize(k): v for k, v in pair.options.items()}
    solver = options.get("solver", defaults.get("solver"))
    if solver is None and method == registry.DEFAULT_METHOD:
        solver = registry.get(method).param("solver").default
    try:
        _options.check_structure_run(structure, anchors=bool(pair.anchors), method=method,
                                     solver=None if solver is None else str(solver).lower(),
                                     format=fmt)
    except ValueError as err:
        where = f"pair {pair.id!r}" + (f" (manifest line {pair.line})" if pair.line else "")
        raise ValueError(f"{where}: {err}") from None


def _kept(job: _Job) -> SummaryRow | None:
    """The row of an earlier output this pair may keep, else None (and, when only the
    files' stat changed, the key the worker should compare)."""
    spec = job.spec
    if not os.path.isfile(spec["output"]):
        return None
    record = _task.read_record(spec["record"])
    if record is None:
        return None
    files = record.get("files") or {}
    sides = {"a": spec["a"], "b": spec["b"]}
    if spec["anchors"]:
        sides["anchors"] = spec["anchors"]
    if set(files) != set(sides):
        return None
    if all(isinstance(files[s], dict) and _task.same_stat(files[s], p)
           for s, p in sides.items()):
        key = _task.pair_key(files["a"].get("sha256"), files["b"].get("sha256"),
                             files["anchors"].get("sha256") if "anchors" in files else None,
                             spec["method"], spec["options"], spec["format"],
                             spec.get("structure"))
        if key == record["key"]:
            return _task.row_from_record(record, "skipped")
        return None
    spec["expect_key"] = record["key"]  # the worker hashes the files and compares
    return None


def mark_corrected(folder, pair_id: str, when: str | None = None) -> SummaryRow:
    """Record that pair ``pair_id``'s output in the batch folder ``folder`` was corrected
    by hand: its ``corrected`` column in ``summary.csv`` and in the pair's record (so a
    batch run again, which keeps the output, keeps the mark), both written atomically
    under the folder's lock.

    Parameters
    ----------
    folder : str or os.PathLike
        The batch's output folder (it holds ``summary.csv``).
    pair_id : str
        The pair's id, as in the summary.
    when : str, optional
        The time to record (default: now, UTC ``YYYY-MM-DDTHH:MM:SSZ``).

    Returns
    -------
    SummaryRow
        The pair's row as now written.

    Raises
    ------
    FormatError
        The summary is missing or malformed.
    OutputError
        A batch is writing in the folder, the pair is not in the summary, or the folder
        cannot be written; the message says which.
    """
    from ..paths import write_text

    folder = os.fspath(folder)
    if when is None:
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    records = os.path.join(folder, RECORDS_FOLDER)
    if not os.path.isfile(os.path.join(folder, SUMMARY_NAME)):
        read_summary(folder)  # raises: no batch summary there, and nothing made in it
    try:
        os.makedirs(records, exist_ok=True)
    except OSError as err:
        raise OutputError(folder, f"cannot be written ({err.strerror or err})") from None
    with _locked(folder, records):
        rows = read_summary(folder)
        index = next((k for k, r in enumerate(rows) if r.id == pair_id), None)
        if index is None:
            raise OutputError(folder, f"pair {pair_id!r} is not in its {SUMMARY_NAME}")
        rows[index] = dataclasses.replace(rows[index], corrected=when)
        write_summary(rows, os.path.join(folder, SUMMARY_NAME))
        record_path = os.path.join(records, pair_id + ".json")
        record = _task.read_record(record_path)
        if record is not None:
            record["row"]["corrected"] = when
            write_text(record_path, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return rows[index]


@contextlib.contextmanager
def _locked(folder: str, records: str):
    """Hold the output folder's lock (released by the system if the process dies)."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock
        yield
        return
    path = os.path.join(records, _LOCK_NAME)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as err:
        raise OutputError(folder, f"cannot be written ({err.strerror or err})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OutputError(folder, "another batch is writing in this folder; wait for "
                                      "it or choose another output folder") from None
        yield
    finally:
        os.close(fd)


def _sweep_temporaries(folders, names: set[str]) -> None:
    """Remove temporary files a killed worker left behind for one of ``names``."""
    for folder in folders:
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                match = _TEMPORARY.match(entry.name)
                if match and any(name.startswith(match.group(1)) for name in names):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


# ---------------------------------------------------------------------------- running
class _State:
    def __init__(self, n_pairs: int, t0: float, callback):
        self.n_pairs, self.t0, self.callback = n_pairs, t0, callback
        self.counts = {"ok": 0, "failed": 0, "skipped": 0}
        self.audio_s = 0.0
        self.started: float | None = None
        self.n_computed = 0
        self.n_to_run = 0

    def add(self, row: SummaryRow, computed: bool = True) -> None:
        self.counts[row.status] += 1
        if computed:
            self.n_computed += 1
            if row.status == "ok":
                self.audio_s += row.audio_s
            self.report(row)

    def report(self, row: SummaryRow | None = None) -> None:
        if self.callback is None:
            return
        now = time.perf_counter()
        eta = None
        if self.started is not None and self.n_computed:
            rate = (now - self.started) / self.n_computed
            eta = max(0.0, rate * (self.n_to_run - self.n_computed))
        self.callback(BatchProgress(self.n_pairs, self.counts["ok"], self.counts["failed"],
                                    self.counts["skipped"], self.audio_s, now - self.t0,
                                    eta, row))


def _run(jobs: list[_Job], rows: dict, state: _State, client, n_workers,
         connect_timeout_s: float, worker_timeout_s: float, folder: str, records: str,
         names: set[str]) -> None:
    from distributed import Client

    cluster = own_client = None
    state.report()  # a progress bar from the start, while the cluster starts
    try:
        if client is None:
            n = min(default_workers() if n_workers is None else n_workers, len(jobs))
            cluster = local_cluster(n)
            client = own_client = Client(cluster, set_as_default=False)
            from ._warm import IgnoreInterrupts

            client.register_plugin(IgnoreInterrupts())
        elif isinstance(client, str | os.PathLike):
            client = own_client = _connect(os.fspath(client), connect_timeout_s)
        _prepare_workers(client)
        state.n_to_run = len(jobs)
        state.started = time.perf_counter()
        state.report()
        _submit_and_collect(client, jobs, rows, state, worker_timeout_s)
    finally:
        if own_client is not None:
            with contextlib.suppress(Exception):
                own_client.close(timeout=10)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=20)
        # workers stopped in the middle of a write leave their temporary files: the local
        # cluster's at its close, a given cluster's killed ones too (its live workers
        # have finished this batch's pairs, or are told to drop them when interrupted)
        _sweep_temporaries((folder, records), names)


def _prepare_workers(client) -> None:
    """Warm every worker up (and the ones that join later), or say why they cannot run
    pairs."""
    from ._warm import QuietCarriedWarnings, WarmUp

    try:
        client.register_plugin(WarmUp())
        client.register_plugin(QuietCarriedWarnings())
    except ImportError as err:
        raise BatchError(f"the cluster's workers cannot import the engine ({err}); install "
                         f"alignment-inspector on every worker") from None


def _connect(address: str, timeout_s: float | None):
    import dask
    from dask.utils import parse_timedelta
    from distributed import Client

    if timeout_s is None:
        timeout_s = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")

    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    try:
        return Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        message = " ".join(str(err).split()) or type(err).__name__
        raise BatchError(f"cannot reach the Dask scheduler at {address}: {message}") from None


def _submit_and_collect(client, jobs: list[_Job], rows: dict, state: _State,
                        worker_timeout_s: float) -> None:
    from distributed import as_completed

    batch = uuid.uuid4().hex[:8]
    futures = {}
    # the biggest pairs first (Dask runs tasks in the order they come): the last pairs
    # are then short ones, and workers finish close together
    order = sorted(range(len(jobs)), key=lambda k: -_size(jobs[k].spec))
    for index in order:
        job = jobs[index]
        future = client.submit(_task.run_pair, job.spec, key=f"align-pair-{batch}-{index}",
                               pure=False)
        futures[future] = job
    pending = as_completed(list(futures), loop=client.loop, raise_errors=False)
    last_tick = time.perf_counter()
    no_worker_since = None
    left = len(futures)
    try:
        while left:
            finished = pending.next_batch(block=False)
            for future in finished:
                job = futures[future]
                row = _collect(future, job)
                rows[job.pair.id] = row
                state.add(row)
                left -= 1
            if finished:
                continue
            time.sleep(_POLL_S)
            now = time.perf_counter()
            if now - last_tick >= _TICK_S:
                last_tick = now
                state.report()
                if not _has_workers(client):
                    no_worker_since = no_worker_since or now
                    if now - no_worker_since > worker_timeout_s:
                        _fail_left(futures, rows, state, f"no Dask worker for "
                                   f"{worker_timeout_s:g} s: the cluster lost its workers")
                        return
                else:
                    no_worker_since = None
    finally:
        unfinished = [f for f in futures if not f.done()]
        if unfinished:
            with contextlib.suppress(Exception):
                client.cancel(unfinished)


def _size(spec: dict) -> int:
    total = 0
    for path in (spec["a"], spec["b"]):
        with contextlib.suppress(OSError):
            total += os.stat(path).st_size
    return total


def _has_workers(client) -> bool:
    try:
        return bool(client.nthreads())
    except Exception:  # noqa: BLE001 - a lost scheduler has no workers either
        return False


def _fail_left(futures: dict, rows: dict, state: _State, reason: str) -> None:
    for job in futures.values():
        if job.pair.id not in rows:
            row = SummaryRow(job.pair.id, "failed", error=reason, a=job.pair.a, b=job.pair.b)
            rows[job.pair.id] = row
            state.add(row)


def _collect(future, job: _Job) -> SummaryRow:
    """The row a finished future brings, or a failed row saying what went wrong."""
    from distributed import KilledWorker

    pair = job.pair
    try:
        row = future.result()
    except KilledWorker as err:
        tries = err.allowed_failures + 1
        reason = (f"its worker died {tries} times while aligning it (a crash, a kill or "
                  f"the memory limit); the batch went on without it")
        return SummaryRow(pair.id, "failed", error=reason, a=pair.a, b=pair.b)
    except ImportError as err:
        return SummaryRow(pair.id, "failed", a=pair.a, b=pair.b, error=(
            f"a worker cannot import the engine ({err}); install alignment-inspector on "
            f"every worker of the cluster"))
    except Exception as err:  # noqa: BLE001 - a lost or cancelled task, a worker problem
        text = " ".join(str(err).split())
        return SummaryRow(pair.id, "failed", a=pair.a, b=pair.b,
                          error=f"the cluster could not run it: {type(err).__name__}"
                                + (f": {text}" if text else ""))
    if not isinstance(row, SummaryRow):
        return SummaryRow(pair.id, "failed", a=pair.a, b=pair.b,
                          error=f"internal error: a worker returned {type(row).__name__}")
    return row
