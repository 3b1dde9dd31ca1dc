"""Default alignment pipelines: from two recordings to an Alignment.

``align_recordings(rec_a, rec_b)`` does, in order:

1. **Material**: audio/audio pairs are classified from the content
   (:func:`classify_audio`: stability of the pitch spectrum, syllabic modulation,
   silences) as ``music``, ``speech`` or ``other``; video/video pairs are ``video``;
   a video against an audio recording is ``video-vs-audio``. Before that, audio sides
   lose mains hum and a strong steady noise floor, a side that lost its bass makes
   both sides' pitch features start above the shared band, and a side much more
   reverberant than the other loses its late reverberation while the other is put in
   a shorter room, the onset strength then weighing more
   (:mod:`~core.pipeline.conditions`); a music pair in two keys has B's
   pitch classes rolled into A's key (:mod:`.key`).
2. **Features and costs** per material (``_AUDIO_PLANS``, ``_VIDEO_PLAN``), a weighted
   sum of per-feature local distances (:class:`core.warping.FeatureTerms`, computed in the
   DTW kernels):

   - music: strongly compressed chroma (cosine) + 0.25 x DLNCO onsets (euclidean),
     base 50 Hz, refined at 100 Hz; the local stages (below) add 0.5 x a sharp DLNCO
     (plain 20 ms rises per pitch class), which sees a repeated note; where one side
     holds a low voice that the other lets decay (an organ's bass against a piano's),
     the first search adds 4 x the chroma's rises (euclidean, :mod:`.sustain`,
     ``diagnostics["held_low"]``), which do not see how long a note sounds; a side whose
     attacks are slow (wider onset-novelty peaks: a bowed string, a voice) has its
     features moved earlier by the lag the width predicts (:mod:`.attack`); where
     nothing was moved so, the path is moved afterwards by the lag it leaves between
     the two sides' onset peaks, when an attack difference explains it (an organ's
     ramp against a piano: step 4);
   - speech and other sounds: log-mel with the channel (per-band mean) and the level
     (per-frame mean) removed (cosine) + onset strength, base 50 Hz, refined at 200 Hz;
     speech adds 0.5 x each side's level above its quiet threshold (euclidean,
     :func:`.pauses.level_values`) where both sides' noise floors lie far below their
     speech: without it a pause's noise and a faint sound are alike;
   - video: rank-normalized grey thumbnails (cosine) at each file's frame rate, made
     after the crop and blur between the two copies are found
     (:func:`core.pipeline.video.match_crop`): one copy zoomed in, or softer (blurred,
     noisy, compressed), is compared with the same part at the same sharpness, both
     blurred a little more (a codec's sharpness changes from frame to frame);
   - video against audio: peak trains of motion energy and of onset strength
     (:func:`_peak_curve`) at the video's frame rate.
3. **Shared part** (:func:`~core.pipeline.overlap.find_overlap`): on a coarse cost
   matrix, a threshold-shifted open-begin/open-end DP finds extra material at either end
   (an intro, a missing ending); the path runs through the shared part only and
   ``diagnostics["aligned_part"]`` reports it. Its horizontal and vertical steps pay a
   penalty, so unrelated material cannot be strung along through scattered frames that
   happen to match (speech in the voice of the other side's speaker). The ends left out
   are listed in ``diagnostics["unshared"]``; those that are not silence are named, side
   and span, in ``diagnostics["warning"]`` and a :class:`core.PartialOverlapWarning`.
4. **Path**, planned here as a recipe and solved by the engine
   (:func:`core.warping.staged_dtw`), segment by segment between the anchors (if any):
   exact DTW with symmetric1 steps (diagonal moves favoured, unlike symmetric2, which
   lets the path slide along sustained notes and pauses), coarse-to-fine at the base
   rate (corridor 1 s, rows not dilated: a corridor dilated along rows too measured
   worse, 39.5 instead of 21.7 ms on music_p02), then refined at the full rate in a 0.1 s
   corridor. ``band_s`` adds a slanted Sakoe-Chiba band. Where a plan weighs features
   differently in the local stages (music), the path is first searched again at the base
   rate with those weights in a corridor of 0.5 s, widened to up to 1.5 s where the
   spectral shape is ambiguous (a chord struck again and again) and across the global
   path's straight runs longer than 1 s (the path stood on one frame of a side while
   the other moved on: the match may be that far off), and the refinement uses the same
   weights. A video pair without anchors then has its path solved again with
   jumps forward on A where B skipped frames, its ends open (B's first and last frames
   on their own A frames where A runs on past them: :func:`core.pipeline.video.with_skips`).
   A music pair without anchors (``feature="auto"``, features not moved for slow
   attacks) has its onsets found on a worker thread during the solve; the path's B
   index is then moved by whole frames where the onsets show a lag, or else where
   the two sides' attack ramps differ (:func:`_onset_correction`,
   ``params["onset_shift"]``, ``diagnostics["onset_lag"]``,
   ``diagnostics["attack_ramp"]``), without a second solve. A music pair (``"auto"``,
   no anchors) whose held-low check did not fire and whose path stands on one time of
   a side for more than 4 s while the other moves on (a held chord against the same
   chord decaying) is solved again with the chroma-change term in its first search,
   that path kept if it stands still less (``diagnostics["stall"]``,
   ``params["stall_change"]``). A speech pair without
   anchors has the path before the end of each pause one side makes longer re-timed at
   the speech's pace (:mod:`.pauses`, ``diagnostics["pauses"]``): the fluent side's
   glide into the next word belongs after the other side's pause.
5. **Confidence** per step (:mod:`core.pipeline.confidence`): the agreement of
   alternative paths (symmetric2 steps, each feature alone) in the coarse-to-fine
   search's corridor, the path's local cost and the margins to the next-best match in
   its row and column, against their median over the segment, the segment's ambiguity
   (its share of steps with another match as good) and how far the later stages moved
   the first search's path, turned into an expected error (the mean error of tuning
   steps with that evidence) by a model calibrated on generated tuning pairs (music;
   speech and other sounds without the ambiguity); confidence ``exp(-E / 72 ms)``
   (0.5 = 50 ms expected error). The model rides in the recipe, so the engine applies it
   to every segment, re-solves included; it measures only the evidence the model reads
   (the alternative paths are solved for the video-against-audio model alone).

The pipeline's matrix products (the mel filters, blocks of costs) run on the calling
thread alone (:func:`core._blas.one_blas_thread`): they are small, and one thread sums
them in one order, so the features' fingerprint does not depend on the core count.

The result is an engine result: it carries ``diagnostics["segments"]`` and the recipe
in ``params["recipe"]``, so :func:`core.warping.resolve` re-solves only the segments next
to a changed anchor, given the terms again (:func:`cost_source`).

``method="ctw"`` / ``"ot"`` run :func:`core.ctw` / :func:`core.ot` on the same features.
Measured on ../shared/data: ``benchmarks/accuracy/results.md``.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from .._blas import one_blas_thread
from .._progress import Monitor
from ..alignment import Alignment, unshared_warning
from ..alignment import _source_name as _file_name
from ..errors import PartialOverlapWarning
from ..media.recording import describe_recording
from ..warping import FeatureTerms, Term, staged_dtw
from .confidence import recipe_model
from .material import _pair_material, classify_audio
from .overlap import find_overlap, unshared_ends

__all__ = ["align_files", "align_recordings", "anchor_frames", "classify_audio",
           "cost_source", "rate_problem", "warm_up"]

METHODS = ("dtw", "ctw", "ot")
# frames per side above which "ot" works on pooled features (its plan is N x M)
_OT_MAX_FRAMES = 1500


# ---------------------------------------------------------------- material detection


_AUDIO_PLANS = {
    # material: [(feature, metric, weight, options)]
    # (dlnco first: chroma reuses its pitch energies)
    # (an optional fifth entry: the weight in the local stages, where it differs)
    # music: a sharper DLNCO (plain 20 ms rises, no memory, no neighbour-band maximum)
    # in the local stages only: a repeated note (the same pitches struck again) shows up
    # in its pitch classes even when the previous note still sounds; globally it would
    # also answer vibrato and beating, so there the SuperFlux-like DLNCO stays
    # (a sustained ensemble's side: its DLNCOs without the rises it keeps making, and
    # the onsets weigh less in the local stages, see _audio_terms and .ensemble)
    "music": [("dlnco", "euclidean", 0.25, {"compression": 1e5}),
              ("chroma", "cosine", 1.0, {}),
              ("dlnco", "euclidean", 0.0, {"compression": 1e5, "memory_s": 0.0,
                                           "band_max": 1}, 0.5)],
    "speech": [("logmel", "cosine", 1.0, {"n_mels": 40}), ("onset", "euclidean", 0.25, {})],
    "other": [("logmel", "cosine", 1.0, {"n_mels": 40}), ("onset", "euclidean", 0.5, {})],
}
# colour histograms suffer from tints and grading: thumbnails alone measure best
_VIDEO_PLAN = [("thumbnail", "cosine", 1.0, {})]
# audio: the path is found at the base rate, then refined at twice that rate in a
# corridor of this half-width around it
# (music: 100 Hz; speech and other sounds change faster and gain from 200 Hz)
_REFINE_FACTOR = {"music": 2, "speech": 4, "other": 4}
_REFINE_RADIUS_S = 0.1
# speech: the weight of each side's level above its quiet threshold (_level_terms)
_LEVEL_WEIGHT = 0.5
# local stages (a re-search at the base rate in a corridor of _LOCAL_RADIUS_S around the
# global path, and the refinement) may weigh the features differently: chroma finds the
# right region robustly, but cannot see a re-attack of the same pitch (repeated notes),
# where only the onsets of that pitch tell the events apart; the corridor widens up to
# _AMBIGUOUS_MAX_S where the spectral shape next to the path is within _AMBIGUOUS_TOL
_LOCAL_RADIUS_S = 0.5
_AMBIGUOUS_MAX_S = 1.5
_AMBIGUOUS_TOL = 0.02
# and around the global path's straight runs longer than _RUN_MIN_S (A moving on while
# B stands on one frame, or the reverse): the costs could not place the match along
# the run, so the right cells may lie as far away across it (a chord struck twice at
# the end, a decaying piano against a held organ: the global path stood on the organ's
# last frame for 1.9 s, 0.63 s from the second stroke, beyond the 0.5 s radius).
# Twice the radius: runs of 0.5-1 s are common where one side is much slower (a piano
# 1.65 x slower than a bowed string on a tuning pair), and widening there let the local
# weights pick another stroke of a repeated note
_RUN_MIN_S = 1.0
# music: a path standing on one time of a side longer than this (s) while the other moves
# on is solved again with the chroma-change term (_stall_retry). A held chord of strings
# against the same chord decaying on a piano (fresh samekind pair music_f04_lascia): the
# path stood 5.3 s on the piano's stroke, then ran through its decay and the melody over
# it (235.7 ms, events 3.7-4.6 s off). On 27 other music and realaudio pairs (samekind
# fresh and tuning sets, public) the longest such run was 0.2-2.6 s where the check had
# not fired (3.0 s on music_s01, where it had)
_STALL_S = 4.0
# the shared part: a video's copy may start or end a fraction of a second apart (no
# reverberation or fading note to allow for), so short trims count and get no margin
# (and video keeps the overlap search without its step penalty, as it was measured: a
# freeze is a vertical run the penalty would make dearer)
_OVERLAP_OPTIONS = {"video": {"min_skip_s": 0.2, "margin_s": 0.0, "step_share": 0.0}}
# half-width of the corridor around the coarse path at the base rate
_CORRIDOR_S = 1.0
# cells of the first (coarse) pass; above this the pass runs at a lower frame rate
_COARSE_CELLS = 3_000_000
_MAX_COARSE_FACTOR = 8
# confidence: exp(-(d / _CONFIDENCE_SCALE_S) ** 2) of the alternatives' mean distance d,
# smoothed over _CONFIDENCE_SMOOTH_S
_CONFIDENCE_SCALE_S = 0.05
_CONFIDENCE_SMOOTH_S = 0.2


def _prepare_audio(name, values):
    if name == "mfcc":  # drop the energy coefficient, remove the channel (speaker, mic)
        v = values[:, 1:].astype(np.float64)
        return (v - v.mean(axis=0)) / np.maximum(v.std(axis=0), 1e-9)
    if name == "logmel":  # remove the channel (per-band mean) and the level (per frame)
        v = values.astype(np.float64)
        v = v - v.mean(axis=0)
        return v - v.mean(axis=1, keepdims=True)
    if name == "onset":
        v = values.astype(np.float64)
        return v / max(float(np.percentile(v, 99)), 1e-12)
    return values


def rate_problem(rate_hz: float, rec_a, rec_b) -> str | None:
    """Why ``rate_hz`` is too high for a pair, or None: audio features are computed at up
    to ``max(_REFINE_FACTOR)`` times the rate (the refinement), which may not exceed a
    sample rate (a hop under one sample); video features exist at the frame rate only."""
    recs = [r for r in (rec_a, rec_b) if r is not None]
    refine = max(_REFINE_FACTOR.values())
    if any(r.kind == "video" for r in recs):
        limit = min(float(r.rate_hz) for r in recs if r.kind == "video")
        why = "the video's frame rate"
    else:
        limit = min((float(r.rate_hz) / refine for r in recs), default=math.inf)
        why = (f"audio features are refined at up to {refine} times the rate, which may "
               f"not exceed the sample rate")
    if rate_hz > limit:
        return f"{rate_hz:g} Hz is above what these recordings allow: at most {limit:g} Hz " \
               f"({why})"
    return None


def _check_args(method, feature, rate_hz, band_s, rec_a=None, rec_b=None):
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    if not isinstance(feature, str) or (feature != "auto" and not all(
            part.strip() for part in feature.split("+"))):
        raise ValueError(f"feature: expected 'auto' or feature names joined by '+', got "
                         f"{feature!r}")
    if rate_hz is not None:
        rate_hz = float(rate_hz)
        if not (math.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f"rate_hz: expected a positive frame rate, got {rate_hz}")
        problem = rate_problem(rate_hz, rec_a, rec_b)
        if problem:
            raise ValueError(f"rate_hz: {problem}")
    if band_s is not None:
        band_s = float(band_s)
        if not (math.isfinite(band_s) and band_s > 0):
            raise ValueError(f"band_s: expected a positive number of seconds, got {band_s}")
    return rate_hz, band_s


def _check_anchors_s(anchors_s):
    if anchors_s is None:
        return np.zeros((0, 2))
    try:
        a = np.asarray(anchors_s, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("anchors: expected (K, 2) pairs (time_a_s, time_b_s)") from None
    if a.size == 0:
        return np.zeros((0, 2))
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"anchors: expected (K, 2) pairs (time_a_s, time_b_s), got shape "
                         f"{a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("anchors: times must be finite and non-negative seconds")
    return a


def anchor_frames(anchors_s, rate_a_hz, rate_b_hz, n_a, n_b):
    """Anchors in seconds (pairs time_a_s, time_b_s) as cells of a result's frame grid:
    the nearest frames (within half a frame), clipped to the recordings.

    ``anchor_frames(times, al.rate_a_hz, al.rate_b_hz, al.n_a, al.n_b)`` gives the
    anchors :func:`core.warping.resolve` takes for a default alignment ``al``.
    """
    a = _check_anchors_s(anchors_s)
    i = np.clip(np.round(a[:, 0] * float(rate_a_hz)), 0, int(n_a) - 1)
    j = np.clip(np.round(a[:, 1] * float(rate_b_hz)), 0, int(n_b) - 1)
    return np.column_stack([i, j]).astype(np.int64)


def _plan_terms(rec_a, rec_b, feature, rate_hz, monitor, stall=False):
    """The features of a pair as terms, with the plan's weights and rates.

    Their matrix products run on the calling thread alone (:func:`core._blas.
    one_blas_thread`), here as in :func:`align_recordings`: a product sums in another
    order on more threads, and :func:`cost_source` must rebuild the very features an
    alignment was computed from (their fingerprint), whatever thread asks."""
    kinds = (rec_a.kind, rec_b.kind)
    with one_blas_thread():
        if kinds == ("audio", "audio"):
            return _audio_terms(rec_a, rec_b, feature, rate_hz, monitor, stall)
        if kinds == ("video", "video"):
            return _video_terms(rec_a, rec_b, feature, rate_hz, monitor)
        return _crossmodal_terms(rec_a, rec_b, feature, rate_hz, monitor)


#: frames this close to either end are left out of the content check: an analysis
#: window reaching past the end (zero padding) makes a constant signal change there
#: (measured: up to 0.13 s, music features at 8-16 kHz)
_CONTENT_EDGE_S = 0.25


def _check_content(terms, sources, content=None, rates=None) -> None:
    """Refuse a side whose features never change (silence, a constant offset, a still
    picture): every path through a constant side costs the same, so any result would be
    arbitrary. Frames within ``_CONTENT_EDGE_S`` of either end (at ``rates``, frames per
    second of A and B) are not looked at: a DC offset alone changes only where the
    analysis window meets the padding past the ends. ``content`` ({"a": arrays, "b":
    arrays}) replaces the terms' features where a plan's terms change whatever the
    recordings hold (the video-against-audio event map)."""
    if content is None:
        content = {"a": [t.x for t in terms], "b": [t.y for t in terms]}
    for side, rate in zip(("a", "b"), rates or (0.0, 0.0), strict=True):
        edge = math.ceil(_CONTENT_EDGE_S * rate)

        def inner(x, edge=edge):
            return x[edge:len(x) - edge] if len(x) > 2 * edge + 1 else x

        if all(len(x) == 0 or not np.any(np.ptp(inner(x), axis=0) > 1e-9)
               for x in content[side]):
            name = _file_name(sources, side)
            raise ValueError(f"{side.upper()} ({name}) does not change from start to end "
                             "(silence, a constant offset or a still picture): the two "
                             "recordings have nothing in common to align")


def _with_unshared(result, recordings, sources, *, warn=True):
    """``result`` with ``diagnostics["unshared"]``: the ends of either side it left out
    (:func:`~core.pipeline.overlap.unshared_ends`); where they are not silence, also
    ``diagnostics["warning"]`` and a :class:`core.PartialOverlapWarning` (shown in the
    window's status bar, printed by ``align``)."""
    part = result.diagnostics.get("aligned_part")
    extra = _unshared_info(part, recordings, sources, warn=warn, stacklevel=4)
    return result.replace(diagnostics=dict(result.diagnostics, **extra)) if extra else result


def _unshared_info(part, recordings, sources, *, warn=True, stacklevel=3) -> dict:
    """The diagnostics about the ends an alignment whose ``aligned_part`` is ``part``
    left out: ``{}``, or ``unshared`` and, where they are not silence, ``warning`` (with
    ``warn``, a :class:`core.PartialOverlapWarning` is raised with it). For
    :func:`_with_unshared` and for a result with jumps
    (:func:`core.structure.align_structure`)."""
    spans = unshared_ends(part, recordings) if part else []
    if not spans:
        return {}
    extra = {"unshared": spans}
    text = unshared_warning(spans, sources)
    if text is not None:
        extra["warning"] = text
        if warn:
            warnings.warn(text, PartialOverlapWarning, stacklevel=stacklevel)
    return extra


def align_recordings(rec_a, rec_b, *, method="dtw", feature="auto", rate_hz=None,
                     band_s=None, anchors=None, structure="monotone", progress=None,
                     cancel=None, _terms=None, _quiet_ends=False, _check_order=True):
    """Align two recordings with the default pipeline for their material.

    Parameters
    ----------
    rec_a, rec_b : core.media.Recording
        Audio or video recordings (A and B).
    method : {"dtw", "ctw", "ot"}
        ``"dtw"``: the full pipeline (overlap detection, coarse-to-fine DTW, refinement,
        confidence). ``"ctw"`` (:func:`core.ctw`) and ``"ot"`` (:func:`core.ot`) run on
        the same features at the base rate (OT on at most ~1500 frames per side).
    feature : str
        ``"auto"`` (choose from the content) or a feature name of
        :func:`core.compute_features` (several joined by ``"+"``), used for both.
    rate_hz : float, optional
        Feature rate (default: 50 Hz for audio, the frame rate for video).
    band_s : float, optional
        Radius in seconds of a slanted Sakoe-Chiba band (around the straight line from
        the start to the end of the aligned part) that the path must stay in; default:
        no band. Independently, the full-rate path is searched in a corridor of 1 s
        around the coarse path.
    anchors : array_like, shape (K, 2), optional
        Pairs ``(time_a_s, time_b_s)`` the path must pass through (each within one frame
        at the result's rate: the nearest cell). The segments between anchors are solved
        independently, every stage included, so an anchor changes only the segment it
        falls in; an anchor outside the detected shared part stretches it. ``"dtw"``
        only.
    structure : {"monotone", "auto", "pieces"}
        ``"monotone"`` (default): one monotone path, as described here. ``"auto"``: the
        same unless the order of the recordings differs (a section repeated, skipped or
        moved), then a :class:`core.structure.PiecewiseAlignment`; ``"pieces"``: always
        pieces (:func:`core.structure.align_structure`).
    progress, cancel : callables, optional

    Returns
    -------
    Alignment
        ``sources`` describes both files (path, kind, duration, rate, sha256);
        ``diagnostics`` holds the material, features, weights, rates, timings and the
        engine's ``segments``; ``params`` the arguments and the engine's recipe;
        ``confidence`` one value per path step.

    Raises
    ------
    ValueError
        Bad arguments (naming the argument).
    core.AlignmentError
        When the band and the anchors admit no path.
    core.Cancelled
        When ``cancel()`` returns True.
    """
    if structure != "monotone":
        from ..structure import align_structure

        return align_structure(rec_a, rec_b, structure=structure, method=method,
                               feature=feature, rate_hz=rate_hz, band_s=band_s,
                               anchors=anchors, progress=progress, cancel=cancel)
    with one_blas_thread():  # small products: see core._blas
        return _align_monotone(rec_a, rec_b, method, feature, rate_hz, band_s, anchors,
                               progress, cancel, _terms, _quiet_ends, _check_order)


def _align_monotone(rec_a, rec_b, method, feature, rate_hz, band_s, anchors, progress,
                    cancel, _terms, quiet_ends=False, check_order=True, stall=False):
    """:func:`align_recordings` with ``structure="monotone"`` (``quiet_ends``: the
    warning about unshared ends is left in the diagnostics, not raised: for
    :func:`core.structure.align_structure`, whose result may have other ends;
    ``check_order`` False: no order check, :func:`core.structure.align_structure` makes
    its own decision)."""
    t0 = time.perf_counter()
    rate_hz, band_s = _check_args(method, feature, rate_hz, band_s, rec_a, rec_b)
    anchors_s = _check_anchors_s(anchors)
    if anchors_s.shape[0] and method != "dtw":
        raise ValueError(f"anchors: only method 'dtw' takes anchors, not {method!r}")
    monitor = Monitor(progress, cancel)
    diag = {}
    sources = {"a": describe_recording(rec_a), "b": describe_recording(rec_b)}
    if _terms is None:
        terms, weights, local, rates, info = _plan_terms(rec_a, rec_b, feature, rate_hz,
                                                         monitor.sub(0.0, 0.5), stall)
    else:  # already planned (core.structure): the same result, features computed once
        terms, weights, local, rates, info = _terms
    refine = int(info.pop("refine_factor", 1))
    detect_overlap = info.pop("detect_overlap", True)
    content = info.pop("content", None)
    novelty = info.pop("_novelty", None)
    slow_side = info.pop("_slow_side", None)
    signals = info.pop("_signals", None)
    diag.update(info)
    _check_content(terms, sources, content, rates)
    source = FeatureTerms(terms, weights)
    planned = (source, rates)  # the order check's costs: before any tempo normalization
    params = {"method": method, "feature": feature, "rate_hz": rate_hz, "band_s": band_s}
    if stall:
        params["stall_change"] = True  # (cost_source adds the same term)
    if method != "dtw":
        return _align_other(method, source, rates, refine, diag, sources, params,
                            monitor.sub(0.5, 1.0), t0)
    n_full, m_full = source.n, source.m
    base = source.pooled(refine)
    base_rate = min(rates) / refine
    if detect_overlap:
        (i0, i1, j0, j1), odiag = find_overlap(base, monitor.sub(0.5, 0.6), rate=base_rate,
                                               **_OVERLAP_OPTIONS.get(diag["material"], {}))
    else:
        (i0, i1, j0, j1), odiag = (0, base.n - 1, 0, base.m - 1), {"trimmed": False}
    diag["overlap"] = odiag
    part = [i0 * refine, min(n_full - 1, (i1 + 1) * refine - 1),
            j0 * refine, min(m_full - 1, (j1 + 1) * refine - 1)]
    if diag["material"] in _AUDIO_PLANS:  # one side much slower: its partner sampled oftener
        terms, rates, source, part = _tempo_normalized(terms, source, rates, part, diag,
                                                       params, slow_side)
        n_full, m_full = source.n, source.m
        base = source.pooled(refine)
    recipe = _recipe(weights, local, refine, base_rate, min(rates), source)
    recipe["part"] = part
    if band_s is not None:
        band = max(1, int(round(band_s * base_rate)))
        diag["band_frames"] = band  # at the base rate
        recipe["window"] = ["slanted_band", band * refine]
    diag["corridor_radius_frames"] = int(round(_CORRIDOR_S * base_rate))
    if len(recipe["stages"]) > 1 and recipe["stages"][1]["factor"] == refine:
        diag["local_search"] = {"radius_s": _LOCAL_RADIUS_S,
                                "weights": [w for w in local if w > 0]}
    if refine > 1:
        diag["refinement"] = {"rate_hz": min(rates), "radius_s": _REFINE_RADIUS_S,
                              "base_rate_hz": base_rate}
    frames = anchor_frames(anchors_s, rates[0], rates[1], n_full, m_full)
    model = recipe_model(diag.get("material"), refine, base_rate, _CONFIDENCE_SCALE_S)
    if model is not None:
        recipe["confidence"]["model"] = model
        diag["confidence_model"] = {"calibrated": True, "group": model["group"]}
    onsets = None if frames.shape[0] else _start_onsets(rec_a, rec_b, feature, diag,
                                                              novelty)
    result = staged_dtw(source, recipe, anchors=frames, rate_a_hz=rates[0],
                        rate_b_hz=rates[1], params=params, diagnostics=diag, sources=sources,
                        progress=monitor.sub(0.6, 1.0).report, cancel=monitor.check,
                        _t0=t0)
    if signals is not None and not frames.shape[0]:
        result = _pause_placement(result, signals, t0)
    if onsets is not None:
        result = _onset_correction(result, onsets.result(), terms, weights, t0)
    if diag.get("material") == "video" and not frames.shape[0]:
        from .video import with_skips  # B skipped frames of A: jumps on A

        result = with_skips(result, source)
    if diag.get("material") == "video-vs-audio":
        from .crossmodal import with_unmatched_ends

        result = with_unmatched_ends(result)
    if odiag.get("trimmed"):
        result = _with_unshared(result, (rec_a, rec_b), sources, warn=not quiet_ends)
    if check_order:
        monitor.check()
        result = _with_order_check(result, *planned)
    if (not stall and _terms is None and feature == "auto" and not frames.shape[0]
            and diag.get("material") == "music"
            and not diag.get("held_low", {}).get("applied", True)):
        result = _stall_retry(result, lambda: _align_monotone(
            rec_a, rec_b, method, feature, rate_hz, band_s, anchors, progress, cancel,
            _terms, quiet_ends, check_order, stall=True))
    return result


def longest_run_s(times_s) -> float:
    """The longest straight run of a path ``times_s`` (K, 2) in seconds: one side
    standing on one time while the other moves on (either side)."""
    t = np.asarray(times_s, dtype=np.float64)
    best = 0.0
    for still in (0, 1):
        if t.shape[0] < 2:
            break
        change = np.flatnonzero(np.diff(t[:, still]) != 0) + 1
        starts = np.concatenate([[0], change])
        ends = np.concatenate([change - 1, [t.shape[0] - 1]])
        moved = t[ends, 1 - still] - t[starts, 1 - still]
        best = max(best, float(moved.max()))
    return best


def _stall_retry(result, solve_again):
    """Music: where the path stands on one time of a side for more than ``_STALL_S``
    while the other moves on, and the held-low check did not fire, the pair is solved
    again with the chroma-change term in the first search (:mod:`.sustain`), and that
    path kept when its longest run is shorter. ``diagnostics["stall"]`` says so."""
    run = longest_run_s(result.times_s)
    if run <= _STALL_S:
        return result
    again = solve_again()
    run_again = longest_run_s(again.times_s)
    kept = run_again < run
    info = {"run_s": round(run, 2), "run_s_again": round(run_again, 2), "kept": kept}
    chosen = again if kept else result
    return chosen.replace(diagnostics=dict(chosen.diagnostics, stall=info))


def _with_order_check(result, source, rates):
    """``result`` with the structure analysis's order check (:mod:`core.structure.order`:
    ``diagnostics["order_check"]`` and the steps of a stretch whose order seems to
    differ made doubtful), for the materials it knows; the path is the same."""
    from ..structure import order

    material = result.diagnostics.get("material")
    if material not in order.MATERIALS:
        return result
    costs = order.normalized_path_costs(source, rates, material, result)
    return order.with_order_check(result, order.order_check(costs, result))


def _tempo_normalized(terms, source, rates, part, diag, params, slow_side=None):
    """Where the shared part ``part`` (full-rate frames ``[i0, i1, j0, j1]``) is much
    longer on one side, the other side's ``terms`` (``source``'s, as planned) sampled
    oftener (:mod:`.tempo`), and the longer side's features with time constants computed
    again with those stretched as much (``slow_side``: the plan's, see
    :func:`_tempo_terms`); returns ``(terms, rates, source, part)``, the part on the new
    grid (the same four where nothing changes). The plan goes to
    ``params["tempo"]`` (for :func:`cost_source`) and ``diagnostics["tempo"]``."""
    from .tempo import tempo_plan

    i0, i1, j0, j1 = part
    plan = tempo_plan((i1 - i0 + 1) / rates[0], (j1 - j0 + 1) / rates[1])
    if plan is None:
        return terms, rates, source, part
    terms, new_rates, stretched = _tempo_terms(terms, rates, plan, slow_side)
    source = FeatureTerms(terms, source.weights)
    k, n = (0, source.n) if plan["side"] == "a" else (2, source.m)
    factor = float(plan["factor"])
    part = list(part)
    part[k] = min(n - 1, int(round(part[k] * factor)))
    part[k + 1] = min(n - 1, max(part[k], int(round((part[k + 1] + 1) * factor)) - 1))
    params["tempo"] = dict(plan)
    diag["tempo"] = dict(plan, rates_hz=[float(r) for r in new_rates], stretched=stretched)
    return terms, new_rates, source, part


def _tempo_terms(terms, rates, plan, slow_side=None):
    """:func:`.tempo.tempo_terms` of a plan, after the longer side's terms that
    ``slow_side(side, factor)`` (a plan's ``info["_slow_side"]``, or None) computes
    again with their time constants stretched by the factor: a DLNCO rises, decays and
    spreads over fixed times, so on a side played twice as slowly its peaks are half as
    high and as wide in seconds as the faster side's once that side is sampled twice as
    often (Vibe Ace at 0.5x: 44.8 -> 26.8 ms). Returns ``(terms, rates, names)``, the
    names of the terms computed again (sorted, each once)."""
    from .tempo import tempo_terms

    values = {}
    if slow_side is not None:
        side = "b" if plan["side"] == "a" else "a"
        key = "y" if side == "b" else "x"
        values = slow_side(side, float(plan["factor"]))
        terms = [t._replace(**{key: values[k].astype(getattr(t, key).dtype, copy=False)})
                 if k in values else t for k, t in enumerate(terms)]
    terms, rates = tempo_terms(terms, rates, plan)
    return terms, rates, sorted({terms[k].name for k in values})


def _recipe(weights, local, refine, base_rate, full_rate, source):
    """The engine's stages for a plan (see :mod:`core.warping._staged`)."""
    weights, local = [float(w) for w in weights], [float(w) for w in local]
    stages = [{"kind": "search", "factor": refine, "weights": weights, "steps": "symmetric1",
               "radius": int(round(_CORRIDOR_S * base_rate)),
               "max_factor": _MAX_COARSE_FACTOR, "max_cells": _COARSE_CELLS}]
    if local != weights:
        # the spectral shape (the cosine terms of the global search, weights normalized)
        # tells where the path is ambiguous
        shape = [w if t.metric == "cosine" else 0.0
                 for t, w in zip(source.terms, weights, strict=True)]
        total = sum(shape)
        stage = {"kind": "around", "factor": refine, "weights": local, "steps": "symmetric1",
                 "radius": int(round(_LOCAL_RADIUS_S * base_rate))}
        if total > 0:
            stage["widen"] = {"radius": int(round(_AMBIGUOUS_MAX_S * base_rate)),
                              "tol": _AMBIGUOUS_TOL, "weights": [w / total for w in shape],
                              "runs": int(round(_RUN_MIN_S * base_rate))}
        stages.append(stage)
    if refine > 1:
        stages.append({"kind": "around", "factor": 1, "weights": local,
                       "steps": "symmetric1", "radius": int(round(_REFINE_RADIUS_S * full_rate))})
    return {"stages": stages,
            "confidence": {"stage": 0, "steps": "symmetric2",
                           "scale": _CONFIDENCE_SCALE_S * base_rate,
                           "smooth": max(1, int(round(_CONFIDENCE_SMOOTH_S * base_rate)))}}


def cost_source(rec_a, rec_b, previous, *, progress=None, cancel=None) -> FeatureTerms:
    """The terms a default alignment was computed from, rebuilt from the two recordings,
    for :func:`core.warping.resolve`.

    Parameters
    ----------
    rec_a, rec_b : core.media.Recording
        The recordings, in ``previous``'s order (after :meth:`Alignment.transposed`, the
        other way round).
    previous : Alignment
        A result of :func:`align_recordings` (or of a re-solve of one).

    Returns
    -------
    FeatureTerms
        At ``previous``'s frame rates; compute it once and give it to every re-solve.

    Raises
    ------
    ValueError
        When ``previous`` is not a default DTW alignment, or the recordings are not the
        ones it was computed from (the features' fingerprint differs).
    """
    params = previous.params
    if previous.method != "dtw" or "recipe" not in params or "feature" not in params:
        raise ValueError("previous: expected a default DTW alignment (core.align_files)")
    flipped = bool(params.get("transposed"))
    ra, rb = (rec_b, rec_a) if flipped else (rec_a, rec_b)
    terms, weights, _, rates, info = _plan_terms(ra, rb, params["feature"],
                                                 params["rate_hz"], Monitor(progress, cancel),
                                                 bool(params.get("stall_change")))
    if params.get("tempo"):  # one side's features were sampled oftener (a slower partner)
        with one_blas_thread():  # as the plan computed them (see _plan_terms)
            terms, _, _ = _tempo_terms(terms, rates, params["tempo"],
                                       info.get("_slow_side"))
    if params.get("onset_shift"):  # the path was moved by the onset lag: move B as much
        from .attack import shift_terms

        terms = shift_terms(terms, params["onset_shift"])
    source = FeatureTerms(terms, weights)
    expected = previous.transposed() if flipped else previous
    if source.describe() != [dict(t) for t in params["terms"]] \
            or source.fingerprint() != expected.diagnostics.get("input_fingerprint"):
        raise ValueError("rec_a, rec_b: not the recordings previous was computed from")
    return source.transposed() if flipped else source


def _stacked(source):
    """One (T, D) array per side: every weighted term's features scaled by sqrt(weight)
    (cosine terms unit-normalized), so squared euclidean distances add up like the
    weighted cost."""
    used = [(t, w) for t, w in zip(source.terms, source.weights, strict=True) if w > 0]
    return (np.hstack([np.sqrt(w) * t.x for t, w in used]),
            np.hstack([np.sqrt(w) * t.y for t, w in used]))


def _align_other(method, source, rates, refine, diag, sources, params, monitor, t0):
    """CTW or optimal transport on the pipeline's features (at the base rate)."""
    from .. import canonical, transport

    base = source.pooled(refine)
    rate_a, rate_b = rates[0] / refine, rates[1] / refine
    if method == "ot":
        factor = max(1, int(math.ceil(max(base.n, base.m) / _OT_MAX_FRAMES)))
        if factor > 1:
            base = base.pooled(factor)
            rate_a, rate_b = rate_a / factor, rate_b / factor
    x, y = _stacked(base)
    if method == "ctw":
        result = canonical.ctw(x, y, rate_a_hz=rate_a, rate_b_hz=rate_b,
                               progress=monitor.report, cancel=monitor.check)
    else:
        result = transport.ot(x, y, rate_a_hz=rate_a, rate_b_hz=rate_b,
                              progress=monitor.report, cancel=monitor.check)
    diag = dict(diag, **{f"{method}_diagnostics": dict(result.diagnostics),
                         "elapsed_s": round(time.perf_counter() - t0, 3),
                         "feature_rates_hz": [rate_a, rate_b]})
    return result.replace(diagnostics=diag, sources=sources,
                          params=dict(params, **dict(result.params)))


def _feature_list(feature, plan):
    if feature == "auto":
        return plan
    names = [s.strip() for s in feature.split("+") if s.strip()]
    out = []
    for name in names:
        match = [p for p in plan if p[0] == name]
        metric = "euclidean" if name in ("onset", "dlnco", "motion") else "cosine"
        out.append(match[0] if match else (name, metric, 1.0, {}))
    return out


def _audio_terms(rec_a, rec_b, feature, rate_hz, monitor, stall=False):
    from ..features import AUDIO_FEATURES, audio_features

    base_rate = 50.0 if rate_hz is None else rate_hz
    xa = rec_a.audio(mono=True)
    xb = rec_b.audio(mono=True)
    monitor.check()
    from .band import band_options
    from .clipping import clip_options
    from .conditions import prepare_sides  # hum, strong noise, a lost band, reverb, clipping

    classified = {}  # side: (signal, its classify_audio), for a signal classified twice

    def classify(side, x):
        if side not in classified or classified[side][0] is not x:
            classified[side] = (x, classify_audio(x, (rec_a, rec_b)[side == "b"].rate_hz))
        return classified[side][1]

    def pair_material(xa, xb):  # a side may be reverberant: music keeps its decays
        return _pair_material(classify("a", xa)[1], classify("b", xb)[1])

    xa, xb, band, conditions = prepare_sides(xa, rec_a.rate_hz, xb, rec_b.rate_hz,
                                             material=pair_material)
    # (the signals pair_material was asked about, unless the room was taken out)
    kind_a, stats_a = classify("a", xa)
    kind_b, stats_b = classify("b", xb)
    material = _pair_material(stats_a, stats_b)
    clicks = None
    if material == "music":  # a knock louder than the music is no note (:mod:`.clicks`)
        xa, xb, clicks = _without_clicks(xa, rec_a.rate_hz, xb, rec_b.rate_hz)
    refine = _REFINE_FACTOR[material]
    rate = base_rate * refine
    common_fmax = 0.5 * min(float(rec_a.rate_hz), float(rec_b.rate_hz))
    plan = _feature_list(feature, _AUDIO_PLANS[material])
    if feature == "auto" and conditions["reverb"]["applied"]:
        from .reverb import reverb_plan

        plan = reverb_plan(plan)
    for name, *_ in plan:
        if name not in AUDIO_FEATURES:
            raise ValueError(f"feature: expected 'auto' or audio features {AUDIO_FEATURES}, "
                             f"got {feature!r}")
    terms, weights, locals_ = [], [], []
    used = []
    from . import ensemble

    shares, sustained = None, None  # music: a sustained ensemble's side (.ensemble)
    term_options = []  # each term's name and options per side, for _slow_side
    for k, (name, metric, weight, options, *local) in enumerate(plan):
        local_weight = local[0] if local else weight
        if weight <= 0 and local_weight <= 0:
            continue
        sub = monitor.sub(k / len(plan), (k + 1) / len(plan))
        if name in ("logmel", "mfcc", "onset") and "fmax" not in options:
            # the same bands on both sides even when the sample rates differ
            default_fmax = 8000.0 if name == "mfcc" else common_fmax
            options = dict(options, fmax=min(common_fmax, default_fmax))
        if band is not None:
            options = band_options(name, options, band)
        # a clipped side's chroma leaves its distortion out (:mod:`.clipping`)
        options_a, options_b = (clip_options(name, options, conditions["clipping"][side]
                                             ["share"]) for side in "ab")
        fa = audio_features(xa, rec_a.rate_hz, name, rate_hz=rate,
                            progress=sub.sub(0.0, 0.5).report, **options_a)
        fb = audio_features(xb, rec_b.rate_hz, name, rate_hz=rate,
                            progress=sub.sub(0.5, 1.0).report, **options_b)
        if name == "dlnco" and material == "music" and feature == "auto":
            if sustained is None:  # read on the first DLNCO, as planned
                shares = [ensemble.onset_floor_share(f.values) for f in (fa, fb)]
                sustained = [ensemble.is_sustained(v) for v in shares]
            # a sustained side's DLNCO without the rises it keeps making
            if sustained[0]:
                options_a = dict(options_a, floor_s=ensemble.FLOOR_S)
                fa = audio_features(xa, rec_a.rate_hz, name, rate_hz=rate, **options_a)
            if sustained[1]:
                options_b = dict(options_b, floor_s=ensemble.FLOOR_S)
                fb = audio_features(xb, rec_b.rate_hz, name, rate_hz=rate, **options_b)
            if any(sustained):  # and the onsets weigh less in the local stages
                local_weight *= ensemble.LOCAL_ONSET_SHARE
        terms.append(Term(name, _prepare_audio(name, fa.values),
                          _prepare_audio(name, fb.values), metric, _pool_of(metric)))
        term_options.append((name, {"a": options_a, "b": options_b}))
        weights.append(weight)
        locals_.append(local_weight)
        used.append({"name": name, "metric": metric, "weight": weight,
                     "local_weight": local_weight,
                     "params_a": dict(fa.params), "params_b": dict(fb.params)})
    level, levels = {"applied": False}, (None, None)
    if material == "speech" and feature == "auto":
        terms, weights, locals_, level, levels = _level_terms(
            terms, weights, locals_, used, (xa, xb), (rec_a, rec_b), rate)
    info = {"material": material, "material_a": kind_a, "material_b": kind_b,
            "level": level,
            "material_stats": {"a": stats_a, "b": stats_b}, "features": used,
            "rate_hz": rate, "base_rate_hz": base_rate, "refine_factor": refine,
            **conditions}
    if clicks is not None:
        info["clicks"] = clicks
    if sustained is not None:
        info["sustained"] = {"applied": any(sustained),
                             "floor_share": [None if v is None else round(v, 3)
                                             for v in shares]}
    if any(t.name == "chroma" for t in terms):  # another key: B's pitch classes rolled
        from .key import transpose_terms

        terms, info["key"] = transpose_terms(terms)
    key = info.get("key") or {}
    roll = int(key.get("shift_semitones", 0)) if key.get("applied") else 0
    moved = [0, 0]
    if material == "music" and feature == "auto":
        terms, info["attack"], info["_novelty"] = _attack_compensation(
            terms, used, xa, xb, rec_a.rate_hz, rec_b.rate_hz, rate)
        moved = info["attack"].get("shift_frames") or [0, 0]
        terms, weights, locals_, info["held_low"] = _held_low_terms(
            terms, weights, locals_, used, (xa, xb), (rec_a.rate_hz, rec_b.rate_hz), rate,
            roll, moved, stall)

    def slow_side(side, factor):
        return _slow_side(term_options, side, factor, (xa, xb)[side == "b"],
                          (rec_a, rec_b)[side == "b"].rate_hz, rate,
                          roll if side == "b" else 0, int(moved[side == "b"]))

    info["_slow_side"] = slow_side
    if material == "speech":  # for the pauses (:func:`_pause_placement`)
        info["_signals"] = ((xa, rec_a.rate_hz, levels[0]), (xb, rec_b.rate_hz, levels[1]))
    return terms, weights, locals_, (rate, rate), info


def _without_clicks(xa, sr_a, xb, sr_b):
    """Both sides with their clicks brought down (:func:`.clicks.remove_clicks`), and
    the info per side."""
    from .clicks import remove_clicks

    xa, info_a = remove_clicks(xa, sr_a)
    xb, info_b = remove_clicks(xb, sr_b)
    return xa, xb, {"a": info_a, "b": info_b}


def _slow_side(term_options, side, factor, x, sample_rate, rate, roll, moved):
    """The features of the slower side of a tempo plan (:mod:`.tempo`) whose curves have
    time constants (:func:`.tempo.slow_options`), computed again with those stretched
    ``factor`` times, as the plan computed them (B's pitch classes rolled by ``roll``
    semitones, ``moved`` frames earlier for the attack compensation); returns
    ``{term index: values}`` (the other terms stay as they are)."""
    from ..features import audio_features
    from .attack import shift_earlier
    from .key import PITCH_CLASS_FEATURES
    from .tempo import slow_options

    out = {}
    for k, (name, options) in enumerate(term_options):
        stretched = slow_options(name, options[side], factor)
        if stretched is None:
            continue
        values = _prepare_audio(name, audio_features(x, sample_rate, name, rate_hz=rate,
                                                     **stretched).values)
        if roll and name in PITCH_CLASS_FEATURES and values.shape[1] == 12:
            values = np.ascontiguousarray(np.roll(values, -roll, axis=1))
        out[k] = shift_earlier(values, moved)
    return out


def _level_terms(terms, weights, locals_, used, signals, recordings, rate):
    """Speech: each side's level above its quiet threshold (:func:`.pauses.
    level_values`) as a term of weight ``_LEVEL_WEIGHT`` (euclidean), where both sides
    have a floor well below their speech. The log-mel term has each frame's level
    removed, so a pause's noise and a faint sound (a voiced closure, a fricative's
    start) are only spectral shapes to it, and the path slid the fluent side's next
    word into the other side's pause (word starts 40-80 ms early where one speaker
    pauses between words). Returns ``(terms, weights, locals_, info, levels)`` (each
    side's :func:`.pauses.frame_levels`, for the pause placement); ``used`` gains the
    term's entry (the features' diagnostics)."""
    from .pauses import _LEVEL_RANGE_DB, _LEVEL_SPAN_DB, frame_levels, level_values

    n = (terms[0].x.shape[0], terms[0].y.shape[0])
    levels = [frame_levels(x, rec.rate_hz, rate, k)
              for x, rec, k in zip(signals, recordings, n, strict=True)]
    values = [level_values(x, rec.rate_hz, rate, k, lv)
              for x, rec, k, lv in zip(signals, recordings, n, levels, strict=True)]
    if any(v is None for v in values):
        return terms, weights, locals_, {"applied": False}, levels
    params = {"span_db": _LEVEL_SPAN_DB, "min_range_db": _LEVEL_RANGE_DB}
    used.append({"name": "level", "metric": "euclidean", "weight": _LEVEL_WEIGHT,
                 "local_weight": _LEVEL_WEIGHT, "params_a": params, "params_b": params})
    term = Term("level", values[0], values[1], "euclidean", _pool_of("euclidean"))
    return ([*terms, term], [*weights, _LEVEL_WEIGHT], [*locals_, _LEVEL_WEIGHT],
            {"applied": True}, levels)


def _held_low_terms(terms, weights, locals_, used, signals, sample_rates, rate, roll, moved,
                    stall=False):
    """Music: where one side holds a low voice the other lets decay
    (:mod:`core.pipeline.sustain`), seen in the low register: the chroma's change as a
    term of the first search only (made from the chroma term as planned: rolled into
    A's key, moved for the attacks); seen on the decaying side only (a sung bass): the
    holding side's chroma made without what it holds (B's rolled ``roll`` semitones,
    each side moved ``moved`` frames earlier, as planned). Returns ``(terms, weights,
    locals_, info)``. ``stall``: the first search's path stood still too long
    (:func:`_stall_retry`): the chroma-change term is added whatever the check says."""
    from ..features.audio import MIDI_MIN, chroma_of_energy, frame_centers, pitch_energy
    from . import sustain
    from .attack import shift_earlier

    k = next((k for k, t in enumerate(terms) if t.name == "chroma"), None)
    if k is None:
        return terms, weights, locals_, {"applied": False}
    energies, lows = {}, []
    for x, sr, side in zip(signals, sample_rates, "ab", strict=True):
        # the chroma's own energies, at its frames (remembered by pitch_energy)
        tuning = float(used[k][f"params_{side}"]["tuning"])
        energies[side] = pitch_energy(x, sr, frame_centers(x.shape[0], sr, rate), tuning)
        lows.append(sustain.held_low_share(energies[side], rate, MIDI_MIN))
    whole = None  # only where the decaying-side way may fire (about 5 ms a side)
    if sustain.needs_held_all(*lows):
        whole = [sustain.held_all_share(energies[side], rate) for side in "ab"]
    info = sustain.held_low_mismatch(*lows, held_all=whole)
    if stall and not info["applied"]:
        info.update(applied=True, seen_in="stall", weight=sustain._WEIGHT)
    if not info["applied"]:
        return terms, weights, locals_, info
    chroma = terms[k]
    if "hold_s" in info:
        side = info["side"]
        params = used[k][f"params_{side}"]
        values = chroma_of_energy(energies[side], params["compression"],
                                  params["midi_range"],
                                  removed=sustain.held_part(energies[side], rate))
        old = chroma.x if side == "a" else chroma.y
        values = _prepare_audio("chroma", values).astype(old.dtype, copy=False)
        if side == "b" and roll:
            values = np.roll(values, -roll, axis=1)
        values = np.ascontiguousarray(shift_earlier(values, int(moved[side == "b"])))
        chroma = chroma._replace(**{"xy"[side == "b"]: values})
        return [*terms[:k], chroma, *terms[k + 1:]], weights, locals_, info
    term = Term("chroma_change", sustain.chroma_change(chroma.x, rate),
                sustain.chroma_change(chroma.y, rate), "euclidean", _pool_of("euclidean"))
    return ([*terms, term], [*weights, info["weight"]], [*locals_, 0.0], info)


def _attack_compensation(terms, used, xa, xb, sr_a, sr_b, rate):
    """Music: the later-answering side's features moved earlier by the difference of
    the two sides' attack lags (:mod:`core.pipeline.attack`)."""
    from . import attack

    tuning_a, tuning_b = (attack.feature_tuning(used, side) for side in "ab")
    if tuning_a is None or tuning_b is None:
        return terms, {"applied": False}, None
    nov_a = attack.cached_novelty(xa, sr_a, tuning_a)
    nov_b = attack.cached_novelty(xb, sr_b, tuning_b)
    width_a = None if nov_a is None else attack.attack_width_s(xa, sr_a, None, nov=nov_a)
    width_b = None if nov_b is None else attack.attack_width_s(xb, sr_b, None, nov=nov_b)
    shares = None  # two monophonic sides need a smaller width difference
    if attack.may_be_monophonic(width_a, width_b):
        shares = [attack.monophonic_share(xa, sr_a, tuning_a),
                  attack.monophonic_share(xb, sr_b, tuning_b)]
    monophonic = shares is not None and all(attack.is_monophonic(v) for v in shares)
    lag_a, lag_b = attack.side_lags_s(width_a, width_b, monophonic=monophonic)
    terms, (fa, fb) = attack.compensate(terms, lag_a, lag_b, rate)
    info = {"applied": bool(fa or fb), "width_s": [width_a, width_b],
            "lag_s": [round(lag_a, 4), round(lag_b, 4)],
            "shift_frames": [fa, fb], "rate_hz": rate}
    if shares is not None:
        info["monophonic_share"] = [None if v is None else round(v, 3) for v in shares]
    # the novelty curves, for the onset lag (:func:`_start_onsets`): kept with the
    # signal and the tuning they come from (popped before the diagnostics)
    novelty = {"a": (xa, tuning_a, nov_a), "b": (xb, tuning_b, nov_b)}
    return terms, info, novelty


def _start_onsets(rec_a, rec_b, feature, diag, novelty=None):
    """Music planned with ``feature="auto"`` whose features the attack compensation left
    in place: both sides' onsets (:func:`.attack.recording_onsets_s`), found on a
    worker thread while the path is solved (the DTW kernels release the GIL; the pitch
    energies are the features' own, still in memory: ~40 ms per side of a minute).
    ``novelty`` (side: ``(signal, tuning, curve)``, from :func:`_attack_compensation`):
    a side whose recording is the signal the attack widths were measured on (nothing
    removed before the features) reuses that novelty curve instead of computing it
    again. Returns a future of ``(onsets_a, onsets_b)`` (:class:`.attack.Onsets`, None
    for a side without), or None where no onset correction applies."""
    if diag.get("material") != "music" or feature != "auto" \
            or diag.get("attack", {}).get("applied", True):
        return None
    from . import attack

    tunings = [attack.feature_tuning(diag.get("features", ()), side) for side in "ab"]
    if None in tunings:
        return None
    from concurrent.futures import ThreadPoolExecutor

    # the ramps are read only where they could move the path (two fast attacks)
    ramps = attack.ramps_can_move(diag.get("attack", {}).get("width_s") or (None, None))

    def side(rec, tuning, known):
        x = rec.audio(mono=True)
        if known is not None and known[0] is x and known[1] == tuning \
                and known[2] is not None:
            return attack.recording_onsets_s(x, rec.rate_hz, tuning, nov=known[2],
                                             ramps=ramps)
        return attack.recording_onsets_s(x, rec.rate_hz, tuning, ramps=ramps)

    known = (None, None) if novelty is None else (novelty["a"], novelty["b"])

    def onsets():
        return tuple(side(rec, tuning, k)
                     for rec, tuning, k in zip((rec_a, rec_b), tunings, known, strict=True))

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="onsets")
    future = pool.submit(onsets)
    pool.shutdown(wait=False)
    return future


