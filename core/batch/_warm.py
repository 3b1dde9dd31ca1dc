"""Worker plugins for batches (this module imports Dask)."""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["WarmUp", "IgnoreInterrupts", "QuietCarriedWarnings"]


class WarmUp(WorkerPlugin):
    """Import the engine and load its numba kernels once per worker, when it starts, so
    that workers warm up side by side and no pair's time includes it."""

    name = "alignment-inspector-warm-up"

    def setup(self, worker) -> None:
        from .. import formats, media  # noqa: F401 - imported for their start-up cost
        from ..pipeline import warm_up

        warm_up()


class IgnoreInterrupts(WorkerPlugin):
    """Local clusters only: a worker ignores SIGINT (Ctrl-C reaches the whole process
    group; the batch's own process stops the cluster)."""

    name = "alignment-inspector-ignore-interrupts"

    def setup(self, worker) -> None:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)


class QuietCarriedWarnings(WorkerPlugin):
    """A worker does not print the engine's warnings whose text the result carries
    (``diagnostics["warning"]``: a part of one recording left out, a solver that did not
    converge): the pair's summary row has it (``warning``) and the command line prints
    it with the pair's line. Printed by the worker, it came a second time on the batch's
    standard error, with a line of source code, and broke the progress bar."""

    name = "alignment-inspector-quiet-carried-warnings"

    def setup(self, worker) -> None:
        import warnings

        from ..errors import ConvergenceWarning, PartialOverlapWarning

        for category in (PartialOverlapWarning, ConvergenceWarning):
            warnings.filterwarnings("ignore", category=category)
