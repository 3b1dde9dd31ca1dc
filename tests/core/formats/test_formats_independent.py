"""Other programs' readers read our files, and we read theirs (optional test extras)."""

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from core.formats import (
    Annotation,
    Interval,
    Point,
    Tier,
    read_annotation,
    write_alignment,
    write_annotation,
)
from core.formats._anchors import path_anchors

from .helpers import sample_alignment

SCHEMA = Path(__file__).with_name("eaf_v3_minimal.xsd")


def annotation(media=None):
    words = Tier("words", "interval", (Interval(0.0, 0.5, ""), Interval(0.5, 1.25, "héllo"),
                                       Interval(1.25, 2.0, 'say "hi"'),
                                       Interval(2.0, 3.0, "")))
    marks = Tier("beats", "point", (Point(0.25, "1"), Point(1.5, "2")))
    return Annotation((words, marks), start_s=0.0, end_s=3.0, media=media)


# ------------------------------------------------------------------ Praat via praatio
def test_praatio_reads_our_textgrid(tmp_path):
    textgrid = pytest.importorskip("praatio.textgrid")
    out = tmp_path / "ours.TextGrid"
    write_annotation(annotation(), out)
    assert not out.read_bytes().startswith(b"\xef\xbb\xbf")
    tg = textgrid.openTextgrid(str(out), includeEmptyIntervals=True)
    assert tg.tierNames == ("words", "beats")
    words = tg.getTier("words").entries
    assert [(e.start, e.end, e.label) for e in words] == [
        (0.0, 0.5, ""), (0.5, 1.25, "héllo"), (1.25, 2.0, 'say "hi"'), (2.0, 3.0, "")]
    assert [(p.time, p.label) for p in tg.getTier("beats").entries] == [(0.25, "1"),
                                                                        (1.5, "2")]
    assert (tg.minTimestamp, tg.maxTimestamp) == (0.0, 3.0)


def test_praatio_reads_our_alignment_textgrid(tmp_path):
    textgrid = pytest.importorskip("praatio.textgrid")
    a = sample_alignment()
    out = tmp_path / "alignment.TextGrid"
    write_alignment(a, out)
    tg = textgrid.openTextgrid(str(out), includeEmptyIntervals=True)
    pa, pb = tg.getTier("A").entries, tg.getTier("B").entries
    anchors = path_anchors(a.path)
    assert [p.label for p in pa] == [p.label for p in pb] == [
        str(k) for k in range(1, len(anchors) + 1)]
    np.testing.assert_allclose([p.time for p in pa], anchors[:, 0] / a.rate_a_hz)
    np.testing.assert_allclose([p.time for p in pb], anchors[:, 1] / a.rate_b_hz)


@pytest.mark.parametrize("fmt", ["long_textgrid", "short_textgrid"])
def test_we_read_praatio_textgrids(tmp_path, fmt):
    textgrid = pytest.importorskip("praatio.textgrid")
    tg = textgrid.Textgrid()
    tg.addTier(textgrid.IntervalTier("w", [(0.1, 0.4, "ü"), (0.6, 0.9, "b")], 0, 1.0))
    tg.addTier(textgrid.PointTier("p", [(0.2, "x"), (0.7, "y")], 0, 1.0))
    out = tmp_path / f"{fmt}.TextGrid"
    tg.save(str(out), format=fmt, includeBlankSpaces=True)
    ann = read_annotation(out)
    assert [(i.start_s, i.end_s, i.label) for i in ann.tier("w").items if i.label] == [
        (0.1, 0.4, "ü"), (0.6, 0.9, "b")]
    assert [(p.time_s, p.label) for p in ann.tier("p").items] == [(0.2, "x"), (0.7, "y")]


# ------------------------------------------------------------------ ELAN via pympi + schema
def _validate(path):
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    doc = etree.parse(str(path))
    assert schema.validate(doc), schema.error_log