def _onset_correction(result, onsets, terms, weights, t0):
    """The path with its B index moved by the onset lag it leaves (music): each onset of
    A is mapped through the path and paired with the nearest onset of B
    (:func:`.attack.onset_lag_s`, on the novelty peaks and on their rising edges); a
    consistent lag of about a frame or more that an attack difference explains
    (:func:`.attack.onset_shift_frames`) moves the path by that many frames, without a
    second solve. ``params["onset_shift"]`` records the frames (0: not moved), so
    :func:`cost_source` moves B's features by as many and a re-solve finds the moved
    path; ``diagnostics["onset_lag"]`` the lag found (s), the number of pairs, the lags'
    quartiles, the rise difference (s) and each side's own rise time (s,
    :func:`.attack.rise_time_s`). Where the lag moves nothing, the sides' attack ramps
    (:func:`.attack.attack_ramp_s`, read on the signals) may
    (:func:`.attack.ramp_shift_frames`; ``diagnostics["attack_ramp"]``: the ramps (s)
    and the frames they moved)."""
    from . import attack

    rates = (result.rate_a_hz, result.rate_b_hz)
    lag = edges = None
    if all(o is not None for o in onsets):
        lag = attack.onset_lag_s(result.path, rates, onsets[0].peaks_s, onsets[1].peaks_s)
        edges = attack.onset_lag_s(result.path, rates, onsets[0].edges_s,
                                   onsets[1].edges_s)
    rise = None if lag is None or edges is None else lag.lag_s - edges.lag_s
    own = None if lag is None else [attack.rise_time_s(o) for o in onsets]
    own_rise = None if own is None or None in own else own[0] - own[1]
    widths = result.diagnostics.get("attack", {}).get("width_s") or [None, None]
    width_diff = 0.0 if None in widths else widths[0] - widths[1]
    shift = 0 if lag is None or rise is None else attack.onset_shift_frames(
        lag.lag_s, rates[1], lag.n_pairs, quartiles_s=lag.quartiles_s, rise_s=rise,
        own_rise_s=own_rise, width_diff_s=width_diff)
    ramps = [attack.attack_ramp_s(o) for o in onsets]
    ramp_shift = 0 if shift else attack.ramp_shift_frames(*ramps, rates[1],
                                                          widths_s=widths)
    shift = shift or ramp_shift
    diag = dict(result.diagnostics)
    diag["onset_lag"] = None if lag is None else {
        "lag_s": round(lag.lag_s, 4), "pairs": lag.n_pairs,
        "quartiles_s": [round(q, 4) for q in lag.quartiles_s],
        "rise_s": None if rise is None else round(rise, 4),
        "own_rise_s": None if own is None else [None if r is None else round(r, 4)
                                                 for r in own]}
    diag["attack_ramp"] = {"ramp_s": [None if r is None else round(r, 4) for r in ramps],
                           "shift_frames": ramp_shift}
    params = dict(result.params, onset_shift=shift)
    changes = {}
    if shift:
        path, steps = attack.shift_path(result.path, shift, result.n_a, result.n_b)
        changes["path"] = path
        if result.confidence is not None:
            changes["confidence"] = np.asarray(result.confidence)[steps]
        from . import confidence

        if confidence.RECORD:  # a benchmark's evidence per step: at the moved steps too
            n_steps = len(result.path)
            confidence.RECORD[-1] = {
                k: (np.asarray(v)[steps].tolist() if isinstance(v, list)
                    and len(v) == n_steps else v)
                for k, v in confidence.RECORD[-1].items()}
        # one segment (no anchors): it now holds the moved path, and a re-solve compares
        # the moved features' fingerprint (cost_source); the distance and the confidence
        # stay the solve's (a frame's move changes neither by much)
        diag["segments"] = [dict(rec, path_length=len(path)) for rec in diag["segments"]]
        diag["input_fingerprint"] = FeatureTerms(attack.shift_terms(terms, shift),
                                                 weights).fingerprint()
    diag["elapsed_s"] = round(time.perf_counter() - t0, 3)
    return result.replace(params=params, diagnostics=diag, **changes)


