"""Synchronized playback: the audio clock, output devices, listening modes, video
frame prefetch and the transport bar.

``install_playback(window)`` puts the transport into a main window and returns its
:class:`PlaybackController`; everything else plugs into the Session's existing signals
and cursor API (:meth:`Session.move_cursor_to` follows the sound; a click that moves the
cursor while playing seeks).
"""

from __future__ import annotations

from .controller import PlaybackController
from .devices import FakeOutput, OutputDevice, SilentOutput, SoundDeviceOutput, open_output
from .mixer import MODE_LABELS, MODES, Mixer

__all__ = ["install_playback", "PlaybackController", "FakeOutput", "OutputDevice",
           "SilentOutput", "SoundDeviceOutput", "open_output", "Mixer", "MODES",
           "MODE_LABELS"]


def install_playback(window, *, device_factory=None) -> PlaybackController:
    """Add the transport bar to ``window`` (a MainWindow) and wire the playback.

    The window's stream views show the prefetched frames while playing; the status bar
    says once when there is no sound. Returns the controller (``window.playback``).
    """
    from PySide6.QtWidgets import QToolBar

    from .transport import TransportPanel

    controller = PlaybackController(window.session, device_factory=device_factory,
                                    stream_views=window.stream_views, parent=window)
    panel = TransportPanel(controller, window)
    bar = QToolBar("Playback", window)
    bar.setObjectName("playback_toolbar")
    bar.setMovable(False)
    bar.addWidget(panel)
    window.addToolBar(bar)
    for action in panel.actions:
        window.addAction(action)
    controller.notice.connect(lambda text: window.statusBar().showMessage(text, 15_000))
    window.transport = panel
    from .loop_view import LoopOverlay

    window.loop_overlay = LoopOverlay(controller, window.session, window.stream_views)
    return controller
