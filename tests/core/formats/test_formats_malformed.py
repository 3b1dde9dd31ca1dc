"""Every reader rejects malformed input with the file, the line and the problem."""

import pytest

from core.errors import FormatError
from core.formats import read_alignment, read_annotation


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def check(call, path, match, line=None):
    with pytest.raises(FormatError, match=match) as info:
        call(path)
    assert str(path) in str(info.value)
    if line is not None:
        assert info.value.line == line, str(info.value)


# ------------------------------------------------------------------ time pairs CSV
@pytest.mark.parametrize(("text", "match", "line"), [
    ("time_a_s,time_b_s\n0,0\n0.1,0.1,0.3\n", "expected 2 columns, found 3", 3),
    ("0,0,0\n", r"expected 2 columns \(time in A, time in B\), found 3", 1),
    ("0,0\n0.1,abc\n", "'abc' in column 2 is not a number", 2),
    ("0,0\n0.2,0.1\n0.1,0.2\n", "not monotone: time in A goes back from 0.2 to 0.1", 3),
    ("0,0\n0.1,0.2\n0.2,0.1\n", "not monotone: time in B goes back", 3),
    ("0,0\n0.1,-0.2\n", "not a finite non-negative", 2),
    ("0,0\n0.1,nan\n", "nan", 2),
    ("x,y,z\n0,1,2\n", "expected 2 columns .* or a header naming time_a_s", 1),
    ("time_a_s,time_b_s\n", "no time pairs", None),
    ("0,0\nfoo,bar\n", "'foo' in column 1 is not a number", 2),
])
def test_csv_pairs(tmp_path, text, match, line):
    check(read_alignment, write(tmp_path, "p.csv", text), match, line)


def test_csv_not_utf8(tmp_path):
    check(read_alignment, write(tmp_path, "p.csv", b"0,0\n\xff\xfe\x00,1\n"), "not UTF-8")


def test_missing_file(tmp_path):
    check(read_alignment, tmp_path / "absent.csv", "file not found")
    check(read_annotation, tmp_path / "absent.TextGrid", "file not found")


# ------------------------------------------------------------------ JSON
@pytest.mark.parametrize(("text", "match", "line"), [
    ('{"format": "alignment-inspector/alignment",\n "x": }', "not valid JSON", 2),
    ('{"format": "something else"}', "not an alignment file", None),
    ('{"format": "alignment-inspector/alignment", "format_version": 99}',
     "format_version 99 is not supported", None),
    ('{"format": "alignment-inspector/alignment", "format_version": 1}',
     "missing field 'frames'", None),
    ('{"format": "alignment-inspector/alignment", "format_version": 1, "frames": {"a": '
     '{"rate_hz": 10, "n": 3}, "b": {"rate_hz": 10, "n": 3}}, "path_frames": [[0, 0], '
     '[2, 1], [1, 2]]}', "malformed alignment: path: not monotone", None),
])
def test_json(tmp_path, text, match, line):
    check(read_alignment, write(tmp_path, "a.json", text), match, line)


# ------------------------------------------------------------------ Audacity
@pytest.mark.parametrize(("text", "match", "line"), [
    ("1.0\t2.0\tok\n3.0\n", "expected start<TAB>end<TAB>label", 2),
    ("1.0\tx\tok\n", "end time 'x' is not a number", 1),
    ("2.0\t1.0\tbackwards\n", "end 1 s is before start 2 s", 1),
    ("inf\t1.0\tx\n", "not finite", 1),
])
def test_audacity(tmp_path, text, match, line):
    check(read_annotation, write(tmp_path, "l.txt", text), match, line)


def test_audacity_alignment_label_not_a_time(tmp_path):
    check(read_alignment, write(tmp_path, "l.txt", "0.0\t0.0\t0.0\n0.1\t0.1\tword\n"),
          r"label \(time in B\) 'word' is not a number", 2)


# ------------------------------------------------------------------ TextGrid
HEAD = 'File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 2\n' \
       'tiers? <exists>\nsize = 1\nitem []:\n    item [1]:\n'


def interval_tier(*intervals, name="w"):
    lines = ['        class = "IntervalTier"', f'        name = "{name}"',
             "        xmin = 0", "        xmax = 2",
             f"        intervals: size = {len(intervals)}"]
    for k, (a, b, t) in enumerate(intervals, start=1):
        lines += [f"        intervals [{k}]:", f"            xmin = {a}",
                  f"            xmax = {b}", f'            text = "{t}"']
    return HEAD + "\n".join(lines) + "\n"


