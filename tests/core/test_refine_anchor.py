"""Onset-level refinement of the path near a hard anchor (core.warping.refine_anchor)."""

import numpy as np
import pytest

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


# -- chord changes located in the audio's spectra (refine="changes") ----------------------

def _chords(n, changes, chords, attack):
    """Semitone energies (n, 88): chord k (a set of semitones) sounds from ``changes[k]``
    on; each change is a crossfade of ``attack`` frames (0: instant), as a bowed string
    answers a new note slowly."""
    e = np.full((n, 88), 1e-4)
    bounds = list(changes) + [n]
    for k, notes in enumerate(chords):
        t0, t1 = bounds[k], bounds[k + 1]
        level = np.ones(n)
        if attack:
            ramp = np.clip((np.arange(n) - t0 + 1) / attack, 0.0, 1.0)
            fall = np.clip(1.0 - (np.arange(n) - t1 + 1) / attack, 0.0, 1.0)
            level = np.minimum(ramp, fall)
            level[:t0] = 0.0
        else:
            level[:t0] = 0.0
            level[t1:] = 0.0
        for p in notes:
            e[:, p] += level
    return e


def _change_case(bump):
    """A: chords changing every 40-50 frames, instant; B: the same chords at another
    tempo, each change a 10-frame crossfade. The old path is the truth (piecewise linear
    through the changes) plus ``bump(i)`` frames on B."""
    rng = np.random.default_rng(7)
    ca = np.cumsum(rng.integers(38, 52, size=14)) + 20
    cb = np.round(10 + ca * 1.1 + rng.integers(-4, 5, size=14)).astype(int)
    chords = [tuple(int(p) for p in rng.choice(np.arange(20, 70), size=3, replace=False))
              for _ in ca]
    n, m = int(ca[-1] + 60), int(cb[-1] + 60)
    ea = _chords(n, ca, chords, 0)
    eb = _chords(m, cb, chords, 10)
    truth_i = np.concatenate([[0], ca, [n - 1]])
    truth_j = np.concatenate([[0], cb, [m - 1]])

    def true_j(i):
        return float(np.interp(i, truth_i, truth_j))

    path = _diag_path(n, lambda i: int(round(true_j(i) + bump(i))) - i)
    path = path[path[:, 1] < m]
    path[-1] = (n - 1, m - 1) if path[-1, 0] == n - 1 else path[-1]
    return ea, eb, ca, cb, path, true_j


def test_changes_fix_a_path_that_is_off_near_the_anchor():
    from core.warping.refine_anchor import refine_at_changes

    ca = _change_case(lambda i: 0.0)[2]
    k = 7
    a0 = int(ca[k])

    def bump(i):  # the features' error: up to 9 frames late on the changes before the anchor
        return 9.0 * np.exp(-((i - (a0 - 60)) / 50.0) ** 2) * (abs(i - a0) > 5)

    ea, eb, ca, cb, path, true_j = _change_case(bump)
    anchor = (a0, int(cb[k]))
    knots = [anchor]
    assert any((path == anchor).all(axis=1))
    new, report = refine_at_changes(path, [anchor], knots, (ea, eb), (RATE, RATE),
                                    through=0)
    _check_path(new)
    for c in knots:
        assert any((new == c).all(axis=1)), c
    assert report[0]["lag_s"] is not None and report[0]["changes"] >= 3

    def err(p, i):
        return abs(p[p[:, 0] == i, 1].mean() - true_j(i))

    near = [int(c) for c in ca if 0 < abs(c - anchor[0]) <= 200]
    assert max(err(path, i) for i in near) >= 5  # the old path is off here
    assert max(err(new, i) for i in near) <= 2.0, [err(new, i) for i in near]
    # beyond the window (2.5 s) the path is the old one, cell for cell
    w = int(2.5 * RATE)
    for lo, hi in ((0, anchor[0] - w), (anchor[0] + w + 1, len(ea))):
        old = path[(path[:, 0] >= lo) & (path[:, 0] < hi)]
        assert np.array_equal(new[(new[:, 0] >= lo) & (new[:, 0] < hi)], old)


