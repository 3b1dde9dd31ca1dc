"""Batches: the manifest reader, the summary, align_pairs on a local Dask cluster, resuming,
failures of single pairs and of workers, and the command line's exit statuses and
signals."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from batch_helpers import KillOn, make_pairs, sections, tones, write_manifest

from core import cli
from core.batch import (
    SUMMARY_COLUMNS,
    ManifestError,
    Pair,
    SummaryRow,
    as_pairs,
    read_manifest,
    read_summary,
)
from core.batch.manifest import derive_id
from core.batch.runner import EXTENSIONS, RECORDS_FOLDER
from core.batch.summary import format_rows, write_summary
from core.errors import FormatError, OutputError

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120


# ------------------------------------------------------------------------- manifest
def test_manifest_paths_are_relative_to_its_folder(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    manifest = tmp_path / "sub" / "pairs.csv"
    manifest.write_text("ID,A,B,method,feature,rate,Band,anchors,Step-Pattern\n"
                        "first,x.wav,y.wav,,,,,,\n"
                        "\n"
                        'second,"dir/with, comma.wav",/abs/b.flac,default,chroma+onset,25,'
                        "2.5,anch.csv,\n"
                        "third,x.wav,y.wav,dtw,chroma,,,,symmetric1\n", encoding="utf-8")
    monkeypatch.chdir("/")
    first, second, third = read_manifest(manifest)
    assert first == Pair("first", str(tmp_path / "sub" / "x.wav"),
                         str(tmp_path / "sub" / "y.wav"), line=2)
    assert second.a == str(tmp_path / "sub" / "dir" / "with, comma.wav")
    assert second.b == "/abs/b.flac"
    assert second.method == "default"
    assert dict(second.options) == {"feature": "chroma+onset", "rate": "25", "band": "2.5"}
    assert second.anchors == str(tmp_path / "sub" / "anch.csv")
    assert second.line == 4
    assert dict(third.options) == {"feature": "chroma", "step_pattern": "symmetric1"}
    assert pickle.loads(pickle.dumps(second)) == second


def test_default_ids_come_from_the_file_names():
    assert derive_id("takes/x.wav", "takes/y.wav") == "takes_x--y"
    assert derive_id("ref.wav", "perf/p1.wav") == "ref--perf_p1"
    assert derive_id("/data/a/one.flac", "/data/b/two.flac") == "data_a_one--b_two"
    assert derive_id("../up/a.wav", "../up/b.wav") == "up_a--b"
    assert derive_id("summary.wav", "x/summary.wav").lower() != "summary"
    long = derive_id("x" * 300 + ".wav", "y.wav")
    assert len(long.encode()) <= 200 and long != derive_id("x" * 301 + ".wav", "y.wav")


def test_manifest_without_ids(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("a,b\nref.wav,perf/one.wav\nref.wav,perf/two.wav\n")
    assert [p.id for p in read_manifest(manifest)] == ["ref--perf_one", "ref--perf_two"]
    manifest.write_text("a,b\nx/a.wav,x/b.wav\ny/x/a.wav,y/x/b.wav\nx/a.wav,x/b.wav\n")
    with pytest.raises(ManifestError, match="line 4.*made from the file names.*add an id"):
        read_manifest(manifest)


@pytest.mark.parametrize("content, line, message", [
    ("", None, "is empty"),
    ("\n\n", None, "is empty"),
    ("a,b\n", None, "header but no pairs"),
    ("a\nx.wav\n", 1, "missing column 'b'"),
    ("id,b,c\nx,y,z\n", 1, "unknown column 'c'"),
    ("a,b,bnad\nx,y,1\n", 1, "unknown column 'bnad'"),
    ("a,A,b\nx,y,z\n", 1, "column 'a' appears twice"),
    ("id,a,b\np,x,y\np,z,w\n", 3, "id 'p': line 2 has the same id"),
    ("id,a,b\nP,x,y\np,z,w\n", 3, "differs only in case"),
    ("a,b\nx,y,z\n", 2, "expected 2 fields"),
    ("a,b,id\nx,y\n", 2, "expected 3 fields"),
    ("a,b\nx,\n", 2, "column b is empty"),
    ("a,b\n,y\n", 2, "column a is empty"),
    ("a,b,band\nx,y,wide\n", 2, r"band: expected a number in \(0, 86400\]"),
    ("a,b,band\nx,y,-1\n", 2, "band: expected a number"),
    ("a,b,rate\nx,y,nan\n", 2, "rate: expected a number"),
    ("a,b,rate\nx,y,inf\n", 2, "rate: expected a number"),
    ("a,b,method\nx,y,magic\n", 2, "method: expected one of default, dtw, ctw, ot"),
    ("a,b,feature\nx,y,chroma+sparkle\n", 2, "feature: expected one of"),
    ("a,b,method,band\nx,y,dtw,2\n", 2, "band: not an option of method dtw"),
    ("a,b,method,step_pattern\nx,y,dtw,zigzag\n", 2, "step_pattern: expected one of"),
    ("a,b,method,solver\nx,y,default,magic\n", 2, "solver: expected one of dtw, ctw, ot"),
    ("id,a,b\n.hidden,x,y\n", 2, "may not start with a dot"),
    ("id,a,b\nsub/dir,x,y\n", 2, "may not contain '/'"),
    ("id,a,b\nSummary,x,y\n", 2, "reserved"),
    ("id,a,b\n" + "x" * 201 + ",x,y\n", 2, "longer than 200 bytes"),
    ('a,b\n"x,y\n', 2, "not valid CSV"),
    ("a,b\nx\x00,y\n", 2, "NUL"),
    ("a,b,structure\nx,y,\nx,z,jumps\n", 3,
     "column structure: expected one of monotone, auto, pieces, got 'jumps'"),
    ("a,b,anchors,structure\nx,y,an.csv,auto\n", 2,
     "column structure: anchors constrain one monotone path"),
])
def test_malformed_manifests_are_refused(tmp_path, content, line, message):
    manifest = tmp_path / "pairs.csv"
    manifest.write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match=message) as info:
        read_manifest(manifest)
    text = str(info.value)
    assert text.startswith(str(manifest))
    assert info.value.line == line
    if line is not None:
        assert f"line {line}:" in text
    assert isinstance(info.value, FormatError) and isinstance(info.value, ValueError)


def test_manifest_that_is_not_text_or_missing(tmp_path):
    manifest = tmp_path / "pairs.csv"
    manifest.write_bytes(b"a,b\nx\xe9.wav,y.wav\n")
    with pytest.raises(ManifestError, match=r"line 2: not UTF-8"):
        read_manifest(manifest)
    with pytest.raises(ManifestError, match="file not found"):
        read_manifest(tmp_path / "nothing.csv")
    with pytest.raises(ManifestError, match="is a folder"):
        read_manifest(tmp_path)


def test_manifest_reader_never_fails_otherwise(tmp_path):
    """Random damage to a manifest: pairs or a ManifestError naming the file, nothing
    else."""
    rng = np.random.default_rng(7)
    good = (b"id,a,b,method,feature,rate,band,anchors\n"
            b"p1,x.wav,y.wav,dtw,chroma,50,2,anchors.csv\n"
            b'"p,2","dir/a b.wav","c.wav",ot,auto,,,\n')
    manifest = tmp_path / "pairs.csv"
    alphabet = np.frombuffer(b',"\n\r\x00\xff\xfe;ab.-+/ \t\xe9', dtype=np.uint8)
    outcomes = set()
    for _ in range(400):
        data = bytearray(good)
        for _ in range(int(rng.integers(1, 6))):
            at = int(rng.integers(0, len(data) + 1))
            what = int(rng.integers(0, 3))
            if what == 0 and data:
                del data[min(at, len(data) - 1)]
            elif what == 1:
                data[at:at] = bytes([int(rng.choice(alphabet))])
            else:
                data[at:at] = bytes(rng.integers(0, 256, size=int(rng.integers(1, 4)),
                                                 dtype=np.uint8))
        manifest.write_bytes(bytes(data))
        try:
            pairs = read_manifest(manifest, strict=bool(rng.integers(0, 2)))
        except ManifestError as err:
            assert str(err).startswith(str(manifest))
            outcomes.add("refused")
        else:
            assert pairs and all(p.id and p.a and p.b for p in pairs)
            outcomes.add("read")
    manifest.write_bytes(b"\xff\xfea\x00,")  # a UTF-16 mark, then an odd byte count
    with pytest.raises(ManifestError, match="not valid UTF-16"):
        read_manifest(manifest)
    assert outcomes == {"refused", "read"}


def test_strict_refuses_paths_outside_the_manifest_folder(tmp_path):
    inner = tmp_path / "corpus"
    inner.mkdir()
    (inner / "link").symlink_to(tmp_path)
    for content in ("a,b\n../x.wav,y.wav\n", f"a,b\nx.wav,{tmp_path / 'y.wav'}\n",
                    "a,b,anchors\nx.wav,y.wav,../anchors.csv\n", "a,b\nx.wav,link/y.wav\n"):
        manifest = inner / "pairs.csv"
        manifest.write_text(content)
        assert len(read_manifest(manifest)) == 1
        with pytest.raises(ManifestError, match="line 2: column .*outside the manifest's "
                                                "folder"):
            read_manifest(manifest, strict=True)
    manifest.write_text("a,b\nx.wav,deeper/./y.wav\n")
    assert read_manifest(manifest, strict=True)[0].b == str(inner / "deeper" / "y.wav")


def test_pairs_from_python_are_checked(tmp_path):
    pairs = as_pairs([{"a": "x.wav", "b": "y.wav"}, Pair("p", "/x.wav", "/z.wav"),
                      {"a": "/q.wav", "b": "/r.wav", "id": "q", "rate": 20, "Band": 1,
                       "solver": None}])
    assert pairs[0].a == os.path.abspath("x.wav") and pairs[0].id == "x--y"
    assert dict(pairs[2].options) == {"rate": 20, "band": 1}
    for bad, message in [([{"a": "x.wav"}], r"pairs\[0\]: b: is missing"),
                         ([{"a": "x", "b": "y", "speed": 2}], "unknown keys"),
                         ([{"a": "x", "b": "y", "id": "p"}, {"a": "z", "b": "w", "id": "P"}],
                          r"pairs\[1\]: id 'P' is also the id of pairs\[0\]"),
                         ([{"a": "x", "b": "y", "method": "fast"}], "method: expected"),
                         ([{"a": "x", "b": "y", "band": 0}], "band: expected a number"),
                         ([{"a": "x", "b": "y", "method": "ot", "band": 1}],
                          "band: not an option of method ot"),
                         ([{"a": "x", "b": "y", "structure": "Auto"}],
                          "structure: expected one of monotone, auto, pieces"),
                         ([{"a": "x", "b": "y", "structure": "pieces", "anchors": "an.csv"}],
                          "structure: anchors constrain one monotone path"),
                         ([], "no pairs"), ("pairs.csv", "read_manifest"),
                         ([("x", "y")], "expected a Pair or a mapping")]:
        with pytest.raises(ValueError, match=message):
            as_pairs(bad)


# ------------------------------------------------------------------------- summary
def test_summary_reads_back(tmp_path):
    rows = [SummaryRow("one", "ok", "", 3.0, 4.5, 0.25, 0.93125, 0.0625, "music", "one.json",
                       "/x/a.wav", "/x/b, with comma.wav", jumps=2),
            SummaryRow("two", "failed", "b.wav: file\nnot found, sorry", 3.0, None, 0.01,
                       a="/x/a.wav", b="/x/b.wav"),
            SummaryRow("three", "skipped", "", 1.0, 1.0, 2.0, 1.0, 0.0, "speech", "three.json")]
    write_summary(rows, tmp_path / "summary.csv")
    back = read_summary(tmp_path)
    assert back[0] == dataclasses.replace(rows[0], mean_confidence=0.9313)
    assert back[1] == dataclasses.replace(rows[1], error="b.wav: file not found, sorry")
    assert back[2] == rows[2]
    assert back[0].output_in(tmp_path) == str(tmp_path / "one.json")
    assert back[1].output_in(tmp_path) is None
    header = (tmp_path / "summary.csv").read_text().splitlines()[0]
    assert header.split(",") == list(SUMMARY_COLUMNS)
    assert list(SUMMARY_COLUMNS[:10]) == [
        "id", "status", "error", "duration_a_s", "duration_b_s", "seconds",
        "mean_confidence", "low_confidence_fraction", "material", "output"]
    assert SUMMARY_COLUMNS[10:13] == ("a", "b", "jumps")
    assert back[0].jumps == 2 and back[1].jumps is None


def test_summary_carries_a_pair_s_warning_and_reads_old_summaries(tmp_path):
    warning = "B (b.wav) has material at its start (0.0-3.5 s) that A (a.wav)\nseems to lack."
    rows = [SummaryRow("warned", "ok", mean_confidence=0.8, output="warned.json",
                       warning=warning, unshared_s=3.456),
            SummaryRow("plain", "ok", mean_confidence=0.9, output="plain.json")]
    write_summary(rows, tmp_path / "summary.csv")
    lines = (tmp_path / "summary.csv").read_text().splitlines()
    assert lines[0].endswith(",jumps,warning,unshared_s,corrected,order_differs") \
        and len(lines) == 3
    back = read_summary(tmp_path)
    assert back[0].warning == " ".join(warning.split())  # on one line
    assert back[0].unshared_s == 3.46
    assert back[1].warning == "" and back[1].unshared_s is None
    # a summary from before the columns: they read back empty
    old = [",".join(line.split(",")[:-4]) for line in lines]
    (tmp_path / "summary.csv").write_text("\n".join(old) + "\n")
    back = read_summary(tmp_path)
    assert [(r.id, r.warning, r.unshared_s) for r in back] == [("warned", "", None),
                                                               ("plain", "", None)]


def test_a_row_s_warning_is_the_result_s_and_its_unshared_seconds_are_loud_only():
    from core.alignment import Alignment
    from core.batch._task import _warning
    from core.constraints import linear_cells

    path = linear_cells((0, 0), (99, 99))
    spans = [{"side": "b", "end": "start", "start_s": 0.0, "end_s": 3.5, "quiet": False},
             {"side": "b", "end": "end", "start_s": 13.5, "end_s": 14.0, "quiet": True},
             {"side": "a", "end": "end", "start_s": 9.25, "end_s": 10.0, "quiet": False}]
    al = Alignment(path, 10, 10, diagnostics={"unshared": spans, "warning": "lead-in"})
    assert _warning(al) == {"warning": "lead-in", "unshared_s": pytest.approx(4.25)}
    quiet = Alignment(path, 10, 10, diagnostics={"unshared": spans[1:2]})
    assert _warning(quiet) == {"warning": "", "unshared_s": None}
    assert _warning(Alignment(path, 10, 10)) == {"warning": "", "unshared_s": None}


@pytest.mark.parametrize("text, message", [
    ("", "is empty"), ("x,y\n1,2\n", "not a batch summary"),
    (format_rows([SummaryRow("a", "ok")]).replace(",ok,", ",done,"), "line 2: status"),
    (format_rows([SummaryRow("a", "ok", seconds=1.0)]).replace("1.000", "one"),
     "line 2: seconds: 'one' is not a number"),
    (format_rows([SummaryRow("a", "ok")]) + "b,ok\n", "line 3: expected 17 fields"),
    (format_rows([SummaryRow("a", "ok", unshared_s=1.0)]).replace(",1.00,,\n", ",1 s,,\n"),
     "line 2: unshared_s: '1 s' is not a number"),
    (format_rows([SummaryRow("a", "ok", jumps=2)]).replace(",2,,,,\n", ",2.5,,,,\n"),
     "line 2: jumps: '2.5' is not a whole number"),
])
def test_malformed_summaries_are_refused(tmp_path, text, message):
    path = tmp_path / "summary.csv"
    path.write_text(text)
    with pytest.raises(FormatError, match=message):
        read_summary(path)


def test_every_format_has_the_extension_it_is_read_by():
    from core.formats import ALIGNMENT_FORMATS, format_from_path

    assert set(EXTENSIONS) == set(ALIGNMENT_FORMATS)
    for fmt, ext in EXTENSIONS.items():
        assert format_from_path("pair" + ext) == fmt


# ------------------------------------------------------------------------- runs
@pytest.fixture(scope="module")
def client():
    """One local cluster of two workers for the tests that give align_pairs a client."""
    from distributed import Client

    from core.batch import local_cluster

    cluster = local_cluster(2)
    client = Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    return folder, make_pairs(folder, 3)


def _run(pairs, out, client, **options):
    from core.batch import align_pairs

    return align_pairs(pairs, out, client=client, **options)


def test_a_json_output_keeps_the_settings_the_batch_ran_with(tmp_path, corpus, client):
    """The triage opens a pair with the method panel showing these (not its defaults)."""
    from core.formats import read_recipe

    folder, good = corpus
    pairs = [{"id": "dtw", "a": good[0][0], "b": good[0][1], "method": "dtw",
              "feature": "mfcc", "rate": 20, "window": "sakoe_chiba", "radius": 1.5},
             {"id": "default", "a": good[1][0], "b": good[1][1], "band": 3.0}]
    rows = _run(pairs, tmp_path / "out", client)
    assert [r.status for r in rows] == ["ok", "ok"], [r.error for r in rows]
    dtw = read_recipe(tmp_path / "out" / "dtw.json")
    assert dtw.method == "dtw" and dtw.params["window"] == "sakoe_chiba"
    assert dtw.params["radius_s"] == 1.5
    assert dtw.features_a[0].name == "mfcc" and dtw.features_a[0].rate_hz == 20.0
    default = read_recipe(tmp_path / "out" / "default.json")
    assert default.method == "default" and default.params["band_s"] == 3.0


def test_a_bad_pair_fails_alone_with_its_reason(tmp_path, corpus, client):
    from media_factory import write_video

    from core.formats import read_alignment

    folder, good = corpus
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    video = write_video(tmp_path / "clip.mp4", 30)
    anchors = tmp_path / "anchors.csv"
    anchors.write_text("time_a_s,time_b_s\n0.5,0.6\n")
    bad_anchors = tmp_path / "bad_anchors.csv"
    bad_anchors.write_text("time_a_s,time_b_s\n0.5,minus one\n")
    low = tones(tmp_path / "low.wav", [60, 64, 67, 72], 0.25, rate=2000)
    pairs = [{"id": "good0", "a": good[0][0], "b": good[0][1]},
             {"id": "corrupt", "a": good[0][0], "b": corrupt},
             {"id": "missing", "a": tmp_path / "gone.wav", "b": good[0][1]},
             {"id": "video-chroma", "a": video, "b": video, "feature": "chroma"},
             {"id": "bad-anchors", "a": good[1][0], "b": good[1][1], "anchors": bad_anchors},
             {"id": "anchors", "a": good[1][0], "b": good[1][1], "anchors": anchors},
             {"id": "anchors-ctw", "a": good[1][0], "b": good[1][1], "anchors": anchors,
              "solver": "ctw"},
             {"id": "anchors-ot", "a": good[1][0], "b": good[1][1], "anchors": anchors,
              "method": "ot"},
             {"id": "high-rate", "a": low, "b": low, "rate": 900},
             {"id": "good2", "a": good[2][0], "b": good[2][1]}]
    rows = _run(pairs, tmp_path / "out", client)
    by_id = {row.id: row for row in rows}
    assert [row.id for row in rows] == [p["id"] for p in pairs]
    assert by_id["good0"].status == by_id["good2"].status == "ok"
    assert "corrupt.wav: could not be decoded" in by_id["corrupt"].error
    assert "gone.wav: file not found" in by_id["missing"].error
    assert "feature:" in by_id["video-chroma"].error
    assert "video" in by_id["video-chroma"].error
    assert "bad_anchors.csv, line 2: 'minus one'" in by_id["bad-anchors"].error
    assert by_id["anchors-ctw"].error == "anchors: apply to method default only with solver dtw"
    assert by_id["anchors-ot"].error == "anchors: method ot takes no anchors"
    assert by_id["high-rate"].error.startswith("rate: 900 Hz is above what these recordings")
    assert by_id["anchors"].status == "ok"
    through = read_alignment(tmp_path / "out" / "anchors.json")
    frame = 1 / min(through.rate_a_hz, through.rate_b_hz)  # the path passes the anchor
    assert np.min(np.max(np.abs(through.times_s - [0.5, 0.6]), axis=1)) <= frame + 1e-9
    for row in rows:
        output = tmp_path / "out" / f"{row.id}.json"
        record = tmp_path / "out" / RECORDS_FOLDER / f"{row.id}.json"
        assert output.exists() == record.exists() == (row.status == "ok")
        assert row.status != "failed" or (row.error and not row.output)
    ok = by_id["good0"]
    assert ok.output == "good0.json" and ok.material == "music"
    assert ok.duration_a_s == pytest.approx(3.0) and 0 < ok.mean_confidence <= 1
    assert 0 <= ok.low_confidence_fraction <= 1 and ok.seconds > 0
    assert read_summary(tmp_path / "out") == [
        SummaryRow(**{**dataclasses.asdict(r), **_rounded(r)}) for r in rows]
    alignment = read_alignment(tmp_path / "out" / "good0.json")
    assert alignment.sources["a"]["path"] == str(good[0][0])
    assert sorted(os.listdir(tmp_path / "out")) == sorted(
        ["summary.csv", RECORDS_FOLDER, "good0.json", "good2.json", "anchors.json"])


def test_a_correction_marked_in_the_summary_survives_a_run_again(tmp_path, corpus, client):
    from core.batch import mark_corrected
    from core.errors import OutputError
    from core.formats import read_alignment, write_alignment

    folder, good = corpus
    out = tmp_path / "out"
    pairs = [{"id": f"p{k}", "a": a, "b": b} for k, (a, b) in enumerate(good[:2])]
    _run(pairs, out, client)
    # a correction saved from the window: the output rewritten, then marked
    al = read_alignment(out / "p0.json")
    write_alignment(al.replace(path=al.path[::2], confidence=None), out / "p0.json")
    row = mark_corrected(out, "p0", when="2026-12-07T05:00:00Z")
    assert row.corrected == "2026-12-07T05:00:00Z" and row.status == "ok"
    assert {r.id: r.corrected for r in read_summary(out)} == {"p0": row.corrected, "p1": ""}
    with pytest.raises(OutputError, match="'p9' is not in its summary.csv"):
        mark_corrected(out, "p9")
    with pytest.raises(FormatError, match="summary.csv"):  # no batch there: nothing made
        mark_corrected(tmp_path, "p0")
    assert not (tmp_path / RECORDS_FOLDER).exists()
    # run again: both kept, the corrected output and its mark with them
    rows = _run(pairs, out, client)
    assert [r.status for r in rows] == ["skipped", "skipped"]
    assert [r.corrected for r in rows] == [row.corrected, ""]
    assert [r.corrected for r in read_summary(out)] == [row.corrected, ""]
    assert np.array_equal(read_alignment(out / "p0.json").path, al.path[::2])


def test_a_killed_workers_temporary_file_is_swept_on_a_given_cluster(tmp_path, corpus,
                                                                   client):
    """A worker of a cluster the batch was given, killed in the middle of a write, leaves
    its temporary file (seen in a run of test_batch_cluster.py): the batch removes it at
    its end, as it does for its own local cluster's."""
    folder, good = corpus
    out = tmp_path / "out"
    stray = out / ".p0.json.0123abcd.tmp"

    def progress(*_):  # during the run, after the sweep at its start
        if not stray.exists() and out.is_dir():
            stray.write_text("half an alignment")

    rows = _run([{"id": "p0", "a": good[0][0], "b": good[0][1]}], out, client,
                progress=progress)
    assert rows[0].status == "ok"
    assert not [p for p in os.listdir(out) if ".tmp" in p]