def _pause_placement(result, signals, t0):
    """Speech without anchors: the path with the lead-in of each pause one side makes
    longer re-timed (:mod:`.pauses`); ``diagnostics["pauses"]`` lists those placed. A
    re-solve (an anchor added) gives the solved path back, without this step."""
    from . import confidence, pauses

    (xa, sr_a, levels_a), (xb, sr_b, levels_b) = signals  # (levels: the level term's)
    quiet_a = pauses.quiet_frames(xa, sr_a, result.rate_a_hz, result.n_a, levels_a)
    quiet_b = pauses.quiet_frames(xb, sr_b, result.rate_b_hz, result.n_b, levels_b)
    path, placed = pauses.place_pauses(result.path, quiet_a, quiet_b, result.rate_a_hz,
                                       result.rate_b_hz)
    diag = dict(result.diagnostics)
    diag["pauses"] = {"placed": len(placed), "spans": placed}
    if not placed:
        return result.replace(diagnostics=diag)
    # each new step takes the evidence of the old path's first step on its row of A
    old = np.asarray(result.path)
    steps = np.minimum(np.searchsorted(old[:, 0], path[:, 0]), old.shape[0] - 1)
    changes = {"path": path}
    if result.confidence is not None:
        changes["confidence"] = np.asarray(result.confidence)[steps]
    if confidence.RECORD:  # a benchmark's evidence per step: at the new steps too
        n_steps = old.shape[0]
        confidence.RECORD[-1] = {
            k: (np.asarray(v)[steps].tolist() if isinstance(v, list) and len(v) == n_steps
                else v)
            for k, v in confidence.RECORD[-1].items()}
    diag["segments"] = [dict(rec, path_length=len(path)) for rec in diag["segments"]]
    diag["elapsed_s"] = round(time.perf_counter() - t0, 3)
    return result.replace(diagnostics=diag, **changes)