def test_changes_leave_a_path_alone_when_the_anchor_is_at_no_change():
    from core.warping.refine_anchor import refine_at_changes

    ea, eb, ca, cb, path, true_j = _change_case(lambda i: 0.0)
    mid = int((ca[6] + ca[7]) // 2)  # half way between two changes: a held chord
    cell = tuple(int(v) for v in path[np.searchsorted(path[:, 0], mid)])
    new, report = refine_at_changes(path, [cell], [cell], (ea, eb), (RATE, RATE))
    assert np.array_equal(new, path)
    assert report[0]["lag_s"] is None


def test_a_right_path_stays_right_with_changes():
    from core.warping.refine_anchor import refine_at_changes

    ea, eb, ca, cb, path, true_j = _change_case(lambda i: 0.0)
    anchor = (int(ca[7]), int(cb[7]))
    new, _ = refine_at_changes(path, [anchor], [anchor], (ea, eb), (RATE, RATE), through=0)
    _check_path(new)
    for i in ca:
        assert abs(new[new[:, 0] == i, 1].mean() - true_j(i)) <= 2.0


def test_semitone_energies_find_the_note():
    from core.warping.refine_anchor import semitone_energies

    sr = 22050
    t = np.arange(sr) / sr
    x = 0.3 * np.sin(2 * np.pi * 440.0 * t)  # A4: MIDI 69
    e = semitone_energies(x, sr, 50.0)
    assert e.shape == (50, 88) and e.dtype == np.float32
    assert int(np.argmax(e[25])) == 69 - 21
    with pytest.raises(ValueError, match="mono"):
        semitone_energies(np.zeros((10, 2)), sr, 50.0)


def test_recompute_changes_needs_energies():
    from core.alignment import Alignment
    from core.constraints import Anchor, Constraints, recompute

    path = _diag_path(400, lambda i: 10)
    base = Alignment(path, RATE, RATE, n_a=400, n_b=410, method="dtw")
    x = np.random.default_rng(0).random((400, 12))
    y = np.random.default_rng(1).random((410, 12))
    with pytest.raises(ValueError, match="energies"):
        recompute(base, Constraints((Anchor(2.0, 2.1),)), (x, y, "cosine"),
                  mode="corridor", refine="changes")
    with pytest.raises(ValueError, match="refine"):
        recompute(base, Constraints((Anchor(2.0, 2.1),)), (x, y, "cosine"),
                  mode="corridor", refine="spline")


def test_recompute_with_changes_keeps_anchors_and_locked_regions():
    from core.alignment import Alignment
    from core.constraints import Anchor, Constraints, lock_region, recompute

    ca0 = _change_case(lambda i: 0.0)[2]
    a0 = int(ca0[7])

    def bump(i):  # 9 frames late around the changes before the anchor
        return 9.0 * np.exp(-((i - (a0 - 60)) / 50.0) ** 2) * (abs(i - a0) > 5)

    ea, eb, ca, cb, path, true_j = _change_case(bump)
    base = Alignment(path, RATE, RATE, n_a=len(ea), n_b=len(eb), method="dtw")
    # a locked region inside the anchor's window, after it
    region = lock_region(base, (a0 + 90) / RATE, (a0 + 140) / RATE)
    cons = Constraints((Anchor(a0 / RATE, cb[7] / RATE),), (region,))
    source = (ea.astype(np.float64), eb.astype(np.float64), "cosine")
    plain = recompute(base, cons, source, mode="corridor")
    changed = recompute(base, cons, source, mode="corridor", refine="changes",
                        energies=(ea, eb))
    p = np.asarray(changed.path)
    _check_path(p)
    assert any((p == (a0, int(cb[7]))).all(axis=1))
    cells = np.asarray(region.cells)
    k = int(np.flatnonzero((p == cells[0]).all(axis=1))[0])
    assert np.array_equal(p[k:k + len(cells)], cells)  # the locked region, cell for cell
    assert changed.diagnostics["anchor_refinement"][0]["lag_s"] is not None
    assert not np.array_equal(p, np.asarray(plain.path))  # the refinement did something
    near = [int(c) for c in ca if 0 < abs(c - a0) <= 200 and not a0 + 90 <= c <= a0 + 140]
    assert max(abs(p[p[:, 0] == i, 1].mean() - true_j(i)) for i in near) <= 2.0


def test_changes_are_found_where_the_old_path_is_far_off():
    """bwv66.6's second anchor: the old path maps the changes next to the anchor 150-200
    ms off, beyond the search around its mapping; located outward from the anchor at the
    tempo since it, every change within the window is found."""
    from core.warping.refine_anchor import refine_at_changes

    ca = _change_case(lambda i: 0.0)[2]
    k = 7
    a0 = int(ca[k])

    def bump(i):  # 20 frames late after the anchor, 20 early before it
        return 20.0 * np.sign(i - a0) * min(1.0, abs(i - a0) / 25.0)

    ea, eb, ca, cb, path, true_j = _change_case(bump)
    anchor = (a0, int(cb[k]))
    assert any((path == anchor).all(axis=1))
    new, report = refine_at_changes(path, [anchor], [anchor], (ea, eb), (RATE, RATE),
                                    through=0)
    _check_path(new)
    assert any((new == anchor).all(axis=1))
    near = [int(c) for c in ca if 0 < abs(c - a0) <= 250]  # the window: 2.5 s
    assert report[0]["matched_before"] + report[0]["matched_after"] == len(near)

    def err(p, i):
        return abs(p[p[:, 0] == i, 1].mean() - true_j(i))

    assert min(err(path, i) for i in near) >= 15
    # one anchor's lag, a change's crossing within the crossfade: within 3 frames
    assert max(err(new, i) for i in near) <= 3.0, [err(new, i) for i in near]


def test_an_entry_after_a_rest_is_not_located():
    """After a rest the spectra's windows hear the new notes before they start: such a
    change is told apart from a change of chord, and not used."""
    from core.warping.refine_anchor import _compressed, _entry

    chords = [(30, 34, 37), (32, 35, 39), (30, 34, 37)]
    e = _chords(400, [50, 150, 300], chords, 0)
    e[250:300] = 1e-4  # a rest before the third chord
    c = _compressed(e, 0, 400)
    assert not _entry(c, 150, RATE)
    assert _entry(c, 300, RATE)


def test_laid_every_moves_the_cells_near_the_old_path_too():
    from core.warping.refine_anchor import _laid

    seg = np.column_stack([np.arange(101), np.arange(101)]).astype(np.int64)

    def predict(a):
        return float(a)

    chain = [(30, 38), (60, 62)]  # 8 frames off the old path, and 2
    kept = _laid(seg, (0, 0), chain, (100, 100), predict, 3)
    every = _laid(seg, (0, 0), chain, (100, 100), predict, 3, every=True)
    for p in (kept, every):
        _check_path(p)
        assert (p == (30, 38)).all(axis=1).any()
    assert (kept == (60, 60)).all(axis=1).any() and not (kept == (60, 62)).all(axis=1).any()
    assert (every == (60, 62)).all(axis=1).any()
