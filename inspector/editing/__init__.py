"""Manual correction in the window: anchors and regions of the active result, edited on
the cost matrix and on the streams, recomputed on a worker, undone and redone.

``install_editing(window)`` adds the :class:`Editor`: handles on the matrix for the
active result's anchors (drag one: it stays between its neighbours, a coarse preview of
the two segments next to it follows the mouse, and on release the exact re-solve runs on
a worker and replaces the preview), Shift+click adds an anchor, Delete removes the
selected one, Ctrl+drag selects a span of A and the context menu marks it locked, linear
or free; the Edit menu has Undo (Ctrl+Z), Redo (Ctrl+Shift+Z) and "Next doubtful spot"
(N). The first edit of an automatic result makes a "manual" result beside it (its
constraints, with the automatic one as the base); later edits change that one. Undo takes
the first edit back as well (the manual result returns to the automatic path).

The state is the Project's (:class:`core.project.Result` ``constraints`` and ``base``;
:func:`core.constraints.recompute` makes the path). A result the engine can re-solve
exactly (the default pipeline's, a DTW result on features) is re-solved on its own
features, refined at the chord changes near hard anchors on audio pairs, as
:mod:`core.correcting` does (:func:`exact_source_task` builds them once per result on a
worker, channel ``edit_source``; an edit made meanwhile is shown at once as the
spliced corridor's path, which the exact path replaces when the source lands, without
an undo step of its own); any other result (CTW, OT, soft-DTW, a file of another tool)
by the corridor on the matrix's features, spliced back onto its path where they meet.
GUI thread; the re-solves run on workers (channel ``edit_resolve``).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QCursor, QKeySequence
from PySide6.QtWidgets import QMenu

from core.constraints import (
    Anchor,
    Constraints,
    Region,
    can_resolve_exactly,
    lock_region,
    ranked_doubtful_spots,
    recompute,
)
from core.display import decimate_path, prepare_path
from core.structure.carrier import piecewise_of

from ..jobs import Request
from .layer import HIT_PIXELS, EditLayer
from .paint import DragCache

__all__ = ["Editor", "install_editing"]

HARD_BRUSH = "#ffe060"
#: why anchors and regions are refused on a result with jumps
PIECES_REFUSED = ("correction: this result has jumps (pieces); anchors and regions "
                  "re-solve one monotone path, which would flatten the pieces into one. "
                  "Correct a monotone result, or run Structure again")
SOFT_BRUSH = None
#: :meth:`Editor.exact_source` while a worker builds it
BUILDING = object()
#: exact sources kept (results edited lately)
SOURCES_KEPT = 4
#: an edit of a path read from a file when no result has features to re-solve it on
NO_FEATURES = ("correction: #{aid} is a path read from a file, without the features it was "
               "made from, and no other result has any: compute an alignment of this pair "
               "(Run), then correct")


def resolve_task(base, constraints, source, rate_a_hz, rate_b_hz, previous, *,
                 mode="corridor", energies=None, progress=None, cancel=None):
    """Worker: the path of ``base`` recomputed from ``constraints``, its display data
    prepared.

    ``mode="exact"``: ``source`` is what :func:`exact_source_task` built (the result's own
    terms, on its grid): :func:`core.constraints.recompute`'s exact re-solve, refined near
    the hard anchors through the chord changes when ``energies`` are given (audio pairs,
    as :func:`core.correcting.refinement`). ``"corridor"``: corridor re-solve on the
    matrix's features, spliced back onto the base path where it meets it. Both reuse
    ``previous``'s unchanged segments."""
    refine = {}
    if mode == "exact" and energies is not None and any(a.hard for a in constraints.anchors):
        refine = {"refine": "changes", "energies": energies}
    al = recompute(base, constraints, source, previous=previous, mode=mode,
                   rate_a_hz=rate_a_hz, rate_b_hz=rate_b_hz, progress=progress,
                   cancel=cancel, **refine)
    return prepare_path(al)


