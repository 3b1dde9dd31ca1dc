"""Where a monotone result seems not to follow B's order (issue 17; issue 16's confidence).

A monotone path cannot follow a section of B that is repeated, dropped or moved: over
that stretch it matches frames that do not belong together, yet the per-step confidence
(:mod:`core.pipeline.confidence`, which looks at the path's neighbourhood) often stays
high there. :func:`order_check` asks what ``structure="auto"`` asks before it switches to
pieces (:func:`core.structure.align_structure`), on the same costs
(:func:`core.structure.align._dp_costs`: about 10 frames per second, averaged along lines
over ±0.5 s, a typical match on the path 0, unrelated frames 1):

1. does the path's cost stay above ``_THRESHOLD`` (smoothed over ``_SMOOTH_S``) for at
   least ``_MIN_STRETCH_S`` of B (a repeat or a move) or of A (a section of A that B
   skips), inside the part the path aligns? Most pairs stop here: a few blocks of
   costs along the path;
2. if so, does the jump DP (:func:`core.structure.find_pieces`, with ``auto``'s
   settings) find a jump, and do its pieces leave the monotone path in such a stretch,
   putting at least ``_CONFIRM_S`` seconds of its B elsewhere on A (more than
   ``_FAR_S`` away, or to nothing) or skipping as many seconds of its A? A stretch of
   high cost alone does not tell (an unchanged chorale has one of 2.5-3 s while changed
   pairs have some of 1-3 s), nor does a jump alone (``auto``'s own rule: it found one
   on 24 of 149 unchanged pairs and copies, most of them at another tempo);
   ``benchmarks/structure/results.md``, "The monotone result's order check".

The stretches reported are those where the pieces leave the path for at least
``_MIN_STRETCH_S``.

:func:`with_order_check` puts what it found in ``diagnostics["order_check"]`` and raises
the expected error of the steps in those stretches to ``_ORDER_ERROR_MS`` (above every
calibration's doubtful threshold), so the window's red band, Next doubtful spot and the
batch's ``low_confidence_fraction`` see them. The path does not change.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MATERIALS", "high_cost_runs", "normalized_path_costs", "order_check",
           "stretches_text", "transposed_check", "warm_up", "with_order_check"]

_THRESHOLD = 0.5
_SMOOTH_S = 1.0
# auto's rule too (core.structure.align): a stretch this long and a jump
_MIN_STRETCH_S = 1.0
# stretches this close (seconds, on B or on A) are reported as one
_MERGE_S = 2.0
# the jump DP's match of a B frame counts as elsewhere this far from the path's (seconds)
_FAR_S = 2.0
# the check speaks when the jump DP's pieces put this many seconds of one stretch's B
# elsewhere on A (or skip as many of its A). A trade-off (results.md, "The monotone
# result's order check"): on fresh changed pairs 1 s found 36 of 36, 4 s 25, 6 s 11; on
# 149 unchanged pairs and copies 1 s alarmed on 15, 4 s on 6 (copies at 0.5-0.6x or 1.5x
# the tempo, generated pairs with tempo steps: the diagonal means blur), 6 s on 1
_CONFIRM_S = 4.0
# set to a list by a benchmark to receive every candidate stretch's evidence
RECORD = None
# the expected error given to the steps of a stretch: the tuning seeds' steps there had
# a mean error of about 6 s (results.md); 1 s is above every doubtful threshold
_ORDER_ERROR_MS = 1000.0
# materials whose costs the structure analysis knows (a video against an audio recording
# is matched on sparse peak trains, where a high cost says little)
MATERIALS = ("music", "speech", "other", "video")


def high_cost_runs(norm, rate_hz, threshold=_THRESHOLD, smooth_s=_SMOOTH_S):
    """Runs of frames over which ``norm`` (a normalized cost per frame at ``rate_hz``),
    smoothed over ``smooth_s`` seconds, stays above ``threshold``: a list of
    ``(start, end)`` frame indices, in order (end exclusive)."""
    from scipy.ndimage import uniform_filter1d

    norm = np.asarray(norm, dtype=np.float64)
    if norm.size == 0:
        return []
    width = max(1, int(round(smooth_s * rate_hz)))
    high = uniform_filter1d(norm, width, mode="nearest") > threshold
    edges = np.flatnonzero(np.diff(np.r_[0, high.astype(np.int8), 0]))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def normalized_path_costs(source, rates, material, result):
    """The path's cost per frame of B and of A on the structure analysis's scale.

    Parameters
    ----------
    source : core.warping.FeatureTerms
        The pipeline's local costs at ``rates`` (A rows, B columns), before any tempo
        normalization (``result``'s times are seconds of the recordings).
    rates : (float, float)
    material : str
    result : Alignment
        A monotone result of those recordings.

    Returns
    -------
    dict
        ``b`` and ``a`` (ndarray: normalized costs, one per frame at ``rate_b_hz`` /
        ``rate_a_hz``, NaN outside the part the path aligns), those rates, and for the
        jump DP: ``costs`` (the smoothed cost source), ``c_on``, ``c_off``, ``material``.

    Notes
    -----
    O(N + M) blocks of costs: the path's cells, and a few blocks of columns for the
    normalizer (:func:`core.structure.align._dp_costs`).
    """
    # imported here: align.py takes high_cost_runs from this module
    from .align import _dp_costs, _path_costs

    factor, _coarse, smoothed, cost_b, c_on, c_off = _dp_costs(source, rates, material,
                                                               result)
    ca, cb = rates[0] / factor, rates[1] / factor
    cost_a = _path_costs(result, smoothed, ca, cb, axis=0)
    span = max(c_off - c_on, 1e-9)
    t = result.times_s
    out = {"rate_a_hz": ca, "rate_b_hz": cb, "costs": smoothed, "c_on": c_on,
           "c_off": c_off, "material": material}
    for side, cost, rate, col in (("b", cost_b, cb, 1), ("a", cost_a, ca, 0)):
        norm = (cost - c_on) / span
        frames = np.arange(len(norm)) / rate
        norm[(frames < t[:, col].min()) | (frames > t[:, col].max())] = np.nan
        out[side] = norm
    return out


def _stretches(costs, result):
    """Step 1 of :func:`order_check`: the stretches of high cost, ``[b0, b1, a0, a1]``
    seconds each (a run on one side, the path's times on the other), in B's order,
    those within ``_MERGE_S`` of one another on either side merged."""
    found = []
    for side in ("b", "a"):
        norm = costs[side]
        rate = costs[f"rate_{side}_hz"]
        inside = np.flatnonzero(np.isfinite(norm))
        if inside.size == 0:
            continue
        first = int(inside[0])
        for s, e in high_cost_runs(norm[first:int(inside[-1]) + 1], rate):
            if (e - s) / rate < _MIN_STRETCH_S:
                continue
            s, e = (s + first) / rate, (e + first) / rate
            if side == "b":
                a0, a1 = (float(v) for v in result.map_b_to_a([s, e]))
                found.append([s, e, a0, a1])
            else:
                b0, b1 = (float(v) for v in result.map_a_to_b([s, e]))
                found.append([b0, b1, s, e])
    found.sort()
    merged = []
    for f in found:
        last = merged[-1] if merged else None
        if last is not None and (f[0] <= last[1] + _MERGE_S
                                 or (f[2] <= last[3] + _MERGE_S and f[3] >= last[2] - _MERGE_S)):
            last[:] = [min(last[0], f[0]), max(last[1], f[1]), min(last[2], f[2]),
                       max(last[3], f[3])]
        else:
            merged.append(list(f))
    return merged


def _pieces(costs):
    """Step 2 of :func:`order_check`: ``auto``'s jump DP on the same costs; its pieces
    as the A frame each B frame is matched to (-1: none), and the number of jumps."""
    from . import align

    rate = min(costs["rate_a_hz"], costs["rate_b_hz"])
    jump_s = align._JUMP_S_OF.get(costs["material"], align._JUMP_S)
    pieces, _match, _info = align.find_pieces(
        costs["costs"], rate, jump_s=jump_s, min_piece_s=align._MIN_PIECE_S,
        ends_w=align._ENDS_W, c_on=costs["c_on"], c_off=costs["c_off"])
    matched = np.full(len(costs["b"]), -1.0)
    for i0, i1, j0, j1 in pieces:
        matched[j0:j1 + 1] = np.linspace(i0, i1, j1 - j0 + 1)
    return matched, max(0, len(pieces) - 1)


def _evidence(stretch, matched, costs, result):
    """How far the jump DP's pieces leave the monotone path in a stretch
    ``[b0, b1, a0, a1]``: the share of its B frames they match more than ``_FAR_S``
    from the path's A time (or to nothing), the share of its A frames they match no B
    frame to, and the stretch's mean normalized cost on B."""
    b0, b1, a0, a1 = stretch
    ca, cb = costs["rate_a_hz"], costs["rate_b_hz"]
    cols = np.arange(int(np.floor(b0 * cb)), min(len(matched), int(np.ceil(b1 * cb)) + 1))
    far = None
    if len(cols):
        path_a = np.asarray(result.map_b_to_a(cols / cb), dtype=np.float64)
        got = matched[cols]
        far = float(np.mean((got < 0) | (np.abs(got / ca - path_a) > _FAR_S)))
    rows = np.arange(int(np.floor(a0 * ca)), int(np.ceil(a1 * ca)) + 1)
    hit = np.zeros(len(rows), dtype=bool)
    used = matched[matched >= 0]
    if len(rows) and used.size:
        hit = np.isin(rows, np.round(used).astype(np.int64))
    uncovered = float(np.mean(~hit)) if len(rows) else None
    norm = costs["b"][cols] if len(cols) else np.zeros(0)
    return {"b_len_s": round(b1 - b0, 2), "a_len_s": round(a1 - a0, 2),
            "far_share": None if far is None else round(far, 3),
            "uncovered_share": None if uncovered is None else round(uncovered, 3),
            "cost": round(float(np.nanmean(norm)), 3) if np.isfinite(norm).any() else None}


def order_check(costs, result):
    """Stretches where ``result`` seems not to follow B's order, or None.

    Parameters
    ----------
    costs : dict
        :func:`normalized_path_costs` of ``result``.
    result : Alignment

    Returns
    -------
    dict or None
        ``stretches``: a list of ``{"b_s": [start, end], "a_s": [start, end]}``
        (seconds, in B's order: where the path's cost was high on B, a repeat or a
        move, or on A, a section B skips; and the path's times on the other side; those
        within ``_MERGE_S`` merged), ``jumps_found`` (the
        jump DP's), ``message`` (one line), the check's ``threshold`` and
        ``min_stretch_s``. None without a stretch ``_MIN_STRETCH_S`` long, or when the
        jump DP finds no jump.

    Notes
    -----
    Step 1 reads O(N + M) cells; the DP of step 2 (O(NM) at 10 frames per second) runs
    only where step 1 found a stretch.
    """
    found = _stretches(costs, result)
    if not found:
        return None
    matched, jumps = _pieces(costs)
    evidence = [_evidence(f, matched, costs, result) for f in found]
    if RECORD is not None:
        RECORD.extend(dict(e, jumps=jumps, stretch=[round(v, 2) for v in f])
                      for e, f in zip(evidence, found, strict=True))
    # where the pieces leave the path: seconds of B they put elsewhere, of A they skip
    away = [max(e["b_len_s"] * (e["far_share"] or 0.0),
                e["a_len_s"] * (e["uncovered_share"] or 0.0)) for e in evidence]
    if not jumps or max(away) < _CONFIRM_S:
        return None
    found = [{"b_s": [round(b0, 2), round(b1, 2)], "a_s": [round(a0, 2), round(a1, 2)]}
             for (b0, b1, a0, a1), s in zip(found, away, strict=True) if s >= _MIN_STRETCH_S]
    return {"stretches": found, "jumps_found": jumps, "message": _message(found),
            "threshold": _THRESHOLD, "min_stretch_s": _MIN_STRETCH_S}


def _message(found):
    return (f"The order seems to differ near {stretches_text({'stretches': found}, ' and ')}"
            f": a monotone path cannot follow a section repeated, skipped or moved. "
            f"Try Run with structure.")


def stretches_text(check, sep="; ") -> str:
    """An order check's stretches on one line (``B 22.3-40.1 s (A 20.0-21.2 s); ...``);
    "" for None."""
    if not check:
        return ""
    return sep.join(f"B {f['b_s'][0]:.1f}-{f['b_s'][1]:.1f} s (A {f['a_s'][0]:.1f}-"
                    f"{f['a_s'][1]:.1f} s)" for f in check["stretches"])


def warm_up(source):
    """Compile (or load from the numba cache) the check's kernels on a tiny cost source
    (``source``: a few dozen frames a side): the smoothing along the diagonal and along
    speech's slopes, and the jump DP, which a first music, speech or video pair would
    otherwise compile inside its alignment."""
    from . import align

    smoothed = align._DiagonalMean(source, 2)
    align._DiagonalMean(source, 2, align._SLOPES["speech"]).costs(0, source.n, 0, source.m)
    align.find_pieces(smoothed, 10.0)


def transposed_check(check):
    """An order check seen with A and B exchanged (:meth:`core.Alignment.transposed`):
    each stretch's sides swapped, the message worded again, in the new B's order."""
    found = sorted(({"b_s": list(f["a_s"]), "a_s": list(f["b_s"])}
                    for f in check["stretches"]), key=lambda f: f["b_s"][0])
    return dict(check, stretches=found, message=_message(found))


def with_order_check(result, check):
    """``result`` with ``diagnostics["order_check"] = check`` and the steps inside its
    stretches doubtful (their expected error raised to at least ``_ORDER_ERROR_MS``);
    ``result`` itself when ``check`` is None. The path is the same."""
    from ..pipeline.confidence import confidence_from_error

    if check is None:
        return result
    t = result.times_s
    inside = np.zeros(len(t), dtype=bool)
    for f in check["stretches"]:
        (a0, a1), (b0, b1) = f["a_s"], f["b_s"]
        inside |= ((t[:, 1] >= b0) & (t[:, 1] <= b1)) | ((t[:, 0] >= a0) & (t[:, 0] <= a1))
    changes = {"diagnostics": dict(result.diagnostics, order_check=check)}
    if result.confidence is not None:
        confidence = np.array(result.confidence, dtype=np.float64)
        confidence[inside] = np.minimum(confidence[inside],
                                        confidence_from_error(_ORDER_ERROR_MS))
        changes["confidence"] = confidence
    return result.replace(**changes)