def test_a_video_against_nothing_in_common_fails_alone(tmp_path, corpus, client):
    import soundfile as sf
    from media_factory import write_video

    _, good = corpus
    video = write_video(tmp_path / "clip.mp4", 40)
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(4 * 16000, dtype=np.float32), 16000)
    rows = _run([{"id": "nothing", "a": video, "b": silence},
                 {"id": "good", "a": good[0][0], "b": good[0][1]}], tmp_path / "out", client)
    assert rows[1].status == "ok"
    assert rows[0].status == "failed" and "nothing in common" in rows[0].error


def _rounded(row):
    out = {}
    for name, digits in (("duration_a_s", 3), ("duration_b_s", 3), ("seconds", 3),
                         ("mean_confidence", 4), ("low_confidence_fraction", 4)):
        value = getattr(row, name)
        out[name] = None if value is None else float(f"{value:.{digits}f}")
    return out


def test_batch_gives_the_paths_align_gives(tmp_path, corpus, client):
    from core.formats import read_alignment

    _, good = corpus
    _run([{"id": "p", "a": good[2][0], "b": good[2][1]}], tmp_path, client, band=1.0)
    batch = read_alignment(tmp_path / "p.json")
    here = tmp_path / "here.json"  # align in this process, through the command line
    assert cli.main(["align", str(good[2][0]), str(good[2][1]), "--band", "1", "-o",
                     str(here), "-q"]) == 0
    here = read_alignment(here)
    np.testing.assert_array_equal(batch.path, here.path)
    assert batch.params == here.params and batch.params["band_s"] == 1.0
    np.testing.assert_allclose(batch.confidence, here.confidence, atol=1e-6)