def test_textgrid_well_formed_reference(tmp_path):
    ann = read_annotation(write(tmp_path, "ok.TextGrid",
                                interval_tier((0, 1, "a"), (1, 2, "b"))))
    assert [i.label for i in ann.tier("w").items] == ["a", "b"]


@pytest.mark.parametrize(("text", "match", "line"), [
    (interval_tier((0, 1, "a"), (1.5, 2, "b")),
     r"intervals do not tile \(a gap\): interval 2 starts at 1.5 s but interval 1 ends "
     r"at 1 s", 20),
    (interval_tier((0, 1.2, "a"), (1, 2, "b")), r"do not tile \(an overlap\)", 20),
    (interval_tier((0, 1, "a"), (1, "two", "b")),
     r"expected xmax of interval 2 in tier 'w' \(a number\), found 'two'", 21),
    (interval_tier((0, 1, "a"), (1, 0.5, "b")), "xmax 0.5 is before xmin 1", 20),
    (interval_tier((0, 1, "a"), (1, 2, "b")).rsplit("intervals [2]", 1)[0],
     "file ends where xmin of interval 2", None),
    (HEAD.replace("TextGrid", "Pitch"), "not a TextGrid", 2),
    ("just some text\n", "the file type was expected", 1),
    (HEAD + '        class = "FancyTier"\n        name = "x"\n        xmin = 0\n'
     '        xmax = 2\n        size = 0\n', "unknown tier class 'FancyTier'", 10),
    (HEAD + '        class = "TextTier"\n        name = "p"\n        xmin = 0\n'
     '        xmax = 2\n        points: size = 2\n        points [1]:\n        number = 1.5\n'
     '        mark = "a"\n        points [2]:\n        number = 0.5\n        mark = "b"\n',
     "point 2 at 0.5 s comes before point 1", 19),
    (HEAD + '        class = "IntervalTier"\n        name = "w\n', "unterminated string", 11),
])
def test_textgrid(tmp_path, text, match, line):
    check(read_annotation, write(tmp_path, "bad.TextGrid", text), match, line)


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", b"\xef\xbb\xbf"),
                                               ("utf-16-le", b"\xff\xfe"),
                                               ("utf-16-be", b"\xfe\xff")])
def test_textgrid_bom_and_utf16_read_correctly(tmp_path, encoding, bom):
    text = interval_tier((0, 1, "ça"), (1, 2, "日本"))
    ann = read_annotation(write(tmp_path, "enc.TextGrid", bom + text.encode(encoding)))
    assert [i.label for i in ann.tier("w").items] == ["ça", "日本"]
    # errors in such files still name the right line
    bad = interval_tier((0, 1, "ça"), (1.5, 2, "b"))
    check(read_annotation, write(tmp_path, "bad.TextGrid", bom + bad.encode(encoding)),
          "do not tile", 20)


def test_textgrid_alignment_needs_two_point_tiers(tmp_path):
    check(read_alignment, write(tmp_path, "a.TextGrid", interval_tier((0, 2, "a"))),
          "needs two point tiers")


# ------------------------------------------------------------------ ELAN
EAF = ('<?xml version="1.0" encoding="UTF-8"?>\n<ANNOTATION_DOCUMENT AUTHOR="" '
       'DATE="2024-01-01T00:00:00+00:00" FORMAT="3.0" VERSION="3.0">\n<HEADER '
       'TIME_UNITS="milliseconds"/>\n<TIME_ORDER>\n<TIME_SLOT TIME_SLOT_ID="ts1" '
       'TIME_VALUE="{v1}"/>\n<TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="{v2}"/>\n'
       '</TIME_ORDER>\n<TIER LINGUISTIC_TYPE_REF="lt" TIER_ID="w">\n<ANNOTATION>'
       '<ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="{r2}">'
       '<ANNOTATION_VALUE>x</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>\n</TIER>\n'
       '</ANNOTATION_DOCUMENT>\n')


def test_eaf_reference_and_unaligned_slot(tmp_path):
    ann = read_annotation(write(tmp_path, "ok.eaf", EAF.format(v1=100, v2=500, r2="ts2")))
    assert [(i.start_s, i.end_s) for i in ann.tier("w").items] == [(0.1, 0.5)]


@pytest.mark.parametrize(("text", "match", "line"), [
    (EAF.format(v1=100, v2=500, r2="ts9"), "time slot 'ts9' does not exist", None),
    (EAF.format(v1=600, v2=500, r2="ts2"), "ends at 0.5 s before it starts at 0.6 s", None),
    (EAF.format(v1="abc", v2=500, r2="ts2"), "TIME_VALUE 'abc' is not a number", None),
    (EAF.format(v1=1, v2=2, r2="ts2").replace("</TIER>", "<TIER>"), "not valid XML", 11),
    ('<?xml version="1.0"?>\n<html/>\n', "not an ELAN file", None),
])
def test_eaf(tmp_path, text, match, line):
    check(read_annotation, write(tmp_path, "bad.eaf", text), match, line)


