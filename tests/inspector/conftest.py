"""Fixtures for the inspector's GUI tests: generated media, a window, Qt-warning guard."""

from __future__ import annotations

import os
import wave

import numpy as np
import pytest

from core.synthetic.music import tone_sections

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# printed by Qt's offscreen platform plugin for every top-level window; not our doing
BENIGN_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",
                      # a popup menu asks to be raised and to grab the keyboard
                      "This plugin does not support raise()",
                      "This plugin does not support grabbing the keyboard")


def write_wav(path, signal: np.ndarray, rate: int = 8000) -> str:
    """A 16-bit mono WAV from a float signal in [-1, 1]."""
    data = (np.clip(signal, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())
    return str(path)


def melody(duration_s: float, rate: int = 8000, tempo: float = 1.0, seed: int = 0):
    """A sequence of tones whose note lengths scale with 1 / tempo (a warped copy)."""
    rng = np.random.default_rng(seed)
    pitches = [60, 64, 67, 72, 69, 65, 62, 71, 60, 67]
    out = []
    t_total = 0.0
    k = 0
    while t_total < duration_s:
        note_s = 0.25 / tempo
        n = int(note_s * rate)
        t = np.arange(n) / rate
        f = 440.0 * 2 ** ((pitches[k % len(pitches)] - 69) / 12)
        env = np.exp(-3 * t)
        out.append(0.5 * env * np.sin(2 * np.pi * f * t))
        t_total += note_s
        k += 1
    x = np.concatenate(out)[: int(duration_s * rate)]
    return (x + 0.01 * rng.standard_normal(len(x))).astype(np.float32)


def write_video(path, n_frames: int = 40, fps: float = 10.0, size=(64, 48)) -> str:
    import cv2

    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    for k in range(n_frames):
        img = np.zeros((h, w, 3), np.uint8)
        x = int((k / max(n_frames - 1, 1)) * (w - 10))
        img[10:30, x:x + 10] = (40 + 5 * k) % 255, 200, 255 - 4 * k
        img[:, :, 0] += np.uint8(k * 3 % 100)
        writer.write(img)
    writer.release()
    return str(path)


@pytest.fixture
def audio_pair(tmp_path):
    a = write_wav(tmp_path / "a.wav", melody(4.0, tempo=1.0))
    b = write_wav(tmp_path / "b.wav", melody(5.0, tempo=0.8, seed=1))
    return a, b


@pytest.fixture
def video_pair(tmp_path):
    return (write_video(tmp_path / "a.avi", 30, 10.0),
            write_video(tmp_path / "b.avi", 40, 10.0))


@pytest.fixture
def repeat_pair(tmp_path):
    """A: sections 1-5 (20 s); B: the same with section 2 (4-8 s) again after 3 (24 s)."""
    import soundfile as sf

    pa, pb = tmp_path / "a.wav", tmp_path / "b.wav"
    sf.write(pa, tone_sections([220, 330, 262, 392, 294]), 8000)
    sf.write(pb, tone_sections([220, 330, 262, 330, 392, 294]), 8000)
    return str(pa), str(pb)


@pytest.fixture
def lead_in_pair(tmp_path):
    """A: a 6 s melody; B: 4 s of brown noise (a lead-in A lacks, not silence), then the
    melody a little faster. The default pipeline leaves the lead-in out and warns."""
    rng = np.random.default_rng(3)
    lead = np.cumsum(rng.normal(0.0, 1.0, 4 * 8000))
    lead = 0.3 * (lead - lead.mean()) / np.max(np.abs(lead - lead.mean()))
    a = write_wav(tmp_path / "a.wav", melody(6.0))
    b = write_wav(tmp_path / "b.wav", np.concatenate([lead, melody(6.0, tempo=1.1, seed=1)]))
    return a, b


@pytest.fixture(autouse=True)
def fail_on_qt_warnings(request):
    """A test fails if Qt printed a warning (pytest-qt's ``qtlog`` captures them)."""
    if "qtlog" not in request.fixturenames and "qtbot" not in request.fixturenames:
        yield
        return
    qtlog = request.getfixturevalue("qtlog")
    yield
    from pytestqt.qt_compat import qt_api

    bad = [r.message for r in qtlog.records
           if r.type in (qt_api.QtCore.QtMsgType.QtWarningMsg,
                         qt_api.QtCore.QtMsgType.QtCriticalMsg,
                         qt_api.QtCore.QtMsgType.QtFatalMsg)
           and not any(b in r.message for b in BENIGN_QT_MESSAGES)]
    assert not bad, f"Qt warnings: {bad}"


@pytest.fixture
def window(qtbot, tmp_path):
    """The main window (no QSettings), shown; its workers are stopped and checked after."""
    from inspector.app import MainWindow

    win = MainWindow(settings=None)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()
    assert win.jobs.n_running == 0
    assert win.jobs._pool.activeThreadCount() == 0, "a worker is still running"
