"""Every alignment format re-imports the path it wrote; annotations round-trip."""

import io
import json
import os
import re
from urllib.parse import unquote

import numpy as np
import pytest

import core
from core import Alignment
from core.formats import (
    Annotation,
    Interval,
    Point,
    Tier,
    format_from_path,
    read_alignment,
    read_annotation,
    write_alignment,
    write_annotation,
    write_sv_pairs,
)
from core.formats._anchors import fill_path, path_anchors
from core.formats.csv_pairs import infer_rate

from .helpers import sample_alignment

EXACT = ["csv", "json", "svl", "sv.csv", "txt"]


@pytest.mark.parametrize("ext", EXACT)
def test_exact_round_trip(tmp_path, ext):
    a = sample_alignment()
    out = tmp_path / f"path.{ext}"
    write_alignment(a, out)
    b = read_alignment(out)
    np.testing.assert_array_equal(b.path, a.path)
    assert b.rate_a_hz == pytest.approx(a.rate_a_hz, rel=1e-9)
    assert b.rate_b_hz == pytest.approx(a.rate_b_hz, rel=1e-9)


@pytest.mark.parametrize("ext", ["TextGrid", "eaf"])
def test_tier_formats_round_trip_through_anchors(tmp_path, ext):
    a = sample_alignment()
    out = tmp_path / f"path.{ext}"
    write_alignment(a, out)
    b = read_alignment(out)
    assert b.rate_a_hz == pytest.approx(a.rate_a_hz, rel=1e-9)
    assert b.rate_b_hz == pytest.approx(a.rate_b_hz, rel=1e-9)
    anchors = path_anchors(a.path)
    # every anchor is on the re-imported path, which is continuous and spans the same ends
    rows = {tuple(r) for r in b.path}
    assert all(tuple(r) in rows for r in anchors)
    assert tuple(b.path[0]) == tuple(a.path[0]) and tuple(b.path[-1]) == tuple(a.path[-1])
    assert b.is_continuous
    t = np.linspace(0, a.duration_a_s, 500)
    err_frames = np.abs(a.map_a_to_b(t) - b.map_a_to_b(t)) * a.rate_b_hz
    assert err_frames.max() <= 1.0


def test_fill_path_reproduces_runs_then_diagonal():
    path = np.array([[0, 0], [0, 1], [0, 2], [1, 3], [2, 3], [3, 3], [4, 4]])
    np.testing.assert_array_equal(fill_path(path_anchors(path)), path)


def test_json_carries_everything(tmp_path):
    a = sample_alignment(params={"feature": "mfcc", "window": ("sakoe_chiba", 10)},
                         distance=12.5, diagnostics={"iterations": np.int64(3),
                                                     "history": np.array([1.0, np.nan])},
                         sources={"a": {"path": "/x/a.wav", "duration_s": 6.0,
                                        "rate_hz": 22050, "sha256": "ab" * 32},
                                  "b": {"path": "/x/b.wav", "duration_s": 7.0,
                                        "rate_hz": 22050, "sha256": "cd" * 32}})
    a = a.replace(confidence=np.linspace(0, 1, len(a.path)))
    out = tmp_path / "a.json"
    write_alignment(a, out)
    doc = json.loads(out.read_text())
    assert doc["program_version"] == core.__version__ and doc["format_version"] == 1
    assert doc["sources"]["b"]["sha256"] == "cd" * 32
    assert doc["params"]["window"] == ["sakoe_chiba", 10]
    assert doc["diagnostics"]["history"] == [1.0, None]
    np.testing.assert_allclose(doc["path_s"], a.times_s)
    b = read_alignment(out)
    np.testing.assert_array_equal(b.path, a.path)
    np.testing.assert_allclose(b.confidence, a.confidence)
    assert b.distance == 12.5 and np.isnan(b.normalized_distance)
    assert b.n_a == a.n_a and b.sources["a"]["path"] == "/x/a.wav"


def _dtw_recipe():
    from core import registry

    return registry.recipe("dtw", {"window": "sakoe_chiba", "radius_s": 1.5,
                                   "metric": "cosine"}, feature="mfcc", rate_hz=20.0)


def test_json_carries_the_settings_that_made_it(tmp_path):
    from core.formats import read_recipe

    recipe = _dtw_recipe()
    out = tmp_path / "a.json"
    write_alignment(sample_alignment(), out, recipe=recipe)
    back = read_recipe(out)
    assert back.method == "dtw"
    assert dict(back.params) == dict(recipe.params)
    assert back.features_a == recipe.features_a and back.features_b == recipe.features_b
    assert back.features_a[0].name == "mfcc" and back.features_a[0].rate_hz == 20.0
    # the alignment reads as before, and a format with no place for them has none
    np.testing.assert_array_equal(read_alignment(out).path, sample_alignment().path)
    write_alignment(sample_alignment(), tmp_path / "a.csv", recipe=recipe)
    assert read_recipe(tmp_path / "a.csv") is None


