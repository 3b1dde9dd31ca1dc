"""The worker plugin that prepares a Dask worker for pairs (imports Dask itself)."""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["WarmUp"]


class WarmUp(WorkerPlugin):
    """Import the engine and load its numba kernels once per worker, when it starts, so
    that workers warm up side by side and no pair's time includes it."""

    name = "alignment-inspector-warm-up"

    def setup(self, worker) -> None:
        from .. import formats, media  # noqa: F401 - imported for their start-up cost
        from ..pipeline import warm_up

        warm_up()
