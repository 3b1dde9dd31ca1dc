"""The diagnostics strip's tracks for a result with jumps (:mod:`core.structure`): each
piece on its own, broken at every jump (a NaN between pieces, never a line across the
jump), so the tempo is each piece's own tempo, the local cost runs along the pieces and
the confidence is each piece's. Where B repeats a section, two pieces cover the same
stretch of A and both are drawn there. Plain numpy, no Qt.
"""

from __future__ import annotations

import numpy as np

from core.display import peak_decimate

__all__ = ["joined", "piece_tempo", "piece_bounds", "piece_stalls", "piece_jumps",
           "image_path"]


def joined(parts) -> tuple[np.ndarray, np.ndarray]:
    """``[(x, y), ...]`` as one pair of arrays with a NaN between parts."""
    xs, ys = [], []
    for k, (x, y) in enumerate(parts):
        if k:
            xs.append(np.array([np.nan]))
            ys.append(np.array([np.nan]))
        xs.append(np.asarray(x, dtype=np.float64))
        ys.append(np.asarray(y, dtype=np.float64))
    if not xs:
        return np.empty(0), np.empty(0)
    return np.concatenate(xs), np.concatenate(ys)


def piece_tempo(pw, n_points: int = 4000, smooth_s: float = 0.5):
    """Each piece's tempo ratio dt_B/dt_A over its own A span, smoothed over
    ``smooth_s`` within the piece: ``[(t_a, ratio), ...]`` in B's order."""
    total = sum(max(p.path[-1, 0] - p.path[0, 0], 1) for p in pw.pieces)
    out = []
    for p in pw.pieces:
        keys, values = p.mapping_knots(0)
        a0, a1 = float(keys[0]), float(keys[-1])
        span = max(p.path[-1, 0] - p.path[0, 0], 1)
        k = int(max(16, min(n_points * span / total, span + 1)))
        t = np.linspace(a0, a1, k)
        tb = np.interp(t, keys, values)
        dt = (a1 - a0) / max(k - 1, 1)
        half = max(1, int(round(0.5 * smooth_s / max(dt, 1e-12))))
        lo = np.clip(np.arange(k) - half, 0, k - 1)
        hi = np.clip(np.arange(k) + half, 0, k - 1)
        ratio = (tb[hi] - tb[lo]) / np.maximum(t[hi] - t[lo], 1e-12)
        out.append((t, ratio))
    return out


def piece_bounds(pw) -> np.ndarray:
    """Row offsets of the pieces in ``pw.path`` (K + 1 values)."""
    return np.concatenate([[0], np.cumsum([len(p.path) for p in pw.pieces])])


def split_decimated(pw, values) -> list:
    """``values`` (one per row of ``pw.path``, e.g. local costs or a confidence) cut
    into pieces, each peak-decimated on the piece's A times."""
    bounds = piece_bounds(pw)
    values = np.asarray(values, dtype=np.float64)
    out = []
    for k, p in enumerate(pw.pieces):
        t = p.path[:, 0] / p.rate_a_hz
        out.append(peak_decimate(t, values[bounds[k]:bounds[k + 1]]))
    return out


def piece_stalls(pw, stalls_of) -> tuple[list, list]:
    """The stalls of each piece (``stalls_of(alignment)`` -> (b holds, a holds)) together:
    a piece's end is not a stall, and a jump is not one either."""
    b_holds, a_holds = [], []
    for p in pw.pieces:
        b, a = stalls_of(p)
        b_holds.extend(b)
        a_holds.extend(a)
    return b_holds, a_holds


def piece_jumps(pw) -> np.ndarray:
    """A times (s) at the jumps: where A leaves a piece and where the next starts."""
    out = []
    for j in pw.jumps:
        out.extend((j["a_from_s"], j["a_to_s"]))
    return np.asarray(out, dtype=np.float64)


def image_path(path: np.ndarray, rates, image_rates, sizes) -> np.ndarray:
    """A path in an alignment's frames as frames of the cost image's features (other
    rates: rescaled and clipped)."""
    path = np.asarray(path)
    if tuple(rates) == tuple(image_rates):
        return path
    out = np.stack([np.rint(path[:, 0] * image_rates[0] / rates[0]),
                    np.rint(path[:, 1] * image_rates[1] / rates[1])], 1)
    return np.minimum(out, [sizes[0] - 1, sizes[1] - 1]).astype(np.int64)
