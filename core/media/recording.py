"""The :class:`Recording` interface and :func:`open_recording`, which picks a decoder by content.

A recording is opened once and then read lazily: opening checks that the file exists, is
readable, is not empty and that its content can actually be decoded (at least one audio
sample or one video frame), so that a bad file fails early with a :class:`MediaError`
that names the file and the problem in plain words, never with a decoder's exception.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from ..errors import MediaError

__all__ = [
    "AUDIO_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "Recording",
    "open_recording",
]

#: File name extensions of the audio formats soundfile (libsndfile) decodes here.
AUDIO_EXTENSIONS = frozenset({
    ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc",
    ".w64", ".rf64", ".caf", ".au", ".snd",
})
#: File name extensions of the video containers OpenCV (FFmpeg) usually decodes.
VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".avi", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".wmv", ".flv",
    ".ts", ".mts", ".3gp", ".ogv",
})
#: Still images: FFmpeg would open them as one-frame videos, which is never what is meant.
IMAGE_EXTENSIONS = frozenset({
    ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp",
})

_HASH_CHUNK_BYTES = 1 << 20


class Recording:
    """One audio or video file, opened for lazy reading.

    Do not construct directly: use :func:`open_recording`, which returns an
    :class:`~core.media.audio.AudioRecording` or a :class:`~core.media.video.VideoRecording`.
    Methods that only make sense for the other kind raise :class:`MediaError`.

    Attributes
    ----------
    path : pathlib.Path
        Absolute path of the file.
    kind : {"audio", "video"}
    rate_hz : float
        Sample rate (audio) or frame rate (video).
    n_frames : int
        Number of samples per channel (audio) or of decodable video frames.
    n_channels : int
        Audio channels; 3 (RGB) for video.
    duration_s : float
        ``n_frames / rate_hz``.
    width, height : int or None
        Frame size in pixels (video); None for audio.
    """

    kind: str = ""

    def __init__(self, path: Path, *, rate_hz: float, n_frames: int, n_channels: int,
                 width: int | None = None, height: int | None = None):
        self.path = Path(path)
        self.rate_hz = float(rate_hz)
        self.n_frames = int(n_frames)
        self.n_channels = int(n_channels)
        self.width = width
        self.height = height
        self._hash: tuple[tuple[int, int], str] | None = None
        self._hash_lock = threading.Lock()

    @property
    def duration_s(self) -> float:
        """Duration in seconds (``n_frames / rate_hz``)."""
        return self.n_frames / self.rate_hz

    # -- identity -------------------------------------------------------------------------
    def content_hash(self) -> str:
        """SHA-256 of the file's bytes as a hex string.

        The file is streamed in 1 MiB chunks; the result is cached and recomputed only
        when the file's size or modification time changes.
        """
        try:
            stat = self.path.stat()
            key = (stat.st_size, stat.st_mtime_ns)
            with self._hash_lock:
                if self._hash is not None and self._hash[0] == key:
                    return self._hash[1]
                digest = hashlib.sha256()
                with open(self.path, "rb") as handle:
                    while chunk := handle.read(_HASH_CHUNK_BYTES):
                        digest.update(chunk)
                self._hash = (key, digest.hexdigest())
                return self._hash[1]
        except OSError as exc:
            raise MediaError(self.path, f"cannot be read to compute its hash "
                             f"({exc.strerror or exc})") from None

    def describe(self) -> dict:
        """A JSON-friendly summary: path, kind, duration, rate, frames, channels, size."""
        info = {"path": str(self.path), "kind": self.kind, "duration_s": self.duration_s,
                "rate_hz": self.rate_hz, "n_frames": self.n_frames,
                "n_channels": self.n_channels}
        if self.kind == "video":
            info.update(width=self.width, height=self.height)
        return info

    # -- audio interface (AudioRecording overrides) ------------------------------------------
    def _not_audio(self):
        raise MediaError(self.path, "is a video file; its sound track cannot be decoded "
                         "here (extract it to a WAV or FLAC file and open that)")

    def audio(self, mono: bool = True):
        """The samples as float32: ``(n,)`` if ``mono`` else ``(n, n_channels)``."""
        self._not_audio()

    def read_block(self, start: int, stop: int, *, mono: bool = True):
        """Samples ``start:stop`` as float32 (see :meth:`audio`)."""
        self._not_audio()

    def iter_blocks(self, block_frames: int = 65536, start: int = 0, stop: int | None = None,
                    *, mono: bool = True):
        """Successive sample blocks as ``(offset, block)`` pairs."""
        self._not_audio()

    def envelope(self, n_bins: int, start: int = 0, stop: int | None = None, *,
                 progress=None, cancel=None):
        """Per-bin minimum and maximum of the mono signal (a waveform overview)."""
        self._not_audio()

    # -- video interface (VideoRecording overrides) ----------------------------------------
    def _not_video(self):
        raise MediaError(self.path, "is an audio file; it has no video frames")

    def frame(self, k: int):
        """Frame ``k`` as a read-only uint8 RGB array ``(height, width, 3)``."""
        self._not_video()

    def thumbnail(self, k: int, max_side: int = 160):
        """Frame ``k`` downscaled so that its longer side is at most ``max_side``."""
        self._not_video()

    def iter_frames(self, start: int = 0, stop: int | None = None, step: int = 1, *,
                    max_side: int | None = None):
        """Frames ``start:stop:step`` in order, as uint8 RGB arrays."""
        self._not_video()

    # -- lifetime ------------------------------------------------------------------------
    def close(self) -> None:
        """Release decoder resources (a later call re-opens them as needed)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        size = f", {self.width}x{self.height}" if self.kind == "video" else ""
        return (f"<{type(self).__name__} {self.path.name!r}: {self.duration_s:.3f} s, "
                f"{self.rate_hz:g} Hz, {self.n_frames} frames, {self.n_channels} ch{size}>")


