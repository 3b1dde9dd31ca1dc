"""Running a task in a spawned child process: its numpy and numba work then never holds
the window's GIL (see benchmarks/gui/results.md).

The child reports progress through a pipe; cancelling terminates it; an exception in the
child arrives as the same exception type with the same message. The child's Python
warnings arrive as those of a task run in the window's process do: the child runs under
the window's warning filters (an ``ignore`` drops a warning, an ``error`` makes it the
task's exception), and each warning it shows is shown here, through
``warnings.showwarning`` (the window's status bar: ``inspector.app``'s warning relay),
with its category, message, file and line.
"""

from __future__ import annotations

import pickle
import re
import time
import warnings
from collections.abc import Callable

from core.display import limit_blas_threads
from core.errors import Cancelled

__all__ = ["in_child", "rebuilt_exception"]


def rebuilt_exception(kind, message: str) -> BaseException:
    """An exception of type ``kind`` whose message is ``message``, made without calling
    its ``__init__`` (core's MediaError takes a path and a problem): the type travels
    from the child, the message is the child's."""
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        return RuntimeError(message)
    exc = kind.__new__(kind, message)
    exc.args = (message,)
    return exc


def in_child(target: Callable, args: tuple, *, progress=None, cancel=None):
    """``target(*args, progress=...)`` in a spawned process; returns what it returned.

    ``target`` must be a module-level function of a module that does not import Qt
    (the child imports it), and its arguments and result must pickle. The child's
    warnings are shown here as they arrive (see the module docstring).

    Raises
    ------
    core.Cancelled
        When ``cancel()`` returned True (the child is terminated).
    Exception
        The child's exception, as its type with its message (a warning the filters turn
        into an error too).
    RuntimeError
        When the child ended without an answer (killed, crashed).

    Notes
    -----
    The child's filters are a copy of this process's when the task starts, and a new
    process has no record of the warnings already shown: a warning the ``default``
    action shows once per place is shown once per child, where a task run in this
    process shows it only the first time its place warns.
    """
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # never fork a process that runs Qt threads
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(child, target, args, _filters_to_send()),
                       daemon=True)
    proc.start()
    child.close()
    name = getattr(target, "__name__", "task")

    def ended() -> RuntimeError:
        proc.join(1)  # (its exit code is known once it is reaped)
        return RuntimeError(f"the {name} process ended unexpectedly (exit code "
                            f"{proc.exitcode})")

    try:
        while True:
            if cancel is not None and cancel():
                raise Cancelled("cancelled")
            if not parent.poll(0.05):
                if not proc.is_alive() and not parent.poll(0):
                    raise ended()
                continue
            try:
                kind, payload = parent.recv()
            except EOFError:  # a dead child's end of the pipe reads as ready, and empty
                raise ended() from None
            if kind == "progress":
                if progress is not None:
                    progress(payload)
            elif kind == "warning":
                _show_warning(*payload)
            elif kind == "error":
                raise rebuilt_exception(*payload)
            else:
                return payload
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(5)
        parent.close()


def _portable(kind: type, fallback: type) -> type:
    """``kind`` if it can travel between the processes (a class pickles by reference: a
    local one cannot), else ``fallback``."""
    try:
        pickle.dumps(kind)
    except Exception:  # noqa: BLE001 - any failure to pickle means it cannot travel
        return fallback
    return kind


def _filters_to_send() -> list[bytes]:
    """This process's warning filters, each pickled on its own (as the arguments of
    ``warnings.filterwarnings``), so that the child can leave out one whose category it
    cannot import; a category that cannot travel at all is left out here."""
    sent = []
    for action, message, category, module, lineno in warnings.filters:
        if _portable(category, None) is None:
            continue
        sent.append(pickle.dumps((action, _pattern(message), category, _pattern(module),
                                  lineno)))
    return sent


def _pattern(match) -> str:
    """A filter's message or module as ``warnings.filterwarnings`` takes it: None
    (any), a compiled pattern, or a plain string (the interpreter's own filters, which
    match it exactly)."""
    if match is None:
        return ""
    if isinstance(match, str):
        return re.escape(match) + r"\Z"
    return match.pattern


def _use_filters(sent: list[bytes]) -> None:
    """In the child: the filters :func:`_filters_to_send` took, in their order."""
    warnings.resetwarnings()
    for blob in sent:
        try:
            action, message, category, module, lineno = pickle.loads(blob)
            warnings.filterwarnings(action, message, category, module, lineno, append=True)
        except Exception:  # noqa: BLE001, S112 - a filter the child cannot rebuild
            continue


def _show_warning(kind, message: str, filename: str, lineno: int) -> None:
    """Show a warning the child showed, as if raised here (after the filters: the child
    applied them)."""
    if not (isinstance(kind, type) and issubclass(kind, Warning)):
        kind = UserWarning
    warnings.showwarning(rebuilt_exception(kind, message), kind, filename, lineno)


def _child_main(conn, target: Callable, args: tuple, filters=()) -> None:
    # runs in the child process
    import threading

    lock = threading.Lock()  # progress and warnings may come from the engine's threads

    def send(message):
        with lock:
            conn.send(message)

    try:
        _use_filters(filters)

        def send_warning(message, category, filename, lineno, file=None, line=None):
            send(("warning", (_portable(category, UserWarning), str(message),
                              str(filename), int(lineno))))

        warnings.showwarning = send_warning
        # the same BLAS thread count as the window's process: the child leaves a core to
        # the GUI thread, and its matrix products sum in the same order
        limit_blas_threads()
        last = [0.0]

        def progress(fraction):
            now = time.monotonic()
            if now - last[0] > 0.1:
                last[0] = now
                send(("progress", float(fraction)))

        send(("result", target(*args, progress=progress)))
    except Exception as exc:  # noqa: BLE001 - every error goes back to the window
        # (the type travels by reference: a local class cannot)
        send(("error", (_portable(type(exc), RuntimeError),
                        str(exc) or type(exc).__name__)))
    finally:
        conn.close()
