"""Tests of core.media: audio and video decoding, random access, envelopes and errors."""

from __future__ import annotations

import hashlib
import os
import threading

import numpy as np
import pytest
import soundfile
from media_factory import (  # tests/core is on sys.path (no __init__.py)
    chirp,
    read_barcode,
    truncate_mpeg4_frames,
    write_audio,
    write_video,
)

from core.errors import MediaError
from core.media import AudioRecording, Recording, VideoRecording, open_recording

RATE = 8000


# -- audio -------------------------------------------------------------------------------
@pytest.fixture
def chirp_wav(tmp_path):
    x = chirp(RATE * 2, RATE)
    return write_audio(tmp_path / "chirp.wav", x, RATE, subtype="FLOAT"), x


@pytest.fixture
def stereo_flac(tmp_path):
    x = chirp(RATE, RATE)
    data = np.stack([x, -0.5 * x], axis=1)
    return write_audio(tmp_path / "stereo.flac", data, RATE), data


def test_wav_properties_and_samples(chirp_wav):
    path, x = chirp_wav
    rec = open_recording(path)
    assert isinstance(rec, AudioRecording) and isinstance(rec, Recording)
    assert rec.kind == "audio"
    assert rec.path == path.absolute()
    assert (rec.rate_hz, rec.n_frames, rec.n_channels) == (RATE, x.size, 1)
    assert rec.duration_s == pytest.approx(2.0)
    assert rec.width is None and rec.height is None
    mono = rec.audio()
    assert mono.dtype == np.float32 and mono.shape == (x.size,)
    np.testing.assert_array_equal(mono, x)
    assert not mono.flags.writeable
    assert rec.audio(mono=False).shape == (x.size, 1)


def test_audio_array_shared_while_held_not_kept(chirp_wav):
    rec = open_recording(chirp_wav[0])
    first = rec.audio()
    assert rec.audio() is first
    first_id = id(first)
    del first
    assert rec._full[True]() is None  # not kept alive by the recording
    assert rec.audio().shape == (RATE * 2,) and first_id is not None


def test_stereo_flac_mix_and_original_channels(stereo_flac):
    path, data = stereo_flac
    rec = open_recording(path)
    assert rec.n_channels == 2
    both = rec.audio(mono=False)
    assert both.shape == (data.shape[0], 2) and both.dtype == np.float32
    np.testing.assert_allclose(both, data, atol=1 / 2 ** 15)  # PCM_16
    np.testing.assert_allclose(rec.audio(mono=True), both.mean(axis=1), atol=1e-7)


def test_many_channels(tmp_path):
    data = np.random.default_rng(0).uniform(-0.5, 0.5, (1000, 6)).astype(np.float32)
    rec = open_recording(write_audio(tmp_path / "six.wav", data, RATE, subtype="FLOAT"))
    assert rec.n_channels == 6
    np.testing.assert_allclose(rec.audio(), data.mean(axis=1), atol=1e-7)
    np.testing.assert_array_equal(rec.audio(mono=False), data)


def _best_correlation(x, y, part, max_lag):
    """Largest correlation of ``y[part]`` with ``x`` shifted by up to ``max_lag`` samples."""
    segment = y[part]
    return max(np.corrcoef(segment, x[part.start + lag:part.stop + lag])[0, 1]
               for lag in range(-max_lag, max_lag + 1))


