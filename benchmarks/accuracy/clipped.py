"""The default audio pipeline on generated pairs whose B is hard-clipped (issue 16).

    nice -n 10 python benchmarks/accuracy/clipped.py [--split tune|heldout|...] [--reps R]
        [--levels 0.1,0.3] [--cache DIR] [--clip-cache DIR] [--json OUT]

The audio pairs of ``generalize.py audio`` (same splits, seeds and cache) have B clipped
at a fraction of its peak (``--levels``; ``unseen.py``'s ``clip`` is 0.1) and scaled by
5, as ``unseen.py`` does, and go through ``core.align_files`` with the defaults; each is
scored with ``eval_alignment.py`` (MAE ms over the events). Prints per pair and level the
share of B's samples on its rails (:func:`core.pipeline.clipping.clipped_share`), whether
the pipeline acted on it and the MAE, then the mean per level. Run it with ``PYTHONPATH``
pointing at the checkout to measure (a before/after table compares two runs). The clipped
copies are cached under ``--clip-cache`` (default ``/tmp/ai-clipped``), never in the repo
nor beside the pairs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def clipped_copy(d, level, cache):
    """B of the pair in ``d`` clipped at ``level`` times its peak, times 5 (a float WAV,
    written once under ``cache``)."""
    import soundfile as sf

    out = cache / d.parent.name / d.name / f"b_clip{level:g}.wav"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        x, sr = sf.read(d / "b.wav", dtype="float32", always_2d=True)
        x = x.mean(axis=1)
        peak = level * float(np.max(np.abs(x)))
        tmp = out.with_name("tmp_" + out.name)
        sf.write(tmp, np.clip(x, -peak, peak) * 5.0, sr, subtype="FLOAT")
        tmp.rename(out)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="tune")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--levels", default="0.1,0.3")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ai-generalize"))
    ap.add_argument("--clip-cache", type=Path, default=Path("/tmp/ai-clipped"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    import generalize
    import unseen

    from core import align_files

    if args.split not in generalize.SEEDS:
        ap.error(f"--split: expected one of {sorted(generalize.SEEDS)}, got {args.split!r}")
    try:
        levels = [float(v) for v in args.levels.split(",")]
    except ValueError:
        ap.error(f"--levels: expected numbers separated by commas, got {args.levels!r}")
    if not all(0.0 < v < 1.0 for v in levels):
        ap.error(f"--levels: expected fractions of the peak between 0 and 1, got {levels}")
    evaluate = unseen.load_eval()
    rows = []
    for name, d in generalize.audio_pairs(args.split, args.cache, reps=args.reps):
        ga, gb = evaluate.load_gt(str(d))
        for level in levels:
            b = clipped_copy(d, level, args.clip_cache)
            al = align_files(d / "a.wav", b)
            mae = float(evaluate.score(ga, gb, np.asarray(al.times_s), "a2b")["mae_ms"])
            clip = al.diagnostics.get("clipping", {}).get("b", {})
            rows.append({"pair": name, "level": level, "mae_ms": round(mae, 1),
                         "share": clip.get("share"), "clipped": clip.get("clipped")})
            print(f"{name:22s} clip {level:g}  share {clip.get('share', '-')!s:7s} "
                  f"acted {clip.get('clipped', '-')!s:5s}  MAE {mae:7.1f} ms", flush=True)
    for level in levels:
        maes = [r["mae_ms"] for r in rows if r["level"] == level]
        print(f"clip {level:g}: mean MAE {np.mean(maes):.2f} ms over {len(maes)} pairs")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
