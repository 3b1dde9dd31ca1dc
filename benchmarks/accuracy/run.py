"""Accuracy of the default pipelines on ../shared/data (and optionally the Sync Toolbox).

    python benchmarks/accuracy/run.py [--data DIR] [--pairs SUBSTR,...] [--synctoolbox]
                                      [--partial] [--no-write]

Every pair of the data set's index goes through ``core.pipeline.align_files`` with the
defaults; the path is written as CSV and scored with the data set's own
``eval_alignment.py`` (mean absolute error, share within 50 / 100 ms; video pairs in the
B -> A direction, where "within one frame" is also reported). ``--synctoolbox`` adds the
Sync Toolbox's recommended pipeline (tuning, chroma + DLNCO at 50 Hz, MrMsDTW) on the
audio pairs when it is installed. ``--partial`` adds the partial-overlap test: B loses
its first 5 s and gets 5 s of another recording appended; the error is measured on the
shared part. The table goes to ``benchmarks/accuracy/results.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.util
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"

# the reference numbers of issue 7 (MAE ms): Sync Toolbox and the simple DTW baseline
REFERENCE = {
    "music_p01_bwv66.6": (144.2, 109.2),
    "music_p02_bwv269": (70.8, 95.8),
    "music_p03_k545": (10.3, 15.8),
    "realaudio_p01_vibeace_0-30s": (56.4, 106.6),
    "realaudio_p02_arctic_a0007": (12.2, 15.3),
    "speech_p01_harvard1": (75.9, 15.4),
    "speech_p02_harvard2": (17.9, 18.7),
}


def load_eval(data):
    spec = importlib.util.spec_from_file_location("eval_alignment", data / "eval_alignment.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_csv(times, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time_a_s", "time_b_s"])
        w.writerows(times.tolist())


def frame_accuracy(pair_dir, times):
    """Video pairs: share of B frames mapped to the right A frame or a neighbour."""
    with open(pair_dir / "gt.csv") as f:
        rows = list(csv.DictReader(f))
    frame_a = np.array([int(r["frame_a"]) for r in rows])
    time_b = np.array([float(r["time_b_s"]) for r in rows])
    time_a = np.array([float(r["time_a_s"]) for r in rows])
    fps_a = frame_a[-1] / time_a[-1] if time_a[-1] > 0 else 25.0
    tb, ta = times[:, 1], times[:, 0]
    ub, inv = np.unique(tb, return_inverse=True)
    ua = np.bincount(inv, weights=ta) / np.bincount(inv)
    pred = np.round(np.interp(time_b, ub, ua) * fps_a).astype(int)
    return float(np.mean(np.abs(pred - frame_a) <= 1)), float(np.mean(pred == frame_a))


def confidence_at_events(al, ga, gb):
    """(confidence, absolute error in ms, doubtful) at every ground-truth event (A -> B);
    doubtful: the confidence below the result's own threshold (its material's calibrated
    ``doubtful_ms``, :func:`core.pipeline.confidence.doubtful_confidence`), as the
    window's red band and "Next doubtful spot" use it."""
    from core.pipeline.confidence import doubtful_confidence

    t = np.asarray(al.times_s)
    order = np.argsort(t[:, 0], kind="stable")
    ta, tb = t[order, 0], t[order, 1]
    conf = np.asarray(al.confidence)[order]
    pred = np.interp(ga, ta, tb)
    k = np.clip(np.searchsorted(ta, ga), 0, ta.shape[0] - 1)
    return conf[k], np.abs(pred - gb) * 1000.0, conf[k] < doubtful_confidence(al)


def confidence_summary(pairs_conf):
    """How well the confidence predicts the error, pooled over pairs."""
    from scipy.stats import spearmanr

    conf = np.concatenate([c for c, _, _ in pairs_conf])
    err = np.concatenate([e for _, e, _ in pairs_conf])
    low = np.concatenate([d for _, _, d in pairs_conf])
    rho = float(spearmanr(conf, err).statistic) if conf.size > 2 else float("nan")
    lines = [f"\nConfidence vs error at {conf.size} audio events: Spearman rho "
             f"{rho:+.2f} (negative = lower confidence, larger error)."]
    for name, mask in (("doubtful (expected error above the material's threshold)", low),
                       ("the others", ~low)):
        if mask.any():
            lines.append(f"- {name}: {mask.sum()} events ({100 * mask.mean():.0f} %), MAE "
                         f"{err[mask].mean():.1f} ms, {100 * np.mean(err[mask] > 100):.0f} % "
                         "beyond 100 ms")
    big = err > 100
    if big.any():
        lines.append(f"- events beyond 100 ms: {int(low[big].sum())} of {int(big.sum())} "
                     f"doubtful; mean confidence {conf[big].mean():.2f} (others "
                     f"{conf[~big].mean():.2f})")
    return lines


