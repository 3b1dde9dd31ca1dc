"""Warped rendering: a click track warped by a known path (tempo 0.75-1.25x), rendered
onto A's timeline; where its clicks land against their aligned times, and how fast.

Compared: our chunked render (core.render.WarpPlan: libtsm's HPS stretch with a numba
median, 1 s chunks pinned to path points, in one thread and through ``render()`` in
worker processes) and libtsm's own ``hps_tsm`` on the whole signal with the same anchors.

    python benchmarks/playback/bench_render.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

RATE = 44100


def make_case(seconds: float, seed: int = 0):
    from core.alignment import Alignment

    rng = np.random.default_rng(seed)
    fr = 100.0
    tb = np.arange(0, seconds, 1 / fr)
    tempo = 1.0 + 0.25 * np.sin(2 * np.pi * tb / 13.0 + 0.5)  # A's seconds per B second
    ta = np.concatenate([[0.0], np.cumsum(tempo[:-1] / fr)])
    path = np.unique(np.stack([np.round(ta * fr), np.round(tb * fr)], 1).astype(int), axis=0)
    alignment = Alignment(path, fr, fr)
    clicks = np.sort(rng.uniform(0.3, seconds - 0.5, int(seconds * 2.5)))
    clicks = clicks[np.r_[True, np.diff(clicks) > 0.12]]
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    x = 0.05 * np.sin(2 * np.pi * 220 * t) + 0.03 * np.sin(2 * np.pi * 331 * t)
    for c in clicks:
        i = int(round(c * RATE))
        x[i:i + 32] += 0.8 * np.hanning(32)
    duration_a = float(np.interp(seconds, tb, ta))
    return alignment, x.astype(np.float32), clicks, duration_a


def onsets(y, expected, window=0.04):
    found = []
    for e in expected:
        i0 = max(int((e - window) * RATE), 0)
        seg = np.abs(np.diff(y[i0:int((e + window) * RATE)]))
        found.append((i0 + int(np.argmax(seg))) / RATE if len(seg) else np.nan)
    return np.array(found)


def errors_ms(y, alignment, x, clicks):
    expected = np.interp(clicks, *alignment.mapping_knots(1))
    keep = expected < len(y) / RATE - 0.05
    offset = onsets(x, clicks) - clicks  # the detector's own offset on B
    err = np.abs(onsets(y, expected[keep]) - expected[keep] - offset[keep]) * 1000
    return {"median_ms": float(np.median(err)), "p95_ms": float(np.percentile(err, 95)),
            "max_ms": float(np.max(err)), "n_events": int(len(err))}


def main():
    import libtsm

    from core.render import WarpPlan, render_audio, warm_up

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--out", default=str(Path(__file__).with_name("render.json")))
    args = parser.parse_args()
    warm_up()
    alignment, x, clicks, duration_a = make_case(args.seconds)
    n_out = int(duration_a * RATE)
    results = {"seconds_b": args.seconds, "seconds_a": duration_a}

    plan = WarpPlan.from_alignment(alignment, n_in=len(x), n_out=n_out, rate_hz=RATE)
    anchors = plan.anchors
    # the machine is shared: each side runs three times, interleaved, and keeps its best
    ours_t, theirs_t = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        y = plan.render_range(x, 0, n_out)[:, 0]
        ours_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        y3 = libtsm.hps_tsm(x.astype(np.float64), anchors, Fs=RATE)[:, 0]
        theirs_t.append(time.perf_counter() - t0)
    elapsed = min(ours_t)
    results["ratio_to_libtsm"] = min(theirs_t) / min(ours_t)
    results["ours_one_thread"] = {"seconds": elapsed, "x_real_time": duration_a / elapsed,
                                  "chunks": plan.n_chunks, **errors_ms(y, alignment, x, clicks)}
    print(json.dumps(results["ours_one_thread"]), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        a, b, out = Path(tmp) / "a.wav", Path(tmp) / "b.wav", Path(tmp) / "out.wav"
        soundfile.write(a, np.zeros(n_out, np.float32), RATE, subtype="FLOAT")
        soundfile.write(b, x, RATE, subtype="FLOAT")
        for workers in (2,):
            times = []
            for _ in range(2):
                t0 = time.perf_counter()
                render_audio(a, b, alignment, out, mode="warped", n_workers=workers)
                times.append(time.perf_counter() - t0)
            elapsed = min(times)
            y2 = soundfile.read(out, dtype="float32")[0]
            results[f"ours_render_{workers}_processes"] = {
                "seconds": elapsed, "x_real_time": duration_a / elapsed,
                **errors_ms(y2, alignment, x, clicks)}
            print(json.dumps(results[f"ours_render_{workers}_processes"]), flush=True)

    elapsed = min(theirs_t)
    results["libtsm_hps_tsm_whole"] = {"seconds": elapsed, "x_real_time": duration_a / elapsed,
                                       **errors_ms(y3, alignment, x, clicks)}
    print(json.dumps(results["libtsm_hps_tsm_whole"]), flush=True)
    print(f"ratio to libtsm: {results['ratio_to_libtsm']:.2f}", flush=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
