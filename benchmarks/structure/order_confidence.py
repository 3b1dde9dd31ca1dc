"""The held-out confidence figures with and without the monotone result's order check.

Run: ``nice -n 10 python benchmarks/structure/order_confidence.py [--seeds 0,1]``.

The held-out generated music pairs of ``benchmarks/accuracy/heldout.py`` (each seed six
pairs), aligned with the defaults; per path step the error (how far its A time lies
outside the A times of the ground-truth events around its B time, as
``order_check.py``'s :func:`step_errors`) against the expected error the confidence says
(:func:`core.pipeline.confidence.expected_error_ms`), before the order check changed it
and after. Printed, pooled over the steps: Spearman's rank correlation of the two, the
share of the errors above 100 ms that sit on doubtful steps, and the share of steps that
are doubtful (as ``benchmarks/accuracy/calibrate.py`` reports them).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parents[1] / "benchmarks" / "accuracy"))

import heldout  # noqa: E402
import order_check  # noqa: E402  (its wrapper keeps the confidence before the check)
from scipy.stats import spearmanr  # noqa: E402

import core  # noqa: E402
from core.pipeline.confidence import doubtful_confidence, expected_error_ms  # noqa: E402

BIG_MS = 100.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1")
    args = ap.parse_args()
    pooled = {"before": [], "after": [], "err": [], "doubt_before": [], "doubt_after": []}
    for seed in (int(s) for s in args.seeds.split(",")):
        out = Path(tempfile.mkdtemp(prefix="order_conf_"))
        for d, a, b in heldout.make_pairs(out, seed=seed):
            rows = list(csv.DictReader(open(d / "gt.csv")))
            gt = np.array([[float(r["time_a_s"]), float(r["time_b_s"])] for r in rows])
            order_check._BEFORE.clear()
            al = core.align_files(a, b)
            after = np.asarray(al.confidence, dtype=np.float64)
            before = np.asarray(order_check._BEFORE.get("confidence", after))
            err = 1000.0 * order_check.step_errors(al.times_s, gt)
            low = doubtful_confidence(al)
            pooled["before"].append(expected_error_ms(before))
            pooled["after"].append(expected_error_ms(after))
            pooled["err"].append(err)
            pooled["doubt_before"].append(before < low)
            pooled["doubt_after"].append(after < low)
            check = al.diagnostics.get("order_check")
            print(f"seed {seed} {d.name}: order check "
                  f"{'-' if not check else check['message']}", flush=True)
    v = {k: np.concatenate(x) for k, x in pooled.items()}
    big = v["err"] > BIG_MS
    for name in ("before", "after"):
        rho = spearmanr(v[name], v["err"])[0]
        doubt = v[f"doubt_{name}"]
        print(f"{name}: Spearman {rho:.3f}, errors > {BIG_MS:.0f} ms on doubtful steps "
              f"{np.mean(doubt[big]):.3f} ({int(big.sum())} of {len(big)} steps), "
              f"doubtful steps {np.mean(doubt):.3f}")


if __name__ == "__main__":
    main()