@pytest.mark.parametrize(("name", "fmt", "subtype", "rate", "tol"), [
    ("x.aiff", "AIFF", "PCM_16", RATE, 1e-4),
    ("x.ogg", "OGG", "VORBIS", RATE, 0.1),
    ("x.opus", "OGG", "OPUS", 48000, 0.1),
    ("x.mp3", "MP3", "MPEG_LAYER_III", 16000, 0.1),
])
def test_compressed_and_other_formats(tmp_path, name, fmt, subtype, rate, tol):
    if subtype not in soundfile.available_subtypes(fmt):
        pytest.skip(f"this libsndfile ({soundfile.__libsndfile_version__}) cannot write "
                    f"{fmt}/{subtype}")
    x = chirp(rate, rate, f0_hz=200, f1_hz=400)
    try:
        write_audio(tmp_path / name, np.stack([x, x], axis=1), rate, format=fmt,
                    subtype=subtype)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        pytest.skip(f"libsndfile cannot write {fmt}/{subtype} here: {exc}")
    rec = open_recording(tmp_path / name)
    assert rec.kind == "audio" and rec.n_channels == 2 and rec.rate_hz == rate
    assert rec.duration_s == pytest.approx(1.0, abs=0.06)
    y = rec.audio()
    assert y.dtype == np.float32 and y.shape == (rec.n_frames,)
    # lossy codecs: correlation with the source, tolerant to a small codec delay
    assert _best_correlation(x, y, slice(500, x.size - 500), max_lag=400) > 1 - tol


