"""core.render: anchors, the chunked stretch against one piece, event timing, duration,
the render subcommand's errors."""

from __future__ import annotations

import numpy as np
import soundfile

from core import cli
from core.alignment import Alignment
from core.render import WarpPlan, hps_stretch, render, warp_anchors

RATE = 8000


def _warp_alignment(duration_b_s=3.0, fr=100.0):
    """t_a(t_b): tempo between 0.8 and 1.25 (A 0.2 s longer at the end)."""
    tb = np.arange(0, duration_b_s, 1 / fr)
    ta = tb + 0.1 * (1 - np.cos(np.pi * tb / duration_b_s))
    path = np.unique(np.stack([np.round(ta * fr), np.round(tb * fr)], 1).astype(int), axis=0)
    return Alignment(path, fr, fr), ta, tb


def _clicks(times_s, duration_s):
    x = 0.02 * np.sin(2 * np.pi * 200 * np.arange(int(duration_s * RATE)) / RATE)
    for t in times_s:
        i = int(round(t * RATE))
        x[i:i + 8] += 0.9 * np.hanning(8)
    return x.astype(np.float32)


def _onsets(y, expected):
    found = []
    for e in expected:
        i0 = int((e - 0.03) * RATE)
        seg = np.abs(np.diff(y[i0:int((e + 0.03) * RATE)]))
        found.append((i0 + int(np.argmax(seg))) / RATE)
    return np.array(found)


def test_anchors_increase_strictly_and_stay_inside():
    al, ta, tb = _warp_alignment()
    anchors = warp_anchors(al, rate_hz=RATE, n_in=3 * RATE, n_out=int(ta[-1] * RATE) + 1)
    assert np.all(np.diff(anchors, axis=0) > 0)
    assert anchors[:, 0].max() < 3 * RATE and anchors[0, 1] == 0
    # a path with steps that hold still on B still gives valid anchors
    steps = Alignment(np.array([[0, 0], [1, 0], [2, 0], [3, 1], [3, 2], [4, 3]]), 10, 10)
    a = warp_anchors(steps, rate_hz=RATE, n_in=RATE, n_out=RATE)
    assert np.all(np.diff(a, axis=0) > 0)


def test_median_kernels_match_libtsm():
    from libtsm import utils

    from core._kernels.median import sliding_median_cols, sliding_median_rows

    rng = np.random.default_rng(3)
    for shape in ((1, 1), (5, 1), (1, 7), (33, 20)):
        x = np.abs(rng.standard_normal(shape))
        x[x < 0.4] = 0.0  # ties
        for n in (1, 2, 9, 10):
            for dim, kernel in ((0, sliding_median_rows), (1, sliding_median_cols)):
                out = np.empty_like(x)
                kernel(x, n, out)
                np.testing.assert_array_equal(out, utils.median_filter(x, n, dim))


def test_stretch_equals_libtsm():
    import libtsm

    rng = np.random.default_rng(5)
    mono = _clicks([0.1, 0.4], 0.6).astype(np.float64)
    stereo = np.stack([mono, 0.3 * rng.standard_normal(len(mono))], axis=1)
    for x, anchors in ((mono, np.array([[0, 0], [2000, 2600], [4700, 5400]])),
                       (stereo, np.array([[300, 0], [2500, 1400], [4700, 3000]]))):
        ours = hps_stretch(x, anchors, RATE)
        theirs = libtsm.hps_tsm(x, anchors, Fs=RATE)
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, atol=1e-10)


def test_chunks_overlap_add_like_one_piece_and_events_land_on_a():
    al, ta, tb = _warp_alignment()
    clicks_b = np.arange(0.15, 2.8, 0.23)
    x = _clicks(clicks_b, 3.0)
    n_out = int(ta[-1] * RATE)
    plan = WarpPlan.from_alignment(al, n_in=len(x), n_out=n_out, rate_hz=RATE, chunk_s=0.5)
    assert plan.n_chunks >= 5
    y = plan.render_range(x, 0, n_out)[:, 0]
    assert y.shape == (n_out,)
    expected = np.interp(clicks_b, *al.mapping_knots(1))
    reference = _onsets(x, clicks_b) - clicks_b  # the detector's own offset
    errors = np.abs(_onsets(y, expected) - expected - reference) * 1000
    assert np.percentile(errors, 95) <= 5.0
    # a range starting mid-file equals the same samples of the whole
    part = plan.render_range(x, 5000, 9000)[:, 0]
    np.testing.assert_allclose(part, y[5000:9000], atol=1e-6)


