"""``align --structure auto|pieces``: the command line's side of core.structure."""

from __future__ import annotations

import sys

from ..formats.pieces import PIECE_FORMATS
from .align import align_structure
from .piecewise import PiecewiseAlignment


def align_with_structure(args, recipe, rec_a, rec_b, fmt, usage_error, progress_class):
    """Run the default pipeline with ``args.structure`` and say on stderr what was found
    (a switch to pieces, or why the monotone path stays)."""
    if recipe.entry.name != "default":
        raise usage_error(f"argument --structure: {args.structure} needs --method default, "
                          f"not {recipe.entry.name}")
    if fmt not in PIECE_FORMATS:
        raise usage_error(f"argument --structure: {args.structure} may give a path with "
                          f"jumps, which only {' or '.join(PIECE_FORMATS)} files hold, not "
                          f"{fmt}")
    values = recipe.entry.check(recipe.params)
    kwargs = recipe.entry.engine_kwargs(values)
    if kwargs.get("method", "dtw") != "dtw":
        raise usage_error(f"argument --structure: {args.structure} needs --solver dtw")
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
