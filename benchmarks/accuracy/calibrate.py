"""Calibrate the per-step confidence on the tuning pairs, check it on the held-out pairs.

    python benchmarks/accuracy/calibrate.py --runs DIR --tag TAG [--write] [--model FILE]

Reads ``{video,xmodal,audio}_{tune,heldout}_TAG.json`` written by ``generalize.py
--json`` (every path step's evidence and true error; ``shared_heldout_TAG.json``, the
pairs of ../shared/data, when there), picks per material group the evidence by
cross-validation over the tuning pairs (folds by pair) and fits
:func:`core.pipeline.confidence.fit` on the tuning pairs only (``--write`` stores it in
``core/pipeline/calibration.json``; ``--model FILE`` reports an existing calibration
instead, e.g. the one before). Reports on the tuning, the held-out and the
../shared/data pairs: the reliability table (expected error bin -> measured mean and
median error) per group, Spearman's rho between the confidence and the step's error
(pooled and per group), the share of the errors above 100 ms that fall on doubtful
steps (confidence < 0.5, i.e. expected error > 50 ms), and per pair the mean expected
error against the measured mean error.

Refit after a pipeline change (the tuning runs take a few minutes, under nice):

    for k in audio xmodal video; do for s in tune heldout; do
      python benchmarks/accuracy/generalize.py $k --split $s --reps R --json DIR/${k}_${s}_TAG.json
    done; done   # R: tune audio 5, xmodal 4, video 3; held-out audio and xmodal 2, video 1
    python benchmarks/accuracy/generalize.py shared --json DIR/shared_heldout_TAG.json
    python benchmarks/accuracy/calibrate.py --runs DIR --tag TAG --write

(``sh benchmarks/accuracy/refit_confidence.sh DIR`` runs exactly that and keeps the report
in ``benchmarks/accuracy/confidence_calibration.md``.)
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
MAX_FEATURES = 4
# the evidence a calibration may use: what is measured relative to the segment itself
# (the cost between the path's typical and the off-path cost; spread, margins and
# contrast against their median) or in seconds (the spread, the slope). The levels of
# the margins and the contrast differ between generated and real material (a chorale's
# repeated chords keep every margin small): fitted on them, the expected error of
# music_p02 was 101 ms against a measured 22 ms.
CANDIDATES = ("log_spread", "cost", "slope", "log_spread_rel", "margin_rel", "margin_b_rel",
              "contrast_rel")
EDGES_MS = (0, 10, 20, 50, 100, 200, 500, np.inf)


def load(runs, split, tag, kinds=KINDS):
    """Per group: evidence columns, errors, raw confidence, pair names per step."""
    out = {}
    for kind in kinds:
        path = Path(runs) / f"{kind}_{split}_{tag}.json"
        if not path.exists():
            continue
        for s in json.loads(path.read_text())["steps"]:
            ev = s.get("evidence")
            if not ev:
                continue
            err = np.asarray(s["error_ms"], dtype=np.float64)
            ok = np.isfinite(err)
            g = out.setdefault(ev["group"], {"err": [], "raw": [], "pair": []})
            g["err"].append(err[ok])
            g["raw"].append(np.asarray(s["confidence"], dtype=np.float64)[ok])
            g["pair"].append(np.full(int(ok.sum()), f"{kind}/{s['pair']}", dtype=object))
            for f in cm.EVIDENCE:
                if f in ev:
                    g.setdefault(f, []).append(np.asarray(ev[f], dtype=np.float64)[ok])
    return {k: {f: np.concatenate(v) for f, v in g.items()} for k, g in out.items()}


def spearman(a, b):
    from scipy.stats import spearmanr

    a, b = np.asarray(a), np.asarray(b)
    if len(a) < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return float("nan")
    return float(spearmanr(a, b)[0])


def _subset(g, sel):
    return {k: v[sel] for k, v in g.items()}


def cv_rho(g, features, folds=5):
    """Spearman's rho of the out-of-fold expected error with the error (folds by pair)."""
    pairs = np.unique(g["pair"])
    folds = min(folds, len(pairs))
    fold_of = {p: i % folds for i, p in enumerate(pairs)}
    fold = np.array([fold_of[p] for p in g["pair"]])
    pred = np.empty(len(g["err"]))
    for k in range(folds):
        test = fold == k
        model = cm.fit(_subset(g, ~test), g["err"][~test], features)
        pred[test] = cm.model_error_ms(_subset(g, test), model)
    return spearman(pred, g["err"])


def select(g, log=print):
    """Forward selection of evidence by cross-validated rho on the tuning pairs."""
    candidates = [f for f in CANDIDATES if f in g]
    chosen, best = [], -np.inf
    while len(chosen) < MAX_FEATURES:
        # rho of the expected error with the error: higher is better
        scores = {f: cv_rho(g, chosen + [f]) for f in candidates if f not in chosen}
        if not scores:
            break
        f, score = max(scores.items(), key=lambda kv: kv[1])
        if score < best + 0.01:
            break
        chosen.append(f)
        best = score
        log(f"  - + {f}: cross-validated rho (expected error vs error) {score:.3f}")
    return chosen