def test_render_writes_a_duration_and_stereo(tmp_path):
    al, ta, tb = _warp_alignment()
    a = tmp_path / "a.wav"
    b = tmp_path / "b.wav"
    soundfile.write(a, _clicks(np.arange(0.2, 3.0, 0.3), ta[-1]), RATE)
    soundfile.write(b, _clicks(np.arange(0.2, 2.8, 0.3), 3.0), RATE)
    out = tmp_path / "warped.wav"
    summary = render(a, b, out, alignment=al, mode="warped")
    info = soundfile.info(out)
    assert info.frames == int(round(soundfile.info(a).duration * RATE))
    assert summary["channels"] == 1
    stereo = tmp_path / "stereo.wav"
    render(a, b, stereo, alignment=al, mode="stereo")
    data, rate = soundfile.read(stereo)
    assert data.shape[1] == 2 and rate == RATE
    np.testing.assert_allclose(data[:, 0], soundfile.read(a)[0][:len(data)], atol=1e-4)


def test_side_by_side_video(tmp_path):
    from core.media import open_recording
    from tests.core.media_factory import read_barcode, write_video

    a = write_video(tmp_path / "a.avi", 20, "MJPG", fps=10.0)
    b = write_video(tmp_path / "b.avi", 40, "MJPG", fps=10.0)
    i = np.arange(20)
    al = Alignment(np.stack([i, 2 * i], 1), 10.0, 10.0, n_b=40)
    out = tmp_path / "sbs.mp4"
    render(a, b, out, alignment=al, mode="side-by-side")
    rec = open_recording(out)
    assert rec.n_frames == 20 and rec.width == 2 * rec.height * 96 // 64
    frame = rec.frame(7)
    half = frame.shape[1] // 2
    assert read_barcode(frame[:, :half]) == 7
    assert read_barcode(frame[:, half:]) == 14


def test_render_command_errors_are_one_line_exit_2_no_file(tmp_path, capsys):
    a = tmp_path / "a.wav"
    soundfile.write(a, _clicks([0.1], 0.5), RATE)
    out = tmp_path / "out.wav"
    cases = [
        ["render", str(a), str(tmp_path / "missing.wav"), "-o", str(out)],
        ["render", str(a), str(a), "-o", str(a)],
        ["render", str(a), str(a), "-o", str(tmp_path / "no" / "out.wav")],
        ["render", str(a), str(a), "-o", str(tmp_path / "out.mp4")],
        ["render", str(a), str(a), "-o", str(tmp_path / "x.mp4"), "--mode", "side-by-side"],
        ["render", str(a), str(a), "-o", str(out), "--alignment", str(a)],
        ["render", str(a), str(a), "-o", str(out), "--mode", "mono"],
    ]
    for argv in cases:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("alignment-inspector: error:"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"]


def _render_with_an_alignment_file(tmp_path):
    """``render A B -o out.wav --alignment al.csv`` on two click tracks; returns A, OUT."""
    from core.formats import write_alignment

    al, ta, _ = _warp_alignment()
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    soundfile.write(a, _clicks([0.5], ta[-1]), RATE)
    soundfile.write(b, _clicks([0.5], 3.0), RATE)
    write_alignment(al, tmp_path / "al.csv")
    out = tmp_path / "out.wav"
    assert cli.main(["render", str(a), str(b), "-o", str(out), "--alignment",
                     str(tmp_path / "al.csv")]) == 0
    return a, out


def test_render_command_with_an_alignment_file(tmp_path, capsys):
    a, out = _render_with_an_alignment_file(tmp_path)
    assert "written" in capsys.readouterr().err
    assert soundfile.info(out).frames == soundfile.info(a).frames


def test_render_progress_is_for_a_terminal_only(tmp_path, capsys):
    """Into a log (standard error not a terminal) ``render`` writes its one result line,
    not a carriage-return progress bar glued in front of it, as ``align`` does."""
    _render_with_an_alignment_file(tmp_path)
    err = capsys.readouterr().err
    assert "\r" not in err and " %" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].endswith(" s written"), err