def test_json_without_settings_still_loads(tmp_path):
    from core.formats import read_recipe

    out = tmp_path / "old.json"
    write_alignment(sample_alignment(), out)
    assert "recipe" not in json.loads(out.read_text())
    assert read_recipe(out) is None
    np.testing.assert_array_equal(read_alignment(out).path, sample_alignment().path)


@pytest.mark.parametrize("recipe, problem", [
    ("dtw", "malformed recipe: expected an object"),
    ({"params": {}}, "method"),
    ({"method": "dtw", "params": [1]}, "params"),
    ({"method": "dtw", "params": {}, "features_a": [{"rate_hz": 20.0}]}, "without a name"),
    ({"method": "dtw", "params": {}, "features_a": [{"name": "mfcc", "rate_hz": -1}]},
     "rate"),
])
def test_a_malformed_recipe_is_a_format_error_naming_it(tmp_path, recipe, problem):
    from core.errors import FormatError
    from core.formats import read_recipe

    out = tmp_path / "bad.json"
    write_alignment(sample_alignment(), out)
    doc = json.loads(out.read_text())
    doc["recipe"] = recipe
    out.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match=problem) as err:
        read_recipe(out)
    assert "bad.json" in str(err.value)
    read_alignment(out)  # the alignment itself is fine


def test_a_result_with_jumps_carries_its_settings_too(tmp_path):
    from core import registry
    from core.formats import read_recipe
    from core.structure import PiecewiseAlignment

    first = Alignment(np.array([[0, 0], [9, 9]]), 10.0, 10.0, n_a=20, n_b=20, method="dtw")
    second = Alignment(np.array([[0, 10], [9, 19]]), 10.0, 10.0, n_a=20, n_b=20,
                       method="dtw")
    pieces = PiecewiseAlignment([first, second])
    recipe = registry.recipe("default", {"band_s": 3.0})
    write_alignment(pieces, tmp_path / "p.json", recipe=recipe)
    assert read_recipe(tmp_path / "p.json").params["band_s"] == 3.0


def test_csv_header_and_rows(tmp_path):
    a = sample_alignment(rate_a=10.0, rate_b=10.0)
    out = tmp_path / "a.csv"
    write_alignment(a, out)
    lines = out.read_text().splitlines()
    assert lines[0] == "time_a_s,time_b_s" and len(lines) == len(a.path) + 1
    assert lines[1] == "0.000000000,0.000000000"


def test_generic_pairs_any_delimiter_reversed_and_decimal_comma(tmp_path):
    path = np.array([[0, 0], [1, 1], [1, 2], [2, 3], [3, 3]])
    rate = 22050 / 512
    t = path / rate
    # librosa lists its warping path from the end; saved with numpy.savetxt, tab, no header
    f1 = tmp_path / "librosa.txt"
    np.savetxt(f1, t[::-1], delimiter="\t")
    b = read_alignment(f1, "csv")
    np.testing.assert_array_equal(b.path, path)
    assert b.diagnostics["import"]["reversed"] is True
    assert b.rate_a_hz == pytest.approx(rate, rel=1e-12)
    f2 = tmp_path / "sheet.csv"
    f2.write_text("A;B\n" + "".join(f"{x:.4f};{y:.4f}\n".replace(".", ",") for x, y in t))
    np.testing.assert_array_equal(read_alignment(f2).path, path)
    # a ground-truth table: the header names the columns among others
    f3 = tmp_path / "gt.csv"
    f3.write_text("event_id,time_a_s,time_b_s,word\n0,0.5,0.75,the\n1,1.0,1.25,boy\n")
    c = read_alignment(f3)
    np.testing.assert_allclose(c.times_s, [[0.5, 0.75], [1.0, 1.25]])


