"""One policy for the files the program writes, and for showing any file's name.

Every writer (the command line, the window, project saves, batch outputs, renders) goes
through this module, so that a failing, interrupted or misdirected write never destroys
a file.

Outputs
-------
``check_output(path, *, inputs=())`` -> :class:`OutputTarget`
    Checks an output before any work starts: its folder exists and can be written in,
    it is not a folder, its name fits the file system, and it is not one of ``inputs``
    (the same file also through symbolic or hard links: device and inode are
    compared). Raises :class:`core.errors.OutputError` (a ``ValueError``) naming OUT.
``open_output(path, mode="w", *, encoding="utf-8", newline="")``
    A context manager yielding a stream that becomes ``path`` when the block succeeds:

    - a regular file (or a new name) is written to a temporary file in the same folder,
      flushed and fsync'ed, given the old file's permissions (and owner, when run as
      root), then renamed over it (atomic); on any failure or interruption the
      temporary file is removed and the previous file is left untouched;
    - a symbolic link is written through: the temporary file goes next to the link's
      final target, which is replaced atomically, and the link stays a link;
    - a character or block device, a FIFO, a socket, ``"-"`` (standard output, also
      reached as ``/dev/stdout`` or ``/proc/self/fd/1``) and any file reached through
      ``/dev/fd/N`` or ``/proc/.../fd/N`` are written directly, never replaced by a rename.

    A hard link is replaced like any regular file: the other names keep the old
    content (as with every editor that saves by rename).
``output_path(path, *, suffix=None, utf8=False)``
    For writers that produce a file through a library that wants a file name
    (soundfile writing a WAV, OpenCV writing an MP4): yields a temporary file name
    (with OUT's extension, so that the library picks the same format) which is renamed
    into place when the block succeeds. For a device, a FIFO or standard output the file
    is produced in the system's temporary folder and then copied through. ``utf8=True``
    promises a name that is valid UTF-8 (OpenCV cannot open other names).
``write_text(path, text)``, ``write_bytes(path, data)``
    One-call forms of :func:`open_output`.

Temporary names are ``.<start of OUT's name>.<8 hex digits>.tmp``, cut so that they
fit the file system's name limit (255 bytes) whatever OUT's length. Errors name OUT
(:class:`core.errors.WriteError`, an ``OSError``), never the temporary file.

Signals
-------
Temporary files are registered while they exist. :func:`cleanup_on_signals` (the
command line calls it) makes SIGTERM and SIGHUP remove them and unwind like SIGINT
(raising :class:`Terminated`, a ``KeyboardInterrupt``); the registry is also emptied at
exit. A process killed with SIGKILL cannot clean up.

Names
-----
``display_path(path)`` is a path as text that can be printed and shown in Qt: bytes
that are not UTF-8 (any byte a Linux file name may hold) appear as ``\\xff``.
``is_utf8_name(path)`` tells whether a library that takes UTF-8 names can open it.
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import dataclasses
import io
import os
import secrets
import shutil
import signal
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from .errors import OutputError, WriteError

__all__ = ["STDOUT", "SHOW_BYTES", "OutputTarget", "Terminated", "check_output", "open_output",
           "output_path", "write_text", "write_bytes", "same_file", "display_path",
           "is_utf8_name", "cleanup_on_signals", "live_temporary_files",
           "remove_temporary_files"]

#: The output name that means standard output.
STDOUT = "-"
#: Longest file name (bytes) when the file system does not say.
NAME_MAX = 255
_TEMP_TAG = b".tmp"
_TOKEN_BYTES = 4  # 8 hex digits


# ---------------------------------------------------------------------------- names
def _show_bytes(err: UnicodeError):
    """Codec error handler: a surrogate escape (a file name's byte that is not UTF-8)
    becomes ``\\xNN``, any other unencodable character ``\\uNNNN``."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    out = []
    for ch in err.object[err.start:err.end]:
        code = ord(ch)
        out.append(f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}")
    return "".join(out), err.end


#: Error handler of text outputs (see :func:`open_output`).
SHOW_BYTES = "alignment_inspector.show_bytes"
codecs.register_error(SHOW_BYTES, _show_bytes)


def display_path(path) -> str:
    """``path`` as printable text; bytes that are not UTF-8 show as ``\\xNN``."""
    if path is None:
        return ""
    if path == STDOUT:
        return "standard output"
    try:
        raw = os.fsencode(path)
    except TypeError:
        return str(path)
    return raw.decode("utf-8", "backslashreplace")


def is_utf8_name(path) -> bool:
    """Whether ``path`` is valid UTF-8 (what OpenCV and many C libraries can open)."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def same_file(a, b) -> bool:
    """Whether ``a`` and ``b`` name the same existing file (device and inode), also
    through symbolic and hard links."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


# ---------------------------------------------------------------------------- checks
@dataclasses.dataclass(frozen=True)
class OutputTarget:
    """Where and how an output is written.

    Attributes
    ----------
    path : str or bytes
        The name as given (used in messages).
    kind : {"stdout", "direct", "atomic"}
        Standard output; a device, FIFO or socket written in place; or a regular file
        (new or existing) replaced by rename.
    real : bytes or None
        The file actually written: the final target of symbolic links (``atomic`` and
        ``direct``); None for standard output.
    exists : bool
        Whether ``real`` exists now.
    """

    path: object
    kind: str
    real: bytes | None
    exists: bool = False


def _name_max(folder: bytes) -> int:
    try:
        return int(os.pathconf(folder or b".", "PC_NAME_MAX"))
    except (OSError, ValueError):
        return NAME_MAX


def _is_stdout(st: os.stat_result) -> bool:
    try:
        out = os.fstat(1)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino)


