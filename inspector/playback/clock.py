"""Which moment of which recording the output is playing: the timing map.

The mixer writes, for every block it hands to the output device, a segment: from device
frame ``start`` on, the lead recording's time is ``t0 + (frame - start) * step`` (``step``
0 while the mixer waits for data: the cursor holds still rather than running ahead of
the sound). The clock asks the device how many frames have actually been played (its
played-sample count minus its latency, interpolated between callbacks) and looks that
frame up here, so the cursor follows the sound, never a timer of its own.

Written by the mixer (the device's thread), read by the GUI thread; a lock guards the
segment lists (a few list operations per block).
"""

from __future__ import annotations

import bisect
import dataclasses
import threading

__all__ = ["Segment", "TimingMap"]


@dataclasses.dataclass(frozen=True)
class Segment:
    """From device frame ``start`` on: lead recording ``lead`` ("a" or "b") at
    ``t0 + (frame - start) * step`` seconds; ``sounding`` says what is heard
    ("a", "b", "warped", "a+warped" or "" for silence)."""

    start: int
    lead: str
    t0: float
    step: float
    sounding: str

    def time_at(self, frame: float) -> float:
        return self.t0 + (frame - self.start) * self.step


class TimingMap:
    """Segments in device frames, newest last; old ones are dropped as frames play."""

    def __init__(self, keep: int = 4096):
        self._lock = threading.Lock()
        self._starts: list[int] = []
        self._segments: list[Segment] = []
        self._keep = int(keep)

    def clear(self) -> None:
        with self._lock:
            self._starts.clear()
            self._segments.clear()

    def add(self, segment: Segment) -> None:
        """Append a segment (device thread). A segment continuing the previous one (same
        lead, sounding and rate, contiguous times) is merged into it."""
        with self._lock:
            if self._segments:
                last = self._segments[-1]
                if (last.lead == segment.lead and last.sounding == segment.sounding
                        and last.step == segment.step
                        and abs(last.time_at(segment.start) - segment.t0) < 1e-9):
                    return
                if last.start == segment.start:
                    self._segments[-1] = segment
                    return
            self._starts.append(segment.start)
            self._segments.append(segment)
            if len(self._segments) > self._keep:
                del self._starts[: self._keep // 2]
                del self._segments[: self._keep // 2]

    def lookup(self, frame: float) -> tuple[Segment, float] | None:
        """The segment playing at device frame ``frame`` and the lead's time there;
        None before the first segment."""
        with self._lock:
            k = bisect.bisect_right(self._starts, frame) - 1
            if k < 0:
                return None
            segment = self._segments[k]
        return segment, segment.time_at(frame)

    def first_sound(self) -> int | None:
        """The first device frame of a segment with something sounding (None: none)."""
        with self._lock:
            for s in self._segments:
                if s.sounding and s.step:
                    return s.start
        return None
