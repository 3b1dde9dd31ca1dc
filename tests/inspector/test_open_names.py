"""Opening files in the window (issue 19): a bad file, a missing one, or one whose name
is not UTF-8 gives a message naming the file (Qt drops such bytes from text: they are
shown as \\xNN), and a good file with such a name opens."""

from __future__ import annotations

import os

import numpy as np
from conftest import melody, write_wav
from inspector_gui_helpers import wait_idle


def _name(tmp_path, raw: bytes) -> str:
    return os.fsdecode(os.path.join(os.fsencode(tmp_path), raw))


def _messages(window):
    got = []
    window.workspace.message_posted.connect(got.append)
    return got


def test_a_bad_file_with_a_name_that_is_not_utf8(qtbot, window, tmp_path):
    path = _name(tmp_path, b"bad \xff\xfe.wav")
    with open(path, "wb") as handle:
        handle.write(b"RIFF\x00\x00this is not a wave file" * 20)
    messages = _messages(window)
    window.workspace.open_file("a", path)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=30_000)
    wait_idle(qtbot, window)
    text = window.banner.text()
    assert "bad \\xff\\xfe.wav: could not be decoded as audio" in text, text
    assert messages[0] == "opening bad \\xff\\xfe.wav…"
    assert window.session.stream("a") is None


def test_a_good_file_with_a_name_that_is_not_utf8_opens(qtbot, window, tmp_path):
    good = write_wav(tmp_path / "good.wav", melody(1.0))
    path = _name(tmp_path, b"caf\xe9 take.wav")
    with open(good, "rb") as source, open(path, "wb") as handle:
        handle.write(source.read())
    messages = _messages(window)
    window.workspace.open_file("b", path)
    qtbot.waitUntil(lambda: window.session.stream("b") is not None, timeout=30_000)
    wait_idle(qtbot, window)
    assert "opened caf\\xe9 take.wav as B" in messages
    assert not window.banner.isVisible()
    assert np.isfinite(window.session.stream("b").duration_s)


def test_a_missing_file_is_named(qtbot, window, tmp_path):
    path = str(tmp_path / "nowhere.flac")
    window.workspace.open_file("a", path)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=30_000)
    wait_idle(qtbot, window)
    assert f"{path}: file not found" in window.banner.text()
