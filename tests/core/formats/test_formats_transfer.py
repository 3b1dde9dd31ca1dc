"""Annotation transfer through an alignment, the transfer/convert subcommands."""

import argparse

import numpy as np
import pytest

from core import Alignment
from core.formats import (
    Annotation,
    Interval,
    Point,
    Tier,
    read_annotation,
    transfer_annotation,
    write_alignment,
    write_annotation,
)
from core.formats.commands import register
from core.formats.textgrid import MIN_WIDTH_S, read_textgrid

from .helpers import interp_alignment


def stretch():
    """B is A slowed down by 2 (t_b = 2 t_a) at 100 Hz, over 3 s of A."""
    return interp_alignment([0.0, 3.0], [0.0, 6.0])


def test_times_map_through_the_path_and_order_is_kept():
    words = Tier("w", "interval", (Interval(0.0, 0.5, "a"), Interval(0.5, 1.2, "b"),
                                   Interval(1.2, 3.0, "")))
    points = Tier("p", "point", (Point(0.3, "x", value=7.0),))
    result = transfer_annotation(Annotation((words, points)), stretch())
    got = result.annotation.tier("w").items
    # the path is on a 100 Hz grid: times land within one frame
    np.testing.assert_allclose([(i.start_s, i.end_s) for i in got],
                               [(0, 1), (1, 2.4), (2.4, 6)], atol=0.011)
    p = result.annotation.tier("p").items[0]
    assert p.time_s == pytest.approx(0.6, abs=0.011) and p.value == 7.0 and p.label == "x"
    assert result.warnings == ()
    assert result.annotation.end_s == pytest.approx(6.01)
    back = transfer_annotation(result.annotation, stretch(), direction="b2a").annotation
    np.testing.assert_allclose([(i.start_s, i.end_s) for i in back.tier("w").items],
                               [(0, 0.5), (0.5, 1.2), (1.2, 3.0)], atol=0.011)


def collapsing():
    """B holds still while A goes from 1.0 to 2.0 s."""
    return interp_alignment([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 1.0, 2.0])


def test_collapsed_interval_is_kept_and_flagged():
    words = Tier("w", "interval", (Interval(0.0, 1.0, "a"), Interval(1.1, 1.9, "held"),
                                   Interval(1.9, 3.0, "c")))
    result = transfer_annotation(Annotation((words,)), collapsing(), collapsed_marker=" [0]")
    items = result.annotation.tier("w").items
    assert len(items) == 3
    held = items[1]
    assert held.collapsed and held.start_s == held.end_s and held.label == "held [0]"
    assert not items[0].collapsed and not items[2].collapsed
    assert len(result.warnings) == 1 and "'held'" in result.warnings[0]
    starts = [i.start_s for i in items]
    assert starts == sorted(starts)


def test_textgrid_output_still_tiles_with_collapsed_interval(tmp_path):
    words = Tier("w", "interval", (Interval(0.0, 1.0, "a"), Interval(1.0, 1.5, "held"),
                                   Interval(1.5, 2.0, "b"), Interval(2.0, 3.0, "c")))
    result = transfer_annotation(Annotation((words,), end_s=3.0), collapsing())
    out = tmp_path / "b.TextGrid"
    warnings = write_annotation(result.annotation, out)
    assert any("widened" in w for w in warnings)
    tier = read_textgrid(out).tier("w")  # the reader checks tiling
    labels = [i.label for i in tier.items]
    assert labels[:4] == ["a", "held", "b", "c"]
    assert all(i.end_s - i.start_s >= MIN_WIDTH_S * 0.999 for i in tier.items)


def test_overlapping_intervals_split_into_tiers_for_textgrid(tmp_path):
    ann = Annotation((Tier("l", "interval", (Interval(0, 2, "x"), Interval(1, 3, "y"))),))
    out = tmp_path / "o.TextGrid"
    warnings = write_annotation(ann, out)
    back = read_textgrid(out)
    assert [t.name for t in back.tiers] == ["l", "l (2)"] and "split" in warnings[0]


def run(argv):
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.mark.parametrize("out_ext", ["txt", "TextGrid", "eaf", "csv"])
def test_transfer_command_any_output(tmp_path, out_ext, capsys):
    alignment = tmp_path / "al.json"
    write_alignment(stretch(), alignment)
    labels = tmp_path / "a.txt"
    labels.write_text("0.100000\t0.400000\tone\n1.000000\t1.000000\tpoint\n")
    out = tmp_path / f"b.{out_ext}"
    assert run(["transfer", str(alignment), str(labels), "-o", str(out)]) == 0
    back = read_annotation(out)
    items = [i for t in back.tiers for i in t.items if i.label]
    spans = sorted((getattr(i, "start_s", getattr(i, "time_s", None)), i.label)
                   for i in items)
    assert spans == [(pytest.approx(0.2, abs=0.011), "one"),
                     (pytest.approx(2.0, abs=0.011), "point")]


