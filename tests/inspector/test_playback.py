"""Playback with a fake output device: modes, switch position, loop, speed, seek while
playing, device failure mid-play, the clock, video frames, the transport in the window.

The recordings encode their own time: A's sample at t seconds is ``t / 100``, B's is
``-t / 100``, so one output sample says which recording sounds and where.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile

from core.alignment import Alignment
from core.media import open_recording
from inspector.playback import FakeOutput, Mixer, PlaybackController
from inspector.playback.clock import Segment, TimingMap
from inspector.playback.devices import SilentOutput
from inspector.playback.sources import AudioSource
from inspector.session import Session

RATE = 8000
DUR_A, DUR_B = 4.0, 6.0


def _time_coded(path, duration_s, sign):
    x = sign * np.arange(int(duration_s * RATE)) / RATE / 100
    soundfile.write(str(path), x.astype(np.float32), RATE, subtype="FLOAT")
    return open_recording(path)


@pytest.fixture
def recordings(tmp_path):
    return (_time_coded(tmp_path / "a.wav", DUR_A, 1.0),
            _time_coded(tmp_path / "b.wav", DUR_B, -1.0))


def _alignment():
    """B runs 1.5x slower than A: t_b = 1.5 t_a (frames at 100 Hz)."""
    i = np.arange(0, 400)
    return Alignment(np.stack([i, np.round(1.5 * i)], axis=1), 100.0, 100.0)


def _loaded(source):
    for b in range(source.n_frames // (1 << 14) + 1):
        source.load(b)
    return source


def _mixer(recordings, mode="a", position=("a", 0.0), alignment=None):
    a, b = recordings
    sources = {"a": _loaded(AudioSource(a, "a")), "b": _loaded(AudioSource(b, "b")), "w": None}
    mixer = Mixer(RATE, TimingMap(), sources=sources, durations={"a": DUR_A, "b": DUR_B},
                  alignment=alignment if alignment is not None else _alignment(),
                  mode=mode, position=position)
    return mixer


def _decode(value):
    """(slot, seconds) from a time-coded sample."""
    return ("a" if value >= 0 else "b"), abs(float(value)) * 100


# ---------------------------------------------------------------------------- mixer
def test_a_leads_plays_a_from_the_position_and_writes_the_timing(recordings):
    mixer = _mixer(recordings, position=("a", 1.0))
    mixer.play()
    out = np.concatenate([mixer.pull(256) for _ in range(10)])
    expected = (RATE * 1.0 + np.arange(2560)) / RATE / 100
    np.testing.assert_allclose(out[:, 0], expected, atol=1e-6)
    np.testing.assert_array_equal(out[:, 0], out[:, 1])
    segment, t = mixer.timing.lookup(1000)
    assert segment.lead == "a" and segment.sounding == "a"
    assert t == pytest.approx(1.0 + 1000 / RATE)


def test_b_leads_sounds_b_on_its_own_timeline(recordings):
    mixer = _mixer(recordings, mode="b", position=("a", 2.0))  # starts at B's 3.0 s
    mixer.play()
    out = mixer.pull(512)
    slot, t = _decode(out[0, 0])
    assert slot == "b" and t == pytest.approx(3.0, abs=1e-4)
    assert mixer.timing.lookup(0)[0].lead == "b"


def test_switch_lands_on_the_aligned_point_with_a_crossfade(recordings):
    mixer = _mixer(recordings, position=("a", 1.0))
    mixer.play()
    mixer.pull(800)  # A at 1.1 s
    mixer.switch()
    out = mixer.pull(800)
    fade = int(0.02 * RATE)
    after = out[fade + 10, 0]
    slot, t_b = _decode(after)
    t_a_at_switch = 1.0 + 800 / RATE
    expected_b = 1.5 * (t_a_at_switch + (fade + 10) / RATE)
    assert slot == "b"
    assert abs(t_b - expected_b) < 0.02  # within 20 ms of the aligned point
    # the crossfade: no jump from A's last value to B's first
    steps = np.abs(np.diff(out[:fade + 2, 0]))
    assert steps.max() < 0.05 * abs(out[0, 0] - after) + 1e-4
    segment, t = mixer.timing.lookup(800)
    assert segment.lead == "b" and t == pytest.approx(1.5 * t_a_at_switch, abs=0.011)


def test_speed_two_advances_twice_as_fast(recordings):
    mixer = _mixer(recordings, position=("a", 0.5))
    mixer.set_speed(2.0)
    mixer.play()
    out = mixer.pull(800)
    assert _decode(out[-1, 0])[1] == pytest.approx(0.5 + 2 * 799 / RATE, abs=1e-4)
    assert mixer.timing.lookup(400)[1] == pytest.approx(0.5 + 2 * 400 / RATE)
    with pytest.raises(ValueError, match="speed"):
        mixer.set_speed(3.0)


def test_half_speed_interpolates_between_samples(recordings):
    mixer = _mixer(recordings, position=("a", 0.5))
    mixer.set_speed(0.5)
    mixer.play()
    out = mixer.pull(100)
    np.testing.assert_allclose(out[:, 0], (0.5 + 0.5 * np.arange(100) / RATE) / 100, atol=1e-7)


def test_loop_wraps_to_its_start(recordings):
    mixer = _mixer(recordings, position=("a", 1.0))
    mixer.set_loop((1.0, 1.5))
    mixer.play()
    out = np.concatenate([mixer.pull(256) for _ in range(25)])  # 0.8 s: one wrap
    times = np.array([_decode(v)[1] for v in out[:, 0]])
    assert times.max() < 1.5 + 0.03  # the crossfade may sound a little past the end
    wrap = int(0.5 * RATE)
    assert times[wrap + 200] == pytest.approx(1.0 + 200 / RATE, abs=1e-3)
    assert mixer.playing


def test_seek_while_playing(recordings):
    mixer = _mixer(recordings, position=("a", 0.2))
    mixer.play()
    mixer.pull(256)
    mixer.seek("b", 3.0)  # B's 3.0 s is A's 2.0 s
    out = mixer.pull(512)
    assert _decode(out[-1, 0])[1] == pytest.approx(2.0 + 511 / RATE, abs=0.002)


def test_the_end_stops_and_is_marked(recordings):
    mixer = _mixer(recordings, position=("a", DUR_A - 0.05))
    mixer.play()
    out = mixer.pull(1024)
    assert not mixer.playing and mixer.ended
    assert mixer.ended_frame == pytest.approx(0.05 * RATE, abs=2)
    assert np.all(out[mixer.ended_frame + 1:] == 0)


def test_missing_data_holds_the_clock(recordings):
    a, b = recordings
    sources = {"a": AudioSource(a, "a"), "b": None, "w": None}  # nothing cached
    mixer = Mixer(RATE, TimingMap(), sources=sources, durations={"a": DUR_A, "b": DUR_B},
                  position=("a", 1.0))
    mixer.play()
    out = mixer.pull(256)
    assert np.all(out == 0) and mixer.sound_started is None
    assert mixer.timing.lookup(200)[1] == pytest.approx(1.0)  # the cursor holds
    sources["a"].load(0)
    mixer.pull(256)
    assert mixer.sound_started == 256


def test_audition_plays_a_then_b_around_the_point(recordings):
    mixer = _mixer(recordings, position=("a", 2.0))
    mixer.set_mode("audition")
    mixer.play()
    out = np.concatenate([mixer.pull(512) for _ in range(70)])
    slots = [_decode(v)[0] for v in out[:, 0] if v != 0]
    first_b = slots.index("b")
    assert first_b == pytest.approx(2 * RATE, abs=int(0.03 * RATE))
    assert _decode(out[100, 0])[1] == pytest.approx(1.0 + 100 / RATE, abs=1e-3)
    assert _decode(out[first_b + 200, 0])[1] == pytest.approx(3.0 - 1.0 + 200 / RATE,
                                                              abs=0.03)
    assert mixer.ended


def test_timing_map_merges_continuing_segments():
    timing = TimingMap()
    timing.add(Segment(0, "a", 0.0, 0.001, "a"))
    timing.add(Segment(100, "a", 0.1, 0.001, "a"))  # continues: merged
    timing.add(Segment(200, "b", 5.0, 0.001, "b"))
    assert len(timing._segments) == 2
    assert timing.lookup(150)[1] == pytest.approx(0.15)
    assert timing.lookup(250)[1] == pytest.approx(5.05)
    assert timing.lookup(-1) is None


def test_silent_output_paces_on_the_monotonic_clock():
    device = SilentOutput(RATE, block_s=0.005)
    pulled = []
    device.start(lambda n: pulled.append(n) or np.zeros((n, 2), np.float32))
    start = time.monotonic()
    try:
        while sum(pulled) < 0.2 * RATE and time.monotonic() - start < 5:
            time.sleep(0.01)
        now = time.monotonic()
        played = device.played_frames(now)
    finally:
        device.stop()
    assert 0 < played <= sum(pulled)
    assert played == pytest.approx((now - device._start) * RATE, abs=1)


# ---------------------------------------------------------------------------- controller
@pytest.fixture
def session(qtbot, recordings):
    s = Session()
    s.set_recording("a", recordings[0])
    s.set_recording("b", recordings[1])
    s.add_alignment(_alignment())
    return s


@pytest.fixture
def controller(session):
    device = FakeOutput(RATE)
    c = PlaybackController(session, device_factory=lambda: device)
    c.fake = device
    yield c
    c.shutdown()


def _settle(c, qtbot):
    """Wait until the prefetch thread has cached what the mixer wants (a fake device plays
    faster than real time, a real one waits for nobody)."""
    qtbot.waitUntil(lambda: not any(source.missing(t0, t1) for source, t0, t1 in c._wanted()),
                    timeout=20_000)


def _advance(c, qtbot, seconds, step=0.05):
    for _ in range(int(round(seconds / step))):
        _settle(c, qtbot)
        c.fake.advance(step)


def _until_sound(c, qtbot):
    def sounding():
        c.fake.advance(256 / RATE)
        return c.mixer.sound_started is not None
    qtbot.waitUntil(sounding, timeout=10_000)


def test_the_cursor_follows_the_played_frames(controller, session, qtbot):
    session.move_cursor("a", 1.0)
    controller.play()
    _until_sound(controller, qtbot)
    _advance(controller, qtbot, 0.5)
    controller.tick(force=True)
    t_a, t_b = session.cursor
    played = controller.fake.played
    last_a = _decode(played[-1, 0])[1]
    assert t_a == pytest.approx(last_a + 1 / RATE, abs=1e-6)  # the next frame to sound
    assert t_b == pytest.approx(1.5 * t_a, abs=0.01)
    controller.fake.latency_frames = 800  # 0.1 s still in the device: the cursor is back
    controller.tick(force=True)
    assert session.cursor[0] == pytest.approx(t_a - 0.1, abs=1e-6)


def test_click_while_playing_seeks(controller, session, qtbot):
    controller.play()
    _until_sound(controller, qtbot)
    session.move_cursor("b", 4.5)  # what a click on B's view does: A at 3.0 s
    _settle(controller, qtbot)
    before = controller.fake.pulled
    _advance(controller, qtbot, 0.1)
    controller.tick(force=True)
    played_s = (controller.fake.pulled - before) / RATE  # (a block may have waited for data)
    assert 3.0 < session.cursor[0] <= 3.0 + played_s + 1e-6
    slot, t = _decode(controller.fake.played[-1, 0])
    assert slot == "a" and 3.0 < t <= 3.0 + played_s


def test_switch_and_mode_in_the_controller(controller, session, qtbot):
    controller.play()
    _until_sound(controller, qtbot)
    _advance(controller, qtbot, 0.3)
    controller.switch()
    assert controller.mode == "b"
    _advance(controller, qtbot, 0.2)
    controller.tick(force=True)
    assert controller.sounding == "b"
    slot, t_b = _decode(controller.fake.played[-1, 0])
    assert slot == "b" and t_b == pytest.approx(session.cursor[1], abs=0.05)


def test_device_failure_mid_play_goes_on_silently_and_says_so_once(controller, session,
                                                                  qtbot):
    notices = []
    controller.notice.connect(notices.append)
    session.move_cursor("a", 1.0)
    controller.play()
    _until_sound(controller, qtbot)
    _advance(controller, qtbot, 0.5)
    controller.tick(force=True)
    before = session.cursor[0]
    with qtbot.waitSignal(controller.state_changed, timeout=5000):
        controller.fake.fail()
    assert controller.is_playing and controller.device.is_silent
    assert len(notices) == 1 and "no sound" in notices[0]
    qtbot.waitUntil(lambda: (controller.tick(force=True) or session.cursor[0]) > before + 0.05,
                    timeout=5000)
    assert session.cursor[0] < before + 2.0  # continued from where the sound was
    controller.pause()
    assert not controller.is_playing


def test_no_device_plays_on_the_silent_clock(session, qtbot):
    def broken():
        raise OSError("no sound card")
    c = PlaybackController(session, device_factory=broken)
    try:
        with qtbot.waitSignal(c.notice, timeout=2000) as blocker:
            c.play()
        assert "no sound" in blocker.args[0]
        assert c.device.is_silent
        qtbot.waitUntil(lambda: (c.tick(force=True) or session.cursor[0]) > 0.05, timeout=5000)
    finally:
        c.shutdown()


def test_playing_to_the_end_stops(controller, session, qtbot):
    session.move_cursor("a", DUR_A - 0.1)
    with qtbot.waitSignal(controller.state_changed):
        controller.play()
    _until_sound(controller, qtbot)
    _advance(controller, qtbot, 0.3)
    with qtbot.waitSignal(controller.state_changed, timeout=2000):
        controller.tick(force=True)
    assert not controller.is_playing
    assert session.cursor[0] == pytest.approx(DUR_A, abs=0.01)


def test_warped_mode_plays_b_on_a_timeline(controller, session, qtbot):
    controller.set_mode("warped")
    session.move_cursor("a", 1.0)
    warp = controller._build_sources()["w"]
    qtbot.waitUntil(lambda: not warp.missing(1.0, 1.6), timeout=20_000)  # rendered ahead
    controller.play()
    _until_sound(controller, qtbot)
    _advance(controller, qtbot, 0.25)
    controller.tick(force=True)
    assert controller.sounding == "warped"
    assert controller.mixer.starved_frames == 0
    assert session.cursor[0] == pytest.approx(1.0 + controller.fake.pulled / RATE
                                              - controller.mixer.sound_started / RATE,
                                              abs=0.01)
    out = controller.fake.played[controller.mixer.sound_started:]
    assert np.all(out[100:, 0] <= 1e-3)  # it is B's (negative) signal, stretched


def test_video_frames_follow_the_clock(qtbot, tmp_path):
    from tests.core.media_factory import read_barcode, write_video

    a = open_recording(write_video(tmp_path / "a.avi", 60, "MJPG", fps=20.0))
    s = Session()
    s.set_recording("a", a)
    shown = []

    class View:
        def show_frame(self, k, rgb):
            if rgb is not None:
                shown.append((k, read_barcode(rgb)))

    device = FakeOutput(RATE)
    c = PlaybackController(s, device_factory=lambda: device, stream_views={"a": View()})
    try:
        c.play()
        for _ in range(40):
            device.advance(0.05)
            video = c._videos["a"]
            k = video.index(c.clock_position()[0])
            video.set_target(k)
            qtbot.waitUntil(lambda v=video, k=k: (v.frame(k) or (None,))[0] == k,
                            timeout=5000)
            c.tick(force=True)
    finally:
        c.shutdown()
    assert len(shown) > 10
    assert all(abs(k - code) <= 1 for k, code in shown)


def test_transport_in_the_window(window, qtbot, audio_pair):
    from PySide6.QtCore import Qt

    device = FakeOutput(8000)
    window.playback.device_factory = lambda: device
    for slot, path in zip("ab", audio_pair, strict=True):
        window.workspace.open_file(slot, path)
    qtbot.waitUntil(lambda: window.session.has_both(), timeout=10_000)
    panel = window.transport
    window.activateWindow()
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert window.playback.is_playing and panel.play_button.text().endswith("Pause")
    qtbot.waitUntil(lambda: (device.advance(0.05) or
                             window.playback.mixer.sound_started is not None), timeout=10_000)
    device.advance(0.3)
    window.playback.tick(force=True)
    assert window.session.cursor[0] > 0.2
    assert panel.indicator.text() == "♪ A"
    panel.mode_box.setCurrentIndex(panel.mode_box.findData("b"))
    assert window.playback.mode == "b"
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert not window.playback.is_playing
    window.shutdown()


def test_the_loop_region_is_drawn_on_both_streams_and_its_edges_move_it(window, qtbot,
                                                                       audio_pair):
    from PySide6.QtCore import Qt

    window.playback.device_factory = lambda: FakeOutput(8000)
    for slot, path in zip("ab", audio_pair, strict=True):
        window.workspace.open_file(slot, path)
    qtbot.waitUntil(lambda: window.session.has_both()
                    and window.session.active_alignment() is not None, timeout=30_000)
    overlay = window.loop_overlay
    assert not any(r.isVisible() for rs in overlay.regions.values() for r in rs)
    window.activateWindow()
    window.session.move_cursor("a", 1.0)
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    assert overlay.marks["a"][0].isVisible() and overlay.marks["a"][0].value() == 1.0
    window.session.move_cursor("a", 2.5)
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.playback.loop == (1.0, 2.5)
    assert not overlay.marks["a"][0].isVisible()
    for region in overlay.regions["a"]:
        assert region.isVisible() and region.getRegion() == (1.0, 2.5)
    b0, b1 = overlay.regions["b"][0].getRegion()
    al = window.session.active_alignment()
    assert b0 == pytest.approx(float(al.map_a_to_b(1.0)))
    assert b1 == pytest.approx(float(al.map_a_to_b(2.5)))
    region = overlay.regions["a"][1]  # dragging an edge on A changes the loop
    region.setRegion((1.5, 2.5))
    region.sigRegionChangeFinished.emit(region)
    assert window.playback.loop == (1.5, 2.5)
    assert overlay.regions["a"][0].getRegion() == (1.5, 2.5)
    qtbot.mouseClick(window.transport.loop_button, Qt.MouseButton.LeftButton)
    assert window.playback.loop is None
    assert not any(r.isVisible() for rs in overlay.regions.values() for r in rs)
    window.shutdown()


@pytest.mark.parametrize(("cached", "at_open"), [(False, 0), (True, 1)])
def test_first_run_defers_the_stretch_warm_up_to_the_first_result(recordings, monkeypatch,
                                                                   qtbot, cached, at_open):
    """With the kernels not cached (a first run) the stretch's warm-up, which compiles
    under numba's compiler lock, waits for the first alignment instead of starting when B
    opens; with them cached it starts at once. Either way once."""
    import threading

    from inspector.playback import controller as mod

    calls = []
    monkeypatch.setattr(mod, "_warmed_up", threading.Event())
    monkeypatch.setattr(mod, "_kernels_cached", lambda: cached)
    def warm_up():  # as the real one: once per process
        if not mod._warmed_up.is_set():
            mod._warmed_up.set()
            calls.append(1)

    monkeypatch.setattr(mod, "_warm_up_stretch", warm_up)
    s = Session()
    c = PlaybackController(s, device_factory=lambda: FakeOutput(RATE))
    try:
        s.set_recording("a", recordings[0])
        s.set_recording("b", recordings[1])
        assert len(calls) == at_open
        s.add_alignment(_alignment())
        qtbot.waitUntil(lambda: len(calls) == 1, timeout=5_000)
    finally:
        c.shutdown()


def test_a_zoomed_window_pages_on_with_the_play_cursor(window, qtbot, audio_pair):
    """Zoomed in to listen closely, then Play: the views page on when the cursor reaches
    the right edge (it used to run out of view while the sound went on)."""
    from inspector_gui_helpers import open_pair, wait_idle

    device = FakeOutput(8000)
    window.playback.device_factory = lambda: device
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    window.session.move_cursor_to(0.2, 0.2)
    window.linked_zoom.ranges = {"a": (0.0, 1.0), "b": (0.0, 1.2)}
    window.linked_zoom._apply()
    wait_idle(qtbot, window)
    assert window.stream_a.visible_range() == pytest.approx((0.0, 1.0), abs=0.02)
    window.playback.play()
    qtbot.waitUntil(lambda: (device.advance(0.05) or
                             window.playback.mixer.sound_started is not None), timeout=10_000)
    while window.session.cursor[0] < 1.5:
        device.advance(0.05)
        window.playback.tick(force=True)
    window.playback.stop()
    wait_idle(qtbot, window)
    t_a, t_b = window.session.cursor
    for view, t in ((window.stream_a, t_a), (window.stream_b, t_b)):
        t0, t1 = view.visible_range()
        assert t0 <= t <= t1 and t1 - t0 == pytest.approx(1.0 if view is window.stream_a
                                                          else 1.2, abs=0.05)
    x0, x1, y0, y1 = window.matrix.view_seconds()
    assert x0 <= t_a <= x1 and y0 <= t_b <= y1
    window.shutdown()


def test_a_zoomed_window_pages_within_the_recording(window, qtbot, audio_pair):
    """A loop back to the recording's start pages the zoomed views there, not to
    negative times before it; a page near the end shows the recording's last part."""
    from inspector_gui_helpers import open_pair, wait_idle

    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    zoom = window.linked_zoom
    zoom.ranges = {"a": (2.0, 3.0), "b": (2.5, 3.7)}
    zoom._apply()
    wait_idle(qtbot, window)
    zoom.follow(0.05, 0.05)  # the loop started again
    wait_idle(qtbot, window)
    assert zoom.ranges["a"] == pytest.approx((0.0, 1.0))
    assert zoom.ranges["b"] == pytest.approx((0.0, 1.2))
    # inside a range away from its edge: nothing moves
    zoom.follow(0.5, 0.5)
    assert zoom.ranges["a"] == pytest.approx((0.0, 1.0))
    # a page near the end shows the recording's last seconds, not blank time past it
    dur_a, dur_b = window.session.duration("a"), window.session.duration("b")
    zoom.follow(dur_a - 0.3, dur_b - 0.3)
    assert zoom.ranges["a"] == pytest.approx((dur_a - 1.0, dur_a))
    assert zoom.ranges["b"] == pytest.approx((dur_b - 1.2, dur_b))
    zoom.follow(dur_a - 0.01, dur_b - 0.01)  # the end in view: it stays
    assert zoom.ranges["a"] == pytest.approx((dur_a - 1.0, dur_a))
    window.shutdown()
