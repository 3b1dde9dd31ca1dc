"""What the late-reverberation subtraction would do if the reverb check fired (issue 16).

    nice -n 10 python benchmarks/accuracy/reverb_forced.py [--pairs k545,bwv66.6,vibeace]
        [--transforms none,reverb0.6,reverb,reverb2.0] [--decay est|oracle|xF ...]
        [--fix subtract|room-a] [--out RESULTS.json]

The reverb check of :mod:`core.pipeline.reverb` fires on speech in a room but on none of
the music copies of ``unseen.py`` (their instruments decay as slowly as the room). Before
looking for a detection that finds those rooms, this measures what finding them would
buy: every row of ``unseen.py`` goes through ``core.align_files`` with the check forced
to call B reverberant and B's late reverberation subtracted with a decay time of

- ``est``: B's own measured decay time (what a detection would pass on),
- ``oracle``: the room's true RT60 (1.2 s for ``reverb``, 0.6 / 2.0 for the others;
  rows without a room use the estimate),
- ``xF``: the estimate times ``F`` (``x1.3``).

``--fix subtract`` (default) is main's fix, B's late reverberation subtracted
(:func:`core.pipeline.reverb.remove_reverb`; since branch reverb16f A is then put in a
room of half that decay time as well, :func:`core.pipeline.reverb.add_room`, and the
pipeline's keeping of a music pair's room is bypassed too, as the decision is);
``--fix room-a`` leaves B alone and puts A in a room of that decay time instead
(``unseen.py``'s exponential noise tail), so both sides are smeared alike (only where
main's check did not fire). Rows without a room
(``none``) show what a false alarm costs. Nothing in ``core`` changes: the benchmark
replaces the check's decision for the run only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from unittest import mock

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import unseen  # noqa: E402  (the transforms, pairs and scoring of unseen.py)

DEFAULT_PAIRS = "k545,bwv66.6,vibeace"
DEFAULT_TRANSFORMS = "none,reverb0.6,reverb,reverb2.0"


def _room_s(name):
    """The true RT60 (s) of an ``unseen.py`` transform, or None where it adds no room."""
    if not name.startswith("reverb"):
        return None
    return float(name[len("reverb"):] or 1.2)


def _decay_for(mode, estimate_s, room_s):
    if mode == "est" or (mode == "oracle" and room_s is None):
        return estimate_s
    if mode == "oracle":
        return room_s
    if mode.startswith("x"):
        return estimate_s * float(mode[1:])
    raise ValueError(f"--decay: expected est, oracle or xF (e.g. x1.3), got {mode!r}")


def run_forced(pair, name, mode, cache, timeout_s, fix="subtract"):
    """One ``unseen.run_one`` row with B taken for reverberant; the result gains
    ``decay_used_s``."""
    from core.pipeline import conditions

    if fix == "room-a":
        return _run_room_a(pair, name, mode, cache, timeout_s)
    subtract = conditions.remove_reverb
    used = {}

    def remove(x, sample_rate, decay_s):
        used["decay_s"] = _decay_for(mode, decay_s, _room_s(name))
        return subtract(x, sample_rate, used["decay_s"])

    def side_b(decay_a, decay_b, **_):
        return "b" if decay_b is not None else None

    # music keeps its room in the pipeline (reverb.room_kept): forced, it is taken out too
    with mock.patch.object(conditions, "reverberant_side", side_b), \
            mock.patch.object(conditions, "room_kept", lambda material: None), \
            mock.patch.object(conditions, "remove_reverb", remove):
        result = unseen.run_one(pair, name, cache, timeout_s)
    result["decay_used_s"] = None if "decay_s" not in used else round(used["decay_s"], 3)
    return result


def _run_room_a(pair, name, mode, cache, timeout_s):
    from scipy.signal import fftconvolve

    from core.pipeline import conditions

    prepare = conditions.prepare_sides
    used = {}

    def prepare_room_a(xa, sr_a, xb, sr_b, **options):
        xa, xb, band, info = prepare(xa, sr_a, xb, sr_b, **options)
        decay_b = info["reverb"]["decay_s"][1]
        if decay_b is not None and not info["reverb"]["applied"]:
            used["decay_s"] = _decay_for(mode, decay_b, _room_s(name))
            room = unseen._reverb_ir(int(sr_a), used["decay_s"])
            xa = fftconvolve(xa, room)[:xa.shape[0]].astype(np.float32)
        return xa, xb, band, info

    with mock.patch.object(conditions, "prepare_sides", prepare_room_a):
        result = unseen.run_one(pair, name, cache, timeout_s)
    result["decay_used_s"] = None if "decay_s" not in used else round(used["decay_s"], 3)
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", default=DEFAULT_PAIRS)
    ap.add_argument("--transforms", default=DEFAULT_TRANSFORMS)
    ap.add_argument("--decay", nargs="+", default=["est", "oracle"])
    ap.add_argument("--fix", choices=("subtract", "room-a"), default="subtract")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ai-unseen"))
    ap.add_argument("--timeout-s", type=float, default=300.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    pairs = [p for p in args.pairs.split(",") if p]
    unknown = [p for p in pairs if p not in unseen.PAIRS]
    if unknown:
        ap.error(f"--pairs: unknown pair(s) {', '.join(unknown)}; "
                 f"expected some of {', '.join(unseen.PAIRS)}")
    names = [n for n in args.transforms.split(",") if n]
    bad = [n for n in names if n != "none" and n not in unseen.TRANSFORMS]
    if bad:
        ap.error(f"--transforms: unknown transform(s) {', '.join(bad)}")
    for mode in args.decay:
        try:
            _decay_for(mode, 1.0, None)
        except ValueError as exc:
            ap.error(str(exc))
    results = {}
    for pair in pairs:
        for name in names:
            row = {"default": unseen.run_one(pair, name, args.cache, args.timeout_s)}
            for mode in args.decay:
                row[mode] = run_forced(pair, name, mode, args.cache, args.timeout_s, args.fix)
            results[f"{pair}/{name}"] = row
            cells = "  ".join(
                f"{k} {unseen._cell(r)}" + (f" (decay {r['decay_used_s']} s)"
                                             if r.get("decay_used_s") else "")
                for k, r in row.items())
            print(f"{pair:9s} {name:10s} {cells}", flush=True)
            if args.out:
                args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
