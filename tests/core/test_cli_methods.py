"""``align``'s methods and options come from the registry: every method runs from the
command line with its defaults; options are checked against the method before work."""

import csv
import subprocess
import sys

import numpy as np
import pytest

from core import cli, registry
from tests.core.media_factory import tone_sequence

SR = 16000


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_methods")
    melody = [60, 64, 67, 72, 71, 67, 65, 62]
    return (tone_sequence(folder / "a.wav", melody, 0.25),
            tone_sequence(folder / "b.wav", melody, 0.35))


def read_pairs(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["time_a_s", "time_b_s"]
    return np.array(rows[1:], dtype=float)


@pytest.mark.parametrize("method", list(registry.METHODS))
def test_every_method_runs_from_the_command_line_with_its_defaults(pair, tmp_path, method):
    out = tmp_path / f"{method}.csv"
    proc = subprocess.run([sys.executable, "-m", "inspector.launch", "align", str(pair[0]),
                           str(pair[1]), "--method", method, "-o", str(out), "-q"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    times = read_pairs(out)
    assert len(times) > 5 and np.all(np.diff(times, axis=0) >= 0)
    assert times[-1, 0] <= 2.0 + 1e-6 and times[-1, 1] <= 2.8 + 1e-6


@pytest.mark.filterwarnings("ignore::core.errors.ConvergenceWarning")
@pytest.mark.parametrize("variant", registry.METHODS["ot"].param("variant").values)
def test_every_transport_variant_runs_from_the_command_line(pair, tmp_path, variant):
    out = tmp_path / f"ot_{variant}.json"
    assert cli.main(["align", str(pair[0]), str(pair[1]), "--method", "ot", "--variant",
                     variant, "--rate", "10", "-o", str(out), "-q"]) == 0
    from core.formats import read_alignment

    assert read_alignment(out).params["method"] == variant


def test_method_options_reach_the_engine(pair, tmp_path):
    out = tmp_path / "dtw.json"
    assert cli.main(["align", str(pair[0]), str(pair[1]), "--method", "dtw", "--feature",
                     "logmel", "--rate", "20", "--window", "slanted_band", "--radius", "0.5",
                     "--step-pattern", "symmetric1", "-o", str(out), "-q"]) == 0
    from core.formats import read_alignment

    al = read_alignment(out)
    assert al.rate_a_hz == 20.0
    assert tuple(al.params["window"]) == ("slanted_band", 10)  # seconds became frames
    assert al.params["step_pattern"] == "symmetric1"


@pytest.mark.parametrize(("args", "message"), [
    (["--method", "dtw", "--band", "2"], "argument --band: not an option of --method dtw"),
    (["--method", "ot", "--reg-m", "-1"], "argument --reg-m: expected a number in (0"),
    (["--method", "ctw", "--max-iter", "2.5"], "argument --max-iter: expected an integer"),
    (["--method", "dtw", "--metric", "manhattan"], "argument --metric: expected one of"),
    (["--method", "dtw", "--feature", "thumbnail"],
     "argument --feature: thumbnail is a video feature; for audio use one of"),
    (["--method", "dtw", "--feature", "chroma", "--feature-b", "mfcc"],
     "dtw needs features of the same dimension on A and B; chroma has 12, mfcc has 20"),
    (["--method", "default", "--gamma", "1"], "argument --gamma: not an option of --method "
                                              "default (its options: --feature, --rate"),
    (["--rate", "0"], "argument --rate: expected a number in (0, 1000]"),
])
def test_bad_options_are_one_line_naming_the_option(pair, tmp_path, capsys, args, message):
    out = tmp_path / "never.csv"
    assert cli.main(["align", str(pair[0]), str(pair[1]), *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert message in err
    assert not out.exists()


def test_help_states_every_option_with_its_range():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["align"]
    text = sub.format_help()
    for entry in registry.METHODS.values():
        assert entry.name in text
        for p in entry.params:
            if p.cli:
                assert p.flag in text, p.flag
    assert "a number in (0, 86400] (seconds)" in " ".join(text.split())