def test_our_eaf_is_valid_and_pympi_reads_it(tmp_path):
    elan = pytest.importorskip("pympi.Elan")
    media = tmp_path / "a.wav"
    out = tmp_path / "ours.eaf"
    write_annotation(annotation(media=str(media)), out)
    _validate(out)
    eaf = elan.Eaf(str(out))
    assert set(eaf.get_tier_names()) == {"words", "beats"}
    assert sorted(eaf.get_annotation_data_for_tier("words")) == [
        (500, 1250, "héllo"), (1250, 2000, 'say "hi"')]
    assert sorted(eaf.get_annotation_data_for_tier("beats")) == [(250, 250, "1"),
                                                                 (1500, 1500, "2")]
    assert eaf.media_descriptors[0]["MIME_TYPE"] == "audio/x-wav"


def test_our_alignment_eaf_is_valid_with_both_media(tmp_path):
    elan = pytest.importorskip("pympi.Elan")
    sources = {"a": {"path": str(tmp_path / "a.wav")}, "b": {"path": str(tmp_path / "b.mp4")}}
    a = sample_alignment(sources=sources)
    out = tmp_path / "alignment.eaf"
    write_alignment(a, out)
    _validate(out)
    eaf = elan.Eaf(str(out))
    assert [m["MIME_TYPE"] for m in eaf.media_descriptors] == ["audio/x-wav", "video/mp4"]
    seg_a = sorted(eaf.get_annotation_data_for_tier("A"))
    seg_b = sorted(eaf.get_annotation_data_for_tier("B"))
    assert [s[2] for s in seg_a] == [s[2] for s in seg_b]
    anchors = path_anchors(a.path)
    assert seg_a[0][0] == 0 and seg_a[-1][1] == round(anchors[-1, 0] / a.rate_a_hz * 1000)


def test_schema_rejects_a_broken_eaf(tmp_path):
    etree = pytest.importorskip("lxml.etree")
    out = tmp_path / "ours.eaf"
    write_annotation(annotation(), out)
    text = out.read_text(encoding="utf-8").replace('LINGUISTIC_TYPE_REF="default-lt"',
                                                   'LINGUISTIC_TYPE_REF="missing"', 1)
    bad = tmp_path / "bad.eaf"
    bad.write_text(text, encoding="utf-8")
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    assert not schema.validate(etree.parse(str(bad)))


def test_we_read_pympi_eaf(tmp_path):
    elan = pytest.importorskip("pympi.Elan")
    eaf = elan.Eaf()
    eaf.add_tier("speech")
    eaf.add_annotation("speech", 100, 500, "hello")
    eaf.add_annotation("speech", 700, 1200, "world")
    eaf.add_tier("gloss", parent="speech", ling="default-lt")
    out = tmp_path / "theirs.eaf"
    eaf.to_file(str(out))
    ann = read_annotation(out)
    assert [(i.start_s, i.end_s, i.label) for i in ann.tier("speech").items] == [
        (0.1, 0.5, "hello"), (0.7, 1.2, "world")]


# ------------------------------------------------------------------ Audacity's rules
def test_audacity_labels_follow_audacitys_rules(tmp_path):
    ann = Annotation((Tier("w", "interval", (
        Interval(0.1, 0.5, "tab\there"), Interval(1.0, 1.0, "point"),
        Interval(2.0, 3.5, "two\nlines"), Interval(4.0, 4.25, ""))),))
    out = tmp_path / "labels.txt"
    write_annotation(ann, out)
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == 4
    for row in rows:
        assert len(row) == 3  # start, end, label; no extra tab, no quoting
        start, end = float(row[0]), float(row[1])
        assert math.isfinite(start) and start <= end
        assert len(row[0].split(".")[1]) == 6  # six decimals, as Audacity writes
    assert [r[2] for r in rows] == ["tab here", "point", "two lines", ""]
    starts = [float(r[0]) for r in rows]
    assert starts == sorted(starts)


def test_we_read_audacity_spectral_selection_lines(tmp_path):
    f = tmp_path / "aud.txt"
    f.write_text("1.000000\t2.000000\tlow\n\\\t100.000000\t2000.000000\n"
                 "3.500000\t3.500000\t\n")
    tier = read_annotation(f).tiers[0]
    assert [(i.start_s, i.end_s, i.label) for i in tier.items] == [(1.0, 2.0, "low"),
                                                                   (3.5, 3.5, "")]
