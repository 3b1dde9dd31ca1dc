"""Shared test settings: offscreen Qt, the shared data set, small generated media."""

import os
import signal
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# A shell without job control starts a background command (``.ci/run &``, a CI runner's
# step) with SIGINT ignored, and a child inherits that: the command-line processes the
# signal tests interrupt with Ctrl-C would then rightly keep ignoring it (as under nohup)
# and the tests would wait for nothing. The tests ask for a terminal's Ctrl-C, so pytest
# takes SIGINT back (a Python handler resets to the default in every child it starts).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ALIGNMENT_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ``../shared/data`` folder; tests that use it skip when it is absent."""
    if not (SHARED_DATA / "index.csv").is_file():
        pytest.skip(f"shared data set not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def shrunk_tiles(monkeypatch):
    """DTW tiles of 16 rows x 24 columns and threads from 1000 cells, so that small
    inputs use many strips and chunks (the tile solvers' paths on test-sized data)."""
    import core.warping._engine as engine
    import core.warping._long as long_
    import core.warping._tiles as tiles

    def shape(lo, hi):
        return 16, 24

    for module in (tiles, engine, long_):
        monkeypatch.setattr(module, "choose_shape", shape)
    monkeypatch.setattr(tiles, "_PARALLEL_CELLS", 1000)


@pytest.fixture
def null_device(tmp_path) -> Path:
    """A character device that discards what is written (1, 3: like /dev/null).

    As root it is a private node in ``tmp_path``: a regression that replaced the output
    by a rename would otherwise replace the machine's own /dev/null (root may rename in
    /dev). Without root, /dev/null itself (a rename in /dev is refused there)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        node = tmp_path / "null"
        os.mknod(node, 0o666 | __import__("stat").S_IFCHR, os.makedev(1, 3))
        return node
    return Path("/dev/null")
