"""Work the inspector runs on worker threads: opening media, features, envelopes, cost
images, alignments.

Qt-free on purpose: every function here is called from :mod:`inspector.jobs` on a
QThreadPool thread (or directly in tests) and takes ``progress`` and ``cancel`` callbacks
like the core functions. Each one prefers the engine's public function and falls back to a
small local version while that part of the engine has not landed yet (the fallbacks keep
the window useful during development; they are not meant to be the reference
implementation).
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core._progress import Monitor
from core.alignment import Alignment
from core.errors import MediaError

__all__ = [
    "AUDIO_FEATURES", "VIDEO_FEATURES", "METHODS", "Envelope", "DisplayFeatures",
    "open_recording", "compute_features", "compute_envelope", "cost_overview", "cost_region",
    "default_alignment", "run_method", "method_available", "estimate", "path_local_cost",
    "filmstrip",
]

AUDIO_FEATURES = ("chroma", "logmel", "mfcc", "cens", "onset", "dlnco")
VIDEO_FEATURES = ("thumbnail", "histogram", "motion")

# method name -> (module, public function); imported when used so a method that lands
# during a session is picked up without restarting
METHODS: dict[str, tuple[str, str]] = {
    "dtw": ("core.warping", "dtw"),
    "ctw": ("core.canonical", "ctw"),
    "ot": ("core.transport", "ot"),
    "soft_dtw": ("core.soft", "soft_dtw"),
    "attention": ("core.soft", "attention"),
    "cycle_consistency": ("core.soft", "cycle_consistency"),
}

#: above this many cells the inspector never builds a full cost matrix
FULL_MATRIX_CELLS = 4_000_000


_locks: dict[int, Any] = {}
_locks_guard = __import__("threading").Lock()


def recording_lock(rec):
    """A re-entrant lock per Recording: two jobs never decode one file at the same time
    (a video decoder reading sequentially must not be seeked by another thread)."""
    with _locks_guard:
        lock = _locks.get(id(rec))
        if lock is None:
            lock = _locks[id(rec)] = __import__("threading").RLock()
        return lock


def _core_function(module: str, name: str):
    """The engine's function ``module.name`` or None while it has not landed."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(mod, name, None)


def _call_accepting(fn: Callable, *args, **kwargs):
    """Call ``fn`` with only the keyword arguments its signature accepts.

    The engine's functions grow optional arguments during development (``progress``,
    ``cancel``, rates); passing only what a function declares keeps the inspector working
    with every version.
    """
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn(*args, **kwargs)
    params = sig.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(*args, **kwargs)
    return fn(*args, **{k: v for k, v in kwargs.items() if k in params})


