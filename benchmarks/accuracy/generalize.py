"""The default pipelines on generated material no one tuned them on.

    nice -n 10 python benchmarks/accuracy/generalize.py KIND [--split tune|heldout]
        [--cache DIR] [--only NAME,...] [--reps R] [--json OUT] [--synctoolbox PYTHON]

KIND is ``video`` (video pairs from a rendered clip and, held-out, also from a real clip:
``core.synthetic.video``), ``xmodal`` (video against audio: melodies, tempo maps,
instruments and motions of ``core.synthetic.crossmodal``) or ``audio`` (music with slow
attacks, reverb and band limits: ``core.synthetic.music``; ``--bass LEVEL`` puts a held
bass line under each melody, as the demo pair has); ``shared`` runs the public
pairs of ``../shared/data`` (a final check of the confidence, never tuned on) and
``demo`` the pair the application opens for a new user (``assets/demo``: a check of
the confidence the first pair shows, never tuned on). The
tuning and held-out sets differ by seed (tune: 100 + k, held-out: 200 + k; ``--reps R``
adds R - 1 more seeds per case, 1000 apart) and, for video, by source clip. Pairs are
cached under ``--cache`` (default ``/tmp/ai-generalize``), never in the repo. Per pair it
prints the score; ``--json`` also writes, at every ground-truth event (every B frame of a
video pair), the path step there: its confidence, its evidence and the event's error
(for the confidence calibration, ``benchmarks/accuracy/calibrate.py``).
Audio pairs also get the simple DTW of ``../shared/data/eval_alignment.py`` and, with
``--synctoolbox PYTHON`` (synctoolbox pins an older numba: keep it in its own virtual
environment), the Sync Toolbox's demo pipeline (``sync_paths.py``).
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


def _seed(split, k, rep):
    """The seed of case ``k``'s repetition ``rep`` (rep 0: the original sets; more
    repetitions draw seeds 1000 apart, so tuning and held-out seeds never meet)."""
    return SEEDS[split] + k + 1000 * rep


def _rep_name(name, rep):
    return name if rep == 0 else f"{name}_r{rep}"


def video_pairs(split, cache, reps=1):
    from core.synthetic.video import CHANGES, make_video_pair, video_config, write_frames

    pairs = []
    for rep, (source, frames, fps) in ((r, s) for r in range(reps)
                                       for s in _video_sources(split)):
        for k, kind in enumerate(CHANGES):
            name = _rep_name(f"{source}_{kind}", rep)
            d = cache / "video" / split / name
            if not (d / "truth.npy").exists():
                d.mkdir(parents=True, exist_ok=True)
                cfg = video_config(kind, _seed(split, k, rep))
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

def xmodal_pairs(split, cache, reps=1):
    from core.synthetic.crossmodal import MOTIONS, make_crossmodal_pair

    pairs = []
    for rep, (k, motion) in ((r, m) for r in range(reps) for m in enumerate(MOTIONS)):
        name = _rep_name(f"{motion}", rep)
        d = cache / "xmodal" / split / name
        if not (d / "gt.csv").exists():
            d.mkdir(parents=True, exist_ok=True)
            make_crossmodal_pair(d, motion, seed=_seed(split, k, rep))
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

def audio_pairs(split, cache, reps=1, bass_level=0.0):
    from core.synthetic.music import AUDIO_CASES, make_audio_pair

    pairs = []
    folder = "audio" if bass_level == 0 else f"audio_bass{bass_level:g}"
    for rep, (k, case) in ((r, c) for r in range(reps) for c in enumerate(AUDIO_CASES)):
        name = _rep_name(case, rep)
        d = cache / folder / split / name
        if not (d / "gt.csv").exists():
            d.mkdir(parents=True, exist_ok=True)
            make_audio_pair(d, case, seed=_seed(split, k, rep), bass_level=bass_level)
        pairs.append((name, d))
    return pairs


def synctoolbox_mae(d, ga, gb, python=None):
    """The Sync Toolbox's MAE on a pair: from ``synctoolbox.npy`` in the pair's folder,
    written first by ``sync_paths.py`` run with ``python`` (an interpreter that has
    synctoolbox) when given; None when neither is there."""
    import subprocess

    cached = d / "synctoolbox.npy"
    if not cached.exists() and python:
        subprocess.run([python, str(HERE / "sync_paths.py"), str(d)], check=True,
                       stdout=subprocess.DEVNULL)
    if not cached.exists():
        return None
    times = np.load(cached)
    return float(np.mean(np.abs(_map_a_to_b(times, ga) - gb)) * 1000.0)


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


# ------------------------------------------------------------------ ../shared/data

def shared_pairs(split, cache, reps=1):
    """The public pairs of ../shared/data: a final check, never tuned on."""
    import csv

    del split, cache, reps
    with open(DATA / "index.csv") as f:
        rows = list(csv.DictReader(f))
    return [(r["pair_id"], DATA / Path(r["gt_csv"]).parent,
             DATA / r["file_a"], DATA / r["file_b"], r["modality"]) for r in rows]


def demo_pairs(split, cache, reps=1):
    """The demo pair (``assets/demo``, music): a final check, never tuned on."""
    del split, cache, reps
    d = REPO / "assets" / "demo"
    return [("demo", d, d / "a.flac", d / "b.flac", "music")]


def score_shared(al, d, modality):
    """Errors at the ground-truth events (A -> B; video: B frame -> A, as eval_alignment)."""
    ga, gb = _events(d)
    if modality != "video":
        err = np.abs(_map_a_to_b(np.asarray(al.times_s), ga) - gb) * 1000.0
        return {"mae_ms": float(err.mean()), "within100": float(np.mean(err <= 100))}, \
            _event_steps(al, ga), err
    t = np.asarray(al.times_s)
    order = np.argsort(t[:, 1], kind="stable")
    ub, inv = np.unique(t[order, 1], return_inverse=True)
    ua = np.bincount(inv, weights=t[order, 0]) / np.bincount(inv)
    err = np.abs(np.interp(gb, ub, ua) - ga) * 1000.0
    tb = t[:, 1]
    first = np.clip(np.searchsorted(tb, gb - 1e-9, side="left"), 0, len(tb) - 1)
    last = np.clip(np.searchsorted(tb, gb + 1e-9, side="right") - 1, 0, len(tb) - 1)
    return {"mae_ms": float(err.mean()), "within100": float(np.mean(err <= 100))}, \
        (first + np.maximum(last, first)) // 2, err


# ------------------------------------------------------------------ main

def run(kind, split, cache, only=None, log=print, reps=1, synctoolbox=None, bass_level=0.0):
    from core.pipeline import align_files
    from core.pipeline import confidence as cmod
    from core.pipeline import video as vmod

    carried = []
    carry = vmod.carry_confidence

    def spy(old_path, confidence, new_path):
        carried.append((np.asarray(old_path), np.asarray(new_path)))
        return carry(old_path, confidence, new_path)

    vmod.carry_confidence = spy

    maker = {"video": video_pairs, "xmodal": xmodal_pairs, "audio": audio_pairs,
             "shared": shared_pairs, "demo": demo_pairs}[kind]
    made = audio_pairs(split, cache, reps, bass_level) if kind == "audio" \
        else maker(split, cache, reps)
    rows, steps = [], []
    for name, d, *files in made:
        if only and not any(o in name for o in only):
            continue
        if kind in ("shared", "demo"):
            fa, fb, modality = files
        else:
            fa = d / ("video.mp4" if kind == "xmodal" else "a.mp4" if kind == "video"
                      else "a.wav")
            fb = d / ("audio.wav" if kind == "xmodal" else "b.mp4" if kind == "video"
                      else "b.wav")
        cmod.RECORD = []
        carried.clear()
        t0 = time.perf_counter()
        al = align_files(str(fa), str(fb))
        dt = time.perf_counter() - t0
        if kind in ("shared", "demo"):
            res, index, err = score_shared(al, d, modality)
        elif kind == "video":
            res, index, err = score_video(al, d)
        else:
            res, index, err = score_events(al, d)
            if kind == "audio":
                ga, gb = _events(d)
                simple = simple_dtw_mae(d, ga, gb)
                res["simple_dtw_ms"] = None if simple is None else round(simple, 1)
                sync = synctoolbox_mae(d, ga, gb, synctoolbox)
                res["synctoolbox_ms"] = None if sync is None else round(sync, 1)
        res.update(pair=name, time_s=round(dt, 2),
                   material=al.diagnostics.get("material", "?"))
        if "held_low" in al.diagnostics:  # the held-bass check (core.pipeline.sustain)
            res["held_low"] = bool(al.diagnostics["held_low"]["applied"])
        rows.append(res)
        conf = np.asarray(al.confidence) if al.confidence is not None \
            else np.full(len(al.path), np.nan)
        full = cmod.RECORD[-1] if cmod.RECORD else None
        if full is not None and carried:
            # the video pipeline solved the path again with jumps after the model ran
            # (core.pipeline.video.with_skips): carry the evidence as it carries the
            # confidence, or it would be read at the wrong steps
            old_path, new_path = carried[-1]
            full = {k: (carry(old_path, np.asarray(v), new_path).tolist()
                        if isinstance(v, list) and len(v) == len(old_path) else v)
                    for k, v in full.items()}
        ev = None
        if full is not None:
            ev = {k: (np.asarray(v)[index].tolist() if isinstance(v, list) else v)
                  for k, v in full.items()}
        # the whole path's evidence and times too, for evidence over a window of steps
        steps.append({"pair": name, "confidence": conf[index].tolist(),
                      "error_ms": np.asarray(err).tolist(), "evidence": ev,
                      "index": np.asarray(index).tolist(), "path_evidence": full,
                      "path_times_s": np.round(np.asarray(al.times_s), 4).tolist(),
                      "segments": len(cmod.RECORD or [])})
        cmod.RECORD = None
        log(json.dumps(res), flush=True)
    vmod.carry_confidence = carry
    return rows, steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["video", "xmodal", "audio", "shared", "demo"])
    parser.add_argument("--split", choices=list(SEEDS), default="heldout")
    parser.add_argument("--cache", default="/tmp/ai-generalize")
    parser.add_argument("--only", default=None)
    parser.add_argument("--json", default=None)
    parser.add_argument("--reps", type=int, default=1,
                        help="pairs per case (more seeds; 1 = the original sets)")
    parser.add_argument("--synctoolbox", default=None, metavar="PYTHON",
                        help="audio: an interpreter with synctoolbox installed, to add the "
                             "Sync Toolbox's MAE (its path is cached in the pair's folder)")
    parser.add_argument("--bass", type=float, default=0.0, metavar="LEVEL",
                        help="audio: add a held bass line under the melody, one note a "
                             "bar in each side's timbre, at LEVEL of a melody note (the "
                             "demo's is 0.5); the same melodies and tempo curves as "
                             "without it")
    args = parser.parse_args(argv)
    if args.bass < 0 or (args.bass > 0 and args.kind != "audio"):
        parser.error(f"--bass: expected a level of 0 or more with KIND audio, got "
                     f"{args.bass:g} with {args.kind}")
    only = args.only.split(",") if args.only else None
    rows, steps = run(args.kind, args.split, Path(args.cache), only, reps=args.reps,
                      synctoolbox=args.synctoolbox, bass_level=args.bass)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "steps": steps}))


if __name__ == "__main__":
    main()
