"""Media work for the window: opening a recording, waveform envelopes, video frames."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np

from core._progress import Monitor
from core.media import open_recording as core_open_recording
from core.project import RecordingInfo

__all__ = ["Opened", "WaveEnvelope", "WavePyramid", "open_recording", "recording_lock",
           "wave_envelope", "wave_pyramid",
           "read_frame", "read_filmstrip", "filmstrip", "forget_readers"]

_locks: dict[int, threading.RLock] = {}
_locks_guard = threading.Lock()


def recording_lock(rec) -> threading.RLock:
    """A re-entrant lock per Recording: two jobs never decode one file at the same time
    (a video decoder reading sequentially must not be seeked by another thread, and two
    whole-file decodes of one long audio file would hold it twice in memory)."""
    with _locks_guard:
        lock = _locks.get(id(rec))
        if lock is None:
            lock = _locks[id(rec)] = threading.RLock()
        return lock


@dataclasses.dataclass(frozen=True)
class Opened:
    """An open recording and what the state records about it (with its content hash)."""

    recording: object
    info: RecordingInfo


def open_recording(path, *, progress=None, cancel=None) -> Opened:
    """Open a media file (:func:`core.media.open_recording`) and hash its content.

    Raises
    ------
    MediaError
        Naming the file and the problem.
    """
    mon = Monitor(progress, cancel)
    rec = core_open_recording(str(path))
    mon.report(0.5)
    return Opened(rec, RecordingInfo.of(rec, content_hash=rec.content_hash()))


@dataclasses.dataclass(frozen=True)
class WaveEnvelope:
    """The minimum and maximum of a recording's mono signal in ``len(lo)`` equal bins of
    ``[t0_s, t1_s)`` (from :meth:`core.media.Recording.envelope`); ``times`` are the
    bins' centres in seconds; ``sample_s`` is one sample's duration (no bin is
    narrower)."""

    t0_s: float
    t1_s: float
    times: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    sample_s: float

    @property
    def bin_s(self) -> float:
        return (self.t1_s - self.t0_s) / max(len(self.lo), 1)

    def fine_enough(self, t0_s: float, t1_s: float, n_bins: int) -> bool:
        """Whether this envelope spans ``[t0_s, t1_s]`` with bins at most twice as wide
        as ``n_bins`` bins there would be (or as one sample)."""
        if t1_s <= t0_s:
            return True
        wanted = max((t1_s - t0_s) / max(n_bins, 1), self.sample_s)
        return (self.t0_s <= t0_s + 1e-9 and self.t1_s >= t1_s - 1e-9
                and self.bin_s <= 2.0 * wanted)

    def covers(self, t0_s: float, t1_s: float, n_bins: int) -> bool:
        """Whether this envelope draws ``[t0_s, t1_s]`` at about ``n_bins`` bins: fine
        enough (:meth:`fine_enough`) and at most four times as many bins as wanted."""
        have = (t1_s - t0_s) / max(self.bin_s, 1e-12)
        return self.fine_enough(t0_s, t1_s, n_bins) and have <= 4.0 * max(n_bins, 1)

    def slice(self, t0_s: float, t1_s: float):
        """Bin times and (lo, hi) of the bins in ``[t0_s, t1_s]`` (one more each side)."""
        k0 = max(0, int(np.searchsorted(self.times, t0_s)) - 1)
        k1 = min(len(self.times), int(np.searchsorted(self.times, t1_s)) + 1)
        return self.times[k0:k1], self.lo[k0:k1], self.hi[k0:k1]


def wave_envelope(rec, t0_s: float, t1_s: float, n_bins: int, *, progress=None,
                  cancel=None) -> WaveEnvelope:
    """The waveform of ``rec`` in ``[t0_s, t1_s]`` as ``n_bins`` min/max bins.

    The recording's own envelope (:meth:`core.media.Recording.envelope`): exact from the
    samples for short ranges, from its cached min/max levels (one streaming pass over
    the file, the first time) for long ones. Thread-safe (every read has its own
    decoder), so it needs no recording lock.
    """
    rate = float(rec.rate_hz)
    n = int(rec.n_frames)
    start = int(np.clip(np.floor(t0_s * rate), 0, max(n - 1, 0)))
    stop = int(np.clip(np.ceil(t1_s * rate), start + 1, n))
    n_bins = int(max(1, min(n_bins, stop - start)))
    lo, hi = rec.envelope(n_bins, start, stop, progress=progress, cancel=cancel)
    edges = start + (np.arange(n_bins + 1) * (stop - start)) // n_bins
    times = 0.5 * (edges[:-1] + edges[1:]) / rate
    lo, hi = np.asarray(lo, np.float32), np.asarray(hi, np.float32)
    for a in (times, lo, hi):
        a.setflags(write=False)
    return WaveEnvelope(start / rate, stop / rate, times, lo, hi, 1.0 / rate)


@dataclasses.dataclass(frozen=True)
class WavePyramid:
    """Whole-file waveform envelopes at several resolutions (4x apart), finest first,
    so that a view draws any zoom down to the finest level's bins at once."""

    levels: tuple[WaveEnvelope, ...]

    def pick(self, t0_s: float, t1_s: float, n_bins: int) -> WaveEnvelope | None:
        """The coarsest level fine enough to draw ``[t0_s, t1_s]`` at ``n_bins`` bins
        (:meth:`WaveEnvelope.fine_enough`: between about n_bins and 4 n_bins bins, more
        only when even the coarsest is finer), or None when the finest is too coarse."""
        for env in reversed(self.levels):
            if env.fine_enough(t0_s, t1_s, n_bins):
                return env
        return None

    @property
    def finest(self) -> WaveEnvelope:
        return self.levels[0]


