"""The window's re-solve of hand anchors: the old corridor, the spliced corridor and the
window's re-solve now (exact, with the chord-change refinement), against the engine's.

    python benchmarks/accuracy/window_anchors.py [--pair DATA:PAIR_ID ...]

For each pair, the default alignment; hard anchors at the ground-truth times of its three
worst events (:func:`bench_anchors.worst_events`), and the worst one alone. Each set is
re-solved

- as the window did before (``corridor, old``: corridor re-solve on the matrix's
  features, chroma at 100 Hz for a default result, without splicing),
- by the corridor now (``corridor, spliced``: :func:`core.splicing.splice_to_base`;
  what the window does for results it cannot re-solve exactly),
- as the window does now (``window``: :func:`inspector.editing.exact_source_task` then
  :func:`inspector.editing.resolve_task`, the same calls the Editor's workers make),
- by the engine (``engine``: :func:`core.correcting.edit_source` and
  :func:`core.correcting.refinement`, what ``align --anchors`` does).

Printed per pair and set: the pair's mean error (ms), the mean error within 2 s (on A) of
each anchor, and the mean error of the events farther than 2 s from every anchor (where a
correct anchor should change nothing; the default's figure in parentheses).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from bench_anchors import NEAR_S, event_errors, worst_events  # noqa: E402
from run import DEFAULT_DATA, load_eval  # noqa: E402

DEFAULT_PAIRS = (f"{DEFAULT_DATA}:music_p01_bwv66.6", "/tmp/anc/heldout:bowed_piano")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pair", action="append", default=None,
                    help="DATA_DIR:PAIR_ID (default: bwv66.6 and the held-out bowed_piano)")
    args = ap.parse_args(argv)

    from core import registry
    from core.constraints import Anchor, Constraints, recompute
    from core.correcting import edit_source, refinement
    from core.features import compute_features
    from core.media import open_recording
    from inspector.editing import exact_source_task, resolve_task

    summary: dict = {}
    for spec in args.pair or DEFAULT_PAIRS:
        data, pair = spec.rsplit(":", 1)
        data = Path(data)
        ev = load_eval(data)
        with open(data / "index.csv") as f:
            r = next(row for row in csv.DictReader(f) if row["pair_id"] == pair)
        rec_a = open_recording(str(data / r["file_a"]))
        rec_b = open_recording(str(data / r["file_b"]))
        run = registry.run(registry.recipe("default"), rec_a, rec_b)
        al = run.alignment
        ga, gb = ev.load_gt(str(data / Path(r["gt_csv"]).parent))
        err0 = event_errors(ev, ga, gb, np.asarray(al.times_s))
        worst = worst_events(err0, ga)
        spec_a, spec_b, metric = registry.image_inputs(run.recipe, al)
        fa = compute_features(rec_a, spec_a.name, rate_hz=spec_a.rate_hz, **spec_a.kwargs)
        fb = compute_features(rec_b, spec_b.name, rate_hz=spec_b.rate_hz, **spec_b.kwargs)
        matrix = (fa.values, fb.values, metric)
        window = exact_source_task(al, rec_a, rec_b)
        print(f"{pair}: default MAE {err0.mean():.1f} ms; window source "
              f"{'exact' if window else 'corridor'}", flush=True)
        for name, idx in (("3 anchors", worst), ("1 anchor", worst[:1])):
            c = Constraints(tuple(Anchor(float(ga[k]), float(gb[k])) for k in idx))
            far = np.all([np.abs(ga - ga[k]) > NEAR_S for k in idx], axis=0)
            runs = {}
            for splice in (False, True):
                runs["corridor, old" if not splice else "corridor, spliced"] = recompute(
                    al, c, matrix, mode="corridor", rate_a_hz=float(fa.rate_hz),
                    rate_b_hz=float(fb.rate_hz), splice=splice)
            runs["window"] = resolve_task(
                al, c, window["source"], window["rate_a_hz"], window["rate_b_hz"], None,
                mode="exact", energies=window["energies"]) if window else None
            runs["corridor, exact source"] = recompute(
                al, c, window["source"], mode="corridor", rate_a_hz=window["rate_a_hz"],
                rate_b_hz=window["rate_b_hz"], refine="changes" if window["energies"] else False,
                energies=window["energies"]) if window else None
            kw = edit_source(al, rec_a, rec_b)
            runs["engine"] = recompute(al, c, **kw, **refinement(rec_a, rec_b, c, kw))
            runs["exact, unspliced"] = recompute(al, c, **kw, splice=False,
                                                 **refinement(rec_a, rec_b, c, kw))
            for label, res in runs.items():
                if res is None:
                    continue
                e = event_errors(ev, ga, gb, np.asarray(res.times_s))
                row = summary.setdefault((name, label), {"mae": [], "default": [],
                                                         "away_worse": 0, "near": []})
                row["mae"].append(e.mean())
                row["default"].append(err0.mean())
                row["away_worse"] += int(e[far].mean() > err0[far].mean() + 2.0)
                row["near"] += [e[np.abs(ga - ga[k]) <= NEAR_S].mean() for k in idx]
                near = "; ".join(f"{e[np.abs(ga - ga[k]) <= NEAR_S].mean():.1f}" for k in idx)
                print(f"  {name:9s} {label:17s} MAE {e.mean():6.1f}  within 2 s: {near:22s} "
                      f"away: {e[far].mean():6.1f} ({err0[far].mean():.1f})", flush=True)
    print("summary: mean over pairs of the pair MAE (default's), pairs more than 2 ms worse "
          "than the default away from the anchors, anchors within 2 s over 20 ms")
    for (name, label), row in summary.items():
        print(f"  {name:9s} {label:17s} {np.mean(row['mae']):6.1f} ({np.mean(row['default']):.1f})"
              f"  away worse: {row['away_worse']} of {len(row['mae'])}"
              f"  near > 20 ms: {sum(v > 20 for v in row['near'])} of {len(row['near'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