def test_eaf_alignment_needs_tiers_a_and_b(tmp_path):
    check(read_alignment, write(tmp_path, "a.eaf", EAF.format(v1=1, v2=2, r2="ts2")),
          "needs tiers 'A' and 'B'")


# ------------------------------------------------------------------ Sonic Visualiser
SVL = ('<?xml version="1.0"?>\n<sv><data><model id="1" sampleRate="100" type="sparse" '
       'dimensions="2" resolution="1" dataset="0"/><dataset id="0" dimensions="2">'
       '{points}</dataset></data></sv>\n')


@pytest.mark.parametrize(("text", "match"), [
    (SVL.format(points='<point frame="0" value="0"/><point value="1"/>'),
     "point 2: frame or value missing"),
    (SVL.format(points=""), "no points"),
    (SVL.format(points="").replace('type="sparse"', 'type="dense"'), "not a Sonic Vis"),
    (SVL.format(points="").replace('sampleRate="100"', 'sampleRate="-1"'), "bad sampleRate"),
    ("<sv><data>", "not valid XML"),
    (SVL.format(points='<point frame="50" value="0"/><point frame="10" value="1"/>'),
     "not monotone"),
])
def test_svl(tmp_path, text, match):
    check(read_alignment, write(tmp_path, "bad.svl", text), match)


@pytest.mark.parametrize(("text", "match", "line"), [
    ("0.5,a\nzz,b\n", "time 'zz' is not a number", 2),
    ("1.0,a\n0.5,b\n", "time 0.5 s goes back", 2),
    ("0,0,1,a\n1,0,-1,b\n", "negative duration", 2),
    ("0,0,1,a\n1,0\n", "expected time,value,duration", 2),
])
def test_sv_layer_csv(tmp_path, text, match, line):
    check(read_annotation, write(tmp_path, "layer.sv.csv", text), match, line)


@pytest.mark.parametrize(("text", "match", "line"), [
    ("what,label\n1,a\n", "names no start or time column", 1),
    ("start,end,label\n1,2,a\n3,4\n", "expected 3 columns, found 2", 3),
    ("start,end,label\n1,0.5,a\n", "end 0.5 s is before start 1 s", 2),
    ("start,end,label\n1,x,a\n", "end time 'x' is not a number", 2),
])
def test_labels_csv(tmp_path, text, match, line):
    check(read_annotation, write(tmp_path, "labels.csv", text), match, line)


# ------------------------------------------------------------------ issue 19: every failure
# of a reader is a FormatError naming the file (never an internal error, a numpy warning,
# a message without the name, or a silent wrong result)
@pytest.mark.parametrize(("text", "match", "line"), [
    (HEAD.replace("size = 1", "size = 1e999"), "the number of tiers 1e999 is not a finite "
     "number", 7),
    (HEAD.replace("size = 1", "size = 2.5"), "the number of tiers 2.5 is not a whole", 7),
    (HEAD.replace("size = 1", "size = 99999999"), "the number of tiers is 99999999 but the "
     "file ends", 7),
    (interval_tier((0, 1, "a"), (1, "1e999", "b")), "xmax of interval 2 in tier 'w' 1e999 "
     "is not a finite number", 21),
    (HEAD.replace("xmax = 2", "xmax = inf"), "expected xmax", 5),
])
def test_textgrid_numbers_that_are_not_numbers(tmp_path, text, match, line):
    check(read_annotation, write(tmp_path, "big.TextGrid", text), match, line)


@pytest.mark.parametrize(("name", "reader"), [("cut.TextGrid", read_annotation),
                                              ("cut.csv", read_alignment),
                                              ("cut.txt", read_annotation)])
def test_odd_length_utf16_names_the_file(tmp_path, name, reader):
    text = interval_tier((0, 1, "a")) if name.endswith("TextGrid") else "0\t1\tx\n1\t2\ty\n"
    data = b"\xff\xfe" + text.encode("utf-16-le") + b"x"
    check(reader, write(tmp_path, name, data), "not valid UTF-16 text: an odd number of bytes")


def test_json_nested_too_deeply(tmp_path):
    check(read_alignment, write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000),
          "nested too deeply")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_that_json_does_not_have(tmp_path, constant):
    text = ('{"format": "alignment-inspector/alignment", "format_version": 1, "frames": '
            '{"a": {"rate_hz": RATE, "n": 3}, "b": {"rate_hz": 10, "n": 3}}, "path_frames": '
            '[[0, 0], [1, 1], [2, 2]]}').replace("RATE", constant)
    check(read_alignment, write(tmp_path, "c.json", text), f"{constant} is not a JSON number")


