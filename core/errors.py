"""Exceptions shared by the whole engine."""

from __future__ import annotations

__all__ = ["Cancelled", "MediaError", "AlignmentError", "FormatError", "OutputError",
           "WriteError", "ConvergenceWarning", "PartialOverlapWarning"]


def _shown(path) -> str:
    """The path as printable text (bytes that are not UTF-8 as ``\\xNN``)."""
    from .paths import display_path

    return display_path(path)


class Cancelled(Exception):
    """Raised by a core function when its ``cancel`` callback returned True."""


class MediaError(ValueError):
    """A media file is missing, unreadable, corrupt, empty or has nothing decodable.

    The message always names the file and the problem.
    """

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{_shown(path)}: {problem}")

    def __reduce__(self):  # pickles (workers, Dask) with its fields
        return type(self), (self.path, self.problem)


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
        where = f"{_shown(path)}, line {line}" if line is not None else _shown(path)
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):
        return type(self), (self.path, self.problem, self.line)


class OutputError(ValueError):
    """An output is refused before anything is written (a folder, one of the inputs, a
    missing or read-only folder, a name too long, standard output closed).

    The message names the output and the problem.
    """

    def __init__(self, path, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"{_shown(path)}: {problem}")

    def __reduce__(self):
        return type(self), (self.path, self.problem)


class WriteError(OSError):
    """Writing an output failed (disk full, file too large, I/O error).

    Carries the ``errno`` of the failure; the message names the output (never a
    temporary file) and says that the previous file is left untouched.
    """

    def __init__(self, path, error: OSError, *, existed: bool = False):
        super().__init__(error.errno, error.strerror or str(error))
        self.path = path
        self.existed = existed
        self.problem = error.strerror or str(error)

    def __reduce__(self):
        return _write_error, (type(self), self.path, self.errno, self.problem, self.existed)

    def __str__(self) -> str:
        kept = ("the previous file is left untouched" if self.existed
                else "nothing was written")
        return f"{_shown(self.path)}: cannot be written ({self.problem}); {kept}"


def _write_error(cls, path, errno, problem, existed):
    return cls(path, OSError(errno, problem), existed=existed)


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped at ``max_iter`` before reaching ``tol``."""


class PartialOverlapWarning(UserWarning):
    """One recording's start or end holds material the other lacks (a lead-in, a tail):
    the alignment leaves it out. The result's ``diagnostics["unshared"]`` names the side
    and the span, ``diagnostics["warning"]`` says it in words."""
