"""Entry point of ``alignment-inspector``.

Headless subcommands (``align``, ``transfer``, ...) go to :mod:`core.cli` without importing
Qt, so batch jobs run on machines with no display libraries; anything else opens the window.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _numba_cache_for_frozen_app() -> None:
    """A frozen bundle is read-only: keep numba's compiled kernels in the user's cache."""
    if getattr(sys, "frozen", False) and "NUMBA_CACHE_DIR" not in os.environ:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        os.environ["NUMBA_CACHE_DIR"] = str(Path(base) / "alignment-inspector" / "numba")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _numba_cache_for_frozen_app()
    try:
        from core import cli
    except KeyboardInterrupt:  # Ctrl-C while the engine loads: one line, no traceback
        sys.stderr.write("alignment-inspector: error: interrupted\n")
        return 130

    if argv and (cli.is_subcommand(argv[0]) or argv[0] in ("-h", "--help", "--version")):
        return cli.main(argv)
    from inspector.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