def _check_file(path: Path) -> None:
    """Raise MediaError unless ``path`` is an existing, readable, non-empty regular file."""
    if not path.exists():
        raise MediaError(path, "file not found")
    if path.is_dir():
        raise MediaError(path, "is a folder, not a media file")
    if not path.is_file():
        raise MediaError(path, "is not a regular file")
    try:
        with open(path, "rb") as handle:
            handle.read(16)
    except PermissionError:
        raise MediaError(path, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise MediaError(path, f"cannot be read ({exc.strerror or exc})") from None
    if path.stat().st_size == 0:
        raise MediaError(path, "is empty (0 bytes)")


def open_recording(path) -> Recording:
    """Open an audio or video file for reading.

    The kind is detected from the content, not the name: soundfile (libsndfile) is tried
    first, then OpenCV's FFmpeg backend.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Audio: WAV, FLAC, OGG/Vorbis, Opus, MP3, AIFF and the other formats of
        libsndfile, any channel count. Video: whatever OpenCV's FFmpeg decodes (MP4/H.264,
        AVI, MKV, MOV, ...); the sound track of a video file is not decoded.

    Returns
    -------
    Recording
        An :class:`~core.media.audio.AudioRecording` or a
        :class:`~core.media.video.VideoRecording`.

    Raises
    ------
    MediaError
        If the file is missing, a folder, unreadable, empty, corrupt, of an unsupported
        format, an audio file without samples or a video without a decodable frame.
        The message names the file and the problem.
    TypeError
        If ``path`` is not a string or path-like object.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    path = Path(os.fspath(path)).expanduser().absolute()
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        raise MediaError(path, "is a still image, not an audio or video recording")

    from .audio import probe_audio
    reasons: list[str] = []
    recording = probe_audio(path, reasons)
    if recording is not None:
        return recording
    from .video import probe_video
    recording = probe_video(path)
    if recording is not None:
        return recording

    if suffix in AUDIO_EXTENSIONS:
        said = f": {reasons[0]}" if reasons else ""
        problem = (f"could not be decoded as audio (the file is corrupt or its encoding "
                   f"is not supported{said})")
    elif suffix in VIDEO_EXTENSIONS:
        problem = "could not be opened as video (the file is corrupt or its container " \
                  "or codec is not supported)"
    else:
        problem = ("is not a recognised audio or video format (audio: WAV, FLAC, OGG, "
                   "Opus, MP3, AIFF; video: MP4, AVI, MKV, MOV)")
    raise MediaError(path, problem)


def describe_recording(rec) -> dict:
    """What a result records about one input: ``path``, ``kind``, ``duration_s``,
    ``rate_hz`` and ``sha256`` (the recording's :meth:`Recording.content_hash`; None
    for an object without one or when the file cannot be read any more: the description
    is informative, never a reason to fail an alignment)."""
    path = getattr(rec, "path", None)
    info = {"path": None if path is None else os.fspath(path), "kind": rec.kind,
            "duration_s": float(rec.duration_s), "rate_hz": float(rec.rate_hz)}
    digest = getattr(rec, "content_hash", None)
    try:
        info["sha256"] = digest() if callable(digest) else None
    except OSError:
        info["sha256"] = None
    return info

