"""Exceptions shared by the whole engine."""

from __future__ import annotations

__all__ = ["Cancelled", "MediaError", "AlignmentError", "FormatError", "ConvergenceWarning"]


class Cancelled(Exception):
    """Raised by a core function when its ``cancel`` callback returned True."""


class MediaError(ValueError):
    """A media file is missing, unreadable, corrupt, empty or has nothing decodable.

    The message always names the file and the problem.
    """

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class AlignmentError(ValueError):
    """An alignment problem admits no solution (e.g. a window or anchor set with no path)."""


class FormatError(ValueError):
    """A file of an alignment or annotation format is malformed.

    The message names the file, the line (when known) and the problem.
    """

    def __init__(self, path, problem: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped at ``max_iter`` before reaching ``tol``."""
