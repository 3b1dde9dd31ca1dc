"""The headless command line: outputs, and one-line errors with exit status 2."""

import csv
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from core import cli
from tests.core.media_factory import tone_sequence

SR = 16000


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    melody = [60, 64, 67, 72, 71, 67, 65, 62, 60, 69]
    a = tone_sequence(folder / "a.wav", melody, 0.30)
    b = tone_sequence(folder / "b.wav", melody, 0.45)
    return a, b


def run(*args):
    return subprocess.run([sys.executable, "-m", "inspector.launch", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def test_align_writes_csv_with_header(pair, tmp_path):
    out = tmp_path / "out.csv"
    assert cli.main(["align", str(pair[0]), str(pair[1]), "-o", str(out), "-q"]) == 0
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["time_a_s", "time_b_s"]
    times = np.array(rows[1:], dtype=float)
    assert np.all(np.diff(times, axis=0) >= 0)
    # notes of B are 1.5 times longer: the path follows t_b = 1.5 t_a
    mid = times[len(times) // 4: 3 * len(times) // 4]
    assert np.median(np.abs(mid[:, 1] - 1.5 * mid[:, 0])) < 0.1


def test_align_json_keeps_the_settings_it_ran_with(pair, tmp_path):
    from core.formats import read_recipe

    out = tmp_path / "out.json"
    assert cli.main(["align", str(pair[0]), str(pair[1]), "-o", str(out), "-q",
                     "--method", "dtw", "--feature", "mfcc", "--rate", "20"]) == 0
    recipe = read_recipe(out)
    assert recipe.method == "dtw"
    assert [f.name for f in recipe.features_a] == ["mfcc"]
    assert recipe.features_b[0].rate_hz == 20.0
    default = tmp_path / "default.json"
    assert cli.main(["align", str(pair[0]), str(pair[1]), "-o", str(default), "-q",
                     "--band", "3"]) == 0
    recipe = read_recipe(default)
    # the default pipeline's: its values, and the features it reports having used
    assert recipe.method == "default" and recipe.params["band_s"] == 3.0
    assert recipe.features_a


def test_align_to_stdout(pair, capsys):
    assert cli.main(["align", str(pair[0]), str(pair[1]), "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "time_a_s,time_b_s" and len(lines) > 10


def test_rate_above_what_the_recordings_allow_is_refused_before_work(tmp_path, capsys):
    """Within the registry's range, a rate the streams cannot carry (audio features are
    refined at up to 4 times the rate, under the sample rate) is refused naming --rate."""
    t = np.arange(2000 * 2) / 2000.0
    for name in ("lo_a.wav", "lo_b.wav"):
        sf.write(tmp_path / name, 0.5 * np.sin(2 * np.pi * 220 * t), 2000)
    argv = ["align", str(tmp_path / "lo_a.wav"), str(tmp_path / "lo_b.wav"), "--rate", "800"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "argument --rate: 800 Hz is above what these recordings allow: at most 500 Hz" \
        in err, err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["align", "{missing}", "{b}"], "file not found"),
    (["align", "{a}", "{b}", "--method", "magic"], "invalid choice"),
    (["align", "{a}", "{b}", "--rate", "zero"], "expected a number"),
    (["align", "{a}", "{b}", "-o", "{tmp}/no/such/folder/out.csv"], "does not exist"),
    (["align", "{a}", "{b}", "-o", "{tmp}/out.xyz"], "cannot tell the alignment format"),
    (["align", "{corrupt}", "{b}"], "corrupt.wav"),
    (["align", "{empty}", "{b}"], "empty.wav"),
    (["frobnicate"], "invalid choice"),
    # issue 19: bounds checked before work, internal errors turned into messages
    (["align", "{a}", "{b}", "--rate", "1e6"], "argument --rate: expected a number in "
     "(0, 1000]"),
    (["align", "{a}", "{b}", "--rate", "1e5"], "(0, 1000]"),
    (["align", "{a}", "{b}", "--feature", ""], "argument --feature: expected one of auto"),
    (["align", "{a}", "{b}", "--feature", "chroma++onset"], "argument --feature: expected one"),
    (["align", "{a}", "{b}", "-o", "{tmp}/out.json", "--format", "csv"],
     "a .json file holds json, not csv"),
    (["align", "{a}", "{b}", "-o", "{tmp}/" + "n" * 252 + ".csv"], "256 bytes long"),
    (["align", "{a}", "{b}", "-o", "{tmp}"], "is a folder"),
])
def test_bad_input_is_one_line_and_status_2(pair, tmp_path, capsys, args, message):
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x00not a wave file at all" * 10)
    (tmp_path / "empty.wav").write_bytes(b"")
    names = {"missing": tmp_path / "missing.wav", "a": pair[0], "b": pair[1], "tmp": tmp_path,
             "corrupt": tmp_path / "corrupt.wav", "empty": tmp_path / "empty.wav"}
    argv = [a.format(**names) for a in args]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "no").exists()
    assert not list(tmp_path.glob("out.*"))


def test_sv_prints_pairs_without_header(pair, capsys):
    assert cli.sv_main([str(pair[0]), str(pair[1])]) == 0
    lines = capsys.readouterr().out.splitlines()
    first = lines[0].split(",")
    assert len(first) == 2 and float(first[0]) >= 0  # a number, not a header


def test_console_script_path_has_no_traceback(tmp_path):
    proc = run("align", tmp_path / "nope.wav", tmp_path / "nope2.wav")
    assert proc.returncode == 2
    assert proc.stderr.startswith("alignment-inspector: error:") and "Traceback" not in proc.stderr


# ------------------------------------------------------------------ outputs (core.paths)
def one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.fixture
def alignment_csv(tmp_path):
    path = tmp_path / "al.csv"
    path.write_text("time_a_s,time_b_s\n0,0\n0.5,0.7\n1.0,1.5\n")
    return path


def test_output_equal_to_an_input_is_refused_before_work(pair, tmp_path, capsys,
                                                         alignment_csv):
    a = tmp_path / "a.wav"
    a.write_bytes(pair[0].read_bytes())
    before = a.read_bytes()
    assert cli.main(["align", str(a), str(pair[1]), "-o", str(a), "--format", "csv"]) == 2
    one_line_error(capsys, f"{a}: is the same file as an input")
    assert a.read_bytes() == before
    labels = tmp_path / "labels.txt"
    labels.write_text("0.1\t0.4\tx\n")
    original = alignment_csv.read_text()
    for out in (alignment_csv, labels):
        assert cli.main(["transfer", str(alignment_csv), str(labels), "-o", str(out)]) == 2
        one_line_error(capsys, "is the same file as an input")
    link = tmp_path / "link.csv"
    link.symlink_to(alignment_csv)
    assert cli.main(["convert", str(alignment_csv), "-o", str(link)]) == 2
    one_line_error(capsys, f"{link}: is the same file as an input")
    assert alignment_csv.read_text() == original and labels.read_text() == "0.1\t0.4\tx\n"


def test_output_through_a_symbolic_link(tmp_path, alignment_csv):
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert cli.main(["convert", str(alignment_csv), "-o", str(link)]) == 0
    assert link.is_symlink() and '"format": "alignment-inspector/alignment"' in real.read_text()


def test_output_to_a_device_and_to_standard_output(alignment_csv, capsys, null_device):
    import os
    import stat

    out = str(null_device)
    assert cli.main(["convert", str(alignment_csv), "-o", out, "--format", "csv"]) == 0
    assert stat.S_ISCHR(os.stat(out).st_mode)
    assert cli.main(["convert", str(alignment_csv), "-o", "-"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == ["time_a_s,time_b_s",
                                                       "0.000000000,0.000000000"]


def test_closed_standard_output_is_one_line_and_status_2(alignment_csv, pair):
    for args in (["convert", alignment_csv, "-o", "-"], ["align", *pair, "-q"]):
        proc = subprocess.run(["bash", "-c", 'exec "$@" >&-', "_", sys.executable, "-m",
                               "inspector.launch", *map(str, args)],
                              capture_output=False, stderr=subprocess.PIPE, text=True,
                              timeout=600)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip() == ("alignment-inspector: error: standard output: is "
                                       "closed; give an output file (-o OUT)")


@pytest.mark.parametrize(("args", "message"), [
    (["convert", "{al}", "-o", "{tmp}/r.csv", "--rate-a", "1e-300"],
     "al.csv, line 3: the frame rate given for A (1e-300 Hz) puts the distinct times"),
    (["convert", "{al}", "-o", "{tmp}/r.csv", "--rate-a", "nan"],
     "argument --rate-a: expected a number in (0, 1e+06], got 'nan'"),
    (["convert", "{al}", "-o", "{tmp}/r.csv", "--rate-b", "1e7"], "argument --rate-b"),
    (["convert", "{al}", "-o", "{tmp}/r.csv", "--rate-b", "-2"], "argument --rate-b"),
    (["convert", "{al}", "-o", "{tmp}/r.xyz"], "cannot tell the alignment format"),
    (["transfer", "{al}", "{labels}", "-o", "{tmp}/y.svl"], "y.svl: a .svl file cannot hold "
     "annotations"),
    (["transfer", "{al}", "{labels}", "-o", "{tmp}/y.TextGrid", "--format", "audacity"],
     "a .textgrid file holds textgrid, not audacity"),
])
def test_format_commands_refuse_with_one_line(tmp_path, capsys, alignment_csv, args, message):
    labels = tmp_path / "labels.txt"
    labels.write_text("0.1\t0.4\tx\n")
    argv = [a.format(al=alignment_csv, labels=labels, tmp=tmp_path) for a in args]
    assert cli.main(argv) == 2
    one_line_error(capsys, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["al.csv", "labels.txt"]


def test_help_states_the_bounds(capsys):
    assert cli.main(["convert", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "0 < HZ <= 1e+06" in text


def test_help_says_how_to_open_the_window_and_take_a_screenshot(capsys):
    """--help is where a new user looks: the window's own arguments (a project, the
    screenshot) were only in the README."""
    assert cli.main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "PROJECT" in text and "--screenshot PNG" in text


def test_python_m_inspector_runs_the_program():
    """``python -m inspector`` (a checkout that is not installed) is the program; it
    said "No module named inspector.__main__"."""
    done = subprocess.run([sys.executable, "-m", "inspector", "--version"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("alignment-inspector ")


@pytest.mark.filterwarnings("default::core.errors.PartialOverlapWarning")
def test_align_says_what_one_side_has_and_the_other_lacks_in_one_line(pair, tmp_path, capsys):
    b, sr = sf.read(pair[1], dtype="float32")
    lead = np.cumsum(np.random.default_rng(6).normal(0.0, 1.0, 3 * sr))  # 3 s of noise
    lead = (0.3 * (lead - lead.mean()) / np.max(np.abs(lead - lead.mean()))).astype(np.float32)
    sf.write(tmp_path / "later.wav", np.concatenate([lead, b]), sr)
    out = tmp_path / "out.csv"
    assert cli.main(["align", str(pair[0]), str(tmp_path / "later.wav"), "-o", str(out),
                     "-q"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("alignment-inspector: warning: B (later.wav) has material at "
                               "its start (0.0-"), lines
    assert out.is_file()


@pytest.mark.parametrize(("command", "option"), [("convert", "--input-format"),
                                                 ("transfer", "--labels-format")])
def test_an_input_of_unknown_extension_names_the_option_that_gives_its_format(
        tmp_path, capsys, command, option):
    """'give the format' left the user to guess which of two format options: the
    message names the input's option (--format is the output's)."""
    from core.alignment import Alignment
    from core.formats import write_alignment

    path = np.column_stack([np.arange(10), np.arange(10)])
    write_alignment(Alignment(path, 10.0, 10.0, n_a=10, n_b=10), tmp_path / "al.csv")
    odd = tmp_path / "input.dat"
    odd.write_text("0.0\t0.5\tone\n")
    argv = (["convert", str(odd), "-o", str(tmp_path / "out.json")] if command == "convert"
            else ["transfer", str(tmp_path / "al.csv"), str(odd), "-o",
                  str(tmp_path / "out.TextGrid")])
    assert cli.main(argv) == 2
    one_line_error(capsys, f"{odd}: cannot tell the", f"; give {option}, one of ")
    assert not (tmp_path / "out.json").exists() and not (tmp_path / "out.TextGrid").exists()
