"""Files other programs write that we must read, and outputs they must be able to read
(issue 19, item 8): Praat's binary TextGrids, Sonic Visualiser's text export, and output
formats that must match the extension."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import FormatError, OutputError
from core.formats import (
    output_format,
    read_annotation,
    transfer_file,
    write_alignment,
    write_annotation,
)
from core.formats.annotations import Annotation, Interval, Tier

from .helpers import sample_alignment

PRAAT = Path(__file__).parent / "praat"  # made by Praat 6.3.07 itself: make_fixtures.praat


def _content(annotation):
    return [(t.name, t.kind, [(round(getattr(i, "start_s", getattr(i, "time_s", 0)), 9),
                               round(getattr(i, "end_s", getattr(i, "time_s", 0)), 9), i.label)
                              for i in t.items]) for t in annotation.tiers]


def test_praat_binary_textgrid_reads_like_its_text_forms():
    binary = read_annotation(PRAAT / "labels.binary.TextGrid")
    for name in ("labels.long.TextGrid", "labels.short.TextGrid"):
        text = read_annotation(PRAAT / name)
        assert _content(binary) == _content(text)
        assert (binary.start_s, binary.end_s) == (text.start_s, text.end_s) == (0.0, 2.5)
    words = binary.tier("words")
    assert [i.label for i in words.items] == ["hello", "wörld ☃", "😀 smile"]
    assert [p.label for p in binary.tier("bell").items] == ["ding", ""]


@pytest.mark.parametrize("keep", [12, 13, 20, 40, 100, 150, 233])
def test_cut_binary_textgrid_names_the_file(tmp_path, keep):
    data = (PRAAT / "labels.binary.TextGrid").read_bytes()
    path = tmp_path / "cut.TextGrid"
    path.write_bytes(data[:keep])
    with pytest.raises(FormatError, match="binary TextGrid: (the file ends at byte|.* does "
                                          "not fit in the file)") as info:
        read_annotation(path)
    assert str(info.value).startswith(str(path))


def test_binary_textgrid_with_garbage_counts(tmp_path):
    data = bytearray((PRAAT / "labels.binary.TextGrid").read_bytes())
    data[37:41] = b"\x7f\xff\xff\xff"  # the number of tiers
    path = tmp_path / "garbage.TextGrid"
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="does not fit in the file"):
        read_annotation(path)


def test_binary_textgrid_transfers(tmp_path):
    out = tmp_path / "b.TextGrid"
    al = tmp_path / "al.csv"
    al.write_text("time_a_s,time_b_s\n0,0\n1,2\n2.5,5\n")
    transfer_file(al, PRAAT / "labels.binary.TextGrid", out)
    moved = read_annotation(out)
    words = [(round(i.start_s, 6), i.label) for i in moved.tier("words").items if i.label]
    assert words == [(0.0, "hello"), (1.6, "wörld ☃"), (3.4, "😀 smile")]


# Sonic Visualiser 4.5's "Export Annotation Layer" to .txt: tab-separated, times as
# RealTime::toString (nine decimals), the value as a plain number, the label omitted when
# empty (svcore base/Event.h, toDelimitedDataString)
SV_REGIONS = ("0.510023000\t0\t0.200000000\tla la\n"
              "1.000000000\t3.5\t0.500000000\tsecond\n"
              "2.000000000\t1\t0.250000000\n")
SV_INSTANTS = "0.250000000\tbeat\n0.750000000\n1.250000000\tbeat\n"
SV_VALUES = "0.100000000\t440.5\n0.200000000\t0.05\tlow\n"


def test_sonic_visualiser_region_export_is_not_taken_for_audacity(tmp_path):
    path = tmp_path / "regions.txt"
    path.write_text(SV_REGIONS)
    ann = read_annotation(path)
    items = ann.tiers[0].items
    assert [(round(i.start_s, 6), round(i.end_s, 6), i.label) for i in items] == [
        (0.510023, 0.710023, "la la"), (1.0, 1.5, "second"), (2.0, 2.25, "")]


@pytest.mark.parametrize(("text", "kind", "n"), [(SV_INSTANTS, "point", 3),
                                                 (SV_VALUES, "point", 2)])
def test_sonic_visualiser_other_text_exports(tmp_path, text, kind, n):
    path = tmp_path / "layer.txt"
    path.write_text(text)
    tier = read_annotation(path).tiers[0]
    assert tier.kind == kind and len(tier.items) == n


@pytest.mark.parametrize("text", [
    "0.510023\t0.710023\tla la\n",            # Audacity: six decimals
    "0.500000000\t0.700000000\tnine decimals everywhere\n",  # start and end: still Audacity
    "1.0\t2.0\t\n",
])
def test_audacity_labels_stay_audacity(tmp_path, text):
    path = tmp_path / "labels.txt"
    path.write_text(text)
    tier = read_annotation(path).tiers[0]
    assert tier.name == "labels" and tier.kind == "interval"


# ------------------------------------------------------------------ output formats
def test_annotations_are_not_written_into_a_svl(tmp_path):
    al = tmp_path / "al.csv"
    al.write_text("time_a_s,time_b_s\n0,0\n1,2\n")
    labels = tmp_path / "labels.txt"
    labels.write_text("0.1\t0.4\tx\n")
    with pytest.raises(OutputError, match=r"y.svl: a .svl file cannot hold annotations"):
        transfer_file(al, labels, tmp_path / "y.svl")
    assert not (tmp_path / "y.svl").exists()
    ann = Annotation((Tier("w", "interval", (Interval(0, 1, "x"),)),))
    with pytest.raises(OutputError, match="cannot hold annotations"):
        write_annotation(ann, tmp_path / "y.json")


@pytest.mark.parametrize(("name", "fmt"), [("x.json", "csv"), ("x.svl", "audacity"),
                                           ("x.TextGrid", "eaf"), ("x.eaf", "json"),
                                           ("x.csv", "textgrid"), ("x.sv.csv", "csv")])
def test_a_format_the_extension_cannot_hold_is_refused(tmp_path, name, fmt):
    with pytest.raises(OutputError, match="other programs would misread it"):
        write_alignment(sample_alignment(), tmp_path / name, format=fmt)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("name", "fmt", "kind", "expected"), [
    ("x.csv", "sv-csv", "alignment", "sv-csv"), ("x.txt", "csv", "alignment", "csv"),
    ("x.out", "json", "alignment", "json"), ("-", None, "alignment", "csv"),
    ("x.csv", None, "annotation", "labels-csv"), ("x.dat", None, "annotation", "audacity"),
])
def test_formats_the_extension_holds(name, fmt, kind, expected):
    assert output_format(name, fmt, kind, input_format="audacity") == expected


# ------------------------------------------------------------------ found by the fuzzing
def test_numeric_labels_survive_a_sonic_visualiser_csv_layer(tmp_path):
    from core.formats import Point

    points = Tier("p", "point", (Point(0.25, "1"), Point(0.75, "2e3"), Point(1.0, "")))
    regions = Tier("r", "interval", (Interval(0.0, 0.5, "7"), Interval(0.5, 1.0, "x")))
    for tiers in ((points,), (regions,)):
        path = tmp_path / "layer.sv.csv"
        write_annotation(Annotation(tiers), path)
        back = read_annotation(path).tiers[0]
        assert [i.label for i in back.items] == [i.label for i in tiers[0].items]
        assert all(getattr(i, "value", None) is None for i in back.items)


def test_an_empty_sonic_visualiser_layer_reads_as_empty(tmp_path):
    path = tmp_path / "empty.sv.csv"
    path.write_text("")
    assert read_annotation(path).tiers[0].items == ()


def test_eaf_writer_replaces_what_xml_cannot_hold(tmp_path):
    ann = Annotation((Tier("w\x01", "interval", (Interval(0, 1, "a\x00b\x1fc\ud800"),)),
                      Tier("w\x01", "interval", (Interval(1, 2, "d"),))))
    path = tmp_path / "x.eaf"
    warnings = write_annotation(ann, path)
    assert any("characters XML cannot hold" in w for w in warnings)
    back = read_annotation(path)
    assert [t.name for t in back.tiers] == ["w\ufffd", "w\ufffd (2)"]
    assert back.tiers[0].items[0].label == "a\ufffdb\ufffdc\ufffd"


@pytest.mark.parametrize("name", ["x.eaf", "x.svl"])
def test_xml_with_an_unknown_encoding_names_the_file(tmp_path, name):
    from core.formats import read_alignment

    path = tmp_path / name
    path.write_text('<?xml version="1.0" encoding="UTF-NaN"?>\n<sv/>\n')
    with pytest.raises(FormatError, match="the declared encoding is unknown") as info:
        (read_annotation if name.endswith("eaf") else read_alignment)(path)
    assert str(info.value).startswith(str(path))