@pytest.mark.parametrize(("v1", "match"), [
    ("-50", "TIME_VALUE '-50' is not a non-negative number"),
    ("nan", "TIME_VALUE 'nan' is not a non-negative number"),
    ("1e999", "TIME_VALUE '1e999' is not a non-negative number"),
])
def test_eaf_time_values(tmp_path, v1, match):
    check(read_annotation, write(tmp_path, "t.eaf", EAF.format(v1=v1, v2=500, r2="ts2")), match)


@pytest.mark.parametrize("rate", ["nan", "inf", "-3", "0", "fast"])
def test_eaf_rate_property_is_checked(tmp_path, rate):
    from core.formats import write_alignment

    from .helpers import sample_alignment

    path = tmp_path / "al.eaf"
    write_alignment(sample_alignment(), path)
    text = path.read_text()
    start = text.index("alignment-inspector:rate_a_hz")
    value_at = text.index(">", start) + 1
    text = text[:value_at] + rate + text[text.index("<", value_at):]
    check(read_alignment, write(tmp_path, "al.eaf", text),
          rf"property alignment-inspector:rate_a_hz: '{rate}' is not a frame rate")


def test_eaf_negative_time_in_an_alignment_names_the_file(tmp_path):
    from core.formats import write_alignment

    from .helpers import sample_alignment

    path = tmp_path / "al.eaf"
    write_alignment(sample_alignment(), path)
    path.write_text(path.read_text().replace('TIME_VALUE="0"', 'TIME_VALUE="-40"', 1))
    check(read_alignment, path, "TIME_VALUE '-40' is not a non-negative number")


@pytest.mark.parametrize(("text", "match", "line"), [
    ("0,0\n0.5,1e308\n", r"time pair \(0.5, 1e\+308\) s is beyond 1e\+08 s", 2),
    ("0,0\n1e300,1\n", "is beyond", 2),
    ("0,0\n1e-310,1\n", None, None),  # a tiny time is fine
])
def test_csv_times_too_large(tmp_path, text, match, line):
    path = write(tmp_path, "huge.csv", text)
    if match is None:
        assert read_alignment(path).path.shape[1] == 2
    else:
        check(read_alignment, path, match, line)


def test_given_rate_that_merges_distinct_times_is_refused(tmp_path):
    path = write(tmp_path, "p.csv", "time_a_s,time_b_s\n0,0\n0.01,0.01\n0.02,0.03\n")
    with pytest.raises(FormatError, match=r"the frame rate given for A \(1e-300 Hz\) puts the "
                                          r"distinct times 0 s and 0.01 s on one frame") as info:
        read_alignment(path, rate_a_hz=1e-300)
    assert info.value.line == 3
    with pytest.raises(FormatError, match="frame rate given for B .* puts the distinct times"):
        read_alignment(path, rate_b_hz=50.0)  # 0.01 and 0.03: frames 0 and 2 on A... B 0,0,2
    for bad in (float("nan"), float("inf"), -1.0, 2e6):
        with pytest.raises(FormatError, match="is not a positive rate up to 1e"):
            read_alignment(path, rate_a_hz=bad)
    assert read_alignment(path, rate_a_hz=100.0).rate_a_hz == 100.0  # the right rate is fine


@pytest.mark.parametrize("columns", [3, 5, 9])
def test_two_short_rows_are_a_table_not_a_path(tmp_path, columns):
    row = ",".join(str(k) for k in range(columns))
    check(read_alignment, write(tmp_path, "t.csv", f"{row}\n{row}\n"),
          f"expected 2 columns .*found {columns}", 1)


def test_two_long_rows_going_back_are_not_a_path(tmp_path):
    row_a = ",".join(str(k) for k in range(12))
    row_b = ",".join(str(k) for k in reversed(range(12)))
    check(read_alignment, write(tmp_path, "t.csv", f"{row_a}\n{row_b}\n"), "expected 2 columns")


def test_a_model_refusal_inside_a_reader_names_the_file(tmp_path, monkeypatch):
    # whatever the annotation model refuses inside any reader comes out as a FormatError
    # naming the file (the shared wrapper in core.formats), not a bare ValueError
    from core.formats import audacity

    def broken(text, path):
        raise ValueError("interval 'x': end 1 before start 2")

    monkeypatch.setattr(audacity, "parse_labels", broken)
    check(read_annotation, write(tmp_path, "l.txt", "0\t1\tx\n"), "end 1 before start 2")