def _pool_of(metric):
    """Spectral shapes are averaged over time, onset-like features keep their peaks."""
    return "mean" if metric == "cosine" else "max"


def _video_terms(rec_a, rec_b, feature, rate_hz, monitor):
    from ..features import VIDEO_FEATURES
    from ..features import video as fv

    plan = _feature_list(feature, _VIDEO_PLAN)
    for name, *_ in plan:
        if name not in VIDEO_FEATURES:
            raise ValueError(f"feature: expected 'auto' or video features {VIDEO_FEATURES}, "
                             f"got {feature!r}")
    names = [p[0] for p in plan if p[2] > 0]
    # thumbnails are made after the crop between the copies is known (from small frames)
    read = ["small" if n == "thumbnail" else n for n in names]
    values_a = fv.compute_many(rec_a.iter_frames(), read, monitor.sub(0.0, 0.5),
                               n_frames=getattr(rec_a, "n_frames", None))
    values_b = fv.compute_many(rec_b.iter_frames(), read, monitor.sub(0.5, 1.0),
                               n_frames=getattr(rec_b, "n_frames", None))
    crop = None
    if "small" in values_a:
        from .video import match_crop

        small_a, small_b = values_a.pop("small"), values_b.pop("small")
        (crop_a, crop_b), (blur_a, blur_b), crop = match_crop(small_a, small_b)
        values_a["thumbnail"] = fv.thumbnail_of_small(small_a, crop_a, blur=blur_a)
        values_b["thumbnail"] = fv.thumbnail_of_small(small_b, crop_b, blur=blur_b)
        del small_a, small_b
    rate_a, rate_b = float(rec_a.rate_hz), float(rec_b.rate_hz)
    if rate_hz is not None:
        values_a = {k: fv.resample(v, rate_a, rate_hz) for k, v in values_a.items()}
        values_b = {k: fv.resample(v, rate_b, rate_hz) for k, v in values_b.items()}
        rate_a = rate_b = rate_hz
    terms, weights, used = [], [], []
    for name, metric, weight, _ in plan:
        if weight <= 0:
            continue
        terms.append(Term(name, values_a[name], values_b[name], metric, _pool_of(metric)))
        weights.append(weight)
        used.append({"name": name, "metric": metric, "weight": weight})
    info = {"material": "video", "features": used, "rate_a_hz": rate_a, "rate_b_hz": rate_b}
    if crop is not None:
        info["crop"] = crop
    return terms, weights, weights, (rate_a, rate_b), info