@pytest.fixture(scope="module")
def structured(tmp_path_factory):
    """A, B with A's section 2 played again after section 3, and C: A again."""
    folder = tmp_path_factory.mktemp("structure")
    return (sections(folder / "a.wav", [220, 330, 262, 392, 294]),
            sections(folder / "b.wav", [220, 330, 262, 330, 392, 294]),
            sections(folder / "c.wav", [220, 330, 262, 392, 294]))


def test_structure_column_gives_pieces_where_b_repeats_a_section(tmp_path, structured,
                                                                  client):
    from core.formats import read_alignment
    from core.structure import PiecewiseAlignment

    a, b, c = structured
    manifest = write_manifest(tmp_path / "pairs.csv", [
        {"id": "repeat", "a": a, "b": b, "structure": "auto"},
        {"id": "same", "a": a, "b": c, "structure": "auto"},
        {"id": "plain", "a": a, "b": b},
        {"id": "mono", "a": a, "b": b, "structure": "monotone"}])
    pairs = read_manifest(manifest)
    assert [p.structure for p in pairs] == ["auto", "auto", None, "monotone"]
    rows = _run(pairs, tmp_path / "out", client)
    assert [r.status for r in rows] == ["ok"] * 4, [r.error for r in rows]
    repeat = read_alignment(tmp_path / "out" / "repeat.json")
    assert isinstance(repeat, PiecewiseAlignment)
    assert [j["kind"] for j in repeat.jumps] == ["back", "forward"]  # to 2, on to 4
    assert repeat.jumps[0]["b_to_s"] == pytest.approx(12.0, abs=0.5)
    here = tmp_path / "here.json"  # as 'align --structure auto' gives it
    assert cli.main(["align", str(a), str(b), "-o", str(here), "--structure", "auto",
                     "-q"]) == 0
    here = read_alignment(here)
    for ours, theirs in zip(repeat.pieces, here.pieces, strict=True):
        np.testing.assert_array_equal(ours.path, theirs.path)
    for name in ("same", "plain", "mono"):
        assert not isinstance(read_alignment(tmp_path / "out" / f"{name}.json"),
                              PiecewiseAlignment)
    summary = read_summary(tmp_path / "out")
    # an auto run that found no jump says 0; a monotone run leaves the cell empty
    assert [r.jumps for r in summary] == [2, 0, None, None]
    assert [line.split(",")[SUMMARY_COLUMNS.index("jumps")] for line in
            (tmp_path / "out" / "summary.csv").read_text().splitlines()[1:]] == [
        "2", "0", "", ""]
    assert rows[0].mean_confidence is not None
    assert ",jumps," in (tmp_path / "out" / "summary.csv").read_text().splitlines()[0]
    # kept on a second run (the structure is part of the key), redone when it changes
    again = _run(pairs, tmp_path / "out", client)
    assert [r.status for r in again] == ["skipped"] * 4 and again[0].jumps == 2
    pairs[2] = dataclasses.replace(pairs[2], structure="pieces")
    again = _run(pairs, tmp_path / "out", client, format="csv")
    assert [r.status for r in again] == ["ok"] * 4
    assert [r.jumps for r in again] == [2, 0, 2, None]
    text = (tmp_path / "out" / "repeat.csv").read_text().splitlines()
    assert text[0] == "time_a_s,time_b_s,piece" and {t.split(",")[2] for t in text[1:]} == {
        "0", "1", "2"}


