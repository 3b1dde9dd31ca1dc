"""The content of an inspection session, without Qt: what is open, how each result was
made, what is selected, where the cursor is.

:class:`Project` is a plain object: recordings by path and content hash (with kind,
duration, rate), the feature recipe each stream view shows, the results with the recipe
that made each one (:class:`core.registry.Recipe`) and the recordings it was made from,
the anchors for the next DTW run, the active and compared result, the cursor, an undo
stack of edits, and a plain dict of view state. It has one change notification
(:meth:`Project.subscribe`: a callback receives a :class:`Change` saying what changed)
and :meth:`Project.snapshot` / :meth:`Project.restore`, whose snapshot is plain data
(dicts, lists, tuples, numbers, strings, numpy arrays for paths and plans), so a project
file can be written from it.

Live objects (open recordings, computed features, waveform envelopes) are not state:
they live in a :class:`Cache` beside it, keyed by content (:attr:`RecordingInfo.key` and
:class:`~core.registry.FeatureSpec`), and can always be made again from the state.

The window's ``inspector.session.Session`` is a thin Qt adapter over a Project and a
Cache: it turns changes into its signals.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

from .alignment import Alignment
from .constraints import Constraints
from .registry import FeatureSpec, Recipe, transpose_recipe

__all__ = ["Project", "Cache", "Change", "RecordingInfo", "Result", "SLOTS", "CHANGES",
           "alignment_to_data", "alignment_from_data"]

SLOTS = ("a", "b")
SNAPSHOT_VERSION = 1
#: what a :class:`Change` can say
CHANGES = ("recording_opened", "recording_closed", "recordings_swapped",
           "display_feature_changed", "result_added", "result_removed", "result_edited",
           "active_changed", "compared_changed", "cursor_moved", "anchors_changed",
           "view_changed", "restored")


@dataclasses.dataclass(frozen=True)
class Change:
    """One change of a :class:`Project`: ``what`` (one of :data:`CHANGES`) and the slot,
    result id or name it concerns."""

    what: str
    slot: str | None = None
    result_id: int | None = None
    name: str | None = None


@dataclasses.dataclass(frozen=True)
class RecordingInfo:
    """What the state knows about an open recording (never the decoder itself).

    ``content_hash`` is the SHA-256 of the file (``Recording.content_hash()``; None when
    it was not computed); :attr:`key` identifies the content in a :class:`Cache`.
    """

    path: str
    content_hash: str | None
    kind: str
    duration_s: float
    rate_hz: float
    n_frames: int | None = None
    n_channels: int | None = None
    width: int | None = None
    height: int | None = None

    @property
    def key(self) -> str:
        """The content key: the hash when known, else the path."""
        return f"sha256:{self.content_hash}" if self.content_hash else f"path:{self.path}"

    @classmethod
    def of(cls, recording, content_hash: str | None = None) -> RecordingInfo:
        """The info of an open Recording (its hash only when given: hashing reads the
        whole file, which is a worker's job)."""

        def opt_int(name):
            value = getattr(recording, name, None)
            return None if value is None else int(value)

        return cls(str(recording.path), content_hash, str(recording.kind),
                   float(recording.duration_s), float(recording.rate_hz),
                   opt_int("n_frames"), opt_int("n_channels"), opt_int("width"),
                   opt_int("height"))

    def to_data(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_data(cls, data: Mapping) -> RecordingInfo:
        """Raises ValueError for what no open recording has (a damaged project)."""
        info = cls(**dict(data))
        if not isinstance(info.path, str) or not isinstance(info.kind, str):
            raise ValueError("recording: path and kind must be text")
        for name in ("duration_s", "rate_hz"):
            value = getattr(info, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value < 0:
                raise ValueError(f"recording {info.path}: {name} must be a finite number "
                                 f"of at least 0, got {value!r}")
        for name in ("n_frames", "n_channels", "width", "height"):
            value = getattr(info, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 0):
                raise ValueError(f"recording {info.path}: {name} must be a count, got "
                                 f"{value!r}")
        return info


@dataclasses.dataclass(frozen=True)
class Result:
    """A result in the state: the alignment (its ``params`` are what the engine ran
    with), the recipe that made it (the user's values, the features per stream), a
    label, the content keys of the recordings it was made from, and what its cost image
    shows (features of A and B and a metric; None for none).

    A corrected result also has its ``constraints`` (:class:`core.constraints.Constraints`:
    anchors and regions) and the ``base`` alignment its path is recomputed from
    (:func:`core.constraints.recompute`); an automatic one has empty constraints and no
    base."""

    alignment: Alignment
    recipe: Recipe
    label: str
    inputs: Mapping[str, str | None]
    image: tuple[FeatureSpec, FeatureSpec, str] | None = None
    constraints: Constraints = Constraints()
    base: Alignment | None = None


def _plain(value):
    """Mappings as dicts, recursively (read-only proxies become plain dicts)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


_ALIGNMENT_FIELDS = ("path", "rate_a_hz", "rate_b_hz", "n_a", "n_b", "method", "params",
                     "distance", "normalized_distance", "plan", "confidence",
                     "diagnostics", "sources")


def alignment_to_data(al: Alignment) -> dict:
    """An Alignment as plain data (its arrays as read-only numpy arrays, not copied)."""
    return {f: _plain(getattr(al, f)) for f in _ALIGNMENT_FIELDS}


def alignment_from_data(data: Mapping) -> Alignment:
    """The Alignment of :func:`alignment_to_data`."""
    return Alignment(**{f: data[f] for f in _ALIGNMENT_FIELDS})


def _image_to_data(image):
    if image is None:
        return None
    return {"a": image[0].to_data(), "b": image[1].to_data(), "metric": image[2]}


def _image_from_data(data):
    if data is None:
        return None
    return FeatureSpec.from_data(data["a"]), FeatureSpec.from_data(data["b"]), data["metric"]


def _pieces_of(al):
    """The pieces a result carries (:mod:`core.structure.carrier`), or None."""
    if "pieces" not in al.diagnostics:
        return None
    from .structure.carrier import piecewise_of

    return piecewise_of(al)


def _transposed_alignment(al):
    """``al.transposed()``; a result with jumps keeps its pieces
    (:func:`core.structure.carrier.transposed`)."""
    if "pieces" not in al.diagnostics:
        return al.transposed()
    from .structure.carrier import transposed

    return transposed(al)


def _check_slot(slot: str) -> None:
    if slot not in SLOTS:
        raise ValueError(f"slot: expected 'a' or 'b', got {slot!r}")


class Project:
    """Recordings, stream feature recipes, results with their recipes, anchors,
    selection, cursor and view state; plain Python, no Qt.

    Every change calls the subscribed callbacks with a :class:`Change`, in the order the
    changes happen (a caller that changes several things gets several changes).
    """

    def __init__(self):
        self._subscribers: list[Callable[[Change], Any]] = []
        self._clear()

    def _clear(self) -> None:
        self._recordings: dict[str, RecordingInfo | None] = {"a": None, "b": None}
        self._display: dict[str, FeatureSpec | None] = {"a": None, "b": None}
        self._results: dict[int, Result] = {}
        self._next_id = 1
        self._active = -1
        self._compared = -1
        self._cursor = (0.0, 0.0)
        # points (time A, time B) the next DTW run must pass through, sorted by A
        self._anchors: list[tuple[float, float]] = []
        # manual corrections: (id, alignment and constraints before the edit,
        # description), newest last; redo holds the undone ones (after the edit)
        self._undo: list[tuple[int, Alignment, Constraints, str]] = []
        self._redo: list[tuple[int, Alignment, Constraints, str]] = []
        # units of both recordings (core.structure): their start frames, as found or
        # as the user moved, split and merged them (kinds are recomputed from them)
        self._units: dict | None = None
        self._view: dict[str, Any] = {}

    # ------------------------------------------------------------------ notification
    def subscribe(self, callback: Callable[[Change], Any]) -> Callable[[], None]:
        """Call ``callback(change)`` after every change; returns a function that
        unsubscribes it."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, what: str, **details) -> None:
        change = Change(what, **details)
        for callback in list(self._subscribers):
            callback(change)

    # ------------------------------------------------------------------ recordings
    def recording(self, slot: str) -> RecordingInfo | None:
        _check_slot(slot)
        return self._recordings[slot]

    def has_both(self) -> bool:
        return all(r is not None for r in self._recordings.values())

    def duration(self, slot: str) -> float:
        info = self._recordings[slot]
        return 0.0 if info is None else info.duration_s

    def set_recording(self, slot: str, info: RecordingInfo) -> None:
        """Put a recording in ``slot``; results and anchors made with the old one go,
        the cursor returns to 0."""
        _check_slot(slot)
        if not isinstance(info, RecordingInfo):
            raise TypeError(f"info: expected a RecordingInfo, got {type(info).__name__}")
        self._recordings[slot] = info
        self._display[slot] = None
        self.clear_results()
        self.clear_anchors()
        self._cursor = (0.0, 0.0)
        self._emit("recording_opened", slot=slot)
        self._emit("cursor_moved")

    def close_recording(self, slot: str) -> None:
        _check_slot(slot)
        if self._recordings[slot] is None:
            return
        self._recordings[slot] = None
        self._display[slot] = None
        self.clear_results()
        self.clear_anchors()
        self._emit("recording_closed", slot=slot)

    def display_feature(self, slot: str) -> FeatureSpec | None:
        """The feature recipe the stream view of ``slot`` shows."""
        _check_slot(slot)
        return self._display[slot]

    def set_display_feature(self, slot: str, spec: FeatureSpec) -> None:
        _check_slot(slot)
        if self._recordings[slot] is None:
            return
        self._display[slot] = spec
        self._emit("display_feature_changed", slot=slot, name=spec.name)

    def swap(self) -> None:
        """Exchange A and B: recordings, stream features, results (alignments
        transposed, recipes, inputs, cost images), the undo stack, the cursor and the
        anchors follow."""
        r, d = self._recordings, self._display
        self._recordings = {"a": r["b"], "b": r["a"]}
        self._display = {"a": d["b"], "b": d["a"]}
        self._results = {k: self._transposed(v) for k, v in self._results.items()}
        self._undo = [(k, _transposed_alignment(al), _transposed_constraints(c, al), text)
                      for k, al, c, text in self._undo]
        self._redo = [(k, _transposed_alignment(al), _transposed_constraints(c, al), text)
                      for k, al, c, text in self._redo]
        self._cursor = (self._cursor[1], self._cursor[0])
        self._anchors = sorted((tb, ta) for ta, tb in self._anchors)
        if self._units is not None:
            u = self._units
            self._units = {"a": u["b"], "b": u["a"], "rate_hz": u["rate_hz"],
                           "inputs": {"a": u["inputs"].get("b"), "b": u["inputs"].get("a")}}
        self._emit("recordings_swapped")
        self._emit("anchors_changed")
        self._emit("active_changed", result_id=self._active)
        self._emit("cursor_moved")

    @staticmethod
    def _transposed(res: Result) -> Result:
        image = None if res.image is None else (res.image[1], res.image[0], res.image[2])
        return Result(_transposed_alignment(res.alignment), transpose_recipe(res.recipe),
                      res.label, {"a": res.inputs.get("b"), "b": res.inputs.get("a")}, image,
                      _transposed_constraints(res.constraints, res.alignment),
                      None if res.base is None else _transposed_alignment(res.base))

    # ------------------------------------------------------------------ results
    def add_result(self, alignment: Alignment, recipe: Recipe, *, label: str = "",
                   image: tuple[FeatureSpec, FeatureSpec, str] | None = None,
                   activate: bool = True, constraints: Constraints | None = None,
                   base: Alignment | None = None, undo_text: str | None = None) -> int:
        """Store a result and return its id; it becomes the active one by default.

        The result records the recordings now open (their content keys) as its inputs.
        ``constraints`` and ``base``: a corrected result (see :class:`Result`).
        ``undo_text`` (with ``base``): the correction that made it is one undo step, which
        takes it back to ``base`` without constraints (the first correction of a result
        makes a manual result beside it; without the step, Undo right after that
        correction had nothing to take back).
        """
        if not isinstance(alignment, Alignment):
            raise TypeError(f"alignment: expected an Alignment, got {type(alignment).__name__}")
        if not isinstance(recipe, Recipe):
            raise TypeError(f"recipe: expected a Recipe, got {type(recipe).__name__}")
        rid = self._next_id
        self._next_id += 1
        inputs = {s: (None if self._recordings[s] is None else self._recordings[s].key)
                  for s in SLOTS}
        if constraints is not None and not isinstance(constraints, Constraints):
            raise TypeError("constraints: expected a core.constraints.Constraints")
        if undo_text is not None and base is None:
            raise ValueError("undo_text: a result without a base has no state to go back to")
        self._results[rid] = Result(alignment, recipe, label or alignment.method, inputs,
                                    image, constraints or Constraints(), base)
        if undo_text is not None:
            self._undo.append((rid, base, Constraints(), str(undo_text)))
            self._redo.clear()
        self._emit("result_added", result_id=rid)
        if activate:
            self.set_active(rid)
        return rid

    def remove_result(self, rid: int) -> None:
        if rid not in self._results:
            return
        del self._results[rid]
        self._emit("result_removed", result_id=rid)
        if self._compared == rid:
            self.set_compared(-1)
        if self._active == rid:
            self.set_active(max(self._results, default=-1))

    def clear_results(self) -> None:
        for rid in list(self._results):
            self.remove_result(rid)

    def result(self, rid: int) -> Result | None:
        return self._results.get(rid)

    def alignment(self, rid: int) -> Alignment | None:
        res = self._results.get(rid)
        return None if res is None else res.alignment

    def result_ids(self) -> list[int]:
        return list(self._results)

    @property
    def next_id(self) -> int:
        """The id the next :meth:`add_result` will give."""
        return self._next_id

    @property
    def active_id(self) -> int:
        return self._active

    @property
    def compared_id(self) -> int:
        return self._compared

    def active_alignment(self) -> Alignment | None:
        return self.alignment(self._active)

    def set_active(self, rid: int) -> None:
        if rid != -1 and rid not in self._results:
            raise KeyError(f"no alignment with id {rid}")
        if rid == self._active:
            return
        self._active = rid
        if self._compared == rid:
            self._compared = -1
            self._emit("compared_changed", result_id=-1)
        self._emit("active_changed", result_id=rid)
        # the cursor on A stays; B follows the new alignment
        self.move_cursor("a", self._cursor[0])

    def set_compared(self, rid: int) -> None:
        if rid != -1 and rid not in self._results:
            raise KeyError(f"no alignment with id {rid}")
        if rid == self._active:
            rid = -1
        if rid != self._compared:
            self._compared = rid
            self._emit("compared_changed", result_id=rid)

    def apply_edit(self, rid: int, edited: Alignment, description: str = "edit") -> None:
        """Replace result ``rid``'s alignment by ``edited`` (a manual correction) and
        push an undo step."""
        if rid not in self._results:
            raise KeyError(f"no alignment with id {rid}")
        if not isinstance(edited, Alignment):
            raise TypeError(f"edited: expected an Alignment, got {type(edited).__name__}")
        self.edit_result(rid, edited, self._results[rid].constraints, description)

    def edit_result(self, rid: int, edited: Alignment, constraints: Constraints,
                    description: str = "edit") -> None:
        """Replace result ``rid``'s alignment and constraints (one manual correction:
        one undo step; the redo steps go)."""
        if rid not in self._results:
            raise KeyError(f"no alignment with id {rid}")
        if not isinstance(edited, Alignment):
            raise TypeError(f"edited: expected an Alignment, got {type(edited).__name__}")
        if not isinstance(constraints, Constraints):
            raise TypeError("constraints: expected a core.constraints.Constraints")
        res = self._results[rid]
        self._undo.append((rid, res.alignment, res.constraints, description))
        self._redo.clear()
        self._replace_alignment(rid, edited, constraints)

    def settle_result(self, rid: int, settled: Alignment, constraints: Constraints) -> bool:
        """Replace the path of an edit of result ``rid`` by a better one for the same edit
        (the window's exact re-solve arriving after a quick stand-in), without an undo
        step: where the result holds ``constraints`` (the same object) now, and in the
        undo and redo steps that restore it (an undo or a later edit made meanwhile);
        returns whether anything was replaced."""
        if not isinstance(settled, Alignment):
            raise TypeError(f"settled: expected an Alignment, got {type(settled).__name__}")
        done = False
        for stack in (self._undo, self._redo):
            for k, (sid, _al, c, text) in enumerate(stack):
                if sid == rid and c is constraints:
                    stack[k] = (sid, settled, c, text)
                    done = True
        res = self._results.get(rid)
        if res is not None and res.constraints is constraints:
            self._replace_alignment(rid, settled)
            done = True
        return done

    def _replace_alignment(self, rid: int, al: Alignment,
                           constraints: Constraints | None = None) -> None:
        res = self._results[rid]
        self._results[rid] = dataclasses.replace(
            res, alignment=al,
            constraints=res.constraints if constraints is None else constraints)
        self._emit("result_edited", result_id=rid)
        if rid == self._active:
            self.move_cursor("a", self._cursor[0])

    def can_undo(self) -> bool:
        return any(step[0] in self._results for step in self._undo)

    def can_redo(self) -> bool:
        return any(step[0] in self._results for step in self._redo)

    def undo(self) -> str | None:
        """Undo the last edit of a result that still exists; returns its description."""
        return self._step(self._undo, self._redo)

    def redo(self) -> str | None:
        """Redo the last undone edit; returns its description (None: nothing to redo)."""
        return self._step(self._redo, self._undo)

    def _step(self, source: list, target: list) -> str | None:
        while source:
            rid, al, constraints, description = source.pop()
            if rid in self._results:
                res = self._results[rid]
                target.append((rid, res.alignment, res.constraints, description))
                self._replace_alignment(rid, al, constraints)
                return description
        return None

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
        self._emit("anchors_changed")

    def remove_anchor(self, index: int) -> None:
        del self._anchors[index]
        self._emit("anchors_changed")

    def set_anchors(self, pairs) -> None:
        """Replace the anchors for the next run by ``pairs`` (time on A, time on B), as
        :meth:`add_anchor` would one by one, with one ``anchors_changed``."""
        pairs = list(pairs)
        if pairs and not self.has_both():
            raise ValueError("anchors need both recordings open")
        out = []
        for ta, tb in pairs:
            ta, tb = float(ta), float(tb)
            if not (math.isfinite(ta) and math.isfinite(tb)):
                raise ValueError(f"anchor: times must be finite, got ({ta}, {tb})")
            ta = min(max(ta, 0.0), self.duration("a"))
            tb = min(max(tb, 0.0), self.duration("b"))
            out = [p for p in out if abs(p[0] - ta) > 1e-9] + [(ta, tb)]
        out = sorted(out)
        if out != self._anchors:
            self._anchors = out
            self._emit("anchors_changed")

    def clear_anchors(self) -> None:
        if self._anchors:
            self._anchors = []
            self._emit("anchors_changed")

    # ------------------------------------------------------------------ cursor
    @property
    def cursor(self) -> tuple[float, float]:
        """The cursor as (time on A, time on B) in seconds."""
        return self._cursor

    def move_cursor(self, slot: str, time_s: float, *,
                    near: tuple[float, float] | None = None) -> None:
        """Put the cursor at ``time_s`` on ``slot``; the other side follows the active
        alignment (or keeps its time when there is none). On a path with jumps, an A time
        that B holds more than once goes to the occurrence nearest ``near``'s B time (a
        click on the matrix), by default the cursor's."""
        _check_slot(slot)
        t = float(time_s)
        if not math.isfinite(t):
            return
        t = min(max(t, 0.0), self.duration(slot)) if self._recordings[slot] else max(t, 0.0)
        al = self.active_alignment()
        if al is None:
            new = (t, self._cursor[1]) if slot == "a" else (self._cursor[0], t)
        elif (pw := _pieces_of(al)) is not None:  # a path with jumps: follow them
            from .structure.carrier import cursor_through

            new = cursor_through(pw, slot, t, self._cursor if near is None else near)
        else:
            # the alignment caches its mapping knots (filled on the worker that made it)
            new = (t, al.map_a_to_b(t)) if slot == "a" else (al.map_b_to_a(t), t)
        self._set_cursor(new)

    def move_cursor_to(self, time_a_s: float, time_b_s: float) -> None:
        """Put the cursor at a point of the matrix: both times kept (a click off the
        path shows where it is)."""
        self._set_cursor((max(0.0, float(time_a_s)), max(0.0, float(time_b_s))))

    def _set_cursor(self, new: tuple[float, float]) -> None:
        new = (float(new[0]), float(new[1]))
        if new != self._cursor:
            self._cursor = new
            self._emit("cursor_moved")

    def step_cursor(self, slot: str, n_frames: int = 0, seconds: float = 0.0) -> None:
        """Move the cursor by frames of ``slot``'s stream features (or video frames, or
        50 Hz) plus seconds."""
        info = self._recordings[slot]
        if info is None:
            return
        spec = self._display[slot]
        if spec is not None:
            rate = spec.rate_hz
        else:
            rate = info.rate_hz if info.kind == "video" else 50.0
        t = self._cursor[0 if slot == "a" else 1]
        self.move_cursor(slot, t + n_frames / float(rate) + seconds)

    # ------------------------------------------------------------------ view state
    @property
    def view(self) -> Mapping[str, Any]:
        """Plain view state (zoom, colour map, ...), saved with the project."""
        return dict(self._view)

    def set_view(self, key: str, value) -> None:
        self._view[str(key)] = value
        self._emit("view_changed", name=str(key))

    # ------------------------------------------------------------------ units
    @property
    def units(self) -> dict | None:
        """The units of A and B (:mod:`core.structure`) as ``{"a": starts, "b": starts,
        "rate_hz": rate, "inputs": {"a": key, "b": key}}`` (start frames, ascending, the
        first 0; the recordings they were cut from, by content key), or None."""
        if self._units is None:
            return None
        return {"a": list(self._units["a"]), "b": list(self._units["b"]),
                "rate_hz": self._units["rate_hz"], "inputs": dict(self._units["inputs"])}

    def set_units(self, starts_a, starts_b, rate_hz: float) -> None:
        """Keep units of the recordings now open by their start frames at ``rate_hz``
        (None for ``starts_a``: no units).

        Raises
        ------
        ValueError
            A non-positive rate, or starts that are not ascending non-negative frames.
        """
        if starts_a is None:
            new = None
        else:
            rate = float(rate_hz)
            if not math.isfinite(rate) or rate <= 0:
                raise ValueError(f"rate_hz: expected a positive rate, got {rate_hz!r}")
            new = {"rate_hz": rate, "inputs": {
                s: None if self._recordings[s] is None else self._recordings[s].key
                for s in SLOTS}}
            for slot, starts in (("a", starts_a), ("b", starts_b)):
                starts = [int(v) for v in starts]
                if not starts or starts[0] < 0 or any(
                        b <= a for a, b in zip(starts, starts[1:], strict=False)):
                    raise ValueError(f"starts_{slot}: expected ascending frames from 0, "
                                     f"got {starts[:5]}…")
                new[slot] = starts
        if new == self._units:
            return
        self._units = new
        self._emit("units_changed")

    # ------------------------------------------------------------------ snapshots
    def snapshot(self) -> dict:
        """The whole state as plain data (no live objects; arrays are not copied: an
        Alignment's arrays are read-only)."""
        return {
            "version": SNAPSHOT_VERSION,
            "recordings": {s: None if r is None else r.to_data()
                           for s, r in self._recordings.items()},
            "display_features": {s: None if f is None else f.to_data()
                                 for s, f in self._display.items()},
            "results": [{"id": rid, "alignment": alignment_to_data(r.alignment),
                         "recipe": r.recipe.to_data(), "label": r.label,
                         "inputs": dict(r.inputs), "image": _image_to_data(r.image),
                         "constraints": r.constraints.to_data(),
                         "base": None if r.base is None else alignment_to_data(r.base)}
                        for rid, r in self._results.items()],
            "next_id": self._next_id,
            "active": self._active,
            "compared": self._compared,
            "anchors": [list(p) for p in self._anchors],
            "cursor": list(self._cursor),
            "undo": [{"id": rid, "alignment": alignment_to_data(al),
                      "constraints": c.to_data(), "description": text}
                     for rid, al, c, text in self._undo],
            "redo": [{"id": rid, "alignment": alignment_to_data(al),
                      "constraints": c.to_data(), "description": text}
                     for rid, al, c, text in self._redo],
            "view": _plain(self._view),
            # optional (readers before it ignore it): see the README's format rules
            "units": self.units,
        }

    def restore(self, snapshot: Mapping) -> None:
        """Replace the whole state by a :meth:`snapshot`; subscribers get one
        ``"restored"`` change.

        Raises
        ------
        ValueError
            A snapshot of another version or with missing parts.
        """
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"snapshot: expected version {SNAPSHOT_VERSION}, got "
                             f"{snapshot.get('version')!r}")
        try:
            recordings = {s: None if d is None else RecordingInfo.from_data(d)
                          for s, d in snapshot["recordings"].items()}
            display = {s: None if d is None else FeatureSpec.from_data(d)
                       for s, d in snapshot["display_features"].items()}
            results = {}
            for r in snapshot["results"]:
                base = r.get("base")
                results[int(r["id"])] = Result(
                    alignment_from_data(r["alignment"]), Recipe.from_data(r["recipe"]),
                    r["label"], dict(r["inputs"]), _image_from_data(r["image"]),
                    Constraints.from_data(r.get("constraints")),
                    None if base is None else alignment_from_data(base))
            undo, redo = ([(int(u["id"]), alignment_from_data(u["alignment"]),
                            Constraints.from_data(u.get("constraints")), u["description"])
                           for u in snapshot.get(key, ())] for key in ("undo", "redo"))
            if "undo" not in snapshot:
                raise KeyError("undo")
            state = dict(next_id=int(snapshot["next_id"]), active=int(snapshot["active"]),
                         compared=int(snapshot["compared"]),
                         anchors=[(float(a), float(b)) for a, b in snapshot["anchors"]],
                         cursor=tuple(float(t) for t in snapshot["cursor"]),
                         view=dict(snapshot["view"]))
            units = snapshot.get("units")
            if units is not None:
                units = {"a": [int(v) for v in units["a"]], "b": [int(v) for v in units["b"]],
                         "rate_hz": float(units["rate_hz"]),
                         "inputs": {s: units["inputs"].get(s) for s in SLOTS}}
        except (KeyError, TypeError) as exc:
            raise ValueError(f"snapshot: missing or malformed part ({exc})") from None
        if set(recordings) != set(SLOTS) or set(display) != set(SLOTS):
            raise ValueError("snapshot: recordings and display features need slots a, b")
        points = [*state["anchors"], state["cursor"]]
        if len(state["cursor"]) != 2 or not all(math.isfinite(t) for p in points for t in p):
            raise ValueError("snapshot: anchors and the cursor need two finite times each")
        self._recordings, self._display, self._results = recordings, display, results
        self._undo, self._redo = undo, redo
        self._next_id, self._active = state["next_id"], state["active"]
        self._compared, self._anchors = state["compared"], state["anchors"]
        self._cursor, self._view = state["cursor"], state["view"]
        self._units = units
        self._emit("restored")


def _transposed_constraints(c: Constraints, al: Alignment) -> Constraints:
    """The constraints seen from B; a linear region without B ends gets them from the
    path (where it enters and leaves the span)."""
    regions = []
    for r in c.regions:
        if r.kind == "linear" and (r.start_b_s is None or r.end_b_s is None):
            r = dataclasses.replace(r, start_b_s=float(al.map_a_to_b(r.start_a_s)),
                                    end_b_s=float(al.map_a_to_b(r.end_a_s)))
        regions.append(r)
    return Constraints(c.anchors, tuple(regions)).transposed()


class Cache:
    """Live objects beside a :class:`Project`, keyed by content: open recordings and
    waveform envelopes by :attr:`RecordingInfo.key`, computed features by
    ``(key, FeatureSpec)``. Not thread-safe: one thread (the window's) uses it."""

    def __init__(self):
        self._recordings: dict[str, Any] = {}
        self._features: dict[tuple[str, FeatureSpec], Any] = {}
        self._envelopes: dict[str, Any] = {}

    def put_recording(self, key: str, recording) -> None:
        self._recordings[key] = recording

    def recording(self, key: str | None):
        return self._recordings.get(key) if key is not None else None

    def put_features(self, key: str, spec: FeatureSpec, features) -> None:
        self._features[(key, spec)] = features

    def features(self, key: str | None, spec: FeatureSpec | None):
        if key is None or spec is None:
            return None
        return self._features.get((key, spec))

    def features_of(self, key: str) -> dict[FeatureSpec, Any]:
        """Every cached feature sequence of one recording, by spec, oldest first."""
        return {spec: f for (k, spec), f in self._features.items() if k == key}

    def put_envelope(self, key: str, envelope) -> None:
        self._envelopes[key] = envelope

    def envelope(self, key: str | None):
        return self._envelopes.get(key) if key is not None else None

    def keep_only(self, keys) -> None:
        """Forget everything of recordings whose key is not in ``keys``."""
        keys = set(keys)
        for k in [k for k in self._recordings if k not in keys]:
            del self._recordings[k]
        for k in [k for k in self._envelopes if k not in keys]:
            del self._envelopes[k]
        for k in [k for k in self._features if k[0] not in keys]:
            del self._features[k]
