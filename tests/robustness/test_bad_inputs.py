"""The bad inputs of issue 19, end to end through the command line: every refusal is one
line on standard error naming the file (or option) with exit status 2, every accepted
input gives a right result; no traceback, no file changed but the output, no temporary
file, nothing over 20 s."""

from __future__ import annotations

import dataclasses
import os
import stat
import struct
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import pytest
import soundfile
from fuzzing import PRAAT, ROOT  # tests/robustness is on sys.path

from core import cli

SR = 8000
TEXTGRID = ('File type = "ooTextFile"\nObject class = "TextGrid"\nxmin = 0\nxmax = 1\n'
            'tiers? <exists>\nsize = 1\nitem []:\nitem [1]:\nclass = "IntervalTier"\n'
            'name = "w"\nxmin = 0\nxmax = 1\nintervals: size = 1\nintervals [1]:\nxmin = 0\n'
            'xmax = 1\ntext = "a"\n')


def tone(path, seconds=1.0, subtype="PCM_16", channels=1, edit=None):
    t = np.arange(int(SR * seconds)) / SR
    x = (0.4 * np.sin(2 * np.pi * 330 * t) * (1 + np.sin(7 * t))).astype(np.float32)
    if edit is not None:
        edit(x)
    data = np.stack([x] * channels, axis=1) if channels > 1 else x
    soundfile.write(str(path), data, SR, subtype=subtype)
    return path


def forge_channels(path, channels):
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, 22, channels)
    struct.pack_into("<I", data, 28, SR * channels * 2)
    struct.pack_into("<H", data, 32, channels * 2)
    path.write_bytes(bytes(data))
    return path


def alignment_csv(path):
    path.write_text("time_a_s,time_b_s\n0,0\n0.25,0.3\n0.5,0.6\n1,1.2\n")
    return path


@dataclasses.dataclass
class Case:
    """One bad (or awkward) input: files made in the folder, the arguments, and what
    must come out."""

    make: Callable  # make(folder) -> dict of names used in args
    args: list
    status: int
    says: tuple = ()  # substrings of the one error line (with {names} formatted)
    output: str | None = None  # the file an accepted case writes
    verify: Callable | None = None  # verify(folder, names) for accepted cases


def _files(**builders):
    def make(folder):
        names = {"tmp": str(folder)}
        for key, build in builders.items():
            names[key] = str(build(folder))
        return names
    return make


def _audio_pair(**extra):
    return _files(a=lambda f: tone(f / "a.wav"), b=lambda f: tone(f / "b.wav", 1.2), **extra)


def _textgrid_with(old, new):
    def build(folder):
        path = folder / "labels.TextGrid"
        path.write_text(TEXTGRID.replace(old, new))
        return path
    return build


def _write(name, data):
    def build(folder):
        path = folder / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        return path
    return build


def _eaf_with(old, new):
    def build(folder):
        from core.formats import read_alignment, write_alignment

        path = folder / "al.eaf"
        write_alignment(read_alignment(alignment_csv(folder / "src.csv")), path)
        path.write_text(path.read_text().replace(old, new, 1))
        return path
    return build


def _json_duration(value):
    def build(folder):
        from core.formats import read_alignment, write_alignment

        path = folder / "al.json"
        write_alignment(read_alignment(alignment_csv(folder / "src.csv")), path)
        path.write_text(path.read_text().replace('"sources": {}', '"sources": {"b": '
                                                 f'{{"duration_s": {value}}}}}'))
        return path
    return build