def test_rate_given_overrides_inference(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("0,0\n0.1,0.2\n0.2,0.4\n")
    b = read_alignment(f, rate_a_hz=100, rate_b_hz=100)
    np.testing.assert_array_equal(b.path, [[0, 0], [10, 20], [20, 40]])
    assert infer_rate([0.0, 0.1, 0.3], 1e-9) == 10.0
    # irregular times fall back to a 1 kHz grid
    f.write_text("0,0\n0.1234567,0.2\n0.3141593,0.5\n")
    c = read_alignment(f)
    assert c.rate_a_hz == 1000.0
    assert c.diagnostics["import"]["rate_a"].startswith("fallback")


def test_sv_pairs_for_external_aligner():
    a = Alignment(np.array([[0, 0], [1, 0], [2, 0], [3, 1], [3, 2], [4, 3]]), 10.0, 10.0)
    buf = io.StringIO()
    write_sv_pairs(a, buf)
    lines = buf.getvalue().splitlines()
    # one line per distinct time of OTHER (B), ref time at the middle of A's run
    assert lines == ["0.100000,0.000000", "0.300000,0.100000", "0.300000,0.200000",
                     "0.400000,0.300000"]
    for line in lines:
        ref, other = map(float, line.split(","))
        assert a.map_b_to_a(other) == pytest.approx(ref)


def test_sv_pairs_read_back(tmp_path):
    f = tmp_path / "aligner_output.csv"
    f.write_text("0.000000,0.000000\n0.500000,0.250000\n1.000000,0.500000\n")
    b = read_alignment(f, "sv-csv")
    np.testing.assert_allclose(b.times_s, [[0, 0], [0.5, 0.25], [1.0, 0.5]])


def test_format_from_path(tmp_path):
    assert format_from_path("x.TEXTGRID") == "textgrid"
    assert format_from_path("x.sv.csv") == "sv-csv"
    assert format_from_path("x.txt") == "audacity"
    with pytest.raises(ValueError, match="cannot tell"):
        format_from_path("x.doc")
    with pytest.raises(ValueError, match="format: expected one of"):
        write_alignment(sample_alignment(), tmp_path / "x.csv", format="mp3")


def annotation():
    words = Tier("words", "interval", (Interval(0.0, 0.5, ""), Interval(0.5, 1.25, "héllo"),
                                       Interval(1.25, 2.0, 'say "hi"'),
                                       Interval(2.0, 3.0, "")))
    marks = Tier("beats", "point", (Point(0.25, "1"), Point(1.5, "2"), Point(2.75, "")))
    return Annotation((words, marks), start_s=0.0, end_s=3.0)


def _items(tier):
    if tier.kind == "point":
        return [(round(p.time_s, 6), p.label) for p in tier.items]
    return [(round(i.start_s, 6), round(i.end_s, 6), i.label) for i in tier.items]


@pytest.mark.parametrize("ext", ["TextGrid", "eaf", "csv"])
def test_annotation_round_trip_keeps_tiers(tmp_path, ext):
    ann = annotation()
    out = tmp_path / f"labels.{ext}"
    assert write_annotation(ann, out) == []
    back = read_annotation(out)
    for tier in ann.tiers:
        got = back.tier(tier.name)
        assert got.kind == tier.kind
        expected = _items(tier)
        if ext == "eaf" and tier.kind == "interval":  # ELAN leaves gaps empty
            expected = [e for e in expected if e[-1]]
        assert _items(got) == expected


@pytest.mark.parametrize("ext", ["txt", "sv.csv"])
def test_annotation_round_trip_single_track_formats(tmp_path, ext):
    words = Tier("w", "interval", (Interval(0.1, 0.5, "a b"), Interval(0.7, 0.7, "pt"),
                                   Interval(1.0, 2.0, "c,d")))
    out = tmp_path / f"labels.{ext}"
    write_annotation(Annotation((words,)), out)
    back = read_annotation(out)
    assert _items(back.tiers[0]) == _items(words)
    points = Tier("p", "point", (Point(0.1, "x"), Point(0.3, "y z")))
    write_annotation(Annotation((points,)), out)
    assert _items(read_annotation(out).tiers[0]) == _items(points)


def test_textgrid_short_format_and_utf16_read(tmp_path):
    from core.formats.textgrid import read_textgrid, write_textgrid
    ann = annotation()
    short = tmp_path / "short.TextGrid"
    write_textgrid(ann, short, short=True)
    text = short.read_text(encoding="utf-8")
    assert "intervals [" not in text
    for encoding, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                          ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"")):
        f = tmp_path / f"enc_{encoding}_{len(bom)}.TextGrid"
        f.write_bytes(bom + text.encode(encoding))
        back = read_textgrid(f)
        assert _items(back.tier("words")) == _items(ann.tier("words"))
        assert _items(back.tier("beats")) == _items(ann.tier("beats"))


