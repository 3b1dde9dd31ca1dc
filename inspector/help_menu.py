"""The Help menu: the keyboard and mouse shortcuts (F1) and About.

Installed by :func:`install_help` (its own module so app.py stays small). GUI thread.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMessageBox, QVBoxLayout

__all__ = ["install_help", "SHORTCUTS", "ShortcutsDialog"]

#: (keys, what they do): the keyboard and the mouse
SHORTCUTS = (
    ("Ctrl+O / Ctrl+Shift+O", "open recording A / B"),
    ("Ctrl+Shift+X", "swap A and B"),
    ("Ctrl+W", "close the window"),
    ("Ctrl+0", "show both recordings whole in every view"),
    ("Ctrl+= / Ctrl+-", "zoom in / out about the cursor (every view)"),
    ("Right / Left", "move the cursor one feature frame of A (the status bar says "
                     "its length); Shift: ten frames; Ctrl: frames of B"),
    ("Page Down / Page Up", "move the cursor one second on A; Shift: on B"),
    ("Space", "play / pause"),
    ("mouse wheel, drag", "zoom and pan a view; every view of the same recording follows"),
    ("click", "put the cursor there"),
    ("Shift+click on the matrix", "add an anchor for the next DTW run"),
    ("right-click", "the view's or the list's actions"),
    ("Delete / Ctrl+Z in the results", "remove the highlighted result / bring it back"),
    ("F1", "this list"),
)


class ShortcutsDialog(QDialog):
    """The list of shortcuts, as a table."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard and mouse")
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>"
                       for k, v in SHORTCUTS)
        self.table = QLabel(f"<table>{rows}</table>", self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addWidget(buttons)


def _about(window) -> None:
    from core import __version__

    QMessageBox.about(window, "About Alignment Inspector",
                      f"<b>Alignment Inspector</b> {__version__}<br>"
                      "Align two recordings (audio or video) and inspect the alignment: "
                      "the cost matrix and paths, soft plans, diagnostics, playback.")


def install_help(window):
    """Add the Help menu to ``window``; returns its shortcuts action."""
    menu = window.menuBar().addMenu("&Help")
    shortcuts = QAction("Keyboard and mouse…", window)
    shortcuts.setShortcut(QKeySequence("F1"))
    shortcuts.triggered.connect(lambda: show_shortcuts(window))
    menu.addAction(shortcuts)
    about = QAction("About Alignment Inspector", window)
    about.triggered.connect(lambda: _about(window))
    menu.addAction(about)
    window.help_menu = menu
    return shortcuts


def show_shortcuts(window) -> ShortcutsDialog:
    dialog = getattr(window, "_shortcuts_dialog", None)
    if dialog is None:
        dialog = window._shortcuts_dialog = ShortcutsDialog(window)
    dialog.show()
    return dialog
