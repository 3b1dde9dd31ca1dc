"""Running a task in a spawned child process: its numpy and numba work then never holds
the window's GIL (see benchmarks/gui/results.md).

The child reports progress through a pipe; cancelling terminates it; an exception in the
child arrives as the same exception type with the same message.
"""

from __future__ import annotations

import time
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
    (the child imports it), and its arguments and result must pickle.

    Raises
    ------
    core.Cancelled
        When ``cancel()`` returned True (the child is terminated).
    Exception
        The child's exception, as its type with its message.
    RuntimeError
        When the child ended without an answer (killed, crashed).
    """
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # never fork a process that runs Qt threads
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(child, target, args), daemon=True)
    proc.start()
    child.close()
    name = getattr(target, "__name__", "task")
    try:
        while True:
            if cancel is not None and cancel():
                raise Cancelled("cancelled")
            if not parent.poll(0.05):
                if not proc.is_alive() and not parent.poll(0):
                    raise RuntimeError(f"the {name} process ended unexpectedly "
                                       f"(exit code {proc.exitcode})")
                continue
            kind, payload = parent.recv()
            if kind == "progress":
                if progress is not None:
                    progress(payload)
            elif kind == "error":
                raise rebuilt_exception(*payload)
            else:
                return payload
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(5)
        parent.close()


def _child_main(conn, target: Callable, args: tuple) -> None:  # runs in the child process
    try:
        # the same BLAS thread count as the window's process: the child leaves a core to
        # the GUI thread, and its matrix products sum in the same order
        limit_blas_threads()
        last = [0.0]

        def progress(fraction):
            now = time.monotonic()
            if now - last[0] > 0.1:
                last[0] = now
                conn.send(("progress", float(fraction)))

        conn.send(("result", target(*args, progress=progress)))
    except Exception as exc:  # noqa: BLE001 - every error goes back to the window
        kind = type(exc)
        try:  # the type travels by reference: a local class cannot
            import pickle

            pickle.dumps(kind)
        except Exception:  # noqa: BLE001
            kind = RuntimeError
        conn.send(("error", (kind, str(exc) or type(exc).__name__)))
    finally:
        conn.close()