def test_sv_pairs_follow_sonic_visualisers_reader_rules():
    """What Sonic Visualiser's ExternalProgramAligner expects on stdout: unquoted CSV with
    comma separators, two columns of seconds (reference, other), keyed on the second
    column, so that column must not repeat."""
    a = sample_alignment()
    buf = io.StringIO()
    write_sv_pairs(a, buf)
    text = buf.getvalue()
    assert '"' not in text and text.endswith("\n") and "\r" not in text
    rows = np.array([[float(x) for x in line.split(",")] for line in text.splitlines()])
    assert rows.shape[1] == 2
    assert np.all(np.diff(rows[:, 1]) > 0) and np.all(np.diff(rows[:, 0]) >= 0)
    assert rows[0, 1] == 0.0 and rows[-1, 1] == pytest.approx(a.path[-1, 1] / a.rate_b_hz,
                                                            abs=1e-6)
    np.testing.assert_allclose(rows[:, 0], a.map_b_to_a(rows[:, 1]), atol=1e-6)


def test_json_long_arrays_one_row_per_line(tmp_path):
    a = sample_alignment()
    out = tmp_path / "a.json"
    write_alignment(a, out)
    assert len(out.read_text().splitlines()) < 2 * len(a.path) + 60


def test_txt_of_bare_time_pairs_reads_as_pairs(tmp_path):
    path = np.array([[0, 0], [1, 2], [2, 3]])
    for delimiter in (" ", "\t"):
        f = tmp_path / "savetxt.txt"
        np.savetxt(f, path / 25.0, delimiter=delimiter)
        b = read_alignment(f)
        np.testing.assert_array_equal(b.path, path)
        assert b.rate_a_hz == 25.0


def test_eaf_media_urls_are_kept(tmp_path):
    ann = Annotation((Tier("w", "interval", (Interval(0, 1, "x"),)),),
                     media="file:///data/my%20talk.wav")
    out = tmp_path / "m.eaf"
    write_annotation(ann, out)
    text = out.read_text(encoding="utf-8")
    assert 'MEDIA_URL="file:///data/my%20talk.wav"' in text
    assert "audio/x-wav" in text
    relative = re.search(r'RELATIVE_MEDIA_URL="([^"]*)"', text).group(1)
    assert os.path.normpath(tmp_path / unquote(relative)) == "/data/my talk.wav"
    assert read_annotation(out).media == "file:///data/my%20talk.wav"


def test_eaf_relative_media_urls_are_relative_to_the_written_file(tmp_path):
    """ELAN resolves RELATIVE_MEDIA_URL against the .eaf's folder (when the folder was
    moved with its media): it said "./a.wav" wherever the file was written."""
    media = tmp_path / "media"
    media.mkdir()
    al = Alignment(np.array([[0, 0], [10, 12]]), 25.0, 25.0,
                   sources={"a": {"path": str(media / "a.wav")},
                            "b": {"path": str(media / "b b.wav")}})
    for out in (tmp_path / "exports" / "al.eaf", media / "al.eaf"):
        out.parent.mkdir(exist_ok=True)
        write_alignment(al, out)
        urls = re.findall(r'RELATIVE_MEDIA_URL="([^"]*)"', out.read_text(encoding="utf-8"))
        assert [os.path.normpath(out.parent / unquote(u)) for u in urls] == [
            str(media / "a.wav"), str(media / "b b.wav")]
    assert urls == ["./a.wav", "./b%20b.wav"]
    ann = Annotation((Tier("w", "interval", (Interval(0, 1, "x"),)),), media=str(media / "a.wav"))
    write_annotation(ann, tmp_path / "exports" / "w.eaf")
    text = (tmp_path / "exports" / "w.eaf").read_text(encoding="utf-8")
    assert 'RELATIVE_MEDIA_URL="../media/a.wav"' in text


def test_file_names_that_are_not_utf8_survive_every_writer(tmp_path):
    # issue 19: names carry non-UTF-8 bytes as surrogate escapes; JSON keeps them exact
    # (\\udcff escapes), text formats show them as \\xff, ELAN percent-encodes them
    import os

    name = os.fsdecode(b"/data/caf\xe9 \xff.wav")
    a = sample_alignment(sources={"a": {"path": name}, "b": {"path": name}},
                         diagnostics={"note": name})
    for ext in ("json", "csv", "svl", "txt", "TextGrid", "eaf", "sv.csv"):
        out = tmp_path / f"x.{ext}"
        write_alignment(a, out)
        out.read_bytes().decode("utf-8")  # valid UTF-8 whatever the name
        b = read_alignment(out)
        if ext == "json":
            assert b.sources["a"]["path"] == name and b.diagnostics["note"] == name
        if ext == "eaf":
            assert "caf%E9%20%FF.wav" in out.read_text()
