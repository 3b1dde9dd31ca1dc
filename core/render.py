"""B warped onto A's timeline, A and warped B in two ears, A and B side by side in A's time.

The warp is a time-varying time-stretch along the alignment's path: the path's points
are anchors (a sample of B that must sound at a sample of A) of libtsm's harmonic-
percussive TSM (phase vocoder for the harmonic part, overlap-add for the percussive
one), so B's pitch is kept while its tempo follows A. libtsm measured 0.09 ms median /
0.50 ms 95th percentile click timing error here with the path's points as anchors (see
../shared/ANCHORS.md); its median filter is replaced by a numba kernel of the same
values (:mod:`core._kernels.median`) and its phase vocoder's frame loop by another
(:mod:`core._kernels.phase_vocoder`), which makes it about 2x faster (same output
to 1e-10; benchmarks/playback/results.md).

Rendering goes in chunks pinned to path points, so a long file never renders whole:
:class:`WarpPlan` cuts the output (A's timeline) at anchors about ``chunk_s`` apart;
each chunk is stretched with some context on both sides and the chunks overlap-add
with short linear crossfades. The window's playback renders the chunks ahead of its
clock on a worker; :func:`render` renders them all, in worker processes.

>>> plan = WarpPlan.from_alignment(alignment, n_in=..., n_out=..., rate_hz=44100)  # doctest: +SKIP
>>> out = plan.render_range(samples_b, 0, plan.n_out)                             # doctest: +SKIP

The command line's ``render A B -o OUT [--alignment FILE] [--mode warped|stereo|
side-by-side]`` is registered here (:func:`register`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from .alignment import Alignment
from .errors import Cancelled, MediaError

__all__ = ["WarpPlan", "warp_anchors", "hps_stretch", "render", "render_audio",
           "render_side_by_side", "MODES", "register", "warm_up"]

MODES = ("warped", "stereo", "side-by-side")
#: output seconds per chunk (the playback uses shorter ones: it renders the first one
#: before sound starts); each chunk stretches 2 x CONTEXT_S more than it keeps
CHUNK_S = 4.0
#: context stretched on each side of a chunk and thrown away (TSM windows are 46 ms)
CONTEXT_S = 0.12
#: linear crossfade between consecutive chunks (samples at 44.1-48 kHz: ~11 ms)
CROSSFADE = 512
#: anchors closer than this (output samples) are thinned out: libtsm needs strictly
#: increasing anchors and its synthesis hop is 128 samples
MIN_ANCHOR_STEP = 64


# ---------------------------------------------------------------------------- anchors
def warp_anchors(alignment: Alignment, *, rate_hz: float, n_in: int, n_out: int,
                 min_step: int = MIN_ANCHOR_STEP) -> np.ndarray:
    """Anchor points ``(sample of B, sample of A)`` at ``rate_hz`` from the alignment's path.

    The path's mapping knots (A's time to B's time, where B holds still the middle of its
    run, as :meth:`Alignment.map_a_to_b`) are turned into samples and thinned so that
    both columns increase strictly by at least ``min_step`` output samples (libtsm's
    condition); points outside ``[0, n_in) x [0, n_out)`` are dropped.

    Returns
    -------
    ndarray of int64, shape (S, 2)
        Rows ``(input sample, output sample)``; S may be 0 or 1 when the path leaves
        nothing to stretch (then nothing of B sounds).
    """
    ta, tb = alignment.mapping_knots(0)
    out = np.round(np.asarray(ta) * rate_hz).astype(np.int64)
    inp = np.round(np.asarray(tb) * rate_hz).astype(np.int64)
    keep = (out >= 0) & (out < n_out) & (inp >= 0) & (inp < n_in)
    out, inp = out[keep], inp[keep]
    rows = []
    last_in, last_out = -1, -(1 << 62)
    for i, o in zip(inp.tolist(), out.tolist(), strict=True):
        if i > last_in and o >= last_out + min_step:
            rows.append((i, o))
            last_in, last_out = i, o
    if len(out) and rows and (int(out[-1]) != rows[-1][1]):
        # keep the path's last point (replacing the previous kept one if too close)
        i, o = int(inp[-1]), int(out[-1])
        if i > rows[-1][0] and o > rows[-1][1]:
            if len(rows) > 1 and o - rows[-1][1] < min_step and i > rows[-2][0]:
                rows[-1] = (i, o)
            else:
                rows.append((i, o))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


# ---------------------------------------------------------------------------- TSM
def hps_stretch(x: np.ndarray, anchors: np.ndarray, rate_hz: float) -> np.ndarray:
    """libtsm's ``hps_tsm`` (same parameters and results) with a fast median filter.

    Parameters
    ----------
    x : ndarray, shape (N,) or (N, C)
        The input signal.
    anchors : ndarray of int, shape (S, 2)
        ``(input sample, output sample)``, both strictly increasing, the first output
        sample 0; the output has ``anchors[-1, 1] + 1`` samples.
    rate_hz : float

    Returns
    -------
    ndarray of float64, shape (anchors[-1, 1] + 1, C)
    """
    import libtsm
    from libtsm import utils

    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    fs = int(round(rate_hz))
    harm = np.zeros_like(x)
    perc = np.zeros_like(x)
    for c in range(x.shape[1]):
        spec, _, _ = utils.stft(x[:, c], ana_hop=256, win_length=1024, win_beta=2, Fs=fs,
                                num_of_frames=-1, fft_shift=False, zero_pad=0)
        mag = np.ascontiguousarray(np.abs(spec))
        mag_perc = np.empty_like(mag)
        mag_harm = np.empty_like(mag)
        _median_kernels()[0](mag, 10, mag_perc)
        _median_kernels()[1](mag, 10, mag_harm)
        mask = mag_harm > mag_perc
        for part, m in ((harm, mask), (perc, ~mask)):
            y = utils.istft(m * spec, syn_hop=256, win_length=1024, win_beta=2, Fs=fs,
                            zero_pad=0, num_of_iter=1, orig_sig_len=x.shape[0],
                            restore_energy=False, fft_shift=False)
            part[:, c] = y[:, 0]
    y_harm = _pv_tsm(harm, anchors, fs)
    y_perc = libtsm.wsola_tsm(perc, alpha=anchors, syn_hop=128, win_length=256, win_beta=2,
                              tol=0)
    return y_harm + y_perc


def _pv_tsm(x: np.ndarray, anchors: np.ndarray, fs: int, syn_hop: int = 512,
            win_length: int = 2048) -> np.ndarray:
    """libtsm's ``pv_tsm`` (phase locking on, no zero padding, no energy restoring) with
    its frame loop in :func:`core._kernels.phase_vocoder.pv_locked`."""
    import scipy.interpolate
    from libtsm import utils

    from ._kernels.phase_vocoder import pv_locked

    anchors = np.asarray(anchors).astype(int)
    output_length = int(anchors[-1, 1]) + 1
    half = win_length // 2
    syn_pos = np.arange(0, output_length + half, syn_hop)
    interp = scipy.interpolate.interp1d(anchors[:, 1], anchors[:, 0], kind="linear",
                                        fill_value="extrapolate")
    ana_pos = np.round(interp(syn_pos)).astype(int)
    ana_hop = np.append([0], ana_pos[1:] - ana_pos[:-1])
    if not np.all(ana_hop[1:] > 0):
        raise ValueError("anchors: both columns must increase strictly")
    omega = 2 * np.pi * np.arange(0, win_length // 2 + 1) / win_length
    y = np.zeros((output_length, x.shape[1]))
    for c in range(x.shape[1]):
        spec, _, _ = utils.stft(x[:, c], ana_hop=ana_pos, win_length=win_length, win_beta=2,
                                Fs=fs, num_of_frames=-1, fft_shift=False, zero_pad=0)
        out = np.empty_like(spec)
        pv_locked(np.ascontiguousarray(spec), ana_hop.astype(np.float64), omega,
                  float(syn_hop), out)
        y_c = utils.istft(out, syn_hop=syn_hop, win_length=win_length, win_beta=2,
                          zero_pad=0, num_of_iter=1, orig_sig_len=output_length,
                          restore_energy=False, fft_shift=False)
        y[:, c] = y_c[:, 0]
    return y


def warm_up() -> None:
    """Import libtsm and load (or compile) the median kernels on a tiny input, so the
    first warped chunk does not pay for it (meant for a background thread)."""
    x = np.sin(np.arange(4096) * 0.05)
    hps_stretch(x, np.array([[0, 0], [4000, 4400]]), 8000.0)


def _median_kernels():
    from ._kernels.median import sliding_median_cols, sliding_median_rows

    return sliding_median_rows, sliding_median_cols


# ---------------------------------------------------------------------------- plan
@dataclasses.dataclass(frozen=True)
class WarpPlan:
    """How B (``n_in`` samples) is stretched onto A's timeline (``n_out`` samples), in
    chunks pinned to anchor points.

    Attributes
    ----------
    anchors : ndarray (S, 2)
        ``(input sample, output sample)`` at ``rate_hz``, see :func:`warp_anchors`.
    bounds : ndarray (K + 1,)
        Indices into ``anchors`` where chunks start and end: chunk ``k`` covers output
        samples ``anchors[bounds[k], 1]`` to ``anchors[bounds[k + 1], 1]``.
    """

    anchors: np.ndarray
    bounds: np.ndarray
    n_in: int
    n_out: int
    rate_hz: float
    context: int
    crossfade: int

    @classmethod
    def from_alignment(cls, alignment: Alignment, *, n_in: int, n_out: int, rate_hz: float,
                       chunk_s: float = CHUNK_S, context_s: float = CONTEXT_S,
                       crossfade: int = CROSSFADE) -> WarpPlan:
        """The plan for B of ``n_in`` samples onto A of ``n_out`` samples at ``rate_hz``."""
        anchors = warp_anchors(alignment, rate_hz=rate_hz, n_in=n_in, n_out=n_out)
        return cls.from_anchors(anchors, n_in=n_in, n_out=n_out, rate_hz=rate_hz,
                                chunk_s=chunk_s, context_s=context_s, crossfade=crossfade)

    @classmethod
    def from_anchors(cls, anchors, *, n_in: int, n_out: int, rate_hz: float,
                     chunk_s: float = CHUNK_S, context_s: float = CONTEXT_S,
                     crossfade: int = CROSSFADE) -> WarpPlan:
        anchors = np.asarray(anchors, dtype=np.int64).reshape(-1, 2)
        if len(anchors) >= 2:
            if np.any(np.diff(anchors, axis=0) <= 0):
                raise ValueError("anchors: both columns must increase strictly")
            step = max(int(chunk_s * rate_hz), 1)
            targets = np.arange(anchors[0, 1] + step, anchors[-1, 1], step)
            idx = np.searchsorted(anchors[:, 1], targets)
            bounds = np.unique(np.r_[0, idx, len(anchors) - 1])
        else:
            bounds = np.zeros(0, dtype=np.int64)
        return cls(anchors, bounds.astype(np.int64), int(n_in), int(n_out), float(rate_hz),
                   int(round(context_s * rate_hz)), int(crossfade))

    @property
    def n_chunks(self) -> int:
        return max(len(self.bounds) - 1, 0)

    def chunk_span(self, k: int) -> tuple[int, int]:
        """Output samples ``[start, stop)`` chunk ``k`` writes (crossfades included)."""
        a, b = self.bounds[k], self.bounds[k + 1]
        half = self.crossfade // 2
        start = int(self.anchors[a, 1]) - (half if k > 0 else 0)
        stop = int(self.anchors[b, 1]) + (half if k < self.n_chunks - 1 else 1)
        return start, stop

    def chunks_for(self, start: int, stop: int) -> range:
        """Chunks whose span meets output samples ``[start, stop)``."""
        if not self.n_chunks:
            return range(0)
        starts = self.anchors[self.bounds[:-1], 1]
        first = max(int(np.searchsorted(starts, start, side="right")) - 1, 0)
        last = int(np.searchsorted(starts, stop, side="left"))
        lo = first
        while lo > 0 and self.chunk_span(lo - 1)[1] > start:
            lo -= 1
        hi = min(last + 1, self.n_chunks)
        while hi < self.n_chunks and self.chunk_span(hi)[0] < stop:
            hi += 1
        return range(lo, hi)

    def input_span(self, k: int) -> tuple[int, int]:
        """Input samples ``[start, stop)`` that chunk ``k`` reads (context included)."""
        lo, hi = self._anchor_range(k)
        margin = 2048  # the phase vocoder's window around the first and last anchor
        return (max(int(self.anchors[lo, 0]) - margin, 0),
                min(int(self.anchors[hi, 0]) + margin, self.n_in))

    def _anchor_range(self, k: int) -> tuple[int, int]:
        a, b = int(self.bounds[k]), int(self.bounds[k + 1])
        out = self.anchors[:, 1]
        lo = int(np.searchsorted(out, out[a] - self.context - self.crossfade, side="left"))
        hi = int(np.searchsorted(out, out[b] + self.context + self.crossfade, side="right")) - 1
        return min(lo, a), max(hi, b)

    def render_chunk(self, k: int, samples: np.ndarray) -> tuple[int, np.ndarray]:
        """Stretch chunk ``k``; ``samples`` are B's samples ``input_span(k)``, shape (n,)
        or (n, C). Returns ``(start, y)``: ``y`` (float32, (stop - start, C)) goes at
        output sample ``start``, already faded in and out for the overlap-add."""
        lo, hi = self._anchor_range(k)
        i0, _ = self.input_span(k)
        local = self.anchors[lo:hi + 1] - np.array([i0, self.anchors[lo, 1]])
        x = np.asarray(samples, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        y = hps_stretch(x, local, self.rate_hz)
        start, stop = self.chunk_span(k)
        offset = start - int(self.anchors[lo, 1])
        piece = np.zeros((stop - start, x.shape[1]), dtype=np.float32)
        src = y[max(offset, 0):offset + (stop - start)]
        piece[max(-offset, 0):max(-offset, 0) + len(src)] = src
        n = min(self.crossfade, len(piece))
        if k > 0 and n:
            piece[:n] *= np.linspace(0.0, 1.0, n, endpoint=False, dtype=np.float32)[:, None]
        if k < self.n_chunks - 1 and n:
            piece[-n:] *= np.linspace(1.0, 0.0, n, endpoint=False, dtype=np.float32)[:, None]
        return start, piece

    def render_range(self, samples_b: np.ndarray, start: int, stop: int, *,
                     progress: Callable[[float], None] | None = None,
                     cancel: Callable[[], bool] | None = None) -> np.ndarray:
        """Output samples ``[start, stop)`` from all of B's samples (in one thread)."""
        x = np.asarray(samples_b)
        channels = 1 if x.ndim == 1 else x.shape[1]
        out = np.zeros((stop - start, channels), dtype=np.float32)
        chunks = self.chunks_for(start, stop)
        for n, k in enumerate(chunks):
            if cancel is not None and cancel():
                raise Cancelled("render cancelled")
            i0, i1 = self.input_span(k)
            s, piece = self.render_chunk(k, x[i0:i1])
            _add(out, start, s, piece)
            if progress is not None:
                progress((n + 1) / max(len(chunks), 1))
        return out


