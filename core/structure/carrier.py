"""A :class:`PiecewiseAlignment` carried by a plain :class:`core.Alignment`, for code that
stores, undoes, saves and lists monotone results (the project, its file, the window).

The carrier's path is the pieces' rows in B's order with A made non-decreasing (A held
where B repeats a section, a step where B skips one): a valid monotone path over the same
B frames. The pieces themselves ride in its ``diagnostics["pieces"]`` (each piece's path,
distance, normalized distance, confidence and method) with ``diagnostics["pieces_key"]``
(the sizes and the carrier's last row), so that :func:`piecewise_of` gives them back, and
refuses them once the carrier is no longer the one they were made for (a swap of A and
B transposes the carrier, an edit replaces its path: the key holds a digest of the
carrier's path). A project or project file that keeps an Alignment's diagnostics keeps
the pieces.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..alignment import Alignment
from .piecewise import PiecewiseAlignment

__all__ = ["to_carrier", "piecewise_of", "is_carrier", "cursor_through", "Follower",
           "b_occurrences", "transposed"]

_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: a repeat shorter than this, lost in a swap, is a slip where two pieces meet: not said
_NOTE_MIN_S = 1.0


def _monotone_hull(path: np.ndarray) -> np.ndarray:
    out = np.array(path, dtype=np.int64, copy=True)
    out[:, 0] = np.maximum.accumulate(out[:, 0])
    keep = np.ones(len(out), dtype=bool)
    keep[1:] = np.any(np.diff(out, axis=0) != 0, axis=1)
    return out[keep]


def _digest(path) -> str:
    import hashlib

    data = np.ascontiguousarray(path, dtype="<i8").tobytes()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _key(pw: PiecewiseAlignment, hull) -> dict:
    return {"n_a": int(pw.n_a), "n_b": int(pw.n_b), "rate_a_hz": float(pw.rate_a_hz),
            "rate_b_hz": float(pw.rate_b_hz), "path": _digest(hull)}


def _pieces_data(pw: PiecewiseAlignment) -> list:
    return [{"path": np.asarray(p.path, dtype=np.int64),
             "distance": float(p.distance),
             "normalized_distance": float(p.normalized_distance),
             "confidence": None if p.confidence is None
             else np.asarray(p.confidence, dtype=np.float64),
             "method": str(p.method)} for p in pw.pieces]


def to_carrier(pw: PiecewiseAlignment) -> Alignment:
    """The carrier Alignment of ``pw`` (see the module docstring)."""
    if not isinstance(pw, PiecewiseAlignment):
        raise TypeError(f"expected a PiecewiseAlignment, got {type(pw).__name__}")
    hull = _monotone_hull(pw.path)
    diag = dict(pw.diagnostics)
    diag["pieces"] = _pieces_data(pw)
    diag["pieces_key"] = _key(pw, hull)
    carrier = Alignment(hull, pw.rate_a_hz, pw.rate_b_hz, n_a=pw.n_a, n_b=pw.n_b,
                        method=pw.method, params=dict(pw.params), distance=pw.distance,
                        diagnostics=diag, sources=dict(pw.sources))
    _cache[carrier] = pw
    return carrier


def is_carrier(al) -> bool:
    return piecewise_of(al) is not None


def piecewise_of(al) -> PiecewiseAlignment | None:
    """The pieces an Alignment carries, or None (not a carrier, or a carrier that was
    transposed or replaced since)."""
    if al is None:
        return None
    if isinstance(al, PiecewiseAlignment):
        return al
    try:
        if al in _cache:
            return _cache[al]
    except TypeError:
        pass
    diag = getattr(al, "diagnostics", None) or {}
    data, key = diag.get("pieces"), diag.get("pieces_key")
    if not data or not key:
        return None
    try:
        same = ((int(key["n_a"]), int(key["n_b"]), float(key["rate_a_hz"]),
                 float(key["rate_b_hz"])) == (al.n_a, al.n_b, al.rate_a_hz, al.rate_b_hz)
                and key["path"] == _digest(al.path))
    except (KeyError, TypeError, ValueError):
        same = False
    if not same:  # transposed, edited or replaced since: its path is not the carrier's
        _cache[al] = None
        return None
    try:
        pieces = tuple(Alignment(np.asarray(d["path"]), al.rate_a_hz, al.rate_b_hz,
                                 n_a=al.n_a, n_b=al.n_b, method=str(d.get("method", "dtw")),
                                 distance=float(d.get("distance", np.nan)),
                                 normalized_distance=float(d.get("normalized_distance",
                                                                 np.nan)),
                                 confidence=d.get("confidence"))
                       for d in data)
        rest = {k: v for k, v in diag.items() if k not in ("pieces", "pieces_key")}
        pw = PiecewiseAlignment(pieces, method=al.method, params=dict(al.params),
                                diagnostics=rest, sources=dict(al.sources))
    except (ValueError, TypeError, KeyError):
        return None
    _cache[al] = pw
    return pw


def _rows(p: Alignment, keep: np.ndarray) -> Alignment:
    """The rows ``keep`` (a boolean mask, a run) of piece ``p``; its distance in
    proportion."""
    share = float(keep.sum()) / len(keep)
    return Alignment(p.path[keep], p.rate_a_hz, p.rate_b_hz, n_a=p.n_a, n_b=p.n_b,
                     method=p.method, distance=float(p.distance) * share,
                     normalized_distance=float(p.normalized_distance),
                     confidence=None if p.confidence is None else p.confidence[keep])


def transposed(al: Alignment) -> Alignment:
    """``al.transposed()``, keeping the pieces of a carrier.

    The pieces are transposed and put in the order of the new B (the old A). Pieces
    follow B's order and cover each B frame once, so where B repeated a section of A
    (two pieces over the same A frames) the later one keeps only what the earlier does
    not cover: seen from the other side, the repeat is material of A that B skips, and
    ``diagnostics["swap_note"]`` says so. The carrier remembers the pieces it came from,
    so that transposing it back gives them exactly (the repeat again).
    A plain Alignment, or a carrier edited since, is transposed as usual (no pieces).
    """
    pw = piecewise_of(al)
    plain = al.transposed()
    if pw is None:
        return plain
    diag = dict(al.diagnostics)
    back = diag.get("pieces_before_swap")
    if back:  # transposing back: the pieces it was made from
        try:
            return _carrier_from(plain, back)
        except (KeyError, TypeError, ValueError):
            pass  # damaged: the pieces of this side, transposed
    pieces = sorted((p.transposed() for p in pw.pieces), key=lambda p: int(p.path[0, 1]))
    kept, notes, covered = [], [], -1
    for p in pieces:
        keep = p.path[:, 1] > covered
        if not keep.all():
            lost = p.path[~keep]
            notes.append((lost[0, 0] / p.rate_a_hz, (lost[-1, 0] + 1) / p.rate_a_hz,
                          lost[0, 1] / p.rate_b_hz, (lost[-1, 1] + 1) / p.rate_b_hz))
            if keep.sum() < 2:
                continue
            p = _rows(p, keep)  # B only grows along a piece: the rows kept are a run
        kept.append(p)
        covered = int(p.path[-1, 1])
    new_diag = {k: v for k, v in plain.diagnostics.items()
                if k not in ("pieces", "pieces_key", "pieces_before_swap", "swap_note")}
    report = new_diag.get("structure")
    if isinstance(report, dict) and isinstance(report.get("units"), dict):
        units = dict(report["units"])
        units["a"], units["b"] = units.get("b"), units.get("a")
        new_diag["structure"] = dict(report, units=units)
    notes = [n for n in notes if n[1] - n[0] >= _NOTE_MIN_S]  # not a slip at a junction
    if notes:
        spans = ", ".join(f"A {a0:.1f}-{a1:.1f} s (B {b0:.1f}-{b1:.1f} s again)"
                          for a0, a1, b0, b1 in notes)
        new_diag["swap_note"] = (
            f"A repeats what B holds once: {spans}. A path with jumps follows B's order "
            f"and holds each B time once, so each repeat is shown as a part of A that B "
            f"skips; swap back to see the repeats")
    new_diag["pieces_before_swap"] = {"pieces": diag["pieces"], "key": diag["pieces_key"],
                                      "rest": {k: v for k, v in diag.items()
                                               if k not in ("pieces", "pieces_key",
                                                            "pieces_before_swap",
                                                            "swap_note")}}
    new = PiecewiseAlignment(tuple(kept), method=pw.method, params=dict(plain.params),
                             diagnostics=new_diag, sources=dict(plain.sources))
    return to_carrier(new)


def _carrier_from(plain_transposed: Alignment, back: dict) -> Alignment:
    """The carrier ``back`` describes (pieces, key and other diagnostics of the carrier
    before a swap), with the params and sources of ``plain_transposed`` (the swapped
    carrier transposed back)."""
    key = back["key"]
    pieces = [Alignment(np.asarray(d["path"]), float(key["rate_a_hz"]),
                        float(key["rate_b_hz"]), n_a=int(key["n_a"]), n_b=int(key["n_b"]),
                        method=str(d.get("method", "dtw")),
                        distance=float(d.get("distance", np.nan)),
                        normalized_distance=float(d.get("normalized_distance", np.nan)),
                        confidence=d.get("confidence")) for d in back["pieces"]]
    pw = PiecewiseAlignment(tuple(pieces), method=plain_transposed.method,
                            params=dict(plain_transposed.params),
                            diagnostics=dict(back.get("rest") or {}),
                            sources=dict(plain_transposed.sources))
    return to_carrier(pw)


def b_occurrences(pw: PiecewiseAlignment, t_a: float) -> tuple:
    """Every B time at which A's ``t_a`` is heard (one per piece covering it)."""
    return tuple(pw.map_a_to_b(float(t_a)))


