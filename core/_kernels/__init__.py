"""numba kernels only: typed arrays in, preallocated outputs written, no validation.

Every kernel is ``@njit(cache=True, nogil=True)``; the public wrappers in ``core``
validate their inputs, loop over tiles, report progress and check for cancellation.

The wrappers reach a kernel module through :func:`lazy`, so that importing the engine
(``core.warping``, ``core.pipeline``, the method registry) does not import numba
(0.15-0.5 s): the window's modules import without it. Once the window is shown it starts
the import on a thread of its own with :func:`preload_numba` (the event loop keeps
running: the import is Python code that gives the GIL back every switch interval), and
every worker calls :func:`load_numba` before its job, which waits for that import
instead of importing the same modules on a second thread. Plain constants the wrappers
need at import time (the metric codes) live here.
"""

from __future__ import annotations

import importlib
import threading

__all__ = ["lazy", "load_numba", "preload_numba", "numba_loaded", "when_numba_loaded",
           "hold_preload", "release_preload",
           "SQEUCLIDEAN", "EUCLIDEAN", "CITYBLOCK", "COSINE"]

#: local-distance codes of the DTW tile kernels (:mod:`core._kernels.dtw_tiles`)
SQEUCLIDEAN, EUCLIDEAN, CITYBLOCK, COSINE = 0, 1, 2, 3

_hooks: list = []
_hooks_lock = threading.Lock()
_loaded = [False]
_preload: list[threading.Thread] = []  # the preload thread, once started
_preload_lock = threading.Lock()
# the import thread waits for this before importing (hold_preload / release_preload)
_gate = threading.Event()
_gate.set()
#: the longest a held import thread waits for release_preload
GATE_TIMEOUT_S = 5.0


class _LazyKernels:
    """Stands for ``core._kernels.<name>``: the first attribute read has numba imported
    (:func:`load_numba`: by its import thread), imports the module and copies the
    attribute in, so later reads are plain attribute reads."""

    def __init__(self, name: str):
        self._name = f"{__name__}.{name}"

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        load_numba()
        value = getattr(importlib.import_module(self._name), attr)
        setattr(self, attr, value)
        return value

    def __repr__(self) -> str:
        return f"<kernels {self._name} (imported at first use)>"


def lazy(name: str) -> _LazyKernels:
    """The kernel module ``core._kernels.<name>``, imported at its first use."""
    return _LazyKernels(name)


def numba_loaded() -> bool:
    """Whether numba is imported (by a kernel, :func:`load_numba` or the preload)."""
    return _loaded[0]


def load_numba() -> None:
    """Have numba imported (with llvmlite and scipy's top level) when this returns, by
    the one import thread of :func:`preload_numba` (started here if need be), waiting for
    it and for the modules it was asked to import as well; nothing when all is loaded.
    Every thread that may run kernels goes through here (the kernel modules read through
    :func:`lazy` do): two threads importing overlapping modules at once can see them
    half-initialized ("partially initialized module", e.g. ``scipy.spatial.distance``).
    A failed import is tried again on this thread, so that its error reaches the
    caller."""
    with _preload_lock:
        thread = _preload[0] if _preload else None
    if thread is None:
        if _loaded[0]:
            return
        preload_numba()
        with _preload_lock:
            thread = _preload[0] if _preload else None
    if thread is not None and thread is not threading.current_thread() and thread.is_alive():
        if threading.current_thread() is threading.main_thread():
            release_preload()  # the GUI thread needs it now: nothing to keep clear for
        thread.join()
    if not _loaded[0]:
        importlib.import_module(f"{__name__}._jit")


def preload_numba(also: tuple[str, ...] = ()) -> None:
    """Start importing numba, then the modules ``also`` (scipy's submodules the jobs
    import where they use them, say), on a daemon thread ("numba-import") and return at
    once; nothing once that thread was started, or when numba is loaded and ``also`` is
    empty. For a window, once it is shown: the imports (numba 0.15-0.5 s) then never pause
    its event loop (they give the GIL back every switch interval), and :func:`load_numba`
    waits for all of them, so no two workers import the same modules at once. scipy's
    top level, which numba imports, is imported here on the calling thread first (a few
    ms). An import of ``also`` that fails is left to the code that needs the module."""
    with _preload_lock:
        if _preload or (_loaded[0] and not also):
            return
    import scipy  # noqa: F401 - see above

    with _preload_lock:
        if _preload:
            return
        thread = threading.Thread(target=_preload_quietly, args=(tuple(also),),
                                  name="numba-import", daemon=True)
        _preload.append(thread)
        thread.start()  # under the lock: load_numba never sees it listed and not started


def hold_preload() -> None:
    """Have the import thread of :func:`preload_numba` wait before importing until
    :func:`release_preload` (at most :data:`GATE_TIMEOUT_S`), and the threads in
    :func:`load_numba` with it; nothing once numba is loaded. For a window whose GUI
    thread still has work to do right after it is shown (open the files, build the
    first-run strip): an import beside it takes half the GIL and doubles that work's
    pause (40 -> 110-150 ms measured)."""
    if not _loaded[0]:
        _gate.clear()


def release_preload() -> None:
    """Let the import thread of :func:`preload_numba` go on (see :func:`hold_preload`)."""
    _gate.set()


def _preload_quietly(also: tuple[str, ...]) -> None:
    _gate.wait(GATE_TIMEOUT_S)
    for name in (f"{__name__}._jit", *also):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - imported again (and raised) where it is used
            pass


def when_numba_loaded(callback) -> None:
    """Call ``callback()`` once numba is imported by the kernels (at once if it is):
    on the thread that imports it. For what needs numba's own objects (a compile
    listener) without importing numba before a kernel does."""
    with _hooks_lock:
        loaded = _loaded[0]
        if not loaded:
            _hooks.append(callback)
    if loaded:
        callback()


def _numba_loaded() -> None:
    """Called by :mod:`core._kernels._jit` once numba is imported."""
    with _hooks_lock:
        _loaded[0] = True
        hooks = list(_hooks)
        _hooks.clear()
    for callback in hooks:
        callback()