def _peak_curve(values, rate, *, floor_s=0.5, local_s=6.0, min_share=0.1, nms_s=0.2,
                sigma_s=0.05, min_level=0.0):
    """Turn an onset-like curve (audio onset strength, video motion energy) into a train
    of smoothed peaks that two modalities share.

    The curve loses its slowly varying floor (running minimum over ``floor_s``), is
    divided by its running maximum over ``local_s`` (quiet and loud passages count
    alike), keeps only local maxima that dominate ``nms_s`` on each side (a flash that
    switches on and off, or a note's echo, leaves one peak) and reach ``min_share`` of
    the local maximum, and is smoothed by a Gaussian of ``sigma_s``. Local maxima under
    ``min_level`` times the recording's strong peaks (the 90th percentile of its local
    maxima) are dropped first: in a silence longer than ``local_s`` the local maximum is
    the noise floor's, and its flickers would count as full-strength onsets.
    """
    from scipy.ndimage import gaussian_filter1d, maximum_filter1d, minimum_filter1d

    v = np.asarray(values, dtype=np.float64).reshape(-1)
    v = v - minimum_filter1d(v, max(1, int(round(floor_s * rate))), mode="nearest")
    local = np.maximum(maximum_filter1d(v, max(1, int(round(local_s * rate))), mode="nearest"),
                       1e-12)
    share = v / local
    width = 2 * max(1, int(round(nms_s * rate))) + 1
    keep = (share >= min_share) & (v >= maximum_filter1d(v, width, mode="nearest")) & (v > 0)
    if min_level > 0 and keep.any():
        keep &= v >= min_level * np.quantile(v[keep], 0.9)
    peaks = np.where(keep, share, 0.0)
    sigma = sigma_s * rate
    return gaussian_filter1d(peaks, sigma) if sigma > 0.3 else peaks