def null_device(folder):
    """A private character device like /dev/null as root (a regression that replaced it
    by a rename must not replace the machine's own), else /dev/null (not renamable)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        node = folder / "null"
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        return node
    return "/dev/null"


def _symlink(folder):
    (folder / "real.json").write_text("old")
    (folder / "link.json").symlink_to(folder / "real.json")
    return folder / "link.json"


def _finite_textgrid(folder, names):
    from core.formats import read_annotation

    ann = read_annotation(os.path.join(folder, "out.TextGrid"))
    assert np.isfinite(ann.end_s) and ann.end_s < 10


def _link_kept(folder, names):
    assert (folder / "link.json").is_symlink()
    assert '"format": "alignment-inspector/alignment"' in (folder / "real.json").read_text()


def _sv_regions(folder, names):
    from core.formats import read_annotation

    items = read_annotation(folder / "out.TextGrid").tier("layer").items
    assert [(round(i.start_s, 3), i.label) for i in items if i.label] == [(0.612, "la la")]


def _praat_binary(folder, names):
    from core.formats import read_annotation

    words = read_annotation(folder / "out.TextGrid").tier("words").items
    assert [i.label for i in words if i.label] == ["hello", "wörld ☃", "😀 smile"]


LONG = "n" * 251 + ".csv"  # 255 bytes: the temporary name used to be longer

CASES = {
    # 1. names that are not UTF-8 (the segfault itself runs in test_names, in a child)
    "corrupt audio, non-UTF-8 name": Case(
        _audio_pair(bad=_write("bad\udcff.wav", b"RIFF\x00\x00garbage" * 9)),
        ["align", "{bad}", "{b}"], 2, ("bad\\xff.wav: could not be decoded as audio",)),
    # 2. outputs that rename would destroy or that are inputs
    "-o equal to an input (align)": Case(
        _audio_pair(), ["align", "{a}", "{b}", "-o", "{a}", "--format", "csv"], 2,
        ("{a}: is the same file as an input",)),
    "-o equal to the alignment (transfer)": Case(
        _files(al=lambda f: alignment_csv(f / "al.csv"),
               lab=_write("lab.txt", "0.1\t0.4\tx\n")),
        ["transfer", "{al}", "{lab}", "-o", "{al}"], 2, ("{al}: is the same file as an input",)),
    "-o a link to the input (convert)": Case(
        _files(al=lambda f: alignment_csv(f / "al.csv"),
               link=lambda f: (f / "l.csv").symlink_to(f / "al.csv") or f / "l.csv"),
        ["convert", "{al}", "-o", "{link}"], 2, ("is the same file as an input",)),
    "-o a symbolic link": Case(
        _files(al=lambda f: alignment_csv(f / "al.csv"), link=_symlink),
        ["convert", "{al}", "-o", "{link}"], 0, output="real.json", verify=_link_kept),
    "-o a device": Case(
        _files(al=lambda f: alignment_csv(f / "al.csv"), dev=null_device),
        ["convert", "{al}", "-o", "{dev}", "--format", "json"], 0,
        verify=lambda f, n: stat.S_ISCHR(os.stat(n["dev"]).st_mode)),
    # 4. rates
    "--rate 1e6 on 1 s": Case(_audio_pair(), ["align", "{a}", "{b}", "--rate", "1e6"], 2,
                              ("argument --rate: expected a number in (0, 1000]",)),
    "--rate 1e5 on 50 ms": Case(
        _files(a=lambda f: tone(f / "a.wav", 0.05), b=lambda f: tone(f / "b.wav", 0.05)),
        ["align", "{a}", "{b}", "--rate", "1e5"], 2, ("argument --rate",)),
    "--rate-a 1e-300": Case(_files(al=lambda f: alignment_csv(f / "al.csv")),
                            ["convert", "{al}", "-o", "{tmp}/o.csv", "--rate-a", "1e-300"], 2,
                            ("{al}, line 3: the frame rate given for A (1e-300 Hz)",)),
    "--rate-b inf": Case(_files(al=lambda f: alignment_csv(f / "al.csv")),
                         ["convert", "{al}", "-o", "{tmp}/o.csv", "--rate-b", "inf"], 2,
                         ("argument --rate-b: expected a number in (0, 1e+06]",)),
    # 5. internal errors that are now messages
    "--feature ''": Case(_audio_pair(), ["align", "{a}", "{b}", "--feature", ""], 2,
                         ("argument --feature: expected one of auto",)),
    "TextGrid size = 1e999": Case(
        _files(al=lambda f: alignment_csv(f / "al.csv"),
               tg=_textgrid_with("size = 1\n", "size = 1e999\n")),
        ["transfer", "{al}", "{tg}", "-o", "{tmp}/o.TextGrid"], 2,
        ("{tg}, line 6: the number of tiers 1e999 is not a finite number",)),
    "JSON nested 100,000 deep": Case(
        _files(js=_write("deep.json", "[" * 100_000 + "]" * 100_000)),
        ["convert", "{js}", "-o", "{tmp}/o.csv"], 2, ("{js}: not an alignment file",)),
    # 6. messages that name the right file
    "NaN in a float WAV": Case(
        _files(a=lambda f: tone(f / "a.wav", subtype="FLOAT",
                                edit=lambda x: x.__setitem__(100, np.nan)),
               b=lambda f: tone(f / "b.wav")),
        ["align", "{a}", "{b}"], 2, ("a.wav: contains NaN or infinite samples",)),
    "samples of 1e30": Case(
        _files(a=lambda f: tone(f / "a.wav", subtype="FLOAT",
                                edit=lambda x: x.__setitem__(100, 1e30)),
               b=lambda f: tone(f / "b.wav")),
        ["align", "{a}", "{b}"], 2, ("a.wav: contains samples larger than 1e+06",)),
    "odd-length UTF-16 TextGrid": Case(
        _files(al=lambda f: alignment_csv(f / "al.csv"),
               tg=_write("u.TextGrid", b"\xff\xfe" + TEXTGRID.encode("utf-16-le") + b"x")),
        ["transfer", "{al}", "{tg}", "-o", "{tmp}/o.TextGrid"], 2,
        ("{tg}, line", "not valid UTF-16 text: an odd number of bytes",)),
    "odd-length UTF-16 CSV": Case(
        _files(csv=_write("u.csv", b"\xff\xfe" + "0,0\n1,1\n".encode("utf-16-le") + b"x")),
        ["convert", "{csv}", "-o", "{tmp}/o.json"], 2, ("{csv}, line 3: not valid UTF-16",)),
    "EAF negative time": Case(
        _files(eaf=_eaf_with('TIME_VALUE="0"', 'TIME_VALUE="-50"')),
        ["convert", "{eaf}", "-o", "{tmp}/o.csv"], 2, ("{eaf}: time slot ts1: TIME_VALUE '-50'",)),
    "EAF rate nan": Case(
        _files(eaf=_eaf_with('rate_a_hz">', 'rate_a_hz">nan<!-- -->')),
        ["convert", "{eaf}", "-o", "{tmp}/o.csv"], 2,
        ("{eaf}: property alignment-inspector:rate_a_hz:",)),
    "missing output folder": Case(_files(al=lambda f: alignment_csv(f / "al.csv")),
                                  ["convert", "{al}", "-o", "{tmp}/nope/x.json"], 2,
                                  ("{tmp}/nope/x.json: the folder {tmp}/nope does not exist",)),
    "output in /proc": Case(_files(al=lambda f: alignment_csv(f / "al.csv")),
                            ["convert", "{al}", "-o", "/proc/x.json"], 2,
                            ("/proc/x.json: cannot be written",)),
    # 7. silent wrong results
    "source duration 1e999 (xmax = inf)": Case(
        _files(js=_json_duration("1e999"), tg=_textgrid_with("x", "x")),
        ["transfer", "{js}", "{tg}", "-o", "{tmp}/out.TextGrid"], 0, output="out.TextGrid",
        verify=_finite_textgrid),
    "two rows of three numbers": Case(_files(csv=_write("t.csv", "0,1,2\n0,1,2\n")),
                                      ["convert", "{csv}", "-o", "{tmp}/o.json"], 2,
                                      ("{csv}, line 1: expected 2 columns",)),
    "WAV claiming 1000 channels": Case(
        _files(a=lambda f: forge_channels(tone(f / "a.wav", channels=2), 1000),
               b=lambda f: tone(f / "b.wav")),
        ["align", "{a}", "{b}"], 2, ("a.wav: has a broken audio header: it claims 1000",)),
    "255-byte output name": Case(_files(al=lambda f: alignment_csv(f / "al.csv")),
                                 ["convert", "{al}", "-o", "{tmp}/" + LONG], 0, output=LONG),
    "256-byte output name": Case(_files(al=lambda f: alignment_csv(f / "al.csv")),
                                 ["convert", "{al}", "-o", "{tmp}/x" + LONG], 2,
                                 ("256 bytes long",)),
    # 8. files real clients refuse or we misread
    "labels to .svl": Case(
        _files(al=lambda f: alignment_csv(f / "al.csv"), lab=_write("lab.txt", "0.1\t0.4\tx\n")),
        ["transfer", "{al}", "{lab}", "-o", "{tmp}/y.svl"], 2,
        ("{tmp}/y.svl: a .svl file cannot hold annotations",)),
    "--format csv into .json": Case(
        _files(al=lambda f: alignment_csv(f / "al.csv")),
        ["convert", "{al}", "-o", "{tmp}/y.json", "--format", "csv"], 2,
        ("y.json: a .json file holds json, not csv",)),
    "Praat binary TextGrid": Case(
        _files(al=lambda f: alignment_csv(f / "al.csv"),
               tg=_write("bin.TextGrid", (PRAAT / "labels.binary.TextGrid").read_bytes())),
        ["transfer", "{al}", "{tg}", "-o", "{tmp}/out.TextGrid"], 0, output="out.TextGrid",
        verify=_praat_binary),
    "cut binary TextGrid": Case(
        _files(al=lambda f: alignment_csv(f / "al.csv"),
               tg=_write("cut.TextGrid", (PRAAT / "labels.binary.TextGrid").read_bytes()[:90])),
        ["transfer", "{al}", "{tg}", "-o", "{tmp}/out.TextGrid"], 2,
        ("{tg}: binary TextGrid",)),
    "Sonic Visualiser .txt export": Case(
        _files(al=lambda f: alignment_csv(f / "al.csv"),
               sv=_write("regions.txt", "0.510023000\t0\t0.200000000\tla la\n")),
        ["transfer", "{al}", "{sv}", "-o", "{tmp}/out.TextGrid"], 0, output="out.TextGrid",
        verify=_sv_regions),
}


def _snapshot(folder):
    return {p.name: (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
            for p in folder.iterdir()}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(tmp_path, capsys, name):
    case = CASES[name]
    names = case.make(tmp_path)
    before = _snapshot(tmp_path)
    argv = [a.format(**names) for a in case.args]
    started = time.perf_counter()
    status = cli.main(argv)
    elapsed = time.perf_counter() - started
    err = capsys.readouterr().err
    assert status == case.status, err
    assert elapsed < 20, f"{elapsed:.1f} s"
    assert "Traceback" not in err and "Warning" not in err
    if case.status:
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("alignment-inspector: error: ")
        for says in case.says:
            assert says.format(**names) in err, err
    after = _snapshot(tmp_path)
    changed = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
    assert changed <= ({case.output} if case.output else set()), changed  # nothing destroyed
    assert not [n for n in after if n.startswith(".") or ".tmp" in n]
    if case.verify is not None:
        case.verify(tmp_path, names)


def test_closed_standard_output_in_a_subprocess(tmp_path):
    al = alignment_csv(tmp_path / "al.csv")
    proc = subprocess.run(["bash", "-c", 'exec "$@" >&-', "_", sys.executable, "-m",
                           "inspector.launch", "convert", str(al), "-o", "-"],
                          stderr=subprocess.PIPE, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2
    assert proc.stderr == ("alignment-inspector: error: standard output: is closed; give an "
                           "output file (-o OUT)\n")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mounts need root")
@pytest.mark.parametrize("problem", ["full", "read-only"])
def test_full_disk_and_read_only_file_system(tmp_path, capsys, problem):
    mount = tmp_path / "fs"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        out = mount / "x.json"
        out.write_text("previous\n")
        if problem == "read-only":
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        big = tmp_path / "big.csv"
        big.write_text("time_a_s,time_b_s\n" + "".join(f"{k / 100:.2f},{k / 100:.2f}\n"
                                                       for k in range(3000)))
        assert cli.main(["convert", str(big), "-o", str(out)]) == 2
        err = capsys.readouterr().err
        expected = ("cannot be written (No space left on device); the previous file is left "
                    "untouched" if problem == "full" else "is on a read-only file system")
        assert f"{out}: " in err and expected in err and err.count("\n") == 1, err
        assert out.read_text() == "previous\n" and os.listdir(mount) == ["x.json"]
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.mark.parametrize(("rate", "ok"), [(1e6, False), (2001.0, False), (2000.0, True)])
def test_python_api_refuses_a_rate_above_the_recordings(tmp_path, rate, ok):
    """The same bound for align_recordings as for --rate (8 kHz audio: 8000 / 4)."""
    from core.media import open_recording
    from core.pipeline import align_recordings, rate_problem

    a = open_recording(tone(tmp_path / "a.wav", 0.3))
    b = open_recording(tone(tmp_path / "b.wav", 0.3))
    assert (rate_problem(rate, a, b) is None) == ok
    if not ok:
        with pytest.raises(ValueError, match=r"rate_hz: .* Hz is above what these recordings "
                                             r"allow: at most 2000 Hz"):
            align_recordings(a, b, rate_hz=rate)
