"""A held-out check of the default pipeline: synthesized music pairs with exact ground truth.

    python benchmarks/accuracy/heldout.py [--out DIR] [--seed N] [--pairs N] [--demo]

Writes pairs (``a.wav``, ``b.wav``, ``gt.csv``) to a scratch folder (default: a
temporary directory; nothing is committed), aligns each with ``core.pipeline.align_files``
and scores it like ``../shared/data/eval_alignment.py`` (mean absolute error of the A -> B
map at every event onset; share within 50 ms). ``--demo`` adds ``assets/demo``.

The pairs differ from the shared data and from the demo: seeded random scores with
repeated notes (the same pitches struck again), chords, rests and fermatas, rendered
with two of four timbres (percussive piano-like, sustained organ-like, slow-attack
bowed-like with vibrato, plucked) under two tempo curves (smooth wobble, or abrupt
tempo steps), at different levels and with a little noise.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SR = 22050


# timbres: note(freq, dur_s) -> samples
def _piano(f, dur, t):
    env = np.exp(-3.5 * t) * np.minimum(1.0, t / 0.003)
    return env * sum(np.sin(2 * np.pi * k * f * t) * np.exp(-0.8 * k * t) / k ** 1.2
                     for k in range(1, 9))


def _organ(f, dur, t):
    env = np.minimum(1.0, t / 0.02) * np.clip((dur - t) / 0.08 + 1.0, 0.0, 1.0)
    return env * sum(np.sin(2 * np.pi * k * f * t) * w
                     for k, w in ((1, 1.0), (2, 0.7), (3, 0.3), (4, 0.25), (6, 0.1)))


def _bowed(f, dur, t):
    env = np.minimum(1.0, t / 0.09) ** 2 * np.clip((dur - t) / 0.1 + 1.0, 0.0, 1.0)
    # vibrato: +-0.5 % frequency deviation at 5.5 Hz
    phase = 2 * np.pi * f * t - 0.005 * f / 5.5 * np.cos(2 * np.pi * 5.5 * t)
    return env * sum(np.sin(k * phase) / k for k in range(1, 10))


def _plucked(f, dur, t):
    env = np.exp(-6.0 * t) * np.minimum(1.0, t / 0.001)
    return env * sum(np.sin(2 * np.pi * k * f * t) * np.exp(-2.0 * k * t) * (0.9 ** k)
                     for k in range(1, 12))


TIMBRES = {"piano": (_piano, 0.8), "organ": (_organ, 0.1), "bowed": (_bowed, 0.12),
           "plucked": (_plucked, 0.6)}
PAIRS = [("piano", "organ"), ("organ", "bowed"), ("plucked", "piano"), ("bowed", "plucked"),
         ("organ", "plucked"), ("piano", "bowed")]


def make_score(rng, n_events):
    """Events: (pitches, beats, is_rest). Repeated notes, chords, rests, fermatas."""
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    root = int(rng.integers(55, 65))
    degree = 7
    events = []
    prev = None
    for _ in range(n_events):
        u = rng.random()
        beats = float(rng.choice([0.5, 1.0, 1.0, 1.0, 1.5, 2.0]))
        if prev is not None and u < 0.3:
            pitches = prev  # repeated note / chord
        else:
            degree = int(np.clip(degree + rng.integers(-3, 4), 0, 13))
            top = root + 12 * (degree // 7) + scale[degree % 7]
            if rng.random() < 0.35:
                pitches = (top, top - 4 if rng.random() < 0.5 else top - 3, top - 7, top - 12)
                pitches = pitches[:int(rng.integers(2, 5))]
            else:
                pitches = (top,)
        if rng.random() < 0.06:
            beats *= 3.0  # fermata
        events.append((pitches, beats))
        prev = pitches
        if rng.random() < 0.06:
            events.append((None, float(rng.choice([1.0, 2.0]))))  # a rest
            prev = None
    return events


def tempo_map(rng, total_beats, kind):
    """Seconds of a fine beat grid for a smooth or an abrupt tempo curve."""
    grid = np.linspace(0.0, total_beats + 1, 8000)
    bpm0 = float(rng.uniform(70, 130))
    if kind == "smooth":
        period = float(rng.uniform(8, 20))
        bpm = bpm0 * (1 + 0.2 * np.sin(2 * np.pi * grid / period + rng.uniform(0, 6.3)))
    else:  # abrupt: piecewise-constant tempo, a change every 4..10 beats
        bpm = np.empty_like(grid)
        edges = np.cumsum(rng.uniform(4, 10, size=64))
        factors = rng.uniform(0.7, 1.4, size=65)
        bpm[:] = bpm0 * factors[np.searchsorted(edges, grid)]
    return grid, np.concatenate([[0.0], np.cumsum(np.diff(grid) * 60.0 / bpm[:-1])])


def render(rng, events, timbre, tempo_kind, lead_s):
    beats = np.concatenate([[0.0], np.cumsum([b for _, b in events])])
    grid, secs = tempo_map(rng, beats[-1], tempo_kind)
    times = lead_s + np.interp(beats, grid, secs)
    func, gap = TIMBRES[timbre]
    out = np.zeros(int((times[-1] + 1.5) * SR))
    onsets = []
    for k, (pitches, _) in enumerate(events):
        if pitches is None:
            continue
        t0, t1 = times[k], times[k + 1]
        dur = max(0.05, (t1 - t0) * 0.92)
        tail = 0.6 if timbre in ("piano", "plucked") else 0.15
        t = np.arange(int((dur + tail) * SR)) / SR
        i0 = int(round(t0 * SR))
        for p in pitches:
            note = func(440.0 * 2 ** ((p - 69) / 12), dur, t) * rng.uniform(0.6, 1.0)
            n = min(len(note), len(out) - i0)
            out[i0:i0 + n] += note[:n] / len(pitches) ** 0.5
        onsets.append(t0)
    out += 0.002 * rng.standard_normal(len(out)) * np.abs(out).max()
    return (0.7 * out / np.abs(out).max()).astype(np.float32), np.array(onsets)


def _played(events):
    return [" ".join(str(int(p)) for p in pitches) for pitches, _ in events
            if pitches is not None]


def make_pairs(out_dir, seed=0, n_pairs=6, n_events=48):
    rng = np.random.default_rng(seed)
    dirs = []
    for k in range(n_pairs):
        ta, tb = PAIRS[k % len(PAIRS)]
        events = make_score(rng, n_events)
        kinds = ("smooth", "abrupt") if k % 2 == 0 else ("abrupt", "smooth")
        xa, oa = render(rng, events, ta, kinds[0], float(rng.uniform(0.3, 2.0)))
        xb, ob = render(rng, events, tb, kinds[1], float(rng.uniform(0.3, 2.0)))
        d = Path(out_dir) / f"held_{k:02d}_{ta}_{tb}"
        d.mkdir(parents=True, exist_ok=True)
        sf.write(d / "a.wav", xa, SR, subtype="PCM_16")
        sf.write(d / "b.wav", xb, SR, subtype="PCM_16")
        with open(d / "gt.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["event_id", "time_a_s", "time_b_s", "midi_pitches"])
            for i, (a, b, p) in enumerate(zip(oa, ob, _played(events), strict=True)):
                w.writerow([i, f"{a:.6f}", f"{b:.6f}", p])
        dirs.append((d, d / "a.wav", d / "b.wav"))
    return dirs


def score(gt_csv, times):
    with open(gt_csv) as f:
        rows = list(csv.DictReader(f))
    ga = np.array([float(r["time_a_s"]) for r in rows])
    gb = np.array([float(r["time_b_s"]) for r in rows])
    pa, pb = times[:, 0], times[:, 1]
    order = np.argsort(pa, kind="stable")
    ua, inv = np.unique(pa[order], return_inverse=True)
    ub = np.bincount(inv, weights=pb[order]) / np.bincount(inv)
    err = np.abs(np.interp(ga, ua, ub) - gb) * 1000.0
    return err


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--demo", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from core.pipeline import align_files

    tmp = None
    out = args.out
    if out is None:
        tmp = tempfile.TemporaryDirectory()
        out = tmp.name
    pairs = make_pairs(out, args.seed, args.pairs)
    if args.demo:
        demo = REPO / "assets" / "demo"
        pairs.append((demo, demo / "a.flac", demo / "b.flac"))
    print("| pair | material | MAE ms | <=50 ms | max ms | time s |")
    print("|---|---|---|---|---|---|")
    maes = []
    for d, fa, fb in pairs:
        t0 = time.perf_counter()
        al = align_files(str(fa), str(fb))
        dt = time.perf_counter() - t0
        err = score(d / "gt.csv", np.asarray(al.times_s))
        maes.append(err.mean())
        print(f"| {d.name} | {al.diagnostics.get('material', '?')} | {err.mean():.1f} | "
              f"{100 * np.mean(err <= 50):.0f} % | {err.max():.0f} | {dt:.1f} |", flush=True)
    print(f"\nmean MAE {np.mean(maes):.1f} ms over {len(maes)} pairs")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
