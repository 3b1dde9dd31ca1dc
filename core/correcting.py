"""Constraints applied to a run: what ``align --anchors`` and ``--base`` do, and what the
window re-analyses with.

:func:`edit_source` chooses the features a result's segments are solved on (the default
pipeline's own terms for its DTW results, else the features the result's cost image
shows, else the default feature of each recording's kind); :func:`constrained_run` runs a
recipe and recomputes its path from the constraints; :func:`correct_alignment` does the
same for an alignment read from a file. Both re-lay the path near each hard anchor through
the chord changes of the two recordings when both are audio (``refine="changes"`` of
:func:`core.constraints.recompute`, on by default: benchmarks/accuracy/anchors.md).
"""

from __future__ import annotations

from .alignment import Alignment
from .constraints import Constraints, can_resolve_exactly, recompute

__all__ = ["edit_source", "change_energies", "refinement", "constrained_run",
           "correct_alignment",
           "DEFAULT_EDIT_RATE_HZ", "DEFAULT_REFINE"]

#: frame rate of the default features a file's alignment is corrected on (audio)
DEFAULT_EDIT_RATE_HZ = 50.0
#: the refinement near hard anchors :func:`constrained_run` and :func:`correct_alignment`
#: ask :func:`core.constraints.recompute` for by default (audio pairs only)
DEFAULT_REFINE = "changes"


def _features_source(rec_a, rec_b, spec_a, spec_b, metric, features=None):
    from .features import compute_features

    fa, fb = features if features is not None else (None, None)
    if fa is None or fa.name != spec_a.name or float(fa.rate_hz) != float(spec_a.rate_hz):
        fa = compute_features(rec_a, spec_a.name, rate_hz=spec_a.rate_hz, **spec_a.kwargs)
    if fb is None or fb.name != spec_b.name or float(fb.rate_hz) != float(spec_b.rate_hz):
        fb = compute_features(rec_b, spec_b.name, rate_hz=spec_b.rate_hz, **spec_b.kwargs)
    return {"source": (fa.values, fb.values, metric), "rate_a_hz": float(fa.rate_hz),
            "rate_b_hz": float(fb.rate_hz), "mode": "corridor"}


def edit_source(alignment: Alignment, rec_a, rec_b, recipe=None, features=None) -> dict:
    """The features to solve ``alignment``'s segments on: a dict with ``source``,
    ``rate_a_hz``, ``rate_b_hz`` and ``mode`` (keywords of
    :func:`core.constraints.recompute`).

    A default DTW result: its own terms (:func:`core.pipeline.cost_source`), ``"exact"``.
    A result of another method: the features its cost image shows
    (:func:`core.registry.image_inputs`), ``"corridor"``. An alignment without a recipe
    (read from a file): the default feature of each recording's kind (chroma for audio,
    thumbnails for video; both sides must have the same), ``"corridor"``.
    """
    from . import registry
    from .pipeline import cost_source

    if can_resolve_exactly(alignment) and "recipe" in alignment.params \
            and "feature" in alignment.params:
        terms = cost_source(rec_a, rec_b, alignment)
        return {"source": terms, "rate_a_hz": alignment.rate_a_hz,
                "rate_b_hz": alignment.rate_b_hz, "mode": "exact"}
    if recipe is not None:
        image = registry.image_inputs(recipe, alignment)
        if image is not None:
            spec_a, spec_b, metric = image
            if registry.FEATURES[spec_a.name].dim == registry.FEATURES[spec_b.name].dim:
                return _features_source(rec_a, rec_b, spec_a, spec_b, metric, features)
    names = (registry.default_feature(rec_a.kind), registry.default_feature(rec_b.kind))
    if names[0] != names[1]:
        raise ValueError("anchors: correcting an alignment of a video against an audio "
                         "recording needs a result of the default pipeline (no common "
                         "feature to solve on)")
    rates = []
    for rec in (rec_a, rec_b):
        rate = DEFAULT_EDIT_RATE_HZ
        if rec.kind == "video":
            rate = min(rate, float(rec.rate_hz))
        rates.append(rate)
    spec_a = registry.FeatureSpec(names[0], rates[0])
    spec_b = registry.FeatureSpec(names[1], rates[1])
    metric = "cosine" if names[0] == "chroma" else "euclidean"
    return _features_source(rec_a, rec_b, spec_a, spec_b, metric, features)


def change_energies(rec_a, rec_b, rate_a_hz: float, rate_b_hz: float):
    """The semitone energies of two audio recordings on frame grids of ``rate_a_hz`` and
    ``rate_b_hz`` (the keyword ``energies`` of :func:`core.constraints.recompute` with
    ``refine="changes"``; :func:`core.warping.refine_anchor.semitone_energies`). None when
    either recording is not audio."""
    from .warping.refine_anchor import semitone_energies

    if rec_a.kind != "audio" or rec_b.kind != "audio":
        return None
    return (semitone_energies(rec_a.audio(), float(rec_a.rate_hz), float(rate_a_hz)),
            semitone_energies(rec_b.audio(), float(rec_b.rate_hz), float(rate_b_hz)))


def refinement(rec_a, rec_b, constraints: Constraints, kw: dict,
               refine: str | bool | None = DEFAULT_REFINE) -> dict:
    """The keywords ``refine`` and ``energies`` of :func:`core.constraints.recompute` for
    ``constraints`` solved with ``kw`` (:func:`edit_source`): ``refine="changes"`` with
    the spectra of both recordings on the solve's frame grids when both are audio and a
    hard anchor is among the constraints; ``{}`` (no refinement) otherwise, or when
    ``refine`` is False or None."""
    if not refine or not any(a.hard for a in constraints.anchors):
        return {}
    if refine != "changes":
        return {"refine": refine}
    energies = change_energies(rec_a, rec_b, kw["rate_a_hz"], kw["rate_b_hz"])
    if energies is None:
        return {}
    return {"refine": "changes", "energies": energies}


def constrained_run(recipe, rec_a, rec_b, constraints: Constraints, *, progress=None,
                    cancel=None, refine: str | bool | None = DEFAULT_REFINE) -> Alignment:
    """Run ``recipe`` on two recordings and recompute its path from ``constraints``
    (the automatic result is the base), refined near the hard anchors as
    :func:`refinement` says (``refine=False``: the plain re-solve)."""
    from . import registry

    run = registry.run(recipe, rec_a, rec_b, progress=progress, cancel=cancel)
    if not constraints:
        return run.alignment
    features = (run.features_a, run.features_b)
    kw = edit_source(run.alignment, rec_a, rec_b, run.recipe, features)
    return recompute(run.alignment, constraints, cancel=cancel, **kw,
                     **refinement(rec_a, rec_b, constraints, kw, refine))


def correct_alignment(base: Alignment, rec_a, rec_b, constraints: Constraints, *,
                      cancel=None, refine: str | bool | None = DEFAULT_REFINE) -> Alignment:
    """Recompute an alignment read from a file (of this tool or another) from
    ``constraints``: its path is the starting path; refined near the hard anchors as
    :func:`refinement` says (``refine=False``: the plain re-solve)."""
    kw = edit_source(base, rec_a, rec_b)
    return recompute(base, constraints, cancel=cancel, **kw,
                     **refinement(rec_a, rec_b, constraints, kw, refine))
