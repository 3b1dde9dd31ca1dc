"""``python -m inspector``: the same as ``alignment-inspector`` (the window, or a headless
subcommand), for a checkout that is not installed."""

import sys

from inspector.launch import main

sys.exit(main())
