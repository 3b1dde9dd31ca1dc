"""What the mixer reads: a recording's samples and B warped onto A, cached in blocks
that a worker thread fills ahead of the playhead.

The mixer (on the audio device's thread) never decodes or stretches: it reads what is
cached and gets None where something is missing, then waits (the cursor holds still) or
plays silence. The :class:`Prefetcher` thread keeps the cache filled around the
playhead of every source the current mode may need: decoded audio 0.5 s behind to
:data:`AHEAD_S` ahead, warped chunks (libtsm, see :mod:`core.render`) up to
:data:`WARP_AHEAD_S` ahead, the chunk under the playhead first, so that a long file
never renders whole before sound starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from core._kernels import load_numba
from core.render import WarpPlan

__all__ = ["AudioSource", "WarpSource", "Prefetcher", "BLOCK_FRAMES", "AHEAD_S",
           "WARP_AHEAD_S"]

BLOCK_FRAMES = 1 << 14
AHEAD_S = 4.0
BEHIND_S = 0.5
WARP_AHEAD_S = 3.0
#: output seconds per warped chunk in playback (the first one is rendered before the
#: sound starts: about 0.1 s of work on this machine)
WARP_CHUNK_S = 0.35


class _Source:
    """Samples on a timeline, read by the mixer: ``read(start, n)`` -> (n, channels)
    float32 (zeros outside the recording) or None when part of it is not cached yet."""

    rate_hz: float
    n_frames: int
    timeline: str  # "a" or "b"

    def __init__(self):
        self._lock = threading.Lock()


class AudioSource(_Source):
    """A recording's samples (its own rate; mono mixes of several channels are not made:
    one or two channels kept) in blocks of :data:`BLOCK_FRAMES`."""

    def __init__(self, recording, timeline: str):
        super().__init__()
        self.recording = recording
        self.timeline = timeline
        self.rate_hz = float(recording.rate_hz)
        self.n_frames = int(recording.n_frames)
        self.channels = 2 if recording.n_channels >= 2 else 1
        self._blocks: dict[int, np.ndarray] = {}

    def read(self, start: int, n: int) -> np.ndarray | None:
        out = np.zeros((n, self.channels), dtype=np.float32)
        lo, hi = max(start, 0), min(start + n, self.n_frames)
        if hi <= lo:
            return out
        with self._lock:
            for b in range(lo // BLOCK_FRAMES, (hi - 1) // BLOCK_FRAMES + 1):
                block = self._blocks.get(b)
                if block is None:
                    return None
                b0 = b * BLOCK_FRAMES
                a, z = max(lo, b0), min(hi, b0 + len(block))
                if z > a:
                    out[a - start:z - start] = block[a - b0:z - b0]
        return out

    def missing(self, t0_s: float, t1_s: float) -> list[int]:
        """Blocks of ``[t0_s, t1_s)`` not cached, nearest first."""
        lo = max(int(t0_s * self.rate_hz), 0) // BLOCK_FRAMES
        hi = min(int(t1_s * self.rate_hz), self.n_frames - 1) // BLOCK_FRAMES
        with self._lock:
            return [b for b in range(lo, hi + 1) if b not in self._blocks]

    def load(self, b: int) -> None:
        """Decode block ``b`` (prefetch thread)."""
        start = b * BLOCK_FRAMES
        data = self.recording.read_block(start, min(start + BLOCK_FRAMES, self.n_frames),
                                         mono=False)
        data = np.asarray(data, dtype=np.float32)
        if data.ndim == 1:
            data = data[:, None]
        data = data[:, :2] if self.channels == 2 else data.mean(axis=1, keepdims=True)
        with self._lock:
            self._blocks[b] = np.ascontiguousarray(data)

    def evict(self, t0_s: float, t1_s: float) -> None:
        """Drop blocks outside ``[t0_s, t1_s)``."""
        lo = int(t0_s * self.rate_hz) // BLOCK_FRAMES
        hi = int(t1_s * self.rate_hz) // BLOCK_FRAMES
        with self._lock:
            for b in [b for b in self._blocks if b < lo or b > hi]:
                del self._blocks[b]


class WarpSource(_Source):
    """B time-stretched onto A's timeline (mono, at B's rate), rendered in chunks of a
    :class:`core.render.WarpPlan` pinned to path points."""

    timeline = "a"
    channels = 1

    def __init__(self, alignment, recording_a, recording_b):
        super().__init__()
        self.b = AudioSource(recording_b, "b")
        self.alignment = alignment
        self.rate_hz = float(recording_b.rate_hz)
        self.n_frames = int(round(recording_a.duration_s * self.rate_hz))
        self.plan: WarpPlan | None = None  # made on the prefetch thread (a long path's
        # anchors take a fraction of a second)
        self._chunks: dict[int, tuple[int, np.ndarray]] = {}

    def _ensure_plan(self) -> WarpPlan:
        if self.plan is None:
            self.plan = WarpPlan.from_alignment(
                self.alignment, n_in=int(self.b.n_frames), n_out=self.n_frames,
                rate_hz=self.rate_hz, chunk_s=WARP_CHUNK_S)
        return self.plan

    def read(self, start: int, n: int) -> np.ndarray | None:
        out = np.zeros((n, 1), dtype=np.float32)
        if n <= 0 or start >= self.n_frames or start + n <= 0:
            return out
        if self.plan is None:
            return None
        with self._lock:
            for k in self.plan.chunks_for(start, start + n):
                chunk = self._chunks.get(k)
                if chunk is None:
                    return None
                s, piece = chunk
                a, z = max(s, start), min(s + len(piece), start + n)
                if z > a:
                    out[a - start:z - start] += piece[a - s:z - s]
        return out

    def missing(self, t0_s: float, t1_s: float) -> list[int]:
        start = max(int(t0_s * self.rate_hz), 0)
        stop = max(int(t1_s * self.rate_hz), start + 1)
        plan = self._ensure_plan()
        with self._lock:
            return [k for k in plan.chunks_for(start, stop) if k not in self._chunks]

    def load(self, k: int) -> None:
        """Stretch chunk ``k`` (prefetch thread): decode its input span of B, render."""
        i0, i1 = self.plan.input_span(k)
        x = self.b.recording.read_block(i0, i1, mono=True)
        if len(x) < i1 - i0:
            x = np.pad(x, (0, i1 - i0 - len(x)))
        start, piece = self.plan.render_chunk(k, x)
        with self._lock:
            self._chunks[k] = (start, piece)

    def evict(self, t0_s: float, t1_s: float) -> None:
        if self.plan is None:
            return
        keep = set(self.plan.chunks_for(max(int(t0_s * self.rate_hz), 0),
                                        max(int(t1_s * self.rate_hz), 1)))
        with self._lock:
            for k in [k for k in self._chunks if k not in keep]:
                del self._chunks[k]


class Prefetcher:
    """One thread that fills the sources' caches around the playhead.

    ``wanted()`` (given at construction) returns, for the current mode and position,
    ``[(source, t0_s, t1_s), ...]`` in priority order, times on each source's own
    timeline; the thread loads the missing blocks or chunks nearest first and drops what
    is far away. :meth:`poke` wakes it at once (play, seek, mode change).
    """

    def __init__(self, wanted: Callable[[], list], *, on_error: Callable[[str], None] | None
                 = None, warm_up: Callable[[], None] | None = None):
        self._wanted = wanted
        self._warm_up = warm_up
        self._on_error = on_error
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.loaded = 0
        self._thread = threading.Thread(target=self._run, name="playback-prefetch",
                                        daemon=True)
        self._thread.start()
        if warm_up is not None:  # its own thread: loading kernels must not hold up audio
            threading.Thread(target=_quietly, args=(warm_up,), daemon=True,
                             name="playback-warm-up").start()

    def poke(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)

    def step(self) -> bool:
        """Load one missing block or chunk; False when nothing is missing."""
        wanted = self._wanted()
        for source, t0, t1 in wanted:
            missing = source.missing(t0, t1)
            if missing:
                load_numba()  # through numba's import thread: 0 once loaded
                source.load(missing[0])
                self.loaded += 1
                return True
        spans: dict[int, tuple] = {}
        for source, t0, t1 in wanted:  # one window per source: the union of its wants
            _, lo, hi = spans.get(id(source), (source, t0, t1))
            spans[id(source)] = (source, min(lo, t0), max(hi, t1))
        for source, t0, t1 in spans.values():
            source.evict(t0 - BEHIND_S - 1.0, t1 + 1.0)
        return False

    def _run(self) -> None:
        failed = False
        while not self._stop.is_set():
            try:
                busy = self.step()
            except Exception as exc:  # noqa: BLE001 - reported once, the thread goes on
                busy = False
                if not failed and self._on_error is not None:
                    self._on_error(f"playback: {exc}")
                failed = True
            if not busy:
                self._wake.wait(0.05)
                self._wake.clear()


def _quietly(function: Callable[[], None]) -> None:
    try:
        load_numba()  # through numba's import thread, never beside it
        function()
    except Exception:  # noqa: BLE001 - warming up is an optimization only
        pass
