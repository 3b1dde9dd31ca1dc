"""Annotations opened on A or B, and their transfer through the active path.

:class:`Annotations` keeps, per slot, the tiers read from a file (with the content key
of the recording they were opened on), draws them under that stream and their transfer
(:func:`core.formats.transfer_annotation` through the active result) under the other.
It subscribes to the :class:`core.project.Project`: a new active result, an edit of the
active path, a swap or a new recording redraw the transfer (once per event-loop turn,
however many changes came). GUI thread.
"""

from __future__ import annotations

import dataclasses
import os

from PySide6.QtCore import QObject, QTimer, Signal

from core.formats import (
    Annotation,
    format_from_path,
    output_format,
    read_annotation,
    transfer_annotation,
    write_annotation,
)
from core.paths import check_output, display_path

from ..jobs import Request
from .checks import check_annotation
from .lanes import AnnotationLane, LaneTier

__all__ = ["Annotations", "Opened"]

SLOTS = ("a", "b")
OTHER = {"a": "b", "b": "a"}
_REDRAWS = ("active_changed", "result_edited", "result_removed", "result_added",
            "recordings_swapped", "recording_opened", "recording_closed", "restored")


@dataclasses.dataclass(frozen=True)
class Opened:
    """Annotations read from ``path`` (in ``format``) on the recording whose content
    key is ``key``."""

    path: str
    format: str
    annotation: Annotation
    key: str
    tiers: tuple  # the annotation's tiers as LaneTier (arrays, made once)


def _read(path, *, progress=None, cancel=None):
    """Worker: read an annotation file; returns (annotation, format)."""
    fmt = format_from_path(path, "annotation")
    return read_annotation(path, fmt), fmt


class Annotations(QObject):
    """Tiers on A and B and their transfer. ``changed()``: what is drawn changed;
    ``opened_changed(slot)``: annotations were opened on ``slot``."""

    changed = Signal()
    opened_changed = Signal(str)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.opened: dict[str, Opened | None] = {"a": None, "b": None}
        # slot s's tiers mapped to the other slot (what the other lane draws)
        self.moved: dict[str, tuple] = {"a": (), "b": ()}
        self.lanes = {s: AnnotationLane(window.stream_views[s], s) for s in SLOTS}
        self._pending = False
        self._unsubscribe = self.session.project.subscribe(self._on_change)
        window.destroyed.connect(lambda *_: self._unsubscribe())

    # ------------------------------------------------------------------ opening
    def open(self, slot: str, path: str) -> None:
        """Read ``path`` on a worker and show it under ``slot``; a bad file (unreadable,
        of another recording) gives a message in the window and changes nothing."""
        path = os.fspath(path)
        info = self.session.recording_info(slot)
        if info is None:
            self.window.show_error(f"{display_path(path)}: open recording {slot.upper()} "
                                   f"before its annotations")
            return
        key = info.key

        def done(result) -> None:
            self.accept(slot, path, *result, key=key)

        self.window.jobs.submit(
            Request(f"annotations_{slot}", _read, (path,), label="reading annotations"),
            on_result=done, on_failure=lambda f: self.window.show_error(f.text()))

    def accept(self, slot: str, path: str, annotation: Annotation, fmt: str, *,
               key: str | None = None) -> bool:
        """Show ``annotation`` (read from ``path``) under ``slot`` after checking it
        against the recording there (``key``: the one it was read for); a message in
        the window and nothing changed when it does not fit."""
        now = self.session.recording_info(slot)
        if now is None:
            self.window.show_error(f"{display_path(path)}: open recording {slot.upper()} "
                                   f"before its annotations")
            return False
        if key is not None and now.key != key:
            return False  # the recording was replaced meanwhile
        try:
            check_annotation(path, annotation, slot, now)
        except ValueError as err:
            self.window.show_error(str(err))
            return False
        self.opened[slot] = Opened(path, fmt, annotation, now.key,
                                   tuple(LaneTier.of(t) for t in annotation.tiers))
        # a TextGrid fills the gaps between labels with empty intervals: not labels
        n = sum(1 for t in annotation.tiers for item in t.items
                if t.kind == "point" or item.label.strip())
        self.window.statusBar().showMessage(
            f"{display_path(os.path.basename(path))}: {len(annotation.tiers)} tier(s), "
            f"{n} label(s) on {slot.upper()}", 5000)
        self.refresh()
        self.opened_changed.emit(slot)
        return True

    def close(self, slot: str) -> None:
        if self.opened[slot] is not None:
            self.opened[slot] = None
            self.refresh()

    # ------------------------------------------------------------------ transfer
    def _on_change(self, change) -> None:
        if change.what == "recordings_swapped":
            self.opened = {"a": self.opened["b"], "b": self.opened["a"]}
        if change.what in _REDRAWS and not self._pending:
            self._pending = True
            QTimer.singleShot(0, self.refresh)

    def refresh(self) -> None:
        """Map the annotations through the active path and redraw both lanes.

        Only the times are mapped here (arrays through the path's time map, what
        :func:`core.formats.transfer_annotation` does for each of them); the full
        transferred :class:`~core.formats.Annotation`, with its warnings, is made by
        :meth:`transferred` when it is written."""
        self._pending = False
        for slot in SLOTS:  # drop annotations of a recording no longer open
            opened, info = self.opened[slot], self.session.recording_info(slot)
            if opened is not None and (info is None or info.key != opened.key):
                self.opened[slot] = None
        al = self.session.active_alignment()
        moved = {}
        for slot in SLOTS:
            opened = self.opened[slot]
            if opened is None or al is None:
                moved[slot] = ()
                continue
            mapper = al.map_a_to_b if slot == "a" else al.map_b_to_a
            moved[slot] = tuple(t.mapped(mapper) for t in opened.tiers)
        self.moved = moved
        for slot in SLOTS:
            own = self.opened[slot].tiers if self.opened[slot] else ()
            self.lanes[slot].set_tiers(own, moved[OTHER[slot]])
        self.changed.emit()

    def transferred(self, slot: str):
        """The transfer of ``slot``'s annotations through the active path
        (:class:`core.formats.TransferResult`: annotation and warnings), or None."""
        opened, al = self.opened[slot], self.session.active_alignment()
        if opened is None or al is None:
            return None
        return transfer_annotation(opened.annotation, al,
                                   direction="a2b" if slot == "a" else "b2a")

    # ------------------------------------------------------------------ export
    def export_transferred(self, source_slot: str, path: str, fmt: str | None = None
                           ) -> list[str]:
        """Write the transfer of ``source_slot``'s annotations (now under the other
        stream) to ``path`` through :mod:`core.paths`; returns the warnings (collapsed
        intervals, tiers merged). Raises ValueError/OSError naming the file."""
        self.refresh()
        opened, moved = self.opened[source_slot], self.transferred(source_slot)
        if opened is None or moved is None:
            raise ValueError(f"no annotations of {source_slot.upper()} to transfer (open "
                             f"annotations and have an alignment first)")
        inputs = [opened.path] + [i.path for s in SLOTS
                                  if (i := self.session.recording_info(s)) is not None]
        check_output(path, inputs=inputs)
        fmt = output_format(path, fmt, "annotation", input_format=opened.format)
        notes = write_annotation(moved.annotation, path, fmt)
        return list(moved.warnings) + list(notes)
