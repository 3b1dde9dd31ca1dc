"""A confidence per path step that predicts the step's error.

Three kinds of evidence per step, at the pipeline's base rate:

- ``spread``: how far alternative paths (other steps, each feature alone) drift from the
  path (seconds; the engine's agreement confidence, :func:`core.warping._staged.
  agreement_confidence`, inverted);
- ``cost``: the path's local cost between the typical cost on the path (0) and of
  frames that do not match (1): high where the two recordings do not share the content;
- ``margin``: how much cheaper the path's cell is than the cheapest cell of its row at
  least ``_EXCLUDE_S`` away (in the same units): small or negative where another time is
  as good a match (a repeated chord, a still scene, a peak train with gaps).

The pipeline puts the model in its recipe (:func:`recipe_model`), so the engine applies
it to every segment it solves (:func:`apply_model`), a re-solve after an edit included.
A linear model per kind of material (``CALIBRATION``, fitted on generated tuning pairs
by ``benchmarks/accuracy/calibrate.py``, never on the held-out pairs or ../shared/data)
gives the expected absolute error ``E`` in ms; the confidence is ``exp(-E / E0)`` with
``E0 = 50 ms / ln 2``, so a confidence of 0.5 means an expected error of 50 ms and
:func:`expected_error_ms` turns a confidence back into the expected error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

__all__ = ["CALIBRATION", "apply_model", "confidence_from_error", "expected_error_ms",
           "recipe_model", "step_evidence"]

# confidence 0.5 <=> expected error 50 ms
_E0_MS = 50.0 / math.log(2.0)
_EXCLUDE_S = 0.15
_RADIUS_S = 1.0
_SMOOTH_S = 0.2
_FLOOR_MS = 10.0
_FEATURES = ("log_spread", "cost", "margin")
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
    """The calibration group of a material."""
    if material == "video":
        return "video"
    if material == "video-vs-audio":
        return "crossmodal"
    return "audio"


def expected_error_ms(confidence):
    """The expected absolute error (ms) of steps of this confidence."""
    c = np.clip(np.asarray(confidence, dtype=np.float64), 1e-12, 1.0)
    return -_E0_MS * np.log(c)


def confidence_from_error(error_ms):
    """The confidence that stands for an expected error (ms)."""
    return np.exp(-np.maximum(np.asarray(error_ms, dtype=np.float64), 0.0) / _E0_MS)


def step_evidence(base, path, raw_confidence, refine, radius, exclude, smooth, scale_s):
    """Per path step: ``log_spread``, ``cost``, ``margin`` (see the module docstring).

    ``base`` is the problem at the base rate (the full rate pooled by ``refine``),
    ``path`` the full-rate path, ``raw_confidence`` the engine's agreement confidence per
    step, ``scale_s`` its scale in seconds; ``radius``, ``exclude`` and ``smooth`` are
    base-rate frames (the row's window, the cells too near the path to be another
    match, the smoothing).
    """
    from scipy.ndimage import uniform_filter1d

    path = np.asarray(path)
    n_b, m_b = base.n, base.m
    rows = np.minimum(path[:, 0] // refine, n_b - 1)
    cols = np.minimum(path[:, 1] // refine, m_b - 1)
    total = np.bincount(rows, weights=cols, minlength=n_b)
    count = np.bincount(rows, minlength=n_b)
    present = count > 0
    mean_col = np.interp(np.arange(n_b), np.flatnonzero(present),
                         total[present] / count[present])
    col = np.clip(np.round(mean_col).astype(np.int64), 0, m_b - 1)
    radius, exclude = max(2, int(radius)), max(1, int(exclude))
    on = np.empty(n_b)
    alt = np.full(n_b, np.inf)
    off = []
    block = 256
    for r0 in range(0, n_b, block):
        r1 = min(n_b, r0 + block)
        c0 = max(0, int(col[r0:r1].min()) - radius)
        c1 = min(m_b, int(col[r0:r1].max()) + radius + 1)
        cost = base.costs(r0, r1, c0, c1)
        k = np.arange(r1 - r0)
        on[r0:r1] = cost[k, col[r0:r1] - c0]
        j = np.arange(c0, c1)[None, :]
        dist = np.abs(j - col[r0:r1, None])
        far = (dist > exclude) & (dist <= radius)
        alt[r0:r1] = np.where(far, cost, np.inf).min(axis=1)
        off.append(cost[far])
    c_on = float(np.median(on))
    offs = np.concatenate(off) if off else np.zeros(0)
    c_off = float(np.median(offs)) if offs.size else c_on + 1.0
    span = max(c_off - c_on, 1e-9)
    smooth = max(1, int(smooth))
    z = uniform_filter1d((on - c_on) / span, smooth, mode="nearest")
    alt = np.where(np.isfinite(alt), alt, c_off)
    margin = uniform_filter1d(np.clip((alt - on) / span, -1.0, 2.0), smooth, mode="nearest")
    c = np.clip(np.asarray(raw_confidence, dtype=np.float64), 1e-300, 1.0)
    spread = scale_s * np.sqrt(-np.log(c))
    return {"log_spread": np.log(spread + 0.01), "cost": z[rows], "margin": margin[rows]}


def model_error_ms(evidence, coef):
    """The expected error (ms) per step of a linear model ``coef`` of the evidence."""
    x = np.column_stack([np.ones_like(evidence[_FEATURES[0]])]
                        + [np.asarray(evidence[f], dtype=np.float64) for f in _FEATURES])
    log_e = x @ np.asarray(coef, dtype=np.float64)
    return np.maximum(np.exp(np.clip(log_e, -5.0, 12.0)) - _FLOOR_MS, 0.0)


def recipe_model(material, refine, base_rate, scale_s):
    """The calibration a recipe carries for the engine (``recipe["confidence"]["model"]``,
    applied per segment by :func:`apply_model`), or None without one."""
    group = group_of(material)
    model = CALIBRATION.get(group)
    if not model:
        return None
    return {"group": group, "coef": [float(v) for v in model["coef"]], "refine": int(refine),
            "radius": int(round(_RADIUS_S * base_rate)),
            "exclude": int(round(_EXCLUDE_S * base_rate)),
            "smooth": int(round(_SMOOTH_S * base_rate)), "scale_s": float(scale_s)}


def apply_model(base, path, raw_confidence, model):
    """The calibrated confidence per step of one segment (the engine calls this)."""
    ev = step_evidence(base, path, raw_confidence, model["refine"], model["radius"],
                       model["exclude"], model["smooth"], model["scale_s"])
    if RECORD is not None:
        RECORD.append({"group": model["group"], **{k: v.tolist() for k, v in ev.items()}})
    return confidence_from_error(model_error_ms(ev, model["coef"]))


def predicted_error_ms(evidence, group):
    """The calibrated expected error (ms) per step, or None without a calibration."""
    model = CALIBRATION.get(group)
    return model_error_ms(evidence, model["coef"]) if model else None


def fit(evidence_rows, errors_ms, *, balance=True):
    """Least-squares coefficients of log(error + floor) on the evidence (calibration).

    With ``balance``, steps with errors above 100 ms weigh as much in total as the others
    (they are rare, and the ones the confidence is for)."""
    err = np.asarray(errors_ms, dtype=np.float64)
    x = np.column_stack([np.ones(len(err))]
                        + [np.asarray(evidence_rows[f], dtype=np.float64) for f in _FEATURES])
    y = np.log(err + _FLOOR_MS)
    w = np.ones(len(err))
    big = err > 100.0
    if balance and 0 < big.sum() < len(err):
        w[big] = (~big).sum() / big.sum()
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
    return [float(v) for v in coef]