# ---------------------------------------------------------------------------- media
class _FallbackRecording:
    """A minimal Recording (soundfile / OpenCV) used until ``core.media`` lands."""

    def __init__(self, path: str):
        self.path = str(path)
        if not os.path.exists(self.path):
            raise MediaError(self.path, "file not found")
        if os.path.getsize(self.path) == 0:
            raise MediaError(self.path, "empty file")
        self._audio = None
        self._cap = None
        try:
            import soundfile as sf

            info = sf.info(self.path)
        except Exception:  # noqa: BLE001 - anything soundfile cannot read may be video
            info = None
        if info is not None and info.frames > 0:
            self.kind = "audio"
            self.rate_hz = float(info.samplerate)
            self.n_channels = int(info.channels)
            self.n_frames = int(info.frames)
            self.duration_s = self.n_frames / self.rate_hz
            self.width = self.height = 0
            return
        import cv2

        cap = cv2.VideoCapture(self.path)
        ok = cap.isOpened()
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if ok else 0
        fps = float(cap.get(cv2.CAP_PROP_FPS)) if ok else 0.0
        first = cap.read()[1] if ok else None
        if not ok or first is None or n <= 0 or not fps > 0:
            cap.release()
            raise MediaError(self.path, "not a readable audio or video file")
        self.kind = "video"
        self.rate_hz = fps
        self.n_channels = 0
        self.n_frames = n
        self.duration_s = n / fps
        self.height, self.width = first.shape[:2]
        self._cap = cap
        self._next = 1

    def audio(self, mono: bool = True) -> np.ndarray:
        import soundfile as sf

        if self.kind != "audio":
            raise MediaError(self.path, "has no audio")
        if self._audio is None:
            data, _ = sf.read(self.path, dtype="float32", always_2d=True)
            self._audio = data
        return self._audio.mean(axis=1) if mono else self._audio

    def frame(self, k: int) -> np.ndarray:
        import cv2

        k = int(min(max(k, 0), self.n_frames - 1))
        if k != self._next:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, k)
        ok, bgr = self._cap.read()
        if not ok:
            raise MediaError(self.path, f"cannot decode frame {k}")
        self._next = k + 1
        return bgr[:, :, ::-1].copy()

    def iter_frames(self, start: int = 0, stop: int | None = None, step: int = 1):
        import cv2

        stop = self.n_frames if stop is None else min(stop, self.n_frames)
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, start)
        for k in range(start, stop):
            ok, bgr = self._cap.read()
            if not ok:
                break
            self._next = k + 1
            if (k - start) % step == 0:
                yield bgr[:, :, ::-1]

    def content_hash(self) -> str:
        import hashlib

        h = hashlib.sha256()
        with open(self.path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()


def open_recording(path, *, progress=None, cancel=None):
    """Open a media file with ``core.open_recording`` (or the local fallback).

    Raises
    ------
    MediaError
        Naming the file and the problem.
    """
    fn = _core_function("core.media", "open_recording")
    if fn is None:
        return _FallbackRecording(str(path))
    return fn(str(path))


# ---------------------------------------------------------------------------- features
@dataclass(frozen=True)
class DisplayFeatures:
    """Features as the inspector uses them (a stand-in for ``core.Features``)."""

    values: np.ndarray
    rate_hz: float
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


def _frames_stft(x: np.ndarray, sr: float, rate_hz: float, mon: Monitor):
    """Magnitude STFT frames centred on k / rate_hz; computed in blocks (bounded memory)."""
    hop = sr / rate_hz
    n_fft = 1 << max(8, int(math.ceil(math.log2(max(4 * hop, 512)))))
    n_fft = min(n_fft, 4096)
    n_frames = max(1, int(len(x) / hop))
    pad = np.pad(x.astype(np.float32), (n_fft // 2, n_fft // 2))
    window = np.hanning(n_fft).astype(np.float32)
    mags = np.empty((n_frames, n_fft // 2 + 1), dtype=np.float32)
    block = 2048
    for b0 in range(0, n_frames, block):
        b1 = min(n_frames, b0 + block)
        starts = (np.arange(b0, b1) * hop).astype(np.int64)
        idx = starts[:, None] + np.arange(n_fft)[None, :]
        mags[b0:b1] = np.abs(np.fft.rfft(pad[idx] * window, axis=1))
        mon.report(b1 / n_frames)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    return mags, freqs


def _mel_bank(freqs: np.ndarray, n_mels: int, fmax: float) -> np.ndarray:
    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    mels = np.linspace(hz_to_mel(30.0), hz_to_mel(fmax), n_mels + 2)
    edges = 700.0 * (10 ** (mels / 2595.0) - 1.0)
    bank = np.zeros((len(freqs), n_mels), dtype=np.float32)
    for k in range(n_mels):
        lo, mid, hi = edges[k], edges[k + 1], edges[k + 2]
        up = (freqs - lo) / max(mid - lo, 1e-9)
        down = (hi - freqs) / max(hi - mid, 1e-9)
        bank[:, k] = np.maximum(0.0, np.minimum(up, down))
    return bank


def _fallback_audio_features(rec, name: str, rate_hz: float, mon: Monitor) -> np.ndarray:
    x = np.asarray(rec.audio(mono=True), dtype=np.float32)
    sr = float(rec.rate_hz)
    mags, freqs = _frames_stft(x, sr, rate_hz, mon.sub(0.0, 0.9))
    power = mags**2
    if name in ("chroma", "cens"):
        ok = (freqs > 50) & (freqs < 5000)
        pitch = 69 + 12 * np.log2(freqs[ok] / 440.0)
        pc = np.mod(np.round(pitch), 12).astype(np.int64)
        chroma = np.zeros((power.shape[0], 12), dtype=np.float32)
        for c in range(12):
            chroma[:, c] = power[:, ok][:, pc == c].sum(axis=1)
        chroma = np.log1p(100.0 * chroma / (chroma.max() + 1e-12))
        norm = np.linalg.norm(chroma, axis=1, keepdims=True)
        return chroma / np.maximum(norm, 1e-6)
    bank = _mel_bank(freqs, 40, min(8000.0, sr / 2))
    logmel = np.log1p(1000.0 * (power @ bank) / (power.max() + 1e-12)).astype(np.float32)
    if name in ("onset", "dlnco"):
        flux = np.maximum(np.diff(logmel, axis=0, prepend=logmel[:1]), 0).sum(axis=1)
        return (flux / (flux.max() + 1e-9))[:, None].astype(np.float32)
    if name == "mfcc":
        from scipy.fft import dct

        return dct(logmel, type=2, axis=1, norm="ortho")[:, 1:14].astype(np.float32)
    return logmel


def _fallback_video_features(rec, name: str, rate_hz: float, mon: Monitor) -> np.ndarray:
    import cv2

    n = int(rec.n_frames)
    step = max(1, int(round(rec.rate_hz / rate_hz)))
    rows = []
    prev = None
    for k, rgb in enumerate(rec.iter_frames(0, n, step)):
        small = cv2.resize(np.ascontiguousarray(rgb), (32, 24), interpolation=cv2.INTER_AREA)
        if name == "histogram":
            h = [np.histogram(small[:, :, c], bins=8, range=(0, 256))[0] for c in range(3)]
            v = np.concatenate(h).astype(np.float32)
            v /= max(v.sum(), 1.0)
        else:
            grey = small.mean(axis=2).astype(np.float32)
            grey = cv2.resize(grey, (16, 12), interpolation=cv2.INTER_AREA).ravel()
            if name == "motion":
                v = np.array([0.0 if prev is None else np.abs(grey - prev).mean()], np.float32)
                prev = grey
            else:
                v = (grey - grey.mean()) / (grey.std() + 1e-6)
        rows.append(v)
        if k % 64 == 0:
            mon.report(k * step / max(n, 1))
    return np.asarray(rows, dtype=np.float32)


def compute_features(rec, name: str, *, rate_hz: float = 50.0, progress=None, cancel=None,
                     **options):
    """Features of ``rec`` via ``core.compute_features`` (or a quick local version).

    Returns
    -------
    Features or DisplayFeatures
        ``values`` (T, D) float32, ``rate_hz``, ``name``.
    """
    with recording_lock(rec):
        return _compute_features(rec, name, rate_hz, progress, cancel, options)


def _compute_features(rec, name, rate_hz, progress, cancel, options):
    fn = _core_function("core.features", "compute_features")
    if fn is not None:
        return _call_accepting(fn, rec, name, rate_hz=rate_hz, progress=progress,
                               cancel=cancel, **options)
    mon = Monitor(progress, cancel)
    if rec.kind == "video":
        rate = float(rec.rate_hz) / max(1, int(round(rec.rate_hz / rate_hz)))
        values = _fallback_video_features(rec, name, rate_hz, mon)
    else:
        rate = rate_hz
        values = _fallback_audio_features(rec, name, rate_hz, mon)
    values = np.ascontiguousarray(values, dtype=np.float32)
    values.setflags(write=False)
    return DisplayFeatures(values, rate, name, {"rate_hz": rate_hz, "fallback": True})


def default_feature(kind: str) -> str:
    return "thumbnail" if kind == "video" else "chroma"


# ---------------------------------------------------------------------------- envelope
@dataclass(frozen=True)
class Envelope:
    """Min/max envelope pyramid of an audio signal.

    ``levels[k]`` is ``(lo, hi)`` with one bin per ``samples_per_bin[k]`` samples; level 0
    is the finest. The view picks the coarsest level that still gives about two bins
    per pixel, so drawing costs O(pixels) at every zoom.
    """

    rate_hz: float
    samples_per_bin: tuple[int, ...]
    levels: tuple[tuple[np.ndarray, np.ndarray], ...]

    def pick(self, t0_s: float, t1_s: float, n_bins: int):
        """Bin times and (lo, hi) of the best level for the range [t0_s, t1_s]."""
        span = max(t1_s - t0_s, 1e-9) * self.rate_hz
        k = 0
        while k + 1 < len(self.levels) and span / self.samples_per_bin[k + 1] >= n_bins:
            k += 1
        spb = self.samples_per_bin[k]
        lo, hi = self.levels[k]
        b0 = max(0, int(t0_s * self.rate_hz / spb) - 1)
        b1 = min(len(lo), int(t1_s * self.rate_hz / spb) + 2)
        t = (np.arange(b0, b1) + 0.5) * spb / self.rate_hz
        return t, lo[b0:b1], hi[b0:b1]


def compute_envelope(rec, *, base_samples: int = 16, progress=None, cancel=None) -> Envelope:
    """Min/max envelope pyramid of ``rec``'s mono audio, streamed block by block.

    O(n_samples) time; memory about n_samples / base_samples * 8 bytes (an hour at
    22.05 kHz: 40 MB), never the whole signal when the Recording can stream.
    """
    mon = Monitor(progress, cancel)
    n_samples = int(rec.n_frames)
    n = max(1, -(-n_samples // base_samples))
    lo = np.zeros(n, np.float32)
    hi = np.zeros(n, np.float32)
    block_frames = base_samples << 16
    with recording_lock(rec):
        if hasattr(rec, "iter_blocks"):
            blocks = rec.iter_blocks(block_frames, mono=True)
        else:
            x = np.asarray(rec.audio(mono=True))
            blocks = ((o, x[o:o + block_frames]) for o in range(0, len(x), block_frames))
        filled = 0
        for offset, block in blocks:
            block = np.asarray(block, dtype=np.float32).reshape(-1)
            m = len(block) // base_samples
            b0 = offset // base_samples
            if m:
                cells = block[:m * base_samples].reshape(m, base_samples)
                lo[b0:b0 + m] = cells.min(axis=1)
                hi[b0:b0 + m] = cells.max(axis=1)
            if len(block) > m * base_samples and b0 + m < n:
                lo[b0 + m] = block[m * base_samples:].min()
                hi[b0 + m] = block[m * base_samples:].max()
            filled = b0 + m + 1
            mon.report((offset + len(block)) / max(n_samples, 1))
    lo, hi = lo[:max(1, min(n, filled))], hi[:max(1, min(n, filled))]
    levels = [(lo, hi)]
    spb = [base_samples]
    while len(levels[-1][0]) > 4096:
        plo, phi = levels[-1]
        m = len(plo) // 4
        levels.append((plo[:4 * m].reshape(m, 4).min(axis=1),
                       phi[:4 * m].reshape(m, 4).max(axis=1)))
        spb.append(spb[-1] * 4)
    for a, b in levels:
        a.setflags(write=False)
        b.setflags(write=False)
    return Envelope(float(rec.rate_hz), tuple(spb), tuple(levels))


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


# ---------------------------------------------------------------------------- cost
def _as_2d(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return v[:, None] if v.ndim == 1 else v


def _pairwise(x: np.ndarray, y: np.ndarray, metric: str) -> np.ndarray:
    from scipy.spatial.distance import cdist

    if x.shape[1] != y.shape[1]:
        # cross-modal: compare standardized 1-D summaries
        x = _summary(x)
        y = _summary(y)
    return cdist(x, y, metric=metric if metric in ("euclidean", "sqeuclidean", "cosine",
                                                   "cityblock") else "euclidean")


def _summary(v: np.ndarray) -> np.ndarray:
    s = np.abs(np.diff(v, axis=0, prepend=v[:1])).sum(axis=1)
    return ((s - s.mean()) / (s.std() + 1e-9))[:, None]


#: rows summed per numpy call in :func:`_block_mean`: each call holds the GIL, and a
#: single cumsum over an hour of frames held it ~35 ms while the window was drawing
BLOCK_MEAN_ROWS = 16_384


def _block_mean(v: np.ndarray, n_out: int) -> np.ndarray:
    edges = np.linspace(0, len(v), n_out + 1).astype(np.int64)
    counts = np.diff(edges)
    if len(v) == 0 or n_out < 1 or counts.min() < 1:
        csum = np.concatenate([np.zeros((1, v.shape[1])), np.cumsum(v, axis=0)])
        return (csum[edges[1:]] - csum[edges[:-1]]) / np.maximum(counts, 1)[:, None]
    out = np.empty((n_out, v.shape[1]))
    b = 0
    while b < n_out:  # groups of whole bins, about BLOCK_MEAN_ROWS rows each
        e = int(np.searchsorted(edges, edges[b] + BLOCK_MEAN_ROWS, side="right")) - 1
        e = min(max(e, b + 1), n_out)
        lo = edges[b]
        out[b:e] = np.add.reduceat(v[lo:edges[e]], edges[b:e] - lo, axis=0,
                                   dtype=np.float64)
        b = e
    return out / counts[:, None]


def cost_overview(x, y, shape: tuple[int, int], *, metric: str = "euclidean",
                  progress=None, cancel=None) -> np.ndarray:
    """A display image of the local cost matrix, at most ``shape`` (rows A, cols B).

    Uses ``core.cost.overview`` when it exists (block mean of the exact costs, computed
    in tiles). The fallback computes the exact matrix when it is small and otherwise the
    cost between block means of the features (cheap; an approximation for display).
    """
    mon = Monitor(progress, cancel)
    x = _as_2d(x)
    y = _as_2d(y)
    n, m = len(x), len(y)
    shape = (min(n, int(shape[0])), min(m, int(shape[1])))
    fn = _core_function("core.cost", "overview")
    if fn is not None and x.shape[1] == y.shape[1] and overview_is_exact(n, m):
        out = _call_accepting(fn, x, y, shape, metric=metric, progress=progress,
                              cancel=cancel)
        if isinstance(out, tuple):  # (block min, block mean): show the mean
            out = out[-1]
        return np.asarray(out, dtype=np.float32)
    if n * m <= FULL_MATRIX_CELLS:
        full = _pairwise(x, y, metric)
        mon.report(0.7)
        if shape == (n, m):
            return full.astype(np.float32)
        rows = _block_mean(full, shape[0])
        return _block_mean(rows.T, shape[1]).T.astype(np.float32)
    xs = _block_mean(x, shape[0])
    mon.report(0.3)
    ys = _block_mean(y, shape[1])
    mon.report(0.5)
    return _pairwise(xs, ys, metric).astype(np.float32)


#: above this many cells the overview is the cost between block means of the features
#: (seconds instead of minutes for two hours at 100 Hz); below, the exact block mean
EXACT_OVERVIEW_CELLS = 400_000_000


def overview_is_exact(n_a: int, n_b: int) -> bool:
    """Whether :func:`cost_overview` averages exact costs for these sizes."""
    return float(n_a) * float(n_b) <= EXACT_OVERVIEW_CELLS


def cost_view(x, y, i0: int, i1: int, j0: int, j1: int, max_side: int, *,
              metric: str = "euclidean", progress=None, cancel=None):
    """The cost image of rows ``i0:i1`` x columns ``j0:j1`` for display.

    Exact (:func:`cost_region`) when the region has at most ``max_side**2`` cells;
    otherwise the cost between block means of the features, at most ``max_side`` per
    side (cheap at any zoom, approximate).

    Returns
    -------
    image : ndarray (R, C) float32
    exact : bool
    """
    if (i1 - i0) * (j1 - j0) <= max_side * max_side:
        return cost_region(x, y, i0, i1, j0, j1, metric=metric, progress=progress,
                           cancel=cancel), True
    Monitor(progress, cancel).check()
    xs = _block_mean(_as_2d(x)[i0:i1], min(i1 - i0, max_side))
    ys = _block_mean(_as_2d(y)[j0:j1], min(j1 - j0, max_side))
    return _pairwise(xs, ys, metric).astype(np.float32), False


def cost_region(x, y, i0: int, i1: int, j0: int, j1: int, *, metric: str = "euclidean",
                progress=None, cancel=None) -> np.ndarray:
    """Exact local costs of rows ``i0:i1`` of A and columns ``j0:j1`` of B."""
    fn = _core_function("core.cost", "region")
    x = _as_2d(x)
    y = _as_2d(y)
    if fn is not None and x.shape[1] == y.shape[1]:
        return np.asarray(_call_accepting(fn, x, y, i0, i1, j0, j1, metric=metric,
                                          progress=progress, cancel=cancel), np.float32)
    Monitor(progress, cancel).check()
    if x.shape[1] != y.shape[1]:
        x = _summary(x)
        y = _summary(y)
    return _pairwise(x[i0:i1], y[j0:j1], metric).astype(np.float32)


def path_local_cost(x, y, path: np.ndarray, *, metric: str = "euclidean", progress=None,
                    cancel=None) -> np.ndarray:
    """Local cost at every path step, O(L·D)."""
    x = _as_2d(x)
    y = _as_2d(y)
    if x.shape[1] != y.shape[1]:
        x = _summary(x)
        y = _summary(y)
    i = np.clip(path[:, 0], 0, len(x) - 1)
    j = np.clip(path[:, 1], 0, len(y) - 1)
    d = x[i] - y[j]
    if metric == "cosine":
        nx = np.linalg.norm(x[i], axis=1) * np.linalg.norm(y[j], axis=1)
        return 1.0 - (x[i] * y[j]).sum(axis=1) / np.maximum(nx, 1e-12)
    if metric == "sqeuclidean":
        return (d * d).sum(axis=1)
    if metric == "cityblock":
        return np.abs(d).sum(axis=1)
    return np.sqrt((d * d).sum(axis=1))


# ---------------------------------------------------------------------------- alignment
def method_available(method: str) -> tuple[bool, str]:
    """Whether the engine function behind ``method`` can be imported now, and why not."""
    module, name = METHODS[method]
    try:
        mod = importlib.import_module(module)
    except ImportError:
        # a module written since the last look: let the import system see it
        importlib.invalidate_caches()
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            return False, f"{method}: not available yet ({module} cannot be imported: {exc})"
        except Exception as exc:  # noqa: BLE001 - a module being written may not import
            return False, f"{method}: {module} fails to import ({type(exc).__name__}: {exc})"
    except Exception as exc:  # noqa: BLE001
        return False, f"{method}: {module} fails to import ({type(exc).__name__}: {exc})"
    if not hasattr(mod, name):
        return False, f"{method}: not available yet ({module} has no {name})"
    return True, ""


def run_method(method: str, x, y, params: Mapping[str, Any], *, rate_a_hz: float,
               rate_b_hz: float, progress=None, cancel=None) -> Alignment:
    """Run one alignment method of the engine on two feature arrays.

    Raises
    ------
    RuntimeError
        If the method has not landed in the engine yet (a clear message for the user).
    """
    ok, why = method_available(method)
    if not ok:
        raise RuntimeError(why)
    module, name = METHODS[method]
    fn = getattr(importlib.import_module(module), name)
    t0 = time.perf_counter()
    result = _call_accepting(fn, np.asarray(x), np.asarray(y), **dict(params),
                             rate_a_hz=rate_a_hz, rate_b_hz=rate_b_hz,
                             progress=progress, cancel=cancel)
    if not isinstance(result, Alignment):
        raise RuntimeError(f"{method}: returned {type(result).__name__}, not an Alignment")
    if result.rate_a_hz != rate_a_hz or result.rate_b_hz != rate_b_hz:
        # an engine function that ignored the rates: put the feature rates back
        result = result.replace(rate_a_hz=rate_a_hz, rate_b_hz=rate_b_hz)
    diag = dict(result.diagnostics)
    diag.setdefault("elapsed_s", time.perf_counter() - t0)
    return result.replace(diagnostics=diag)


def _fallback_rate(dur_a: float, dur_b: float, rate_hz: float) -> float:
    # the first DTW is full-matrix: keep N*M bounded
    cells = dur_a * dur_b * rate_hz * rate_hz
    if cells <= 1.6e7:
        return rate_hz
    return max(0.2, rate_hz * math.sqrt(1.6e7 / cells))


def default_alignment(rec_a, rec_b, *, progress=None, cancel=None):
    """The default alignment and the features it was computed on.

    Uses ``core.pipeline.align_recordings`` when it has landed; otherwise features per
    media kind plus ``core.dtw``.

    Returns
    -------
    alignment : Alignment
    features_a, features_b : Features
        Features at the alignment's frame rates, used for the cost image.
    metric : str
        The local distance for that image.
    """
    first, second = sorted((rec_a, rec_b), key=id)
    with recording_lock(first), recording_lock(second):
        return _default_alignment(rec_a, rec_b, progress, cancel)


def _default_alignment(rec_a, rec_b, progress, cancel):
    mon = Monitor(progress, cancel)
    pipeline = _core_function("core.pipeline", "align_recordings")
    if pipeline is not None:
        al = _call_accepting(pipeline, rec_a, rec_b, progress=mon.sub(0.0, 0.8).report,
                             cancel=cancel)
        (name_a, opt_a), (name_b, opt_b), metric = _feature_names_of(al, rec_a.kind,
                                                                      rec_b.kind)
        fa = compute_features(rec_a, name_a, rate_hz=al.rate_a_hz,
                              progress=mon.sub(0.8, 0.9).report, cancel=cancel, **opt_a)
        fb = compute_features(rec_b, name_b, rate_hz=al.rate_b_hz,
                              progress=mon.sub(0.9, 1.0).report, cancel=cancel, **opt_b)
        return al, fa, fb, metric
    rate = _fallback_rate(rec_a.duration_s, rec_b.duration_s, 50.0)
    if rec_a.kind == rec_b.kind:
        name_a = name_b = default_feature(rec_a.kind)
    else:
        name_a = "motion" if rec_a.kind == "video" else "onset"
        name_b = "motion" if rec_b.kind == "video" else "onset"
    fa = compute_features(rec_a, name_a, rate_hz=rate, progress=mon.sub(0.0, 0.35).report,
                          cancel=cancel)
    fb = compute_features(rec_b, name_b, rate_hz=rate, progress=mon.sub(0.35, 0.7).report,
                          cancel=cancel)
    x, y = _as_2d(fa.values), _as_2d(fb.values)
    if x.shape[1] != y.shape[1]:
        x, y = _summary(x), _summary(y)
    mon.sub(0.7, 1.0).check()
    from core import dtw

    al = _call_accepting(dtw, x, y, metric="euclidean", rate_a_hz=fa.rate_hz,
                         rate_b_hz=fb.rate_hz, progress=mon.sub(0.7, 1.0).report,
                         cancel=cancel)
    al = al.replace(params={**dict(al.params), "feature_a": name_a, "feature_b": name_b,
                            "rate_hz": rate},
                    sources={"a": {"path": rec_a.path, "kind": rec_a.kind},
                             "b": {"path": rec_b.path, "kind": rec_b.kind}})
    return al, fa, fb, "euclidean"


#: above this total duration the default alignment runs in a child process: its numpy
#: and numba work then never holds the window's GIL (see benchmarks/gui/results.md)
PROCESS_MIN_TOTAL_S = 600.0


def default_alignment_job(rec_a, rec_b, *, progress=None, cancel=None):
    """:func:`default_alignment` of two open recordings, in a child process for long
    inputs.

    Short inputs run here (no process start-up cost). Long ones run in a spawned
    process that reports progress through a pipe; cancelling terminates it.

    Returns
    -------
    alignment, features_a, features_b, metric
        As :func:`default_alignment` (features as :class:`DisplayFeatures` when they
        came from the child).
    """
    if float(rec_a.duration_s) + float(rec_b.duration_s) < PROCESS_MIN_TOTAL_S:
        return default_alignment(rec_a, rec_b, progress=progress, cancel=cancel)
    return _from_wire(_in_child("align", (str(rec_a.path), str(rec_b.path)), progress,
                                cancel))


def prepare_path(al: Alignment) -> Alignment:
    """Compute, off the GUI thread, what the window derives from an alignment's path,
    into the alignment's own caches, and return it.

    An hour-long path has ~400k steps: its cursor-mapping knots
    (:meth:`Alignment.mapping_knots`) and its path in seconds (``times_s``) take tens of
    milliseconds, which the worker that produced the alignment pays instead of the
    event loop. (An Alignment is immutable, so these stay valid for that object; an edit
    or a swap makes a new one, whose caches fill on first use.)
    """
    al.mapping_knots(0)
    al.mapping_knots(1)
    _ = al.times_s  # a cached property
    return al


def default_alignment_prepared_job(rec_a, rec_b, *, progress=None, cancel=None):
    """:func:`default_alignment_job` with its alignment through :func:`prepare_path`.

    Returns
    -------
    alignment, features_a, features_b, metric
    """
    al, fa, fb, metric = default_alignment_job(rec_a, rec_b, progress=progress,
                                               cancel=cancel)
    return prepare_path(al), fa, fb, metric


#: above this duration a stream view's feature image is computed in a child process
#: (the feature STFT holds the GIL for tens of ms at a time)
DISPLAY_PROCESS_MIN_S = 300.0


def display_features_job(rec, name: str, *, rate_hz: float, progress=None, cancel=None):
    """The feature image of a stream view: :func:`compute_features` here for short
    recordings, in a spawned child process for long ones (so the window's GIL is free).

    Returns
    -------
    Features or DisplayFeatures
    """
    if float(rec.duration_s) < DISPLAY_PROCESS_MIN_S:
        return compute_features(rec, name, rate_hz=rate_hz, progress=progress,
                                cancel=cancel)
    values, rate, fname = _in_child("features", (str(rec.path), name, float(rate_hz)),
                                    progress, cancel)
    values = np.asarray(values)
    values.setflags(write=False)
    return DisplayFeatures(values, rate, fname, {"rate_hz": rate_hz})


def _in_child(task: str, args: tuple, progress, cancel):
    """Run ``task`` (``"align"`` or ``"features"``) in a spawned process; returns what
    it sent back (the wire format of that task)."""
    import multiprocessing as mp

    from core.errors import Cancelled

    ctx = mp.get_context("spawn")  # never fork a process that runs Qt threads
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(child, task, args), daemon=True)
    proc.start()
    child.close()
    try:
        while True:
            if cancel is not None and cancel():
                raise Cancelled("cancelled")
            if not parent.poll(0.05):
                if not proc.is_alive() and not parent.poll(0):
                    raise RuntimeError(f"the {task} process ended unexpectedly "
                                       f"(exit code {proc.exitcode})")
                continue
            kind, payload = parent.recv()
            if kind == "progress":
                if progress is not None:
                    progress(payload)
            elif kind == "error":
                cls, message = payload  # the message names the file and the problem
                raise (ValueError(message) if cls in ("MediaError", "ValueError")
                       else RuntimeError(message))
            else:
                return payload
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(5)
        parent.close()


def _to_wire(result):
    al, fa, fb, metric = result
    fields = {f: getattr(al, f) for f in ("path", "rate_a_hz", "rate_b_hz", "n_a", "n_b",
                                          "method", "distance", "normalized_distance",
                                          "plan", "confidence")}
    for f in ("params", "diagnostics", "sources"):
        fields[f] = _plain(getattr(al, f))
    feats = [(np.asarray(f.values), float(f.rate_hz), str(f.name)) for f in (fa, fb)]
    return fields, feats, metric


def _from_wire(payload):
    fields, feats, metric = payload
    al = Alignment(**fields)
    out = []
    for values, rate, name in feats:
        values = np.asarray(values)
        values.setflags(write=False)
        out.append(DisplayFeatures(values, rate, name))
    return al, out[0], out[1], metric


def _plain(value):
    """Mappings as dicts, recursively (read-only proxies do not pickle)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _child_main(conn, task: str, args: tuple) -> None:  # runs in the child process
    try:
        last = [0.0]

        def progress(fraction):
            now = time.monotonic()
            if now - last[0] > 0.1:
                last[0] = now
                conn.send(("progress", float(fraction)))

        if task == "align":
            path_a, path_b = args
            result = default_alignment(open_recording(path_a), open_recording(path_b),
                                       progress=progress)
            conn.send(("result", _to_wire(result)))
        else:
            path, name, rate_hz = args
            feats = compute_features(open_recording(path), name, rate_hz=rate_hz,
                                     progress=progress)
            conn.send(("result", (np.asarray(feats.values), float(feats.rate_hz),
                                  str(feats.name))))
    except Exception as exc:  # noqa: BLE001 - every error goes back to the window
        kind = ("MediaError" if isinstance(exc, MediaError)
                else "ValueError" if isinstance(exc, ValueError) else "RuntimeError")
        conn.send(("error", (kind, str(exc) or type(exc).__name__)))
    finally:
        conn.close()


def _feature_names_of(al: Alignment, kind_a: str, kind_b: str):
    """Which feature (and metric, normalization) an alignment was computed on, as far as
    its params and diagnostics tell; the first one when it used several.

    Returns
    -------
    (name_a, options_a), (name_b, options_b), metric
    """
    metric = str(al.params.get("metric", "euclidean"))
    found: list = [None, None]
    opts: list = [{}, {}]
    feats = al.diagnostics.get("features")
    if isinstance(feats, (list, tuple)) and feats and isinstance(feats[0], Mapping):
        # onset-like features make a striped, unreadable image: show a tonal or
        # appearance feature when the alignment used one
        sparse = ("onset", "dlnco", "motion")
        ranked = sorted(feats, key=lambda f: (str(f.get("name", "")) in sparse,
                                              -float(f.get("weight", 1.0) or 0.0)))
        first = ranked[0]
        metric = str(first.get("metric", metric))
        for k, slot in enumerate("ab"):
            found[k] = first.get(f"name_{slot}", first.get("name"))
            p = first.get(f"params_{slot}")
            if isinstance(p, Mapping) and p.get("normalize"):
                opts[k] = {"normalize": p["normalize"]}
    for k, slot in enumerate("ab"):
        if found[k]:
            continue
        for src in (al.params, al.diagnostics):
            v = src.get(f"feature_{slot}", src.get("feature"))
            if isinstance(v, str) and v != "auto":
                found[k] = v.split("+")[0]
                break
    out = []
    for k, kind in enumerate((kind_a, kind_b)):
        valid = VIDEO_FEATURES if kind == "video" else AUDIO_FEATURES
        name = found[k] if found[k] in valid else default_feature(kind)
        out.append((name, opts[k] if name == found[k] else {}))
    if metric not in ("euclidean", "sqeuclidean", "cosine", "cityblock"):
        metric = "euclidean"
    return out[0], out[1], metric


# ---------------------------------------------------------------------------- estimate
def estimate(method: str, n_a: int, n_b: int, dim: int, params: Mapping[str, Any]
             ) -> tuple[float, float]:
    """Rough time (s) and memory (bytes) of running ``method`` on n_a x n_b frames.

    ``params`` are the engine's keywords. Uses ``core.warping.estimate`` for DTW when it
    exists; otherwise a cell-count model (loose: good to a factor of a few).
    """
    if method == "dtw":
        fn = _core_function("core.warping", "estimate")
        if fn is not None:
            try:
                out = _call_accepting(fn, n_a, n_b, dim=dim, **dict(params))
                if isinstance(out, Mapping):
                    return float(out["seconds"]), float(out["bytes"])
                return float(out[0]), float(out[1])
            except Exception:  # noqa: BLE001 - fall back to the rough model
                pass
    cells = float(n_a) * float(n_b)
    window = params.get("window")
    if method == "dtw" and isinstance(window, tuple) and len(window) == 2:
        cells = min(cells, float(n_a) * (2 * float(window[1]) + 1))
    per_cell_s = {"dtw": 3e-9 * (1 + dim / 8), "ctw": 3e-9 * (1 + dim / 8),
                  "ot": 2e-8, "soft_dtw": 1e-8, "attention": 5e-9,
                  "cycle_consistency": 1e-8}
    seconds = cells * per_cell_s.get(method, 2e-8)
    if method == "ctw":
        seconds *= float(params.get("max_iter", 20))
    if method == "ot":
        seconds *= 20.0  # sinkhorn iterations
    if method == "dtw":
        memory = cells * 1.0 + (n_a + n_b) * dim * 8
    else:
        memory = cells * 8.0 * (3 if method in ("ot", "soft_dtw") else 2)
    return seconds, memory


# ---------------------------------------------------------------------------- frames
_readers: dict[str, Any] = {}
_readers_lock = __import__("threading").Lock()


def _reader(path: str):
    """A Recording opened only for random frame access by the views.

    The views' frame requests must not share a decoder with a feature job reading the
    same file sequentially, so they get an instance of their own (one per path,
    used under a lock).
    """
    with _readers_lock:
        rec = _readers.get(path)
        if rec is None:
            rec = open_recording(path)
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


def display_rate_hz(duration_s: float, max_frames: int = 16_384) -> float:
    """Frame rate of the feature image of a stream view: 50 Hz, fewer for long files."""
    return float(min(50.0, max(2.0, max_frames / max(duration_s, 1e-3))))
