"""Entry point of ``alignment-inspector``.

Headless subcommands (``align``, ``transfer``, ...) go to :mod:`core.cli` without importing
Qt, so batch jobs run on machines with no display libraries; anything else opens the window.
Importing ``core`` chooses numba's cache folder (:mod:`core._numba_cache`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    if argv is None and Path(sys.argv[0]).stem == "alignment-inspector-sv":
        # the frozen bundle's Sonic Visualiser aligner: this executable under that name
        from core.cli import sv_main

        return sv_main()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or "." in argv[0] or os.sep in argv[0]:  # files (a subcommand has no dot)
        from inspector.firstrun import show_splash

        show_splash(argv)  # at once, while the engine and the views are imported
    try:
        from core import cli
    except KeyboardInterrupt:  # Ctrl-C while the engine loads: one line, no traceback
        sys.stderr.write("alignment-inspector: error: interrupted\n")
        return 130

    if argv and (cli.is_subcommand(argv[0]) or argv[0] in ("-h", "--help", "--version")):
        if "inspector.firstrun" in sys.modules:
            sys.modules["inspector.firstrun"].close_splash()
        return cli.main(argv)
    from inspector.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
