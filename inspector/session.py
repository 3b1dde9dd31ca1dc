"""The one object that holds what is open and what is selected.

Views observe the :class:`Session` through its signals and refer to alignments by id;
they never talk to each other. Playback (a clock that moves the cursor) and manual path
correction (edits that add a new Alignment and an undo step) plug into the same object:
both go through :meth:`Session.move_cursor` and :meth:`Session.add_alignment`.

All methods run on the GUI thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from core.alignment import Alignment
from core.warping.windows import transpose_outline

__all__ = ["Session", "Stream", "SLOTS", "transpose_alignment"]

SLOTS = ("a", "b")


@dataclass(frozen=True)
class Stream:
    """What the session knows about one open recording.

    ``features`` maps a feature name to its Features; ``display_feature`` is the one the
    stream view shows; ``envelope`` is the waveform pyramid (audio only, filled later).
    """

    recording: Any
    features: dict = field(default_factory=dict)
    display_feature: str | None = None
    envelope: Any = None

    @property
    def kind(self) -> str:
        return self.recording.kind

    @property
    def duration_s(self) -> float:
        return float(self.recording.duration_s)

    @property
    def path(self) -> str:
        return str(self.recording.path)


def transpose_alignment(al: Alignment) -> Alignment:
    """The same correspondence seen from the other side (A and B exchanged)."""
    path = np.ascontiguousarray(al.path[:, ::-1])
    order = np.lexsort((path[:, 1], path[:, 0]))
    sources = dict(al.sources)
    if "a" in sources or "b" in sources:
        sources["a"], sources["b"] = sources.get("b"), sources.get("a")
    params = dict(al.params)
    if params.get("anchors_s") is not None:  # seconds (the panel's)
        params["anchors_s"] = np.asarray(params["anchors_s"], dtype=float).reshape(-1, 2)[
            :, ::-1].tolist()
    if params.get("anchors") is not None:  # frames (the engine's)
        params["anchors"] = [(int(j), int(i)) for i, j in params["anchors"]]
    diagnostics = dict(al.diagnostics)
    if diagnostics.get("search_window") is not None:
        diagnostics["search_window"] = transpose_outline(diagnostics["search_window"],
                                                         al.n_a, al.n_b)
    return Alignment(
        path[order], al.rate_b_hz, al.rate_a_hz, n_a=al.n_b, n_b=al.n_a, method=al.method,
        params=params, distance=al.distance, normalized_distance=al.normalized_distance,
        plan=None if al.plan is None else np.ascontiguousarray(al.plan.T),
        confidence=None if al.confidence is None else al.confidence[order],
        diagnostics=diagnostics, sources=sources)


class Session(QObject):
    """Open recordings A and B, their features, the alignment results and the cursor.

    Signals
    -------
    recording_opened(slot)            a recording was put in slot "a" or "b"
    recording_closed(slot)
    recordings_swapped()              A and B exchanged (alignments are transposed)
    features_added(slot, name)        features of a stream were computed
    envelope_added(slot)
    alignment_added(id)
    alignment_removed(id)
    alignment_edited(id)              an alignment was replaced by an edited one (undoable)
    active_alignment_changed(id)      -1 when there is none
    compared_alignment_changed(id)    the second alignment drawn on the matrix, -1 for none
    cursor_moved(time_a_s, time_b_s)
    anchors_changed()                 the anchors for the next DTW run changed
    error_reported(message)           something the window should tell the user
    """

    recording_opened = Signal(str)
    recording_closed = Signal(str)
    recordings_swapped = Signal()
    features_added = Signal(str, str)
    envelope_added = Signal(str)
    alignment_added = Signal(int)
    alignment_removed = Signal(int)
    alignment_edited = Signal(int)
    active_alignment_changed = Signal(int)
    compared_alignment_changed = Signal(int)
    cursor_moved = Signal(float, float)
    anchors_changed = Signal()
    error_reported = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._streams: dict[str, Stream | None] = {"a": None, "b": None}
        self._alignments: dict[int, Alignment] = {}
        self._labels: dict[int, str] = {}
        self._next_id = 1
        self._active = -1
        self._compared = -1
        self._cursor = (0.0, 0.0)
        # the features the matrix shows, per alignment id: (features A, features B, metric)
        self._matrix_inputs: dict[int, tuple] = {}
        # manual correction: (id, alignment before the edit, description), newest last
        self._undo: list[tuple[int, Alignment, str]] = []
        # points (time A, time B) the next DTW run must pass through, sorted by A
        self._anchors: list[tuple[float, float]] = []

    # ------------------------------------------------------------------ streams
    def stream(self, slot: str) -> Stream | None:
        return self._streams[slot]

    def recording(self, slot: str):
        s = self._streams[slot]
        return None if s is None else s.recording

    def has_both(self) -> bool:
        return all(s is not None for s in self._streams.values())

    def set_recording(self, slot: str, recording) -> None:
        """Put ``recording`` in ``slot``; alignments made with the old one are removed."""
        _check_slot(slot)
        self._streams[slot] = Stream(recording)
        self.clear_alignments()
        self.clear_anchors()
        self._cursor = (0.0, 0.0)
        self.recording_opened.emit(slot)
        self.cursor_moved.emit(*self._cursor)

    def close_recording(self, slot: str) -> None:
        _check_slot(slot)
        if self._streams[slot] is None:
            return
        self._streams[slot] = None
        self.clear_alignments()
        self.clear_anchors()
        self.recording_closed.emit(slot)

    def add_features(self, slot: str, features, *, display: bool = False) -> None:
        s = self._streams[slot]
        if s is None:
            return
        feats = dict(s.features)
        feats[features.name] = features
        shown = features.name if (display or s.display_feature is None) else s.display_feature
        self._streams[slot] = replace(s, features=feats, display_feature=shown)
        self.features_added.emit(slot, features.name)

    def set_envelope(self, slot: str, envelope) -> None:
        s = self._streams[slot]
        if s is None:
            return
        self._streams[slot] = replace(s, envelope=envelope)
        self.envelope_added.emit(slot)

    def swap(self) -> None:
        """Exchange A and B; alignments, the cursor and the matrix inputs follow."""
        self._streams = {"a": self._streams["b"], "b": self._streams["a"]}
        self._alignments = {k: transpose_alignment(v) for k, v in self._alignments.items()}
        self._matrix_inputs = {k: (v[1], v[0], v[2]) for k, v in self._matrix_inputs.items()}
        self._cursor = (self._cursor[1], self._cursor[0])
        self._anchors = sorted((tb, ta) for ta, tb in self._anchors)
        self.recordings_swapped.emit()
        self.anchors_changed.emit()
        self.active_alignment_changed.emit(self._active)
        self.cursor_moved.emit(*self._cursor)

    # ------------------------------------------------------------------ alignments
    def add_alignment(self, alignment: Alignment, *, label: str = "", matrix_inputs=None,
                      activate: bool = True) -> int:
        """Store a result and return its id; it becomes the active one by default.

        ``matrix_inputs`` is ``(features_a, features_b, metric)``: what the matrix view
        draws the cost of for this alignment. The path data the views derive (cursor
        knots, path in seconds) is cached on the immutable Alignment: workers fill it
        with :func:`inspector.compute.prepare_path`, else it is computed on first use.
        """
        if not isinstance(alignment, Alignment):
            raise TypeError(f"alignment: expected an Alignment, got {type(alignment).__name__}")
        aid = self._next_id
        self._next_id += 1
        self._alignments[aid] = alignment
        self._labels[aid] = label or describe(alignment)
        if matrix_inputs is not None:
            self._matrix_inputs[aid] = matrix_inputs
        self.alignment_added.emit(aid)
        if activate:
            self.set_active(aid)
        return aid

    def remove_alignment(self, aid: int) -> None:
        if aid not in self._alignments:
            return
        del self._alignments[aid]
        self._labels.pop(aid, None)
        self._matrix_inputs.pop(aid, None)
        self.alignment_removed.emit(aid)
        if self._compared == aid:
            self.set_compared(-1)
        if self._active == aid:
            self.set_active(max(self._alignments, default=-1))

    # ------------------------------------------------------------------ anchors
    @property
    def anchors(self) -> tuple[tuple[float, float], ...]:
        """Points (time on A, time on B) in seconds that the next DTW run must pass
        through, sorted by A."""
        return tuple(self._anchors)

    def add_anchor(self, time_a_s: float, time_b_s: float) -> None:
        """Add an anchor (clipped to both recordings); one per time of A: a new anchor
        at the same time of A replaces the old one."""
        if not self.has_both():
            raise ValueError("anchors need both recordings open")
        ta, tb = float(time_a_s), float(time_b_s)
        if not (math.isfinite(ta) and math.isfinite(tb)):
            raise ValueError(f"anchor: times must be finite, got ({ta}, {tb})")
        ta = min(max(ta, 0.0), self.duration("a"))
        tb = min(max(tb, 0.0), self.duration("b"))
        self._anchors = sorted([p for p in self._anchors if abs(p[0] - ta) > 1e-9]
                               + [(ta, tb)])
        self.anchors_changed.emit()

    def remove_anchor(self, index: int) -> None:
        del self._anchors[index]
        self.anchors_changed.emit()

    def clear_anchors(self) -> None:
        if self._anchors:
            self._anchors = []
            self.anchors_changed.emit()

    def clear_alignments(self) -> None:
        for aid in list(self._alignments):
            self.remove_alignment(aid)

    def apply_edit(self, aid: int, edited: Alignment, description: str = "edit") -> None:
        """Replace alignment ``aid`` by ``edited`` (a new, validated Alignment made by a
        manual correction) and push an undo step. Views redraw on ``alignment_edited``."""
        if aid not in self._alignments:
            raise KeyError(f"no alignment with id {aid}")
        if not isinstance(edited, Alignment):
            raise TypeError(f"edited: expected an Alignment, got {type(edited).__name__}")
        self._undo.append((aid, self._alignments[aid], description))
        self._alignments[aid] = edited
        self.alignment_edited.emit(aid)
        if aid == self._active:
            self.move_cursor("a", self._cursor[0])

    def can_undo(self) -> bool:
        return any(aid in self._alignments for aid, _, _ in self._undo)

    def undo(self) -> str | None:
        """Undo the last edit of an alignment that still exists; returns its description."""
        while self._undo:
            aid, before, description = self._undo.pop()
            if aid in self._alignments:
                self._alignments[aid] = before
                self.alignment_edited.emit(aid)
                if aid == self._active:
                    self.move_cursor("a", self._cursor[0])
                return description
        return None

    def alignment(self, aid: int) -> Alignment | None:
        return self._alignments.get(aid)

    def label(self, aid: int) -> str:
        return self._labels.get(aid, "")

    def matrix_inputs(self, aid: int):
        return self._matrix_inputs.get(aid)

    def alignment_ids(self) -> list[int]:
        return list(self._alignments)

    @property
    def active_id(self) -> int:
        return self._active

    @property
    def compared_id(self) -> int:
        return self._compared

    def active_alignment(self) -> Alignment | None:
        return self._alignments.get(self._active)

    def set_active(self, aid: int) -> None:
        if aid != -1 and aid not in self._alignments:
            raise KeyError(f"no alignment with id {aid}")
        if aid == self._active:
            return
        self._active = aid
        if self._compared == aid:
            self._compared = -1
            self.compared_alignment_changed.emit(-1)
        self.active_alignment_changed.emit(aid)
        # the cursor on A stays; B follows the new alignment
        self.move_cursor("a", self._cursor[0])

    def set_compared(self, aid: int) -> None:
        if aid != -1 and aid not in self._alignments:
            raise KeyError(f"no alignment with id {aid}")
        if aid == self._active:
            aid = -1
        if aid != self._compared:
            self._compared = aid
            self.compared_alignment_changed.emit(aid)

    # ------------------------------------------------------------------ cursor
    @property
    def cursor(self) -> tuple[float, float]:
        """The cursor as (time on A, time on B) in seconds."""
        return self._cursor

    def duration(self, slot: str) -> float:
        s = self._streams[slot]
        return 0.0 if s is None else s.duration_s

    def move_cursor(self, slot: str, time_s: float) -> None:
        """Put the cursor at ``time_s`` on ``slot``; the other side follows the active
        alignment (or keeps its time when there is none)."""
        _check_slot(slot)
        t = float(time_s)
        if not math.isfinite(t):
            return
        t = min(max(t, 0.0), self.duration(slot)) if self._streams[slot] else max(t, 0.0)
        al = self.active_alignment()
        if al is None:
            new = (t, self._cursor[1]) if slot == "a" else (self._cursor[0], t)
        else:
            # the alignment caches its mapping knots (filled on the worker that made it)
            new = (t, al.map_a_to_b(t)) if slot == "a" else (al.map_b_to_a(t), t)
        if new != self._cursor:
            self._cursor = new
            self.cursor_moved.emit(*new)

    def path_times(self, aid: int) -> np.ndarray | None:
        """``alignment(aid).times_s`` (the path in seconds, cached on the alignment);
        None for an unknown id."""
        al = self._alignments.get(aid)
        return None if al is None else al.times_s

    def map_a_to_b(self, t_s):
        """Times of A mapped to B through the active alignment
        (``active_alignment().map_a_to_b``); times unchanged without one."""
        al = self.active_alignment()
        return t_s if al is None else al.map_a_to_b(t_s)

    def move_cursor_to(self, time_a_s: float, time_b_s: float) -> None:
        """Put the cursor at a point of the matrix: A's time is kept, B's too (a click off
        the path shows where it is; the status bar tells the mapped time)."""
        new = (max(0.0, float(time_a_s)), max(0.0, float(time_b_s)))
        if new != self._cursor:
            self._cursor = new
            self.cursor_moved.emit(*new)

    def step_cursor(self, slot: str, n_frames: int = 0, seconds: float = 0.0) -> None:
        """Move the cursor by frames of ``slot``'s display features (or media frames)
        plus seconds."""
        s = self._streams[slot]
        if s is None:
            return
        rate = None
        if s.display_feature and s.display_feature in s.features:
            rate = s.features[s.display_feature].rate_hz
        if rate is None:
            rate = s.recording.rate_hz if s.kind == "video" else 50.0
        t = self._cursor[0 if slot == "a" else 1]
        self.move_cursor(slot, t + n_frames / float(rate) + seconds)


def describe(al: Alignment) -> str:
    """A short label for a results list: method and its main parameters."""
    keys = [k for k in ("feature_a", "step_pattern", "window_radius_s", "reg", "gamma",
                        "temperature", "method") if k in al.params]
    bits = [f"{k}={al.params[k]}" for k in keys]
    dist = "" if math.isnan(al.distance) else f" d={al.distance:.4g}"
    return f"{al.method} " + " ".join(bits) + dist


def _check_slot(slot: str) -> None:
    if slot not in SLOTS:
        raise ValueError(f"slot: expected 'a' or 'b', got {slot!r}")
