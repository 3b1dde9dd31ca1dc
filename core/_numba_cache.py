"""Where numba keeps the engine's compiled kernels: one folder per user.

:func:`configure` runs when ``core`` is imported (before any kernel module imports
numba), from source and in the frozen bundle alike. It sets ``NUMBA_CACHE_DIR`` to the
platform's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux,
``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows, then
``alignment-inspector/numba``), unless the user set it. When that folder cannot be
written (no home, a read-only account) it falls back to a private temporary folder and
says so in one line on stderr; when even that fails, the kernels compile without a cache
(every run compiles again, nothing crashes).

Without this, numba caches next to the kernels' source (``__pycache__``) when that is
writable, else in ``~/.cache/numba``, and raises ``RuntimeError: cannot cache function
...: no locator available`` when neither is.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

__all__ = ["configure", "caching", "platform_cache_dir", "choose_cache_dir"]

ENV = "NUMBA_CACHE_DIR"
APP = "alignment-inspector"

#: the folder chosen by :func:`configure` (None: no cache), set once per process
_state: dict = {}


def platform_cache_dir(env=None, platform: str | None = None) -> tuple[Path | None, Path]:
    """(the user's cache folder for this application's kernels, the folder that must
    already exist for it to be made: the home or the platform's cache root), or
    (None, None) without either."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform.startswith("win"):
        base = env.get("LOCALAPPDATA")
        return (Path(base) / APP / "Cache" / "numba", Path(base)) if base else (None, None)
    home = env.get("HOME") or ""
    if platform == "darwin":
        return (Path(home) / "Library" / "Caches" / APP / "numba", Path(home)) if home \
            else (None, None)
    if env.get("XDG_CACHE_HOME"):
        base = Path(env["XDG_CACHE_HOME"])
        return base / APP / "numba", base.parent
    return (Path(home) / ".cache" / APP / "numba", Path(home)) if home else (None, None)


def _writable(folder: Path, root: Path | None = None) -> str | None:
    """None when files can be created in ``folder`` (made if missing, but only inside an
    existing ``root``: a missing home is not created), else why not."""
    if root is not None and not root.is_dir():
        return f"{root} does not exist"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def _private_temp_dir() -> Path | None:
    """``<tmp>/alignment-inspector-<user>/numba``, reused across runs when it is this
    user's own and writable by nobody else (numba's cache holds pickles: a folder another
    user could write to must not be loaded from); else a fresh temporary folder."""
    try:
        user = str(os.getuid()) if hasattr(os, "getuid") else (os.environ.get("USERNAME")
                                                               or "user")
        root = Path(tempfile.gettempdir()) / f"{APP}-{user}"
        try:
            root.mkdir(mode=0o700, exist_ok=True)
            st = root.stat()
            safe = not hasattr(os, "getuid") or (
                st.st_uid == os.getuid() and not st.st_mode & 0o022)
        except OSError:
            safe = False
        if safe and _writable(root / "numba") is None:
            return root / "numba"
        fresh = Path(tempfile.mkdtemp(prefix=f"{APP}-numba-"))
        return fresh if _writable(fresh) is None else None
    except OSError:
        return None


def choose_cache_dir(env=None, platform: str | None = None
                     ) -> tuple[Path | None, str | None]:
    """(folder for numba's cache or None for no cache, one line to tell the user or None).

    ``NUMBA_CACHE_DIR`` when set, else :func:`platform_cache_dir`; if it cannot be
    written, a private temporary folder."""
    env = os.environ if env is None else env
    if env.get(ENV):
        wanted, root = Path(env[ENV]), None
    else:
        wanted, root = platform_cache_dir(env, platform)
    if wanted is not None:
        why = _writable(wanted, root)
        if why is None:
            return wanted, None
        problem = f"cannot write the kernel cache {wanted} ({why})"
    else:
        problem = "no home folder for the kernel cache"
    fallback = _private_temp_dir()
    if fallback is not None:
        return fallback, (f"{APP}: note: {problem}; compiled kernels are kept in "
                          f"{fallback} instead")
    return None, (f"{APP}: note: {problem} and no temporary folder either; kernels are "
                  "compiled on every run")


def configure() -> Path | None:
    """Choose the cache folder once per process and point numba at it (also when numba is
    already imported); print the fallback's one line on stderr. Returns the folder."""
    if "dir" in _state:
        return _state["dir"]
    folder, message = choose_cache_dir()
    _state["dir"] = folder
    if folder is not None:
        os.environ[ENV] = str(folder)
        config = sys.modules.get("numba.core.config")
        if config is not None:
            config.CACHE_DIR = str(folder)
    if message:
        try:
            print(message, file=sys.stderr)
        except (OSError, ValueError, AttributeError):  # no stderr (windowed app)
            pass
    return folder


def caching() -> bool:
    """Whether the kernels may be compiled with ``cache=True``."""
    return configure() is not None
