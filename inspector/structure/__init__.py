"""Structure in the window: results with jumps (pieces) on the matrix and under the
cursor, units under each stream (edit them with the mouse), the unit-by-unit matrix.
See :mod:`.controller`."""

from __future__ import annotations

from .controller import StructureController

__all__ = ["install_structure", "StructureController"]


def install_structure(window) -> StructureController:
    """Add the structure features to ``window`` (a MainWindow); returns the controller."""
    return StructureController(window)
