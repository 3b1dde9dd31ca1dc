"""Onset-level refinement of the path near a hard anchor (core.warping.refine_anchor)."""

import numpy as np

from core.warping.refine_anchor import onset_frames, refine_near_anchors

RATE = 100.0


def _notes(n, onsets, pitches):
    """Chroma-like frames: a decaying pitch-class vector from each onset on."""
    x = np.zeros((n, 12))
    for k, (t, p) in enumerate(zip(onsets, pitches, strict=True)):
        end = onsets[k + 1] if k + 1 < len(onsets) else n
        decay = np.exp(-np.arange(end - t) / 30.0)
        x[t:end, p % 12] = decay
    return x


def _diag_path(n, offset_at):
    """A path j = max(i + offset(i), j so far): every row, connected and monotone."""
    cells, jp = [], None
    for i in range(n):
        t = i + offset_at(i)
        if jp is None:
            cells.append((i, t))
            jp = t
            continue
        t = max(t, jp)
        first = jp + 1 if t > jp else jp
        cells.extend((i, j) for j in range(first, t + 1))
        jp = t
    return np.array(cells, dtype=np.int64)


def _check_path(path):
    d = np.diff(path, axis=0)
    assert np.all((d >= 0) & (d <= 1)) and np.all(d.sum(axis=1) >= 1)


def test_onsets_are_found_where_the_notes_start():
    onsets = [20, 60, 110, 150, 190]
    x = _notes(240, onsets, [0, 4, 7, 2, 9])
    found = onset_frames([x], 0, 240, RATE)
    assert all(np.min(np.abs(found - t)) <= 1 for t in onsets)


def test_a_misplaced_onset_near_the_anchor_is_moved_and_knots_stay():
    # A and B are the same notes, B later by 10 frames; the old path is right at the
    # anchor (frame 200) but maps the onsets before it 8 frames late
    onsets_a = [40, 90, 130, 170, 200, 240, 290, 330]
    onsets_b = [t + 10 for t in onsets_a]
    pitches = [0, 4, 7, 2, 9, 5, 11, 3]
    x = _notes(400, onsets_a, pitches)
    y = _notes(410, onsets_b, pitches)

    def off(i):  # 10 frames, 18 around the onsets 90-170 (tapering to the anchor)
        if 80 <= i <= 185:
            return 18
        return 10

    path = _diag_path(400, off)
    anchor = (200, 210)
    knots = [(198, 208), (199, 209), anchor, (201, 211), (202, 212)]
    for k in knots:
        assert any((path == k).all(axis=1))
    new, report = refine_near_anchors(path, [anchor], knots, [x], [y], (RATE, RATE),
                                      chroma=(x, y))
    _check_path(new)
    assert report[0]["matched_before"] >= 2
    for k in knots:
        assert any((new == k).all(axis=1)), k
    # the onsets 90 and 130 now map within a frame of their true cells (100, 140)
    for a, b in ((90, 100), (130, 140)):
        js = new[new[:, 0] == a, 1]
        assert abs(js.mean() - b) <= 1.0, (a, js)
    # far from the anchor the path is the old one
    far = path[path[:, 0] < 20]
    assert np.array_equal(new[:len(far)], far)


def test_a_right_path_is_left_as_it_is():
    onsets_a = [40, 90, 130, 170, 200, 240, 290, 330]
    pitches = [0, 4, 7, 2, 9, 5, 11, 3]
    x = _notes(400, onsets_a, pitches)
    y = _notes(410, [t + 10 for t in onsets_a], pitches)
    path = _diag_path(400, lambda i: 10)
    anchor = (200, 210)
    knots = [(198, 208), (199, 209), anchor, (201, 211), (202, 212)]
    new, _ = refine_near_anchors(path, [anchor], knots, [x], [y], (RATE, RATE),
                                 chroma=(x, y))
    assert np.array_equal(new, path)


def test_recompute_refines_only_when_asked():
    from core.alignment import Alignment
    from core.constraints import Anchor, Constraints, recompute

    onsets_a = [40, 90, 130, 170, 200, 240, 290, 330]
    pitches = [0, 4, 7, 2, 9, 5, 11, 3]
    x = _notes(400, onsets_a, pitches)
    y = _notes(410, [t + 10 for t in onsets_a], pitches)
    path = _diag_path(400, lambda i: 18 if 80 <= i <= 185 else 10)
    base = Alignment(path, RATE, RATE, n_a=400, n_b=410, method="dtw")
    cons = Constraints((Anchor(2.0, 2.1),))
    off = recompute(base, cons, (x, y, "cosine"), mode="corridor")
    on = recompute(base, cons, (x, y, "cosine"), mode="corridor", refine=True)
    assert off.diagnostics["anchor_refinement"] == []
    assert sum(r["matched_before"] for r in on.diagnostics["anchor_refinement"]) >= 1
    for al in (off, on):
        _check_path(np.asarray(al.path))
        assert any((np.asarray(al.path) == (200, 210)).all(axis=1))
