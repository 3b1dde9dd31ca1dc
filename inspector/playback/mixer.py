"""The listening modes: what sounds, on whose timeline, block by block.

The :class:`Mixer` runs on the audio device's thread (``pull(n)``): it reads cached
samples from its sources (never decodes), resamples them to the device's rate and the
playback speed (linear interpolation: varispeed, the pitch follows the speed), writes one
:class:`~inspector.playback.clock.Segment` per block into the timing map, and applies the
GUI thread's commands (play, seek, mode, switch, speed, loop, audition) at the start of
the next block. Every jump (seek, switch, loop, mode change, audition step) crossfades
for :data:`CROSSFADE_S` from the old state to the new one, so nothing clicks; during it
both states advance in step, so a switch lands exactly on the aligned point.

Modes (``MODES``)
-----------------
``"a"``        A sounds, A's time leads; B's cursor and frame follow through the alignment.
``"b"``        B sounds and leads.
``"warped"``   B time-stretched onto A's timeline (:class:`~.sources.WarpSource`).
``"side"``     A in the left ear, warped B in the right.
``"audition"`` A for ±1 s around a point, then the same spot on B, then stop.

``switch()`` toggles A ↔ B (and warped B ↔ A) at the aligned spot.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable

import numpy as np

from .clock import Segment, TimingMap

__all__ = ["Mixer", "MODES", "MODE_LABELS", "CROSSFADE_S", "AUDITION_S"]

MODES = ("a", "b", "warped", "side", "audition")
MODE_LABELS = {
    "a": "A leads",
    "b": "B leads",
    "warped": "B warped onto A",
    "side": "Side by side (A left, warped B right)",
    "audition": "Audition ±1 s (A, then B)",
}
CROSSFADE_S = 0.02
AUDITION_S = 1.0
MIN_SPEED, MAX_SPEED = 0.5, 2.0


@dataclasses.dataclass(frozen=True)
class _State:
    lead: str                 # "a" or "b": whose time ``pos`` is
    voices: tuple             # ((source key, "both" | "left" | "right"), ...)
    sounding: str             # what the window says is heard
    pos: float                # seconds on ``lead``


_VOICES = {
    "a": ("a", (("a", "both"),), "a"),
    "b": ("b", (("b", "both"),), "b"),
    "warped": ("a", (("w", "both"),), "warped"),
    "side": ("a", (("a", "left"), ("w", "right")), "a+warped"),
}


class Mixer:
    """Renders the current mode into stereo float32 blocks for the output device.

    Parameters
    ----------
    rate_hz : float
        The device's rate.
    timing : TimingMap
        Where each block's timing goes (read by the clock).
    sources : dict
        ``"a"``, ``"b"``: :class:`~.sources.AudioSource` or None (a video without
        sound: silent but with a timeline); ``"w"``: :class:`~.sources.WarpSource` or
        None (no alignment, or a side without sound).
    durations : dict
        ``{"a": seconds, "b": seconds}``.
    alignment : core.Alignment or None
        Maps times between A and B (identity without one).

    Thread use: the constructor and the command methods (``play``, ``seek``, ...) on any
    thread (they queue); ``pull`` on the device's thread only.
    """

    def __init__(self, rate_hz: float, timing: TimingMap, *, sources: dict, durations: dict,
                 alignment=None, mode: str = "a", position: tuple[str, float] = ("a", 0.0)):
        self.rate_hz = float(rate_hz)
        self.timing = timing
        self.sources = dict(sources)
        self.durations = dict(durations)
        self.alignment = alignment
        self.speed = 1.0
        self.loop: tuple[float, float] | None = None  # seconds on A
        self.playing = False
        self.ended = False
        self.frame = 0                  # the device frame of the next block
        self.starved_frames = 0         # frames of silence waiting for data after sound began
        self.sound_started: int | None = None
        self.ended_frame: int | None = None
        self._commands: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self.mode = mode
        self._program: list[_State] = []
        self._program_ends: list[float] = []
        self._state = self._state_for(mode, *position)
        self._fade: tuple[_State, int] | None = None
        self._fade_frames = max(int(CROSSFADE_S * self.rate_hz), 1)
        self._audition_end = math.inf
        self._published = (self._state.lead, self._state.pos, mode)

    # ------------------------------------------------------------------ mapping
    def map_time(self, t: float, source: str, target: str) -> float:
        """Time ``t`` on ``source`` ("a"/"b") as a time on ``target``."""
        if source == target or self.alignment is None:
            return float(t)
        if source == "a":
            return float(self.alignment.map_a_to_b(t))
        return float(self.alignment.map_b_to_a(t))

    def _state_for(self, mode: str, lead: str, pos: float) -> _State:
        if mode == "audition":
            mode = "a"
        new_lead, voices, sounding = _VOICES[mode]
        return _State(new_lead, voices, sounding, self.map_time(pos, lead, new_lead))

    # ------------------------------------------------------------------ commands (any thread)
    def _queue(self, command: Callable[[], None]) -> None:
        with self._lock:
            self._commands.append(command)

    def play(self) -> None:
        def go():
            st = self._state
            if st.pos >= self.durations.get(st.lead, math.inf) - 1e-6 and self.loop is None:
                self._jump(dataclasses.replace(st, pos=0.0), fade=False)
            self.playing = True
            self.ended = False
        self._queue(go)

    def pause(self) -> None:
        self._queue(lambda: setattr(self, "playing", False))

    def seek(self, slot: str, t: float) -> None:
        """Continue from time ``t`` of ``slot`` (mapped onto the lead's timeline)."""
        def go():
            st = self._state
            self._jump(dataclasses.replace(st, pos=max(self.map_time(t, slot, st.lead), 0.0)),
                       fade=self.playing)
        self._queue(go)

    def set_mode(self, mode: str, *, at: tuple[str, float] | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")

        def go():
            lead, pos = at if at is not None else (self._state.lead, self._state.pos)
            self.mode = mode
            if mode == "audition":
                self._start_audition(self.map_time(pos, lead, "a"))
            else:
                self._program = []
                self._jump(self._state_for(mode, lead, pos), fade=self.playing)
        self._queue(go)

    def switch(self) -> None:
        """A ↔ B (and warped B ↔ A), continuing at the aligned spot with a crossfade."""
        def go():
            other = {"a": "b", "b": "a", "warped": "a"}.get(self.mode)
            if other is None:
                return
            st = self._state
            self.mode = other
            self._jump(self._state_for(other, st.lead, st.pos), fade=self.playing)
        self._queue(go)

    def set_speed(self, speed: float) -> None:
        speed = float(speed)
        if not (MIN_SPEED <= speed <= MAX_SPEED):
            raise ValueError(f"speed: expected {MIN_SPEED} to {MAX_SPEED}, got {speed}")
        self._queue(lambda: setattr(self, "speed", speed))

    def set_loop(self, region: tuple[float, float] | None) -> None:
        """Loop over ``(start, end)`` seconds of A (None: no loop)."""
        if region is not None:
            a0, a1 = sorted(float(x) for x in region)
            if not a1 - a0 > 0.05:
                raise ValueError("loop: the region must be longer than 50 ms")
            region = (max(a0, 0.0), a1)
        self._queue(lambda: setattr(self, "loop", region))

    def set_alignment(self, alignment, warp_source=None) -> None:
        def go():
            self.alignment = alignment
            self.sources["w"] = warp_source
        self._queue(go)

    def position(self) -> tuple[str, float, str]:
        """(lead, seconds, mode) of the next frame to render (any thread)."""
        return self._published

    # ------------------------------------------------------------------ audition
    def _start_audition(self, centre_a: float) -> None:
        centre_b = self.map_time(centre_a, "a", "b")
        items = []
        for slot, centre in (("a", centre_a), ("b", centre_b)):
            start = max(centre - AUDITION_S, 0.0)
            stop = min(centre + AUDITION_S, self.durations.get(slot, math.inf))
            items.append((_State(slot, ((slot, "both"),), slot, start), stop))
        self._program = [s for s, _ in items[1:]]
        self._program_ends = [e for _, e in items[1:]]
        self._audition_end = items[0][1]
        self._jump(items[0][0], fade=self.playing)

    # ------------------------------------------------------------------ rendering
    def _jump(self, new: _State, *, fade: bool) -> None:
        if fade and self.sound_started is not None:
            self._fade = (self._state, self._fade_frames)
        self._state = new

    def _end_of_span(self, st: _State) -> tuple[float, str]:
        """Lead time where the current span ends and why ("loop", "item", "end")."""
        if self.mode == "audition":
            return self._audition_end, "item"
        if self.loop is not None:
            a0, a1 = self.loop
            end = self.map_time(a1, "a", st.lead)
            if st.pos < end + 1e-6:  # (a click past the end plays on to the end)
                return end, "loop"
        return self.durations.get(st.lead, math.inf), "end"

    def _on_span_end(self, why: str) -> None:
        st = self._state
        if why == "loop":
            start = self.map_time(self.loop[0], "a", st.lead)
            self._jump(dataclasses.replace(st, pos=start), fade=True)
        elif why == "item" and self._program:
            self._audition_end = self._program_ends.pop(0)
            self._jump(self._program.pop(0), fade=True)
        else:
            self.playing = False
            self.ended = True
            self.ended_frame = self.frame

    def pull(self, n: int) -> np.ndarray:
        """The next ``n`` frames, shape (n, 2) float32 (device thread)."""
        with self._lock:
            commands, self._commands = self._commands, []
        for command in commands:
            command()
        out = np.zeros((n, 2), dtype=np.float32)
        done = 0
        step_s = self.speed / self.rate_hz
        guard = 0
        while done < n and self.playing and guard < 8:
            guard += 1
            st = self._state
            end, why = self._end_of_span(st)
            if st.pos >= end - 1e-9:
                self._on_span_end(why)
                if self.ended:
                    self.ended_frame = self.frame + done
                continue
            left = n - done
            if end - st.pos < left * step_s:
                left = max(int(math.ceil((end - st.pos) / step_s - 1e-9)), 1)
            block = self._render(st, left, step_s)
            if block is None:  # waiting for data: silence, the cursor holds
                self.timing.add(Segment(self.frame + done, st.lead, st.pos, 0.0, ""))
                if self.sound_started is not None:
                    self.starved_frames += n - done
                done = n
                break
            if self.sound_started is None:
                self.sound_started = self.frame + done
            heard = st.sounding if any(self.sources.get(k) is not None for k, _ in st.voices) \
                else "silent"  # a video's timeline: nothing to hear
            self.timing.add(Segment(self.frame + done, st.lead, st.pos, step_s, heard))
            self._mix_fade(block, step_s)
            out[done:done + left] = block
            self._state = dataclasses.replace(st, pos=st.pos + left * step_s)
            done += left
        if done < n:
            st = self._state
            self.timing.add(Segment(self.frame + done, st.lead, st.pos, 0.0, ""))
        self.frame += n
        st = self._state
        self._published = (st.lead, st.pos, self.mode)
        return out

    def _mix_fade(self, block: np.ndarray, step_s: float) -> None:
        if self._fade is None:
            return
        old, remaining = self._fade
        k = min(remaining, len(block))
        done_before = self._fade_frames - remaining
        ramp = (np.arange(done_before, done_before + k, dtype=np.float32)
                / self._fade_frames)[:, None]
        previous = self._render(old, k, step_s)
        block[:k] *= ramp
        if previous is not None:
            block[:k] += previous * (1.0 - ramp)
        old = dataclasses.replace(old, pos=old.pos + k * step_s)
        self._fade = (old, remaining - k) if remaining > k else None

    def _render(self, st: _State, n: int, step_s: float) -> np.ndarray | None:
        out = np.zeros((n, 2), dtype=np.float32)
        for key, where in st.voices:
            source = self.sources.get(key)
            if source is None:
                continue
            data = _read_resampled(source, st.pos, n, step_s)
            if data is None:
                return None
            if data.shape[1] == 2 and where == "both":
                out += data
                continue
            mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
            if where in ("both", "left"):
                out[:, 0] += mono
            if where in ("both", "right"):
                out[:, 1] += mono
        return out


def _read_resampled(source, pos_s: float, n: int, step_s: float) -> np.ndarray | None:
    """``n`` frames of ``source`` from ``pos_s`` seconds, ``step_s`` seconds apart
    (linear interpolation unless the steps fall on its samples)."""
    p0 = pos_s * source.rate_hz
    step = step_s * source.rate_hz
    start = int(math.floor(p0 + 1e-6))
    frac0 = p0 - start
    if abs(step - 1.0) < 1e-9 and abs(frac0) < 1e-6:
        return source.read(start, n)
    count = int(math.floor(frac0 + (n - 1) * step)) + 2
    data = source.read(start, count)
    if data is None:
        return None
    x = frac0 + np.arange(n) * step
    idx = np.minimum(x.astype(np.int64), count - 2)
    frac = (x - idx).astype(np.float32)[:, None]
    return data[idx] * (1.0 - frac) + data[idx + 1] * frac
