"""The Sync Toolbox's path for generated audio pairs, in an interpreter that has it.

    PYTHON benchmarks/accuracy/sync_paths.py PAIR_DIR [PAIR_DIR ...]

Writes ``synctoolbox.npy`` ((L, 2) seconds, A then B) into each folder holding ``a.wav``
and ``b.wav`` (the recommended pipeline of ``run.py --synctoolbox``: tuning, chroma and
DLNCO at 50 Hz, key shift, MrMsDTW). synctoolbox 1.4 pins numba below the project's, so
it may live in its own virtual environment: ``generalize.py audio --synctoolbox PYTHON``
runs this file with that interpreter; the project's code is not imported.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import synctoolbox_times  # noqa: E402


def main(argv=None):
    for d in (argv if argv is not None else sys.argv[1:]):
        d = Path(d)
        times = synctoolbox_times(str(d / "a.wav"), str(d / "b.wav"))
        np.save(d / "synctoolbox.npy", np.asarray(times, dtype=np.float64))
        print(d, len(times), flush=True)


if __name__ == "__main__":
    main()