def _add(out: np.ndarray, out_start: int, start: int, piece: np.ndarray) -> None:
    a = max(start, out_start)
    b = min(start + len(piece), out_start + len(out))
    if b > a:
        out[a - out_start:b - out_start] += piece[a - start:b - start]


# ---------------------------------------------------------------------------- resampling
def resample(x: np.ndarray, rate_in: float, rate_out: float) -> np.ndarray:
    """``x`` (n,) or (n, C) from ``rate_in`` to ``rate_out`` (polyphase, scipy)."""
    if rate_in == rate_out:
        return np.asarray(x, dtype=np.float32)
    from scipy.signal import resample_poly

    ratio = Fraction(rate_out / rate_in).limit_denominator(1000)
    return resample_poly(np.asarray(x, dtype=np.float64), ratio.numerator, ratio.denominator,
                         axis=0).astype(np.float32)


# ---------------------------------------------------------------------------- files
def _chunk_job(args):
    plan, k, samples = args
    return plan.render_chunk(k, samples)


def render_audio(path_a, path_b, alignment: Alignment, out, *, mode: str = "warped",
                 progress: Callable[[float], None] | None = None,
                 n_workers: int | None = None) -> dict:
    """Write B warped onto A (``mode="warped"``, B's channels at B's rate, A's duration)
    or A left and warped B right (``"stereo"``, at A's rate) to the WAV file ``out``.

    Returns a summary: ``{"duration_s", "rate_hz", "channels", "n_chunks"}``.

    Raises
    ------
    MediaError
        A or B has no sound track that can be decoded here.
    core.errors.OutputError, core.errors.WriteError
        As :func:`core.paths.check_output` / :func:`core.paths.output_path`.
    """
    import soundfile

    from . import paths
    from .media import open_recording

    if mode not in ("warped", "stereo"):
        raise ValueError(f"mode: expected 'warped' or 'stereo', got {mode!r}")
    paths.check_output(out, inputs=[path_a, path_b])
    rec_a, rec_b = open_recording(path_a), open_recording(path_b)
    for rec in (rec_a, rec_b):
        if rec.kind != "audio":
            raise MediaError(rec.path, f"is a video file: mode {mode!r} needs the sound of "
                                       f"both recordings (use --mode side-by-side for two "
                                       f"videos)")
    rate = rec_b.rate_hz if mode == "warped" else rec_a.rate_hz
    n_out = int(round(rec_a.duration_s * rate))
    samples_b = resample(rec_b.audio(mono=mode == "stereo"), rec_b.rate_hz, rate)
    plan = WarpPlan.from_alignment(alignment, n_in=len(samples_b), n_out=n_out, rate_hz=rate)
    channels = 1 if samples_b.ndim == 1 else samples_b.shape[1]
    warped = np.zeros((n_out, channels), dtype=np.float32)
    jobs = [(plan, k, samples_b[slice(*plan.input_span(k))]) for k in range(plan.n_chunks)]
    for n, (start, piece) in enumerate(_map_chunks(jobs, n_workers)):
        _add(warped, 0, start, piece)
        if progress is not None:
            progress(0.95 * (n + 1) / max(len(jobs), 1))
    if mode == "stereo":
        a = resample(rec_a.audio(mono=True), rec_a.rate_hz, rate)[:n_out]
        data = np.zeros((n_out, 2), dtype=np.float32)
        data[:len(a), 0] = a
        data[:, 1] = warped[:, 0]
    else:
        data = warped
    np.clip(data, -1.0, 1.0, out=data)
    with paths.output_path(out, suffix=".wav") as tmp:
        soundfile.write(tmp, data, int(round(rate)), format="WAV", subtype="FLOAT")
    if progress is not None:
        progress(1.0)
    return {"duration_s": n_out / rate, "rate_hz": rate, "channels": data.shape[1],
            "n_chunks": plan.n_chunks}


