"""Video frames in step with the playback clock: a decoder thread per stream.

:class:`FramePrefetcher` decodes forward from the frame the clock needs, keeping a small
cache of downscaled frames (the window shows them a few hundred pixels wide, so the GUI
thread never scales a 720p image): frames ``target - 2`` to ``target + AHEAD_FRAMES``.
A long-GOP seek costs hundreds of milliseconds, so the decoder (its own sequential
reader, ``Recording.iter_frames``) seeks only when the target jumps back or more than two
seconds ahead (a seek, a loop, a switch); while playing it reads forward,
and when it falls behind it skips ahead (decoding without converting) rather than
showing late frames: :meth:`FramePrefetcher.frame` returns the newest cached frame at or
before the one asked for, and counts how far it was off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

__all__ = ["FramePrefetcher", "AHEAD_FRAMES"]

AHEAD_FRAMES = 12
MAX_SIDE = 400


class FramePrefetcher:
    """Decodes frames of one video ahead of :meth:`set_target` on its own thread.

    Parameters
    ----------
    recording : core.media.VideoRecording
        The session's recording; its ``iter_frames`` gives this thread a decoder of its
        own (opening the file again would probe it on the GUI thread: 100-200 ms at 720p).
    max_side : int
        Longer side of the frames kept.
    """

    def __init__(self, recording, *, max_side: int = MAX_SIDE, ahead: int = AHEAD_FRAMES):
        self.recording = recording
        # beyond this many frames ahead a seek is cheaper than decoding forward
        self.max_skip = max(16, int(2 * self.recording.rate_hz))
        self.rate_hz = float(self.recording.rate_hz)
        self.n_frames = int(self.recording.n_frames)
        self.max_side = int(max_side)
        self.ahead = int(ahead)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._target = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.decoded = 0
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"playback-video-{self.recording.path.name}")
        self._thread.start()

    def index(self, t_s: float) -> int:
        """The frame shown at ``t_s`` seconds (as the stream view rounds it)."""
        return min(max(int(round(t_s * self.rate_hz)), 0), self.n_frames - 1)

    def set_target(self, k: int) -> None:
        """The clock is at frame ``k``: decode from there on."""
        self._target = int(k)
        self._wake.set()

    def frame(self, k: int) -> tuple[int, np.ndarray] | None:
        """The newest cached frame at or before ``k`` (and its index), else None."""
        with self._lock:
            if k in self._cache:
                return k, self._cache[k]
            older = [j for j in self._cache if j <= k]
            if not older:
                return None
            j = max(older)
            return j, self._cache[j]

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)

    def _next_wanted(self) -> int | None:
        target = self._target
        with self._lock:
            for j in [j for j in self._cache if j < target - 2 or j > target + self.ahead]:
                del self._cache[j]
            for k in range(target, min(target + self.ahead, self.n_frames - 1) + 1):
                if k not in self._cache:
                    return k
        return None

    def _run(self) -> None:
        frames, position = None, -1  # a forward decoder and the index it yields next
        while not self._stop.is_set():
            k = self._next_wanted()
            if k is None:
                self._wake.wait(0.02)
                self._wake.clear()
                continue
            try:
                if frames is None or k < position or k - position > self.max_skip:
                    frames, position = self.recording.iter_frames(k), k  # seek
                while position < k:  # behind: decode and drop, never show late frames
                    next(frames)
                    position += 1
                rgb = next(frames)
                position += 1
            except (StopIteration, Exception) as exc:  # noqa: BLE001 - note it, go on
                self.error = str(exc) or "the video ended early"
                frames = None
                with self._lock:
                    self._cache[k] = np.zeros((2, 2, 3), dtype=np.uint8)
                continue
            rgb = _shrink(rgb, self.max_side)
            rgb.flags.writeable = False
            with self._lock:
                self._cache[k] = rgb
            self.decoded += 1


def _shrink(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale for display: halvings (Gaussian pyramid) then bilinear; INTER_AREA at a
    non-integer factor took 24 ms per 720p frame here, this about 2 ms."""
    import cv2

    while max(rgb.shape[:2]) >= 2 * max_side:
        rgb = cv2.pyrDown(rgb)
    h, w = rgb.shape[:2]
    scale = max_side / max(h, w)
    if scale < 1.0:
        rgb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(rgb)
