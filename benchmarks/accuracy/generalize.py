"""The default pipelines on generated material no one tuned them on.

    nice -n 10 python benchmarks/accuracy/generalize.py KIND [--split tune|heldout]
        [--cache DIR] [--only NAME,...] [--json OUT]

KIND is ``video`` (video pairs from a rendered clip and, held-out, also from a real clip:
``core.synthetic.video``), ``xmodal`` (video against audio: melodies, tempo maps,
instruments and motions of ``core.synthetic.crossmodal``) or ``audio`` (music with slow
attacks, reverb and band limits: ``core.synthetic.music``). The tuning and held-out
sets differ by seed (tune: 100 + k, held-out: 200 + k) and, for video, by source clip.
Pairs are cached under ``--cache`` (default ``/tmp/ai-generalize``), never in the repo.
Per pair it prints the score; ``--json`` also writes, at every ground-truth event (every
B frame of a video pair), the path step there: its confidence, its evidence and the
event's error (for the confidence calibration, ``benchmarks/accuracy/calibrate.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"
# heldout2 / heldout3: fresh held-out seeds, for a change made after "heldout" was seen
SEEDS = {"tune": 100, "heldout": 200, "heldout2": 400, "heldout3": 500}


# ------------------------------------------------------------------ video

def _video_sources(split):
    from core.synthetic.video import read_clip, render_clip

    out = [("rendered", *render_clip(seed=1 if split == "tune" else 2, duration_s=10.0))]
    if split == "tune":  # a second clip to tune on: other shots, another frame size
        out.append(("rendered3", *render_clip(seed=3, duration_s=10.0, size=(192, 108))))
    bikes = DATA / "public" / "video" / "video_p01_bikes" / "a.mp4"
    if split == "heldout" and bikes.exists():
        frames, fps = read_clip(bikes)
        import cv2

        out.append(("bikes", [cv2.resize(f, (213, 90), interpolation=cv2.INTER_AREA)
                              for f in frames], fps))
    return out


def video_pairs(split, cache):
    from core.synthetic.video import CHANGES, make_video_pair, video_config, write_frames

    pairs = []
    for source, frames, fps in _video_sources(split):
        for k, kind in enumerate(CHANGES):
            name = f"{source}_{kind}"
            d = cache / "video" / split / name
            if not (d / "truth.npy").exists():
                d.mkdir(parents=True, exist_ok=True)
                cfg = video_config(kind, SEEDS[split] + k)
                fa, fb, fps_a, fps_b, truth = make_video_pair(frames, fps, cfg)
                write_frames(d / "a.mp4", fa, fps_a)
                write_frames(d / "b.mp4", fb, fps_b)
                np.save(d / "truth.npy", truth)
                (d / "config.json").write_text(json.dumps(dict(cfg, fps_a=fps_a, fps_b=fps_b)))
            pairs.append((name, d))
    return pairs


def score_video(al, d):
    from core.synthetic.video import frame_accuracy

    cfg = json.loads((d / "config.json").read_text())
    truth = np.load(d / "truth.npy")
    within, exact = frame_accuracy(np.asarray(al.times_s), truth, cfg["fps_a"], cfg["fps_b"])
    # per B frame that A contains: the step in the middle of the frame's run, its error
    path = np.asarray(al.path)
    t = np.asarray(al.times_s)
    jb = np.flatnonzero(truth[:, 1] >= 0)
    jb = jb[jb <= path[-1, 1]]
    first = np.searchsorted(path[:, 1], jb, side="left")
    last = np.searchsorted(path[:, 1], jb, side="right") - 1
    ok = last >= first
    jb, first, last = jb[ok], first[ok], last[ok]
    steps = (first + last) // 2
    ta = np.array([t[f:l + 1, 0].mean() for f, l in zip(first, last, strict=True)])
    fa = ta * cfg["fps_a"]
    err = np.maximum(truth[jb, 2] - fa, 0) + np.maximum(fa - truth[jb, 3], 0)
    return {"within1": within, "exact": exact}, steps, err / cfg["fps_a"] * 1000.0


# ------------------------------------------------------------------ cross-modal

def xmodal_pairs(split, cache):
    from core.synthetic.crossmodal import MOTIONS, make_crossmodal_pair

    pairs = []
    for k, motion in enumerate(MOTIONS):
        name = f"{motion}"
        d = cache / "xmodal" / split / name
        if not (d / "gt.csv").exists():
            d.mkdir(parents=True, exist_ok=True)
            make_crossmodal_pair(d, motion, seed=SEEDS[split] + k)
        pairs.append((name, d))
    return pairs


def _events(d):
    rows = np.loadtxt(d / "gt.csv", delimiter=",", skiprows=1, usecols=(1, 2), ndmin=2)
    return rows[:, 0], rows[:, 1]


def _map_a_to_b(times, ga):
    pa, pb = times[:, 0], times[:, 1]
    order = np.argsort(pa, kind="stable")
    ua, inv = np.unique(pa[order], return_inverse=True)
    ub = np.bincount(inv, weights=pb[order]) / np.bincount(inv)
    return np.interp(ga, ua, ub)


def _event_steps(al, ga):
    """The path step at every event's A time (the middle of a run of steps there)."""
    t = np.asarray(al.times_s)[:, 0]
    first = np.clip(np.searchsorted(t, ga - 1e-9, side="left"), 0, len(t) - 1)
    last = np.clip(np.searchsorted(t, ga + 1e-9, side="right") - 1, 0, len(t) - 1)
    return (first + np.maximum(last, first)) // 2