def test_transfer_command_b2a_and_warning(tmp_path, capsys):
    alignment = tmp_path / "al.csv"
    write_alignment(collapsing(), alignment)
    labels = tmp_path / "a.txt"
    labels.write_text("1.100000\t1.900000\theld\n")
    out = tmp_path / "b.txt"
    assert run(["transfer", str(alignment), str(labels), "-o", str(out),
                "--mark-collapsed", " (collapsed)"]) == 0
    assert "collapses to zero length" in capsys.readouterr().err
    assert out.read_text() == "1.000000\t1.000000\theld (collapsed)\n"
    out2 = tmp_path / "a_again.txt"
    assert run(["transfer", str(alignment), str(tmp_path / "b.txt"), "-o", str(out2),
                "--direction", "b2a"]) == 0
    start, end, _ = out2.read_text().split("\t")
    assert float(start) == float(end) == pytest.approx(1.5, abs=0.01)


def test_convert_command(tmp_path):
    src = tmp_path / "a.csv"
    a = stretch()
    write_alignment(a, src)
    out = tmp_path / "a.svl"
    assert run(["convert", str(src), "-o", str(out)]) == 0
    from core.formats import read_alignment
    np.testing.assert_array_equal(read_alignment(out).path, a.path)


def test_transfer_rejects_bad_direction():
    with pytest.raises(ValueError, match="direction"):
        transfer_annotation(Annotation(()), stretch(), direction="sideways")
    with pytest.raises(ValueError, match="alignment"):
        transfer_annotation(Annotation(()), "not an alignment")


def test_alignment_is_used_not_copied():
    a = Alignment(np.array([[0, 0], [1, 2]]), 1.0, 1.0)
    tier = Tier("p", "point", (Point(0.5, "m"), Point(5.0, "clamped")))
    got = transfer_annotation(Annotation((tier,)), a).annotation.tier("p").items
    assert got[0].time_s == pytest.approx(1.0) and got[1].time_s == pytest.approx(2.0)


def test_points_at_the_same_time_are_kept_apart_in_textgrid(tmp_path):
    ann = Annotation((Tier("p", "point", (Point(1.0, "a"), Point(1.0, "b"))),), end_s=2.0)
    out = tmp_path / "p.TextGrid"
    warnings = write_annotation(ann, out)
    points = read_textgrid(out).tier("p").items
    assert [p.label for p in points] == ["a", "b"]
    assert points[1].time_s == pytest.approx(1.000001) and "shares its time" in warnings[0]


def test_transfer_keeps_sonic_visualiser_csv_layer(tmp_path):
    alignment = tmp_path / "al.json"
    write_alignment(stretch(), alignment)
    layer = tmp_path / "regions.csv"
    layer.write_text("0.500000000,3,0.250000000,verse\n1.000000000,3,0.500000000,chorus\n")
    out = tmp_path / "regions_b.csv"
    assert run(["transfer", str(alignment), str(layer), "-o", str(out)]) == 0
    rows = [line.split(",") for line in out.read_text().splitlines()]
    assert [r[3] for r in rows] == ["verse", "chorus"] and len(rows[0]) == 4
    np.testing.assert_allclose([float(r[0]) for r in rows], [1.0, 2.0], atol=0.011)
    np.testing.assert_allclose([float(r[2]) for r in rows], [0.5, 1.0], atol=0.011)


def test_transfer_table_of_words_to_elan(tmp_path):
    alignment = tmp_path / "al.csv"
    write_alignment(stretch(), alignment)
    table = tmp_path / "words.csv"
    table.write_text("event_id,time_a_s,word,end_a_s\n0,0.25,hello,0.5\n1,0.75,world,1.0\n")
    out = tmp_path / "b.eaf"
    assert run(["transfer", str(alignment), str(table), "-o", str(out)]) == 0
    items = read_annotation(out).tier("labels").items
    assert [i.label for i in items] == ["hello", "world"]
    np.testing.assert_allclose([(i.start_s, i.end_s) for i in items],
                               [(0.5, 1.0), (1.5, 2.0)], atol=0.011)


def test_elan_symbolic_tier_follows_its_parent(tmp_path):
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<ANNOTATION_DOCUMENT AUTHOR="" '
            'DATE="2024-01-01T00:00:00+00:00" FORMAT="3.0" VERSION="3.0"><HEADER/>'
            '<TIME_ORDER><TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="100"/>'
            '<TIME_SLOT TIME_SLOT_ID="ts2"/><TIME_SLOT TIME_SLOT_ID="ts3" TIME_VALUE="900"/>'
            '</TIME_ORDER><TIER LINGUISTIC_TYPE_REF="lt" TIER_ID="words"><ANNOTATION>'
            '<ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2">'
            '<ANNOTATION_VALUE>hi</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>'
            '</TIER><TIER LINGUISTIC_TYPE_REF="sa" PARENT_REF="words" TIER_ID="gloss">'
            '<ANNOTATION><REF_ANNOTATION ANNOTATION_ID="a2" ANNOTATION_REF="a1">'
            '<ANNOTATION_VALUE>greeting</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>'
            '</TIER></ANNOTATION_DOCUMENT>\n')
    f = tmp_path / "elan.eaf"
    f.write_text(text, encoding="utf-8")
    ann = read_annotation(f)
    # the unaligned slot ts2 lies halfway between its aligned neighbours
    assert [(i.start_s, i.end_s) for i in ann.tier("words").items] == [(0.1, 0.5)]
    assert [(i.start_s, i.end_s, i.label) for i in ann.tier("gloss").items] == [
        (0.1, 0.5, "greeting")]


