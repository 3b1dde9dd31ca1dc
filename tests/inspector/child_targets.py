"""Targets for tests of :func:`inspector.tasks.process.in_child` (a spawned child imports
this module by name: tests/inspector is on sys.path; it must not import Qt)."""

from __future__ import annotations

import os
import warnings

from core.errors import PartialOverlapWarning


def warn_twice(n: int, *, progress=None) -> str:
    """Warns ``n`` times at each of two places, then returns."""
    for k in range(n):
        warnings.warn("B has a lead-in A lacks", PartialOverlapWarning, stacklevel=1)
        warnings.warn(f"step {k} is odd", RuntimeWarning, stacklevel=1)
    return "done"


def die(code: int, *, progress=None) -> None:
    """Ends the process at once, as a crash in a decoder would."""
    os._exit(code)
