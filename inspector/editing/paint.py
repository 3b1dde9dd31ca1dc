"""Cheap repaints while an anchor is dragged.

Every preview step changes two items of the cost matrix (the preview curve and the
handles), but Qt repaints everything under their bounding rectangles: the cost images,
the paths, the window outline, the cursor, i.e. the whole view. :class:`DragCache` gives
every other item of the view a device-coordinate cache for the length of the drag (the
view does not pan or zoom meanwhile), so a preview step blits them instead of drawing
them again (measured: a repaint of the 200 s benchmark's matrix went from 30-47 ms to
8-12 ms), and gives each item its own cache mode back when the drag ends.
"""

from __future__ import annotations

from PySide6.QtWidgets import QGraphicsItem

__all__ = ["DragCache"]

_CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache


class DragCache:
    """Device-coordinate caches on the items of a view box, except ``moving``, while
    a drag lasts (:meth:`begin` / :meth:`end`)."""

    def __init__(self, view_box, moving):
        self.view_box = view_box
        self.moving = list(moving)
        self._saved: list[tuple[QGraphicsItem, QGraphicsItem.CacheMode]] = []

    @property
    def active(self) -> bool:
        return bool(self._saved)

    def begin(self) -> None:
        if self._saved:
            return
        skip = set()
        for item in self.moving:
            skip.add(item)
            skip.update(item.childItems())
        for item in self.view_box.childGroup.childItems():
            if item in skip:
                continue
            for it in (item, *item.childItems()):
                if it in skip or not it.isVisible():
                    continue
                self._saved.append((it, it.cacheMode()))
                it.setCacheMode(_CACHED)

    def end(self) -> None:
        saved, self._saved = self._saved, []
        for item, mode in saved:
            try:
                item.setCacheMode(mode)
            except RuntimeError:  # the item was deleted meanwhile
                pass