def test_structure_is_refused_where_align_refuses_it(tmp_path, structured, client):
    a, b, _ = structured
    anchors = tmp_path / "anchors.csv"
    anchors.write_text("time_a_s,time_b_s\n0.5,0.6\n")
    for pairs, options, message in [
            ([{"id": "p", "a": a, "b": b, "structure": "auto"}], {"format": "textgrid"},
             "pair 'p': structure: auto may give a path with jumps, which only json or "
             "csv files hold, not textgrid"),
            ([{"id": "p", "a": a, "b": b, "method": "ctw"}], {"structure": "pieces"},
             "pair 'p': structure: pieces needs method default, not ctw"),
            ([{"id": "p", "a": a, "b": b, "solver": "ot", "structure": "auto"}], {},
             "structure: auto needs solver dtw"),
            ([{"id": "p", "a": a, "b": b, "anchors": anchors}], {"structure": "auto"},
             "structure: anchors constrain one monotone path"),
            ([{"id": "p", "a": a, "b": b}], {"structure": "jumps"},
             "structure: expected one of monotone, auto, pieces")]:
        with pytest.raises(ValueError, match=message):
            _run(pairs, tmp_path / "out", client, **options)
        assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("output, extra, row, options", [
    ("p.json", ["--anchors", "{anchors}"], {"anchors": "{anchors}"}, {}),
    ("p.json", ["--method", "ctw"], {"method": "ctw"}, {}),
    ("p.json", ["--solver", "ot"], {"solver": "ot"}, {}),
    ("p.TextGrid", [], {}, {"format": "textgrid"}),
])
def test_structure_rules_read_the_same_in_align_and_in_a_batch(tmp_path, structured, capsys,
                                                               output, extra, row, options):
    """One rule table (core.options.STRUCTURE_RULES): ``align --structure auto`` and a
    batch's pre-check (on the manifest's raw options, naming its line) state each rule in
    the same words."""
    from core.batch import align_pairs

    a, b, _ = structured
    anchors = tmp_path / "anchors.csv"
    anchors.write_text("time_a_s,time_b_s\n0.5,0.6\n")
    fill = {"anchors": str(anchors)}
    args = ["align", str(a), str(b), "-o", str(tmp_path / output), "--structure", "auto",
            *[arg.format(**fill) for arg in extra]]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    prefix = "alignment-inspector: error: argument --structure: "
    assert err.startswith(prefix), err
    problem = err[len(prefix):]
    assert problem.startswith("auto ") or problem.startswith("anchors ")
    row = {"id": "p", "a": a, "b": b, "structure": "auto",
           **{k: v.format(**fill) for k, v in row.items()}}
    manifest = write_manifest(tmp_path / "pairs.csv", [row], columns=list(row))
    with pytest.raises(ValueError) as refused:  # (anchors: when the manifest is read)
        align_pairs(read_manifest(manifest), tmp_path / "out", **options)
    assert str(refused.value).endswith(f"structure: {problem}")
    assert "line 2" in str(refused.value)
    assert not (tmp_path / "out").exists() and not (tmp_path / output).exists()


