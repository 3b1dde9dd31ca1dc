"""Step patterns (local slope constraints) with dtw-python's names, weights and norms.

A step pattern is a list of *steps*. A step leads from a start cell ``(i - di0, j - dj0)``
to the current cell ``(i, j)``, possibly through intermediate cells, and adds
``weight * cost`` for every cell it enters. This is the representation of Giorgino's
dtw package (R and dtw-python): the same recursion, the same weights and the same
normalization hint, so ``distance`` and ``normalized_distance`` agree with it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["StepPattern", "get_step_pattern", "rabiner_juang", "PATTERN_NAMES"]

_NORMS = ("N+M", "N", "M", "NA")


class StepPattern:
    """A DTW recursion: steps with their cells and weights, plus a normalization.

    Parameters
    ----------
    steps : sequence of sequences
        One entry per step. Each step is a sequence of cells given as offsets back from
        the current cell: the first is the start ``(di, dj)`` (a cell whose accumulated
        cost is taken), the others are ``(di, dj, weight)`` (cells whose local cost is
        added with ``weight``); ``(0, 0, w)`` is the current cell. Offsets are
        non-negative and decrease along the step.
    norm : {"N+M", "N", "M", "NA"}
        How the total is normalized: by ``N + M``, by ``N`` (length of ``x``), by ``M``
        or not at all ("NA", ``normalized_distance`` is NaN).
    name : str, optional

    Raises
    ------
    ValueError
        If a step is empty, an offset is negative or not decreasing, a weight is negative
        or not finite, or ``norm`` is unknown.
    """

    def __init__(self, steps, norm="NA", name="custom"):
        if norm not in _NORMS:
            raise ValueError(f"step_pattern: norm must be one of {_NORMS}, got {norm!r}")
        steps = [list(s) for s in steps]
        if not steps:
            raise ValueError("step_pattern: at least one step is required")
        start_di, start_dj, cell_step, cell_di, cell_dj, cell_w = [], [], [], [], [], []
        for k, step in enumerate(steps):
            if len(step) < 2:
                raise ValueError(f"step_pattern: step {k} needs a start cell and at least one "
                                 "weighted cell")
            di0, dj0 = (int(v) for v in step[0][:2])
            if di0 < 0 or dj0 < 0 or di0 + dj0 == 0:
                raise ValueError(f"step_pattern: step {k} starts at ({di0}, {dj0}); expected "
                                 "non-negative offsets, not both zero")
            prev = (di0, dj0)
            for cell in step[1:]:
                if len(cell) != 3:
                    raise ValueError(f"step_pattern: step {k}: cells after the start are "
                                     f"(di, dj, weight), got {cell!r}")
                di, dj, w = int(cell[0]), int(cell[1]), float(cell[2])
                if di < 0 or dj < 0 or di > prev[0] or dj > prev[1] or (di, dj) == prev:
                    raise ValueError(f"step_pattern: step {k}: offsets must decrease towards "
                                     f"(0, 0), got {prev} then {(di, dj)}")
                if not (np.isfinite(w) and w >= 0):
                    raise ValueError(f"step_pattern: step {k}: weight must be finite and "
                                     f">= 0, got {w}")
                cell_step.append(k)
                cell_di.append(di)
                cell_dj.append(dj)
                cell_w.append(w)
                prev = (di, dj)
            start_di.append(di0)
            start_dj.append(dj0)
        self.name = str(name)
        self.norm = norm
        self.n_steps = len(steps)
        self.start_di = np.array(start_di, dtype=np.int64)
        self.start_dj = np.array(start_dj, dtype=np.int64)
        cell_step = np.array(cell_step, dtype=np.int64)
        self.cell_first = np.searchsorted(cell_step, np.arange(self.n_steps + 1)).astype(np.int64)
        self.cell_di = np.array(cell_di, dtype=np.int64)
        self.cell_dj = np.array(cell_dj, dtype=np.int64)
        self.cell_w = np.array(cell_w, dtype=np.float64)
        self.max_di = int(self.start_di.max())
        self.max_dj = int(self.start_dj.max())

    @property
    def simple_weights(self):
        """``(w_diag, w_up, w_left)`` when the steps are exactly (1,1), (1,0), (0,1) each
        weighting only the current cell; else None (then the general kernel runs)."""
        weights = {}
        for k in range(self.n_steps):
            a, b = self.cell_first[k], self.cell_first[k + 1]
            if b - a != 1 or self.cell_di[a] != 0 or self.cell_dj[a] != 0:
                return None
            key = (int(self.start_di[k]), int(self.start_dj[k]))
            if key in weights or key not in ((1, 1), (1, 0), (0, 1)):
                return None
            weights[key] = float(self.cell_w[a])
        if len(weights) != 3:
            return None
        return weights[(1, 1)], weights[(1, 0)], weights[(0, 1)]

    def transposed(self) -> StepPattern:
        """The same recursion with the roles of ``x`` and ``y`` exchanged."""
        steps = []
        for k in range(self.n_steps):
            a, b = self.cell_first[k], self.cell_first[k + 1]
            step = [(int(self.start_dj[k]), int(self.start_di[k]))]
            step += [(int(self.cell_dj[q]), int(self.cell_di[q]), float(self.cell_w[q]))
                     for q in range(a, b)]
            steps.append(step)
        norm = {"N": "M", "M": "N"}.get(self.norm, self.norm)
        return StepPattern(steps, norm, name=self.name + ".T")

    def __repr__(self):
        return f"StepPattern({self.name!r}, n_steps={self.n_steps}, norm={self.norm!r})"


def _s(*cells):
    """Step shorthand: first (di, dj) start, then (di, dj, w) cells."""
    return cells


_TABLE = {
    "symmetric1": ([_s((1, 1), (0, 0, 1)), _s((0, 1), (0, 0, 1)), _s((1, 0), (0, 0, 1))], "NA"),
    "symmetric2": ([_s((1, 1), (0, 0, 2)), _s((0, 1), (0, 0, 1)), _s((1, 0), (0, 0, 1))], "N+M"),
    "asymmetric": ([_s((1, 0), (0, 0, 1)), _s((1, 1), (0, 0, 1)), _s((1, 2), (0, 0, 1))], "N"),
    "asymmetricP0": ([_s((0, 1), (0, 0, 0)), _s((1, 1), (0, 0, 1)), _s((1, 0), (0, 0, 1))],
                     "N"),
    "symmetricP05": ([
        _s((1, 3), (0, 2, 2), (0, 1, 1), (0, 0, 1)),
        _s((1, 2), (0, 1, 2), (0, 0, 1)),
        _s((1, 1), (0, 0, 2)),
        _s((2, 1), (1, 0, 2), (0, 0, 1)),
        _s((3, 1), (2, 0, 2), (1, 0, 1), (0, 0, 1))], "N+M"),
    "asymmetricP05": ([
        _s((1, 3), (0, 2, 1 / 3), (0, 1, 1 / 3), (0, 0, 1 / 3)),
        _s((1, 2), (0, 1, 0.5), (0, 0, 0.5)),
        _s((1, 1), (0, 0, 1)),
        _s((2, 1), (1, 0, 1), (0, 0, 1)),
        _s((3, 1), (2, 0, 1), (1, 0, 1), (0, 0, 1))], "N"),
    "symmetricP1": ([
        _s((1, 2), (0, 1, 2), (0, 0, 1)),
        _s((1, 1), (0, 0, 2)),
        _s((2, 1), (1, 0, 2), (0, 0, 1))], "N+M"),
    "asymmetricP1": ([
        _s((1, 2), (0, 1, 0.5), (0, 0, 0.5)),
        _s((1, 1), (0, 0, 1)),
        _s((2, 1), (1, 0, 1), (0, 0, 1))], "N"),
    "symmetricP2": ([
        _s((2, 3), (1, 2, 2), (0, 1, 2), (0, 0, 1)),
        _s((1, 1), (0, 0, 2)),
        _s((3, 2), (2, 1, 2), (1, 0, 2), (0, 0, 1))], "N+M"),
    "asymmetricP2": ([
        _s((2, 3), (1, 2, 2 / 3), (0, 1, 2 / 3), (0, 0, 2 / 3)),
        _s((1, 1), (0, 0, 1)),
        _s((3, 2), (2, 1, 1), (1, 0, 1), (0, 0, 1))], "N"),
    "typeIa": ([_s((2, 1), (1, 0, 1), (0, 0, 0)), _s((1, 1), (0, 0, 1)),
                _s((1, 2), (0, 1, 1), (0, 0, 0))], "NA"),
    "typeIb": ([_s((2, 1), (1, 0, 1), (0, 0, 1)), _s((1, 1), (0, 0, 1)),
                _s((1, 2), (0, 1, 1), (0, 0, 1))], "NA"),
    "typeIc": ([_s((2, 1), (1, 0, 1), (0, 0, 1)), _s((1, 1), (0, 0, 1)),
                _s((1, 2), (0, 1, 1), (0, 0, 0))], "N"),
    "typeId": ([_s((2, 1), (1, 0, 2), (0, 0, 1)), _s((1, 1), (0, 0, 2)),
                _s((1, 2), (0, 1, 2), (0, 0, 1))], "N+M"),
    "typeIas": ([_s((2, 1), (1, 0, 0.5), (0, 0, 0.5)), _s((1, 1), (0, 0, 1)),
                 _s((1, 2), (0, 1, 0.5), (0, 0, 0.5))], "NA"),
    "typeIbs": ([_s((2, 1), (1, 0, 1), (0, 0, 1)), _s((1, 1), (0, 0, 1)),
                 _s((1, 2), (0, 1, 1), (0, 0, 1))], "NA"),
    "typeIcs": ([_s((2, 1), (1, 0, 1), (0, 0, 1)), _s((1, 1), (0, 0, 1)),
                 _s((1, 2), (0, 1, 0.5), (0, 0, 0.5))], "N"),
    "typeIds": ([_s((2, 1), (1, 0, 1.5), (0, 0, 1.5)), _s((1, 1), (0, 0, 2)),
                 _s((1, 2), (0, 1, 1.5), (0, 0, 1.5))], "N+M"),
    "typeIIa": ([_s((1, 1), (0, 0, 1)), _s((1, 2), (0, 0, 1)), _s((2, 1), (0, 0, 1))], "NA"),
    "typeIIb": ([_s((1, 1), (0, 0, 1)), _s((1, 2), (0, 0, 2)), _s((2, 1), (0, 0, 2))], "NA"),
    "typeIIc": ([_s((1, 1), (0, 0, 1)), _s((1, 2), (0, 0, 1)), _s((2, 1), (0, 0, 2))], "N"),
    "typeIId": ([_s((1, 1), (0, 0, 2)), _s((1, 2), (0, 0, 3)), _s((2, 1), (0, 0, 3))], "N+M"),
    "typeIIIc": ([_s((1, 2), (0, 0, 1)), _s((1, 1), (0, 0, 1)),
                  _s((2, 1), (1, 0, 1), (0, 0, 1)), _s((2, 2), (1, 0, 1), (0, 0, 1))], "N"),
    "typeIVc": ([_s((a, b), *[(k, 0, 1) for k in range(a - 1, -1, -1)])
                 for a in (1, 2, 3) for b in (1, 2, 3)], "N"),
    "mori2006": ([_s((2, 1), (1, 0, 2), (0, 0, 1)), _s((1, 1), (0, 0, 3)),
                  _s((1, 2), (0, 1, 3), (0, 0, 3))], "M"),
    "rigid": ([_s((1, 1), (0, 0, 1))], "N"),
}
_TABLE["symmetricP0"] = _TABLE["symmetric2"]

PATTERN_NAMES = tuple(sorted(_TABLE))


def _rj_weight(di, dj, weighting):
    if weighting == "a":
        return min(di, dj)
    if weighting == "b":
        return max(di, dj)
    if weighting == "c":
        return di
    return di + dj


_RJ_PATHS = {
    1: [[(1, 0)], [(1, 1)], [(0, 1)]],
    2: [[(1, 1), (1, 0)], [(1, 1)], [(1, 1), (0, 1)]],
    3: [[(2, 1)], [(1, 1)], [(1, 2)]],
    4: [[(1, 1), (1, 0)], [(1, 2), (1, 0)], [(1, 1)], [(1, 2)]],
    5: [[(1, 1), (1, 0), (1, 0)], [(1, 1), (1, 0)], [(1, 1)], [(1, 1), (0, 1)],
        [(1, 1), (0, 1), (0, 1)]],
    6: [[(1, 1), (1, 1), (1, 0)], [(1, 1)], [(1, 1), (1, 1), (0, 1)]],
    7: [[(1, a), (1, 0), (1, 0)] for a in (1, 2, 3)] + [[(1, a), (1, 0)] for a in (1, 2, 3)]
       + [[(1, a)] for a in (1, 2, 3)],
}


def rabiner_juang(type_, slope_weighting="d", smoothed=False) -> StepPattern:
    """A pattern of Rabiner & Juang's table 4.5 (as dtw-python's rabinerJuangStepPattern).

    Parameters
    ----------
    type_ : int
        Path family, 1 to 7.
    slope_weighting : {"a", "b", "c", "d"}
        min step, max step, step in i, or step in i plus step in j.
    smoothed : bool
        Spread the weight evenly over the cells of a multi-cell step.
    """
    if type_ not in _RJ_PATHS:
        raise ValueError(f"type_: expected an integer 1..7, got {type_!r}")
    if slope_weighting not in ("a", "b", "c", "d"):
        raise ValueError(f"slope_weighting: expected 'a', 'b', 'c' or 'd', got "
                         f"{slope_weighting!r}")
    steps = []
    for moves in _RJ_PATHS[type_]:
        total_i = sum(m[0] for m in moves)
        total_j = sum(m[1] for m in moves)
        weights = [float(_rj_weight(di, dj, slope_weighting)) for di, dj in moves]
        if smoothed:
            weights = [float(np.mean(weights))] * len(weights)
        cells = [(total_i, total_j)]
        si, sj = 0, 0
        for (di, dj), w in zip(moves, weights, strict=True):
            si += di
            sj += dj
            cells.append((total_i - si, total_j - sj, w))
        steps.append(cells)
    norm = {"c": "N", "d": "N+M"}.get(slope_weighting, "NA")
    return StepPattern(steps, norm, name=f"rabiner_juang({type_}, {slope_weighting!r}, "
                                         f"{bool(smoothed)})")


def get_step_pattern(step_pattern) -> StepPattern:
    """A :class:`StepPattern` from a name (dtw-python's), a StepPattern, or a dtw-python
    ``StepPattern`` object (anything with an ``mx`` matrix and a ``hint``)."""
    if isinstance(step_pattern, StepPattern):
        return step_pattern
    if isinstance(step_pattern, str):
        if step_pattern not in _TABLE:
            raise ValueError(f"step_pattern: unknown name {step_pattern!r}; expected one of "
                             f"{', '.join(PATTERN_NAMES)} or a StepPattern")
        steps, norm = _TABLE[step_pattern]
        return StepPattern(steps, norm, name=step_pattern)
    mx = getattr(step_pattern, "mx", None)
    if mx is not None:
        mx = np.asarray(mx, dtype=np.float64)
        steps = []
        for p in np.unique(mx[:, 0]):
            rows = mx[mx[:, 0] == p]
            cells = [(int(rows[0, 1]), int(rows[0, 2]))]
            cells += [(int(r[1]), int(r[2]), float(r[3])) for r in rows[1:]]
            steps.append(cells)
        return StepPattern(steps, getattr(step_pattern, "hint", "NA"), name="dtw-python")
    raise ValueError(f"step_pattern: expected a name or a StepPattern, got {step_pattern!r}")