def _under_proc_or_dev(path: bytes) -> bool:
    absolute = os.path.abspath(path)
    return absolute.startswith((b"/dev/", b"/proc/"))


def check_output(path, *, inputs: Iterable = ()) -> OutputTarget:
    """Check an output before work starts, and say how it will be written.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The output; ``"-"`` is standard output.
    inputs : iterable of paths
        Files the same run reads: the output may not be one of them (compared by device
        and inode, so links and other spellings of the same file count).

    Returns
    -------
    OutputTarget

    Raises
    ------
    core.errors.OutputError
        Naming OUT: standard output is closed, OUT is a folder, one of the inputs, a
        symbolic link loop, its folder is missing, not a folder, read-only or not
        writable, or its name is too long for the file system.
    """
    if isinstance(path, str) and path == STDOUT:
        if sys.stdout is None:
            raise OutputError(path, "is closed; give an output file (-o OUT)")
        return OutputTarget(path, "stdout", None)
    try:
        raw = os.fsencode(path)
    except TypeError:
        raise OutputError(path, f"expected a file name, got {type(path).__name__}") from None
    if not raw:
        raise OutputError(path, "the output name is empty")
    if b"\x00" in raw:
        raise OutputError(path, "a file name cannot contain a NUL byte")
    try:
        st = os.stat(raw)
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise OutputError(path, _stat_problem(err, raw)) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(path, "is a folder; give a file name")
    if st is not None:
        for item in inputs:
            if item is not None and same_file(raw, item):
                which = display_path(item)
                also = "" if os.path.abspath(os.fsencode(item)) == os.path.abspath(raw) \
                    else f" ({which})"
                raise OutputError(path, f"is the same file as an input{also}; writing it "
                                        f"would destroy that input: choose another output")
    if st is not None and not stat.S_ISREG(st.st_mode):
        if _is_stdout(st) and _under_proc_or_dev(raw):
            return OutputTarget(path, "stdout", None, True)
        if not os.access(raw, os.W_OK):
            raise OutputError(path, "cannot be written (permission denied)")
        return OutputTarget(path, "direct", raw, True)
    if st is not None and _under_proc_or_dev(raw):
        # /dev/stdout, /dev/fd/N, /proc/self/fd/N redirected to a file: fd 1 itself, or
        # the file the caller opened, written in place (its inode is what they hold)
        if _is_stdout(st):
            return OutputTarget(path, "stdout", None, True)
        if not os.access(raw, os.W_OK):
            raise OutputError(path, "cannot be written (permission denied)")
        return OutputTarget(path, "direct", raw, True)
    real = os.path.realpath(raw)
    folder, name = os.path.split(real)
    folder = folder or b"."
    try:
        fst = os.stat(folder)
    except FileNotFoundError:
        raise OutputError(path, f"the folder {display_path(folder)} does not exist") from None
    except OSError as err:
        raise OutputError(path, f"the folder {display_path(folder)}: "
                                f"{_stat_problem(err, folder)}") from None
    if not stat.S_ISDIR(fst.st_mode):
        raise OutputError(path, f"{display_path(folder)} is not a folder")
    limit = _name_max(folder)
    if len(name) > limit:
        raise OutputError(path, _too_long(name, limit))
    if _read_only(folder):
        raise OutputError(path, f"the folder {display_path(folder)} is on a read-only "
                                f"file system")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(path, f"cannot write in the folder {display_path(folder)} "
                                f"(permission denied)")
    if st is not None and not os.access(real, os.W_OK):
        raise OutputError(path, "is read-only (permission denied)")
    return OutputTarget(path, "atomic", real, st is not None)


