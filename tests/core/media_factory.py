"""Small media files generated for tests: a chirp, a melody, multichannel audio, numbered
video frames.

Video frames carry their own index as an 8-bit barcode (eight vertical stripes, white for
a set bit), so a test can check that ``frame(k)`` really is the k-th frame even after
lossy compression.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

N_BITS = 8  # frame numbers up to 255 fit in the barcode


def chirp(n_samples: int, rate_hz: int, f0_hz: float = 100.0, f1_hz: float = 1000.0,
          amplitude: float = 0.5) -> np.ndarray:
    """A linear sine sweep from ``f0_hz`` to ``f1_hz``, float32 ``(n_samples,)``."""
    t = np.arange(n_samples) / rate_hz
    duration = max(n_samples / rate_hz, 1e-9)
    phase = 2 * np.pi * (f0_hz * t + 0.5 * (f1_hz - f0_hz) / duration * t ** 2)
    return (amplitude * np.sin(phase)).astype(np.float32)


def write_audio(path: Path, data: np.ndarray, rate_hz: int, **kwargs) -> Path:
    """Write ``data`` ``(n,)`` or ``(n, ch)`` with soundfile; the format follows the name."""
    import soundfile

    soundfile.write(str(path), data, rate_hz, **kwargs)
    return Path(path)


def tone_sequence(path, pitches, note_s: float, rate_hz: int = 16000):
    """A melody of decaying sine tones (MIDI ``pitches``, ``note_s`` each) written to
    ``path`` at ``rate_hz``; returns ``path``."""
    t = np.arange(int(note_s * rate_hz)) / rate_hz
    notes = [np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t) * np.exp(-4 * t)
             for p in pitches]
    write_audio(path, np.concatenate(notes).astype(np.float32) * 0.5, rate_hz)
    return path


class FakeVideo:
    """A video recording held in memory (what the pipeline reads of a Recording)."""

    kind = "video"

    def __init__(self, frames, fps, path="mem.mp4"):
        self._frames = frames
        self.rate_hz = float(fps)
        self.n_frames = len(frames)
        self.duration_s = len(frames) / fps
        self.path = path

    def iter_frames(self, start=0, stop=None, step=1):
        return iter(self._frames[start:stop:step])


def barcode_frame(k: int, width: int = 96, height: int = 64) -> np.ndarray:
    """A BGR uint8 image whose stripes encode ``k`` (see :func:`read_barcode`)."""
    image = np.full((height, width, 3), 0, dtype=np.uint8)
    stripe = width // N_BITS
    for bit in range(N_BITS):
        if (k >> bit) & 1:
            image[:, bit * stripe:(bit + 1) * stripe] = 255
    image[: height // 4, :, 2] = 200  # a red band on top: checks the RGB channel order
    return image


def read_barcode(rgb: np.ndarray) -> int:
    """The frame number drawn by :func:`barcode_frame` (robust to compression and scaling)."""
    height, width = rgb.shape[:2]
    stripe = width / N_BITS
    grey = rgb[height // 4:].mean(axis=(0, 2))
    value = 0
    for bit in range(N_BITS):
        centre = grey[int((bit + 0.25) * stripe):max(int((bit + 0.75) * stripe),
                                                   int((bit + 0.25) * stripe) + 1)]
        if centre.mean() > 127:
            value |= 1 << bit
    return value


def write_video(path: Path, n_frames: int, fourcc: str = "mp4v", fps: float = 10.0,
                width: int = 96, height: int = 64) -> Path:
    """Write ``n_frames`` barcode frames with OpenCV; returns the path.

    Raises RuntimeError if OpenCV has no encoder for ``fourcc`` in this container.
    """
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {fourcc} into {Path(path).suffix}")
    try:
        for k in range(n_frames):
            writer.write(barcode_frame(k, width, height))
    finally:
        writer.release()
    return Path(path)


def truncate_mpeg4_frames(path: Path, keep: int) -> Path:
    """Zero the payload of every MPEG-4 part 2 frame after the first ``keep`` ones in place.

    The container still claims all frames; only ``keep`` decode. Works on files written by
    :func:`write_video` with ``fourcc="mp4v"`` into ``.mp4`` (the index sits at the end).
    """
    data = bytearray(Path(path).read_bytes())
    starts, at = [], data.find(b"\x00\x00\x01\xb6")  # VOP start codes
    while at != -1:
        starts.append(at)
        at = data.find(b"\x00\x00\x01\xb6", at + 1)
    end = data.find(b"moov") - 4
    if keep < len(starts):
        data[starts[keep]:end] = bytes(end - starts[keep])
    Path(path).write_bytes(bytes(data))
    return Path(path)


class ArrayAudio:
    """A mono recording held in memory (samples at 22050 Hz), for the pipelines'
    ``align_recordings``: the media layer's ``kind``, ``rate_hz``, ``duration_s``,
    ``path`` and ``audio()``."""

    kind = "audio"
    rate_hz = 22050

    def __init__(self, x, path="x.wav"):
        self.x = x
        self.path = path
        self.duration_s = len(x) / self.rate_hz

    def audio(self, mono=True):
        return self.x


def timbre_pair(seed: int, n_events: int, timbre_a: str, timbre_b: str):
    """A generated score played by two timbres (``core.synthetic.music``): A under a
    smooth tempo curve, B under abrupt tempo steps. Returns ``(xa, xb, onsets_a,
    onsets_b)``."""
    from core.synthetic.music import make_score, render

    rng = np.random.default_rng(seed)
    events = [e for e in make_score(rng, n_events) if e[0] is not None]
    xa, oa = render(rng, events, timbre_a, "smooth", 0.5)
    xb, ob = render(rng, events, timbre_b, "abrupt", 0.7)
    return xa, xb, oa, ob