#: the finest level of a waveform pyramid: samples per bin for files of at most
#: EXACT_PYRAMID_SAMPLES samples (read whole), and for longer ones (from the
#: recording's cached min/max cells, no whole-file read)
FINE_SAMPLES_PER_BIN = 16
LONG_SAMPLES_PER_BIN = 512
EXACT_PYRAMID_SAMPLES = 1 << 22
#: the coarsest level has at most this many bins
COARSE_BINS = 2048


def wave_pyramid(rec, *, progress=None, cancel=None) -> WavePyramid:
    """A :class:`WavePyramid` of ``rec`` from its own envelope
    (:meth:`core.media.Recording.envelope`): one streaming pass over a long file (the
    recording caches min/max cells), then cheap reductions; bins of 16 samples for
    short files, 512 for long ones (finer zooms ask :func:`wave_envelope` for their
    range)."""
    mon = Monitor(progress, cancel)
    n = int(rec.n_frames)
    spb = FINE_SAMPLES_PER_BIN if n <= EXACT_PYRAMID_SAMPLES else LONG_SAMPLES_PER_BIN
    counts = []
    while True:
        counts.append(max(1, -(-n // spb)))
        if counts[-1] <= COARSE_BINS:
            break
        spb *= 4
    levels = []
    for k, n_bins in enumerate(counts):
        levels.append(wave_envelope(rec, 0.0, n / float(rec.rate_hz), n_bins,
                                    progress=mon.sub(0.9 * k / len(counts),
                                                     0.9 * (k + 1) / len(counts)).report,
                                    cancel=cancel))
    mon.report(1.0)
    return WavePyramid(tuple(levels))


def filmstrip(rec, n_thumbs: int = 24, *, height: int = 48, progress=None, cancel=None):
    """``n_thumbs`` small RGB thumbnails evenly spaced in time, with their times (s)."""
    import cv2

    mon = Monitor(progress, cancel)
    n = int(rec.n_frames)
    ks = np.unique(np.linspace(0, n - 1, max(1, n_thumbs)).astype(np.int64))
    thumbs = []
    for q, k in enumerate(ks):
        rgb = np.ascontiguousarray(rec.frame(int(k)))
        h, w = rgb.shape[:2]
        width = max(1, int(round(w * height / max(h, 1))))
        thumbs.append(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA))
        mon.report((q + 1) / len(ks))
    return ks / float(rec.rate_hz), thumbs


_readers: dict[str, object] = {}
_readers_lock = threading.Lock()


def _reader(path: str):
    """A Recording opened only for random frame access by the views.

    The views' frame requests must not share a decoder with a feature job reading the
    same file sequentially, so they get an instance of their own (one per path,
    used under a lock).
    """
    with _readers_lock:
        rec = _readers.get(path)
        if rec is None:
            rec = core_open_recording(path)
            _readers[path] = rec
        return rec


def read_frame(path: str, k: int, *, progress=None, cancel=None) -> np.ndarray:
    """Frame ``k`` of the video at ``path`` as uint8 RGB (H, W, 3)."""
    rec = _reader(str(path))
    with _readers_lock:
        return np.ascontiguousarray(rec.frame(int(k)))


def read_filmstrip(path: str, n_thumbs: int = 24, *, progress=None, cancel=None):
    """Thumbnails for a filmstrip (see :func:`filmstrip`) from a reader of ``path``."""
    rec = _reader(str(path))
    with _readers_lock:
        return filmstrip(rec, n_thumbs, progress=progress, cancel=cancel)


def forget_readers() -> None:
    with _readers_lock:
        _readers.clear()
