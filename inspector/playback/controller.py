"""The playback controller: output device, mixer, prefetch threads, and the tick that
moves the session's cursor and the video frames to where the sound is.

Observes the Session (``cursor_moved``: a click or a key while playing seeks;
``recording_opened``, ``recording_closed``, ``recordings_swapped``: playback stops and
its sources are rebuilt; ``active_alignment_changed``, ``alignment_edited``: the
mapping and the warped source follow the new alignment). GUI thread; the device pulls
the mixer on its own thread, the prefetchers fill caches on theirs.

Each tick (every :data:`TICK_MS`) reads the device's played-frame count, looks it up in
the timing map the mixer wrote, and puts the cursor there; the timer only decides when
to look, never what time it is.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from .clock import TimingMap
from .devices import DeviceUnavailable, OutputDevice, SilentOutput, open_output
from .mixer import MAX_SPEED, MIN_SPEED, MODES, Mixer
from .sources import AHEAD_S, WARP_AHEAD_S, AudioSource, Prefetcher, WarpSource
from .video import FramePrefetcher

__all__ = ["PlaybackController", "TICK_MS"]

TICK_MS = 15
#: the cursor (every view's line) moves at most this often; frames follow every tick. A
#: cursor move repaints five views (about 12 ms of the GUI thread here), frames only a
#: label each
CURSOR_MS = 30


_warmed_up = threading.Event()


def _warm_up_stretch() -> None:
    """Load the stretch's kernels and libtsm once per process on a thread of their own,
    when a pair that can be warped is first seen (not in every window)."""
    if _warmed_up.is_set():
        return
    _warmed_up.set()
    from core._kernels import preload_numba
    from core.render import warm_up

    from ..jobs import ENGINE_MODULES

    # the warm-up thread waits for it (sources._quietly); the modules the jobs need too,
    # should this start the import thread before any job does
    preload_numba(also=ENGINE_MODULES)

    from .sources import _quietly

    threading.Thread(target=_quietly, args=(warm_up,), daemon=True,
                     name="playback-warm-up").start()


def _kernels_cached() -> bool:
    """Whether this version's kernels are in the numba cache (the first-run marker)."""
    from ..firstrun import marker_path

    marker = marker_path()
    return marker is not None and marker.exists()


def default_device_factory() -> OutputDevice:
    """PortAudio's default output; ``ALIGNMENT_INSPECTOR_AUDIO=silent`` forces the
    silent clock."""
    return open_output(os.environ.get("ALIGNMENT_INSPECTOR_AUDIO", "auto"))


