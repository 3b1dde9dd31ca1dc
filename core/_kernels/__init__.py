"""numba kernels only: typed arrays in, preallocated outputs written, no validation.

Every kernel is ``@njit(cache=True, nogil=True)``; the public wrappers in ``core``
validate their inputs, loop over tiles, report progress and check for cancellation.

The wrappers reach a kernel module through :func:`lazy`, so that importing the engine
(``core.warping``, ``core.pipeline``, the method registry) does not import numba
(0.3-0.5 s): the window's modules import without it, and the window imports it with
:func:`load_numba` on its main thread once it is shown, before its first worker starts.
Plain constants the wrappers need at import time (the metric codes) live here.
"""

from __future__ import annotations

import importlib
import threading

__all__ = ["lazy", "load_numba", "when_numba_loaded", "SQEUCLIDEAN", "EUCLIDEAN", "CITYBLOCK",
           "COSINE"]

#: local-distance codes of the DTW tile kernels (:mod:`core._kernels.dtw_tiles`)
SQEUCLIDEAN, EUCLIDEAN, CITYBLOCK, COSINE = 0, 1, 2, 3

_hooks: list = []
_hooks_lock = threading.Lock()
_loaded = [False]


class _LazyKernels:
    """Stands for ``core._kernels.<name>``: the first attribute read imports the module
    (numba with it, on whatever thread reads it) and copies the attribute in, so later
    reads are plain attribute reads."""

    def __init__(self, name: str):
        self._name = f"{__name__}.{name}"

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = getattr(importlib.import_module(self._name), attr)
        setattr(self, attr, value)
        return value

    def __repr__(self) -> str:
        return f"<kernels {self._name} (imported at first use)>"


def lazy(name: str) -> _LazyKernels:
    """The kernel module ``core._kernels.<name>``, imported at its first use."""
    return _LazyKernels(name)


def load_numba() -> None:
    """Import numba (and what it imports: parts of scipy, llvmlite) now, on this thread;
    nothing when it is loaded. An application calls it on its main thread before it
    starts threads that may run kernels: imports of overlapping modules on two threads at
    once can fail ("partially initialized module", e.g. ``scipy.spatial.distance``)."""
    if not _loaded[0]:
        importlib.import_module(f"{__name__}._jit")


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
