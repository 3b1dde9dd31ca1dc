"""A confidence per path step that predicts the step's error.

Evidence per step (``EVIDENCE``), at the pipeline's base rate:

- ``log_spread``: how far alternative paths (other steps, each feature alone) drift
  from the path (log seconds; the engine's agreement confidence, :func:`core.warping.
  _staged.agreement_confidence`, inverted);
- ``cost``: the path's local cost between the typical cost on the path (0) and of
  frames that do not match (1): high where the two recordings do not share the content;
- ``margin``: how much cheaper the path's cell is than the cheapest cell of its row at
  least ``_EXCLUDE_S`` and at most ``_RADIUS_S`` away (in the same units): small or
  negative where another time of B is as good a match (a repeated chord, a still scene,
  a peak train with gaps); ``margin_b`` the same along the column (another time of A),
  ``margin_min`` the smaller of the two;
- ``contrast``: how much cheaper the path's cell is than the mean of its row within
  ``_RADIUS_S`` (a sharp valley or a flat one);
- ``sharp``: how much cheaper the path's cell is than the cheapest cell of its row at
  most ``_NEAR_S`` away (at least one frame): small or negative where the next frame
  is as good a match (a one-frame error of a video pair), ``sharp_b`` the same along
  the column, ``sharp_min`` the smaller of the two;
- ``slope``: how far the path's slope over ``_SMOOTH_S`` departs from its slope over
  ``2 * _RADIUS_S`` (|log| of the ratio): a path that jumps or stalls;
- ``*_rel``: spread, margins, contrast and ``sharp`` against their median over the
  segment (a pair whose every margin is small is not for that in doubt);
- ``ambiguity``: the share of the segment's steps where another time within
  ``_RADIUS_S`` (at least ``_EXCLUDE_S`` away, in the row or the column) is as cheap as
  the path's cell (``margin_min`` < 0): one value for the whole segment, the evidence of
  a pair that is off in many places at once (a bowed string's repeated chords, whose
  re-attacks neither side shows, let the path slip a note here and there: held-out
  bowed_piano_r1, 14 of the held-out audio pairs' 23 errors above 100 ms, shares 0.9
  where an easy pair shares 0.6), which no step's own evidence tells apart;
- ``stage_shift``: how far the engine's first stage (the search with the global
  weights, at the base rate) ran from the final path (log seconds, + 10 ms): where the
  local stages (the onsets of a repeated chord, a finer rate) moved the path, the first
  search saw another answer (0 without a later stage: a video pair).

A calibration per kind of material (``CALIBRATION``: video, crossmodal, audio (music),
speech (speech and other sounds; see :func:`_calibration_of`); fitted on
generated tuning pairs by ``benchmarks/accuracy/calibrate.py``, never on the held-out
pairs or ../shared/data) picks a few of these, combines them into a score (the
least-squares fit of log(error + 10 ms)) and maps the score to the mean error the
tuning steps of that score had (a monotone table, :func:`fit`): the expected absolute
error ``E`` in ms. The confidence is ``exp(-E / E0)`` with ``E0 = 50 ms / ln 2``, so a
confidence of 0.5 means an expected error of 50 ms and :func:`expected_error_ms` turns a
confidence back into the expected error. A step is doubtful above its calibration's
``doubtful_ms`` (:func:`doubtful_error_ms`; chosen on the tuning pairs so that the
doubtful steps hold 85 % of the errors above 100 ms, flagging at most 30 % of the steps:
a video pair's large errors are rare, so they sit on steps whose mean error is a few ms,
and its threshold is a few ms).

The pipeline puts the model in its recipe (:func:`recipe_model`), so the engine applies
it to every segment it solves (:func:`apply_model`), a re-solve after an edit included.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = ["CALIBRATION", "DOUBTFUL_MS", "apply_model", "confidence_from_error",
           "doubtful_confidence", "doubtful_error_ms", "expected_error_ms", "model_evidence",
           "needs_agreement", "recipe_model", "step_evidence"]

# confidence 0.5 <=> expected error 50 ms
_E0_MS = 50.0 / math.log(2.0)
_EXCLUDE_S = 0.15
_RADIUS_S = 1.0
_SMOOTH_S = 0.2
_NEAR_S = 0.05
_FLOOR_MS = 10.0
_TILT_MS = 0.5
#: a step is doubtful when its expected error is above this (ms), unless the calibration
#: of its material says another threshold (``doubtful_ms``, see :func:`doubtful_error_ms`)
DOUBTFUL_MS = 50.0
# evidence that is one value for the whole segment (the speech calibration leaves it out)
SEGMENT_EVIDENCE = ("ambiguity",)
# every kind of evidence step_evidence measures; a calibration uses some of them
EVIDENCE = ("log_spread", "cost", "margin", "margin_b", "margin_min", "contrast", "slope",
            "sharp", "sharp_b", "sharp_min", "log_spread_rel", "margin_rel",
            "margin_b_rel", "contrast_rel", "sharp_rel", "sharp_min_rel", "ambiguity",
            "stage_shift")
_FEATURES_V1 = ("log_spread", "cost", "margin")
# the evidence that needs the scan along B's columns (another time of A for a frame of
# B), and the evidence from the alternative paths' agreement: a model that uses neither
# is applied without measuring them (step_evidence, needs_agreement)
_COLUMN_EVIDENCE = frozenset({"margin_b", "margin_min", "sharp_b", "sharp_min",
                              "margin_b_rel", "sharp_min_rel", "ambiguity"})
_AGREEMENT_EVIDENCE = frozenset({"log_spread", "log_spread_rel"})
_FEATURES = EVIDENCE
# set to a list by a benchmark to receive every alignment's evidence
RECORD = None

_CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


def _load():
    try:
        return json.loads(_CALIBRATION_FILE.read_text())
    except (OSError, ValueError):
        return {}


CALIBRATION = _load()


def group_of(material):
    """The calibration group of a material (speech and other sounds: ``speech``, see
    :func:`_calibration_of`)."""
    if material == "video":
        return "video"
    if material == "video-vs-audio":
        return "crossmodal"
    if material in ("speech", "other"):
        return "speech"
    return "audio"


def _calibration_of(group):
    """The calibration of a group. ``speech`` (speech and other sounds) is fitted on the
    audio tuning pairs too, which are all music, without the segment-level evidence
    (``SEGMENT_EVIDENCE``): what a music segment's ambiguity says about its error (a
    repeated chord that lets the path slip a note) does not carry over (../shared/data:
    harvard1 0.97 with 7 ms error, harvard2 0.22 with 16 ms). A calibration without its
    own speech model gives the audio one."""
    model = CALIBRATION.get(group)
    if not model and group == "speech":
        model = CALIBRATION.get("audio")
    return model


def expected_error_ms(confidence):
    """The expected absolute error (ms) of steps of this confidence."""
    c = np.clip(np.asarray(confidence, dtype=np.float64), 1e-12, 1.0)
    return -_E0_MS * np.log(c)


def confidence_from_error(error_ms):
    """The confidence that stands for an expected error (ms)."""
    return np.exp(-np.maximum(np.asarray(error_ms, dtype=np.float64), 0.0) / _E0_MS)


def step_evidence(base, path, raw_confidence, refine, radius, exclude, smooth, scale_s,
                  stage_shift=None, *, evidence=None):
    """Per path step, the evidence of ``EVIDENCE`` (see the module docstring).

    ``base`` is the problem at the base rate (the full rate pooled by ``refine``),
    ``path`` the full-rate path, ``raw_confidence`` the engine's agreement confidence per
    step, ``scale_s`` its scale in seconds; ``radius``, ``exclude`` and ``smooth`` are
    base-rate frames (the row's window, the cells too near the path to be another
    match, the smoothing); ``stage_shift`` per step, full-rate frames between the first
    stage's path and this one (:func:`core.warping._staged.stage_shift`; None: 0).
    ``evidence``: the names wanted (default: all of ``EVIDENCE``); the scan along B's
    columns runs only for evidence that needs it, and ``raw_confidence`` may be None
    when no ``log_spread`` is wanted (each value is the same as when all are measured).

    Raises
    ------
    ValueError
        An unknown name in ``evidence``, or ``raw_confidence`` None while a
        ``log_spread`` is wanted.
    """
    from scipy.ndimage import uniform_filter1d

    wanted = set(EVIDENCE) if evidence is None else set(evidence)
    if not wanted <= set(EVIDENCE):
        raise ValueError(f"evidence: unknown {sorted(wanted - set(EVIDENCE))}, expected "
                         f"names of {EVIDENCE}")
    if raw_confidence is None and wanted & _AGREEMENT_EVIDENCE:
        raise ValueError("raw_confidence: needed for the evidence "
                         f"{sorted(wanted & _AGREEMENT_EVIDENCE)}")
    path = np.asarray(path)
    n_b, m_b = base.n, base.m
    rows = np.minimum(path[:, 0] // refine, n_b - 1)
    cols = np.minimum(path[:, 1] // refine, m_b - 1)
    radius, exclude = max(2, int(radius)), max(1, int(exclude))
    smooth = max(1, int(smooth))
    mean_col = _mean_other(rows, cols, n_b)
    col = np.clip(np.round(mean_col).astype(np.int64), 0, m_b - 1)
    row = np.clip(np.round(_mean_other(cols, rows, m_b)).astype(np.int64), 0, n_b - 1)
    near = max(1, int(round(exclude * _NEAR_S / _EXCLUDE_S)))
    on, alt, mean_near, offs, next_ = _scan(
        lambda r0, r1, c0, c1: base.costs(r0, r1, c0, c1), col, m_b, radius, exclude, near)
    column = bool(wanted & _COLUMN_EVIDENCE)
    if column:  # (as long again as the scan along the rows: only when some evidence needs it)
        on_c, alt_c, _, _, next_c = _scan(
            lambda c0, c1, r0, r1: base.costs(r0, r1, c0, c1).T, row, n_b, radius, exclude,
            near)
    c_on = float(np.median(on))
    c_off = float(np.median(offs)) if offs.size else c_on + 1.0
    span = max(c_off - c_on, 1e-9)

    def smoothed(v):
        return uniform_filter1d(v, smooth, mode="nearest")

    z = smoothed((on - c_on) / span)
    alt = np.where(np.isfinite(alt), alt, c_off)
    margin = smoothed(np.clip((alt - on) / span, -1.0, 2.0))
    contrast = smoothed(np.clip((mean_near - on) / span, -1.0, 2.0))
    next_ = np.where(np.isfinite(next_), next_, c_off)
    sharp = smoothed(np.clip((next_ - on) / span, -1.0, 2.0))
    # the path's slope over ``smooth`` frames against its slope over ``radius`` frames
    short = np.gradient(uniform_filter1d(mean_col, smooth, mode="nearest"))
    long_ = np.gradient(uniform_filter1d(mean_col, 2 * radius + 1, mode="nearest"))
    slope = np.abs(np.log((np.abs(short) + 0.1) / (np.abs(long_) + 0.1)))
    out = {}
    if raw_confidence is not None:
        c = np.clip(np.asarray(raw_confidence, dtype=np.float64), 1e-300, 1.0)
        out["log_spread"] = np.log(scale_s * np.sqrt(-np.log(c)) + 0.01)
    out.update({"cost": z[rows], "margin": margin[rows], "contrast": contrast[rows],
                "slope": slope[rows], "sharp": sharp[rows]})
    if column:
        alt_c = np.where(np.isfinite(alt_c), alt_c, c_off)
        margin_b = smoothed(np.clip((alt_c - on_c) / span, -1.0, 2.0))
        next_c = np.where(np.isfinite(next_c), next_c, c_off)
        sharp_b = smoothed(np.clip((next_c - on_c) / span, -1.0, 2.0))
        out.update({"margin_b": margin_b[cols],
                    "margin_min": np.minimum(margin[rows], margin_b[cols]),
                    "sharp_b": sharp_b[cols],
                    "sharp_min": np.minimum(sharp[rows], sharp_b[cols])})
    # the same against the segment's typical value (per-pair normalisation: material
    # whose every margin is small, a chorale's repeated chords, is not for that in doubt)
    for f in ("log_spread", "margin", "margin_b", "contrast", "sharp", "sharp_min"):
        if f in out:
            out[f + "_rel"] = out[f] - float(np.median(out[f]))
    # the segment as a whole: how often another match is as good as the path's
    if column:
        out["ambiguity"] = np.full(len(rows), float(np.mean(out["margin_min"] < 0.0)))
    # seconds per base-rate frame, from the row's window (radius = _RADIUS_S)
    frame_s = _RADIUS_S / radius
    shift = np.zeros(len(rows)) if stage_shift is None else \
        np.asarray(stage_shift, dtype=np.float64) / max(int(refine), 1) * frame_s
    out["stage_shift"] = np.log(uniform_filter1d(shift, smooth * max(int(refine), 1),
                                                 mode="nearest") + 0.01)
    return out if evidence is None else {k: v for k, v in out.items() if k in wanted}


def _mean_other(idx, other, n):
    """Per index 0..n-1 the mean of ``other`` over the steps at it (interpolated)."""
    total = np.bincount(idx, weights=other, minlength=n)
    count = np.bincount(idx, minlength=n)
    present = count > 0
    return np.interp(np.arange(n), np.flatnonzero(present), total[present] / count[present])


def _scan(costs, col, m, radius, exclude, near, block=256):
    """Along the rows of ``col`` (a column per row): the cost on it, the cheapest cost
    more than ``exclude`` and at most ``radius`` away, the mean within ``radius``, the
    costs off the path and the cheapest cost at most ``near`` away (not on it;
    ``costs(r0, r1, c0, c1)`` gives a block)."""
    n = col.shape[0]
    on = np.empty(n)
    alt = np.full(n, np.inf)
    mean = np.empty(n)
    nearest = np.full(n, np.inf)
    offsets = np.concatenate([np.arange(-near, 0), np.arange(1, near + 1)])
    off = []
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        c0 = max(0, int(col[r0:r1].min()) - radius)
        c1 = min(m, int(col[r0:r1].max()) + radius + 1)
        cost = costs(r0, r1, c0, c1)
        k = np.arange(r1 - r0)
        on[r0:r1] = cost[k, col[r0:r1] - c0]
        dist = np.abs(np.arange(c0, c1)[None, :] - col[r0:r1, None])
        far = (dist > exclude) & (dist <= radius)
        alt[r0:r1] = np.where(far, cost, np.inf).min(axis=1)
        within = dist <= radius
        mean[r0:r1] = np.where(within, cost, 0.0).sum(axis=1) / np.maximum(within.sum(axis=1), 1)
        # the few cells beside the path's, gathered (not a mask over the whole block)
        beside = col[r0:r1, None] - c0 + offsets[None, :]
        inside = (beside >= 0) & (beside < c1 - c0)
        picked = cost[k[:, None], np.clip(beside, 0, c1 - c0 - 1)]
        nearest[r0:r1] = np.where(inside, picked, np.inf).min(axis=1)
        off.append(cost[far])
    return on, alt, mean, np.concatenate(off) if off else np.zeros(0), nearest


def model_error_ms(evidence, model):
    """The expected error (ms) per step of a calibration ``model``: a score (linear in
    the model's evidence) mapped to the mean error through the monotone table the
    calibration measured (``knots``: score, mean error ms), linear in between."""
    feats = model.get("features", _FEATURES_V1)
    x = np.column_stack([np.ones_like(np.asarray(evidence[feats[0]], dtype=np.float64))]
                        + [np.asarray(evidence[f], dtype=np.float64) for f in feats])
    score = x @ np.asarray(model["coef"], dtype=np.float64)
    knots = model.get("knots")
    if not knots:  # the first calibration: exp of the score is the error + floor
        return np.maximum(np.exp(np.clip(score, -5.0, 12.0)) - _FLOOR_MS, 0.0)
    ks, ke = (np.asarray(k, dtype=np.float64) for k in knots)
    # a tiny rise with the score keeps the order of steps on a flat stretch of the table
    tilt = _TILT_MS * (np.clip(score, ks[0], ks[-1]) - ks[0]) / max(ks[-1] - ks[0], 1e-9)
    return np.interp(score, ks, ke) + tilt


def recipe_model(material, refine, base_rate, scale_s):
    """The calibration a recipe carries for the engine (``recipe["confidence"]["model"]``,
    applied per segment by :func:`apply_model`), or None without one."""
    group = group_of(material)
    model = _calibration_of(group)
    if not model:
        return None
    return {"group": group, "coef": [float(v) for v in model["coef"]],
            "doubtful_ms": float(model.get("doubtful_ms", DOUBTFUL_MS)),
            "features": list(model.get("features", _FEATURES_V1)),
            "knots": [[float(v) for v in k] for k in model.get("knots", [])],
            "refine": int(refine),
            "radius": int(round(_RADIUS_S * base_rate)),
            "exclude": int(round(_EXCLUDE_S * base_rate)),
            "smooth": int(round(_SMOOTH_S * base_rate)), "scale_s": float(scale_s)}


def doubtful_error_ms(alignment) -> float:
    """The expected error (ms) above which a step of ``alignment`` is doubtful: the
    threshold its calibration chose on the tuning pairs (the one that flags the steps
    holding 85 % of their errors above 100 ms, at most 30 % of the steps;
    a video pair's large errors sit on steps of a few ms), :data:`DOUBTFUL_MS` for a
    result without a calibrated model."""
    model = getattr(alignment, "params", None)
    for key in ("recipe", "confidence", "model"):
        model = model.get(key) if isinstance(model, Mapping) else None
    if isinstance(model, Mapping) and "doubtful_ms" in model:
        return float(model["doubtful_ms"])
    return DOUBTFUL_MS


def doubtful_confidence(alignment) -> float:
    """The confidence below which a step of ``alignment`` is doubtful (0.5 without a
    calibrated model: :func:`doubtful_error_ms` as a confidence)."""
    return float(confidence_from_error(doubtful_error_ms(alignment)))


def model_evidence(model):
    """The evidence :func:`apply_model` measures for ``model``: the kinds its calibration
    uses, every kind of ``EVIDENCE`` while a benchmark records it (``RECORD``)."""
    return EVIDENCE if RECORD is not None else tuple(model.get("features", _FEATURES_V1))


def needs_agreement(model) -> bool:
    """Whether :func:`apply_model` needs the engine's agreement confidence for ``model``
    (a ``log_spread``: the alternative paths' drift). Without it the engine skips the
    alternative solves (:func:`core.warping._staged.agreement_confidence`): the
    calibrated confidence is the same, the speech, music and video models use none."""
    return bool(_AGREEMENT_EVIDENCE & set(model_evidence(model)))


def apply_model(base, path, raw_confidence, model, stage_shift=None):
    """The calibrated confidence per step of one segment (the engine calls this;
    ``stage_shift``: see :func:`step_evidence`; ``raw_confidence`` may be None when
    :func:`needs_agreement` says the model does without it)."""
    ev = step_evidence(base, path, raw_confidence, model["refine"], model["radius"],
                       model["exclude"], model["smooth"], model["scale_s"], stage_shift,
                       evidence=model_evidence(model))
    if RECORD is not None:
        RECORD.append({"group": model["group"], **{k: v.tolist() for k, v in ev.items()}})
    return confidence_from_error(model_error_ms(ev, model))


def predicted_error_ms(evidence, group):
    """The calibrated expected error (ms) per step, or None without a calibration."""
    model = _calibration_of(group)
    return model_error_ms(evidence, model) if model else None


def _bin_edges(n, bins=None, min_steps=50):
    """Where to cut ``n`` steps sorted by score into bins: ``bins`` equal ones (about
    150 steps each, 4 to 48) below the top 10 %, finer ones above (5, 2.5, 1, 0.5 %, at
    least ``min_steps`` each), where the rare large errors gather."""
    if bins is None:
        bins = int(np.clip(n // 150, 4, 48))
    q = list(np.linspace(0.0, 0.9, bins + 1)[1:]) + [0.95, 0.975, 0.99, 0.995]
    edges = []
    for e in (int(round(v * n)) for v in q):
        if e - (edges[-1] if edges else 0) >= min_steps and n - e >= min_steps:
            edges.append(e)
    return edges


def fit(evidence, errors_ms, features=_FEATURES_V1, *, bins=None, floor_ms=_FLOOR_MS):
    """A calibration model of the evidence ``features`` (see :func:`model_error_ms`).

    The score is the least-squares fit of log(error + floor) on the evidence (every step
    weighs the same: the rare large errors get no extra weight, which biased the first
    calibration high); the table maps the score to the mean error measured in
    quantile bins of the score (:func:`_bin_edges`: finer in the top 10 %), pooled where
    needed so it never falls as the score rises (pool-adjacent-violators): a step's
    expected error is the mean error of the tuning steps with its score.
    """
    err = np.asarray(errors_ms, dtype=np.float64)
    x = np.column_stack([np.ones(len(err))]
                        + [np.asarray(evidence[f], dtype=np.float64) for f in features])
    coef, *_ = np.linalg.lstsq(x, np.log(err + floor_ms), rcond=None)
    score = x @ coef
    order = np.argsort(score, kind="stable")
    parts = [p for p in np.split(order, _bin_edges(len(err), bins)) if p.size]
    blocks = [[float(score[p].mean()), float(err[p].mean()), float(p.size)] for p in parts]
    merged = []
    for b in blocks:  # pool adjacent violators (weighted by steps)
        merged.append(b)
        while len(merged) > 1 and merged[-2][1] >= merged[-1][1]:
            (s0, e0, w0), (s1, e1, w1) = merged[-2], merged[-1]
            w = w0 + w1
            merged[-2:] = [[(s0 * w0 + s1 * w1) / w, (e0 * w0 + e1 * w1) / w, w]]
    if len(merged) == 1:  # no rise at all: one level, flat
        merged = [[float(score.min()), merged[0][1], 0.0],
                  [float(score.max()) + 1e-9, merged[0][1], 0.0]]
    return {"features": list(features), "coef": [float(v) for v in coef],
            "knots": [[b[0] for b in merged], [b[1] for b in merged]],
            "steps": int(len(err))}