def _crossmodal_terms(rec_a, rec_b, feature, rate_hz, monitor):
    """Video against audio: visual events (changes of direction, stops, cuts, flashes:
    :func:`core.pipeline.crossmodal.visual_events`) and audio onsets are detected and
    matched as two event trains (gaps allowed, tempo kept smooth); the path follows the
    map through the matched pairs (a term that costs the distance, in B seconds, from
    that map). Several readings of the motion (changes of direction, main-axis turning
    points, bottoms of a vertical motion, acceleration peaks) are matched and the best
    trusted one kept; when none can be trusted (a periodic train, a map leaving the
    audio, no clear gain over a constant tempo) the path follows the straight line and
    ``diagnostics["notes"]`` says so. The peak trains of both sides are a light second
    term."""
    from ..features import audio_features
    from ..features import video as fv
    from . import crossmodal as cm

    if feature not in ("auto", "onset", "motion", "onset+motion", "motion+onset"):
        raise ValueError("feature: a video-against-audio pair is aligned on onset-like "
                         f"curves; expected 'auto', got {feature!r}")
    video = rec_a if rec_a.kind == "video" else rec_b
    rate = float(video.rate_hz) if rate_hz is None else rate_hz
    curves, events, spans = [], [], []
    for k, rec in enumerate((rec_a, rec_b)):
        sub = monitor.sub(0.5 * k, 0.5 * (k + 1))
        if rec.kind == "video":
            fps = float(rec.rate_hz)
            flow = cm.video_motion(rec.iter_frames(), sub,
                                   n_frames=getattr(rec, "n_frames", None))
            strength = cm.visual_events(flow, fps)
            events.append((flow, fps))
            curve = fv.resample(strength[:, None], fps, rate)
            spans.append((0.0, len(flow) / fps))
        else:
            x = rec.audio(mono=True)
            onsets = audio_features(x, rec.rate_hz, "onset", rate_hz=cm.ONSET_RATE_HZ,
                                    cancel=sub.check).values
            peaks = _peak_curve(onsets, cm.ONSET_RATE_HZ, sigma_s=0.0, nms_s=cm.ONSET_NMS_S,
                                min_level=cm.ONSET_LEVEL)
            events.append(cm.event_times(peaks, cm.ONSET_RATE_HZ, min_share=cm.ONSET_SHARE,
                                         nms_s=cm.ONSET_NMS_S)[0])
            curve = audio_features(x, rec.rate_hz, "onset", rate_hz=rate,
                                   cancel=sub.check).values
            spans.append((0.0, len(x) / float(rec.rate_hz)))
        curves.append(_peak_curve(curve, rate, min_level=0.0 if rec.kind == "video"
                                  else cm.ONSET_LEVEL)[:, None])
    if rec_a.kind == "video":
        knots, match = cm.video_event_knots(*events[0], events[1], spans[0], spans[1])
    else:  # audio against video: the map B -> A, inverted
        knots, match = cm.video_event_knots(*events[1], events[0], spans[1], spans[0])
        knots = knots[:, ::-1].copy()
    if not match["fallback"] and match.get("matched_span_s"):
        side = 0 if rec_a.kind == "video" else 1  # (video, audio) pairs: A's times
        match["matched_a_s"] = [match["matched_span_s"][0][side],
                                match["matched_span_s"][1][side]]
    n_a, n_b = len(curves[0]), len(curves[1])
    mapped = np.interp(np.arange(n_a) / rate, knots[:, 0], knots[:, 1])
    scale = cm.GUIDE_SCALE_S
    terms = [Term("event-map", (mapped / scale)[:, None],
                  (np.arange(n_b) / rate / scale)[:, None], "euclidean", "mean"),
             Term("onset-curves", curves[0], curves[1], "euclidean", "max")]
    weights = [1.0, cm.CURVE_WEIGHT]
    info = {"material": "video-vs-audio",
            # (the window shows the cost of the motion and onset curves; the events of
            # the video come from its optical flow and frame difference)
            "features": [{"name": "motion" if r.kind == "video" else "onset",
                          "side": side, "metric": "euclidean", "weight": 1.0,
                          "processing": "events from the flow feature: changes of "
                                        "direction, sudden stops, cuts and flashes"
                                        if r.kind == "video" else "events: onset peaks"}
                         for side, r in (("a", rec_a), ("b", rec_b))],
            "events": match,
            "notes": [match["note"]],
            "rate_hz": rate,
            # peak trains are mostly zero: cost medians say nothing about overlap
            "detect_overlap": False,
            # the event map's term changes along B whatever B holds: the curves say
            # whether a side has an onset or a movement at all
            "content": {"a": [curves[0]], "b": [curves[1]]}}
    return terms, weights, weights, (rate, rate), info


