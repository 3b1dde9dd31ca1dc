"""The matrix's legend keeps its widgets while its entries do not change."""

from __future__ import annotations

from inspector.views.legend import PathLegend


def test_set_entries_keeps_the_widgets_of_unchanged_entries(qtbot):
    legend = PathLegend()
    qtbot.addWidget(legend)
    entries = [("#ff0000", "#1 dtw", "active: #1 dtw", False),
               ("#ffffff", "window", "the window", True)]
    legend.set_entries(entries)
    first = [w for pair in legend.items for w in pair]
    assert legend.texts() == ["#1 dtw", "window"]
    assert legend.items[1][0].text() == "┄┄"
    legend.set_entries(list(entries))  # the same: nothing rebuilt
    assert [w for pair in legend.items for w in pair] == first
    legend.set_entries(entries[:1] + [("#00ff00", "#2 manual", "compared", False)])
    assert legend.texts() == ["#1 dtw", "#2 manual"]
    assert legend.items[0][1] is not first[1]
    legend.clear()
    legend.set_entries(entries[:1])  # after a clear it is built again
    assert legend.texts() == ["#1 dtw"]


def test_short_names_close_a_bracket_they_cut():
    from inspector.views.legend import short_names

    names = short_names({1: "default dtw", 2: "manual (from #1 default dtw)"})
    assert names == {1: "#1 default dtw", 2: "#2 manual (from #1…)"}
    # nothing cut: as it was
    assert short_names({3: "dtw (cosine)"}) == {3: "#3 dtw (cosine)"}
