"""The result of every alignment method, and time mapping in both directions."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = ["Alignment", "aligned_part", "path_knots", "unshared_warning",
           "unshared_seconds"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _freeze(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclasses.dataclass(frozen=True, eq=False)
class Alignment:
    """How two sequences correspond in time; immutable.

    Parameters
    ----------
    path : array_like of int, shape (L, 2)
        Rows ``(i, j)``: frame ``i`` of recording A corresponds to frame ``j`` of B.
        Both columns are non-decreasing and every row differs from the previous one.
    rate_a_hz, rate_b_hz : float
        Frame rates of A's and B's features; frame ``k`` is centred on ``k / rate``.
    n_a, n_b : int, optional
        Number of frames of A and B (default: one past the path's last row).
    method : str
        Name of the method that made it (``"dtw"``, ``"ctw"``, ``"ot"``, ``"manual"``, ...).
    params : mapping
        Parameters of the method and of the features, as given.
    distance, normalized_distance : float
        Total cost and its normalized value where the method defines them (else NaN).
    plan : ndarray, shape (n_a, n_b), optional
        A soft alignment (transport plan, expected alignment, attention) when the method
        makes one.
    confidence : ndarray, shape (L,), optional
        A confidence in [0, 1] per path step (1 = sure).
    diagnostics : mapping
        Iterations, objective history, elapsed time, memory, whether exact, ...
    sources : mapping
        What is known about the two inputs: ``{"a": {...}, "b": {...}}`` with path,
        duration, rate, content hash.

    Raises
    ------
    ValueError
        If the path is not an (L, 2) integer array, not monotone, has repeated rows, or
        leaves ``[0, n_a) x [0, n_b)``; if a rate is not positive and finite.
    """

    path: np.ndarray
    rate_a_hz: float
    rate_b_hz: float
    n_a: int | None = None
    n_b: int | None = None
    method: str = "unknown"
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    distance: float = math.nan
    normalized_distance: float = math.nan
    plan: np.ndarray | None = None
    confidence: np.ndarray | None = None
    diagnostics: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    sources: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        set_ = object.__setattr__
        path = np.asarray(self.path)
        if path.ndim != 2 or path.shape[1] != 2 or path.shape[0] < 1:
            raise ValueError(f"path: expected an (L, 2) array with L >= 1, got shape {path.shape}")
        if not np.issubdtype(path.dtype, np.integer):
            if not np.all(np.isfinite(path)) or np.any(path != np.round(path)):
                raise ValueError("path: expected integer frame indices")
        path = path.astype(np.int64)
        for name in ("rate_a_hz", "rate_b_hz"):
            rate = float(getattr(self, name))
            if not (math.isfinite(rate) and rate > 0):
                raise ValueError(f"{name}: expected a positive finite rate, got {rate}")
            set_(self, name, rate)
        if np.any(path < 0):
            raise ValueError("path: negative frame index")
        steps = np.diff(path, axis=0)
        if np.any(steps < 0):
            k = int(np.argmax(np.any(steps < 0, axis=1)))
            raise ValueError(f"path: not monotone at row {k + 1} ({path[k]} -> {path[k + 1]})")
        if np.any(np.all(steps == 0, axis=1)):
            k = int(np.argmax(np.all(steps == 0, axis=1)))
            raise ValueError(f"path: row {k + 1} repeats row {k}")
        n_a = int(path[-1, 0]) + 1 if self.n_a is None else int(self.n_a)
        n_b = int(path[-1, 1]) + 1 if self.n_b is None else int(self.n_b)
        if path[-1, 0] >= n_a or path[-1, 1] >= n_b:
            raise ValueError(
                f"path: leaves the sequences (last row {tuple(path[-1])}, n_a={n_a}, n_b={n_b})")
        set_(self, "n_a", n_a)
        set_(self, "n_b", n_b)
        set_(self, "path", _readonly(path))
        if self.plan is not None:
            plan = np.asarray(self.plan)
            if plan.shape != (n_a, n_b):
                raise ValueError(f"plan: expected shape {(n_a, n_b)}, got {plan.shape}")
            set_(self, "plan", _readonly(plan))
        if self.confidence is not None:
            conf = np.asarray(self.confidence, dtype=np.float64)
            if conf.shape != (path.shape[0],):
                raise ValueError(
                    f"confidence: expected shape {(path.shape[0],)}, got {conf.shape}")
            set_(self, "confidence", _readonly(conf))
        set_(self, "distance", float(self.distance))
        set_(self, "normalized_distance", float(self.normalized_distance))
        set_(self, "method", str(self.method))
        set_(self, "params", _freeze(self.params))
        set_(self, "diagnostics", _freeze(self.diagnostics))
        set_(self, "sources", _freeze(self.sources))

    # ------------------------------------------------------------------ derived views
    @property
    def times_s(self) -> np.ndarray:
        """Path in seconds, shape (L, 2): ``path / (rate_a_hz, rate_b_hz)``, read-only,
        computed once per Alignment (it is immutable)."""
        t = self.__dict__.get("_times_s")
        if t is None:
            t = self.path / np.array([self.rate_a_hz, self.rate_b_hz])
            t.setflags(write=False)
            self.__dict__["_times_s"] = t
        return t

    @property
    def duration_a_s(self) -> float:
        return self.n_a / self.rate_a_hz

    @property
    def duration_b_s(self) -> float:
        return self.n_b / self.rate_b_hz

    @property
    def is_continuous(self) -> bool:
        """True when every step is (1, 0), (0, 1) or (1, 1)."""
        return bool(np.all(np.diff(self.path, axis=0) <= 1))

    def replace(self, **changes) -> Alignment:
        """A new Alignment with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def transposed(self) -> Alignment:
        """The same correspondence seen with A and B exchanged.

        The path's columns, the rates, ``n_a`` and ``n_b``, the plan, ``sources["a"]``
        and ``["b"]``, the anchors in ``params`` (``anchors`` in frames, ``anchors_s``
        in seconds), the window outline ``diagnostics["search_window"]``, the DTW
        segments' start and end cells (and their outlines), ``aligned_part``, the sides
        of ``unshared`` (the ends left out, and the warning about them worded again:
        :func:`unshared_warning`), the sides of an order check's stretches
        (``order_check``, its message worded again), the pausing sides of the placed
        pauses (``pauses``) and the per-side input fingerprints are exchanged;
        ``params["transposed"]`` is set (removed again by a second transposition), so
        :func:`core.warping.resolve` knows the engine ran the other way round (the
        recipe in ``params`` stays as it ran). Transposing twice gives the same path,
        rates, params and sources.
        """
        from .warping.windows import transpose_outline

        path = np.ascontiguousarray(self.path[:, ::-1])
        order = np.lexsort((path[:, 1], path[:, 0]))
        sources = dict(self.sources)
        if "a" in sources or "b" in sources:
            sources["a"], sources["b"] = sources.get("b"), sources.get("a")
        params = dict(self.params)
        if params.get("anchors_s") is not None:  # seconds (the panel's)
            params["anchors_s"] = np.asarray(params["anchors_s"], dtype=float).reshape(-1, 2)[
                :, ::-1].tolist()
        if params.get("anchors") is not None:  # frames (the engine's)
            params["anchors"] = [(int(j), int(i)) for i, j in params["anchors"]]
        if params.get("transposed"):
            del params["transposed"]
        else:
            params["transposed"] = True
        diagnostics = dict(self.diagnostics)
        if diagnostics.get("search_window") is not None:
            diagnostics["search_window"] = transpose_outline(diagnostics["search_window"],
                                                             self.n_a, self.n_b)
        fingerprint = diagnostics.get("input_fingerprint")
        if isinstance(fingerprint, Mapping) and "a" in fingerprint:
            diagnostics["input_fingerprint"] = dict(fingerprint, a=fingerprint.get("b"),
                                                    b=fingerprint.get("a"))
        part = diagnostics.get("aligned_part")
        if isinstance(part, Mapping):
            diagnostics["aligned_part"] = dict(part, a_s=part.get("b_s"), b_s=part.get("a_s"),
                                               whole_a=part.get("whole_b"),
                                               whole_b=part.get("whole_a"))
        unshared = diagnostics.get("unshared")
        if isinstance(unshared, list):  # the ends left out (the pipeline's overlap search)
            diagnostics["unshared"] = [
                dict(u, side={"a": "b", "b": "a"}.get(u.get("side"), u.get("side")))
                if isinstance(u, Mapping) else u for u in unshared]
            warning = diagnostics.get("warning")
            try:  # the engine's words about these ends (not another warning) follow the sides
                if warning is not None and warning == unshared_warning(unshared, self.sources):
                    diagnostics["warning"] = unshared_warning(diagnostics["unshared"],
                                                              sources)
            except (KeyError, TypeError, ValueError):  # spans of another shape: left as read
                pass
        pauses = diagnostics.get("pauses")
        if isinstance(pauses, Mapping) and isinstance(pauses.get("spans"), list):
            # the pauses the pipeline placed (:mod:`core.pipeline.pauses`): their sides
            diagnostics["pauses"] = dict(pauses, spans=[
                dict(f, side={"a": "b", "b": "a"}.get(f.get("side"), f.get("side")))
                if isinstance(f, Mapping) else f for f in pauses["spans"]])
        check = diagnostics.get("order_check")
        if isinstance(check, Mapping) and isinstance(check.get("stretches"), list):
            from .structure.order import transposed_check  # the stretches' sides exchanged

            diagnostics["order_check"] = transposed_check(check)
        if diagnostics.get("segments") is not None:
            segments = []
            for rec in diagnostics["segments"]:
                rec = dict(rec, start=tuple(rec["start"])[::-1], end=tuple(rec["end"])[::-1])
                if rec.get("search_window") is not None:
                    rec["search_window"] = transpose_outline(rec["search_window"], self.n_a,
                                                             self.n_b)
                segments.append(rec)
            diagnostics["segments"] = segments
        return Alignment(
            path[order], self.rate_b_hz, self.rate_a_hz, n_a=self.n_b, n_b=self.n_a,
            method=self.method, params=params, distance=self.distance,
            normalized_distance=self.normalized_distance,
            plan=None if self.plan is None else np.ascontiguousarray(self.plan.T),
            confidence=None if self.confidence is None else self.confidence[order],
            diagnostics=diagnostics, sources=sources)

    # ------------------------------------------------------------------ time mapping
    def map_a_to_b(self, t_s):
        """Map times of A (seconds) to times of B through the path.

        Where A holds still while B advances (a run of rows with the same ``i``), the
        time maps to the middle of B's run; between rows it interpolates linearly.
        Times outside the path are clamped to its ends.
        """
        ta, tb = self.mapping_knots(0)
        return self._map(t_s, ta, tb)

    def map_b_to_a(self, t_s):
        """Map times of B (seconds) to times of A; the mirror of :meth:`map_a_to_b`."""
        tb, ta = self.mapping_knots(1)
        return self._map(t_s, tb, ta)

    def mapping_knots(self, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """The knots (seconds, read-only) that :meth:`map_a_to_b` (``axis=0``: times of
        A, times of B) and :meth:`map_b_to_a` (``axis=1``: times of B, times of A)
        interpolate between; computed once per Alignment (it is immutable, and an
        hour-long path takes milliseconds per computation)."""
        cache = self.__dict__.setdefault("_knots_cache", {})
        knots = cache.get(axis)
        if knots is None:
            keys, values = path_knots(self.path, axis)
            rates = (self.rate_a_hz, self.rate_b_hz)
            knots = (keys / rates[axis], values / rates[1 - axis])
            for k in knots:
                k.setflags(write=False)
            cache[axis] = knots
        return knots

    @staticmethod
    def _map(t_s, x_knots, y_knots):
        t = np.asarray(t_s, dtype=np.float64)
        out = np.interp(t, x_knots, y_knots)
        return float(out) if out.ndim == 0 else out

    def __reduce__(self):
        # pickling (child processes, caches): the frozen mappings travel as plain dicts,
        # the cached knots and times do not
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name in ("params", "diagnostics", "sources"):
            fields[name] = dict(fields[name])
        return (_restore, (fields,))

    def __repr__(self) -> str:
        return (f"Alignment(method={self.method!r}, L={len(self.path)}, n_a={self.n_a}, "
                f"n_b={self.n_b}, distance={self.distance:.6g})")


def _restore(fields: dict) -> Alignment:
    return Alignment(**fields)


def path_knots(path: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Strictly increasing knots of a monotone path for mapping along ``axis``.

    For each distinct value ``k`` of ``path[:, axis]`` the knot is ``(k, centre)`` where
    ``centre`` is the middle of the other coordinate's run at ``k``.

    Returns
    -------
    keys, values : ndarray of float64, shape (K,)
    """
    path = np.asarray(path)
    keys = path[:, axis]
    other = path[:, 1 - axis].astype(np.float64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)] - 1
    centre = 0.5 * (other[starts] + other[ends])
    return keys[starts].astype(np.float64), centre


def _source_name(sources, side: str) -> str:
    """The file name of side ``"a"`` or ``"b"`` of a result's sources (its letter when
    it has no path), for messages."""
    source = sources.get(side) if isinstance(sources, Mapping) else None
    path = source.get("path") if isinstance(source, Mapping) else None
    return os.path.basename(str(path)) if path else side.upper()


def unshared_warning(spans, sources) -> str | None:
    """The warning about the ends an alignment left out that are not quiet, or None.

    Parameters
    ----------
    spans : list of dict
        ``diagnostics["unshared"]`` (:func:`core.pipeline.overlap.unshared_ends`):
        ``side``, ``end``, ``start_s``, ``end_s``, ``quiet``.
    sources : Mapping
        The result's ``sources``: each side is named by its file.
    """
    loud = _loud(spans)
    if not loud:
        return None
    parts = []
    for side in "ab":
        mine = [s for s in loud if s["side"] == side]
        if not mine:
            continue
        other = "b" if side == "a" else "a"
        where = " and ".join(f"its {s['end']} ({float(s['start_s']):.1f}-"
                             f"{float(s['end_s']):.1f} s)" for s in mine)
        parts.append(f"{side.upper()} ({_source_name(sources, side)}) has material at "
                     f"{where} that {other.upper()} ({_source_name(sources, other)}) "
                     "seems to lack")
    return ("; ".join(parts) + ". The alignment leaves it out; if it does occur in the "
            "other recording, place an anchor there.")


def aligned_part(a_frames, b_frames, n_a: int, n_b: int, rate_a_hz: float,
                 rate_b_hz: float) -> dict:
    """``diagnostics["aligned_part"]`` of a path that reaches A's frames ``a_frames``
    (first, last) and B's ``b_frames`` of ``n_a`` and ``n_b`` at these rates: the first
    and last aligned time per side (``a_s``, ``b_s``, rounded to the millisecond) and
    whether each side is aligned whole (``whole_a``, ``whole_b``)."""
    (a0, a1), (b0, b1) = (int(v) for v in a_frames), (int(v) for v in b_frames)
    ra, rb = float(rate_a_hz), float(rate_b_hz)
    return {"a_s": [round(a0 / ra, 3), round(a1 / ra, 3)],
            "b_s": [round(b0 / rb, 3), round(b1 / rb, 3)],
            "whole_a": a0 == 0 and a1 == n_a - 1,
            "whole_b": b0 == 0 and b1 == n_b - 1}


def unshared_seconds(spans) -> float | None:
    """Seconds of the ends an alignment left out that are not quiet (both sides, both
    ends together: what :func:`unshared_warning` warns about), or None when there are
    none.

    Parameters
    ----------
    spans : list of dict or None
        ``diagnostics["unshared"]`` (missing for a result that left nothing out).
    """
    loud = _loud(spans)
    if not loud:
        return None
    return sum(float(s["end_s"]) - float(s["start_s"]) for s in loud)


def _loud(spans) -> list:
    """The spans of ``diagnostics["unshared"]`` that are not quiet."""
    if not isinstance(spans, list | tuple):
        return []
    return [s for s in spans if isinstance(s, Mapping) and not s["quiet"]]