def settle_task(base, edits, exact, *, progress=None, cancel=None):
    """Worker: the exact paths of ``edits`` (a list of constraints) of ``base`` on its
    built exact ``source`` (:func:`exact_source_task`), for edits whose corridor stand-in
    was left in the result's undo or redo steps (undone, or edited again, before the
    source was built)."""
    out = []
    for k, constraints in enumerate(edits):
        if cancel is not None:
            cancel()
        out.append(resolve_task(base, constraints, exact["source"], exact["rate_a_hz"],
                                exact["rate_b_hz"], None, mode="exact",
                                energies=exact["energies"]))
        if progress is not None:
            progress((k + 1) / len(edits))
    return out


def exact_source_task(base, rec_a, rec_b, features=None, specs=None, *, progress=None,
                      cancel=None):
    """Worker: what the window re-solves ``base``'s edits on, built once per result: a
    dict with ``mode`` ``"exact"``, ``source``, ``rate_a_hz``, ``rate_b_hz`` and
    ``energies`` (semitone spectra for the chord-change refinement, None unless both
    recordings are audio), or None when ``base`` cannot be re-solved exactly (CTW, OT,
    soft-DTW, a file of another tool: the corridor re-solve then).

    A default DTW result: its own terms (:func:`core.pipeline.cost_source`). Another DTW
    result that keeps its segments: the features ``(x, y, metric)`` it was computed from:
    ``features`` (the matrix's) when they are its inputs, else those of ``specs`` (its
    recipe's :class:`core.registry.FeatureSpec` of A and B) computed again; checked
    against the result's input fingerprint either way."""
    from core.constraints import can_resolve_exactly
    from core.correcting import change_energies

    if not can_resolve_exactly(base) or rec_a is None or rec_b is None:
        return None
    if "recipe" in base.params and "feature" in base.params:
        from core.pipeline import cost_source

        try:
            source = cost_source(rec_a, rec_b, base, progress=progress, cancel=cancel)
        except ValueError:
            return None
    else:
        source = _own_features(base, rec_a, rec_b, features, specs)
        if source is None:
            return None
    try:
        energies = change_energies(rec_a, rec_b, base.rate_a_hz, base.rate_b_hz)
    except Exception:  # noqa: BLE001 - the refinement is a bonus; the re-solve holds
        energies = None
    return {"mode": "exact", "source": source, "rate_a_hz": float(base.rate_a_hz),
            "rate_b_hz": float(base.rate_b_hz), "energies": energies}


def _own_features(base, rec_a, rec_b, features, specs):
    """``(x, y, metric)`` that ``base`` (a DTW result on features) was computed from, or
    None."""
    metric = base.params.get("metric")
    if metric in (None, "terms", "precomputed"):
        return None
    def fits(x, y):
        # the engine's own check of its inputs (shape, metric, orientation, fingerprint),
        # on a re-solve without knots (nothing to solve)
        from core.warping import resolve

        if len(x) != base.n_a or len(y) != base.n_b:
            return False
        try:
            resolve(base, np.empty((0, 2), dtype=np.int64), x=x, y=y)
        except (ValueError, TypeError):
            return False
        return True

    if features is not None and fits(features[0], features[1]):
        return (features[0], features[1], metric)
    if specs is None:
        return None
    from core.features import compute_features

    try:
        fa, fb = (compute_features(rec, spec.name, rate_hz=spec.rate_hz, **spec.kwargs)
                  for rec, spec in zip((rec_a, rec_b), specs, strict=True))
    except (ValueError, TypeError, KeyError):
        return None
    x, y = np.asarray(fa.values), np.asarray(fb.values)
    return (x, y, metric) if fits(x, y) else None