def test_a_second_run_keeps_what_is_done(tmp_path, corpus, client):
    folder, good = corpus
    a2 = tmp_path / "a2.wav"
    a2.write_bytes(good[2][0].read_bytes())
    pairs = [{"id": "p0", "a": good[0][0], "b": good[0][1]},
             {"id": "p1", "a": good[1][0], "b": good[1][1]},
             {"id": "p2", "a": a2, "b": good[2][1]}]
    out = tmp_path / "out"
    first = _run(pairs, out, client)
    assert [r.status for r in first] == ["ok"] * 3
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}

    again = _run(pairs, out, client)
    assert [r.status for r in again] == ["skipped"] * 3
    assert [dataclasses.replace(r, status="ok") for r in again] == first
    assert all(p.stat().st_mtime_ns == stamps[p.name] for p in out.glob("p*.json"))

    os.utime(a2)  # touched, same content: hashed again on a worker, still kept
    assert [r.status for r in _run(pairs, out, client)] == ["skipped"] * 3
    tones(a2, [60, 62, 64, 65, 67, 69], 0.3)  # new content: aligned again
    assert [r.status for r in _run(pairs, out, client)] == ["skipped", "skipped", "ok"]
    assert [r.status for r in _run(pairs, out, client, band=2.0)] == ["ok"] * 3
    (out / "p0.json").unlink()
    (out / RECORDS_FOLDER / "p1.json").write_text("{not json")
    assert [r.status for r in _run(pairs, out, client, band=2.0)] == \
        ["ok", "ok", "skipped"]
    assert [r.status for r in _run(pairs, out, client, band=2.0, format="csv")] == \
        ["ok"] * 3
    assert (out / "p0.csv").exists() and (out / "p0.json").exists()
    assert [r.status for r in _run(pairs, out, client, band=2.0, resume=False)] == \
        ["ok"] * 3
    record = json.loads((out / RECORDS_FOLDER / "p2.json").read_text())
    assert record["files"]["a"]["sha256"] == __import__("hashlib").sha256(
        a2.read_bytes()).hexdigest()


