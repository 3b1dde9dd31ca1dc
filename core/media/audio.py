"""Audio recordings decoded with soundfile (libsndfile).

Nothing is read at open time beyond the header. Samples are read on demand, either all at
once (:meth:`AudioRecording.audio`) or in blocks (:meth:`~AudioRecording.read_block`,
:meth:`~AudioRecording.iter_blocks`), so features and the waveform overview can stream
through an hour of audio without holding it in memory.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from pathlib import Path

import numpy as np
import soundfile

from .._progress import Monitor
from ..errors import MediaError
from .recording import Recording

__all__ = ["AudioRecording", "probe_audio"]

#: Frames per block for streaming reads (about 1.5 s at 44.1 kHz).
BLOCK_FRAMES = 1 << 16
#: Samples per cell of the finest cached envelope level; each further level is 16x coarser.
ENVELOPE_BASE = 256
ENVELOPE_FACTOR = 16
ENVELOPE_LEVELS = 3
#: Lossy decoders are positioned this many samples early and read forward (decoders
#: whose output depends on the previous packet are then settled).
SEEK_PREROLL = 1 << 13
_EXACT_SEEK_SUBTYPES = frozenset({"FLOAT", "DOUBLE", "ULAW", "ALAW", "DPCM_8", "DPCM_16"})
_UNCOMPRESSED = frozenset({"FLOAT", "DOUBLE", "ULAW", "ALAW"})
#: More channels than this is taken for a broken header (libsndfile reads up to 1024).
MAX_CHANNELS = 256
#: Samples beyond this magnitude (float formats hold any value) are taken for a broken
#: file: power spectra of such samples overflow float32 in the features.
MAX_SAMPLE = 1e6
#: The mono mix: when the channels' average keeps less than this share of their mean
#: energy (-13 dB: one channel's polarity inverted, the average cancels), channels are mixed with
#: the sign of their correlation with the loudest one instead. Measured on probes of
#: ``_MIX_PROBES`` windows of ``_MIX_PROBE_S`` spread over the file.
_MIX_CANCEL_SHARE = 0.05
_MIX_PROBES = 16
_MIX_PROBE_S = 1.0


def _native(path) -> bytes:
    """The file name as bytes: libsndfile takes any name that way (a ``str`` holding
    bytes that are not UTF-8 cannot even be encoded)."""
    return os.fsencode(path)


def probe_audio(path: Path, reasons: list[str] | None = None) -> AudioRecording | None:
    """An :class:`AudioRecording` if libsndfile reads ``path``, else None.

    Parameters
    ----------
    path : Path
    reasons : list, optional
        Receives libsndfile's own words when it does not read the file (for the message
        when no decoder does).

    Raises
    ------
    MediaError
        If the file is audio but holds no samples, has an invalid sample rate or a
        header that does not match its data (e.g. 1000 channels claimed); or when
        libsndfile fails other than by not recognising the file.
    """
    try:
        info = soundfile.info(_native(path))
    except soundfile.LibsndfileError as exc:  # "not mine": OpenCV gets its turn
        if reasons is not None:
            reasons.append(_plain(exc))
        return None
    except (OSError, MemoryError, ValueError, TypeError, RuntimeError) as exc:
        raise MediaError(path, f"could not be read as audio ({_plain(exc)})") from None
    if info.samplerate <= 0 or info.channels <= 0:
        raise MediaError(path, f"has an invalid audio header (sample rate "
                         f"{info.samplerate} Hz, {info.channels} channels)")
    if info.channels > MAX_CHANNELS:
        raise MediaError(path, f"has a broken audio header: it claims {info.channels} "
                         f"channels (at most {MAX_CHANNELS} are read)")
    _check_frame_size(path, info)
    if info.frames <= 0:
        raise MediaError(path, "contains no audio samples (zero length)")
    return AudioRecording(path, info)


def _check_frame_size(path, info) -> None:
    """An uncompressed WAV whose data chunk is not a whole number of frames has a header
    that lies about the channels or the sample size (e.g. stereo data claiming 1000
    channels would decode as 6 ms of noise)."""
    if not (info.subtype.startswith("PCM") or info.subtype in _UNCOMPRESSED):
        return
    text = getattr(info, "extra_info", "") or ""
    align = re.search(r"^\s*Block Align\s*:\s*(\d+)", text, re.MULTILINE)
    data = re.search(r"^data\s*:\s*(\d+)", text, re.MULTILINE)
    if not (align and data):
        return
    block, size = int(align.group(1)), int(data.group(1))
    if block > 0 and size % block:
        raise MediaError(path, f"has a broken audio header: its data ({size} bytes) is not "
                         f"a whole number of frames of {info.channels} channels "
                         f"({block} bytes each)")


class AudioRecording(Recording):
    """An audio file read lazily with soundfile. Create with :func:`core.media.open_recording`.

    Besides the :class:`~core.media.recording.Recording` attributes it has ``format``
    and ``subtype`` (libsndfile's names, e.g. ``"FLAC"``, ``"PCM_16"``).

    ``n_frames`` is the header's count. For MP3 without an exact length tag libsndfile
    estimates it (libsndfile issue #1001); :meth:`audio` returns what actually decodes,
    which can then be a little shorter or longer.

    All methods are thread-safe: every read opens its own decoder handle.
    """

    kind = "audio"

    def __init__(self, path: Path, info):
        super().__init__(path, rate_hz=info.samplerate, n_frames=info.frames,
                         n_channels=info.channels)
        self.format = info.format
        self.subtype = info.subtype
        self._preroll = 0 if (info.format == "FLAC" or info.subtype.startswith("PCM")
                              or info.subtype in _EXACT_SEEK_SUBTYPES) else SEEK_PREROLL
        # libsndfile (1.2.2) seeks wrongly into the last Ogg page of a Vorbis stream (off by
        # the page's end trim: tens to hundreds of samples); we seek before that page.
        self._unsafe_from = (_last_ogg_page_start(path) if info.subtype == "VORBIS"
                             else self.n_frames)
        # The whole-file arrays are shared while someone holds them, never kept alive here:
        # an hour of 44.1 kHz float32 is 635 MB per channel.
        self._full: dict[bool, weakref.ref] = {}
        self._full_lock = threading.Lock()
        self._levels: list[tuple[int, np.ndarray, np.ndarray]] | None = None
        self._levels_lock = threading.Lock()
        self._weights: np.ndarray | None = None
        self._weights_lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------
    def _open(self, start: int = 0) -> soundfile.SoundFile:
        """A decoder positioned at sample ``start`` (exactly, even for lossy formats)."""
        try:
            handle = soundfile.SoundFile(_native(self.path))
        except Exception as exc:
            raise MediaError(self.path, f"can no longer be opened as audio ({_plain(exc)})") \
                from None
        try:
            if start:
                early = max(min(start, self._unsafe_from) - self._preroll, 0)
                handle.seek(early)
                while early < start:  # decode and drop the preroll
                    skipped = _read(handle, min(BLOCK_FRAMES, start - early)).shape[0]
                    if skipped == 0:
                        break
                    early += skipped
        except BaseException:
            handle.close()
            raise
        return handle

    def _mix(self, block: np.ndarray, mono: bool) -> np.ndarray:
        if not mono:
            return block
        if block.shape[1] == 1:
            return block[:, 0].copy()
        weights = self.mix_weights()
        if np.all(weights == weights[0]):
            return block.mean(axis=1, dtype=np.float32)
        return (block @ weights).astype(np.float32, copy=False)

    def mix_weights(self) -> np.ndarray:
        """The weight of every channel in the mono mix, float32 ``(n_channels,)``.

        The plain average (``1 / n_channels`` each) unless it cancels: when the average of
        probes spread over the file keeps less than 5 % of the channels' mean energy
        (a stereo file with one channel's polarity inverted averages to near silence),
        every channel gets ``±1 / n_channels`` with the sign of its correlation with the
        loudest channel, so the mix is what the channels share rather than nothing.
        Decided once per file from up to 16 windows of 1 s (cheap even for long files).
        """
        with self._weights_lock:
            if self._weights is None:
                self._weights = self._probe_weights()
            return self._weights

    def _probe_weights(self) -> np.ndarray:
        n_ch = self.n_channels
        plain = np.full(n_ch, 1.0 / n_ch, dtype=np.float32)
        if n_ch == 1 or self.n_frames <= 0:
            return plain
        width = max(1, min(int(_MIX_PROBE_S * float(self.rate_hz)),
                           self.n_frames // _MIX_PROBES))
        starts = np.unique(np.linspace(0, max(self.n_frames - width, 0),
                                       _MIX_PROBES).astype(np.int64))
        gram = np.zeros((n_ch, n_ch))
        try:
            for start in starts:
                with self._open(int(start)) as handle:
                    block = _read(handle, width).astype(np.float64)
                gram += block.T @ block
        except Exception:  # noqa: BLE001 - the reads proper report a broken file
            return plain
        channel_energy = float(np.trace(gram)) / n_ch
        mix_energy = float(gram.sum()) / n_ch ** 2
        if not channel_energy > 0 or mix_energy >= _MIX_CANCEL_SHARE * channel_energy:
            return plain
        loudest = int(np.argmax(np.diag(gram)))
        signs = np.where(gram[loudest] < 0, -1.0, 1.0)
        return (signs / n_ch).astype(np.float32)

    def audio(self, mono: bool = True) -> np.ndarray:
        """All samples as a read-only float32 array.

        Parameters
        ----------
        mono : bool
            True: the mix of the channels (their average, unless it cancels:
            :meth:`mix_weights`), shape ``(n,)`` (for features).
            False: the original channels, shape ``(n, n_channels)`` (for playback).

        Returns
        -------
        numpy.ndarray
            Read-only float32 in [-1, 1] (for integer formats). While a caller holds the
            returned array, later calls return the same array instead of decoding again.

        Notes
        -----
        The mono mix is computed block by block, so its peak memory is one output array
        plus one block, whatever the channel count.
        """
        mono = bool(mono)
        with self._full_lock:
            ref = self._full.get(mono)
            data = ref() if ref is not None else None
            if data is None:
                data = self._read_range(0, self.n_frames, mono, tolerate_short=True)
                data.flags.writeable = False
                self._full[mono] = weakref.ref(data)
            return data

    def _read_range(self, start: int, stop: int, mono: bool, *,
                    tolerate_short: bool) -> np.ndarray:
        shape = (stop - start,) if mono else (stop - start, self.n_channels)
        out = np.empty(shape, dtype=np.float32)
        filled = 0
        extra = []
        try:
            with self._open(start) as handle:
                while filled < out.shape[0]:
                    n = min(BLOCK_FRAMES, out.shape[0] - filled)
                    block = _read(handle, n)
                    if block.shape[0] == 0:
                        break
                    self._check_values(block, start + filled)
                    out[filled:filled + block.shape[0]] = self._mix(block, mono)
                    filled += block.shape[0]
                if tolerate_short and stop == self.n_frames:
                    # Header frame counts of compressed formats can be estimates: keep
                    # whatever the decoder still delivers.
                    at = start + filled
                    while (block := _read(handle, BLOCK_FRAMES)).shape[0]:
                        self._check_values(block, at)
                        at += block.shape[0]
                        extra.append(self._mix(block, mono))
        except MediaError:
            raise
        except Exception as exc:
            raise self._corrupt(start + filled, BLOCK_FRAMES, exc) from None
        if filled == 0 and out.shape[0] > 0:
            raise MediaError(self.path, "contains no decodable audio samples")
        if extra:
            return np.concatenate([out[:filled], *extra])
        return out[:filled] if filled < out.shape[0] else out

    def _check_values(self, block: np.ndarray, offset: int) -> None:
        """Refuse NaN, infinite or absurd samples (float formats can hold them) with the
        file's name and the time, before they reach the features."""
        if self.subtype not in ("FLOAT", "DOUBLE"):
            return  # integer and lossy formats decode to finite values near [-1, 1]
        bad = ~np.isfinite(block)
        what = "NaN or infinite samples"
        if not bad.any():
            bad = np.abs(block) > MAX_SAMPLE
            what = f"samples larger than {MAX_SAMPLE:g} in magnitude (a broken file?)"
            if not bad.any():
                return
        first = int(np.flatnonzero(bad.any(axis=1))[0]) + offset
        raise MediaError(self.path, f"contains {what}, the first at "
                         f"{first / self.rate_hz:.3f} s")

    def _corrupt(self, offset: int, span: int, exc: BaseException) -> MediaError:
        stop = min(offset + span, self.n_frames)
        return MediaError(self.path, f"is corrupt: decoding failed between "
                          f"{offset / self.rate_hz:.2f} s and {stop / self.rate_hz:.2f} s "
                          f"({_plain(exc)})")

    def _check_range(self, start, stop) -> tuple[int, int]:
        start = _as_index(start, "start")
        stop = self.n_frames if stop is None else _as_index(stop, "stop")
        if not 0 <= start <= self.n_frames:
            raise ValueError(f"start must be in [0, {self.n_frames}], got {start}")
        if stop < start:
            raise ValueError(f"stop must be >= start ({start}), got {stop}")
        return start, min(stop, self.n_frames)

    def read_block(self, start: int, stop: int, *, mono: bool = True) -> np.ndarray:
        """Samples ``start:stop`` (clipped to the file) as a new float32 array.

        Parameters
        ----------
        start, stop : int
            Sample indices, ``0 <= start <= n_frames`` and ``stop >= start``; ``stop``
            beyond the end is clipped, so the block may be shorter than asked.
        mono : bool
            As in :meth:`audio`.

        Returns
        -------
        numpy.ndarray
            float32, ``(stop - start,)`` or ``(stop - start, n_channels)``.
        """
        start, stop = self._check_range(start, stop)
        if start == stop:
            return np.empty((0,) if mono else (0, self.n_channels), dtype=np.float32)
        return self._read_range(start, stop, bool(mono), tolerate_short=False)

    def iter_blocks(self, block_frames: int = BLOCK_FRAMES, start: int = 0,
                    stop: int | None = None, *, mono: bool = True):
        """Iterate over samples ``start:stop`` in blocks, decoding sequentially.

        Parameters
        ----------
        block_frames : int
            Samples per block (the last block may be shorter).
        start, stop : int
            Range of samples, as in :meth:`read_block`; ``stop=None`` is the end.
        mono : bool
            As in :meth:`audio`.

        Yields
        ------
        offset : int
            Index of the block's first sample.
        block : numpy.ndarray
            float32 ``(n,)`` or ``(n, n_channels)``.
        """
        block_frames = _as_index(block_frames, "block_frames")
        if block_frames < 1:
            raise ValueError(f"block_frames must be >= 1, got {block_frames}")
        start, stop = self._check_range(start, stop)
        return self._blocks(block_frames, start, stop, bool(mono))

    def _blocks(self, block_frames, start, stop, mono):
        offset = start
        try:
            with self._open(start) as handle:
                while offset < stop:
                    block = _read(handle, min(block_frames, stop - offset))
                    if block.shape[0] == 0:
                        return
                    self._check_values(block, offset)
                    yield offset, self._mix(block, mono)
                    offset += block.shape[0]
        except MediaError:
            raise
        except Exception as exc:
            raise self._corrupt(offset, block_frames, exc) from None

    # -- waveform overview -------------------------------------------------------------
    def envelope(self, n_bins: int, start: int = 0, stop: int | None = None, *,
                 progress=None, cancel=None) -> tuple[np.ndarray, np.ndarray]:
        """Minimum and maximum of the mono signal in ``n_bins`` equal bins of ``start:stop``.

        This is the cheap waveform overview for drawing: bin ``b`` covers samples
        ``start + floor(b L / n_bins)`` up to ``start + floor((b + 1) L / n_bins)`` (at
        least one sample), with ``L = stop - start``.

        Parameters
        ----------
        n_bins : int
            Number of bins (e.g. the width of the view in pixels).
        start, stop : int
            Sample range; ``stop=None`` is the end of the file.
        progress, cancel : callables, optional
            Used while the cache is built (the first call on a long file streams the whole
            file once); see :mod:`core._progress`.

        Returns
        -------
        mins, maxs : numpy.ndarray
            float32 ``(n_bins,)`` each.

        Notes
        -----
        Bins of at most ``2 * 256`` samples are computed exactly from the samples (the
        read is at most ``512 n_bins`` samples). Wider bins use a cache of min/max per
        256, 4096 and 65536 samples, built in one streaming pass on first use (for an
        hour at 44.1 kHz: about 5 MB); there a bin is the union of the cache cells it
        overlaps, so it may include up to one cell of its neighbours, never less than
        its own samples.
        """
        n_bins = _as_index(n_bins, "n_bins")
        if n_bins < 1:
            raise ValueError(f"n_bins must be >= 1, got {n_bins}")
        start, stop = self._check_range(start, stop)
        if stop == start:
            raise ValueError(f"the range start={start}, stop={stop} holds no samples")
        length = stop - start
        lower = start + (np.arange(n_bins, dtype=np.int64) * length) // n_bins
        upper = np.maximum(start + (np.arange(1, n_bins + 1, dtype=np.int64) * length)
                           // n_bins, lower + 1)
        if length <= 2 * ENVELOPE_BASE * n_bins:
            samples = self.read_block(start, stop)
            return _reduce_exact(samples, lower - start, upper - start)
        levels = self._envelope_levels(Monitor(progress, cancel))
        cell, mins, maxs = levels[0]
        for level in levels[1:]:  # coarsest level still at least 2 cells per bin
            if level[0] * 2 <= length / n_bins:
                cell, mins, maxs = level
        # (clipped: a header may promise more samples than the decoder delivered)
        first = np.minimum(lower // cell, mins.shape[0] - 1)
        last = np.minimum((upper + cell - 1) // cell, mins.shape[0])  # exclusive
        # reduceat covers [first[b], first[b+1]); add the partly shared cell at the end.
        out_min = np.minimum.reduceat(mins, first)
        out_max = np.maximum.reduceat(maxs, first)
        shared = np.nonzero(last[:-1] > first[1:])[0]
        out_min[shared] = np.minimum(out_min[shared], mins[first[shared + 1]])
        out_max[shared] = np.maximum(out_max[shared], maxs[first[shared + 1]])
        tail_min = mins[first[-1]:last[-1]].min()
        tail_max = maxs[first[-1]:last[-1]].max()
        out_min[-1], out_max[-1] = tail_min, tail_max
        return out_min, out_max

    def _envelope_levels(self, monitor: Monitor):
        with self._levels_lock:
            if self._levels is not None:
                return self._levels
            n_cells = -(-self.n_frames // ENVELOPE_BASE)
            mins = np.empty(n_cells, dtype=np.float32)
            maxs = np.empty(n_cells, dtype=np.float32)
            ref = self._full.get(True)
            held = ref() if ref is not None else None
            source = ([(0, held)] if held is not None
                      else self._blocks(BLOCK_FRAMES, 0, self.n_frames, True))
            filled = 0
            for offset, block in source:  # BLOCK_FRAMES is a multiple of ENVELOPE_BASE
                cells = _cell_minmax(block, ENVELOPE_BASE)
                mins[filled:filled + cells[0].shape[0]] = cells[0]
                maxs[filled:filled + cells[0].shape[0]] = cells[1]
                filled += cells[0].shape[0]
                monitor.report((offset + block.shape[0]) / self.n_frames)
            if filled == 0:
                raise MediaError(self.path, "contains no decodable audio samples")
            levels = [(ENVELOPE_BASE, mins[:filled], maxs[:filled])]
            for _ in range(1, ENVELOPE_LEVELS):
                cell, lo, hi = levels[-1]
                lo, hi = _cell_minmax_pairs(lo, hi, ENVELOPE_FACTOR)
                levels.append((cell * ENVELOPE_FACTOR, lo, hi))
            for _, lo, hi in levels:
                lo.flags.writeable = False
                hi.flags.writeable = False
            self._levels = levels
            return levels


def _read(handle: soundfile.SoundFile, n_frames: int) -> np.ndarray:
    """Read up to ``n_frames`` frames as float32 ``(n, channels)`` from the current position.

    ``SoundFile.read`` seeks to its own idea of the position after every read; libsndfile
    (1.2.2) performs that seek on MP3 by restarting the decoder, which loses the bit
    reservoir: every block after the first few decodes to noise ("part2_3_length too
    large"). Reading with libsndfile's ``sf_readf_float`` directly never seeks.
    """
    snd = getattr(soundfile, "_snd", None)
    ffi = getattr(soundfile, "_ffi", None)
    if snd is None or ffi is None or not hasattr(handle, "_file"):  # soundfile changed
        return handle.read(n_frames, dtype="float32", always_2d=True)
    out = np.empty((n_frames, handle.channels), dtype=np.float32)
    got = snd.sf_readf_float(handle._file, ffi.cast("float *", ffi.from_buffer(out)),
                             n_frames)
    code = snd.sf_error(handle._file)
    if code:
        raise RuntimeError(ffi.string(snd.sf_error_number(code)).decode("utf-8", "replace"))
    return out[:got]


def _last_ogg_page_start(path: Path) -> int:
    """The sample index where the last page of an Ogg stream starts (0 if unknown).

    An Ogg page header is "OggS", version 0, a flag byte and the granule position (int64,
    little-endian: for Vorbis, the number of samples at the end of the page); pages are
    at most 64 KiB, so the last two pages lie within the file's last 128 KiB.
    """
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(size - (1 << 17), 0))
            tail = handle.read()
    except OSError:
        return 0
    granules = []
    at = tail.find(b"OggS")
    while at != -1 and at + 14 <= len(tail):
        if tail[at + 4] == 0:
            granule = int.from_bytes(tail[at + 6:at + 14], "little", signed=True)
            if granule >= 0:
                granules.append(granule)
        at = tail.find(b"OggS", at + 1)
    return granules[-2] if len(granules) >= 2 else 0


def _cell_minmax(x: np.ndarray, cell: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of consecutive ``cell``-sample pieces of ``x`` (the last may be short)."""
    return _cell_minmax_pairs(x, x, cell)


def _cell_minmax_pairs(lo: np.ndarray, hi: np.ndarray, cell: int):
    n_full = lo.shape[0] // cell
    mins = lo[:n_full * cell].reshape(n_full, cell).min(axis=1)
    maxs = hi[:n_full * cell].reshape(n_full, cell).max(axis=1)
    if lo.shape[0] > n_full * cell:
        mins = np.append(mins, lo[n_full * cell:].min())
        maxs = np.append(maxs, hi[n_full * cell:].max())
    return mins.astype(np.float32, copy=False), maxs.astype(np.float32, copy=False)


def _reduce_exact(samples: np.ndarray, lower: np.ndarray, upper: np.ndarray):
    """Exact per-bin min/max; bins may repeat a sample when there are more bins than samples."""
    upper = np.minimum(upper, samples.shape[0])
    lower = np.minimum(lower, samples.shape[0] - 1)
    if np.all(upper[:-1] == lower[1:]):  # a partition: one reduceat pass
        return (np.minimum.reduceat(samples, lower), np.maximum.reduceat(samples, lower))
    pieces = [samples[a:b] for a, b in zip(lower, upper, strict=True)]
    mins = np.array([piece.min() for piece in pieces], dtype=np.float32)
    maxs = np.array([piece.max() for piece in pieces], dtype=np.float32)
    return mins, maxs


def _as_index(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    return int(value)


def _plain(exc: BaseException) -> str:
    """A decoder's message without the file name it repeats."""
    text = getattr(exc, "error_string", None) if isinstance(exc, soundfile.LibsndfileError) \
        else None
    text = (text or str(exc)).strip() or type(exc).__name__
    if text.startswith("Error opening") and ": " in text:
        text = text.split(": ", 1)[1]
    return text.rstrip(".")