class Editor(QObject):
    """Edits of the active result (see the module docstring).

    Signals
    -------
    preview_changed()   the drag preview moved
    resolved(id)        a re-solve landed in result ``id``
    """

    preview_changed = Signal()
    resolved = Signal(int)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.jobs = window.jobs
        self.matrix = window.matrix
        plot = self.matrix.plot
        self.handles = pg.ScatterPlotItem(size=12, symbol="s",
                                          pen=pg.mkPen("#202020", width=1.5))
        self.handles.setZValue(25)
        plot.addItem(self.handles, ignoreBounds=True)
        # solid: a dashed polyline of thousands of points costs a lot to paint
        self.preview = pg.PlotDataItem(pen=pg.mkPen("#ffe060", width=2))
        self.preview.setZValue(24)
        plot.addItem(self.preview, ignoreBounds=True)
        self.span = pg.LinearRegionItem(orientation="vertical", movable=False,
                                        brush=pg.mkBrush(255, 255, 255, 40))
        self.span.setZValue(3)
        self.span.hide()
        plot.addItem(self.span, ignoreBounds=True)
        self.layer = EditLayer(self)
        plot.addItem(self.layer, ignoreBounds=True)
        # the rest of the matrix is blitted from caches while a handle is dragged
        self.drag_cache = DragCache(plot.getViewBox(), (self.preview, self.handles,
                                                        self.layer))
        self.selected: int | None = None
        self.span_s: tuple[float, float] | None = None
        self._drag = None          # (index, constraints at the start, preview data)
        self._pending = None       # (result id, constraints) of the re-solve under way
        self.preview_updates = 0
        self.last_resolve_s = None
        self._stand_ins = []       # (result id, constraints, base): edits whose path is a
        #                            corridor stand-in, their exact re-solve still to come
        self._waiting = None       # (result id, constraints, description, t0, base): an
        #                            edit waiting for its result's exact source
        self._building = None      # the base whose exact source a worker builds
        self._sources: dict = {}   # id(base) -> (base, exact source or None)
        self.context_menu = None

        plot.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.session.active_alignment_changed.connect(lambda *_: self.redraw())
        self.session.alignment_edited.connect(lambda *_: self.redraw())
        self.session.alignment_removed.connect(lambda *_: self.redraw())
        self.session.recordings_swapped.connect(self.redraw)
        # the edits of the last corrected result, carried to the next analysis
        self.carried = Constraints()
        window.workspace.method_finished.connect(self._on_method_finished)
        self.session.recording_opened.connect(self._forget_carried)
        self._build_actions()

    # ------------------------------------------------------------------ state
    def target(self) -> int:
        """The result an edit changes: the active one."""
        return self.session.active_id

    def constraints(self, aid: int | None = None) -> Constraints:
        """The constraints of result ``aid`` (default: the active one), or of the edit
        under way for it."""
        aid = self.target() if aid is None else aid
        if self._pending is not None and self._pending[0] == aid:
            return self._pending[1]
        res = self.session.project.result(aid)
        return Constraints() if res is None else res.constraints

    def redraw(self) -> None:
        c = self.constraints()
        if not c.anchors:
            self.handles.setData([], [])
        else:
            self.handles.setData(
                [a.time_a_s for a in c.anchors], [a.time_b_s for a in c.anchors],
                brush=[pg.mkBrush(HARD_BRUSH) if a.hard else pg.mkBrush(0, 0, 0, 0)
                       for a in c.anchors],
                pen=[pg.mkPen("#ff4040" if k == self.selected else "#202020", width=2)
                     for k in range(len(c.anchors))])
        if self.selected is not None and self.selected >= len(c.anchors):
            self.selected = None

    # ------------------------------------------------------------------ hit testing
    def hit(self, x: float, y: float) -> int | None:
        """The anchor within :data:`HIT_PIXELS` of the view point (x, y), if any."""
        c = self.constraints()
        if not c.anchors:
            return None
        px, py = self.matrix.plot.getViewBox().viewPixelSize()
        pts = np.array([(a.time_a_s, a.time_b_s) for a in c.anchors])
        d = np.hypot((pts[:, 0] - x) / px, (pts[:, 1] - y) / py)
        k = int(np.argmin(d))
        return k if d[k] <= HIT_PIXELS else None

    # ------------------------------------------------------------------ dragging
    def begin_drag(self, index: int) -> None:
        al = self.session.active_alignment()
        c = self.constraints()
        if al is None or index >= len(c.anchors):
            return
        self.selected = index
        a = c.anchors[index]
        lo_a, hi_a, lo_b, hi_b = c.bounds(index)
        t = al.times_s
        prev_pt = (lo_a, lo_b) if index > 0 else (float(t[0, 0]), float(t[0, 1]))
        next_pt = (hi_a, hi_b) if index + 1 < len(c.anchors) else (float(t[-1, 0]),
                                                                   float(t[-1, 1]))
        k0 = int(np.searchsorted(t[:, 0], prev_pt[0], side="left"))
        k1 = int(np.searchsorted(t[:, 0], next_pt[0], side="right"))
        part = decimate_path(np.asarray(t[k0:k1]), 1500)
        self._drag = (index, c, part, prev_pt, next_pt, (a.time_a_s, a.time_b_s))
        self._prefetch()
        self.redraw()
        self.drag_cache.begin()

    def drag_to(self, x: float, y: float) -> None:
        """Move the dragged anchor (kept between its neighbours) and redraw the coarse
        preview: the path of the two segments next to it stretched through it."""
        if self._drag is None:
            return
        index, c, part, prev_pt, next_pt, old = self._drag
        moved = c.moved_anchor(index, x, y)
        a = moved.anchors[index]
        new = (a.time_a_s, a.time_b_s)
        pieces = []
        for (p0, p1, q0, q1) in ((prev_pt, old, prev_pt, new), (old, next_pt, new, next_pt)):
            sel = part[(part[:, 0] >= p0[0]) & (part[:, 0] <= p1[0])]
            if len(sel) < 2:
                sel = np.array([p0, p1])
            out = np.empty_like(sel)
            for d in (0, 1):
                span = p1[d] - p0[d]
                out[:, d] = q0[d] + (sel[:, d] - p0[d]) * ((q1[d] - q0[d]) / span if span > 0
                                                         else 0.0)
            pieces.append(out)
        pts = np.concatenate(pieces)
        self.preview.setData(pts[:, 0], pts[:, 1])
        xs = [b.time_a_s for b in moved.anchors]
        ys = [b.time_b_s for b in moved.anchors]
        self.handles.setData(xs, ys, brush=[pg.mkBrush(HARD_BRUSH) if b.hard else
                                            pg.mkBrush(0, 0, 0, 0) for b in moved.anchors])
        self._drag = (index, c, part, prev_pt, next_pt, old)
        self._drag_moved = moved
        self.preview_updates += 1
        self.preview_changed.emit()

    def end_drag(self, x: float, y: float) -> None:
        if self._drag is None:
            return
        self.drag_to(x, y)
        moved = self._drag_moved
        self._drag = None
        self.drag_cache.end()
        self.commit(moved, "move anchor")

    # ------------------------------------------------------------------ edits
    def add_anchor(self, time_a_s: float, time_b_s: float, *, hard: bool = True) -> None:
        ta = min(max(time_a_s, 0.0), self.session.duration("a"))
        tb = min(max(time_b_s, 0.0), self.session.duration("b"))
        c = self.constraints().with_anchor(Anchor(ta, tb, hard))
        self.selected = next(k for k, a in enumerate(c.anchors) if a.time_a_s == ta)
        self.commit(c, "add anchor")

    def remove_selected(self) -> None:
        c = self.constraints()
        if self.selected is None or self.selected >= len(c.anchors):
            return
        c = c.without_anchor(self.selected)
        self.selected = None
        self.commit(c, "remove anchor")

    def toggle_hard(self) -> None:
        c = self.constraints()
        if self.selected is None or self.selected >= len(c.anchors):
            return
        anchors = list(c.anchors)
        a = anchors[self.selected]
        anchors[self.selected] = Anchor(a.time_a_s, a.time_b_s, not a.hard, a.origin)
        self.commit(Constraints(tuple(anchors), c.regions), "anchor hard/soft")

    def select_span(self, x0: float, x1: float) -> None:
        a0, a1 = sorted((max(0.0, x0), max(0.0, x1)))
        self.span_s = (a0, a1)
        self.span.setRegion((a0, a1))
        self.span.show()

    def mark_span(self, kind: str) -> None:
        """Mark the selected span locked, linear or free."""
        al = self.session.active_alignment()
        if self.span_s is None or al is None or self.span_s[1] - self.span_s[0] <= 0:
            return
        a0, a1 = self.span_s
        try:
            region = lock_region(al, a0, a1) if kind == "locked" else Region(a0, a1, kind)
        except ValueError as exc:
            self.session.error_reported.emit(str(exc))
            return
        self.span.hide()
        self.span_s = None
        self.commit(self.constraints().with_region(region), f"mark {kind}")

    def clear(self) -> None:
        if self.constraints():
            self.commit(Constraints(), "clear corrections")

    def commit(self, constraints: Constraints, description: str) -> None:
        """Re-solve the active result with ``constraints`` on a worker; the result
        replaces it (one undo step) or, for an automatic result, becomes a new manual
        one."""
        aid = self.target()
        res = self.session.project.result(aid)
        if res is None:
            return
        if piecewise_of(res.alignment) is not None:
            # the re-solve makes one monotone path: it would flatten the pieces
            self.session.error_reported.emit(PIECES_REFUSED)
            self.redraw()
            return
        self._pending = (aid, constraints)
        self.redraw()
        self._waiting = None
        self._submit(aid, constraints, description, time.perf_counter())

    def _submit(self, aid, constraints, description, t0) -> None:
        """Start the re-solve of ``constraints`` for result ``aid``: exact on the result's
        own features once they are built (:meth:`exact_source`; until then the edit
        waits, the latest one only, as a newer re-solve replaces an older one), else the
        corridor on the matrix's features."""
        res = self.session.project.result(aid)
        if res is None:
            self._pending = None
            self.redraw()
            return
        inputs = self._inputs(aid)
        base = res.base if res.base is not None else res.alignment
        previous = res.alignment if res.base is not None else None
        exact = self.exact_source(base, inputs, aid)
        interim = exact is BUILDING
        if interim and inputs is None:
            # no features to stand in with (a batch's file opened alone): the edit waits
            # for the exact source, built from the recordings
            self._waiting = (aid, constraints, description, t0, base)
            return
        if exact is None and inputs is None:
            self._pending = None
            self.redraw()
            self.session.error_reported.emit(NO_FEATURES.format(aid=aid))
            return
        if interim:
            # the exact re-solve follows when the source lands (_on_source); meanwhile
            # the spliced corridor stands in, replaced without an undo step
            self._waiting = (aid, constraints, description, t0, base)
        if exact is not None and not interim:
            args = (base, constraints, exact["source"], exact["rate_a_hz"],
                    exact["rate_b_hz"], previous)
            kwargs = {"mode": "exact", "energies": exact["energies"]}
        else:
            fa, fb, metric = inputs
            args = (base, constraints, (fa.values, fb.values, metric), float(fa.rate_hz),
                    float(fb.rate_hz), previous)
            kwargs = {"mode": "corridor"}
        request = Request("edit_resolve", resolve_task, args, kwargs,
                          label="re-solve (quick, exact to follow)" if interim else "re-solve")
        self.jobs.submit(request,
                         on_result=lambda al: self._on_resolved(aid, constraints, description,
                                                                al, t0, interim, base),
                         on_failure=lambda failure: self._on_failed(aid, failure))

    def _inputs(self, aid: int):
        """The features a corridor re-solve of ``aid`` runs on: those the matrix shows
        under it (:meth:`inspector.session.Session.shown_inputs`)."""
        return self.session.shown_inputs(aid)

    # ------------------------------------------------------------------ exact source
    def exact_source(self, base, inputs=None, aid: int | None = None):
        """What the edits of ``base`` are re-solved on: the dict of
        :func:`exact_source_task` (exact re-solve), None (corridor), or
        :data:`BUILDING` while a worker builds it (started here, once per result)."""
        hit = self._sources.get(id(base))
        if hit is not None and hit[0] is base:
            return hit[1]
        if not can_resolve_exactly(base):
            return None
        if self._building is base:
            return BUILDING
        features = None
        if inputs is not None:
            fa, fb, metric = inputs
            if (float(fa.rate_hz), float(fb.rate_hz)) == (base.rate_a_hz, base.rate_b_hz):
                features = (fa.values, fb.values, metric)
        specs = None
        res = self.session.project.result(self.target() if aid is None else aid)
        if res is not None and any(base is r for r in (res.alignment, res.base)) \
                and getattr(res, "recipe", None) is not None \
                and len(res.recipe.features_a) == 1 and len(res.recipe.features_b) == 1:
            specs = (res.recipe.features_a[0], res.recipe.features_b[0])
        self._building = base
        request = Request("edit_source", exact_source_task,
                          (base, self.session.recording("a"), self.session.recording("b"),
                           features, specs), label="correction: features")
        self.jobs.submit(request, on_result=lambda src: self._on_source(base, src),
                         on_failure=lambda _f: self._on_source(base, None),
                         on_cancel=lambda: self._on_source(base, None, keep=False))
        return BUILDING

    def _prefetch(self) -> None:
        """Start building the active result's exact source (a drag has begun: it is
        likely needed on release)."""
        aid = self.target()
        res = self.session.project.result(aid)
        if res is None or piecewise_of(res.alignment) is not None:
            return
        self.exact_source(res.base if res.base is not None else res.alignment,
                          self._inputs(aid), aid)

    def _on_source(self, base, src, keep: bool = True) -> None:
        """The exact source of ``base`` landed (``src``; None: the corridor for it), or
        its build was cancelled (``keep`` False: the edit waiting for it goes to the
        corridor, the next edit builds it again); the waiting edit is submitted."""
        if self._building is base:
            self._building = None
        if keep:
            while len(self._sources) >= SOURCES_KEPT:
                self._sources.pop(next(iter(self._sources)))
        self._sources[id(base)] = (base, src)
        waiting = self._waiting
        if waiting is not None and waiting[4] is base:
            self._waiting = None
            aid, constraints, description, t0, _ = waiting
            self._submit(aid, constraints, description, t0)
        if not keep:
            self._sources.pop(id(base), None)
        else:
            self._settle_left(base, src, None if waiting is None else waiting[1])

    def _settle_left(self, base, src, waiting) -> None:
        """The stand-ins of ``base`` other than the edit now re-solved (``waiting``: its
        constraints) were undone or edited over before its exact source landed: their
        exact paths are computed now and put where those edits are kept (no undo step).
        Without an exact source (``src`` None) the corridor paths are what they get."""
        left = [s for s in self._stand_ins if s[2] is base and s[1] is not waiting]
        if not left:
            return
        self._stand_ins = [s for s in self._stand_ins if not any(s is t for t in left)]
        if src is None:
            return

        def settle(paths):
            for (aid, constraints, _b), al in zip(left, paths, strict=True):
                self.session.settle_result(aid, al, constraints)
            self.redraw()

        request = Request(f"edit_settle:{id(base)}", settle_task,
                          (base, [c for _a, c, _b in left], src),
                          label="correction: exact paths of earlier edits")
        self.jobs.submit(request, on_result=settle, on_failure=lambda failure: self.session
                         .error_reported.emit("correction: the exact paths of earlier edits: "
                                              f"{getattr(failure, 'message', failure)} "
                                              "(they keep their quick paths)"))

    def _on_resolved(self, aid, constraints, description, al, t0, interim=False,
                     base=None) -> None:
        stand_in = next((s for s in self._stand_ins if s[1] is constraints), None)
        if not interim and stand_in is not None:
            # the exact path of an edit whose corridor stand-in is shown: it takes its
            # place (the same edit: no new undo step), also where an undo or a later edit
            # keeps it
            self._stand_ins.remove(stand_in)
            if self.session.settle_result(stand_in[0], al, constraints):
                self.resolved.emit(stand_in[0])
                self.redraw()
            return
        if self._pending is not None and self._pending[1] is constraints:
            self._pending = None
        self.last_resolve_s = time.perf_counter() - t0
        self.preview.setData([], [])
        res = self.session.project.result(aid)
        if res is None:
            return
        self.carried = constraints
        if res.base is None:
            # an edit that landed after the user went on to another result (it waited
            # for the exact source) adds its manual result without taking the view
            still = self.session.active_id == aid
            new = self.session.add_corrected(aid, al, constraints, activate=still,
                                             undo_text=description)
            if still:
                self.session.set_compared(aid)
            self._sync_pending_anchors(constraints)
            if interim:
                self._stand_ins.append((new, constraints, base))
            self.resolved.emit(new)
        else:
            self.session.edit_result(aid, al, constraints, description)
            self._sync_pending_anchors(constraints)
            if interim:
                self._stand_ins.append((aid, constraints, base))
            self.resolved.emit(aid)
        self.redraw()

    def _forget_carried(self, *_) -> None:
        self.carried = Constraints()
        self._sources.clear()  # another recording: the results they were built for go

    def _on_method_finished(self, aid: int) -> None:
        """A new analysis keeps the edits: its result is recomputed from the last
        corrected result's hard anchors and regions (a manual result beside it)."""
        res = self.session.project.result(aid)
        if aid == -1 or res is None or res.base is not None or not self.carried \
                or piecewise_of(res.alignment) is not None:
            return
        hard = Constraints(tuple(a for a in self.carried.anchors if a.hard),
                           self.carried.regions)
        if hard and self.session.active_id == aid:
            self.commit(hard, "edits kept on the new analysis")

    def _on_failed(self, aid, failure) -> None:
        self._pending = None
        self.preview.setData([], [])
        self.redraw()
        self.session.error_reported.emit(f"correction: {getattr(failure, 'message', failure)}")

    def _sync_pending_anchors(self, constraints: Constraints) -> None:
        """The anchors for the next run are the edited result's hard anchors (a new
        analysis keeps them)."""
        project = self.session.project
        wanted = [(a.time_a_s, a.time_b_s) for a in constraints.anchors if a.hard]
        if list(project.anchors) == wanted:
            return
        project.set_anchors(wanted)  # one redraw of the pending anchors, not one each

    # ------------------------------------------------------------------ undo, doubt
    def undo(self) -> None:
        self.jobs.cancel("edit_resolve")
        self._pending = None
        self._waiting = None
        text = self.session.undo()
        self._after_step(text, "undo")

    def redo(self) -> None:
        self.jobs.cancel("edit_resolve")
        self._pending = None
        self._waiting = None
        text = self.session.redo()
        self._after_step(text, "redo")

    def _after_step(self, text, what) -> None:
        self.selected = None
        res = self.session.project.result(self.target())
        if res is not None:
            self._sync_pending_anchors(res.constraints)
            if res.base is not None:
                self.carried = res.constraints
        self.redraw()
        if text:
            message = f"{what}: {text}"
        else:
            message = f"nothing to {what}" + self._first_correction_note(res)
        self.window.statusBar().showMessage(message, 3000 if text else 8000)

    def _first_correction_note(self, res) -> str:
        """Why Undo finds nothing more in a manual result (its first correction undone,
        or made before that was an undo step): it is a copy beside the result it was
        made from, which holds the path as it was; says which one, and how to get rid
        of the copy ("nothing to undo" alone read as the correction being stuck)."""
        if res is None or res.base is None:
            return ""
        aid = self.target()
        source = next((k for k in self.session.alignment_ids() if k != aid and
                       self.session.project.result(k).alignment is res.base), None)
        where = f"#{source}" if source is not None else "the result it was made from"
        return (f" in #{aid}: the first correction made it beside {where}, which still "
                f"has the path as it was (make {where} active, or Remove #{aid})")

    def next_doubtful_spot(self) -> tuple[float, float] | None:
        """Move the cursor to the next doubtful stretch of the active path and show it;
        returns the stretch. The stretches go by expected error, the worst first: from
        the one under the cursor to the next less sure one (wrapping round to the
        worst)."""
        al = self.session.active_alignment()
        if al is None:
            return None
        spots = ranked_doubtful_spots(al)
        if not spots:
            self.window.statusBar().showMessage("no doubtful spot (or no confidence) on "
                                                "this path", 3000)
            return None
        t = self.session.cursor[0]
        here = next((k for k, s in enumerate(spots) if s[0] - 1e-6 <= t <= s[1] + 1e-6),
                    None)
        k = 0 if here is None else (here + 1) % len(spots)
        t0, t1, err = spots[k]
        self.session.move_cursor("a", t0)
        self.matrix.centre_on(t0, al.map_a_to_b(t0))
        self.window.statusBar().showMessage(
            f"doubtful spot {k + 1} of {len(spots)} (the worst first): A {t0:.2f}-{t1:.2f} s, "
            f"expected error up to {err:.0f} ms", 5000)
        return t0, t1

    # ------------------------------------------------------------------ mouse, menu
    def _on_scene_clicked(self, event) -> None:
        vb = self.matrix.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        if event.button() == Qt.MouseButton.RightButton:
            self._show_menu(p.x(), p.y())
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        k = self.hit(p.x(), p.y())
        if k is not None:
            self.selected = k
            self.redraw()
            event.accept()
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier \
                and self.session.active_alignment() is not None:
            self.add_anchor(p.x(), p.y())  # the matrix also keeps it for the next run

    def menu_actions(self, x: float | None = None, y: float | None = None) -> QMenu:
        menu = QMenu(self.window)
        if x is not None:
            k = self.hit(x, y)
            if k is not None:
                self.selected = k
                self.redraw()
        has_anchor = self.selected is not None
        has_span = self.span_s is not None
        for text, slot, enabled in (
                ("Remove anchor", self.remove_selected, has_anchor),
                ("Hard / soft anchor", self.toggle_hard, has_anchor),
                ("Lock the path in the span", lambda: self.mark_span("locked"), has_span),
                ("Straight line in the span", lambda: self.mark_span("linear"), has_span),
                ("Free the span", lambda: self.mark_span("free"), has_span),
                ("Next doubtful spot", self.next_doubtful_spot, True),
                ("Clear corrections", self.clear, bool(self.constraints()))):
            act = menu.addAction(text)
            act.setEnabled(enabled)
            act.triggered.connect(lambda _=False, f=slot: f())
        return menu

    def _show_menu(self, x: float, y: float) -> None:
        self.context_menu = self.menu_actions(x, y)
        self.context_menu.popup(QCursor.pos())

    def _build_actions(self) -> None:
        bar = self.window.menuBar()
        menu = bar.addMenu("&Edit")
        actions = bar.actions()  # File, Edit, View, Help: desktop order, Edit after File
        if len(actions) > 2:
            bar.insertMenu(actions[1], menu)
        self.undo_action = QAction("Undo", self.window)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(self.undo)
        self.redo_action = QAction("Redo", self.window)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.triggered.connect(self.redo)
        self.delete_action = QAction("Remove anchor", self.window)
        self.delete_action.setShortcuts([QKeySequence.StandardKey.Delete,
                                         QKeySequence("Backspace")])
        self.delete_action.triggered.connect(self.remove_selected)
        self.doubt_action = QAction("Next doubtful spot", self.window)
        self.doubt_action.setShortcut(QKeySequence("N"))
        self.doubt_action.triggered.connect(self.next_doubtful_spot)
        self.clear_action = QAction("Clear corrections", self.window)
        self.clear_action.triggered.connect(self.clear)
        for act in (self.undo_action, self.redo_action, self.delete_action, self.doubt_action,
                    self.clear_action):
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            menu.addAction(act)


def install_editing(window) -> Editor:
    """Add manual correction to the window (see the module docstring)."""
    editor = Editor(window)
    from .streams import StreamMarkers

    editor.stream_markers = StreamMarkers(window, editor)
    return editor
