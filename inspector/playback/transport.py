"""The transport bar: play/pause, stop, mode, switch, speed, loop marks, audition, the
position on both recordings and which one is sounding.

Observes the :class:`~.controller.PlaybackController` (``state_changed``,
``position_changed``, ``mode_changed``, ``notice``) and the Session's ``cursor_moved``
(the readout while stopped). GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QWidget,
)

from ..views.common import ElidedLabel, format_time
from .mixer import MODE_LABELS, MODES

__all__ = ["TransportPanel"]

SOUNDING_TEXT = {"a": "♪ A", "b": "♪ B", "warped": "♪ B warped", "a+warped": "♪ A | B warped",
                 "silent": "♪ — no sound track", "": "♪ —"}
SOUNDING_COLOUR = {"a": "#7fb2ff", "b": "#ffb27f", "warped": "#ffb27f",
                   "a+warped": "#e0e0a0", "silent": "#808080", "": "#808080"}


class TransportPanel(QWidget):
    """The playback controls of the window (a toolbar row)."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        session = controller.session
        self.play_button = QToolButton(self)
        self.play_button.setText("▶ Play")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(controller.toggle)
        self.stop_button = QToolButton(self)
        self.stop_button.setText("■")
        self.stop_button.setToolTip("Stop and go back to the start")
        self.stop_button.clicked.connect(self._on_stop)
        self.mode_box = QComboBox(self)
        for mode in MODES:
            self.mode_box.addItem(MODE_LABELS[mode], mode)
        self.mode_box.setToolTip("What sounds, and whose time leads")
        self.mode_box.currentIndexChanged.connect(
            lambda i: controller.set_mode(self.mode_box.itemData(i)))
        self.switch_button = QToolButton(self)
        self.switch_button.setText("⇄ Switch")
        self.switch_button.setToolTip("Switch between A and B at the aligned spot (S)")
        self.switch_button.clicked.connect(controller.switch)
        self.speed_box = QDoubleSpinBox(self)
        self.speed_box.setRange(0.5, 2.0)
        self.speed_box.setSingleStep(0.1)
        self.speed_box.setValue(1.0)
        self.speed_box.setSuffix("×")
        self.speed_box.setToolTip("Playback speed (varispeed: the pitch follows)")
        self.speed_box.valueChanged.connect(controller.set_speed)
        self.loop_button = QToolButton(self)
        self.loop_button.setText("⟲ Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setToolTip("Loop between the marks set with [ and ] at A's cursor")
        self.loop_button.toggled.connect(self._on_loop_toggled)
        self.audition_button = QToolButton(self)
        self.audition_button.setText("A|B ±1 s")
        self.audition_button.setToolTip("Play A for ±1 s around the cursor, then B (A)")
        self.audition_button.clicked.connect(self._on_audition)
        self.readout = ElidedLabel("", width_for="A 0:00:00.000   B 0:00:00.000")
        self.indicator = QLabel(SOUNDING_TEXT[""], self)
        self.indicator.setFixedWidth(
            self.fontMetrics().horizontalAdvance("♪ — no sound track") + 16)
        self.status = ElidedLabel("")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for w in (self.play_button, self.stop_button, self.mode_box, self.switch_button,
                  self.speed_box, self.loop_button, self.audition_button, self.readout,
                  self.indicator):
            layout.addWidget(w)
        layout.addWidget(self.status, 1)
        self.actions = []
        for key, slot in (("Space", controller.toggle), ("S", controller.switch),
                          ("[", lambda: self._mark(0)), ("]", lambda: self._mark(1))):
            act = QAction(self)
            act.setShortcut(QKeySequence(key))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            self.actions.append(act)
        controller.state_changed.connect(self._on_state_changed)
        controller.position_changed.connect(self._on_position_changed)
        controller.mode_changed.connect(self._on_mode_changed)
        controller.notice.connect(self.status.setText)
        session.cursor_moved.connect(self._on_cursor_moved)
        self._show_sounding("")
        self._on_cursor_moved(*session.cursor)

    def _on_stop(self) -> None:
        self.controller.stop()
        lead = self.controller.lead()
        self.controller.session.move_cursor(lead, 0.0)

    def _mark(self, which: int) -> None:
        self.controller.mark_loop(which)
        if self.controller.loop is not None and not self.loop_button.isChecked():
            self.loop_button.setChecked(True)

    def _on_loop_toggled(self, on: bool) -> None:
        if not on:
            self.controller.set_loop(None)
            return
        a0, a1 = self.controller.loop_marks
        if a0 is None or a1 is None or abs(a1 - a0) <= 0.05:
            self.status.setText("set the loop with [ and ] at A's cursor")
            self.loop_button.setChecked(False)
            return
        self.controller.set_loop((a0, a1))

    def _on_audition(self) -> None:
        self.controller.stop()
        self.controller.set_mode("audition")
        self.controller.play()

    def _on_state_changed(self, playing: bool) -> None:
        self.play_button.setText("❚❚ Pause" if playing else "▶ Play")
        if not playing:
            self._show_sounding("")

    def _on_mode_changed(self, mode: str) -> None:
        index = self.mode_box.findData(mode)
        if index >= 0 and index != self.mode_box.currentIndex():
            self.mode_box.blockSignals(True)
            self.mode_box.setCurrentIndex(index)
            self.mode_box.blockSignals(False)

    def _on_position_changed(self, t_a: float, t_b: float, sounding: str) -> None:
        self._show_sounding(sounding)

    def _on_cursor_moved(self, t_a: float, t_b: float) -> None:
        self.readout.setText(f"A {format_time(t_a)}   B {format_time(t_b)}")

    def _show_sounding(self, sounding: str) -> None:
        if getattr(self, "_shown", None) == sounding:
            return
        self._shown = sounding
        self.indicator.setText(SOUNDING_TEXT.get(sounding, sounding))
        self.indicator.setStyleSheet(f"color: {SOUNDING_COLOUR.get(sounding, '#c0c0c0')}; "
                                     f"font-weight: bold;")
