"""``align --structure auto|pieces``: the command line's side of core.structure."""

from __future__ import annotations

import sys

from ..formats.pieces import PIECE_FORMATS
from .align import align_structure
from .piecewise import PiecewiseAlignment


def structure_kwargs(recipe, structure: str) -> dict:
    """The keywords of :func:`core.structure.align_structure` for a recipe of the
    registry (``align`` and the batch run the same), or ValueError naming why the
    recipe cannot run with ``structure``: another method than the default pipeline, or
    another solver than DTW."""
    if recipe.entry.name != "default":
        raise ValueError(f"{structure} needs method default, not {recipe.entry.name}")
    kwargs = recipe.entry.engine_kwargs(recipe.entry.check(recipe.params))
    if kwargs.get("method", "dtw") != "dtw":
        raise ValueError(f"{structure} needs solver dtw")
    return kwargs


def align_with_structure(args, recipe, rec_a, rec_b, fmt, usage_error, progress_class):
    """Run the default pipeline with ``args.structure`` and say on stderr what was found
    (a switch to pieces, or why the monotone path stays)."""
    try:
        kwargs = structure_kwargs(recipe, args.structure)
    except ValueError as err:
        raise usage_error(f"argument --structure: {err}") from None
    if fmt not in PIECE_FORMATS:
        raise usage_error(f"argument --structure: {args.structure} may give a path with "
                          f"jumps, which only {' or '.join(PIECE_FORMATS)} files hold, not "
                          f"{fmt}")
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