def synctoolbox_times(file_a, file_b):
    """The Sync Toolbox demo pipeline (as in its audio-audio notebook)."""
    import soundfile as sf
    from synctoolbox.dtw.mrmsdtw import sync_via_mrmsdtw
    from synctoolbox.dtw.utils import (
        compute_optimal_chroma_shift,
        make_path_strictly_monotonic,
        shift_chroma_vectors,
    )
    from synctoolbox.feature.chroma import (
        pitch_to_chroma,
        quantize_chroma,
        quantized_chroma_to_CENS,
    )
    from synctoolbox.feature.dlnco import pitch_onset_features_to_DLNCO
    from synctoolbox.feature.pitch import audio_to_pitch_features
    from synctoolbox.feature.pitch_onset import audio_to_pitch_onset_features
    from synctoolbox.feature.utils import estimate_tuning

    rate = 50
    feats = []
    for fn in (file_a, file_b):
        x, sr = sf.read(fn, dtype="float64", always_2d=True)
        x = x.mean(axis=1)
        tuning = estimate_tuning(x, sr)
        pitch = audio_to_pitch_features(f_audio=x, Fs=sr, tuning_offset=tuning,
                                        feature_rate=rate, verbose=False)
        chroma = quantize_chroma(pitch_to_chroma(f_pitch=pitch))
        onsets = audio_to_pitch_onset_features(f_audio=x, Fs=sr, tuning_offset=tuning,
                                               verbose=False)
        dlnco = pitch_onset_features_to_DLNCO(f_peaks=onsets, feature_rate=rate,
                                              feature_sequence_length=chroma.shape[1],
                                              visualize=False)
        feats.append((chroma, dlnco))
    (ca, da), (cb, db) = feats
    shift = compute_optimal_chroma_shift(quantized_chroma_to_CENS(ca, 201, 50, rate)[0],
                                         quantized_chroma_to_CENS(cb, 201, 50, rate)[0])
    cb = shift_chroma_vectors(cb, shift)
    db = shift_chroma_vectors(db, shift)
    wp = sync_via_mrmsdtw(f_chroma1=ca, f_onset1=da, f_chroma2=cb, f_onset2=db,
                          input_feature_rate=rate, step_weights=np.array([1.5, 1.5, 2.0]),
                          threshold_rec=10 ** 6, verbose=False)
    wp = make_path_strictly_monotonic(wp)
    return wp.T / rate


