"""Structure benchmark: changed pairs (repeat, drop, move a section of B of >= 4 s) made
from ../shared/data music and speech pairs, aligned with ``structure="auto"``.

Run: ``nice -n 10 python benchmarks/structure/bench.py [--seeds 2] [--speed]``; writes
``benchmarks/structure/results.json`` and prints a table for results.md.

Measured per pair and change:
- error: mean |A time predicted for each ground-truth B event - its A time| (ms), B -> A
  (B' may hold an A event twice, never a B event twice), against the same measure for
  the uncut pair with the default (monotone) pipeline;
- jumps: each junction of B' counts as found when the result has a jump within 0.5 s of
  it on B and with both its A ends within 0.5 s of the true ones;
- unchanged pairs: whether auto keeps the monotone result (no jump) and its error.
``--speed``: two 10-minute recordings (the data set's music pairs laid end to end, B
with a section moved), the default pipeline alone vs ``structure="auto"``.
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
sys.path.insert(0, str(HERE.parents[1]))

import pairs  # noqa: E402

import core  # noqa: E402
from core.structure import PiecewiseAlignment  # noqa: E402

TOL_S = 0.5
WORK = Path("/tmp/structure_bench")


def b_to_a(al, tb):
    if isinstance(al, PiecewiseAlignment):
        out = []
        for t in tb:
            hit = al.map_b_to_a(float(t))
            out.append(hit[0] if hit else al.nearest_b_to_a(float(t)))
        return np.array(out)
    return np.asarray(al.map_b_to_a(tb))


def error_ms(al, gt):
    return float(1000 * np.mean(np.abs(b_to_a(al, gt[:, 1]) - gt[:, 0])))


def found_jumps(al, truth):
    """Per true jump: found with all three ends (B, A before, A after) within 0.5 s;
    found with its B time within 0.5 s (and going the right way on A)."""
    got = al.jumps if isinstance(al, PiecewiseAlignment) else []
    out, on_b = [], []
    for t in truth:
        near = [g for g in got if abs(0.5 * (g["b_from_s"] + g["b_to_s"]) - t["b_s"]) <= TOL_S
                and (g["a_to_s"] < g["a_from_s"]) == (t["a_to_s"] < t["a_from_s"])]
        on_b.append(bool(near))
        out.append(any(abs(g["a_from_s"] - t["a_from_s"]) <= TOL_S
                       and abs(g["a_to_s"] - t["a_to_s"]) <= TOL_S for g in near))
    return out, on_b, len(got)


def run_pairs(seeds, only=None, changes=("none", "repeat", "drop", "move"), first_seed=0):
    rows = []
    for row in pairs.load_pairs():
        if only and only not in row["pair_id"]:
            continue
        ra = core.open_recording(pairs.DATA / row["file_a"])
        rb = core.open_recording(pairs.DATA / row["file_b"])
        t = time.perf_counter()
        mono = core.align_recordings(ra, rb)
        t_mono = time.perf_counter() - t
        uncut = error_ms(mono, pairs._gt(row))
        for change in changes:
            for seed in range(first_seed, first_seed + 1 if change == "none" else seeds):
                c = pairs.make(row, change, WORK, seed=seed)
                rb2 = core.open_recording(c.b)
                t = time.perf_counter()
                al = core.align_recordings(ra, rb2, structure="auto")
                elapsed = time.perf_counter() - t
                rep = al.diagnostics["structure"]
                ok, on_b, n_got = found_jumps(al, c.jumps)
                err = error_ms(al, c.gt)
                rec = {"pair": row["pair_id"], "change": change, "seed": seed,
                       "uncut_ms": round(uncut, 2), "error_ms": round(err, 2),
                       "ratio": round(err / uncut, 3), "jumps_true": len(c.jumps),
                       "jumps_found_ok": int(sum(ok)), "jumps_found_on_b": int(sum(on_b)),
                       "jumps_reported": n_got, "true_jumps": c.jumps,
                       "found_jumps": al.jumps if isinstance(al, PiecewiseAlignment) else [],
                       "result": rep["result"], "analysis_s": rep["analysis_s"],
                       "seconds": round(elapsed, 2), "mono_seconds": round(t_mono, 2)}
                if change == "none":
                    rec["same_as_monotone"] = bool(
                        not isinstance(al, PiecewiseAlignment)
                        and np.array_equal(al.path, mono.path))
                rows.append(rec)
                print(json.dumps(rec), flush=True)
    return rows


def long_pair(minutes=10.0):
    """A and B of about ``minutes`` each from the music pairs laid end to end (several
    rounds), B with a 20 s section moved."""
    import soundfile as sf

    WORK.mkdir(parents=True, exist_ok=True)
    music = [r for r in pairs.load_pairs() if r["modality"] == "music"]
    xs_a, xs_b, sr = [], [], None
    total = 0.0
    while total < minutes * 60:
        for r in music:
            a, sr_a = sf.read(pairs.DATA / r["file_a"], always_2d=True)
            b, sr_b = sf.read(pairs.DATA / r["file_b"], always_2d=True)
            assert sr_a == sr_b
            sr = sr_a
            xs_a.append(a.mean(axis=1))
            xs_b.append(b.mean(axis=1))
            total += len(a) / sr
    a = np.concatenate(xs_a)
    b = np.concatenate(xs_b)
    n = len(b)
    x1, x2, x3 = int(0.3 * n), int(0.3 * n) + 20 * sr, int(0.6 * n)
    b = np.concatenate([b[:x1], b[x2:x3], b[x1:x2], b[x3:]])
    pa, pb = WORK / "long_a.wav", WORK / "long_b.wav"
    sf.write(pa, a, sr)
    sf.write(pb, b, sr)
    return pa, pb, len(a) / sr, len(b) / sr


def run_speed():
    pa, pb, da, db = long_pair()
    ra, rb = core.open_recording(pa), core.open_recording(pb)
    core.align_recordings(ra, rb)  # warm caches (decoding, kernels)
    best = {}
    for label, kwargs in (("monotone", {}), ("auto", {"structure": "auto"})) * 2:
        t = time.perf_counter()
        al = core.align_recordings(ra, rb, **kwargs)
        best[label] = min(best.get(label, np.inf), time.perf_counter() - t)
        if label == "auto":
            rep = al.diagnostics["structure"]
            best["analysis_s"] = min(best.get("analysis_s", np.inf), rep["analysis_s"])
            best["result"] = rep["result"]
            best["jumps"] = rep["jumps_found"]
    best.update(duration_a_s=round(da, 1), duration_b_s=round(db, 1),
                beyond_monotone_s=round(best["auto"] - best["monotone"], 2))
    print(json.dumps(best), flush=True)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--no-pairs", action="store_true")
    ap.add_argument("--only", help="pairs whose id contains this (a subset, for tuning)")
    ap.add_argument("--changes", default="none,repeat,drop,move")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--out", help="results file (default results.json / results_speed.json)")
    args = ap.parse_args()
    out = {}
    if not args.no_pairs:
        out["pairs"] = run_pairs(args.seeds, args.only, tuple(args.changes.split(",")),
                                 args.first_seed)
    if args.speed:
        out["speed"] = run_speed()
    path = Path(args.out) if args.out else HERE / ("results_speed.json" if args.no_pairs
                                                   else "results.json")
    path.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
