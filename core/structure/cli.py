"""``align --structure auto|pieces``: the command line's side of core.structure."""

from __future__ import annotations

import sys

from ..options import OptionError, check_structure_run
from .align import align_structure
from .piecewise import PiecewiseAlignment


def structure_kwargs(recipe, structure: str, *, anchors: bool | None = None,
                     format: str | None = None) -> dict:
    """The keywords of :func:`core.structure.align_structure` for a recipe of the
    registry (``align`` and the batch run the same), or OptionError naming why the
    recipe cannot run with ``structure`` (:func:`core.options.check_structure_run`:
    another method than the default pipeline, another solver than DTW; with
    ``anchors`` and ``format`` given, anchors or a format that holds no pieces)."""
    values = recipe.entry.check(recipe.params)
    check_structure_run(structure, anchors=anchors, method=recipe.entry.name,
                        solver=values.get("solver"), format=format)
    return recipe.entry.engine_kwargs(values)


def align_with_structure(args, recipe, rec_a, rec_b, fmt, usage_error, progress_class, *,
                         anchors: bool = False):
    """Run the default pipeline with ``args.structure`` and say on stderr what was found
    (a switch to pieces, or why the monotone path stays)."""
    try:
        kwargs = structure_kwargs(recipe, args.structure, anchors=anchors, format=fmt)
    except OptionError as err:
        raise usage_error(err.as_flags()) from None
    progress = progress_class(enabled=not args.quiet and sys.stderr is not None
                              and sys.stderr.isatty())
    try:
        al = align_structure(rec_a, rec_b, structure=args.structure, **kwargs,
                             progress=progress)
    finally:
        progress.done()
    report = al.diagnostics.get("structure", {})
    if sys.stderr is not None and not args.quiet:
        if isinstance(al, PiecewiseAlignment):
            jumps = "; ".join(
                f"B {j['b_to_s']:.2f} s: {j['kind']} from A {j['a_from_s']:.2f} s to "
                f"{j['a_to_s']:.2f} s" for j in al.jumps)
            sys.stderr.write(f"alignment-inspector: the order differs: {len(al.pieces)} "
                             f"pieces ({report.get('reason', '')})"
                             + (f"; jumps at {jumps}" if jumps else "") + "\n")
        else:
            sys.stderr.write(f"alignment-inspector: structure: monotone "
                             f"({report.get('reason', '')})\n")
    return al
