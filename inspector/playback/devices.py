"""Audio outputs: PortAudio through sounddevice, a silent clock, and a fake for tests.

Every output pulls stereo float32 blocks from a ``pull(n_frames)`` callable on its own
thread and says how many frames have actually been played by a given moment
(:meth:`OutputDevice.played_frames`): that count is the playback clock.

Why sounddevice (PortAudio) and not Qt Multimedia's ``QAudioSink``: measured here on a
PulseAudio null sink, a ``QAudioSink`` (Qt 6.11) started sounding 0.6-1.2 s after
``start()`` in both pull and push mode, and its ``processedUSecs()`` counted the bytes
handed to the backend (exactly the bytes written minus its own buffer), not the frames
played, with no latency figure. PortAudio called its first callback 9 ms after
``start()`` and stamps every callback with the time its first frame reaches the
converter (``outputBufferDacTime``), so the frames played by any moment follow from the
frames handed over and that stamp, on the device's own clock, re-anchored at every
callback (no drift). The price: on Linux, PortAudio is a system library
(``libportaudio2``); without it the window plays on the silent clock and says so.

No output (no library, no device, a device that fails or disappears) never stops
playback: :class:`SilentOutput` paces the mixer on the monotonic clock instead.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import numpy as np

__all__ = ["OutputDevice", "SoundDeviceOutput", "SilentOutput", "FakeOutput",
           "DeviceUnavailable", "open_output", "DEFAULT_RATE_HZ"]

DEFAULT_RATE_HZ = 48000.0
#: PortAudio's suggested output latency: room for the GUI thread holding the GIL while
#: the callback waits (the window's longest pauses are 40-70 ms)
SUGGESTED_LATENCY_S = 0.12
#: a device that has not called back for this long while playing has failed (a busy
#: machine delays callbacks by hundreds of milliseconds: 0.75 s gave false alarms under
#: a load of 10 on 2 cores, and the sound was lost for nothing)
STALL_S = 3.0

Pull = Callable[[int], np.ndarray]


class DeviceUnavailable(RuntimeError):
    """No audio output can be opened (the message says why, in plain words)."""


class OutputDevice:
    """An audio output that pulls blocks from a mixer on its own thread.

    Attributes
    ----------
    rate_hz : float
        Frames per second.
    name : str
        What the window shows.
    is_silent : bool
        True when nothing is heard (the clock is the monotonic clock).
    on_failure : callable(str) or None
        Called once (from any thread) when the device stops working while playing.
    """

    rate_hz: float = DEFAULT_RATE_HZ
    name: str = ""
    is_silent: bool = False

    def __init__(self):
        self.on_failure: Callable[[str], None] | None = None
        self.failed = False
        self.underruns = 0

    def start(self, pull: Pull) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def played_frames(self, now: float) -> float:
        """Frames that have reached the listener by ``now`` (``time.monotonic()``)."""
        raise NotImplementedError

    def check(self, now: float) -> None:
        """Called by the GUI thread's tick: detect a device that stopped calling back."""

    def _fail(self, reason: str) -> None:
        if self.failed:
            return
        self.failed = True
        callback = self.on_failure
        if callback is not None:
            callback(reason)