def cursor_through(pw: PiecewiseAlignment, slot: str, t: float,
                   cursor: tuple[float, float]) -> tuple[float, float]:
    """The cursor after moving to ``t`` on ``slot`` through the pieces: on B, A follows
    (across jumps: the A time of the piece that holds B's time, else the nearest piece's
    end); on A, B goes to the occurrence nearest to where B's cursor was (A times that B
    skips keep B's time)."""
    if slot == "b":
        return float(pw.nearest_b_to_a(t)), float(t)
    occ = pw.map_a_to_b(float(t))
    if not occ:
        return float(t), float(cursor[1])
    return float(t), float(min(occ, key=lambda v: abs(v - cursor[1])))


class Follower:
    """Maps times through the pieces one at a time, for code that expects a monotone
    alignment's ``map_a_to_b`` / ``map_b_to_a`` (floats): B to A follows the jumps; A to
    B stays in the piece it was last in while that piece covers the time (so playback
    led by A plays a repeated section's first occurrence, then goes on)."""

    def __init__(self, pw: PiecewiseAlignment):
        self.pw = pw
        self._last_b = 0.0

    def map_b_to_a(self, t):
        return self.pw.nearest_b_to_a(float(t))

    def map_a_to_b(self, t):
        occ = self.pw.map_a_to_b(float(t))
        if not occ:
            return self._last_b
        self._last_b = float(min(occ, key=lambda v: abs(v - self._last_b)))
        return self._last_b
