"""Variants of the junction refinement scored without re-running the pipeline.

The refinement (``core.structure.junctions.refine_junctions``) is the last step of
``structure="auto"``, so its inputs can be captured once per changed pair and the
refinement re-run on them with other settings, scored with ``bench.py``'s measures:

    python benchmarks/structure/junction_variants.py capture --seeds 0,1 --out caps.pkl
    python benchmarks/structure/junction_variants.py score caps.pkl \\
        "recentre:passes=2,settle_s=0.5" "wide:radius_s=3.5"

A variant is ``name:key=value,...``: ``radius_s`` (the window, seconds either side),
``settle_s`` (seconds), ``passes``, ``splice_w`` (the splice bonus's weight),
``splice_s`` (its width, seconds) and ``match_w`` (the splice match's weight);
everything else stays as ``align_structure`` passed it. ``score`` prints, per variant,
the cases within 1.5x of the uncut pair's error, the junctions found with three ends
and with the B end within 0.5 s, the mean error, and each case that changed against
the captured settings ("as run").
"""

from __future__ import annotations

import argparse
import copyreg
import pickle
import sys
import types
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import bench  # noqa: E402
import pairs  # noqa: E402

import core  # noqa: E402
import core.structure.align as structure_align  # noqa: E402
from core.structure import PiecewiseAlignment  # noqa: E402
from core.structure.junctions import refine_junctions  # noqa: E402


def _proxy(mapping):
    return types.MappingProxyType(mapping)


# results hold read-only mappings; pickle them as plain dicts
copyreg.pickle(types.MappingProxyType, lambda m: (_proxy, (dict(m),)))


def capture(seeds, out, only=None):
    seen = {}

    def spy(pieces, source, radius, max_gap, **kwargs):
        seen["args"] = (list(pieces), source, radius, max_gap, kwargs)
        return refine_junctions(pieces, source, radius, max_gap, **kwargs)

    structure_align.refine_junctions = spy
    cases = []
    for row in pairs.load_pairs():
        if only and only not in row["pair_id"]:
            continue
        ra = core.open_recording(pairs.DATA / row["file_a"])
        uncut = bench.error_ms(core.align_recordings(
            ra, core.open_recording(pairs.DATA / row["file_b"])), pairs._gt(row))
        for change in ("repeat", "drop", "move"):
            for seed in seeds:
                c = pairs.make(row, change, bench.WORK / f"seed{seed}", seed=seed)
                seen.clear()
                al = core.align_recordings(ra, core.open_recording(c.b), structure="auto")
                if "args" not in seen:  # auto kept the monotone result
                    print(f"{row['pair_id']} {change} {seed}: no pieces, skipped")
                    continue
                cases.append({"pair": row["pair_id"], "change": change, "seed": seed,
                              "gt": c.gt, "jumps": c.jumps, "uncut_ms": uncut,
                              "args": seen["args"], "result": al})
                print(f"{row['pair_id']} {change} {seed}: "
                      f"{bench.error_ms(al, c.gt) / uncut:.2f}x", flush=True)
    Path(out).write_bytes(pickle.dumps(cases))


def _score(case, settings):
    pieces, source, radius, max_gap, kwargs = case["args"]
    kwargs = dict(kwargs)
    rate = case["result"].rate_b_hz
    if "radius_s" in settings:
        radius = int(round(float(settings["radius_s"]) * rate))
    if "settle_s" in settings:
        kwargs["settle"] = int(round(float(settings["settle_s"]) * rate))
    if "passes" in settings:
        kwargs["passes"] = int(settings["passes"])
    if "splice_w" in settings:
        kwargs["splice_w"] = float(settings["splice_w"])
    if "match_w" in settings:
        kwargs["match_w"] = float(settings["match_w"])
    if "splice_s" in settings:
        kwargs["splice_width"] = max(1, int(round(float(settings["splice_s"]) * rate)))
    out = refine_junctions(pieces, source, radius, max_gap, **kwargs)
    al = case["result"]
    new = PiecewiseAlignment(tuple(out), params=al.params, diagnostics=al.diagnostics,
                             sources=al.sources)
    err = bench.error_ms(new, case["gt"])
    ok, on_b, _ = bench.found_jumps(new, case["jumps"])
    return err / case["uncut_ms"], int(sum(ok)), int(sum(on_b)), err


def parse_variants(specs):
    """``{"as run": {}, name: {key: value text, ...}, ...}`` for ``name:key=value,...``."""
    variants = {"as run": {}}
    for spec in specs:
        name, _, body = spec.partition(":")
        variants[name] = dict(kv.split("=", 1) for kv in body.split(",") if kv)
    return variants


def compare(cases, variants, score_case, summary, differs, describe):
    """Score every case with each variant's settings (``score_case(case, settings)``),
    print ``summary(cases, rows)`` per variant and, for each case where ``differs(first,
    row)`` against the first variant ("as run"), ``describe(case, first, row)``."""
    first = None
    for name, settings in variants.items():
        rows = [score_case(c, settings) for c in cases]
        print(f"{name}: {summary(cases, rows)}")
        if first is None:
            first = rows
            continue
        for c, a, b in zip(cases, first, rows, strict=True):
            if differs(a, b):
                print(f"    {c['pair']} {c['change']} {c['seed']}: {describe(c, a, b)}")


def _summary(cases, rows):
    ratios = np.array([r[0] for r in rows])
    true = sum(len(c["jumps"]) for c in cases)
    return (f"within 1.5x {int(np.sum(ratios <= 1.5))} / {len(rows)}, three ends "
            f"{sum(r[1] for r in rows)} / {true}, B end {sum(r[2] for r in rows)} / {true}, "
            f"mean {np.mean([r[3] for r in rows]):.0f} ms, median ratio "
            f"{np.median(ratios):.2f}")


def score(path, specs):
    compare(pickle.loads(Path(path).read_bytes()), parse_variants(specs), _score, _summary,
            lambda a, b: abs(a[0] - b[0]) > 0.05 or a[1] != b[1],
            lambda c, a, b: f"{a[0]:.2f} -> {b[0]:.2f}x, three ends {a[1]} -> {b[1]}")


def command_line(doc, capture, score, **score_options):
    """Parse ``capture --seeds --out [--only]`` or ``score CAPTURED [VARIANT ...]`` (with
    ``score_options``: option name -> ``add_argument`` keywords) and run ``capture(seeds,
    out, only)`` or ``score(captured, variants, **options)``."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    cap = sub.add_parser("capture")
    cap.add_argument("--seeds", default="0,1")
    cap.add_argument("--out", required=True)
    cap.add_argument("--only", help="pairs whose id contains this")
    sc = sub.add_parser("score")
    sc.add_argument("captured")
    sc.add_argument("variants", nargs="*")
    for name, spec in score_options.items():
        sc.add_argument(f"--{name}", **spec)
    args = ap.parse_args()
    if args.command == "capture":
        capture([int(s) for s in args.seeds.split(",")], args.out, args.only)
    else:
        score(args.captured, args.variants,
              **{name: getattr(args, name) for name in score_options})


def main():
    command_line(__doc__, capture, score)


if __name__ == "__main__":
    main()
