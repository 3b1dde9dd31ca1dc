"""The window's Session: a thin Qt adapter over a :class:`core.project.Project`.

The state (recordings, stream feature recipes, results with their recipes, anchors,
selection, cursor) is a Qt-free :class:`~core.project.Project`; the live objects (open
recordings, computed features, waveform envelopes) sit beside it in a
:class:`~core.project.Cache`, keyed by content. The Session turns the project's changes
into the signals the views observe; views refer to alignments by id and never talk to
each other. Playback (a clock that moves the cursor) and manual path correction (edits
that replace an alignment and push an undo step) go through the same object.

All methods run on the GUI thread.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from PySide6.QtCore import QObject, Signal

from core import registry
from core.alignment import Alignment
from core.project import SLOTS, Cache, Change, Project, RecordingInfo
from core.registry import FeatureSpec, Recipe

__all__ = ["Session", "Stream", "SLOTS"]


@dataclasses.dataclass(frozen=True)
class Stream:
    """What the window has of one open recording (a view of the state and the cache).

    ``features`` maps a feature name to its Features (the stream view's own for its
    name); ``display_feature`` is the name the stream view shows; ``envelope`` is the
    waveform overview (audio only, filled later).
    """

    recording: object
    info: RecordingInfo
    features: dict
    display_feature: str | None = None
    envelope: object = None

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def duration_s(self) -> float:
        return self.info.duration_s

    @property
    def path(self) -> str:
        return self.info.path


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

    def __init__(self, parent: QObject | None = None, *, project: Project | None = None):
        super().__init__(parent)
        self.project = Project() if project is None else project
        self.cache = Cache()
        # image features of results made without open recordings (tests, benchmarks):
        # no content key to cache them by, so kept per result id
        self._loose: dict[int, tuple] = {}
        self._unsubscribe = self.project.subscribe(self._on_change)

    # ------------------------------------------------------------------ changes -> signals
    def _on_change(self, change: Change) -> None:
        what = change.what
        if what in ("recording_opened", "recording_closed"):
            self.cache.keep_only(r.key for s in SLOTS if (r := self.project.recording(s)))
            getattr(self, what).emit(change.slot)
        elif what == "recordings_swapped":
            self.recordings_swapped.emit()
        elif what == "display_feature_changed":
            self.features_added.emit(change.slot, change.name)
        elif what == "result_added":
            self.alignment_added.emit(change.result_id)
        elif what == "result_removed":
            self._loose.pop(change.result_id, None)
            self.alignment_removed.emit(change.result_id)
        elif what == "result_edited":
            self.alignment_edited.emit(change.result_id)
        elif what == "active_changed":
            self.active_alignment_changed.emit(change.result_id)
        elif what == "compared_changed":
            self.compared_alignment_changed.emit(change.result_id)
        elif what == "cursor_moved":
            self.cursor_moved.emit(*self.project.cursor)
        elif what == "anchors_changed":
            self.anchors_changed.emit()
        elif what == "restored":
            self._loose.clear()
            for slot in SLOTS:
                if self.project.recording(slot) is not None:
                    self.recording_opened.emit(slot)
            for rid in self.project.result_ids():
                self.alignment_added.emit(rid)
            self.active_alignment_changed.emit(self.project.active_id)
            self.compared_alignment_changed.emit(self.project.compared_id)
            self.anchors_changed.emit()
            self.cursor_moved.emit(*self.project.cursor)

    # ------------------------------------------------------------------ streams
    def _key(self, slot: str) -> str | None:
        info = self.project.recording(slot)
        return None if info is None else info.key

    def stream(self, slot: str) -> Stream | None:
        info = self.project.recording(slot)
        if info is None:
            return None
        key = info.key
        display = self.project.display_feature(slot)
        features = {spec.name: f for spec, f in self.cache.features_of(key).items()}
        if display is not None and self.cache.features(key, display) is not None:
            features[display.name] = self.cache.features(key, display)
        return Stream(self.cache.recording(key), info, features,
                      None if display is None else display.name, self.cache.envelope(key))

    def recording(self, slot: str):
        return self.cache.recording(self._key(slot))

    def recording_info(self, slot: str) -> RecordingInfo | None:
        return self.project.recording(slot)

    def has_both(self) -> bool:
        return self.project.has_both()

    def set_recording(self, slot: str, recording, info: RecordingInfo | None = None) -> None:
        """Put ``recording`` in ``slot`` (``info``: what the state records, with the
        content hash the worker computed; without it, from the recording, unhashed);
        alignments made with the old one are removed."""
        if slot not in SLOTS:
            raise ValueError(f"slot: expected 'a' or 'b', got {slot!r}")
        info = RecordingInfo.of(recording) if info is None else info
        self.cache.put_recording(info.key, recording)
        self.project.set_recording(slot, info)

    def close_recording(self, slot: str) -> None:
        self.project.close_recording(slot)

    def add_features(self, slot: str, features, *, display: bool = False,
                     spec: FeatureSpec | None = None) -> None:
        """Keep ``features`` of the recording in ``slot`` (``spec``: the recipe they were
        computed from; default: their name and rate). ``display``: the stream view shows
        them (as it does the first features of a stream)."""
        key = self._key(slot)
        if key is None:
            return
        spec = FeatureSpec(features.name, features.rate_hz) if spec is None else spec
        self.cache.put_features(key, spec, features)
        if display or self.project.display_feature(slot) is None:
            self.project.set_display_feature(slot, spec)
        else:
            self.features_added.emit(slot, spec.name)

    def set_envelope(self, slot: str, envelope) -> None:
        key = self._key(slot)
        if key is None:
            return
        self.cache.put_envelope(key, envelope)
        self.envelope_added.emit(slot)

    def swap(self) -> None:
        """Exchange A and B; alignments, recipes, the cursor and the anchors follow."""
        self._loose = {k: (v[1], v[0]) for k, v in self._loose.items()}
        self.project.swap()

    # ------------------------------------------------------------------ alignments
    def add_alignment(self, alignment: Alignment, *, label: str = "", matrix_inputs=None,
                      activate: bool = True, recipe: Recipe | None = None,
                      image: tuple[FeatureSpec, FeatureSpec, str] | None = None) -> int:
        """Store a result and return its id; it becomes the active one by default.

        ``recipe`` records how it was made (default: only its method name).
        ``matrix_inputs`` is ``(features_a, features_b, metric)``, what the matrix view
        draws the cost of for this alignment (``image``: their recipes; default their
        names and rates). The path data the views derive (cursor knots, path in
        seconds) is cached on the immutable Alignment: workers fill it with
        :func:`core.display.prepare_path`, else it is computed on first use.
        """
        if not isinstance(alignment, Alignment):
            raise TypeError(f"alignment: expected an Alignment, got {type(alignment).__name__}")
        recipe = Recipe(alignment.method, {}) if recipe is None else recipe
        loose = None
        if matrix_inputs is not None:
            fa, fb, metric = matrix_inputs
            if image is None:
                image = (FeatureSpec(fa.name, fa.rate_hz), FeatureSpec(fb.name, fb.rate_hz),
                         metric)
            keys = (self._key("a"), self._key("b"))
            if None in keys:
                loose = (fa, fb)
            else:
                self.cache.put_features(keys[0], image[0], fa)
                self.cache.put_features(keys[1], image[1], fb)
        if not label:
            label = registry.describe(recipe) if recipe.method in registry.METHODS \
                else _describe(alignment)
        # the id is known only once added; its views ask for the matrix inputs at once
        rid = self.project.next_id
        if loose is not None:
            self._loose[rid] = loose
        added = self.project.add_result(alignment, recipe, label=label, image=image,
                                        activate=activate)
        assert added == rid
        return rid

    def remove_alignment(self, aid: int) -> None:
        self.project.remove_result(aid)

    def clear_alignments(self) -> None:
        self.project.clear_results()

    def apply_edit(self, aid: int, edited: Alignment, description: str = "edit") -> None:
        """Replace alignment ``aid`` by ``edited`` (a new, validated Alignment made by a
        manual correction) and push an undo step. Views redraw on ``alignment_edited``."""
        self.project.apply_edit(aid, edited, description)

    def edit_result(self, aid: int, edited: Alignment, constraints, description: str) -> None:
        """Replace result ``aid``'s alignment and constraints (one undo step)."""
        self.project.edit_result(aid, edited, constraints, description)

    def settle_result(self, aid: int, settled: Alignment, constraints) -> bool:
        """The better path of the same edit, without an undo step
        (:meth:`core.project.Project.settle_result`)."""
        return self.project.settle_result(aid, settled, constraints)

    def add_corrected(self, base_id: int, alignment: Alignment, constraints, *,
                      activate: bool = True, undo_text: str | None = None) -> int:
        """A corrected copy of result ``base_id`` (its recipe, its cost image, its
        alignment as the base the path is recomputed from); returns its id. It becomes
        the active result unless ``activate`` is False. ``undo_text``: the correction
        that made it, an undo step that takes the copy back to the base's path
        (:meth:`core.project.Project.add_result`)."""
        res = self.project.result(base_id)
        rid = self.project.next_id
        if base_id in self._loose:
            self._loose[rid] = self._loose[base_id]
        added = self.project.add_result(
            alignment, res.recipe, label=f"manual (from #{base_id} {res.label})",
            image=res.image, constraints=constraints,
            base=res.base if res.base is not None else res.alignment, activate=activate,
            undo_text=undo_text)
        assert added == rid
        return rid

    def can_undo(self) -> bool:
        return self.project.can_undo()

    def can_redo(self) -> bool:
        return self.project.can_redo()

    def undo(self) -> str | None:
        """Undo the last edit of an alignment that still exists; returns its description."""
        return self.project.undo()

    def redo(self) -> str | None:
        """Redo the last undone edit; returns its description."""
        return self.project.redo()

    def alignment(self, aid: int) -> Alignment | None:
        return self.project.alignment(aid)

    def recipe(self, aid: int) -> Recipe | None:
        """How result ``aid`` was made (the user's values, the features per stream)."""
        res = self.project.result(aid)
        return None if res is None else res.recipe

    def label(self, aid: int) -> str:
        res = self.project.result(aid)
        return "" if res is None else res.label

    def matrix_inputs(self, aid: int):
        """``(features_a, features_b, metric)`` the matrix draws for result ``aid``, or
        None when its features are not at hand."""
        res = self.project.result(aid)
        if res is None or res.image is None:
            return None
        spec_a, spec_b, metric = res.image
        if aid in self._loose:
            fa, fb = self._loose[aid]
        else:
            fa = self.cache.features(res.inputs.get("a"), spec_a)
            fb = self.cache.features(res.inputs.get("b"), spec_b)
        if fa is None or fb is None:
            return None
        return fa, fb, metric

    def shown_inputs(self, aid: int):
        """What the matrix shows under result ``aid`` and a correction of it re-solves
        on: its own features (:meth:`matrix_inputs`), else, for a path read from a file
        (imported, a batch's output), those of the first result that has them; None
        when no result has any."""
        inputs = self.matrix_inputs(aid)
        for other in self.alignment_ids():
            if inputs is not None:
                break
            inputs = self.matrix_inputs(other)
        return inputs

    def alignment_ids(self) -> list[int]:
        return self.project.result_ids()

    @property
    def active_id(self) -> int:
        return self.project.active_id

    @property
    def compared_id(self) -> int:
        return self.project.compared_id

    def active_alignment(self) -> Alignment | None:
        return self.project.active_alignment()

    def set_active(self, aid: int) -> None:
        self.project.set_active(aid)

    def set_compared(self, aid: int) -> None:
        self.project.set_compared(aid)

    # ------------------------------------------------------------------ anchors
    @property
    def anchors(self) -> tuple[tuple[float, float], ...]:
        """Points (time on A, time on B) in seconds that the next DTW run must pass
        through, sorted by A."""
        return self.project.anchors

    def add_anchor(self, time_a_s: float, time_b_s: float) -> None:
        self.project.add_anchor(time_a_s, time_b_s)

    def remove_anchor(self, index: int) -> None:
        self.project.remove_anchor(index)

    def clear_anchors(self) -> None:
        self.project.clear_anchors()

    # ------------------------------------------------------------------ cursor
    @property
    def cursor(self) -> tuple[float, float]:
        """The cursor as (time on A, time on B) in seconds."""
        return self.project.cursor

    def duration(self, slot: str) -> float:
        return self.project.duration(slot)

    def move_cursor(self, slot: str, time_s: float, *, near=None) -> None:
        """Put the cursor at ``time_s`` on ``slot``; the other side follows the active
        alignment (or keeps its time when there is none; ``near``: see
        :meth:`core.project.Project.move_cursor`)."""
        self.project.move_cursor(slot, time_s, near=near)

    def move_cursor_to(self, time_a_s: float, time_b_s: float) -> None:
        self.project.move_cursor_to(time_a_s, time_b_s)

    def step_cursor(self, slot: str, n_frames: int = 0, seconds: float = 0.0) -> None:
        """Move the cursor by frames of ``slot``'s stream features plus seconds."""
        self.project.step_cursor(slot, n_frames, seconds)

    def path_times(self, aid: int) -> np.ndarray | None:
        """``alignment(aid).times_s`` (the path in seconds, cached on the alignment);
        None for an unknown id."""
        al = self.project.alignment(aid)
        return None if al is None else al.times_s

    def map_a_to_b(self, t_s):
        """Times of A mapped to B through the active alignment
        (``active_alignment().map_a_to_b``); times unchanged without one."""
        al = self.project.active_alignment()
        return t_s if al is None else al.map_a_to_b(t_s)


def _describe(al: Alignment) -> str:
    """A label for a result that no registry method made (an edit, a file)."""
    dist = "" if math.isnan(al.distance) else f" d={al.distance:.4g}"
    return f"{al.method}{dist}"
