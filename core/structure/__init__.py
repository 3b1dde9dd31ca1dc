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
           "segment", "unit_costs", "warm_up"]


def warm_up() -> None:
    """Compile (or load from numba's cache) the structure's kernels (the jump DP, the
    junctions, the unit DTW, the cost smoothing along diagonals and slopes), so that a
    first "Run with structure" does not pay for it (about 3 s on an empty cache): 16
    seconds of tone sections against a copy that repeats one, written to a temporary
    folder and aligned with ``structure="pieces"``. For an application's start-up
    thread (the kernels release the GIL)."""
    import tempfile
    from pathlib import Path

    import numpy as np
    import soundfile as sf

    from .._kernels.jumps import slope_mean
    from ..media import open_recording
    from ..synthetic.music import tone_sections

    with tempfile.TemporaryDirectory(prefix="ai-warm-") as folder:
        paths = []
        for side, keys in (("a", (220, 330, 262, 392)), ("b", (220, 330, 262, 330, 392))):
            paths.append(Path(folder) / f"{side}.wav")
            sf.write(paths[-1], tone_sections(keys), 8000)
        align_structure(open_recording(paths[0]), open_recording(paths[1]),
                        structure="pieces")
    # speech's smoothing along several slopes (the pair above is music)
    slope_mean(np.zeros((6, 6)), np.zeros((2, 3), dtype=np.int64), 1, 1, np.empty((2, 2)))
