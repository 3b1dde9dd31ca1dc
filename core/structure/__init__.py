"""Structure: units, kinds and paths with jumps, for recordings that do not follow the
same order (a repeat taken or skipped, a section moved or dropped).

- :class:`PiecewiseAlignment`: monotone pieces, in B's order; the time mapping returns
  every time at which an A time occurs on B.
- :func:`align_structure`: the default pipeline's features, a jump DP for the pieces,
  each piece solved by the engine; ``structure="auto"`` keeps the monotone result
  unless the order differs.
- :mod:`core.structure.segments`: novelty, units, kinds; :func:`analyse_units`: a
  unit-level assignment.
- :func:`refine_junctions`: each junction between solved pieces re-solved at the full
  rate (a local JumpDTW).
"""

from .align import STRUCTURES, align_structure, analyse_units, find_pieces
from .junctions import refine_junction, refine_junctions
from .piecewise import PiecewiseAlignment
from .segments import Unit, cluster_units, novelty, segment, unit_costs

__all__ = ["STRUCTURES", "PiecewiseAlignment", "Unit", "align_structure", "analyse_units",
           "cluster_units", "find_pieces", "novelty", "refine_junction", "refine_junctions",
           "segment", "unit_costs"]
