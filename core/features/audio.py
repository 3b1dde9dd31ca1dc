"""Audio features from short-time Fourier transforms (numpy/scipy only).

Every function works on a mono float signal and a list of frame centres (in samples), so
frame ``k`` is centred on ``k / rate_hz`` seconds. Spectra are computed in blocks of
frames and reduced at once by a filter matrix (mel bands, pitch bands), so a long input
never holds a full spectrogram in memory.

Features
--------
logmel
    Log power in mel bands (dB, clipped 80 dB below the maximum).
mfcc
    DCT-II (orthonormal) of the log mel energies; coefficient 0 is the log energy.
chroma
    Pitch-band energies (MIDI 21-108, three STFT resolutions so low notes are resolved
    and high notes are sharp in time, centred on the estimated tuning), log-compressed and
    folded into 12 pitch classes (C, C#, ..., B); L2-normalized by default, silent frames
    are the constant unit vector.
cens
    Chroma quantized to energy levels and smoothed over ``smoothing_s`` (after Müller's
    CENS): robust to dynamics and articulation.
onset
    Spectral flux: summed positive change of log-compressed mel energies, computed at four
    times the feature rate and max-pooled, so each click lands on its own frame.
dlnco
    Decaying locally-normalized chroma onsets: per-pitch positive change of strongly
    log-compressed pitch energies (the steepest relative rise is the very start of a note,
    even for slowly building bowed or blown notes), folded into pitch classes, divided by a
    running maximum over a few seconds (quiet passages count as much as loud ones), and
    spread forward in time with an exponential decay so a DTW cost has a slope towards
    each attack. Frames without onsets are zero vectors. ``floor_s`` > 0: each pitch
    class's running median of the rises over that span is taken off first (the steady
    rises of vibrato and beating in a sustained sound, which otherwise fill every frame).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.fft import dct, rfft
from scipy.ndimage import convolve1d, maximum_filter1d

from ._grid import n_feature_frames

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MIDI_MIN, MIDI_MAX = 21, 108
# (lowest MIDI pitch, window length in seconds): low notes need long windows to be
# resolved in frequency, high notes get short windows that are sharp in time. Measured
# on the music pairs of ../shared/data, switching to shorter windows from A2 and A4 on
# (rather than A3 and A5) lowered the error on every pair; the price is some leakage
# into neighbouring semitones around A2-G#3 and A4-G#5, which the strong log
# compression makes visible in a pure tone's chroma and DLNCO.
_PITCH_RESOLUTIONS = ((MIDI_MIN, 0.186), (45, 0.093), (69, 0.046))
_BLOCK = 2048


def check_signal(signal, sample_rate):
    """Validate and mix down a signal: returns float32 (n,)."""
    try:
        sr = float(sample_rate)
    except (TypeError, ValueError):
        raise ValueError(f"sample_rate: expected a positive number, got {sample_rate!r}") from None
    if not (math.isfinite(sr) and sr > 0):
        raise ValueError(f"sample_rate: expected a positive finite number, got {sample_rate}")
    x = np.asarray(signal)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if x.ndim != 1 or x.shape[0] == 0:
        raise ValueError(f"signal: expected a non-empty (n,) or (n, channels) array, "
                         f"got shape {np.shape(signal)}")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"signal: expected numbers, got dtype {x.dtype}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError("signal: contains NaN or infinite values")
    return x


def frame_centers(n_samples, sample_rate, rate_hz):
    """Sample index of the centre of every frame: ``round(k * sr / rate)``, k = 0..T-1,
    with T the number of centres inside the signal."""
    n_frames = n_feature_frames(n_samples, sample_rate, rate_hz)
    return np.round(np.arange(n_frames) * (sample_rate / rate_hz)).astype(np.int64)


def _pow2(n):
    return 1 << max(5, int(round(math.log2(max(n, 32)))))


def stft_reduce(x, centers, n_fft, weights, monitor=None, start=0.0, stop=1.0):
    """Power spectra of Hann-windowed frames centred on ``centers``, reduced by
    ``weights`` (n_fft // 2 + 1, D): returns float64 (T, D).

    Power is divided by the squared window sum, so a unit-amplitude sinusoid has the same
    peak power at every ``n_fft``.
    """
    half = n_fft // 2
    xp = np.zeros(x.shape[0] + 2 * half + 1, dtype=np.float32)
    xp[half:half + x.shape[0]] = x
    window = np.hanning(n_fft + 2)[1:-1].astype(np.float32)
    scale = 1.0 / float(window.sum()) ** 2
    # only the bins some filter uses (a low-pitch band needs a few dozen of thousands)
    used = np.nonzero(np.any(weights != 0, axis=1))[0]
    k0, k1 = (int(used[0]), int(used[-1]) + 1) if used.size else (0, 1)
    w = np.ascontiguousarray(weights[k0:k1] * scale, dtype=np.float32)
    n = centers.shape[0]
    out = np.empty((n, weights.shape[1]), dtype=np.float32)  # long inputs: half the memory
    windows = sliding_window_view(xp, n_fft)  # a view: rows are copied only when taken
    for b0 in range(0, n, _BLOCK):
        b1 = min(n, b0 + _BLOCK)
        frames = windows[centers[b0:b1]]
        frames *= window
        spec = rfft(frames, axis=1)[:, k0:k1]
        power = spec.real ** 2 + spec.imag ** 2
        out[b0:b1] = power @ w
        if monitor is not None:
            monitor.report(start + (stop - start) * b1 / n)
    return out


def mel_filters(sample_rate, n_fft, n_mels, fmin=30.0, fmax=None):
    """Triangular mel filters (HTK mel scale), area-normalized so white noise gives equal
    energy in every band: shape (n_fft // 2 + 1, n_mels), a new array."""
    return _mel_filters(sample_rate, n_fft, n_mels, fmin, fmax).copy()


# the filters of the features, remembered read-only: every side of every pair asks for
# the same few (a loop over the bands: about 0.3 ms each)
@functools.lru_cache(maxsize=16)
def _mel_filters(sample_rate, n_fft, n_mels, fmin, fmax):
    fmax = sample_rate / 2 if fmax is None else min(fmax, sample_rate / 2)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)

    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    edges = 700.0 * (10 ** (np.linspace(mel(fmin), mel(fmax), n_mels + 2) / 2595.0) - 1.0)
    w = np.zeros((freqs.shape[0], n_mels))
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        tri = np.maximum(0.0, np.minimum(up, down))
        if tri.sum() == 0:  # band narrower than a bin: take the nearest bin
            tri[np.argmin(np.abs(freqs - mid))] = 1.0
        w[:, m] = tri / tri.sum()
    w.flags.writeable = False
    return w


def pitch_filters(sample_rate, n_fft, tuning=0.0, midi_min=MIDI_MIN, midi_max=MIDI_MAX):
    """Triangular pitch filters one semitone wide on each side around
    ``440 * 2 ** ((p - 69 + tuning) / 12)``: shape (n_fft // 2 + 1, midi_max - midi_min + 1),
    a new array."""
    return _pitch_filters(sample_rate, n_fft, tuning, midi_min, midi_max).copy()


@functools.lru_cache(maxsize=16)
def _pitch_filters(sample_rate, n_fft, tuning, midi_min, midi_max):
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    w = np.zeros((freqs.shape[0], midi_max - midi_min + 1))
    ok = freqs > 20.0
    p = np.full(freqs.shape, -100.0)
    p[ok] = 69.0 + 12.0 * np.log2(freqs[ok] / 440.0) - tuning
    for k, pitch in enumerate(range(midi_min, midi_max + 1)):
        w[:, k] = np.maximum(0.0, 1.0 - np.abs(p - pitch))
    w.flags.writeable = False
    return w


def estimate_tuning(x, sample_rate, *, rate_hz=10.0):
    """Deviation of the tuning from A440 in semitones, in [-0.5, 0.5).

    Spectral peaks (parabolic interpolation on the log magnitude) between 80 Hz and
    5 kHz, weighted by magnitude; circular mean of their offsets from the equal-tempered
    grid. Returns 0 when no peak is found.
    """
    n_fft = _pow2(0.186 * sample_rate)
    centers = frame_centers(x.shape[0], sample_rate, rate_hz)
    if centers.shape[0] > 600:  # enough peaks: sample the frames evenly
        centers = centers[np.linspace(0, centers.shape[0] - 1, 600).astype(np.int64)]
    half = n_fft // 2
    xp = np.zeros(x.shape[0] + 2 * half + 1, dtype=np.float32)
    xp[half:half + x.shape[0]] = x
    window = np.hanning(n_fft + 2)[1:-1].astype(np.float32)
    mag = np.abs(rfft(sliding_window_view(xp, n_fft)[centers] * window, axis=1))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    band = np.nonzero((freqs > 80.0) & (freqs < 5000.0))[0]
    lo, hi = band[0], band[-1]
    m = mag[:, lo - 1:hi + 2].astype(np.float64)
    centre = m[:, 1:-1]
    is_peak = (centre > m[:, :-2]) & (centre >= m[:, 2:])
    is_peak &= centre > 0.05 * centre.max(axis=1, keepdims=True)
    if not np.any(is_peak):
        return 0.0
    rows, cols = np.nonzero(is_peak)
    la = np.log(m[rows, cols] + 1e-12)
    lb = np.log(m[rows, cols + 1] + 1e-12)
    lc = np.log(m[rows, cols + 2] + 1e-12)
    denom = la - 2 * lb + lc
    delta = np.where(np.abs(denom) > 1e-12, 0.5 * (la - lc) / np.where(denom == 0, 1, denom), 0)
    f = (lo + cols + np.clip(delta, -0.5, 0.5)) * sample_rate / n_fft
    pitch = 12.0 * np.log2(f / 440.0)
    weight = m[rows, cols + 1]
    angle = 2 * np.pi * pitch
    mean = np.arctan2((weight * np.sin(angle)).sum(), (weight * np.cos(angle)).sum())
    tuning = float(mean / (2 * np.pi))
    return -0.5 if tuning >= 0.5 else tuning


_ENERGY_CACHE = {}


# the energies of one signal are held while they take at most this much (an hour at
# 200 frames/s takes 250 MB): the pipeline's music plan derives three features (DLNCO,
# chroma, a sharp DLNCO) from them, and each STFT pass costs seconds per minute of audio
_CACHE_MAX_BYTES = 512 * 2 ** 20


# keys of read-only signals, by identity (a recording's samples, hashed once instead of
# once per feature): id -> (weak reference, key)
_KEY_MEMO = {}


def _frozen(x):
    """Whether nothing can write into ``x``'s memory: it and every array it views are
    read-only."""
    while isinstance(x, np.ndarray):
        if x.flags.writeable:
            return False
        x = x.base
    return x is None or isinstance(x, bytes)


def _signal_key(x):
    import hashlib
    import weakref

    frozen = isinstance(x, np.ndarray) and _frozen(x)
    if frozen:
        known = _KEY_MEMO.get(id(x))
        if known is not None and known[0]() is x:
            return known[1]
    key = hashlib.blake2b(np.ascontiguousarray(x).view(np.uint8), digest_size=16).hexdigest()
    if frozen:
        for k in [k for k, (ref, _) in list(_KEY_MEMO.items()) if ref() is None]:
            _KEY_MEMO.pop(k, None)
        _KEY_MEMO[id(x)] = (weakref.ref(x), key)
    return key


def pitch_energy(x, sample_rate, centers, tuning, monitor=None, start=0.0, stop=1.0,
                 resolutions=None):
    """Energy in every semitone band MIDI 21-108, shape (T, 88), from three STFT
    resolutions (long windows for low pitches, short for high ones).

    The last two results are remembered (keyed by the signal's content, sample rate,
    tuning and frame centres): chroma at rate r reuses the energies DLNCO computed at
    an integer multiple of r when their frame centres coincide.
    """
    resolutions = _check_resolutions(resolutions)
    key = (_signal_key(x), float(sample_rate), round(float(tuning), 9), resolutions)
    cached = _ENERGY_CACHE.get(key)
    if cached is not None:
        fine_centers, energy = cached
        for step in range(1, 9):
            sub = fine_centers[::step]
            if sub.shape[0] >= centers.shape[0] and np.array_equal(sub[:centers.shape[0]],
                                                                  centers):
                return energy[::step][:centers.shape[0]].copy()
    energy = _pitch_energy(x, sample_rate, centers, tuning, monitor, start, stop, resolutions)
    if energy.nbytes > _CACHE_MAX_BYTES:
        return energy
    _ENERGY_CACHE[key] = (centers.copy(), energy)
    while len(_ENERGY_CACHE) > 2:
        _ENERGY_CACHE.pop(next(iter(_ENERGY_CACHE)))
    return energy.copy()


def _check_resolutions(resolutions):
    if resolutions is None:
        return _PITCH_RESOLUTIONS
    try:
        out = tuple((int(p), float(w)) for p, w in resolutions)
    except (TypeError, ValueError):
        raise ValueError("resolutions: expected ((lowest MIDI pitch, window s), ...), got "
                         f"{resolutions!r}") from None
    pitches = [p for p, _ in out]
    if not out or pitches[0] != MIDI_MIN or pitches != sorted(set(pitches)) or \
            pitches[-1] > MIDI_MAX or any(w <= 0 for _, w in out):
        raise ValueError(f"resolutions: expected increasing pitches from {MIDI_MIN} and "
                         f"positive windows, got {resolutions!r}")
    return out


def _pitch_energy(x, sample_rate, centers, tuning, monitor, start, stop, resolutions):
    out = np.zeros((centers.shape[0], MIDI_MAX - MIDI_MIN + 1), dtype=np.float32)
    bounds = [r[0] for r in resolutions] + [MIDI_MAX + 1]
    n_res = len(resolutions)
    for r, (p0, win_s) in enumerate(resolutions):
        p1 = bounds[r + 1] - 1
        n_fft = _pow2(win_s * sample_rate)
        w = _pitch_filters(sample_rate, n_fft, tuning, p0, p1)
        span = (stop - start) / n_res
        out[:, p0 - MIDI_MIN:p1 - MIDI_MIN + 1] = stft_reduce(
            x, centers, n_fft, w, monitor, start + r * span, start + (r + 1) * span)
    return out


def _reference(energy):
    """A robust loudness reference: the 99th percentile of per-frame total energy."""
    total = energy.sum(axis=1)
    ref = float(np.percentile(total, 99)) if total.size else 0.0
    return ref if ref > 0 else 1.0


def _fold(pitch_values):
    chroma = np.zeros((pitch_values.shape[0], 12))
    for k in range(pitch_values.shape[1]):
        chroma[:, (MIDI_MIN + k) % 12] += pitch_values[:, k]
    return chroma


def _fine(x, sample_rate, rate_hz, factor):
    """Frame centres at ``factor`` times the rate (``None``: about 200 Hz; hop at least
    one sample)."""
    if factor is None:
        factor = max(1, int(round(200.0 / rate_hz)))
    factor = max(1, min(int(factor), int(sample_rate / rate_hz)))
    return factor, frame_centers(x.shape[0], sample_rate, rate_hz * factor)


def _pool(fine, factor, n_out):
    """Max over the ``factor`` fine frames around every output frame (output frame k
    covers fine frames ``k * factor - factor // 2`` to ``k * factor + (factor - 1) // 2``)."""
    if factor == 1:
        return fine[:n_out]
    front = factor // 2
    total = n_out * factor
    padded = np.zeros((total,) + fine.shape[1:])
    usable = min(fine.shape[0], total - front)
    padded[front:front + usable] = fine[:usable]
    return padded.reshape((n_out, factor) + fine.shape[1:]).max(axis=1)


def _positive_change(values, lag_frames, memory_frames=0, band_max=1):
    """Rise of ``values`` (T, D) at every frame: the positive part of
    ``values[t + lag] - ref[t]`` where ``ref[t]`` is the maximum of ``values`` over
    ``[t - lag - memory, t - lag]`` and over ``band_max`` neighbouring dimensions.

    With ``memory = 0`` and ``band_max = 1`` this is a centred difference (a step at t
    peaks at t whatever the smoothing of the analysis window). A memory of ~0.1 s and a
    maximum over neighbouring bands suppress the wobble of vibrato and tremolo: energy
    that returns to a level it had a moment ago is not a new onset (after SuperFlux).
    """
    n = values.shape[0]
    past = values
    if band_max > 1:
        past = maximum_filter1d(past, size=band_max, axis=1, mode="nearest")
    half = memory_frames // 2
    if half > 0:  # centred max over 2 * half + 1 frames, read half frames later
        past = maximum_filter1d(past, size=2 * half + 1, axis=0, mode="nearest")
    t = np.arange(n)
    ref = past[np.clip(t - lag_frames - half, 0, n - 1)]
    future = values[np.minimum(t + lag_frames, n - 1)]
    return np.maximum(future - ref, 0.0)


def compute(x, sample_rate, name, rate_hz, monitor, **options):
    """Dispatch: returns (values (T, D), params, labels)."""
    func = {"logmel": logmel, "mfcc": mfcc, "chroma": chroma, "cens": cens,
            "onset": onset, "dlnco": dlnco}[name]
    return func(x, sample_rate, rate_hz, monitor, **options)


def _unknown(options):
    if options:
        raise ValueError(f"options: unknown option(s) {sorted(options)}")


def logmel(x, sample_rate, rate_hz, monitor, *, n_mels=64, window_s=0.046, fmin=30.0,
           fmax=None, top_db=80.0, **options):
    _unknown(options)
    if int(n_mels) < 1:
        raise ValueError(f"n_mels: expected a positive count, got {n_mels}")
    n_fft = _pow2(window_s * sample_rate)
    centers = frame_centers(x.shape[0], sample_rate, rate_hz)
    mel = stft_reduce(x, centers, n_fft, _mel_filters(sample_rate, n_fft, int(n_mels), fmin, fmax),
                      monitor, 0.0, 0.9)
    db = 10.0 * np.log10(np.maximum(mel, 1e-20))
    db = np.maximum(db, db.max() - top_db)
    params = dict(n_mels=int(n_mels), n_fft=n_fft, fmin=fmin, fmax=fmax, top_db=top_db)
    return db, params, None


def mfcc(x, sample_rate, rate_hz, monitor, *, n_mfcc=20, n_mels=40, window_s=0.025,
         fmin=30.0, fmax=8000.0, top_db=80.0, **options):
    _unknown(options)
    if not 1 <= int(n_mfcc) <= int(n_mels):
        raise ValueError(f"n_mfcc: expected 1..n_mels ({n_mels}), got {n_mfcc}")
    db, params, _ = logmel(x, sample_rate, rate_hz, monitor, n_mels=n_mels, window_s=window_s,
                           fmin=fmin, fmax=fmax, top_db=top_db)
    coeffs = dct(db, type=2, norm="ortho", axis=1)[:, :int(n_mfcc)]
    return coeffs, dict(params, n_mfcc=int(n_mfcc)), tuple(f"c{k}" for k in range(int(n_mfcc)))


def _check_midi_range(midi_range):
    try:
        lo, hi = (int(v) for v in midi_range)
    except (TypeError, ValueError):
        raise ValueError(f"midi_range: expected (low, high) MIDI pitches, got {midi_range!r}") \
            from None
    if not MIDI_MIN <= lo <= hi <= MIDI_MAX:
        raise ValueError(f"midi_range: expected {MIDI_MIN} <= low <= high <= {MIDI_MAX}, "
                         f"got {midi_range!r}")
    return lo, hi


# tunings estimated for read-only signals (content key, sample rate): the music plan's
# three pitch features estimate the same signal's tuning
_TUNING_MEMO = {}


def _check_tuning(x, sample_rate, tuning):
    if tuning is None:
        if not (isinstance(x, np.ndarray) and _frozen(x)):
            return estimate_tuning(x, sample_rate)
        key = (_signal_key(x), float(sample_rate))
        if key not in _TUNING_MEMO:
            _TUNING_MEMO[key] = estimate_tuning(x, sample_rate)
            while len(_TUNING_MEMO) > 8:
                _TUNING_MEMO.pop(next(iter(_TUNING_MEMO)), None)
        return _TUNING_MEMO[key]
    tuning = float(tuning)
    if not -1.0 <= tuning <= 1.0:
        raise ValueError(f"tuning: expected semitones in [-1, 1], got {tuning}")
    return tuning


def _chroma_energy(x, sample_rate, rate_hz, monitor, tuning, compression, midi_range,
                   resolutions=None):
    lo, hi = _check_midi_range(midi_range)
    tuning = _check_tuning(x, sample_rate, tuning)
    centers = frame_centers(x.shape[0], sample_rate, rate_hz)
    energy = pitch_energy(x, sample_rate, centers, tuning, monitor, 0.0, 0.9, resolutions)
    return chroma_of_energy(energy, compression, (lo, hi)), tuning


def chroma_of_energy(energy, compression, midi_range, *, removed=None):
    """Chroma (T, 12) of pitch energies (T, 88) as :func:`chroma` computes it: the
    energies in ``midi_range`` compressed (``log1p(compression * e / reference)``, the
    reference the 99th percentile of the frames' energy) and folded into pitch classes;
    silent frames are zero. ``removed`` (T, 88), if given, is taken out of the energies
    before the compression (at most all of them); the reference and the silent frames
    stay those of the whole energy."""
    lo, hi = _check_midi_range(midi_range)
    energy = np.array(energy)  # a copy in its own dtype (float32 from pitch_energy)
    energy[:, :lo - MIDI_MIN] = 0.0
    energy[:, hi - MIDI_MIN + 1:] = 0.0
    ref = _reference(energy)
    kept = energy if removed is None else np.clip(energy - removed, 0.0, None)
    # strong compression: a quiet voice counts nearly as much as a loud one, which is
    # what makes chroma comparable across instruments with different spectra
    compressed = np.log1p(float(compression) * kept / ref)
    silent = energy.sum(axis=1) < 1e-7 * ref
    chroma_values = _fold(compressed)
    chroma_values[silent] = 0.0
    return chroma_values


def chroma(x, sample_rate, rate_hz, monitor, *, tuning=None, compression=1e5,
           midi_range=(36, 96), resolutions=None, **options):
    _unknown(options)
    values, tuning = _chroma_energy(x, sample_rate, rate_hz, monitor, tuning, compression,
                                    midi_range, resolutions)
    params = dict(tuning=tuning, compression=compression, midi_range=tuple(midi_range),
                  resolutions=_check_resolutions(resolutions))
    return values, params, PITCH_CLASSES


def cens(x, sample_rate, rate_hz, monitor, *, tuning=None, smoothing_s=0.5, compression=1e5,
         midi_range=(36, 96), **options):
    _unknown(options)
    values, tuning = _chroma_energy(x, sample_rate, rate_hz, monitor, tuning, compression,
                                    midi_range)
    total = values.sum(axis=1, keepdims=True)
    share = np.where(total > 0, values / np.maximum(total, 1e-12), 0.0)
    quantized = np.zeros_like(share)
    for level in (0.05, 0.1, 0.2, 0.4):
        quantized += share > level
    n = max(1, int(round(smoothing_s * rate_hz)))
    if n > 1:
        kernel = np.hanning(n + 2)[1:-1]
        kernel /= kernel.sum()
        quantized = convolve1d(quantized, kernel, axis=0, mode="constant")
    params = dict(tuning=tuning, smoothing_s=smoothing_s, compression=compression,
                  midi_range=tuple(midi_range))
    return quantized, params, PITCH_CLASSES


def onset(x, sample_rate, rate_hz, monitor, *, n_mels=40, window_s=0.023,
          compression=1000.0, oversample=None, memory_s=0.0, band_max=1, fmax=None,
          **options):
    _unknown(options)
    n_fft = _pow2(window_s * sample_rate)
    factor, centers = _fine(x, sample_rate, rate_hz, oversample)
    mel = stft_reduce(x, centers, n_fft,
                      _mel_filters(sample_rate, n_fft, int(n_mels), 30.0, fmax),
                      monitor, 0.0, 0.9)
    ref = _reference(mel)
    log_mel = np.log1p(float(compression) * mel / ref)
    lag = max(1, int(round(0.25 * n_fft / sample_rate * rate_hz * factor)))
    memory = int(round(memory_s * rate_hz * factor))
    flux = _positive_change(log_mel, lag, memory, int(band_max)).sum(axis=1)
    n_out = frame_centers(x.shape[0], sample_rate, rate_hz).shape[0]
    values = _pool(flux[:, None], factor, n_out)
    params = dict(n_mels=int(n_mels), n_fft=n_fft, compression=compression,
                  oversample=factor, memory_s=memory_s, band_max=int(band_max))
    return values, params, ("flux",)


def dlnco(x, sample_rate, rate_hz, monitor, *, tuning=None, compression=1e5,
          oversample=None, local_s=2.0, decay_s=0.1, spread_s=0.3, memory_s=0.1, band_max=3,
          resolutions=None, midi_range=None, rise_s=0.02, floor_s=0.0, **options):
    _unknown(options)
    if not (math.isfinite(float(floor_s)) and float(floor_s) >= 0):
        raise ValueError(f"floor_s: expected a finite number >= 0, got {floor_s!r}")
    tuning = _check_tuning(x, sample_rate, tuning)
    factor, centers = _fine(x, sample_rate, rate_hz, oversample)
    energy = pitch_energy(x, sample_rate, centers, float(tuning), monitor, 0.0, 0.9,
                          resolutions)
    if midi_range is not None:  # a band limit (core.pipeline.band): other pitches silent
        lo, hi = _check_midi_range(midi_range)
        energy[:, :lo - MIDI_MIN] = 0.0
        energy[:, hi - MIDI_MIN + 1:] = 0.0
    ref = _reference(energy)
    compressed = np.log1p(np.float32(compression / ref) * energy)
    del energy
    fine_rate = rate_hz * factor
    lag = max(1, int(round(float(rise_s) * fine_rate)))
    memory = int(round(memory_s * fine_rate))
    rises = _fold(_positive_change(compressed, lag, memory, int(band_max)))
    n_out = frame_centers(x.shape[0], sample_rate, rate_hz).shape[0]
    values = _pool(rises, factor, n_out)
    if floor_s > 0:
        values = _above_floor(values, max(1, int(round(float(floor_s) * rate_hz))))
    # local normalization: divide by the running maximum of the frame norm
    norm = np.linalg.norm(values, axis=1)
    n_local = max(1, int(round(local_s * rate_hz)))
    running = maximum_filter1d(norm, size=n_local, mode="nearest")
    floor = 0.05 * max(float(norm.max()), 1e-12)
    values = values / np.maximum(running, floor)[:, None]
    # keep frames that reach half their neighbours' strength: the flanks of a rise
    # spread over several frames would blur the attack
    norm = np.linalg.norm(values, axis=1)
    values[norm < 0.5 * maximum_filter1d(norm, size=3, mode="nearest")] = 0.0
    # spread forward in time with an exponential decay
    n_spread = max(1, int(round(spread_s * rate_hz)))
    weights = np.exp(-np.arange(n_spread) / max(decay_s * rate_hz, 1e-9))
    spread = values.copy()
    for k in range(1, n_spread):
        spread[k:] = np.maximum(spread[k:], weights[k] * values[:-k])
    params = dict(tuning=float(tuning), compression=compression, oversample=factor,
                  local_s=local_s, decay_s=decay_s, spread_s=spread_s, memory_s=memory_s,
                  band_max=int(band_max), resolutions=_check_resolutions(resolutions))
    if midi_range is not None:
        params["midi_range"] = tuple(int(v) for v in midi_range)
    if rise_s != 0.02:  # the rise over which a change counts (a slower side's, stretched)
        params["rise_s"] = float(rise_s)
    if floor_s > 0:
        params["floor_s"] = float(floor_s)
    return spread, params, PITCH_CLASSES


def _above_floor(rises, n_frames):
    """``rises`` (T, D) less each dimension's running median over ``n_frames``, at
    least 0: what stands out of the rises a sound keeps making (the vibrato, tremolo
    and beating of a sustained voice or string section rise in every frame under the
    strong compression; a struck or plucked note's rises are zero between its onsets,
    so its median is 0 and nothing changes)."""
    from scipy.ndimage import median_filter

    floor = median_filter(rises, size=(int(n_frames), 1), mode="nearest")
    return np.maximum(rises - floor, 0.0)