def test_bad_output_folders_are_refused_before_any_work(tmp_path, corpus, client):
    from core.batch.runner import _locked

    _, good = corpus
    pairs = [{"id": "p", "a": good[0][0], "b": good[0][1]}]
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is not a folder"):
        _run(pairs, tmp_path / "file", client)
    with pytest.raises(OutputError, match="not a folder"):
        _run(pairs, tmp_path / "file" / "below", client)
    out = tmp_path / "out"
    victim = out / "victim.json"
    out.mkdir()
    victim.write_text("precious")
    with pytest.raises(OutputError, match=r"same file as an input.*pair 'victim'"):
        _run([{"id": "victim", "a": victim, "b": good[0][1]}], out, client)
    assert victim.read_text() == "precious"
    with _locked(str(out), str(out / RECORDS_FOLDER)):
        with pytest.raises(OutputError, match="another batch is writing in this folder"):
            _run(pairs, out, client)
    assert not (out / "summary.csv").exists() and not (out / "p.json").exists()
    with pytest.raises(ValueError, match="format: expected one of"):
        _run(pairs, out, client, format="mp3")


def test_a_pair_that_kills_its_worker_is_retried_once_then_fails(tmp_path, corpus):
    from distributed import Client

    from core.batch import local_cluster

    folder, good = corpus
    killer = tmp_path / "killer.wav"
    killer.write_bytes(good[0][1].read_bytes())
    cluster = local_cluster(2)
    try:
        with Client(cluster, set_as_default=False) as client:
            client.register_plugin(KillOn("killer"))
            pids = set(client.run(os.getpid).values())
            pairs = [{"id": "killer", "a": good[0][0], "b": killer}] + [
                {"id": f"p{k}", "a": a, "b": b} for k, (a, b) in enumerate(good)]
            rows = _run(pairs, tmp_path / "out", client)
            after = set(client.run(os.getpid).values())
    finally:
        cluster.close()
    assert [r.status for r in rows] == ["failed", "ok", "ok", "ok"]
    assert "its worker died 2 times" in rows[0].error
    assert len(pids - after) == 2  # two workers died (and their nannies restarted them)
    assert not [p for p in os.listdir(tmp_path / "out") if p.endswith(".tmp")]


