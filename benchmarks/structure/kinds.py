"""Kind agreement of the units of A and B on changed pairs (a section of B repeated,
dropped or moved; :mod:`pairs`), and on the synthetic repeat pair of the tests.

For every 0.25 s of B' whose ground truth holds an A time (interpolated between the
events of B's piece), the kind of B's unit there is compared with the kind of A's unit
at that A time: the share of equal kinds is the agreement (1.0: each section has one
kind on A and B). The units and kinds are :func:`core.structure.align.analyse_units` on
:func:`core.structure.align.unit_features` (what the window's "Find units" shows).

Run from the repository: ``nice -n 10 python benchmarks/structure/kinds.py [--seeds 2]``
(``PYTHONPATH`` picks the code measured: this branch's or another checkout's); prints
one line per pair and a summary, writes ``--out`` (JSON) when given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pairs  # noqa: E402

import core  # noqa: E402
from core.media import open_recording  # noqa: E402
from core.structure.align import analyse_units, unit_features  # noqa: E402

STEP_S = 0.25
WORK = Path("/tmp/structure_kinds")


def kind_at(units, t_s):
    for u in units:
        if u.start_s <= t_s < u.end_s:
            return u.kind
    return units[-1].kind if units else -1


def agreement(path_a, path_b, b_to_a):
    """Share of B times (every STEP_S, where ``b_to_a`` gives an A time) whose unit has
    the kind of A's unit at that A time; and the numbers of units."""
    x, y, rate = unit_features(open_recording(path_a), open_recording(path_b))
    out = analyse_units(x, y, rate)
    ua, ub = out["units_a"], out["units_b"]
    tb = np.arange(0.0, len(y) / rate, STEP_S)
    same = [kind_at(ub, t) == kind_at(ua, a) for t, a in zip(tb, b_to_a(tb), strict=True)
            if np.isfinite(a)]
    return float(np.mean(same)) if same else float("nan"), len(ua), len(ub)


def changed_pair_map(changed):
    """B' time -> A time, within each piece of B' (NaN where the ground truth of that
    piece has no events around)."""
    gt = changed.gt

    def b_to_a(tb):
        out = np.full(len(tb), np.nan)
        for s, e, offset in changed.pieces:
            lo, hi = offset, offset + (e - s)
            inside = (gt[:, 1] >= lo) & (gt[:, 1] < hi)
            if inside.sum() < 2:
                continue
            g = gt[inside]
            sel = (tb >= g[0, 1]) & (tb <= g[-1, 1])
            out[sel] = np.interp(tb[sel], g[:, 1], g[:, 0])
        return out
    return b_to_a


def synthetic():
    import soundfile as sf

    from core.synthetic.music import tone_sections

    WORK.mkdir(parents=True, exist_ok=True)
    pa, pb = WORK / "synthetic_a.wav", WORK / "synthetic_b.wav"
    sf.write(pa, tone_sections([220, 330, 262, 392, 294]), 8000)
    sf.write(pb, tone_sections([220, 330, 262, 330, 392, 294]), 8000)
    # B: sections 0-3 of A, then A's section 1 again, then A's sections 3-4
    return agreement(pa, pb, lambda tb: np.where(tb < 12, tb, np.where(tb < 16, tb - 8,
                                                                      tb - 4)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    t0 = time.process_time()
    rows = []
    share, na, nb = synthetic()
    rows.append({"pair": "synthetic tone_sections", "change": "repeat", "seed": 0,
                 "agreement": round(share, 4), "units_a": na, "units_b": nb})
    for row in pairs.load_pairs():
        for change in ("repeat", "drop", "move"):
            for seed in range(args.seeds):
                changed = pairs.make(row, change, WORK, seed)
                share, na, nb = agreement(changed.a, changed.b, changed_pair_map(changed))
                rows.append({"pair": changed.pair_id, "change": change, "seed": seed,
                             "agreement": round(share, 4), "units_a": na, "units_b": nb})
    for r in rows:
        print(f"{r['pair']:32s} {r['change']:7s} {r['seed']} agreement {r['agreement']:.3f} "
              f"units {r['units_a']}/{r['units_b']}")
    shares = [r["agreement"] for r in rows[1:] if np.isfinite(r["agreement"])]
    summary = {"code": core.__file__, "mean_agreement": round(float(np.mean(shares)), 4),
               "median_agreement": round(float(np.median(shares)), 4),
               "synthetic_agreement": rows[0]["agreement"], "n_pairs": len(shares),
               "cpu_s": round(time.process_time() - t0, 1)}
    print(json.dumps(summary))
    if args.out:
        Path(args.out).write_text(json.dumps({"summary": summary, "rows": rows}, indent=1)
                                  + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
