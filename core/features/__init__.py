"""Audio and video features: (T, D) float32 sequences at a frame rate.

Frame ``k`` of every feature sequence is centred on ``t = k / rate_hz`` seconds.

Audio (:mod:`core.features.audio`): ``"logmel"``, ``"mfcc"``, ``"chroma"``, ``"cens"``,
``"onset"``, ``"dlnco"``. Video (:mod:`core.features.video`): ``"thumbnail"``,
``"histogram"``, ``"motion"``.

The array-level functions :func:`audio_features` (signal, sample rate) and
:func:`video_features` (an iterable of RGB frames, frame rate) do the work;
:func:`compute_features` reads a :class:`core.media.Recording`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from .._progress import Monitor
from ._grid import n_feature_frames

__all__ = ["AUDIO_FEATURES", "VIDEO_FEATURES", "Features", "audio_features",
           "compute_features", "n_feature_frames", "normalize_features", "video_features"]

AUDIO_FEATURES = ("logmel", "mfcc", "chroma", "cens", "onset", "dlnco")
VIDEO_FEATURES = ("thumbnail", "histogram", "motion")
NORMALIZATIONS = ("none", "zscore", "l2")


@dataclasses.dataclass(frozen=True, eq=False)
class Features:
    """A feature sequence: ``values`` (T, D) float32 at ``rate_hz`` frames per second.

    Parameters
    ----------
    values : array_like, shape (T, D)
        Stored as a read-only C-contiguous float32 array (a 1-D input becomes (T, 1)).
    rate_hz : float
        Frames per second; frame ``k`` is centred on ``k / rate_hz`` seconds.
    name : str
        Feature name (``"chroma"``, ``"mfcc"``, ...).
    params : mapping
        Everything needed to recompute it (window, tuning, normalization, ...).
    labels : sequence of str, optional
        One label per dimension (pitch classes for chroma, ...).

    Raises
    ------
    ValueError
        If ``values`` is not 1-D or 2-D, is empty or not finite, or ``rate_hz`` is not a
        positive finite number, or ``labels`` has the wrong length.
    """

    values: np.ndarray
    rate_hz: float
    name: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    labels: tuple[str, ...] | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        v = np.asarray(self.values)
        if v.ndim == 1:
            v = v[:, None]
        if v.ndim != 2 or v.shape[0] == 0 or v.shape[1] == 0:
            raise ValueError(f"values: expected a non-empty (T, D) array, got shape {v.shape}")
        v = np.array(v, dtype=np.float32, order="C", copy=True)
        if not np.all(np.isfinite(v)):
            raise ValueError("values: contains NaN or infinite values")
        v.setflags(write=False)
        rate = float(self.rate_hz)
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate_hz: expected a positive finite rate, got {self.rate_hz}")
        if self.labels is not None:
            labels = tuple(str(s) for s in self.labels)
            if len(labels) != v.shape[1]:
                raise ValueError(
                    f"labels: expected {v.shape[1]} labels, got {len(labels)}")
            set_(self, "labels", labels)
        set_(self, "values", v)
        set_(self, "rate_hz", rate)
        set_(self, "name", str(self.name))
        set_(self, "params", MappingProxyType(dict(self.params or {})))

    @property
    def n_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_dims(self) -> int:
        return int(self.values.shape[1])

    @property
    def times_s(self) -> np.ndarray:
        """Centre time of every frame, shape (T,)."""
        return np.arange(self.n_frames) / self.rate_hz

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.rate_hz


def normalize_features(values, normalize):
    """Normalize a (T, D) array: ``"none"``, ``"zscore"`` (per dimension over time) or
    ``"l2"`` (per frame; all-zero frames become the constant unit vector).

    Parameters
    ----------
    values : ndarray, shape (T, D)
    normalize : {"none", "zscore", "l2"} or None

    Returns
    -------
    ndarray, shape (T, D), float32
    """
    if normalize is None or normalize == "none":
        return np.asarray(values, dtype=np.float32)
    v = np.asarray(values, dtype=np.float64)
    if normalize == "zscore":
        std = v.std(axis=0)
        std[std < 1e-12] = 1.0
        return ((v - v.mean(axis=0)) / std).astype(np.float32)
    if normalize == "l2":
        norm = np.linalg.norm(v, axis=1, keepdims=True)
        small = norm[:, 0] < 1e-9
        out = v / np.maximum(norm, 1e-9)
        out[small] = 1.0 / math.sqrt(v.shape[1])
        return out.astype(np.float32)
    raise ValueError(
        f"normalize: expected one of {NORMALIZATIONS} or None, got {normalize!r}")


def _check_normalize(normalize):
    if normalize is not None and normalize not in NORMALIZATIONS:
        raise ValueError(
            f"normalize: expected one of {NORMALIZATIONS} or None, got {normalize!r}")


def audio_features(signal, sample_rate, name, *, rate_hz=50.0, normalize=None,
                   progress=None, cancel=None, **options) -> Features:
    """Compute an audio feature from a mono signal.

    Parameters
    ----------
    signal : array_like, shape (n,) or (n, channels)
        Samples (channels are averaged).
    sample_rate : float
        Samples per second.
    name : str
        One of ``AUDIO_FEATURES``.
    rate_hz : float
        Feature frames per second (default 50).
    normalize : {"none", "zscore", "l2"}, optional
        Default per feature: ``"l2"`` for chroma and cens, ``"none"`` otherwise.
    progress, cancel : callables, optional
        Progress fraction and cooperative cancellation.
    **options
        Feature-specific options (see :mod:`core.features.audio`).

    Returns
    -------
    Features
    """
    from . import audio

    if name not in AUDIO_FEATURES:
        raise ValueError(f"name: expected one of {AUDIO_FEATURES} for audio, got {name!r}")
    _check_normalize(normalize)
    x = audio.check_signal(signal, sample_rate)
    rate_hz = _check_rate(rate_hz)
    monitor = Monitor(progress, cancel)
    values, params, labels = audio.compute(x, float(sample_rate), name, rate_hz, monitor,
                                           **options)
    if normalize is None:
        normalize = "l2" if name in ("chroma", "cens") else "none"
    values = normalize_features(values, normalize)
    params = dict(params, normalize=normalize, sample_rate=float(sample_rate))
    monitor.report(1.0)
    return Features(values, rate_hz, name, params, labels)


def video_features(frames, fps, name, *, rate_hz=None, n_frames=None, normalize=None,
                   progress=None, cancel=None, **options) -> Features:
    """Compute a video feature from RGB frames.

    Parameters
    ----------
    frames : iterable of ndarray, each (H, W, 3) uint8 RGB (or (H, W) grey)
        The video's frames in order.
    fps : float
        Frame rate of the video.
    name : str
        One of ``VIDEO_FEATURES``.
    rate_hz : float, optional
        Feature rate; default the video's frame rate. Other rates sample the per-frame
        features at the nearest video frame.
    n_frames : int, optional
        Number of frames (for progress only).
    normalize : {"none", "zscore", "l2"}, optional
        Default: ``"none"`` (thumbnails and histograms are already normalized per frame).

    Returns
    -------
    Features
    """
    from . import video

    if name not in VIDEO_FEATURES:
        raise ValueError(f"name: expected one of {VIDEO_FEATURES} for video, got {name!r}")
    _check_normalize(normalize)
    fps = _check_rate(fps, "fps")
    rate_hz = fps if rate_hz is None else _check_rate(rate_hz)
    monitor = Monitor(progress, cancel)
    values, params, labels = video.compute(frames, name, monitor, n_frames=n_frames,
                                           **options)
    values = video.resample(values, fps, rate_hz)
    normalize = "none" if normalize is None else normalize
    values = normalize_features(values, normalize)
    params = dict(params, normalize=normalize, fps=fps)
    monitor.report(1.0)
    return Features(values, rate_hz, name, params, labels)


def _check_rate(rate, name="rate_hz"):
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a positive number, got {rate!r}") from None
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"{name}: expected a positive finite number, got {rate}")
    return rate


def compute_features(recording, name, *, rate_hz=None, normalize=None, progress=None,
                     cancel=None, **options) -> Features:
    """Compute a named feature of a recording.

    Parameters
    ----------
    recording : core.media.Recording
        An open recording (``kind`` "audio" or "video").
    name : str
        Audio: ``"logmel"``, ``"mfcc"``, ``"chroma"``, ``"cens"``, ``"onset"``,
        ``"dlnco"``; video: ``"thumbnail"``, ``"histogram"``, ``"motion"``. For a video
        file with an audio track, audio names are not available here (open its audio).
    rate_hz : float, optional
        Frames per second of the result: default 50 for audio, the frame rate for video.
    normalize : {"none", "zscore", "l2"}, optional
        Normalization (default depends on the feature).
    progress, cancel : callables, optional
    **options
        Feature-specific options.

    Returns
    -------
    Features
        ``params`` also records the recording's path.

    Raises
    ------
    ValueError
        Unknown name or normalization, a name that does not fit the recording's kind.
    """
    kind = getattr(recording, "kind", None)
    if kind == "audio":
        if name not in AUDIO_FEATURES:
            raise ValueError(
                f"name: expected one of {AUDIO_FEATURES} for audio, got {name!r}")
        feats = audio_features(recording.audio(mono=True), recording.rate_hz, name,
                               rate_hz=50.0 if rate_hz is None else rate_hz,
                               normalize=normalize, progress=progress, cancel=cancel,
                               **options)
    elif kind == "video":
        if name not in VIDEO_FEATURES:
            raise ValueError(
                f"name: expected one of {VIDEO_FEATURES} for video, got {name!r}")
        feats = video_features(recording.iter_frames(), recording.rate_hz, name,
                               rate_hz=rate_hz, n_frames=getattr(recording, "n_frames", None),
                               normalize=normalize, progress=progress, cancel=cancel,
                               **options)
    else:
        raise ValueError(f"recording: expected a Recording of kind 'audio' or 'video', "
                         f"got {type(recording).__name__} with kind {kind!r}")
    path = getattr(recording, "path", None)
    return dataclasses.replace(feats, params=dict(feats.params, path=str(path)))
