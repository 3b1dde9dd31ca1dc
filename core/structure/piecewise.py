"""A correspondence that is monotone within pieces and jumps between them."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..alignment import Alignment

__all__ = ["PiecewiseAlignment"]


@dataclasses.dataclass(frozen=True, eq=False)
class PiecewiseAlignment:
    """Pieces of monotone alignment, in the order of B (B repeats a section of A: two
    pieces cover the same part of A; B skips one: the next piece starts further on A;
    B moves one: the pieces' order on A differs from B's).

    Parameters
    ----------
    pieces : sequence of Alignment
        Each with a path in the frames of the whole recordings (rows over a sub-range of
        A and B), the same rates and ``n_a``, ``n_b``; their B ranges do not overlap and
        come in increasing order.
    method, params, diagnostics, sources : as for :class:`core.Alignment`.

    Raises
    ------
    ValueError
        No pieces, mismatched rates or sizes, B ranges out of order or overlapping.
    """

    pieces: tuple
    method: str = "pieces"
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    diagnostics: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    sources: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        pieces = tuple(self.pieces)
        if not pieces or not all(isinstance(p, Alignment) for p in pieces):
            raise ValueError("pieces: expected a non-empty sequence of core.Alignment")
        first = pieces[0]
        for k, p in enumerate(pieces):
            if (p.rate_a_hz, p.rate_b_hz, p.n_a, p.n_b) != (first.rate_a_hz, first.rate_b_hz,
                                                             first.n_a, first.n_b):
                raise ValueError(f"pieces[{k}]: rates or sizes differ from pieces[0]")
            if k and p.path[0, 1] <= pieces[k - 1].path[-1, 1]:
                raise ValueError(f"pieces[{k}]: starts on B at frame {p.path[0, 1]}, not after "
                                 f"the previous piece's end ({pieces[k - 1].path[-1, 1]})")
        set_ = object.__setattr__
        set_(self, "pieces", pieces)
        set_(self, "method", str(self.method))
        for name in ("params", "diagnostics", "sources"):
            set_(self, name, MappingProxyType(dict(getattr(self, name) or {})))

    # ------------------------------------------------------------------ shape
    @property
    def rate_a_hz(self) -> float:
        return self.pieces[0].rate_a_hz

    @property
    def rate_b_hz(self) -> float:
        return self.pieces[0].rate_b_hz

    @property
    def n_a(self) -> int:
        return self.pieces[0].n_a

    @property
    def n_b(self) -> int:
        return self.pieces[0].n_b

    @property
    def duration_a_s(self) -> float:
        return self.n_a / self.rate_a_hz

    @property
    def duration_b_s(self) -> float:
        return self.n_b / self.rate_b_hz

    @property
    def path(self) -> np.ndarray:
        """Every piece's rows, concatenated in B's order, shape (L, 2) (not monotone on A
        where the path jumps)."""
        return np.concatenate([p.path for p in self.pieces])

    @property
    def piece_index(self) -> np.ndarray:
        """The piece of each row of :attr:`path`."""
        return np.concatenate([np.full(len(p.path), k) for k, p in enumerate(self.pieces)])

    @property
    def times_s(self) -> np.ndarray:
        return self.path / np.array([self.rate_a_hz, self.rate_b_hz])

    @property
    def confidence(self) -> np.ndarray | None:
        if any(p.confidence is None for p in self.pieces):
            return None
        return np.concatenate([p.confidence for p in self.pieces])

    @property
    def distance(self) -> float:
        return math.fsum(p.distance for p in self.pieces)

    @property
    def jumps(self) -> list[dict]:
        """Between consecutive pieces: where B passes from one to the next and where A
        leaves and lands (seconds), and the kind: ``"back"`` (a repeat), ``"forward"`` (a
        skip) or ``"gap"`` (B material between them matched to nothing)."""
        out = []
        ra, rb = self.rate_a_hz, self.rate_b_hz
        for p, q in zip(self.pieces[:-1], self.pieces[1:], strict=True):
            a_from, a_to = p.path[-1, 0] / ra, q.path[0, 0] / ra
            b_from, b_to = p.path[-1, 1] / rb, q.path[0, 1] / rb
            kind = "back" if a_to < a_from else "forward"
            out.append({"b_from_s": float(b_from), "b_to_s": float(b_to),
                        "a_from_s": float(a_from), "a_to_s": float(a_to), "kind": kind})
        return out

    # ------------------------------------------------------------------ time mapping
    def map_b_to_a(self, t_s):
        """Times of B (seconds) to A: for a scalar, a tuple with the A time of the piece
        that holds it (empty when B's time falls between pieces, in material matched to
        nothing, or outside); for an array, a list of such tuples."""
        return self._map_all(t_s, 1)

    def map_a_to_b(self, t_s):
        """Times of A (seconds) to B: for a scalar, a tuple of every B time it occurs at
        (one per piece that covers it: two where B repeats it, none where B skips it);
        for an array, a list of such tuples."""
        return self._map_all(t_s, 0)

    def _map_all(self, t_s, axis):
        t = np.asarray(t_s, dtype=np.float64)
        flat = np.atleast_1d(t).ravel()
        out = [[] for _ in range(flat.size)]
        rate = (self.rate_a_hz, self.rate_b_hz)[axis]
        half = 0.5 / rate  # a piece's span includes half a frame on each side
        for p in self.pieces:
            keys, values = p.mapping_knots(axis)
            lo, hi = keys[0] - half, keys[-1] + half
            inside = (flat >= lo) & (flat < hi)
            if np.any(inside):
                mapped = np.interp(flat[inside], keys, values)
                for k, v in zip(np.flatnonzero(inside), mapped, strict=True):
                    out[k].append(float(v))
        result = [tuple(sorted(v)) if axis == 0 else tuple(v) for v in out]
        return result[0] if t.ndim == 0 else result

    def nearest_b_to_a(self, t_s) -> float:
        """One A time for a B time even between pieces: the nearest piece's end."""
        t = float(t_s)
        best = None
        for p in self.pieces:
            keys, values = p.mapping_knots(1)
            d = 0.0 if keys[0] <= t <= keys[-1] else min(abs(t - keys[0]), abs(t - keys[-1]))
            if best is None or d < best[0]:
                best = (d, float(np.interp(t, keys, values)))
        return best[1]

    def piece_at_b(self, t_s) -> int | None:
        """The piece that holds B time ``t_s`` (seconds), or None."""
        hits = [k for k, p in enumerate(self.pieces)
                if p.path[0, 1] / self.rate_b_hz - 0.5 / self.rate_b_hz <= t_s
                < p.path[-1, 1] / self.rate_b_hz + 0.5 / self.rate_b_hz]
        return hits[0] if hits else None

    def __repr__(self) -> str:
        return (f"PiecewiseAlignment(pieces={len(self.pieces)}, n_a={self.n_a}, "
                f"n_b={self.n_b}, jumps={[j['kind'] for j in self.jumps]})")