def fit_all(tune, log=print):
    calibration = {}
    for name, g in sorted(tune.items()):
        log(f"- {name}: {len(g['err'])} steps, {len(np.unique(g['pair']))} pairs")
        feats = select(g, log)
        calibration[name] = dict(cm.fit(g, g["err"], feats),
                                 pairs=int(len(np.unique(g["pair"]))))
    return calibration


def predict(groups, calibration):
    """Per group: expected error per step (the raw agreement where no model)."""
    out = {}
    for name, g in groups.items():
        model = calibration.get(name)
        if model and all(f in g for f in model.get("features", cm._FEATURES_V1)):
            out[name] = cm.model_error_ms(g, model)
        else:
            out[name] = cm.expected_error_ms(g["raw"])
    return out


def report(groups, calibration, log=print):
    """Reliability, rank correlation, doubtful share and per-pair tables; the rows."""
    pred = predict(groups, calibration)
    names = sorted(groups)
    log("Reliability (steps binned by their expected error):\n")
    log("| group | expected error ms | steps | mean expected ms | measured mean ms "
        "| measured median ms | > 100 ms |")
    log("|---|---|---|---|---|---|---|")
    for name in names + ["all"]:
        e = np.concatenate([groups[n]["err"] for n in names]) if name == "all" \
            else groups[name]["err"]
        p = np.concatenate([pred[n] for n in names]) if name == "all" else pred[name]
        for lo, hi in zip(EDGES_MS[:-1], EDGES_MS[1:], strict=True):
            sel = (p >= lo) & (p < hi)
            if sel.any():
                log(f"| {name} | {lo:g}-{hi:g} | {int(sel.sum())} | {p[sel].mean():.0f} | "
                    f"{e[sel].mean():.0f} | {np.median(e[sel]):.0f} | "
                    f"{int((e[sel] > 100).sum())} |")
    rows = []
    for name in names + ["all"]:
        e = np.concatenate([groups[n]["err"] for n in names]) if name == "all" \
            else groups[name]["err"]
        p = np.concatenate([pred[n] for n in names]) if name == "all" else pred[name]
        raw = np.concatenate([groups[n]["raw"] for n in names]) if name == "all" \
            else groups[name]["raw"]
        rows.append(_row(name, p, raw, e))
    log("\n| group | steps | steps > 100 ms | rho | rho of the runs' own confidence | "
        "> 100 ms on doubtful | doubtful share of steps | mean expected ms | measured MAE ms |")
    log("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        log(f"| {r['group']} | {r['n']} | {r['big']} | {r['rho']:.2f} | {r['rho_raw']:.2f} | "
            f"{r['caught']:.0%} | {r['doubtful']:.0%} | {r['pred']:.0f} | {r['mae']:.0f} |")
    log("\nPer pair: mean expected error against the measured mean error (ms):\n")
    log("| pair | group | steps | mean expected | measured MAE | doubtful share | rho |")
    log("|---|---|---|---|---|---|---|")
    for name in names:
        g = groups[name]
        for pair in dict.fromkeys(g["pair"]):
            sel = g["pair"] == pair
            log(f"| {pair} | {name} | {int(sel.sum())} | {pred[name][sel].mean():.0f} | "
                f"{g['err'][sel].mean():.0f} | {np.mean(pred[name][sel] > 50):.0%} | "
                f"{spearman(cm.confidence_from_error(pred[name][sel]), g['err'][sel]):.2f} |")
    return rows


def _row(name, pred, raw, err):
    big = err > 100
    conf = cm.confidence_from_error(pred)
    return {"group": name, "n": int(len(err)), "big": int(big.sum()),
            "rho": spearman(conf, err), "rho_raw": spearman(raw, err),
            "caught": float(np.mean(conf[big] < LOW)) if big.any() else float("nan"),
            "doubtful": float(np.mean(conf < LOW)), "pred": float(pred.mean()),
            "mae": float(err.mean())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="/tmp/ai-generalize")
    parser.add_argument("--tag", required=True)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--model", default=None,
                        help="report this calibration file instead of fitting one")
    args = parser.parse_args(argv)
    print("# Confidence calibration report\n\nWritten by `benchmarks/accuracy/calibrate.py"
          f"{' --model ' + Path(args.model).name if args.model else ''}` from the runs of "
          "`generalize.py --json` (fitted on the tuning pairs only; the held-out pairs and "
          "../shared/data are never fitted on). Expected error = the model's; measured = "
          "the path's error at the ground-truth events (every B frame of a video pair).\n")
    tune = load(args.runs, "tune", args.tag)
    if args.model:
        calibration = json.loads(Path(args.model).read_text())
    else:
        calibration = fit_all(tune)
    print("Calibration:\n\n```\n" + json.dumps(calibration) + "\n```")
    for title, split, kinds in (("tuning pairs", "tune", KINDS),
                                ("held-out pairs", "heldout", KINDS),
                                ("../shared/data (final check)", "heldout", ("shared",))):
        groups = tune if split == "tune" else load(args.runs, split, args.tag, kinds)
        if groups:
            print(f"\n## {title}\n")
            report(groups, calibration)
    if args.write:
        path = REPO / "core" / "pipeline" / "calibration.json"
        path.write_text(json.dumps(calibration, indent=1) + "\n")
        print("written", path)


if __name__ == "__main__":
    main()