@pytest.mark.parametrize(("name", "fmt", "subtype", "rate"), [
    ("y.ogg", "OGG", "VORBIS", 44100),
    ("y.opus", "OGG", "OPUS", 48000),
    ("y.mp3", "MP3", "MPEG_LAYER_III", 44100),
    ("y.flac", "FLAC", "PCM_24", 44100),
])
def test_read_block_matches_sequential_decode(tmp_path, name, fmt, subtype, rate):
    # libsndfile 1.2.2 seeks hundreds of samples off inside the last Ogg Vorbis page, a
    # page that is long when the bitrate is low (as here): blocks must not be shifted.
    if subtype not in soundfile.available_subtypes(fmt):
        pytest.skip(f"this libsndfile cannot write {fmt}/{subtype}")
    x = chirp(3 * rate, rate, f0_hz=200, f1_hz=4000)
    rec = open_recording(write_audio(tmp_path / name, np.stack([x, x], axis=1), rate,
                                     format=fmt, subtype=subtype))
    full = rec.audio()
    n = full.size
    # the whole decode (several blocks) still resembles the source at its end
    assert _best_correlation(x, full, slice(n - 6000, n - 1000), max_lag=400) > 0.95
    for start in [*range(0, n - 300, n // 7), n - 5000, n - 2000, n - 301]:
        np.testing.assert_array_equal(rec.read_block(start, start + 300), full[start:start + 300],
                                      err_msg=f"block at {start}")
    tail = np.concatenate([b for _, b in rec.iter_blocks(1000, start=n - 4321)])
    np.testing.assert_array_equal(tail, full[n - 4321:])


def test_kind_detected_by_content_not_name(tmp_path):
    x = chirp(RATE, RATE)
    path = write_audio(tmp_path / "disguised.flac", x, RATE)
    renamed = path.rename(tmp_path / "disguised.mp4")
    assert open_recording(renamed).kind == "audio"
    video = write_video(tmp_path / "v.avi", 5, "MJPG")
    assert open_recording(video.rename(tmp_path / "v.wav")).kind == "video"


def test_read_block_and_iter_blocks(stereo_flac):
    path, data = stereo_flac
    rec = open_recording(path)
    full = rec.audio(mono=False)
    np.testing.assert_array_equal(rec.read_block(100, 350, mono=False), full[100:350])
    np.testing.assert_array_equal(rec.read_block(100, 350), rec.audio()[100:350])
    assert rec.read_block(7990, 9000).shape == (10,)  # clipped at the end
    assert rec.read_block(5, 5).shape == (0,)
    blocks = list(rec.iter_blocks(300, start=50, stop=1000, mono=False))
    assert [offset for offset, _ in blocks] == [50, 350, 650, 950]
    np.testing.assert_array_equal(np.concatenate([b for _, b in blocks]), full[50:1000])
    with pytest.raises(ValueError, match="start must be in"):
        rec.read_block(-1, 10)
    with pytest.raises(ValueError, match="stop must be >= start"):
        rec.read_block(10, 5)
    with pytest.raises(ValueError, match="block_frames must be >= 1"):
        rec.iter_blocks(0)
    with pytest.raises(TypeError, match="start must be an integer"):
        rec.read_block(1.5, 10)


def _naive_envelope(x, n_bins, start, stop):
    length = stop - start
    mins, maxs = [], []
    for b in range(n_bins):
        lo = start + b * length // n_bins
        hi = max(start + (b + 1) * length // n_bins, lo + 1)
        mins.append(x[lo:hi].min())
        maxs.append(x[lo:hi].max())
    return np.array(mins), np.array(maxs)


@pytest.mark.parametrize(("n_bins", "start", "stop"), [
    (50, 0, None), (9, 123, 4567), (3000, 0, 2000), (1, 300, 812), (40, 1000, 1001),
])
def test_envelope_exact_for_narrow_bins(chirp_wav, n_bins, start, stop):
    path, x = chirp_wav
    rec = open_recording(path)
    stop_ = x.size if stop is None else stop
    assert stop_ - start <= 512 * n_bins  # bins this narrow are computed from the samples
    mins, maxs = rec.envelope(n_bins, start, stop)
    ref_min, ref_max = _naive_envelope(x, n_bins, start, stop_)
    assert mins.dtype == np.float32 and mins.shape == (n_bins,)
    np.testing.assert_array_equal(mins, ref_min)
    np.testing.assert_array_equal(maxs, ref_max)


def test_envelope_cached_levels_bracket_the_exact_values(tmp_path):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(300_001) * np.linspace(0.01, 0.3, 300_001)).astype(np.float32)
    rec = open_recording(write_audio(tmp_path / "long.wav", x, RATE, subtype="FLOAT"))
    fractions = []
    for n_bins, start, stop in [(37, 0, None), (100, 5000, 290_000), (3, 17, 250_013),
                                (1, 0, None)]:
        stop_ = x.size if stop is None else stop
        mins, maxs = rec.envelope(n_bins, start, stop, progress=fractions.append)
        ref_min, ref_max = _naive_envelope(x, n_bins, start, stop_)
        assert mins.shape == maxs.shape == (n_bins,)
        # never narrower than the bin's own samples, widened by at most one cell per side
        assert np.all(mins <= ref_min) and np.all(maxs >= ref_max)
        cell = 65536 if (stop_ - start) / n_bins >= 2 * 65536 else (
            4096 if (stop_ - start) / n_bins >= 2 * 4096 else 256)
        wide_min, wide_max = [], []
        for b in range(n_bins):
            lo = start + b * (stop_ - start) // n_bins
            hi = start + (b + 1) * (stop_ - start) // n_bins
            wide = x[lo // cell * cell: -(-hi // cell) * cell]
            wide_min.append(wide.min())
            wide_max.append(wide.max())
        assert np.all(mins >= np.array(wide_min)) and np.all(maxs <= np.array(wide_max))
    assert mins[0] == x.min() and maxs[0] == x.max()
    assert fractions and fractions[-1] == 1.0  # the cache was built once, with progress
    assert rec._levels is not None and len(rec._levels) == 3


def test_envelope_cancel(tmp_path):
    from core.errors import Cancelled

    x = np.zeros(400_000, dtype=np.float32)
    rec = open_recording(write_audio(tmp_path / "silence.wav", x, RATE, subtype="FLOAT"))
    with pytest.raises(Cancelled):
        rec.envelope(10, cancel=lambda: True)
    assert rec._levels is None
    mins, maxs = rec.envelope(10)
    assert np.all(mins == 0) and np.all(maxs == 0)
    with pytest.raises(ValueError, match="n_bins must be >= 1"):
        rec.envelope(0)


def test_content_hash(chirp_wav):
    path, _ = chirp_wav
    rec = open_recording(path)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert rec.content_hash() == expected
    assert rec.content_hash() == expected  # cached
    with open(path, "ab") as handle:
        handle.write(b"x")
    os.utime(path, ns=(1, 1))
    assert rec.content_hash() == hashlib.sha256(path.read_bytes()).hexdigest() != expected


def test_audio_has_no_frames(chirp_wav):
    rec = open_recording(chirp_wav[0])
    with pytest.raises(MediaError, match="chirp.wav: is an audio file; it has no video"):
        rec.frame(0)
    with pytest.raises(MediaError, match="no video frames"):
        rec.iter_frames()
    assert rec.describe()["kind"] == "audio"


# -- video -------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "fourcc"), [
    ("v.mp4", "mp4v"), ("v.avi", "MJPG"), ("v.mkv", "mp4v"), ("v.mov", "mp4v"),
    ("v.webm", "VP80"), ("v.ts", "mp4v"),
])
def test_video_containers(tmp_path, name, fourcc):
    try:
        path = write_video(tmp_path / name, 40, fourcc, fps=12.5)
    except RuntimeError as exc:
        pytest.skip(str(exc))
    rec = open_recording(path)
    assert isinstance(rec, VideoRecording) and rec.kind == "video"
    assert (rec.n_frames, rec.rate_hz, rec.width, rec.height) == (40, 12.5, 96, 64)
    assert rec.duration_s == pytest.approx(40 / 12.5)
    assert rec.n_channels == 3
    image = rec.frame(0)
    assert image.dtype == np.uint8 and image.shape == (64, 96, 3)
    assert not image.flags.writeable
    # the top band was drawn red in BGR order: it must come out red in RGB
    top = image[:8, 40:50].mean(axis=(0, 1))
    assert top[0] > 150 and top[2] < 60
    rec.cache_frames = 1
    for k in (39, 3, 20, 21, 0, 38, 11):
        assert read_barcode(rec.frame(k)) == k
    assert [read_barcode(f) for f in rec.iter_frames(1, None, 9)] == [1, 10, 19, 28, 37]


def test_raw_stream_without_index(tmp_path):
    # A raw MJPEG stream has no frame count (OpenCV reports garbage) and seeking in it
    # is unreliable: frames are counted by decoding and reached by decoding forward.
    rec = open_recording(write_video(tmp_path / "raw.mjpeg", 33, "MJPG"))
    assert rec.n_frames == 33
    rec.cache_frames = 1
    for k in (32, 0, 17, 5, 31, 1):
        assert read_barcode(rec.frame(k)) == k
    assert [read_barcode(f) for f in rec.iter_frames(20, None, 5)] == [20, 25, 30]


@pytest.fixture
def numbered_mp4(tmp_path):
    return write_video(tmp_path / "numbered.mp4", 120, "mp4v", fps=10)


def test_frame_k_is_the_kth_frame(numbered_mp4):
    rec = open_recording(numbered_mp4)
    rec.cache_frames = 4  # force real decoding, not cache hits
    order = [0, 1, 2, 50, 49, 3, 119, 118, 60, 61, 65, 100, 10, 119, 0, 77]
    order += list(np.random.default_rng(2).integers(0, 120, 40))
    for k in order:
        assert read_barcode(rec.frame(k)) == k
    assert rec.frame(np.int64(5)).shape == (64, 96, 3)


def test_frame_cache_is_lru(numbered_mp4):
    rec = open_recording(numbered_mp4)
    rec.cache_frames = 3
    a = rec.frame(10)
    rec.frame(11)
    rec.frame(12)
    assert rec.frame(10) is a  # hit, now most recent
    rec.frame(13)  # evicts 11
    assert list(rec._cache) == [12, 10, 13]
    rec.close()
    assert not rec._cache and rec._capture is None
    assert read_barcode(rec.frame(10)) == 10  # re-opens


def test_frame_bad_index(numbered_mp4):
    rec = open_recording(numbered_mp4)
    with pytest.raises(ValueError, match=r"k must be in \[0, 119\], got 120"):
        rec.frame(120)
    with pytest.raises(ValueError, match="got -1"):
        rec.frame(-1)
    with pytest.raises(TypeError, match="k must be an integer"):
        rec.frame(1.0)


def test_iter_frames(numbered_mp4):
    rec = open_recording(numbered_mp4)
    assert [read_barcode(f) for f in rec.iter_frames()] == list(range(120))
    assert [read_barcode(f) for f in rec.iter_frames(5, 40, 6)] == list(range(5, 40, 6))
    assert [read_barcode(f) for f in rec.iter_frames(110, 500, 4)] == [110, 114, 118]
    assert list(rec.iter_frames(50, 50)) == []
    small = list(rec.iter_frames(0, 3, max_side=24))
    assert [f.shape for f in small] == [(16, 24, 3)] * 3
    assert [read_barcode(f) for f in small] == [0, 1, 2]
    assert rec.thumbnail(7, max_side=48).shape == (32, 48, 3)
    assert rec.thumbnail(7, max_side=1000).shape == (64, 96, 3)
    with pytest.raises(ValueError, match="step must be >= 1"):
        rec.iter_frames(step=0)
    with pytest.raises(ValueError, match="start must be >= 0"):
        rec.iter_frames(-2)
    with pytest.raises(ValueError, match="max_side must be >= 1"):
        rec.iter_frames(max_side=0)


def test_iter_frames_independent_of_random_access(numbered_mp4):
    rec = open_recording(numbered_mp4)
    results = {}

    def worker():
        results["seq"] = [read_barcode(f) for f in rec.iter_frames(0, 120, 3)]

    thread = threading.Thread(target=worker)
    thread.start()
    randoms = [read_barcode(rec.frame(int(k))) for k in (90, 4, 60, 61, 20)]
    thread.join()
    assert randoms == [90, 4, 60, 61, 20]
    assert results["seq"] == list(range(0, 120, 3))


def test_container_count_that_lies(tmp_path):
    path = truncate_mpeg4_frames(write_video(tmp_path / "cut.mp4", 40, "mp4v"), keep=25)
    import cv2

    capture = cv2.VideoCapture(str(path))
    claimed = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    assert claimed == 40  # the container still claims every frame ...
    rec = open_recording(path)
    assert rec.n_frames == 25  # ... but only 25 decode
    assert read_barcode(rec.frame(24)) == 24
    assert len(list(rec.iter_frames())) == 25


def test_video_has_no_audio(numbered_mp4):
    rec = open_recording(numbered_mp4)
    with pytest.raises(MediaError, match="numbered.mp4: is a video file; its sound track"):
        rec.audio()
    with pytest.raises(MediaError, match="sound track"):
        rec.envelope(10)
    assert rec.describe()["width"] == 96
    assert "96x64" in repr(rec)


def test_shared_h264_video(shared_data):
    path = shared_data / "public" / "video" / "video_p01_bikes" / "a.mp4"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    import cv2

    rec = open_recording(path)
    assert (rec.n_frames, rec.rate_hz, rec.width, rec.height) == (250, 25.0, 640, 272)
    capture = cv2.VideoCapture(str(path))
    sequential = []
    for _ in range(200):
        sequential.append(cv2.cvtColor(capture.read()[1], cv2.COLOR_BGR2RGB))
    capture.release()
    for k in (173, 0, 199, 37, 120):
        np.testing.assert_array_equal(rec.frame(k), sequential[k])
    for k, image in zip(range(150, 200, 7), rec.iter_frames(150, 200, 7), strict=True):
        np.testing.assert_array_equal(image, sequential[k])


# -- errors ------------------------------------------------------------------------------
def _problem(path) -> str:
    with pytest.raises(MediaError) as info:
        open_recording(path)
    assert info.value.path == str(path.absolute())
    assert str(info.value).startswith(str(path.absolute()) + ": ")
    # no decoder exception chained into the traceback
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    return info.value.problem


def test_missing_and_folder(tmp_path):
    assert _problem(tmp_path / "nope.wav") == "file not found"
    assert _problem(tmp_path) == "is a folder, not a media file"


def test_unreadable(tmp_path, monkeypatch):
    path = write_audio(tmp_path / "locked.wav", chirp(100, RATE), RATE)
    real_open = open

    def deny(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    # chmod cannot lock root out (these tests often run as root): simulate the refusal
    monkeypatch.setattr("builtins.open", deny)
    assert _problem(path) == "cannot be read (permission denied)"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their permissions")
def test_unreadable_by_permissions(tmp_path):
    path = write_audio(tmp_path / "locked.wav", chirp(100, RATE), RATE)
    path.chmod(0)
    assert _problem(path) == "cannot be read (permission denied)"


@pytest.mark.parametrize("name", ["empty.wav", "empty.mp4", "empty"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    assert _problem(tmp_path / name) == "is empty (0 bytes)"


@pytest.mark.parametrize(("name", "words"), [
    ("noise.wav", "could not be decoded as audio"),
    ("noise.flac", "could not be decoded as audio"),
    ("noise.mp4", "could not be opened as video"),
    ("noise.mkv", "could not be opened as video"),
    ("noise.bin", "is not a recognised audio or video format"),
])
def test_corrupt_random_bytes(tmp_path, name, words):
    (tmp_path / name).write_bytes(np.random.default_rng(3).bytes(20_000))
    assert words in _problem(tmp_path / name)


def test_text_file_and_image(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n" * 100)
    assert "not a recognised audio or video format" in _problem(tmp_path / "notes.txt")
    import cv2

    cv2.imwrite(str(tmp_path / "still.png"), np.zeros((8, 8, 3), np.uint8))
    assert _problem(tmp_path / "still.png") == ("is a still image, not an audio or video "
                                                "recording")


def test_zero_length_audio(tmp_path):
    path = write_audio(tmp_path / "zero.wav", np.zeros((0, 2), np.float32), RATE)
    assert soundfile.info(str(path)).frames == 0  # a valid header without samples
    assert _problem(path) == "contains no audio samples (zero length)"


def test_truncated_audio_header_only(tmp_path):
    path = write_audio(tmp_path / "cut.wav", chirp(RATE, RATE), RATE)
    path.write_bytes(path.read_bytes()[:30])  # half a header
    assert "could not be decoded as audio" in _problem(path)


def test_corrupt_in_the_middle(tmp_path):
    path = write_audio(tmp_path / "damaged.flac", chirp(RATE * 20, RATE), RATE)
    data = bytearray(path.read_bytes())
    middle = len(data) // 3  # about 6.7 s into the audio
    data[middle:middle + 5000] = np.random.default_rng(4).bytes(5000)
    path.write_bytes(bytes(data))
    rec = open_recording(path)  # the header is fine
    with pytest.raises(MediaError, match=r"damaged.flac: is corrupt: decoding failed "
                                         r"between 0.00 s and 8.19 s"):
        rec.audio()
    assert rec.read_block(0, 100).shape == (100,)  # the undamaged start still reads


def test_video_without_decodable_frame(tmp_path):
    path = truncate_mpeg4_frames(write_video(tmp_path / "blank.mp4", 20, "mp4v"), keep=0)
    assert _problem(path) == "contains no decodable video frame"


def test_video_with_no_frames(tmp_path):
    path = write_video(tmp_path / "none.avi", 0, "MJPG")
    assert _problem(path) in {"contains no decodable video frame",
                              "could not be opened as video (the file is corrupt or its "
                              "container or codec is not supported)"}


def test_bad_path_type():
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        open_recording(42)


def test_public_names():
    import core

    assert core.open_recording is open_recording
    assert core.Recording is Recording


# -- names with any bytes, headers that lie, samples that are not numbers -----------------
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _bytes_name(tmp_path, name: bytes) -> str:
    """A path whose last part is ``name`` (any bytes), as Python gives it (surrogates)."""
    return os.fsdecode(os.path.join(os.fsencode(tmp_path), name))


def test_audio_with_a_name_that_is_not_utf8(tmp_path, stereo_flac):
    path = _bytes_name(tmp_path, b"caf\xe9 \xff.flac")
    with open(path, "wb") as handle:
        handle.write(stereo_flac[0].read_bytes())
    rec = open_recording(path)
    assert rec.kind == "audio" and rec.audio(mono=False).shape == stereo_flac[1].shape
    assert rec.read_block(10, 20).shape == (10,)


def test_corrupt_audio_with_such_a_name_says_what_libsndfile_said(tmp_path):
    path = _bytes_name(tmp_path, b"bad\xff.wav")
    with open(path, "wb") as handle:
        handle.write(b"RIFF\x00\x00not a wave file at all" * 10)
    with pytest.raises(MediaError) as info:
        open_recording(path)
    message = str(info.value)
    assert "bad\\xff.wav: could not be decoded as audio" in message
    assert "Format not recognised" in message or "malformed" in message.lower()


def test_video_with_a_name_that_is_not_utf8_in_a_subprocess(tmp_path):
    # OpenCV's binding crashed (SIGSEGV) on such names: a subprocess keeps a regression
    # from taking the test run down with it
    folder = os.path.join(os.fsencode(tmp_path), b"d\xe9")
    os.mkdir(folder)
    good = write_video(tmp_path / "v.avi", 12, "MJPG")
    name = os.path.join(folder, b"v\xff.avi")
    with open(name, "wb") as handle:
        handle.write(good.read_bytes())
    code = ("import os, sys\n"
            "from core.media import open_recording\n"
            "from media_factory import read_barcode\n"
            "rec = open_recording(os.fsdecode(sys.argv[1].encode('latin-1')))\n"
            "frames = [read_barcode(f) for f in rec.iter_frames()]\n"
            "print(rec.kind, rec.n_frames, read_barcode(rec.frame(5)), frames[-1])\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.path.join(ROOT, "tests",
                                                                              "core")])}
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code, name.decode("latin-1")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.split() == ["video", "12", "5", "11"]
    assert not [p for p in os.listdir(folder) if p != b"v\xff.avi"]


def _forge_channels(path, channels: int) -> None:
    import struct

    data = bytearray(path.read_bytes())
    bits = struct.unpack_from("<H", data, 34)[0]
    rate = struct.unpack_from("<I", data, 24)[0]
    struct.pack_into("<H", data, 22, channels)
    struct.pack_into("<I", data, 28, rate * channels * bits // 8)
    struct.pack_into("<H", data, 32, channels * bits // 8)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("channels", "words"), [
    (1000, "claims 1000 channels (at most 256 are read)"),
    (3, "is not a whole number of frames of 3 channels"),
])
def test_wav_header_that_lies_about_channels(tmp_path, channels, words):
    path = write_audio(tmp_path / "lie.wav", np.zeros((RATE, 2), np.float32), RATE,
                       subtype="PCM_16")
    _forge_channels(path, channels)
    assert soundfile.info(str(path)).channels == channels  # libsndfile believes it
    assert words in _problem(path)


def test_many_real_channels_still_read(tmp_path):
    path = write_audio(tmp_path / "ambi.wav", np.zeros((100, 64), np.float32), RATE,
                       subtype="PCM_16")
    assert open_recording(path).audio(mono=False).shape == (100, 64)


@pytest.mark.parametrize(("value", "words"), [
    (np.nan, "contains NaN or infinite samples, the first at 1.000 s"),
    (np.inf, "contains NaN or infinite samples, the first at 1.000 s"),
    (1e30, "contains samples larger than 1e+06 in magnitude"),
])
def test_float_wav_with_samples_that_are_not_audio(tmp_path, value, words):
    x = chirp(RATE * 2, RATE)
    x[RATE] = value
    path = write_audio(tmp_path / "f.wav", x, RATE, subtype="FLOAT")
    rec = open_recording(path)
    for call in (rec.audio, lambda: rec.read_block(RATE - 10, RATE + 10),
                 lambda: list(rec.iter_blocks(1000))):
        with pytest.raises(MediaError, match="f.wav: " + words.replace("+", r"\+")):
            call()
    assert rec.read_block(0, RATE).shape == (RATE,)  # the part before is fine