def warm_up() -> None:
    """Compile (or load from the numba cache) the pipeline's kernels on tiny inputs
    (audio, video, video against audio), so the first alignment does not pay for it;
    meant for an application's start-up thread (the kernels release the GIL)."""
    from .._kernels.overlap import overlap_accumulate, overlap_backtrack

    rng = np.random.default_rng(0)
    t = np.linspace(0.0, 1.0, 64)
    shape = np.c_[np.sin(9 * t), np.cos(5 * t), 1.0 + t]
    terms = [Term("shape", shape, shape[::-1], "cosine"),
             Term("onset", rng.random((64, 1)), rng.random((64, 1)), "euclidean", "max")]
    source = FeatureTerms(terms, [1.0, 0.25])
    recipe = _recipe([1.0, 0.25], [1.0, 0.5], 2, 10.0, 20.0, source)
    staged_dtw(source, recipe)
    from ..structure import order  # the order check on every monotone result

    order.warm_up(source)
    cost = rng.random((3, 4))
    acc = np.empty_like(cost)
    back = np.empty(cost.shape, dtype=np.int8)
    overlap_accumulate(cost - 0.5, acc, back, 0.1)
    overlap_backtrack(back, 2, 3, np.empty((8, 2), dtype=np.int64))
    # video: the skip-aware DTW around the path (a first video pair compiled it, 1.5 s)
    from .video import skip_path

    frames = rng.random((40, 4))
    skip_path(np.repeat(np.arange(40), 2).reshape(-1, 2), frames, frames, 25.0, 25.0)
    # video against audio: the event chain (1.5 s on a first pair)
    from .crossmodal import match_events

    events = np.cumsum(0.3 + rng.random(12))
    match_events(events, events * 1.1, (0.0, events[-1]), (0.0, 1.1 * events[-1]))


def align_files(path_a, path_b, **options) -> Alignment:
    """Open two media files and align them with :func:`align_recordings`.

    Parameters
    ----------
    path_a, path_b : str or os.PathLike
    **options
        As for :func:`align_recordings`.

    Raises
    ------
    core.MediaError
        If a file cannot be opened or decoded.
    """
    from ..media import open_recording

    return align_recordings(open_recording(path_a), open_recording(path_b), **options)