class SoundDeviceOutput(OutputDevice):
    """The default output through PortAudio (sounddevice), stereo float32.

    The callback runs on PortAudio's thread. For each one it records the frames handed
    over before it and the stream time at which its first frame is played
    (``outputBufferDacTime``); :meth:`played_frames` extrapolates from the latest such
    record at the device's rate and never goes backwards.
    """

    def __init__(self, rate_hz: float | None = None, *, latency_s: float = SUGGESTED_LATENCY_S):
        super().__init__()
        try:
            import sounddevice
        except (ImportError, OSError) as exc:  # the module, or PortAudio itself, missing
            raise DeviceUnavailable(f"no sound: PortAudio is not available ({exc}); on "
                                    f"Linux install libportaudio2") from None
        self._sd = sounddevice
        try:
            info = sounddevice.query_devices(kind="output")
        except Exception as exc:  # noqa: BLE001 - PortAudio reports in many ways
            raise DeviceUnavailable(f"no sound: no audio output device ({exc})") from None
        self.rate_hz = float(rate_hz or info.get("default_samplerate") or DEFAULT_RATE_HZ)
        self.name = str(info.get("name", "audio output"))
        self._latency_s = latency_s
        self._stream = None
        self._stopping = False
        self._lock = threading.Lock()
        self._handed = 0  # frames handed to PortAudio so far
        self._anchor: tuple[int, float] | None = None  # (frames before, DAC stream time)
        self._offset = 0.0  # stream time - monotonic time
        self._last_callback = 0.0
        self._floor = 0.0

    def start(self, pull: Pull) -> None:
        def callback(out, frames, info, status):
            if status.output_underflow:
                self.underruns += 1
            try:
                block = pull(frames)
                out[:] = block
            except Exception:  # noqa: BLE001 - never let PortAudio's thread die silently
                out[:] = 0
                self._fail("the mixer failed")
                raise self._sd.CallbackAbort from None
            with self._lock:
                self._anchor = (self._handed, float(info.outputBufferDacTime))
                self._handed += frames
                self._last_callback = time.monotonic()

        def finished():
            if not self._stopping:
                self._fail("the audio output stopped")

        self._stopping = False
        self._last_callback = time.monotonic() + STALL_S  # opening may take a while

        def open_stream():
            # on its own thread: the first open connects to the sound server (about
            # 200 ms through ALSA's pulse plugin here), which the GUI must not wait for
            try:
                stream = self._sd.OutputStream(
                    samplerate=self.rate_hz, channels=2, dtype="float32", callback=callback,
                    latency=self._latency_s, finished_callback=finished)
                with self._lock:
                    if self._stopping:
                        stream.close(ignore_errors=True)
                        return
                    self._stream = stream
                self._offset = self._measure_offset()
                self._last_callback = time.monotonic() + STALL_S
                stream.start()
            except Exception as exc:  # noqa: BLE001
                self._close()
                self._fail(f"the audio output cannot be opened ({exc})")

        self._opener = threading.Thread(target=open_stream, daemon=True,
                                        name="playback-open-output")
        self._opener.start()

    def _measure_offset(self) -> float:
        # stream time and monotonic time tick at the same rate: one offset, taken from
        # the tightest of a few back-to-back reads
        best = None
        for _ in range(5):
            t0 = time.monotonic()
            stream_t = self._stream.time
            t1 = time.monotonic()
            if best is None or t1 - t0 < best[0]:
                best = (t1 - t0, stream_t - 0.5 * (t0 + t1))
        return best[1]

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
        opener = getattr(self, "_opener", None)
        if opener is not None and opener is not threading.current_thread():
            opener.join(timeout=5.0)
        self._close()

    def _close(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.abort(ignore_errors=True)
            with contextlib.suppress(Exception):
                stream.close(ignore_errors=True)

    def played_frames(self, now: float) -> float:
        with self._lock:
            anchor, handed = self._anchor, self._handed
        if anchor is None:
            return 0.0
        before, dac = anchor
        frames = before + (now + self._offset - dac) * self.rate_hz
        frames = min(max(frames, 0.0), float(handed))
        self._floor = max(self._floor, frames)
        return self._floor

    def check(self, now: float) -> None:
        stream = self._stream
        if self.failed or (stream is None and now < self._last_callback):
            return
        if stream is None:
            self._fail("the audio output did not open")
        elif not stream.active:
            self._fail("the audio output stopped")
        elif now - self._last_callback > STALL_S:
            self._fail("the audio output stopped responding")


class SilentOutput(OutputDevice):
    """No sound: a thread pulls the mixer in step with the monotonic clock.

    ``played_frames(now)`` is ``(now - start) * rate`` (bounded by what was pulled), so
    the cursor and video move at the recording's pace.
    """

    is_silent = True

    def __init__(self, rate_hz: float = DEFAULT_RATE_HZ, *, reason: str = "no sound",
                 block_s: float = 0.01, lookahead_s: float = 0.03):
        super().__init__()
        self.rate_hz = float(rate_hz)
        self.name = reason
        self._block = max(int(block_s * self.rate_hz), 1)
        self._lookahead = lookahead_s
        self._pulled = 0
        self._start = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self, pull: Pull) -> None:
        self._stop.clear()
        self._start = time.monotonic()
        self._pulled = 0
        self._thread = threading.Thread(target=self._run, args=(pull,), daemon=True,
                                        name="playback-silent-clock")
        self._thread.start()

    def _run(self, pull: Pull) -> None:
        period = self._block / self.rate_hz
        while not self._stop.is_set():
            target = (time.monotonic() - self._start + self._lookahead) * self.rate_hz
            while self._pulled < target and not self._stop.is_set():
                pull(self._block)
                with self._lock:
                    self._pulled += self._block
            self._stop.wait(period)

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def played_frames(self, now: float) -> float:
        with self._lock:
            pulled = self._pulled
        return min(max((now - self._start) * self.rate_hz, 0.0), float(pulled))


class FakeOutput(OutputDevice):
    """A device for tests: nothing happens until :meth:`advance`, which pulls and
    "plays" frames in blocks; the played audio is kept in :attr:`played`."""

    def __init__(self, rate_hz: float = 8000.0, *, block: int = 256, latency_frames: int = 0,
                 name: str = "fake output"):
        super().__init__()
        self.rate_hz = float(rate_hz)
        self.name = name
        self.block = int(block)
        self.latency_frames = int(latency_frames)
        self.pull: Pull | None = None
        self.pulled = 0
        self.blocks: list[np.ndarray] = []
        self.started = 0
        self.stopped = 0

    def start(self, pull: Pull) -> None:
        self.pull = pull
        self.started += 1

    def stop(self) -> None:
        self.pull = None
        self.stopped += 1

    def advance(self, seconds: float) -> None:
        """Pull and play ``seconds`` of output (whole blocks)."""
        n = int(round(seconds * self.rate_hz))
        while n > 0 and self.pull is not None and not self.failed:
            block = np.array(self.pull(self.block), dtype=np.float32)
            self.blocks.append(block)
            self.pulled += self.block
            n -= self.block

    @property
    def played(self) -> np.ndarray:
        """Everything pulled so far, (n, 2)."""
        if not self.blocks:
            return np.zeros((0, 2), dtype=np.float32)
        return np.concatenate(self.blocks)

    def played_frames(self, now: float) -> float:
        return float(max(self.pulled - self.latency_frames, 0))

    def fail(self, reason: str = "the fake device disappeared") -> None:
        self._fail(reason)


def open_output(kind: str = "auto", rate_hz: float | None = None) -> OutputDevice:
    """The output to play through: ``"auto"`` (PortAudio's default output, else the
    silent clock), ``"silent"``.

    Returns
    -------
    OutputDevice
        A :class:`SilentOutput` (``name`` says why) when no sound can be made.
    """
    if kind == "silent":
        return SilentOutput(rate_hz or DEFAULT_RATE_HZ, reason="no sound (silent clock chosen)")
    try:
        return SoundDeviceOutput(rate_hz)
    except DeviceUnavailable as exc:
        return SilentOutput(rate_hz or DEFAULT_RATE_HZ, reason=str(exc))
