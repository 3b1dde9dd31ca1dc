"""Features, rate and smoothing of the jump DP's costs, tried without re-running the
pipeline.

``dp_variants.py`` keeps the DP's costs as they were and changes ``find_pieces``'s
settings; this keeps what the costs are made from (the pipeline's features at their own
rate, the monotone path) and makes the costs again with other weights, rate, smoothing
radius or slopes (``core.structure.align._dp_costs``, its module settings changed for
the call), then runs the DP on them:

    python benchmarks/structure/dp_features.py capture --seeds 0,1 --only music --out f.pkl
    python benchmarks/structure/dp_features.py score f.pkl "chroma:weights=0/1/0"
    python benchmarks/structure/dp_features.py truth f.pkl "r2:smooth_s=1.0"

A variant is ``name:key=value,...`` with keys ``weights`` (one per term, ``/``-separated,
in the plan's order; music: DLNCO, chroma, sharp DLNCO), ``rate_hz`` (the DP's rate),
``smooth_s`` (the smoothing radius), ``slopes`` (``/``-separated), ``centred`` (1 or 0:
the costs centred per column, ``_ColumnCentred``, or not), ``dear_rows`` (the
quantile of the rows' medians above which A's rows are lowered, ``_DearRowsLowered``;
1: none) and the ``find_pieces`` keys of ``dp_variants.py``. ``score`` prints ``dp_variants.py``'s
DP-level scores. ``truth`` prints, per case, how the ground truth's cells cost at the
DP's scale (0 a typical match, 1 unrelated frames): their mean, and the share of B frames
with truth whose best row more than 2 s from the truth costs less than the best within
0.3 s of it (a wrong place that beats the right one).
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from dp_variants import KEYS, capture_cases, describe, score_pieces, summary  # noqa: E402
from junction_variants import command_line, compare, parse_variants  # noqa: E402

import core.structure.align as structure_align  # noqa: E402

_dp_costs = structure_align._dp_costs
COST_KEYS = {"weights": lambda v: [float(w) for w in v.split("/")], "rate_hz": float,
             "smooth_s": float, "slopes": lambda v: tuple(float(s) for s in v.split("/")),
             "centred": lambda v: bool(int(v)), "dear_rows": float}


def capture(seeds, out, only=None):
    def keep(source, rates, material, mono):
        return {"source": source, "rates": rates, "material": material, "mono": mono,
                "jump_s": structure_align._JUMP_S_OF.get(material, structure_align._JUMP_S)}

    Path(out).write_bytes(pickle.dumps(capture_cases(seeds, only, "_dp_costs", keep)))


def dp_inputs(case, settings):
    """The DP's cost source, rate and normalizer for ``case`` with ``settings`` (the
    cost keys; the module's settings are restored after)."""
    saved = (structure_align._DP_RATE_HZ, structure_align._SMOOTH_S,
             dict(structure_align._SLOPES), structure_align._CENTRED,
             structure_align._DEAR_ROWS_QUANTILE)
    source = case["source"]
    if "weights" in settings:
        source = source.reweighted(settings["weights"])
    try:
        structure_align._DP_RATE_HZ = settings.get("rate_hz", saved[0])
        structure_align._SMOOTH_S = settings.get("smooth_s", saved[1])
        if "slopes" in settings:
            structure_align._SLOPES[case["material"]] = settings["slopes"]
        if "centred" in settings:
            structure_align._CENTRED = (case["material"],) if settings["centred"] else ()
        structure_align._DEAR_ROWS_QUANTILE = settings.get("dear_rows", saved[4])
        factor, _coarse, smoothed, _path, c_on, c_off = _dp_costs(
            source, case["rates"], case["material"], case["mono"])
    finally:
        (structure_align._DP_RATE_HZ, structure_align._SMOOTH_S) = saved[:2]
        structure_align._CENTRED = saved[3]
        structure_align._DEAR_ROWS_QUANTILE = saved[4]
        structure_align._SLOPES.clear()
        structure_align._SLOPES.update(saved[2])
    return smoothed, min(case["rates"]) / factor, c_on, c_off


def _parse(specs):
    variants = parse_variants(specs)
    for name, settings in variants.items():
        unknown = sorted(set(settings) - set(KEYS) - set(COST_KEYS))
        if unknown:
            raise SystemExit(f"variant {name!r}: unknown keys {unknown}; expected some of "
                             f"{sorted(set(KEYS) | set(COST_KEYS))}")
        variants[name] = {k: (COST_KEYS.get(k) or KEYS[k])(v) for k, v in settings.items()}
    return variants


def score(path, specs, tol=1.0):
    variants = _parse(specs)

    def score_case(c, settings):
        smoothed, rate, c_on, c_off = dp_inputs(c, settings)
        dp = {k: v for k, v in settings.items() if k in KEYS}
        pieces = structure_align.find_pieces(
            smoothed, rate, **dict({"jump_s": c["jump_s"], "ends_w": structure_align._ENDS_W,
                                    "c_on": c_on, "c_off": c_off}, **dp))[0]
        return score_pieces(pieces, rate, c["jumps"], c["gt"], tol)

    compare(pickle.loads(Path(path).read_bytes()), variants, score_case,
            lambda cases, rows: summary(cases, rows, tol), lambda a, b: a != b, describe)


def truth_costs(case, settings, far_s=2.0, near_s=0.3):
    """(mean normalized cost on the truth's cells, share of B frames with truth where a
    row more than ``far_s`` from it costs less than the best within ``near_s``)."""
    smoothed, rate, c_on, c_off = dp_inputs(case, settings)
    n, m = smoothed.n, smoothed.m
    cost = (smoothed.costs(0, n, 0, m) - c_on) / (c_off - c_on)
    gt = case["gt"]
    cols = np.round(gt[:, 1] * rate).astype(np.int64)
    rows = np.round(gt[:, 0] * rate).astype(np.int64)
    ok = (cols >= 0) & (cols < m) & (rows >= 0) & (rows < n)
    cols, rows = cols[ok], rows[ok]
    on = cost[rows, cols]
    far, near = int(round(far_s * rate)), int(round(near_s * rate))
    beaten = []
    for r, c in zip(rows, cols, strict=True):
        column = cost[:, c]
        best_near = column[max(0, r - near):r + near + 1].min()
        mask = np.ones(n, dtype=bool)
        mask[max(0, r - far):r + far + 1] = False
        beaten.append(bool(mask.any() and column[mask].min() < best_near))
    return float(np.mean(on)), float(np.mean(beaten))


def truth(path, specs):
    variants = _parse(specs)
    compare(pickle.loads(Path(path).read_bytes()), variants,
            lambda c, s: truth_costs(c, s),
            lambda cases, rows: (f"mean cost on the truth {np.mean([r[0] for r in rows]):.3f}, "
                                 f"beaten from afar {np.mean([r[1] for r in rows]):.3f}"),
            lambda a, b: True,
            lambda c, a, b: (f"truth {a[0]:.2f} -> {b[0]:.2f}, beaten {a[1]:.2f} -> "
                             f"{b[1]:.2f}"))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "truth":
        sys.argv[1] = "score"
        command_line(__doc__, capture, lambda p, s: truth(p, s))
        return
    command_line(__doc__, capture, score,
                 tol={"type": float, "default": 1.0, "help": "seconds (default 1.0)"})


if __name__ == "__main__":
    main()
