"""Running a recipe of :mod:`core.registry` for the window, with what its cost image
shows, and the default alignment of long inputs in a child process."""

from __future__ import annotations

import dataclasses

import numpy as np

from core import registry
from core._progress import Monitor
from core.alignment import Alignment
from core.display import prepare_path
from core.features import Features
from core.registry import FeatureSpec, Recipe

from .confidence import SOURCE as CONFIDENCE_SOURCE
from .confidence import cost_margin_confidence
from .features import compute_features, features_from_wire, features_to_wire
from .media import recording_lock
from .process import in_child

__all__ = ["Aligned", "run_recipe", "align_job", "PROCESS_MIN_TOTAL_S"]

#: above this total duration the default alignment runs in a child process: its numpy
#: and numba work then never holds the window's GIL (see benchmarks/gui/results.md)
PROCESS_MIN_TOTAL_S = 600.0


@dataclasses.dataclass(frozen=True)
class Aligned:
    """A result for the window: the alignment (the engine's params), the recipe that
    made it (the user's values, the features used), what its cost image shows
    (features of A and B and a metric, or None) and those features."""

    alignment: Alignment
    recipe: Recipe
    image: tuple[FeatureSpec, FeatureSpec, str] | None = None
    features_a: Features | None = None
    features_b: Features | None = None


def run_recipe(recipe: Recipe, rec_a, rec_b, features_a=None, features_b=None, *,
               progress=None, cancel=None) -> Aligned:
    """Run ``recipe`` on two open recordings (``features_a``/``features_b``: cached
    features of the recipe's specs), compute its cost image's features, and prepare the
    path data the window derives (:func:`core.display.prepare_path`).

    Raises
    ------
    ValueError
        Bad parameters or inputs, naming them; what the engine raises for bad input.
    core.Cancelled
    """
    mon = Monitor(progress, cancel)
    if recipe.entry.inputs == "recordings":
        # the pipeline decodes both files: no other job decodes them meanwhile
        first, second = sorted((rec_a, rec_b), key=id)
        with recording_lock(first), recording_lock(second):
            run = registry.run(recipe, rec_a, rec_b, progress=mon.sub(0.0, 0.8).report,
                               cancel=cancel)
    else:
        # features under their recording's lock; the method itself needs none
        if features_a is None:
            features_a = compute_features(rec_a, recipe.features_a[0],
                                          progress=mon.sub(0.0, 0.15).report, cancel=cancel)
        if features_b is None:
            features_b = compute_features(rec_b, recipe.features_b[0],
                                          progress=mon.sub(0.15, 0.3).report, cancel=cancel)
        run = registry.run(recipe, rec_a, rec_b, features_a=features_a,
                           features_b=features_b, progress=mon.sub(0.3, 0.9).report,
                           cancel=cancel)
    image = registry.image_inputs(run.recipe, run.alignment)
    fa, fb = run.features_a, run.features_b
    if image is None:
        fa = fb = None
    else:
        spec_a, spec_b, _ = image
        if fa is None or run.recipe.features_a[0] != spec_a:
            fa = compute_features(rec_a, spec_a, progress=mon.sub(0.9, 0.95).report,
                                  cancel=cancel)
        if fb is None or run.recipe.features_b[0] != spec_b:
            fb = compute_features(rec_b, spec_b, progress=mon.sub(0.95, 1.0).report,
                                  cancel=cancel)
    al = run.alignment
    if al.confidence is None and fa is not None and fb is not None and len(al.path):
        # every path gets a confidence: where the method gives none, the cost margin
        # of its path in the cost image's features (said in its diagnostics)
        path = al.path
        if (fa.rate_hz, fb.rate_hz) != (al.rate_a_hz, al.rate_b_hz):  # the image's frames
            path = np.stack([np.rint(path[:, 0] * fa.rate_hz / al.rate_a_hz),
                             np.rint(path[:, 1] * fb.rate_hz / al.rate_b_hz)], 1)
            path = np.minimum(path, [len(fa.values) - 1, len(fb.values) - 1]).astype(np.int64)
        conf = cost_margin_confidence(fa.values, fb.values, path, fa.rate_hz,
                                      fb.rate_hz, metric=image[2])
        al = al.replace(confidence=conf, diagnostics=dict(
            al.diagnostics, confidence_source=CONFIDENCE_SOURCE))
    return Aligned(prepare_path(al), run.recipe, image, fa, fb)


def align_job(recipe: Recipe, rec_a, rec_b, features_a=None, features_b=None, *,
              progress=None, cancel=None) -> Aligned:
    """:func:`run_recipe`, for the default pipeline on long inputs (at least
    :data:`PROCESS_MIN_TOTAL_S` together) in a spawned child process that reports
    progress through a pipe; cancelling terminates it. Short inputs and feature methods
    run here (no process start-up cost)."""
    long = float(rec_a.duration_s) + float(rec_b.duration_s) >= PROCESS_MIN_TOTAL_S
    if recipe.entry.inputs != "recordings" or not long:
        return run_recipe(recipe, rec_a, rec_b, features_a, features_b, progress=progress,
                          cancel=cancel)
    wire = in_child(_align_in_child, (recipe, str(rec_a.path), str(rec_b.path)),
                    progress=progress, cancel=cancel)
    al, rec, image, fa, fb = wire
    return Aligned(prepare_path(al), rec, image, features_from_wire(fa),
                   features_from_wire(fb))


def _align_in_child(recipe: Recipe, path_a: str, path_b: str, *, progress=None):
    from core.media import open_recording

    out = run_recipe(recipe, open_recording(path_a), open_recording(path_b),
                     progress=progress)
    return (out.alignment, out.recipe, out.image, features_to_wire(out.features_a),
            features_to_wire(out.features_b))