class PlaybackController(QObject):
    """Plays the session's recordings through the active alignment.

    Parameters
    ----------
    session : inspector.session.Session
    device_factory : callable() -> OutputDevice, optional
        Makes the output at each Play (tests pass a fake).
    stream_views : dict slot -> StreamView, optional
        Views that show the prefetched video frames (``show_frame(k, rgb)``).

    Signals
    -------
    state_changed(playing)
    position_changed(time_a_s, time_b_s, sounding)   each tick while playing
    mode_changed(mode)
    notice(text)                                      said once per reason (no sound)
    loop_changed()                                    the loop or one of its marks
    """

    state_changed = Signal(bool)
    position_changed = Signal(float, float, str)
    mode_changed = Signal(str)
    notice = Signal(str)
    loop_changed = Signal()  # the loop region or one of its marks changed
    _device_failed = Signal(str)  # from the device's thread to the GUI thread

    def __init__(self, session, *, device_factory: Callable[[], OutputDevice] | None = None,
                 stream_views: dict | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.device_factory = device_factory or default_device_factory
        self.stream_views = dict(stream_views or {})
        self.mode = "a"
        self.speed = 1.0
        self.loop: tuple[float, float] | None = None
        self.loop_marks: list[float | None] = [None, None]
        self.device: OutputDevice | None = None
        self.mixer: Mixer | None = None
        self.timing = TimingMap()
        self.sounding = ""
        self.said: set[str] = set()
        self._sources: dict | None = None
        self._videos: dict[str, FramePrefetcher] = {}
        self._moving_cursor = False
        self._cursor_moved_at = 0.0
        self._cursor = session.cursor
        self._alignment = _follow(session.active_alignment())
        self._pull_lock = threading.Lock()
        self._device_frames = 0
        self._audition_centre: tuple[float, float] | None = None
        self.last_frames: dict[str, int] = {}
        self.prefetcher = Prefetcher(self._wanted, on_error=self.notice.emit)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self._device_failed.connect(self._on_device_failed)
        session.cursor_moved.connect(self._on_cursor_moved)
        for name in ("recording_opened", "recording_closed"):
            getattr(session, name).connect(lambda *_: self._invalidate(stop=True))
        session.recordings_swapped.connect(lambda: self._invalidate(stop=True))
        session.recording_opened.connect(self._warm_up_when_opened)
        session.active_alignment_changed.connect(lambda *_: self._on_alignment_changed())
        if hasattr(session, "alignment_edited"):
            session.alignment_edited.connect(self._on_alignment_edited)

    def _warm_up_when_opened(self, slot: str) -> None:
        """Warm the stretch up as soon as an audio B is opened, while the default
        alignment is computed: its imports and kernel loads are pure Python on a thread
        (the GIL, half a second of it); started when the alignment arrived, they ran
        while every view drew it and the user began to pan (pauses of 200+ ms)."""
        rec = self.session.recording(slot)
        if slot == "b" and rec is not None and rec.kind == "audio":
            # a first run would compile the stretch (numba's compiler lock, seconds) beside
            # the default alignment's own kernels: there the first result's warp source
            # starts it (_warp_source; bench_startup, cold cache: first alignment 5.3 s
            # instead of 14-15 s)
            if _kernels_cached():
                _warm_up_stretch()

    # ------------------------------------------------------------------ state
    @property
    def is_playing(self) -> bool:
        return self.mixer is not None and self.timer.isActive()

    def can_play(self) -> bool:
        return any(self.session.recording(s) is not None for s in ("a", "b"))

    def lead(self) -> str:
        """Whose time leads in the current mode."""
        if self.mixer is not None:
            return self.mixer.position()[0]
        return "b" if self.mode == "b" else "a"

    # ------------------------------------------------------------------ sources
    def _build_sources(self) -> dict:
        if self._sources is not None:
            return self._sources
        sources: dict = {"a": None, "b": None, "w": None}
        for slot in ("a", "b"):
            rec = self.session.recording(slot)
            if rec is not None and rec.kind == "audio":
                sources[slot] = AudioSource(rec, slot)
        sources["w"] = self._warp_source()
        for slot in ("a", "b"):
            rec = self.session.recording(slot)
            if rec is not None and rec.kind == "video" and slot not in self._videos:
                self._videos[slot] = FramePrefetcher(rec)
        self._sources = sources
        return sources

    def _warp_source(self):
        al = self.session.active_alignment()
        a, b = self.session.recording("a"), self.session.recording("b")
        if al is None or a is None or b is None or b.kind != "audio":
            return None
        _warm_up_stretch()
        return WarpSource(al, a, b)

    def _invalidate(self, *, stop: bool) -> None:
        if stop:
            self.stop()
            self.close_device()
        self._sources = None
        for video in self._videos.values():
            video.close()
        self._videos = {}

    def _on_alignment_changed(self) -> None:
        self._alignment = _follow(self.session.active_alignment())
        if self._sources is None:
            if self._alignment is not None and self.session.has_both():
                self._build_sources()  # caches fill around the cursor before Play
                self.prefetcher.poke()
            return
        self._sources["w"] = self._warp_source()
        if self.mixer is not None:
            self.mixer.set_alignment(_follow(self.session.active_alignment()),
                                     self._sources["w"])
            self.prefetcher.poke()

    def _on_alignment_edited(self, aid: int) -> None:
        if aid == self.session.active_id:
            self._on_alignment_changed()

    def _map(self, t: float, source: str, target: str) -> float:
        al = self._alignment
        if source == target or al is None:
            return float(t)
        return float(al.map_a_to_b(t) if source == "a" else al.map_b_to_a(t))

    def _wanted(self) -> list:
        """Prefetch thread: what to cache, nearest need first; while stopped, around the
        cursor (so that Play sounds at once)."""
        mixer, sources = self.mixer, self._sources
        if sources is None:
            return []
        if mixer is not None:
            lead, pos, mode = mixer.position()
        else:
            mode = self.mode
            lead = "b" if mode == "b" else "a"
            pos = self._cursor[0 if lead == "a" else 1]
        other = "b" if lead == "a" else "a"
        t = {lead: pos, other: self._map(pos, lead, other)}
        audio = {k: sources.get(k) for k in ("a", "b")}
        warp = sources.get("w")
        first = {"a": ["a"], "b": ["b"], "warped": ["w"], "side": ["a", "w"],
                 "audition": ["a", "b"]}[mode]
        wants = []
        for key in first:  # the next half second of what sounds now
            source = warp if key == "w" else audio[key]
            if source is not None:
                wants.append((source, t[source.timeline], t[source.timeline] + 0.5))
        for key in ("a", "b"):  # then both recordings (a switch sounds at once)
            if audio[key] is not None:
                wants.append((audio[key], t[key] - 0.2, t[key] + AHEAD_S))
        if warp is not None and mode in ("warped", "side"):
            wants.append((warp, t["a"], t["a"] + WARP_AHEAD_S))
        return wants

    # ------------------------------------------------------------------ transport
    def toggle(self) -> None:
        if self.is_playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        """Start from the cursor (audition: around A's cursor)."""
        if self.is_playing or not self.can_play():
            return
        if self.mode in ("warped", "side") and _has_jumps(self.session.active_alignment()):
            # a warp plan is one monotone path: it cannot follow a path with jumps
            self.notice.emit("this result has jumps (a repeat, skip or move): B cannot be "
                             "warped onto A; play A or B (the other side's cursor follows "
                             "the jumps)")
            return
        sources = self._build_sources()
        lead = "b" if self.mode == "b" else "a"
        t_a, t_b = self.session.cursor
        pos = t_a if lead == "a" else t_b
        if self.mode == "audition":
            self._audition_centre = (t_a, t_b)
        if self.device is not None and self.device.is_silent:
            self.close_device()  # try for sound again at each Play
        self._start(lead, pos, sources)

    def _start(self, lead: str, pos: float, sources: dict) -> None:
        device = self._ensure_device()
        durations = {s: self.session.duration(s) for s in ("a", "b")}
        self.timing.clear()
        mixer = Mixer(device.rate_hz, self.timing, sources=sources, durations=durations,
                      alignment=_follow(self.session.active_alignment()),
                      mode="a" if self.mode == "audition" else self.mode,
                      position=(lead, pos))
        mixer.speed = self.speed
        mixer.loop = self.loop
        if self.mode == "audition":
            mixer.set_mode("audition", at=(lead, pos))
        mixer.play()
        with self._pull_lock:
            mixer.frame = -1  # attached at the device's next pull (see _pull)
            self.mixer = mixer
        self.prefetcher.poke()
        self.play_started_at = time.monotonic()
        if device.is_silent:
            self._say(device.name)
        self.timer.start()
        self.state_changed.emit(True)

    def _ensure_device(self) -> OutputDevice:
        """The output, opened at the first Play and kept running (silent between plays),
        so that later plays do not wait for the sound server."""
        if self.device is not None:
            return self.device
        device = self._open_device()
        device.on_failure = self._device_failed.emit
        self._device_frames = 0
        self.device = device
        try:
            device.start(self._pull)
        except DeviceUnavailable as exc:
            device.on_failure = None
            self.device = device = SilentOutput(device.rate_hz, reason=str(exc))
            device.on_failure = self._device_failed.emit
            self._device_frames = 0
            device.start(self._pull)
        return device

    def _pull(self, n: int):
        """The device's thread: the mixer's next block, or silence between plays."""
        with self._pull_lock:
            mixer = self.mixer
            if mixer is not None and mixer.frame < 0:
                mixer.frame = self._device_frames  # its timing starts at this frame
            self._device_frames += n
            if mixer is None:
                return np.zeros((n, 2), dtype=np.float32)
            return mixer.pull(n)

    def _open_device(self) -> OutputDevice:
        try:
            return self.device_factory()
        except Exception as exc:  # noqa: BLE001 - no sound is never an error for the user
            return SilentOutput(reason=f"no sound: {exc}")

    def _say(self, text: str) -> None:
        if text not in self.said:
            self.said.add(text)
            self.notice.emit(text)

    def pause(self) -> None:
        """Stop where the sound is; the cursor stays there."""
        if self.mixer is None:
            return
        self.tick(force=True)  # the cursor where the sound was last heard
        self._halt()

    def stop(self) -> None:
        """Stop and leave the cursor where it is (the transport's Stop then rewinds)."""
        if self.mixer is not None:
            self._halt()

    def _halt(self) -> None:
        self.timer.stop()
        with self._pull_lock:
            self.mixer = None  # the device plays silence from its next block on
        self.sounding = ""
        self.state_changed.emit(False)

    def close_device(self) -> None:
        """Stop the output (recordings changed, window closing)."""
        device, self.device = self.device, None
        if device is not None:
            device.on_failure = None
            device.stop()

    def seek(self, slot: str, t: float) -> None:
        self.session.move_cursor(slot, t)  # playing: _on_cursor_moved seeks the mixer

    def switch(self) -> None:
        """A ↔ B (warped B ↔ A) at the aligned spot."""
        new = {"a": "b", "b": "a", "warped": "a"}.get(self.mode)
        if new is None:
            return
        self.mode = new
        if self.mixer is not None:
            self.mixer.switch()
            self.prefetcher.poke()
        self.mode_changed.emit(new)

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
        if mode == self.mode:
            return
        self.mode = mode
        if self.mixer is not None:
            if mode == "audition":
                self._audition_centre = self.session.cursor
            self.mixer.set_mode(mode)
            self.prefetcher.poke()
        self.mode_changed.emit(mode)

    def set_speed(self, speed: float) -> None:
        speed = min(max(float(speed), MIN_SPEED), MAX_SPEED)
        self.speed = speed
        if self.mixer is not None:
            self.mixer.set_speed(speed)

    def set_loop(self, region: tuple[float, float] | None) -> None:
        """Loop over ``(start, end)`` seconds of A, or stop looping (None)."""
        if region is not None:
            a0, a1 = sorted(region)
            if not a1 - a0 > 0.05:
                raise ValueError("the loop region must be longer than 50 ms")
            region = (a0, a1)
        self.loop = region
        if region is not None:
            self.loop_marks = list(region)
        if self.mixer is not None:
            self.mixer.set_loop(region)
        self.loop_changed.emit()

    def mark_loop(self, which: int) -> None:
        """Loop start (0) or end (1) at A's cursor; with both marks the loop is on."""
        self.loop_marks[which] = self.session.cursor[0]
        a0, a1 = self.loop_marks
        if a0 is not None and a1 is not None and abs(a1 - a0) > 0.05:
            self.set_loop((a0, a1))
        else:
            self.loop_changed.emit()

    # ------------------------------------------------------------------ clock
    def clock_position(self, now: float | None = None):
        """``(time_a, time_b, sounding, device_frame)`` of what is heard now, or None."""
        device = self.device
        if device is None:
            return None
        now = time.monotonic() if now is None else now
        frame = device.played_frames(now)
        hit = self.timing.lookup(frame)
        if hit is None:
            return None
        segment, t = hit
        mixer = self.mixer
        other = "b" if segment.lead == "a" else "a"
        t_other = mixer.map_time(t, segment.lead, other) if mixer is not None else t
        t_a, t_b = (t, t_other) if segment.lead == "a" else (t_other, t)
        return t_a, t_b, segment.sounding, frame

    def tick(self, *, force: bool = False) -> None:
        """Move the frames (and, every CURSOR_MS or with ``force``, the cursor) to the
        sound (GUI thread, every TICK_MS)."""
        device, mixer = self.device, self.mixer
        if device is None or mixer is None:
            return
        now = time.monotonic()
        device.check(now)
        position = self.clock_position(now)
        if position is not None:
            t_a, t_b, sounding, frame = position
            self._show_frames(t_a, t_b)
            ended = mixer.ended and mixer.ended_frame is not None and frame >= mixer.ended_frame
            if force or ended or now - self._cursor_moved_at >= CURSOR_MS / 1000:
                self._cursor_moved_at = now
                self._moving_cursor = True
                try:
                    self.session.move_cursor_to(t_a, t_b)
                finally:
                    self._moving_cursor = False
            self.sounding = sounding
            self.position_changed.emit(t_a, t_b, sounding)
            if ended:
                self._halt()
                if self._audition_centre is not None and self.mode == "audition":
                    self.session.move_cursor_to(*self._audition_centre)

    def _show_frames(self, t_a: float, t_b: float) -> None:
        for slot, t in (("a", t_a), ("b", t_b)):
            video = self._videos.get(slot)
            if video is None:
                continue
            k = video.index(t)
            video.set_target(k)
            got = video.frame(k)
            view = self.stream_views.get(slot)
            j, rgb = got if got is not None else (None, None)
            if view is not None:  # the view asks no worker for frames while playing
                view.show_frame(k, rgb if j is not None and self.last_frames.get(slot) != j
                                else None)
            if j is not None:
                self.last_frames[slot] = j

    # ------------------------------------------------------------------ session slots
    def _on_cursor_moved(self, t_a: float, t_b: float) -> None:
        self._cursor = (t_a, t_b)  # read by the prefetch thread
        if self._moving_cursor:
            return
        if self.mixer is None:
            if self._sources is not None:
                self.prefetcher.poke()
            return
        lead = self.mixer.position()[0]  # a click or a key while playing: seek there
        self.mixer.seek(lead, t_a if lead == "a" else t_b)
        self.prefetcher.poke()

    def _on_device_failed(self, reason: str) -> None:
        """The device stopped mid-play: go on silently from where the sound was."""
        mixer, device = self.mixer, self.device
        if mixer is None or device is None:
            return
        position = self.clock_position()
        lead = mixer.position()[0]
        if position is not None:
            pos = position[0] if lead == "a" else position[1]
        else:
            pos = self.session.cursor[0 if lead == "a" else 1]
        self.timer.stop()
        with self._pull_lock:
            self.mixer = None
        self.close_device()
        silent = SilentOutput(device.rate_hz, reason=f"no sound: {reason}")
        silent.on_failure = self._device_failed.emit
        self._device_frames = 0
        self.device = silent
        silent.start(self._pull)
        self._start(lead, pos, self._build_sources())

    def shutdown(self) -> None:
        """Stop playing and end the threads (the window is closing)."""
        if self.mixer is not None:
            self._halt()
        self.close_device()
        self.prefetcher.close()
        for video in self._videos.values():
            video.close()
        self._videos = {}


def _has_jumps(al) -> bool:
    if al is None or "pieces" not in al.diagnostics:
        return False
    from core.structure.carrier import piecewise_of

    return piecewise_of(al) is not None


def _follow(al):
    """What playback maps times through: the alignment, or for a result with jumps a
    :class:`core.structure.carrier.Follower` (B to A across the jumps)."""
    if not _has_jumps(al):
        return al
    from core.structure.carrier import Follower, piecewise_of

    return Follower(piecewise_of(al))