def _map_chunks(jobs, n_workers):
    """Results of ``_chunk_job`` in order: in worker processes when there are several
    chunks and cores (numpy, scipy and libtsm's Python loops hold the GIL)."""
    if n_workers is None:
        n_workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                        else (os.cpu_count() or 1), 4)
    if n_workers <= 1 or len(jobs) < 3:
        yield from map(_chunk_job, jobs)
        return
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn" if sys.platform != "linux" else "fork")
    with concurrent.futures.ProcessPoolExecutor(n_workers, mp_context=context) as pool:
        yield from pool.map(_chunk_job, jobs, chunksize=1)


def render_side_by_side(path_a, path_b, alignment: Alignment, out, *,
                        progress: Callable[[float], None] | None = None,
                        height: int | None = None) -> dict:
    """Write an MP4 (MPEG-4 part 2) of A's frames beside B's frame at the aligned time,
    at A's frame rate and duration.

    Frame ``k`` of the output shows A's frame ``k`` on the left and B's frame
    ``round(map_a_to_b(k / fps_a) * fps_b)`` on the right, both scaled to ``height``
    pixels (default: A's height, at most 720). B is decoded forward (the map is monotone),
    so a long-GOP file is never sought per frame.
    """
    import cv2

    from . import paths
    from .media import open_recording

    paths.check_output(out, inputs=[path_a, path_b])
    rec_a, rec_b = open_recording(path_a), open_recording(path_b)
    for rec in (rec_a, rec_b):
        if rec.kind != "video":
            raise MediaError(rec.path, "is an audio file: --mode side-by-side needs two "
                                       "videos (use --mode warped or stereo for sound)")
    h = int(height or min(rec_a.height, 720))
    h -= h % 2
    wa = _even(rec_a.width * h / rec_a.height)
    wb = _even(rec_b.width * h / rec_b.height)
    fps = rec_a.rate_hz
    n = rec_a.n_frames
    targets = np.clip(np.round(np.asarray(alignment.map_a_to_b(np.arange(n) / fps))
                               * rec_b.rate_hz), 0, rec_b.n_frames - 1).astype(np.int64)
    canvas = np.zeros((h, wa + wb, 3), dtype=np.uint8)
    with paths.output_path(out, suffix=".mp4", utf8=True) as tmp:
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"), fps, (wa + wb, h))
        if not writer.isOpened():
            raise MediaError(out, "OpenCV cannot write an MP4 video here")
        try:
            frames_b = _forward_frames(rec_b, targets)
            for k, frame_a in enumerate(rec_a.iter_frames()):
                if k >= n:
                    break
                frame_b = next(frames_b)
                canvas[:, :wa] = cv2.resize(frame_a, (wa, h), interpolation=cv2.INTER_AREA)
                canvas[:, wa:] = cv2.resize(frame_b, (wb, h), interpolation=cv2.INTER_AREA)
                writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
                if progress is not None and k % 10 == 0:
                    progress(k / n)
        finally:
            writer.release()
    if progress is not None:
        progress(1.0)
    return {"duration_s": n / fps, "rate_hz": fps, "size": (wa + wb, h), "n_frames": n}


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def _forward_frames(rec, targets: np.ndarray):
    """Yield B's frame ``targets[k]`` for each k (non-decreasing), decoding forward."""
    frames = rec.iter_frames(int(targets[0]) if len(targets) else 0)
    current, index = None, int(targets[0]) - 1 if len(targets) else -1
    for t in targets.tolist():
        while index < t:
            current = next(frames)
            index += 1
        yield current


