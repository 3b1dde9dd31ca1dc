"""Can the audio itself place the events near a hard anchor better than the features?

    python benchmarks/accuracy/probe_anchor_audio.py [--data DIR] [--pair ID]

A probe, not part of the product (no ``core`` code uses it). On ``--pair`` (default the
pair of ``anchors.md``, music_p01_bwv66.6) the three hard anchors of ``bench_anchors.py``
are placed and the plain exact re-solve is made (``core.constraints.recompute``); then,
within :data:`WINDOW_S` of A around each anchor (ends on the re-solved path), two ways of
using the audio of that window alone are measured against the ground truth (mean error in
ms of the events within 2 s of the anchor, as in ``anchors.md``):

* **local DTW on finer features**: semitone energies recomputed from the two clips at a
  10 ms or 5 ms hop, as chroma (cosine), and chroma + a DLNCO-like pitch-class rise +
  a broadband flux (Euclidean on the locally normalized rises); symmetric2 DTW through
  the anchor (``anchored``), or between the window's ends only and then moved on B so
  that it passes through the anchor, the move tapered to 0 at the ends (``shifted``: the
  anchor as a calibration of the features' lag rather than a point the path is bent to);
* **audio onset matching**: onsets of A (peaks of the pitch-class rise at a 5 ms hop,
  with short analysis windows), each looked for on B near the time the local tempo
  predicts, as the peak of the projection of B's rise on the onset's pitch-class profile;
  the lag of B's rises behind the ground truth is calibrated at the anchor's own onset.

Prints one line per anchor and method (error ms, time ms of the method alone).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from bench_anchors import NEAR_S, event_errors, worst_events  # noqa: E402
from run import DEFAULT_DATA, load_eval  # noqa: E402

#: half-width (s of A) of the window re-estimated around each anchor
WINDOW_S = 2.5
#: the default analysis windows (s) per lowest MIDI pitch, and short ones (sharper onsets)
COMPRESSION = 1e4
LONG = ((21, 0.186), (45, 0.093), (69, 0.046))
SHORT = ((21, 0.093), (45, 0.046), (69, 0.023))


def energies(x, sr, t0, t1, hop, resolutions):
    """Log semitone energies (T, 88) of frames centred at t0, t0 + hop, ... <= t1."""
    from core.features.audio import _pitch_energy

    t = np.arange(t0, t1 + 1e-9, hop)
    centers = np.clip(np.round(t * sr).astype(np.int64), 0, len(x) - 1)
    e = _pitch_energy(x, sr, centers, 0.0, None, 0.0, 1.0, resolutions).astype(np.float64)
    ref = float(np.percentile(e.sum(axis=1), 99)) or 1.0
    return t, np.log1p(COMPRESSION * e / ref)


def rises(log_energy, hop):
    """Pitch-class rise (T, 12): the SuperFlux-like positive change of every semitone."""
    from core.features.audio import _fold, _positive_change

    return _fold(_positive_change(log_energy, max(1, round(0.02 / hop)), round(0.1 / hop), 3))


def unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def local_features(x, sr, t0, t1, hop):
    _, log_long = energies(x, sr, t0, t1, hop, LONG)
    _, log_short = energies(x, sr, t0, t1, hop, SHORT)
    chroma = np.zeros((len(log_long), 12))
    for k in range(88):
        chroma[:, (21 + k) % 12] += log_long[:, k]
    rise = rises(log_short, hop)
    norm = np.linalg.norm(rise, axis=1)
    running = maximum_filter1d(norm, size=round(1.0 / hop), mode="nearest")
    rise = rise / np.maximum(running, 0.05 * norm.max() + 1e-12)[:, None]
    n_spread = round(0.2 / hop)
    decay = np.exp(-np.arange(n_spread) * hop / 0.05)
    spread = rise.copy()
    for k in range(1, n_spread):
        spread[k:] = np.maximum(spread[k:], decay[k] * rise[:-k])
    flux = rise.sum(axis=1)
    flux = flux / np.maximum(maximum_filter1d(flux, size=round(1.0 / hop), mode="nearest"),
                             1e-9)
    return {"chroma": unit(chroma), "rise": spread, "flux": flux[:, None]}


def dtw(cost):
    from core._progress import Monitor
    from core.warping._engine import solve_window
    from core.warping._source import CostSource

    n, m = cost.shape
    path, _, _ = solve_window(CostSource(cost=np.ascontiguousarray(cost)), "symmetric2",
                              np.zeros(n, np.int64), np.full(n, m, np.int64),
                              Monitor(None, None))
    return np.asarray(path)


def mapped(times, t):
    ua, inv = np.unique(times[:, 0], return_inverse=True)
    return np.interp(t, ua, np.bincount(inv, weights=times[:, 1]) / np.bincount(inv))


def local_dtw(xa, sra, xb, srb, anchor, start, end, hop, with_rises, anchored):
    fa = local_features(xa, sra, start[0], end[0], hop)
    fb = local_features(xb, srb, start[1], end[1], hop)
    cost = 1.0 - fa["chroma"] @ fb["chroma"].T
    if with_rises:
        for name, w in (("rise", 0.5), ("flux", 0.5)):
            d = fa[name][:, None, :] - fb[name][None, :, :]
            cost = cost + w * np.sqrt((d ** 2).sum(axis=-1))
    ia = round((anchor[0] - start[0]) / hop)
    jb = round((anchor[1] - start[1]) / hop)
    if anchored:
        path = np.concatenate([dtw(cost[:ia + 1, :jb + 1]),
                               (dtw(cost[ia:, jb:]) + [ia, jb])[1:]])
        return path * hop + np.array(start)
    times = dtw(cost) * hop + np.array(start)
    off = anchor[1] - mapped(times, anchor[0])
    ta = times[:, 0]
    taper = np.where(ta <= anchor[0], (ta - start[0]) / (anchor[0] - start[0]),
                     (end[0] - ta) / (end[0] - anchor[0]))
    return np.column_stack([ta, times[:, 1] + off * np.clip(taper, 0.0, 1.0)])


def peaks(v, threshold, gap):
    cand = [k for k in range(1, len(v) - 1)
            if v[k] >= threshold and v[k] >= v[k - 1] and v[k] > v[k + 1]]
    kept: list[int] = []
    for k in sorted(cand, key=lambda k: -v[k]):
        if all(abs(k - q) >= gap for q in kept):
            kept.append(k)
    return sorted(kept)


def onset_matching(xa, sra, xb, srb, anchor, start, end, *, hop=0.005, margin=0.4,
                   calibrate_s=0.15, search_s=0.08, min_cos=0.3):
    ta, log_a = energies(xa, sra, start[0] - margin, end[0] + margin, hop, SHORT)
    tb, log_b = energies(xb, srb, start[1] - margin, end[1] + margin, hop, SHORT)
    ra, rb = rises(log_a, hop), uniform_filter1d(rises(log_b, hop), size=3, axis=0)
    inside = (ta >= start[0]) & (ta <= end[0])
    flux = ra.sum(axis=1)
    onsets = [k for k in peaks(flux, flux[inside].mean() + 0.5 * flux[inside].std(),
                               round(0.1 / hop)) if inside[k]]
    norm_b = np.linalg.norm(rb, axis=1)

    def found(k, predicted, radius):
        profile = ra[k - 3:k + 4].sum(axis=0)
        profile = profile / max(np.linalg.norm(profile), 1e-12)
        j0 = max(0, round((predicted - radius - tb[0]) / hop))
        j1 = min(len(tb) - 1, round((predicted + radius - tb[0]) / hop))
        score = rb[j0:j1 + 1] @ profile
        j = int(np.argmax(score))
        return tb[j0 + j], score[j] / max(norm_b[j0 + j], 1e-12)

    if not onsets:
        return None
    k_anchor = min(onsets, key=lambda k: abs(ta[k] - anchor[0]))
    if abs(ta[k_anchor] - anchor[0]) > 0.05:
        return None  # the anchor is at no onset of A: nothing to calibrate on
    lag = found(k_anchor, anchor[1], calibrate_s)[0] - anchor[1]
    points = [anchor]
    for side, outer in ((-1, start), (1, end)):
        slope = (anchor[1] - outer[1]) / (anchor[0] - outer[0])
        ks = [k for k in onsets if (ta[k] - anchor[0]) * side > 0.05][::side]
        last = anchor
        for k in ks:
            t, cos = found(k, last[1] + slope * (ta[k] - last[0]) + lag, search_s)
            if cos >= min_cos and (t - lag - last[1]) * side > 0:
                last = (ta[k], t - lag)
                points.append(last)
    return np.array([start] + sorted(points) + [end])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--pair", default="music_p01_bwv66.6")
    args = ap.parse_args(argv)

    from core.constraints import Anchor, Constraints, recompute
    from core.correcting import edit_source
    from core.media import open_recording
    from core.pipeline import align_recordings

    ev = load_eval(args.data)
    with open(args.data / "index.csv") as f:
        row = next(r for r in csv.DictReader(f) if r["pair_id"] == args.pair)
    rec_a = open_recording(str(args.data / row["file_a"]))
    rec_b = open_recording(str(args.data / row["file_b"]))
    ga, gb = ev.load_gt(str(args.data / Path(row["gt_csv"]).parent))
    base = align_recordings(rec_a, rec_b)
    err = event_errors(ev, ga, gb, np.asarray(base.times_s))
    worst = worst_events(err, ga)
    constraints = Constraints(tuple(Anchor(float(ga[k]), float(gb[k])) for k in worst))
    fixed = recompute(base, constraints, **edit_source(base, rec_a, rec_b))
    err_fixed = event_errors(ev, ga, gb, np.asarray(fixed.times_s))
    xa, xb = rec_a.audio(), rec_b.audio()
    sra, srb = float(rec_a.rate_hz), float(rec_b.rate_hz)
    for k in worst:
        near = np.abs(ga - ga[k]) <= NEAR_S
        anchor = (float(ga[k]), float(gb[k]))
        start = (anchor[0] - WINDOW_S, float(fixed.map_a_to_b(anchor[0] - WINDOW_S)))
        end = (anchor[0] + WINDOW_S, float(fixed.map_a_to_b(anchor[0] + WINDOW_S)))
        print(f"anchor ({anchor[0]:.3f}, {anchor[1]:.3f}): default {err[near].mean():.1f}, "
              f"plain re-solve {err_fixed[near].mean():.1f}", flush=True)
        runs = [(f"local DTW {'chroma+rises' if with_rises else 'chroma'} {1000 * hop:g} ms "
                 f"{'anchored' if anchored else 'shifted'}",
                 partial(local_dtw, xa, sra, xb, srb, anchor, start, end, hop, with_rises,
                         anchored))
                for with_rises in (False, True) for hop in (0.01, 0.005)
                for anchored in (True, False)]
        runs.append(("audio onset matching",
                     partial(onset_matching, xa, sra, xb, srb, anchor, start, end)))
        for name, method in runs:
            t0 = time.perf_counter()
            times = method()
            dt = 1000 * (time.perf_counter() - t0)
            text = "no onset at the anchor" if times is None else \
                f"{event_errors(ev, ga, gb, times)[near].mean():.1f} ms"
            print(f"  {name}: {text} ({dt:.0f} ms)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