def partial_overlap(ev, data, pair, other, tmp, align_files, cut_s=5.0, extra_s=5.0):
    """Cut ``cut_s`` from B's start and append ``extra_s`` of another recording; score
    the events of the shared part (B times shifted by the cut)."""
    import soundfile as sf

    pair_dir = data / os.path.dirname(pair["gt_csv"])
    xb, sr = sf.read(data / pair["file_b"], dtype="float32")
    xo, sr_o = sf.read(data / other["file_b"], dtype="float32")
    if sr_o != sr:
        raise ValueError("sample rates differ")
    cut = int(cut_s * sr)
    mixed = np.concatenate([xb[cut:], xo[:int(extra_s * sr)]])
    fb = Path(tmp) / f"{pair['pair_id']}_partial_b.wav"
    sf.write(fb, mixed, sr)
    al = align_files(data / pair["file_a"], fb)
    ga, gb = ev.load_gt(str(pair_dir))
    keep = gb >= cut_s + 0.5
    s = ev.score(ga[keep], gb[keep] - cut_s, np.asarray(al.times_s), "a2b")
    aligned = al.diagnostics.get("aligned_part", {})
    return s, aligned


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--pairs", default="", help="comma-separated substrings of pair ids")
    ap.add_argument("--synctoolbox", action="store_true")
    ap.add_argument("--partial", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from core.pipeline import align_files

    data = args.data
    ev = load_eval(data)
    with open(data / "index.csv") as f:
        pairs = [r for r in csv.DictReader(f) if r["split"] == "public"]
    wanted = [s for s in args.pairs.split(",") if s]
    if wanted:
        pairs = [r for r in pairs if any(s in r["pair_id"] for s in wanted)]
    has_stb = args.synctoolbox and importlib.util.find_spec("synctoolbox") is not None
    lines = []
    audio_rows = []
    pairs_conf = []
    partial_lines = []
    head = ("| pair | material | ours MAE ms | ≤50 ms | ≤100 ms | Sync Toolbox MAE ms "
            "(ref / here) | simple DTW MAE ms | time s |")
    lines += [head, "|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for r in pairs:
            pair_dir = data / os.path.dirname(r["gt_csv"])
            t0 = time.perf_counter()
            al = align_files(data / r["file_a"], data / r["file_b"])
            elapsed = time.perf_counter() - t0
            times = np.asarray(al.times_s)
            write_csv(times, Path(tmp) / "pred.csv")
            pred = ev.load_path(str(Path(tmp) / "pred.csv"))
            ga, gb = ev.load_gt(str(pair_dir))
            direction = "b2a" if r["modality"] == "video" else "a2b"
            s = ev.score(ga, gb, pred, direction)
            material = al.diagnostics.get("material", "?")
            ref = REFERENCE.get(r["pair_id"])
            stb = ""
            if has_stb and r["modality"] in ("music", "speech", "realaudio"):
                try:
                    with contextlib.redirect_stdout(io.StringIO()):  # its progress dots
                        times_st = synctoolbox_times(data / r["file_a"], data / r["file_b"])
                    st = ev.score(ga, gb, times_st, "a2b")
                    stb = f"{st['mae_ms']:.1f}"
                except Exception as exc:  # noqa: BLE001 - optional comparison
                    stb = f"failed ({type(exc).__name__})"
            extra = ""
            if r["modality"] == "video":
                pm1, exact = frame_accuracy(pair_dir, pred)
                extra = f" (B frames on the right A frame ±1: {100 * pm1:.1f} %, exact " \
                        f"{100 * exact:.1f} %)"
            ref_txt = f"{ref[0]:.1f} / {stb or '-'}" if ref else (stb or "-")
            base_txt = f"{ref[1]:.1f}" if ref else "-"
            line = (f"| {r['pair_id']}{extra} | {material} | {s['mae_ms']:.1f} | "
                    f"{100 * s['within_50ms']:.0f} % | {100 * s['within_100ms']:.0f} % | "
                    f"{ref_txt} | {base_txt} | {elapsed:.1f} |")
            lines.append(line)
            print(line, flush=True)
            if ref:
                audio_rows.append((r["pair_id"], s["mae_ms"], min(ref)))
                if al.confidence is not None:
                    pairs_conf.append(confidence_at_events(al, ga, gb))
            if args.partial and r["modality"] in ("music", "speech", "realaudio") and \
                    float(r["duration_b_s"]) > 15:
                # the hardest case first: another recording of the same kind
                others = sorted((o for o in pairs if o["pair_id"] != r["pair_id"]
                                 and o["modality"] in ("music", "speech", "realaudio")
                                 and float(o["duration_b_s"]) > 10),
                                key=lambda o: o["modality"] != r["modality"])
                if others:
                    sp, aligned = partial_overlap(ev, data, r, others[0], tmp, align_files)
                    shared = ev.score(ga[gb >= 5.5], gb[gb >= 5.5], pred, "a2b")
                    a_s, b_s = aligned.get("a_s", "?"), aligned.get("b_s", "?")
                    pline = (f"| {r['pair_id']} | {others[0]['pair_id']} | "
                             f"{shared['mae_ms']:.1f} | {sp['mae_ms']:.1f} | "
                             f"{sp['mae_ms'] / max(shared['mae_ms'], 1e-9):.2f} | "
                             f"A {a_s}, B {b_s} |")
                    partial_lines.append(pline)
                    print(pline, flush=True)
    if audio_rows:
        mean = float(np.mean([m for _, m, _ in audio_rows]))
        ok = sum(m < best for _, m, best in audio_rows)
        summary = (f"\nAudio pairs: mean MAE {mean:.1f} ms (target <= 21 ms); "
                   f"{ok}/{len(audio_rows)} pairs below min(Sync Toolbox, simple DTW).")
        lines.append(summary)
        print(summary)
    if partial_lines:
        lines += ["", "Partial overlap: B loses its first 5 s and gets 5 s of another "
                  "recording appended; error on the events of the shared part.", "",
                  "| pair | appended | uncut MAE ms | partial MAE ms | ratio (target <= 1.5) "
                  "| aligned part reported (s) |", "|---|---|---|---|---|---|"]
        lines += partial_lines
    if pairs_conf:
        conf_lines = confidence_summary(pairs_conf)
        lines += conf_lines
        print("\n".join(conf_lines))
    if not args.no_write:
        text = ("# Accuracy of the default pipelines on ../shared/data\n\n"
                "Written by `python benchmarks/accuracy/run.py` "
                f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}). Reference columns: "
                "issue 7's measurements (Sync Toolbox demo pipeline; the simple DTW of "
                "eval_alignment.py --baselines).\n\n" + "\n".join(lines) + "\n")
        (HERE / "results.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
