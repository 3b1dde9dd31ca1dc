"""Calibrate the per-step confidence on the tuning pairs, check it on the held-out pairs.

    python benchmarks/accuracy/calibrate.py --runs DIR --tag TAG [--write]

Reads ``{video,xmodal,audio}_{tune,heldout}_TAG.json`` written by ``generalize.py
--json`` (every path step's evidence and true error), fits
:func:`core.pipeline.confidence.fit` per material group on the tuning pairs only
(``--write`` stores it in ``core/pipeline/calibration.json``), and reports on the
held-out pairs: Spearman's rho between the confidence and the step's error (pooled and
per group; the engine's raw agreement confidence alongside) and the share of the errors
above 100 ms that fall on doubtful steps (confidence < 0.5, i.e. expected error > 50 ms).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from core.pipeline import confidence as cm  # noqa: E402

KINDS = ("video", "xmodal", "audio")
LOW = 0.5


def load(runs, split, tag):
    """Per group: evidence columns, errors, raw confidence, pair names per step."""
    out = {}
    for kind in KINDS:
        path = Path(runs) / f"{kind}_{split}_{tag}.json"
        if not path.exists():
            continue
        for s in json.loads(path.read_text())["steps"]:
            ev = s.get("evidence")
            if not ev:
                continue
            err = np.asarray(s["error_ms"], dtype=np.float64)
            ok = np.isfinite(err)
            g = out.setdefault(ev["group"], {"err": [], "raw": [], "pair": [],
                                             **{f: [] for f in cm._FEATURES}})
            g["err"].append(err[ok])
            g["raw"].append(np.asarray(s["confidence"], dtype=np.float64)[ok])
            g["pair"].append(np.full(int(ok.sum()), f"{kind}/{s['pair']}", dtype=object))
            for f in cm._FEATURES:
                g[f].append(np.asarray(ev[f], dtype=np.float64)[ok])
    return {k: {f: np.concatenate(v) for f, v in g.items()} for k, g in out.items()}


def spearman(a, b):
    from scipy.stats import spearmanr

    if len(a) < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return float("nan")
    return float(spearmanr(a, b)[0])


def report(groups, calibration, log=print):
    saved = dict(cm.CALIBRATION)
    cm.CALIBRATION.clear()
    cm.CALIBRATION.update(calibration)
    try:
        all_c, all_raw, all_e = [], [], []
        rows = []
        for name, g in sorted(groups.items()):
            err_pred = cm.predicted_error_ms(g, name)
            conf = cm.confidence_from_error(err_pred) if err_pred is not None else g["raw"]
            all_c.append(conf)
            all_raw.append(g["raw"])
            all_e.append(g["err"])
            rows.append(_row(name, conf, g["raw"], g["err"]))
        rows.append(_row("all", np.concatenate(all_c), np.concatenate(all_raw),
                         np.concatenate(all_e)))
    finally:
        cm.CALIBRATION.clear()
        cm.CALIBRATION.update(saved)
    c_all, e_all = np.concatenate(all_c), np.concatenate(all_e)
    log("| confidence | steps | expected error ms (the model) | mean error ms | median ms |")
    log("|---|---|---|---|---|")
    for lo, hi in ((0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01)):
        sel = (c_all >= lo) & (c_all < hi)
        if sel.any():
            log(f"| {lo:.1f}-{min(hi, 1.0):.1f} | {int(sel.sum())} | "
                f"{float(np.mean(cm.expected_error_ms(c_all[sel]))):.0f} | "
                f"{float(e_all[sel].mean()):.0f} | {float(np.median(e_all[sel])):.0f} |")
    log("")
    log("| group | steps | steps > 100 ms | rho calibrated | rho raw | > 100 ms on doubtful "
        "(calibrated) | (raw) | doubtful share of steps |")
    log("|---|---|---|---|---|---|---|---|")
    for r in rows:
        log(f"| {r['group']} | {r['n']} | {r['big']} | {r['rho']:.2f} | {r['rho_raw']:.2f} | "
            f"{r['caught']:.0%} | {r['caught_raw']:.0%} | {r['doubtful']:.0%} |")
    return rows


def _row(name, conf, raw, err):
    big = err > 100
    return {"group": name, "n": int(len(err)), "big": int(big.sum()),
            "rho": spearman(conf, err), "rho_raw": spearman(raw, err),
            "caught": float(np.mean(conf[big] < LOW)) if big.any() else float("nan"),
            "caught_raw": float(np.mean(raw[big] < LOW)) if big.any() else float("nan"),
            "doubtful": float(np.mean(conf < LOW))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="/tmp/ai-generalize")
    parser.add_argument("--tag", required=True)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    tune = load(args.runs, "tune", args.tag)
    calibration = {name: {"coef": cm.fit(g, g["err"]), "features": list(cm._FEATURES),
                          "steps": int(len(g["err"]))}
                   for name, g in tune.items()}
    print("fitted on the tuning pairs:", json.dumps(calibration))
    print("\ntuning pairs:")
    report(tune, calibration)
    held = load(args.runs, "heldout", args.tag)
    print("\nheld-out pairs:")
    report(held, calibration)
    if args.write:
        path = REPO / "core" / "pipeline" / "calibration.json"
        path.write_text(json.dumps(calibration, indent=1) + "\n")
        print("written", path)


if __name__ == "__main__":
    main()
