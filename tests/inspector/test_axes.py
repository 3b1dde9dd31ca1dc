"""Axes whose labels fit (issue 20, item 11): what the axes draw, at 1280×800."""

from __future__ import annotations

import math

import pytest
from conftest import melody, write_wav
from inspector_gui_helpers import open_pair, wait_idle
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter


def drawn_labels(axis) -> list[tuple[QRectF, str]]:
    """The tick labels ``axis`` draws now, with their rectangles (axis coordinates)."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    if specs is None:
        return []
    return [(QRectF(rect), text) for rect, _flags, text in specs[2] if text]


def assert_apart(labels, what) -> None:
    rects = [r for r, _ in labels]
    for i, r in enumerate(rects):
        for s in rects[i + 1:]:
            assert not r.intersects(s), f"{what}: labels overlap: {[t for _, t in labels]}"


def label_step(labels) -> float:
    values = sorted(float(t) for _, t in labels)
    steps = {round(b - a, 6) for a, b in zip(values, values[1:], strict=False)}
    assert len(steps) == 1, values
    return steps.pop()


@pytest.fixture
def speech_like_pair(tmp_path):
    """Two recordings of 30.5 s and 28 s, as the speech pair that showed the problem."""
    return (write_wav(tmp_path / "a.wav", melody(30.5, rate=4000), rate=4000),
            write_wav(tmp_path / "b.wav", melody(28.0, rate=4000, tempo=1.09, seed=1),
                      rate=4000))


def test_streams_of_the_same_width_are_labelled_alike_and_apart(qtbot, window,
                                                                  speech_like_pair):
    window.resize(1280, 800)
    open_pair(qtbot, window, *speech_like_pair)
    wait_idle(qtbot, window)
    window.linked_zoom.reset()
    wait_idle(qtbot, window)
    qtbot.wait(50)
    a = window.stream_a.bottom.getAxis("bottom")
    b = window.stream_b.bottom.getAxis("bottom")
    assert a.width() == b.width()
    la, lb = drawn_labels(a), drawn_labels(b)
    assert len(la) >= 3 and len(lb) >= 3
    # one step for both (it was every 5 s on A and every 1 s on B)
    assert label_step(la) == label_step(lb)
    for labels, name in ((la, "A"), (lb, "B")):
        assert_apart(labels, name)
    # every time axis of the window: labels apart
    d = window.diagnostics
    for axis in (window.matrix.plot.getAxis("bottom"), window.matrix.plot.getAxis("left"),
                 window.heatmap.main.getAxis("bottom"), window.heatmap.main.getAxis("left"),
                 d.cost_plot.getAxis("bottom"), d.conf_plot.getAxis("bottom")):
        assert_apart(drawn_labels(axis), axis.labelText)


def test_short_tracks_label_apart_and_tempo_labels_the_ratios_that_fit(qtbot, window,
                                                                      audio_pair):
    window.resize(1280, 800)
    open_pair(qtbot, window, *audio_pair)
    wait_idle(qtbot, window)
    d = window.diagnostics
    for plot in (d.cost_plot, d.tempo_plot, d.conf_plot):
        labels = drawn_labels(plot.getAxis("left"))
        assert labels, plot.titleLabel.text
        assert_apart(labels, plot.titleLabel.text)
    # a short strip the height of 1280×800, then a taller one: the tempo ratios it shows
    tempo = d.tempo_plot
    tempo.setYRange(math.log10(0.25), math.log10(4.0), padding=0.0)
    qtbot.wait(20)
    short = [t for _, t in drawn_labels(tempo.getAxis("left"))]
    assert "1" in short and len(short) >= 2, (short, tempo.getViewBox().height())
    assert_apart(drawn_labels(tempo.getAxis("left")), "tempo")
    for lo, hi in ((0.4, 2.5), (0.7, 1.45), (0.05, 20.0), (1.1, 1.2)):  # as the video pair
        tempo.setYRange(math.log10(lo), math.log10(hi), padding=0.0)
        qtbot.wait(20)
        labels = drawn_labels(tempo.getAxis("left"))
        assert labels, (lo, hi)
        assert_apart(labels, f"tempo {lo}..{hi}")
    d.setMinimumHeight(400)
    qtbot.waitUntil(lambda: tempo.getViewBox().height() > 250)
    tempo.setYRange(math.log10(0.25), math.log10(4.0), padding=0.0)
    qtbot.wait(20)
    tall = [t for _, t in drawn_labels(tempo.getAxis("left"))]
    assert {"¼", "½", "1", "2", "4"} <= set(tall), tall
    assert_apart(drawn_labels(tempo.getAxis("left")), "tempo")
    # a narrow range (tempo near 1): finer ratios, not only "1"
    tempo.setYRange(math.log10(0.7), math.log10(1.45), padding=0.0)
    qtbot.wait(20)
    narrow = [t for _, t in drawn_labels(tempo.getAxis("left"))]
    assert {"0.8", "1", "1.25"} <= set(narrow), narrow


def test_a_clip_shorter_than_a_second_is_labelled_in_seconds(qtbot, window, tmp_path):
    """Time axes keep the label's unit: a 0.8 s clip's "time A (s)" read 50 ... 750 with
    "(x0.001)" (pyqtgraph's automatic prefix), its tracks below 0.2 ... 0.6."""
    a = write_wav(tmp_path / "a.wav", melody(0.8))
    b = write_wav(tmp_path / "b.wav", melody(0.7, seed=1))
    open_pair(qtbot, window, a, b)
    wait_idle(qtbot, window)
    for plot in (window.stream_a.bottom, window.matrix.plot, window.heatmap.main):
        axis = plot.getAxis("bottom")
        axis.resize(600, axis.height())
        assert "x0.001" not in axis.labelString()
        values = [float(text) for _, text in drawn_labels(axis)]
        assert values and max(values) <= 0.8 + 1e-9, values
    wait_idle(qtbot, window)
