"""Progress reporting and cooperative cancellation for long core functions.

Every long function in ``core`` takes ``progress`` (a callable receiving a fraction in
[0, 1]) and ``cancel`` (a callable returning True when the caller wants to stop). They are
checked between tiles or iterations, never inside a numba kernel.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import Cancelled

ProgressCallback = Callable[[float], object] | None
CancelCallback = Callable[[], bool] | None


class Monitor:
    """Wraps ``progress`` and ``cancel`` callbacks; a sub-range maps local fractions.

    Parameters
    ----------
    progress, cancel : callables or None
        As described in the module docstring.
    start, stop : float
        The fraction range this monitor reports into (for nested stages).
    """

    __slots__ = ("_progress", "_cancel", "start", "stop")

    def __init__(self, progress: ProgressCallback = None, cancel: CancelCallback = None,
                 start: float = 0.0, stop: float = 1.0):
        self._progress = progress
        self._cancel = cancel
        self.start = float(start)
        self.stop = float(stop)

    def check(self) -> None:
        """Raise :class:`Cancelled` if cancellation was requested."""
        if self._cancel is not None and self._cancel():
            raise Cancelled("cancelled")

    def report(self, fraction: float) -> None:
        """Report local progress ``fraction`` in [0, 1] and check for cancellation."""
        if self._progress is not None:
            f = min(max(float(fraction), 0.0), 1.0)
            self._progress(self.start + (self.stop - self.start) * f)
        self.check()

    def sub(self, start: float, stop: float) -> Monitor:
        """A monitor for the local sub-range [start, stop] of this one."""
        span = self.stop - self.start
        return Monitor(self._progress, self._cancel,
                       self.start + span * start, self.start + span * stop)