def _too_long(name: bytes, limit: int) -> str:
    return (f"the file name is {len(name)} bytes long; this file system allows at most "
            f"{limit}")


def _stat_problem(err: OSError, raw: bytes) -> str:
    import errno

    if err.errno == errno.ELOOP:
        return "is a symbolic link loop"
    if err.errno == errno.ENOTDIR:
        return "a part of the path is not a folder"
    if err.errno == errno.ENAMETOOLONG:
        parts = [p for p in raw.split(b"/") if p]
        longest = max(parts, key=len, default=b"")
        limit = _name_max(os.path.dirname(raw) or b".") if os.path.isdir(
            os.path.dirname(raw) or b".") else NAME_MAX
        if len(longest) > limit:
            return _too_long(longest, limit)
        return "the path is too long for the file system"
    if err.errno == errno.EACCES:
        return "cannot be reached (permission denied)"
    return f"cannot be examined ({err.strerror or err})"


def _read_only(folder: bytes) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


# ---------------------------------------------------------------------------- temporaries
_LIVE: set[bytes] = set()


def live_temporary_files() -> list[str]:
    """Temporary files this process is writing now (for tests and diagnostics)."""
    return sorted(display_path(p) for p in _LIVE)


def remove_temporary_files() -> None:
    """Remove every temporary file this process is writing now (signal handlers, exit)."""
    for tmp in list(_LIVE):
        with contextlib.suppress(OSError):
            if os.path.isdir(tmp):
                shutil.rmtree(tmp)
            else:
                os.unlink(tmp)
        _LIVE.discard(tmp)


atexit.register(remove_temporary_files)


def _temp_name(folder: bytes, name: bytes, suffix: bytes = b"") -> bytes:
    """``.<head>.<token>.tmp<suffix>`` in ``folder``, at most the name limit long."""
    token = secrets.token_hex(_TOKEN_BYTES).encode()
    if len(suffix) > 32:
        suffix = b""
    fixed = 2 + len(token) + len(_TEMP_TAG) + len(suffix)
    head = name[:max(_name_max(folder) - fixed, 0)]
    stem = b"." + head + b"." + token if head else b"." + token
    return os.path.join(folder, stem + _TEMP_TAG + suffix)


def _create_temp(folder: bytes, name: bytes, suffix: bytes = b"") -> tuple[int, bytes]:
    """A new temporary file (mode 0600) in ``folder``; registered until removed."""
    for _ in range(100):
        tmp = _temp_name(folder, name, suffix)
        _LIVE.add(tmp)  # before it exists: a signal sweep may then find nothing, never miss it
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                         0o600)
        except FileExistsError:
            _LIVE.discard(tmp)
            continue
        except BaseException:
            _LIVE.discard(tmp)
            raise
        return fd, tmp
    raise FileExistsError(f"no free temporary name in {display_path(folder)}")


def _remove(tmp: bytes) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)
    _LIVE.discard(tmp)