def score_events(al, d):
    ga, gb = _events(d)
    err = np.abs(_map_a_to_b(np.asarray(al.times_s), ga) - gb) * 1000.0
    lin = ga[0], ga[-1], gb[0], gb[-1]
    return {"mae_ms": float(err.mean()), "within50": float(np.mean(err <= 50)),
            "within100": float(np.mean(err <= 100)), "max_ms": float(err.max()),
            "linear_ms": _linear_mae(d, ga, gb, lin)}, _event_steps(al, ga), err


def _linear_mae(d, ga, gb, _lin):
    """A linear stretch of the whole recordings (eval_alignment.py's baseline)."""
    meta = json.loads((d / "meta.json").read_text())
    pred = ga * meta["duration_b_s"] / meta["duration_a_s"]
    return float(np.mean(np.abs(pred - gb)) * 1000.0)


# ------------------------------------------------------------------ audio

def audio_pairs(split, cache):
    from core.synthetic.music import AUDIO_CASES, make_audio_pair

    pairs = []
    for k, case in enumerate(AUDIO_CASES):
        d = cache / "audio" / split / case
        if not (d / "gt.csv").exists():
            d.mkdir(parents=True, exist_ok=True)
            make_audio_pair(d, case, seed=SEEDS[split] + k)
        pairs.append((case, d))
    return pairs


def simple_dtw_mae(d, ga, gb):
    """eval_alignment.py's simple DTW baseline on a pair (when the data set is there)."""
    import importlib.util

    path = DATA / "eval_alignment.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("eval_alignment", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    times = mod.baseline_paths(str(d), "music", str(d / "a.wav"), str(d / "b.wav"))["dtw"]
    return float(np.mean(np.abs(_map_a_to_b(times, ga) - gb)) * 1000.0)


# ------------------------------------------------------------------ main

def run(kind, split, cache, only=None, log=print):
    from core.pipeline import align_files
    from core.pipeline import confidence as cmod

    maker = {"video": video_pairs, "xmodal": xmodal_pairs, "audio": audio_pairs}[kind]
    rows, steps = [], []
    for name, d in maker(split, cache):
        if only and not any(o in name for o in only):
            continue
        files = sorted(p for p in d.iterdir() if p.suffix in (".mp4", ".wav")
                       and p.stem in ("a", "b", "video", "audio"))
        fa = d / ("video.mp4" if kind == "xmodal" else "a.mp4" if kind == "video" else "a.wav")
        fb = d / ("audio.wav" if kind == "xmodal" else "b.mp4" if kind == "video" else "b.wav")
        del files
        cmod.RECORD = []
        t0 = time.perf_counter()
        al = align_files(str(fa), str(fb))
        dt = time.perf_counter() - t0
        if kind == "video":
            res, index, err = score_video(al, d)
        else:
            res, index, err = score_events(al, d)
            if kind == "audio":
                ga, gb = _events(d)
                simple = simple_dtw_mae(d, ga, gb)
                res["simple_dtw_ms"] = None if simple is None else round(simple, 1)
        res.update(pair=name, time_s=round(dt, 2),
                   material=al.diagnostics.get("material", "?"))
        rows.append(res)
        conf = np.asarray(al.confidence) if al.confidence is not None \
            else np.full(len(al.path), np.nan)
        ev = cmod.RECORD[-1] if cmod.RECORD else None
        if ev is not None:
            ev = {k: (np.asarray(v)[index].tolist() if isinstance(v, list) else v)
                  for k, v in ev.items()}
        steps.append({"pair": name, "confidence": conf[index].tolist(),
                      "error_ms": np.asarray(err).tolist(), "evidence": ev})
        cmod.RECORD = None
        log(json.dumps(res), flush=True)
    return rows, steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["video", "xmodal", "audio"])
    parser.add_argument("--split", choices=list(SEEDS), default="heldout")
    parser.add_argument("--cache", default="/tmp/ai-generalize")
    parser.add_argument("--only", default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    only = args.only.split(",") if args.only else None
    rows, steps = run(args.kind, args.split, Path(args.cache), only)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "steps": steps}))


if __name__ == "__main__":
    main()
