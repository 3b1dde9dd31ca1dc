"""``structure="auto"`` on copies at another tempo (no change of order): does it keep the
monotone result?

    nice python benchmarks/structure/auto_tempo.py [--cache DIR]

The public pairs k545, bwv66.6, harvard1 and vibeace with B replaced by the tempo copies
of ``benchmarks/accuracy/unseen.py`` (0.5, 0.6, 0.7 and 1.5x; generated under
``--cache``, default ``/tmp/ai-unseen``); each aligned with ``structure="monotone"`` and
``"auto"``, scored as the mean over B's ground-truth events of the distance from the
predicted A time (the nearest, for a time heard twice) to the true one. Prints one line
per copy: what ``auto`` returned and both errors (ms). Results: ``results.md``, "auto on
copies at another tempo".
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parent / "accuracy"))

PAIRS = ("k545", "bwv66.6", "harvard1", "vibeace")
TEMPI = ("tempo0.5", "tempo0.6", "tempo0.7", "tempo1.5")


def error_ms(al, ga, gb):
    pred = np.asarray(al.map_b_to_a(np.asarray(gb, dtype=float)), dtype=float)
    pred = pred.reshape(len(gb), -1)
    return float(np.mean(np.abs(pred - np.asarray(ga, dtype=float)[:, None]).min(axis=1)))


def main(argv=None):
    import unseen

    import core
    from core.structure import align_structure

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ai-unseen"))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    totals = {"monotone": [], "auto": []}
    switched = 0
    for pair in PAIRS:
        for name in TEMPI:
            a, b, ga, gb = unseen.make_pair(pair, name, args.cache)
            ra, rb = core.open_recording(a), core.open_recording(b)
            row = {}
            for mode in totals:
                al = align_structure(ra, rb, structure=mode)
                row[mode] = 1000.0 * error_ms(al, ga, gb)
                totals[mode].append(row[mode])
                if mode == "auto":
                    result = al.diagnostics["structure"]["result"]
                    switched += result == "pieces"
            print(f"{pair} {name}: auto -> {result}, monotone {row['monotone']:.1f} ms, "
                  f"auto {row['auto']:.1f} ms", flush=True)
    print(f"{switched} of {len(totals['auto'])} switched to pieces; mean error monotone "
          f"{np.mean(totals['monotone']):.1f} ms, auto {np.mean(totals['auto']):.1f} ms")


if __name__ == "__main__":
    main()
