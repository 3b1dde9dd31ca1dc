"""The matrix's legend, outside the data: a coloured swatch and a short name per path.

Short names say the method and what differs between the results drawn (the full
description is the tooltip), so two compared results are told apart at a glance and
never cover the image. GUI thread.
"""

from __future__ import annotations

import re

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

__all__ = ["PathLegend", "short_names"]

_DISTANCE = re.compile(r"^d=")


def _tokens(label: str) -> list[str]:
    return [t for t in label.split() if not _DISTANCE.match(t)]


def short_names(labels: dict[int, str], *, keep: int = 2) -> dict[int, str]:
    """``#id method`` plus up to ``keep`` words of its label that the other labels lack
    (what differs); the method alone when nothing differs."""
    out = {}
    for aid, label in labels.items():
        words = _tokens(label)
        method = words[0] if words else ""
        others = {w for other, text in labels.items() if other != aid for w in _tokens(text)}
        differ = [w for w in words[1:] if w not in others] if others else words[1:]
        text = " ".join([f"#{aid}", method, *differ[:keep]]).strip()
        # a bracket the kept words open is closed, after an ellipsis for what was cut:
        # "#2 manual (from #1" read as a broken label
        unclosed = text.count("(") - text.count(")")
        if unclosed > 0 and len(differ) > keep:
            text += "…" + ")" * unclosed
        out[aid] = text
    return out


class PathLegend(QWidget):
    """One line under the matrix: swatch + short name per entry, tooltips in full."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.items: list[tuple[QLabel, QLabel]] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(4, 0, 4, 0)
        self._layout.setSpacing(6)
        self._layout.addStretch(1)
        self._entries: list[tuple] = []

    def set_entries(self, entries) -> None:
        """Show ``entries`` ((colour, text, tooltip, dashed) each); the widgets are kept
        when they are the ones shown (an edit redraws the paths, not the legend)."""
        entries = [tuple(e) for e in entries]
        if entries == self._entries and len(self.items) == len(entries):
            return
        self.clear()
        for colour, text, tooltip, dashed in entries:
            self.add(colour, text, tooltip, dashed=dashed)
        self._entries = entries

    def clear(self) -> None:
        for swatch, text in self.items:
            for w in (swatch, text):
                self._layout.removeWidget(w)
                w.deleteLater()
        self.items = []
        self._entries = []

    def add(self, colour: str, text: str, tooltip: str = "", *, dashed: bool = False) -> None:
        swatch = QLabel("┄┄" if dashed else "━━", self)
        swatch.setStyleSheet(f"color: {colour}; font-weight: bold;")
        label = QLabel(text, self)
        for w in (swatch, label):
            w.setToolTip(tooltip or text)
        at = self._layout.count() - 1  # before the stretch
        self._layout.insertWidget(at, swatch)
        self._layout.insertWidget(at + 1, label)
        self.items.append((swatch, label))

    def texts(self) -> list[str]:
        return [label.text() for _, label in self.items]