def _umask() -> int:
    try:
        with open("/proc/self/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # (briefly changes the process's mask; only without /proc)
    os.umask(mask)
    return mask


def _adopt_metadata(tmp: bytes, real: bytes) -> None:
    """Give ``tmp`` the permissions (and, as root, the owner) of the file it replaces."""
    try:
        old = os.stat(real)
    except OSError:
        os.chmod(tmp, 0o666 & ~_umask())
        return
    os.chmod(tmp, stat.S_IMODE(old.st_mode))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        with contextlib.suppress(OSError):
            os.chown(tmp, old.st_uid, old.st_gid)


def _fsync_folder(folder: bytes) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder or b".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _ours(err: OSError, *names) -> bool:
    """Whether ``err`` is about writing the output (no file name, or one of ours)."""
    if err.filename is None:
        return True
    mine = {os.fsencode(n) for n in names if n is not None}
    try:
        return os.fsencode(err.filename) in mine
    except TypeError:
        return False


# ---------------------------------------------------------------------------- writing
@contextlib.contextmanager
def open_output(path, mode: str = "w", *, encoding: str | None = "utf-8",
                newline: str | None = "") -> Iterator[IO]:
    """A stream that becomes ``path`` when the ``with`` block succeeds (see the module
    docstring for links, devices and standard output).

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The output; ``"-"`` is standard output.
    mode : {"w", "wb"}
        Text or binary.
    encoding, newline : str, optional
        As in :func:`open` (text mode only); ``newline=""`` writes ``\\n`` unchanged.
        Text that the encoding cannot hold (a file name's bytes that are not UTF-8, carried
        in a ``str`` as surrogate escapes) is written as ``\\xNN`` (:data:`SHOW_BYTES`).

    Raises
    ------
    core.errors.OutputError
        The output is refused before anything is written (see :func:`check_output`).
    core.errors.WriteError
        Writing failed (disk full, file too large, I/O error); the message names OUT and
        the previous file is left untouched.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode: expected 'w' or 'wb', got {mode!r}")
    target = check_output(path)
    if target.kind == "stdout":
        with _stdout_stream(path, mode, encoding, newline) as stream:
            yield stream
        return
    if target.kind == "direct":
        try:
            handle = open(target.real, mode, **_text_args(mode, encoding, newline))
        except OSError as err:
            raise WriteError(path, err, existed=True) from None
        try:
            with handle:
                yield handle
        except OSError as err:
            if _ours(err, target.real):
                raise WriteError(path, err, existed=True) from None
            raise
        return
    folder, name = os.path.split(target.real)
    try:
        fd, tmp = _create_temp(folder, name)
    except OSError as err:
        raise WriteError(path, err, existed=target.exists) from None
    try:
        try:
            stream = os.fdopen(fd, mode, **_text_args(mode, encoding, newline))
        except BaseException:
            os.close(fd)
            raise
        with stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        _adopt_metadata(tmp, target.real)
        os.replace(tmp, target.real)
    except OSError as err:
        _remove(tmp)
        if _ours(err, tmp, target.real):
            raise WriteError(path, err, existed=target.exists) from None
        raise
    except BaseException:
        _remove(tmp)
        raise
    _LIVE.discard(tmp)
    _fsync_folder(folder)


def _text_args(mode, encoding, newline) -> dict:
    return {} if "b" in mode else {"encoding": encoding, "newline": newline,
                                   "errors": SHOW_BYTES}


@contextlib.contextmanager
def _stdout_stream(path, mode, encoding, newline):
    out = sys.stdout
    if out is None:
        raise OutputError(path, "is closed; give an output file (-o OUT)")
    buffer = getattr(out, "buffer", None)
    try:
        out.flush()
        if buffer is None:
            if "b" in mode:
                raise OutputError(path, "standard output does not take bytes here")
            yield out
            out.flush()
            return
        if "b" in mode:
            yield buffer
            buffer.flush()
            return
        wrapper = io.TextIOWrapper(buffer, encoding=encoding, newline=newline,
                                   errors=SHOW_BYTES)
        try:
            yield wrapper
            wrapper.flush()
        finally:
            with contextlib.suppress(ValueError):
                wrapper.detach()
    except BrokenPipeError:
        raise
    except OSError as err:
        if _ours(err):
            raise WriteError(path, err, existed=True) from None
        raise


def write_text(path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` by :func:`open_output` (no newline translation)."""
    with open_output(path, "w", encoding=encoding, newline="") as stream:
        stream.write(text)


def write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` by :func:`open_output`."""
    with open_output(path, "wb") as stream:
        stream.write(data)


@contextlib.contextmanager
def output_path(path, *, suffix: str | None = None, utf8: bool = False) -> Iterator[str]:
    """A temporary file name for a library that writes ``path`` itself; the file it
    writes becomes ``path`` when the ``with`` block succeeds.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The output (``"-"``: standard output).
    suffix : str, optional
        The temporary name's extension (default: OUT's own, so that libraries that pick
        a format from the name pick the same one).
    utf8 : bool
        The temporary name must be valid UTF-8 (OpenCV cannot take other names): when
        OUT's folder is not, the file is produced in the system's temporary folder and
        copied into place.

    Yields
    ------
    str
        The name to give the library. It exists (empty) when the block starts; the
        library may truncate or replace it. The caller closes the library's writer
        before the block ends.

    Raises
    ------
    core.errors.OutputError, core.errors.WriteError
        As :func:`open_output`; also when the library produced no file.
    """
    target = check_output(path)
    if suffix is None:
        suffix = "" if target.kind == "stdout" else os.fsdecode(
            os.path.splitext(target.real or b"")[1])
    suffix_b = os.fsencode(suffix)
    if not is_utf8_name(suffix_b):
        suffix_b = b""
    staged = target.kind != "atomic" or (utf8 and not is_utf8_name(target.real))
    if staged:
        folder = os.fsencode(tempfile.mkdtemp(prefix="alignment-inspector-"))
        _LIVE.add(folder)
        name = b"output"
    else:
        folder, name = os.path.split(target.real)
        name = b"" if utf8 else name  # the token alone keeps the name ASCII
    try:
        fd, tmp = _create_temp(folder, name, suffix_b)
    except OSError as err:
        if staged:
            _remove_tree(folder)
        raise WriteError(path, err, existed=target.exists) from None
    os.close(fd)
    try:
        yield os.fsdecode(tmp)
        if not os.path.isfile(tmp):
            raise WriteError(path, FileNotFoundError(2, "the writer produced no file"),
                             existed=target.exists)
        if staged:
            with open(tmp, "rb") as source, open_output(path, "wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
        else:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            _adopt_metadata(tmp, target.real)
            os.replace(tmp, target.real)
            _fsync_folder(folder)
    except OSError as err:
        if isinstance(err, WriteError) or not _ours(err, tmp, target.real):
            raise
        raise WriteError(path, err, existed=target.exists) from None
    finally:
        _remove(tmp)
        if staged:
            _remove_tree(folder)


def _remove_tree(folder: bytes) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    _LIVE.discard(folder)


# ---------------------------------------------------------------------------- signals
class Terminated(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM or SIGHUP once :func:`cleanup_on_signals`
    is in force; ``signum`` is the signal (exit status ``128 + signum``)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = int(signum)

    def __str__(self) -> str:
        try:
            return f"terminated by {signal.Signals(self.signum).name}"
        except ValueError:
            return f"terminated by signal {self.signum}"


def cleanup_on_signals(signals: Iterable[int] | None = None):
    """Make SIGTERM and SIGHUP (or ``signals``) remove temporary files and raise
    :class:`Terminated` in the main thread, as SIGINT raises KeyboardInterrupt.

    Returns
    -------
    callable
        Restores the previous handlers. Outside the main thread nothing is installed
        (Python handles signals there only) and the callable does nothing.
    """
    if signals is None:
        signals = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
                   if s is not None]

    def handler(signum, frame):
        remove_temporary_files()
        raise Terminated(signum)

    previous = {}
    with contextlib.suppress(ValueError):  # not the main thread
        for signum in signals:
            previous[signum] = signal.signal(signum, handler)

    def restore():
        for signum, old in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, old)

    return restore
