"""What the default (monotone) result says where B's order differs from A's.

Run: ``nice -n 10 python benchmarks/structure/order_check.py [--first-seed 0] [--seeds 2]
[--out FILE]``; writes a JSON file of one record per pair and change and prints a table.

For each changed pair of :mod:`pairs` (a section of B repeated, dropped or moved; seeds
``first_seed`` .. ``seeds - 1``, as ``bench.py``) and each unchanged pair, the default
monotone alignment (``core.align_recordings``) is compared with the ground truth step by
step: a step's error is how far its A time lies outside the A times of the two
ground-truth events of the new B around its B time (:func:`step_errors`; the events
follow the cuts, ``pairs.make``). Reported per pair:

- ``wrong_steps``: steps whose error is above ``WRONG_S`` (0.5 s): the wrong stretch;
- ``wrong_flagged``: the share of those whose confidence is below the result's doubtful
  threshold (:func:`core.pipeline.confidence.doubtful_confidence`): what the window's
  red band, Next doubtful spot and the batch's triage see;
- ``low_confidence_fraction``: the share of all steps that are doubtful (the batch's
  column);
- ``order_check``: the result's ``diagnostics["order_check"]`` (None when it has none).

``--curves`` also keeps the normalized path cost per B and A frame (the order check's
evidence, :mod:`core.structure.order`) for choosing its threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import pairs  # noqa: E402

import core  # noqa: E402
from core.pipeline.confidence import doubtful_confidence  # noqa: E402
from core.structure import order  # noqa: E402

WRONG_S = 0.5
WORK = Path("/tmp/order_check_bench")

# the confidence before the order check changed it (None: no check ran)
_BEFORE = {}


def _keeping_confidence(result, check):
    _BEFORE["confidence"] = result.confidence
    return _with_order_check(result, check)


_with_order_check = order.with_order_check
order.with_order_check = _keeping_confidence


def step_errors(times_s, gt):
    """Per step (A, B seconds), how far its A time lies outside the A times of the
    ground-truth events of the new B that bracket its B time (``gt`` (K, 2): A, B
    seconds): 0 between them, so a fermata held longer on one side, where the path may
    stand anywhere between two events, costs nothing; before the first event the
    bracket is [0, its A time], after the last [its A time, A's last step]."""
    order = np.argsort(gt[:, 1], kind="stable")
    ga, gb = gt[order, 0], gt[order, 1]
    ta, tb = times_s[:, 0], times_s[:, 1]
    k = np.searchsorted(gb, tb, side="right")
    prev = np.where(k > 0, ga[np.maximum(k - 1, 0)], 0.0)
    nxt = np.where(k < len(ga), ga[np.minimum(k, len(ga) - 1)], ta.max())
    lo, hi = np.minimum(prev, nxt), np.maximum(prev, nxt)
    return np.maximum(0.0, np.maximum(lo - ta, ta - hi))


def measure(al, changed):
    t = al.times_s
    err = step_errors(t, changed.gt)
    threshold = doubtful_confidence(al)
    doubtful = np.asarray(al.confidence, dtype=np.float64) < threshold
    before = _BEFORE.get("confidence")
    before = doubtful if before is None else np.asarray(before) < threshold
    wrong = err > WRONG_S
    check = al.diagnostics.get("order_check")

    def share(flags, sel):
        return round(float(flags[sel].mean()), 3) if sel.any() else None

    return {"steps": int(len(err)), "wrong_steps": int(wrong.sum()),
            "wrong_s": round(float(wrong.sum()) / len(err) * float(t[-1, 1] - t[0, 1]), 2),
            "wrong_flagged_before": share(before, wrong), "wrong_flagged": share(doubtful, wrong),
            "right_flagged_before": share(before, ~wrong), "right_flagged": share(doubtful, ~wrong),
            "low_confidence_fraction_before": round(float(before.mean()), 4),
            "low_confidence_fraction": round(float(doubtful.mean()), 4),
            "mean_error_ms": round(1000 * float(err.mean()), 1),
            "order_check": check}


def candidates(al, changed, recorded):
    """The order check's candidate stretches (:data:`core.structure.order.RECORD`), each
    with the share of the path's steps inside it that are wrong (> ``WRONG_S``)."""
    t = al.times_s
    wrong = step_errors(t, changed.gt) > WRONG_S
    out = []
    for c in recorded:
        b0, b1, a0, a1 = c["stretch"]
        inside = ((t[:, 1] >= b0) & (t[:, 1] <= b1)) | ((t[:, 0] >= a0) & (t[:, 0] <= a1))
        out.append(dict(c, wrong_share=round(float(wrong[inside].mean()), 3)
                        if inside.any() else None))
    return out


def curves(ra, rb, al):
    """The order check's evidence for ``al`` (the pipeline's terms planned again)."""
    from core._progress import Monitor
    from core.structure.align import _prepare
    from core.structure.order import normalized_path_costs
    from core.warping import FeatureTerms

    terms, weights, _local, rates, info = _prepare(ra, rb, "auto", None, None,
                                                   Monitor(None, None))
    got = normalized_path_costs(FeatureTerms(terms, weights), rates, info.get("material"), al)
    return {k: (np.round(v, 3).tolist() if isinstance(v, np.ndarray) else v)
            for k, v in got.items() if isinstance(v, np.ndarray | float)}


def run(first_seed, seeds, changes, keep_curves=False, only=None):
    rows = []
    for row in pairs.load_pairs():
        if only and only not in row["pair_id"]:
            continue
        ra = core.open_recording(pairs.DATA / row["file_a"])
        for change in changes:
            for seed in range(first_seed, first_seed + 1 if change == "none" else seeds):
                c = pairs.make(row, change, WORK, seed=seed)
                rb = core.open_recording(c.b)
                _BEFORE.clear()
                order.RECORD = []
                al = core.align_recordings(ra, rb)
                rec = {"pair": row["pair_id"], "change": change, "seed": seed,
                       "material": al.diagnostics.get("material"), **measure(al, c),
                       "candidates": candidates(al, c, order.RECORD)}
                order.RECORD = None
                if keep_curves:
                    rec["curves"] = curves(ra, rb, al)
                    rec["curves"]["steps"] = {
                        "times_s": np.round(al.times_s, 3).tolist(),
                        "error_s": np.round(step_errors(al.times_s, c.gt), 3).tolist(),
                        "doubtful": (np.asarray(al.confidence)
                                     < doubtful_confidence(al)).astype(int).tolist()}
                rows.append(rec)
                print(json.dumps({k: v for k, v in rec.items() if k != "curves"}), flush=True)
    return rows


def table(rows):
    def pct(v):
        return "-" if v is None else f"{100 * v:.0f} %"

    lines = ["| pair | change | seed | wrong s | wrong steps flagged (before -> after) | "
             "others flagged | low_confidence_fraction | order check |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        check = r["order_check"]
        text = "-" if not check else order.stretches_text(check)
        lines.append(f"| {r['pair']} | {r['change']} | {r['seed']} | {r['wrong_s']:.1f} | "
                     f"{pct(r['wrong_flagged_before'])} -> {pct(r['wrong_flagged'])} | "
                     f"{pct(r['right_flagged_before'])} -> {pct(r['right_flagged'])} | "
                     f"{r['low_confidence_fraction_before']:.3f} -> "
                     f"{r['low_confidence_fraction']:.3f} | {text} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=2, help="end of the seeds (exclusive)")
    ap.add_argument("--changes", default="none,repeat,drop,move")
    ap.add_argument("--only")
    ap.add_argument("--curves", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results_order_check.json"))
    args = ap.parse_args()
    rows = run(args.first_seed, args.seeds, tuple(args.changes.split(",")), args.curves,
               args.only)
    Path(args.out).write_text(json.dumps(rows, indent=1))
    print(table(rows))


if __name__ == "__main__":
    main()
