"""Video recordings decoded with OpenCV's FFmpeg backend (opencv-python-headless).

Opening a video decodes its first few frames and checks the header against them: the
frame rate against the frames' timestamps (FFmpeg guesses the rate of streams such as
MPEG-TS or raw MJPEG, and derives the frame count from it), and the claimed frame count
against what actually decodes (containers can claim frames that are missing or
undecodable): the claimed last frame is decoded, and if that fails the last decodable
frame is found by bisection with seeks, so the check costs a few seeks, not a pass over
the file. A stream whose header cannot be trusted (no frame count, or a frame rate that
disagrees with its timestamps) is counted by decoding it once and is never sought in.
Frames are assumed to be evenly spaced (constant frame rate): frame k is at k / rate_hz.

Random access (:meth:`VideoRecording.frame`) keeps one decoder and a small LRU cache: a
short jump forward decodes sequentially, a longer jump or a jump back seeks.
:meth:`VideoRecording.iter_frames` uses its own decoder, so a feature extraction running
on a worker thread and the GUI asking for frames do not disturb each other.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from pathlib import Path

# FFmpeg's own messages ("moov atom not found", "header damaged") would reach stderr; the
# problems they describe become MediaErrors instead. A user who wants them sets the variable.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402  (after the environment variable above)
import numpy as np  # noqa: E402

from ..errors import MediaError  # noqa: E402
from ..paths import is_utf8_name  # noqa: E402
from .recording import Recording  # noqa: E402

__all__ = ["VideoRecording", "probe_video"]

#: Frame rates outside this range are treated as a broken header.
MAX_FPS = 1000.0
#: FFmpeg "decodes" text files as ANSI art (its tty demuxer): not a recording.
_TEXT_CODECS = frozenset({b"ansi", b"bint", b"xbin", b"idf "})
#: Frames decoded at open time to check the header's frame rate against timestamps.
TIMESTAMP_PROBE_FRAMES = 9
#: Frames kept by the random-access cache of each VideoRecording.
CACHE_FRAMES = 32


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved = None


@contextlib.contextmanager
def _quiet_opencv():
    """Silence OpenCV's own warnings (e.g. "can't be used to capture by name") meanwhile.

    OpenCV's log level is global: nested and concurrent uses are counted so that the
    level in force before the first one is restored after the last one.
    """
    global _quiet_depth, _quiet_saved
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    with _quiet_lock:
        if _quiet_depth == 0:
            _quiet_saved = logging.getLogLevel()
            logging.setLogLevel(logging.LOG_LEVEL_ERROR)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                logging.setLogLevel(_quiet_saved)


class _Source:
    """A name OpenCV can open for ``path``.

    OpenCV's Python binding encodes names as UTF-8 and crashes (a segmentation fault) on
    one that is not, as any byte string Linux allows is: such a file is reached through
    a symbolic link with an ASCII name in a private temporary folder, which lives as
    long as this object (decoders may re-open the file by name)."""

    def __init__(self, path: Path):
        self.path = path
        if is_utf8_name(path):
            self.name = str(path)
            return
        folder = tempfile.mkdtemp(prefix="alignment-inspector-video-")
        self._finalizer = weakref.finalize(self, shutil.rmtree, folder, True)
        suffix = path.suffix if is_utf8_name(path.suffix) and path.suffix.isascii() else ""
        link = os.path.join(folder, "video" + suffix)
        try:
            os.symlink(os.fsencode(path), os.fsencode(link))
        except OSError as exc:
            self._finalizer()
            raise MediaError(path, f"cannot be opened by the video decoder (its name is not "
                             f"UTF-8 and no link to it could be made: {exc.strerror})") from None
        self.name = link


def _capture(source: _Source) -> cv2.VideoCapture | None:
    # An absolute path keeps FFmpeg from reading "name:rest" as a protocol.
    with _quiet_opencv():
        try:
            capture = cv2.VideoCapture(source.name, cv2.CAP_FFMPEG)
        except cv2.error:
            return None
    if not capture.isOpened():
        capture.release()
        return None
    return capture


def _seek_grab(capture: cv2.VideoCapture, k: int) -> bool:
    """Whether frame ``k`` decodes (leaves the decoder just after it)."""
    with _quiet_opencv():
        return bool(capture.set(cv2.CAP_PROP_POS_FRAMES, k)) and bool(capture.grab())


def _count_frames(capture: cv2.VideoCapture, claimed: int, n_read: int,
                  can_seek: bool) -> int:
    """The number of decodable frames; the capture has just read frames ``0..n_read-1``.

    A claimed count is trusted only after decoding its last frame and failing on the
    next; otherwise the last decodable frame is found by bisection. Without ``can_seek``
    the frames are counted by decoding them all.
    """
    if not can_seek:
        count = n_read
    elif _seek_grab(capture, claimed - 1):
        count = claimed
    else:  # bisect for the last decodable frame: frame `good` decodes, `bad` does not
        good, bad = n_read - 1, claimed - 1
        while bad - good > 1:
            mid = (good + bad) // 2
            if _seek_grab(capture, mid):
                good = mid
            else:
                bad = mid
        _seek_grab(capture, good)
        count = good + 1
    while capture.grab():  # the claim was short (or absent): count the rest
        count += 1
    return count


def probe_video(path: Path) -> VideoRecording | None:
    """A :class:`VideoRecording` if OpenCV opens ``path``, else None.

    Raises
    ------
    MediaError
        If the container opens but has no decodable frame or a broken header.
    """
    source = _Source(path)
    capture = _capture(source)
    if capture is None:
        return None
    try:
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)) & 0xFFFFFFFF
        if fourcc.to_bytes(4, "little") in _TEXT_CODECS:
            return None
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        claimed = int(max(capture.get(cv2.CAP_PROP_FRAME_COUNT), 0))
        ok, first = capture.read()
        if not ok or first is None or first.size == 0:
            raise MediaError(path, "contains no decodable video frame")
        height, width = first.shape[:2]
        # The first frames' timestamps check the header's frame rate (FFmpeg guesses it
        # for streams such as MPEG-TS and raw MJPEG, and the frame count follows from it).
        stamps = [capture.get(cv2.CAP_PROP_POS_MSEC)]
        with _quiet_opencv():
            while len(stamps) < TIMESTAMP_PROBE_FRAMES and capture.grab():
                stamps.append(capture.get(cv2.CAP_PROP_POS_MSEC))
        n_read = len(stamps)
        steps = np.diff(stamps)
        step_ms = float(np.median(steps)) if steps.size else 0.0
        header_ok = np.isfinite(fps) and 0.0 < fps <= MAX_FPS
        if step_ms > 0 and (not header_ok or abs(1000.0 / step_ms - fps) > 0.01 * fps):
            fps, can_seek = 1000.0 / step_ms, False
        else:
            can_seek = claimed > 1
        if not (np.isfinite(fps) and 0.0 < fps <= MAX_FPS):
            raise MediaError(path, f"has no valid frame rate (the header says {fps:g} fps)")
        if n_read < TIMESTAMP_PROBE_FRAMES:  # the decoder stopped: that is all there is
            n_frames = n_read
        else:
            n_frames = _count_frames(capture, claimed, n_read, can_seek)
    finally:
        capture.release()
    return VideoRecording(path, fps=fps, n_frames=n_frames, width=width, height=height,
                          first=_to_rgb(first), can_seek=can_seek, source=source)


def _to_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _downscale(image: np.ndarray, max_side: int | None) -> np.ndarray:
    if max_side is None:
        return image
    height, width = image.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


class VideoRecording(Recording):
    """A video file read lazily with OpenCV. Create with :func:`core.media.open_recording`.

    ``rate_hz`` is the frame rate (the header's, unless the first frames' timestamps
    disagree; frame ``k`` is shown at ``k / rate_hz`` seconds), ``n_frames`` the verified
    number of decodable frames, ``n_channels`` 3.
    Frames are uint8 RGB ``(height, width, 3)``. The sound track is not decoded.

    Methods are thread-safe; :meth:`frame` calls are serialised on one decoder.
    """

    kind = "video"

    def __init__(self, path: Path, *, fps: float, n_frames: int, width: int, height: int,
                 first: np.ndarray | None = None, can_seek: bool = True,
                 source: _Source | None = None):
        super().__init__(path, rate_hz=fps, n_frames=n_frames, n_channels=3,
                         width=int(width), height=int(height))
        self._source = source if source is not None else _Source(self.path)
        self._capture: cv2.VideoCapture | None = None
        self._next = 0  # index of the frame the open decoder returns next
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self.cache_frames = CACHE_FRAMES
        # Decoding forward is cheaper than seeking for jumps of up to about a GOP. A stream
        # without an index (no frame count) is never sought: it is decoded from the start.
        self._can_seek = bool(can_seek)
        self._max_skip = max(16, int(round(2 * fps))) if can_seek else n_frames
        if first is not None:
            self._remember(0, first)

    def _check_k(self, k, name="k") -> int:
        if isinstance(k, bool) or not isinstance(k, int | np.integer):
            raise TypeError(f"{name} must be an integer, got {type(k).__name__}")
        k = int(k)
        if not 0 <= k < self.n_frames:
            raise ValueError(f"{name} must be in [0, {self.n_frames - 1}], got {k}")
        return k

    def _remember(self, k: int, image: np.ndarray) -> np.ndarray:
        image.flags.writeable = False
        self._cache[k] = image
        self._cache.move_to_end(k)
        while len(self._cache) > max(int(self.cache_frames), 1):
            self._cache.popitem(last=False)
        return image

    def frame(self, k: int) -> np.ndarray:
        """Frame ``k`` (0-based) as a read-only uint8 RGB array ``(height, width, 3)``.

        Recently used frames come from a small LRU cache (``cache_frames``, 32 by
        default); otherwise the decoder reads forward for short jumps and seeks for
        long ones.

        Raises
        ------
        ValueError
            If ``k`` is outside ``[0, n_frames)``.
        MediaError
            If the frame cannot be decoded.
        """
        k = self._check_k(k)
        with self._lock:
            cached = self._cache.get(k)
            if cached is not None:
                self._cache.move_to_end(k)
                return cached
            if self._capture is not None and not self._can_seek and k < self._next:
                self._release()  # rewind by re-opening
            if self._capture is None:
                self._capture = _capture(self._source)
                self._next = 0
                if self._capture is None:
                    raise MediaError(self.path, "can no longer be opened as video")
            capture = self._capture
            skip = k - self._next
            with _quiet_opencv():
                if 0 <= skip <= self._max_skip:
                    ok = all(capture.grab() for _ in range(skip))
                else:
                    ok = bool(capture.set(cv2.CAP_PROP_POS_FRAMES, k))
                ok, image = capture.read() if ok else (False, None)
            if not ok or image is None:
                self._release()
                raise MediaError(self.path, f"frame {k} could not be decoded")
            self._next = k + 1
            return self._remember(k, _to_rgb(image))

    def thumbnail(self, k: int, max_side: int = 160) -> np.ndarray:
        """Frame ``k`` downscaled (area averaging) so its longer side is <= ``max_side``."""
        if max_side < 1:
            raise ValueError(f"max_side must be >= 1, got {max_side}")
        return _downscale(self.frame(k), int(max_side))

    def iter_frames(self, start: int = 0, stop: int | None = None, step: int = 1, *,
                    max_side: int | None = None):
        """Decode frames ``start:stop:step`` sequentially with a decoder of their own.

        Parameters
        ----------
        start, stop, step : int
            As in ``range``: ``0 <= start``, ``stop`` (None: the end) is clipped to
            ``n_frames``, ``step >= 1``. Skipped frames are still decoded (codecs
            predict frames from their predecessors) but not converted.
        max_side : int, optional
            Downscale each frame (area averaging) so that its longer side is at most
            this many pixels; cheap input for features.

        Yields
        ------
        numpy.ndarray
            uint8 RGB ``(h, w, 3)``, a new array each time.

        Raises
        ------
        MediaError
            If a frame inside the verified range fails to decode.
        """
        for name, value in (("start", start), ("step", step)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
        stop = self.n_frames if stop is None else min(int(stop), self.n_frames)
        if start < 0:
            raise ValueError(f"start must be >= 0, got {start}")
        if step < 1:
            raise ValueError(f"step must be >= 1, got {step}")
        if max_side is not None and max_side < 1:
            raise ValueError(f"max_side must be >= 1, got {max_side}")
        return self._frames(int(start), stop, int(step), max_side)

    def _frames(self, start, stop, step, max_side):
        if start >= stop:
            return
        capture = _capture(self._source)
        if capture is None:
            raise MediaError(self.path, "can no longer be opened as video")
        try:
            with _quiet_opencv():
                if not self._can_seek:
                    if not all(capture.grab() for _ in range(start)):
                        raise MediaError(self.path, f"frame {start} could not be reached")
                elif start and not capture.set(cv2.CAP_PROP_POS_FRAMES, start):
                    raise MediaError(self.path, f"cannot seek to frame {start}")
            for k in range(start, stop, step):
                with _quiet_opencv():
                    ok, image = capture.read()
                    for _ in range(min(step, stop - k) - 1):
                        capture.grab()
                if not ok or image is None:
                    raise MediaError(self.path, f"frame {k} could not be decoded")
                yield _downscale(_to_rgb(image), max_side)
        finally:
            capture.release()

    def _release(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
            self._next = 0

    def close(self) -> None:
        """Release the random-access decoder and empty the frame cache."""
        with self._lock:
            self._release()
            self._cache.clear()

    def __del__(self):
        capture = getattr(self, "_capture", None)
        if capture is not None:
            capture.release()