# ------------------------------------------------------------------------- command line
def _manifest(folder: Path, pairs, extra=()) -> Path:
    rows = [{"id": f"p{k}", "a": os.path.relpath(a, folder), "b": os.path.relpath(b, folder)}
            for k, (a, b) in enumerate(pairs)]
    return write_manifest(folder / "pairs.csv", rows + list(extra))


def test_command_line_exit_statuses_and_progress(tmp_path, corpus, capsys):
    folder, good = corpus
    manifest = _manifest(tmp_path, good[:2])
    out = tmp_path / "out"
    assert cli.main(["batch", str(manifest), "-o", str(out), "--workers", "1"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("batch: p") and "/2 pairs" in err[0] and "h of audio" in err[0]
    assert err[-1].startswith("batch: 2 pairs: 2 aligned, 0 failed")
    assert [r.status for r in read_summary(out)] == ["ok", "ok"]

    manifest = _manifest(tmp_path, good[:2], [{"id": "lost", "a": "lost.wav",
                                               "b": os.path.relpath(good[0][0], tmp_path)}])
    assert cli.main(["batch", str(manifest), "-o", str(out), "-q"]) == 1
    assert capsys.readouterr().err == ""
    assert [r.status for r in read_summary(out)] == ["skipped", "skipped", "failed"]


@pytest.mark.parametrize("args, message", [
    (["batch", "{manifest}"], "the following arguments are required: -o/--output"),
    (["batch", "{manifest}", "-o", "{out}", "--workers", "0"], "expected at least 1"),
    (["batch", "{manifest}", "-o", "{out}", "--structure", "jumps"],
     "argument --structure: invalid choice: 'jumps'"),
    (["batch", "{manifest}", "-o", "{out}", "--structure", "auto", "--format", "textgrid"],
     "pair 'p0' (manifest line 2): structure: auto may give a path with jumps"),
    (["batch", "{manifest}", "-o", "{out}", "--workers", "2", "--scheduler", "x:1"],
     "--workers: sets the local cluster's size"),
    (["batch", "{bad}", "-o", "{out}"], "{bad}, line 3: id 'p0': line 2 has the same id"),
    (["batch", "{missing}", "-o", "{out}"], "{missing}: file not found"),
    (["batch", "{manifest}", "-o", "{file}"], "{file}: is not a folder"),
    (["batch", "{manifest}", "-o", "{out}", "--scheduler", "tcp://127.0.0.1:1"],
     "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
])
def test_command_line_refuses_bad_input_before_any_work(tmp_path, corpus, capsys, args,
                                                         message):
    import dask

    _, good = corpus
    names = {"manifest": _manifest(tmp_path, good[:1]), "out": tmp_path / "out",
             "missing": tmp_path / "nothing.csv", "file": tmp_path / "pairs.csv",
             "bad": write_manifest(tmp_path / "bad.csv", [
                 {"id": "p0", "a": "x.wav", "b": "y.wav"},
                 {"id": "p0", "a": "x.wav", "b": "z.wav"}])}
    args = [a.format(**names) for a in args]
    started = time.perf_counter()
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message.format(**names) in err
    assert "Traceback" not in err
    if "--scheduler" not in args:
        assert not (tmp_path / "out").exists()  # refused before any work
    assert time.perf_counter() - started < 60


def _spawn(args, cwd, name="batch"):
    """The command line in its own process group; its stderr goes to ``cwd/<name>.err``."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with open(Path(cwd) / f"{name}.err", "w") as err:
        return subprocess.Popen([sys.executable, "-m", "inspector.launch", *map(str, args)],
                                cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)


def _wait_for(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _records(out: Path) -> set[str]:
    folder = out / RECORDS_FOLDER
    return {p.stem for p in folder.glob("*.json")} if folder.is_dir() else set()


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies, which only wait for a
    parent to collect them, do not count)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@pytest.fixture(scope="module")
def slow_corpus(tmp_path_factory):
    """Eight pairs of 6-9 s: a batch of them can be stopped in the middle."""
    folder = tmp_path_factory.mktemp("slow")
    return folder, make_pairs(folder, 8, note_s=0.25, repeat=2)


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")


@needs_proc
def test_after_kill_9_only_unfinished_pairs_are_redone(tmp_path, slow_corpus):
    folder, pairs = slow_corpus
    manifest = _manifest(folder, pairs)
    out = tmp_path / "out"
    process = _spawn(["batch", manifest, "-o", out, "--workers", "2", "-q"], tmp_path)
    try:
        _wait_for(lambda: len(_records(out)) >= 2 or process.poll() is not None,
                  TIMEOUT_S, "two pairs to finish")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        _wait_for(lambda: not _group_alive(process.pid), 30, "the workers to die")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    done = _records(out)
    assert 2 <= len(done) < len(pairs), "the batch was not stopped in the middle"
    assert not (out / "summary.csv").exists()
    rerun = _spawn(["batch", manifest, "-o", out, "--workers", "2", "-q"], tmp_path, "rerun")
    assert rerun.wait(timeout=TIMEOUT_S) == 0, (tmp_path / "rerun.err").read_text()
    rows = read_summary(out)
    assert [r.id for r in rows] == [f"p{k}" for k in range(len(pairs))]
    assert {r.id for r in rows if r.status == "skipped"} == done
    assert {r.id for r in rows if r.status == "ok"} == {r.id for r in rows} - done
    assert not [p for p in os.listdir(out) if p.endswith(".tmp") or ".tmp." in p]


@needs_proc
@pytest.mark.parametrize("how", ["SIGTERM to the batch", "Ctrl-C to the process group"])
def test_a_signal_stops_the_batch_cleanly(tmp_path, slow_corpus, how):
    folder, pairs = slow_corpus
    manifest = _manifest(folder, pairs)
    out = tmp_path / "out"
    process = _spawn(["batch", manifest, "-o", out, "--workers", "2"], tmp_path)
    try:
        _wait_for(lambda: len(_records(out)) >= 1 or process.poll() is not None,
                  TIMEOUT_S, "a pair to finish")
        if how.startswith("SIGTERM"):
            process.send_signal(signal.SIGTERM)
            expected, message = 128 + signal.SIGTERM, "terminated by SIGTERM"
        else:
            os.killpg(process.pid, signal.SIGINT)
            expected, message = 130, "interrupted"
        status = process.wait(timeout=60)
        stderr = (tmp_path / "batch.err").read_text()
        _wait_for(lambda: not _group_alive(process.pid), 30, "the workers to stop")
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert status == expected, stderr
    assert stderr.splitlines()[-1] == f"alignment-inspector: error: {message}"
    assert "Traceback" not in stderr
    rows = read_summary(out)
    assert len(rows) == len(pairs)
    statuses = {r.status for r in rows}
    assert statuses <= {"ok", "failed"} and "ok" in statuses
    assert {r.error for r in rows if r.status == "failed"} == {
        "interrupted before it finished (run the batch again to finish it)"}
    assert not [p for p in os.listdir(out) + os.listdir(out / RECORDS_FOLDER)
                if ".tmp" in p]


def test_low_confidence_fraction_uses_the_result_s_doubtful_threshold():
    """A result whose calibration says doubtful above 3.5 ms counts its steps of 5 ms;
    a result without a model counts below 0.5 (50 ms) only."""
    from core.alignment import Alignment
    from core.batch._task import _confidence
    from core.constraints import linear_cells
    from core.pipeline.confidence import confidence_from_error

    path = linear_cells((0, 0), (99, 99))
    conf = np.full(100, float(confidence_from_error(1.0)))
    conf[:25] = confidence_from_error(5.0)
    model = {"recipe": {"confidence": {"model": {"doubtful_ms": 3.5}}}}
    own = _confidence(Alignment(path, 10, 10, confidence=conf, params=model))
    plain = _confidence(Alignment(path, 10, 10, confidence=conf))
    assert own["low_confidence_fraction"] == pytest.approx(0.25)
    assert plain["low_confidence_fraction"] == 0.0
    assert own["mean_confidence"] == plain["mean_confidence"]
    assert _confidence(Alignment(path, 10, 10)) == {}