def render(path_a, path_b, out, *, alignment: Alignment | None = None,
           mode: str = "warped", progress: Callable[[float], None] | None = None) -> dict:
    """Render A and B through ``alignment`` (computed with the default pipeline when
    None) to ``out``; see :func:`render_audio` and :func:`render_side_by_side`."""
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {', '.join(MODES)}, got {mode!r}")
    from . import paths

    paths.check_output(out, inputs=[path_a, path_b])
    if alignment is None:
        from .pipeline import align_files

        alignment = align_files(path_a, path_b, progress=(
            None if progress is None else (lambda f: progress(0.3 * f))))
        base = 0.3
    else:
        base = 0.0
    step = None if progress is None else (lambda f: progress(base + (1 - base) * f))
    if mode == "side-by-side":
        return render_side_by_side(path_a, path_b, alignment, out, progress=step)
    return render_audio(path_a, path_b, alignment, out, mode=mode, progress=step)


# ---------------------------------------------------------------------------- command line
def run_render(args: argparse.Namespace) -> int:
    """``render A B -o OUT [--alignment FILE] [--mode ...]``."""
    from . import paths
    from .cli import _check_input, _StderrProgress
    from .formats import read_alignment_or_project
    from .media import open_recording

    _check_input(args.a)
    _check_input(args.b)
    if args.alignment is not None:
        _check_input(args.alignment)
    inputs = [args.a, args.b] + ([args.alignment] if args.alignment else [])
    if args.output == paths.STDOUT:
        raise ValueError("-o: render writes a WAV or MP4 file; give a file name")
    paths.check_output(args.output, inputs=inputs)
    extension = os.path.splitext(os.fsdecode(args.output))[1].lower()
    wanted = ".mp4" if args.mode == "side-by-side" else ".wav"
    if extension != wanted:
        raise ValueError(f"{paths.display_path(args.output)}: --mode {args.mode} writes a "
                         f"{wanted[1:].upper()} file; name it *{wanted}")
    kinds = {open_recording(p).kind for p in (args.a, args.b)}
    if args.mode == "side-by-side" and kinds != {"video"}:
        raise ValueError("--mode side-by-side needs two videos")
    if args.mode != "side-by-side" and kinds != {"audio"}:
        raise ValueError(f"--mode {args.mode} needs two audio files (the sound track of a "
                         f"video is not decoded: extract it to a WAV or FLAC file)")
    alignment = None
    if args.alignment is not None:
        alignment = read_alignment_or_project(args.alignment)
    progress = _StderrProgress(enabled=not args.quiet)
    try:
        summary = render(args.a, args.b, args.output, alignment=alignment, mode=args.mode,
                         progress=progress)
    finally:
        progress.done()
    if not args.quiet:
        print(f"{paths.display_path(args.output)}: {summary['duration_s']:.3f} s written",
              file=sys.stderr)
    return 0


def register(subparsers) -> None:
    """Add the ``render`` subcommand to the command line's subparsers."""
    p = subparsers.add_parser(
        "render", help="write B warped onto A's timeline (WAV), A and warped B in two "
                       "ears (WAV), or two videos side by side in A's time (MP4)",
        description="Render recording B through the alignment onto A's timeline. warped: B "
                    "time-stretched along the path (pitch kept), A's duration, B's "
                    "channels and rate. stereo: A in the left channel, warped B in the "
                    "right. side-by-side: for two videos, A's frames beside B's aligned "
                    "frames at A's frame rate.")
    p.add_argument("a", metavar="A", help="recording A (the timeline)")
    p.add_argument("b", metavar="B", help="recording B (warped onto A)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="file to write: .wav (warped, stereo) or .mp4 (side-by-side)")
    p.add_argument("--alignment", metavar="FILE",
                   help="alignment file of A and B, or a project (.alignproj): its active "
                        "result (default: computed with the default pipeline)")
    p.add_argument("--mode", choices=MODES, default="warped",
                   help="what to render (default: warped)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run_render)

