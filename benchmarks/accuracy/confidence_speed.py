"""What the calibrated confidence costs: seconds of ``apply_model`` per hour of path.

    python benchmarks/accuracy/confidence_speed.py [PAIR_ID ...]

Aligns pairs of ../shared/data with the default pipeline and times every call of
:func:`core.pipeline.confidence.apply_model` (the evidence and the model, run on every
segment the engine solves, a re-solve after an edit included) against the alignment's
total time; the cost is given per hour of A (the path's length in time). Run it at
normal priority on a quiet machine (it prints ``uptime``).
"""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"
DEFAULT = ("music_p02_bwv269", "xmodal_p01_bounce_bwv26.6", "video_p01_bikes",
           "speech_p01_harvard1")


def main(argv=None):
    from core.pipeline import align_files
    from core.pipeline import confidence as cm

    ids = (argv if argv is not None else sys.argv[1:]) or DEFAULT
    with open(DATA / "index.csv") as f:
        rows = {r["pair_id"]: r for r in csv.DictReader(f)}
    spent = []
    original = cm.apply_model

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        out = original(*args, **kwargs)
        spent.append(time.perf_counter() - t0)
        return out

    cm.apply_model = timed
    print(f"uptime: {os.popen('uptime').read().strip()}")
    print("| pair | A s | path steps | alignment s | confidence model s | per hour of A s |")
    print("|---|---|---|---|---|---|")
    try:
        for pid in ids:
            r = rows[pid]
            align_files(DATA / r["file_a"], DATA / r["file_b"])  # warm-up (numba, caches)
            spent.clear()
            t0 = time.perf_counter()
            al = align_files(DATA / r["file_a"], DATA / r["file_b"])
            total = time.perf_counter() - t0
            dur = float(r["duration_a_s"])
            model = sum(spent)
            print(f"| {pid} | {dur:.1f} | {len(al.path)} | {total:.2f} | {model:.3f} | "
                  f"{model * 3600.0 / dur:.1f} |", flush=True)
    finally:
        cm.apply_model = original
    print(f"uptime: {os.popen('uptime').read().strip()}")


if __name__ == "__main__":
    main()
