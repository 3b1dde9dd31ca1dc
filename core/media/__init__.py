"""Decoding of audio and video files (soundfile for audio, OpenCV for video).

>>> from core.media import open_recording
>>> rec = open_recording("take1.flac")          # doctest: +SKIP
>>> rec.kind, rec.rate_hz, rec.duration_s        # doctest: +SKIP
('audio', 44100.0, 183.2)
>>> x = rec.audio()                              # mono float32 (n,)   # doctest: +SKIP

Every problem with a file (missing, unreadable, empty, corrupt, unsupported, nothing
decodable) raises :class:`core.errors.MediaError` naming the file and the problem.
"""

from ..errors import MediaError
from .recording import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    Recording,
    describe_recording,
    open_recording,
)

__all__ = [
    "AUDIO_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "AudioRecording",
    "MediaError",
    "Recording",
    "VideoRecording",
    "describe_recording",
    "open_recording",
]


def __getattr__(name):
    # The decoder modules import soundfile and cv2; load them only when needed.
    if name == "AudioRecording":
        from .audio import AudioRecording
        return AudioRecording
    if name == "VideoRecording":
        from .video import VideoRecording
        return VideoRecording
    raise AttributeError(f"module 'core.media' has no attribute {name!r}")
