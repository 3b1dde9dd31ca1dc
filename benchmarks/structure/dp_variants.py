"""Variants of the jump DP (``core.structure.find_pieces``) scored without re-running the
pipeline.

The DP's inputs (the smoothed coarse costs and its settings) are captured once per pair;
``find_pieces`` is then re-run on them with other settings and its pieces scored at the
DP's own scale, before the pieces are solved and their junctions refined:

    python benchmarks/structure/dp_variants.py capture --seeds 0,1 --out dp01.pkl
    python benchmarks/structure/dp_variants.py score dp01.pkl "j2:jump_s=2.0" \\
        "null:null_cost=0.4"

A variant is ``name:key=value,...`` with keys of ``find_pieces`` (``jump_s``,
``null_cost``, ``min_piece_s``, ``merge_s``, ``ends_w``); everything else stays as
``align_structure`` passed it. ``score`` prints, per variant, the true jumps matched by
a DP jump with its B time and both A ends within ``--tol`` seconds (default 1.0: the
junction refinement reaches 2.5 s either side, so the DP's jumps need not be closer),
the DP's jump count against the truth's, and the mean error of the ground-truth events
mapped along the pieces' straight lines (a coarse proxy of the final error: the pieces'
own paths and the refinement come later); then each case that changed against the
captured settings ("as run"). Capturing stops each pipeline after the DP (a few seconds
a pair); the unchanged pairs are captured too (a jump there is a false one).
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import bench  # noqa: E402
import pairs  # noqa: E402
from junction_variants import command_line, compare, parse_variants  # noqa: E402

import core  # noqa: E402
import core.structure.align as structure_align  # noqa: E402
from core.structure.align import find_pieces  # noqa: E402

KEYS = {"jump_s": float, "null_cost": float, "min_piece_s": float, "merge_s": float,
        "ends_w": float}


class _Captured(Exception):
    """Raised by the spy once the DP's inputs are kept: the rest is not needed."""


def capture_cases(seeds, only, name, keep):
    """Run ``structure="auto"`` on each changed pair (``only``: pairs whose id contains
    one of its ``|``-separated parts) until ``core.structure.align``'s function ``name``
    is called; ``keep(*args, **kwargs)`` turns its arguments into the case's entries.
    Returns the cases (pair, change, seed, gt, jumps and those entries)."""
    seen = {}
    original = getattr(structure_align, name)

    def spy(*args, **kwargs):
        seen.update(keep(*args, **kwargs))
        raise _Captured

    setattr(structure_align, name, spy)
    cases = []
    try:
        for row in pairs.load_pairs():
            if only and not any(part in row["pair_id"] for part in only.split("|")):
                continue
            ra = core.open_recording(pairs.DATA / row["file_a"])
            for change in ("none", "repeat", "drop", "move"):
                for seed in seeds[:1] if change == "none" else seeds:
                    c = pairs.make(row, change, bench.WORK / f"seed{seed}", seed=seed)
                    seen.clear()
                    try:
                        core.align_recordings(ra, core.open_recording(c.b), structure="auto")
                    except _Captured:
                        pass
                    cases.append({"pair": row["pair_id"], "change": change, "seed": seed,
                                  "gt": c.gt, "jumps": c.jumps, **seen})
                    print(f"{row['pair_id']} {change} {seed}", flush=True)
    finally:
        setattr(structure_align, name, original)
    return cases


def capture(seeds, out, only=None):
    def keep(source, rate_hz, **kwargs):
        kwargs.pop("monitor", None)
        return {"args": (source, rate_hz, kwargs)}

    Path(out).write_bytes(pickle.dumps(capture_cases(seeds, only, "find_pieces", keep)))


def score_pieces(pieces, rate_hz, jumps, gt, tol_s):
    """(true jumps matched with three ends within ``tol_s``, jumps found, mean event
    error in ms along the pieces' lines) for the DP's pieces ``(i0, i1, j0, j1)``."""
    found = [((p[3] + 1) / rate_hz, (p[1] + 1) / rate_hz, q[0] / rate_hz)
             for p, q in zip(pieces[:-1], pieces[1:], strict=True)]
    matched = sum(any(abs(b - t["b_s"]) <= tol_s and abs(a0 - t["a_from_s"]) <= tol_s
                      and abs(a1 - t["a_to_s"]) <= tol_s for b, a0, a1 in found)
                  for t in jumps)
    if not pieces:
        return matched, 0, float("nan")
    errors = []
    for a_t, b_t in gt:
        j = b_t * rate_hz
        # the piece that holds the event, else the nearest piece's nearer end
        near = min(pieces, key=lambda p: max(0.0, p[2] - 0.5 - j, j - p[3] - 1.5))
        i0, i1, j0, j1 = near
        jj = min(max(j, j0), j1 + 1)
        a = i0 + (jj - j0) * (i1 - i0) / max(1, j1 - j0)
        errors.append(abs(a / rate_hz - a_t))
    return matched, len(found), 1000 * float(np.mean(errors))


def score(path, specs, tol=1.0):
    variants = parse_variants(specs)
    for name, settings in variants.items():
        unknown = sorted(set(settings) - set(KEYS))
        if unknown:
            raise SystemExit(f"variant {name!r}: unknown keys {unknown}; expected some of "
                             f"{sorted(KEYS)}")
        variants[name] = {k: KEYS[k](v) for k, v in settings.items()}

    def score_case(c, settings):
        source, rate_hz, kwargs = c["args"]
        pieces = find_pieces(source, rate_hz, **dict(kwargs, **settings))[0]
        return score_pieces(pieces, rate_hz, c["jumps"], c["gt"], tol)

    compare(pickle.loads(Path(path).read_bytes()), variants, score_case,
            lambda cases, rows: summary(cases, rows, tol), lambda a, b: a != b, describe)


def summary(cases, rows, tol):
    """The DP-level scores of ``rows`` (:func:`score_pieces`) over ``cases``."""
    changed = [r for c, r in zip(cases, rows, strict=True) if c["change"] != "none"]
    none = [r for c, r in zip(cases, rows, strict=True) if c["change"] == "none"]
    true = sum(len(c["jumps"]) for c in cases)
    return (f"three ends within {tol:g} s {sum(r[0] for r in changed)} / {true}, jumps "
            f"found {sum(r[1] for r in changed)}, mean line error "
            f"{np.mean([r[2] for r in changed]):.0f} ms, median "
            f"{np.median([r[2] for r in changed]):.0f} ms; unchanged pairs with a jump "
            f"{sum(r[1] > 0 for r in none)} / {len(none)}")


def describe(c, a, b):
    """One case's DP-level scores, ``a`` (as run) -> ``b``."""
    return (f"three ends {a[0]} -> {b[0]} / {len(c['jumps'])}, jumps {a[1]} -> {b[1]}, "
            f"line error {a[2]:.0f} -> {b[2]:.0f} ms")


def main():
    command_line(__doc__, capture, score,
                 tol={"type": float, "default": 1.0, "help": "seconds (default 1.0)"})


if __name__ == "__main__":
    main()
