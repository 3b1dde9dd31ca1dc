"""Files in the window: alignments out and in, annotations and their transfer, drops,
and the triage of a batch's results.

``install_files(window)`` adds the File menu's actions (:mod:`.controller`), the
annotation lanes under the streams (:mod:`.annotations`, :mod:`.lanes`) and File → Open
batch… (:mod:`.triage`); it returns the :class:`FilesController` (its ``triage``
attribute is the :class:`~inspector.files.triage.Triage`).
"""

from __future__ import annotations

from .controller import FilesController

__all__ = ["install_files", "FilesController"]


def install_files(window) -> FilesController:
    """Install the file actions on ``window`` (a :class:`inspector.app.MainWindow`)."""
    from .triage import Triage

    files = FilesController(window)
    files.triage = Triage(window, files)
    return files