@pytest.mark.parametrize("seed", range(5))
def test_random_tiers_through_random_paths_never_lose_labels(tmp_path, seed):
    rng = np.random.default_rng(seed)
    moves = np.array([[1, 0], [0, 1], [1, 1]])[rng.choice(3, size=400, p=[0.35, 0.35, 0.3])]
    a = Alignment(np.vstack([[0, 0], np.cumsum(moves, axis=0)]), 50.0, 50.0)
    bounds = np.sort(rng.uniform(0, a.duration_a_s, size=30))
    bounds = np.r_[0.0, bounds, a.duration_a_s]
    labels = [f"w{k}" for k in range(len(bounds) - 1)]
    tier = Tier("w", "interval", tuple(Interval(s, e, lab) for s, e, lab in
                                       zip(bounds[:-1], bounds[1:], labels, strict=True)))
    src = tmp_path / "a.TextGrid"
    write_annotation(Annotation((tier,), end_s=a.duration_a_s), src)
    result = transfer_annotation(read_annotation(src), a)
    items = result.annotation.tier("w").items
    assert [i.label for i in items] == labels  # nothing dropped, order kept
    ends = np.array([(i.start_s, i.end_s) for i in items])
    assert np.all(np.diff(ends.ravel()) >= 0)
    n_collapsed = sum(i.collapsed for i in items)
    assert len(result.warnings) == n_collapsed
    out = tmp_path / "b.TextGrid"
    write_annotation(result.annotation, out)
    back = read_textgrid(out).tier("w")  # tiles, or the reader would raise
    assert [i.label for i in back.items if i.label] == labels


def test_all_interval_tiers_end_at_the_common_xmax(tmp_path):
    # two labels in half a millisecond cannot both get MIN_WIDTH_S: the grid grows
    squeezed = Tier("s", "interval", (Interval(0.0, 0.0005, "a"), Interval(0.0005, 0.0005, "b")))
    other = Tier("o", "interval", (Interval(0.0, 0.0002, "x"),))
    out = tmp_path / "x.TextGrid"
    write_annotation(Annotation((squeezed, other), end_s=0.0005), out)
    back = read_textgrid(out)
    assert back.end_s == pytest.approx(2 * MIN_WIDTH_S)
    assert {t.items[-1].end_s for t in back.tiers} == {back.end_s}


def test_empty_textgrid_round_trip(tmp_path):
    from core.formats.textgrid import write_textgrid
    for short in (False, True):
        out = tmp_path / f"empty{short}.TextGrid"
        write_textgrid(Annotation((), end_s=2.0), out, short=short)
        back = read_textgrid(out)
        assert back.tiers == () and back.end_s == 2.0


@pytest.mark.parametrize("duration", ["1e999", "-5", '"long"', "null"])
def test_a_recording_duration_read_from_a_file_that_is_not_a_time(tmp_path, duration):
    # issue 19: a JSON alignment whose source says "duration_s": 1e999 (JSON reads it as
    # infinity) made transfer write "xmax = inf", which neither our reader nor praatio
    # reads back; such a value is ignored and the path's own end used
    from core.formats import transfer_file

    json_path = tmp_path / "al.json"
    write_alignment(stretch(), json_path)
    text = json_path.read_text().replace('"sources": {}', '"sources": {"b": {"duration_s": '
                                         f'{duration}}}}}')
    assert "duration_s" in text
    json_path.write_text(text)
    labels = tmp_path / "w.TextGrid"
    write_annotation(Annotation((Tier("w", "interval", (Interval(0.0, 1.0, "a"),)),)), labels)
    out = tmp_path / "out.TextGrid"
    transfer_file(json_path, labels, out)
    assert "inf" not in out.read_text()
    back = read_textgrid(out)
    assert back.end_s == pytest.approx(stretch().duration_b_s)
    praatio = pytest.importorskip("praatio.textgrid")
    assert praatio.openTextgrid(str(out), includeEmptyIntervals=True).maxTimestamp == \
        pytest.approx(back.end_s)


def test_annotation_ends_must_be_finite():
    with pytest.raises(ValueError, match="end_s must be finite"):
        Annotation((), end_s=float("inf"))
