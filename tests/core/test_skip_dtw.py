"""The skip-aware DTW of video pairs: kernel against a naive reference, jumps found
where B skipped A's frames and nowhere else."""

import numpy as np
import pytest

from core._kernels.skip_dtw import corridor_costs, skip_backtrack, skip_dtw
from core.pipeline import align_recordings
from core.pipeline.video import SKIP_SCALE_CAP, carry_confidence, open_ends, skip_path
from core.synthetic import video as sv
from tests.core.media_factory import FakeVideo


def _naive(cost, lo, width, start_row, penalty, min_jump, pace_step, pace_weight):
    """The same recurrence cell by cell, every jump origin tried explicitly."""
    m, w = cost.shape
    acc = np.full((m, w), np.inf)
    acc[0, start_row - lo[0]] = cost[0, start_row - lo[0]]
    for r in range(start_row - lo[0] + 1, width[0]):
        acc[0, r] = acc[0, r - 1] + cost[0, r]

    def prev(j, i):
        r = i - lo[j]
        return acc[j, r] if 0 <= r < width[j] else np.inf

    for j in range(1, m):
        for r in range(width[j]):
            i = lo[j] + r
            options = [prev(j - 1, i), prev(j - 1, i - 1),
                       acc[j, r - 1] if r >= 1 else np.inf]
            options += [prev(j - 1, i - s) + pace_weight * cost[j, r - s + 1:r].sum()
                        for s in range(2, pace_step[j] + 1) if r - s + 1 >= 0]
            options += [prev(j - 1, k) + penalty
                        for k in range(lo[j - 1], i - min_jump[j] + 1)]
            best = min(options)
            if np.isfinite(best):
                acc[j, r] = best + cost[j, r]
    return acc


@pytest.mark.parametrize("seed", range(6))
def test_kernel_matches_the_naive_recurrence(seed):
    rng = np.random.default_rng(seed)
    m = 30
    lo = np.sort(rng.integers(0, 20, m))
    lo[0] = 0
    hi = np.maximum.accumulate(lo + rng.integers(3, 12, m))
    width = (hi - lo + 1).astype(np.int64)
    cost = rng.random((m, int(width.max())))
    penalty = float(rng.uniform(0.5, 3))
    # steps of B's pace (1: unit steps alone) and jumps beyond them
    pace_step = rng.integers(1, 4, m).astype(np.int64) if seed % 2 else np.ones(m, np.int64)
    min_jump = pace_step + rng.integers(1, 4, m)
    acc = np.empty_like(cost)
    back = np.empty(cost.shape, np.int8)
    jf = np.empty(cost.shape, np.int64)
    pace_weight = 0.5 * (seed % 3)
    skip_dtw(cost, lo, width, 0, penalty, min_jump, acc, back, jf, 0, pace_step, pace_weight)
    want = _naive(cost, lo, width, 0, penalty, min_jump, pace_step, pace_weight)
    for j in range(m):
        np.testing.assert_allclose(acc[j, :width[j]], want[j, :width[j]])
    # the path backtracked from the last column's last row costs what acc says
    out = np.empty((m + int(hi[-1]) + 2, 2), np.int64)
    n = skip_backtrack(lo, back, jf, int(hi[-1]), out)
    path = out[len(out) - n:]
    assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (hi[-1], m - 1)
    steps = np.diff(path, axis=0)
    long = steps[:, 0] > 1
    assert np.all(steps >= 0) and np.all(steps[long, 1] == 1)
    paced = long & (steps[:, 0] <= pace_step[path[1:, 1]])
    jumps = long & ~paced
    assert np.all(steps[jumps, 0] >= min_jump[path[1:, 1][jumps]])
    total = cost[path[:, 1], path[:, 0] - lo[path[:, 1]]].sum() + penalty * jumps.sum()
    for k in np.flatnonzero(paced):  # the rows a step of B's pace went over
        (i, j) = path[k + 1]
        total += pace_weight * cost[j, i - lo[j] - steps[k, 0] + 1:i - lo[j]].sum()
    assert total == pytest.approx(acc[m - 1, width[m - 1] - 1])


def test_corridor_costs_are_half_squared_distances():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(12, 5)), rng.normal(size=(9, 5))
    lo = np.array([0, 1, 1, 3, 4, 6])
    width = np.array([3, 3, 4, 4, 5, 6])
    out = np.zeros((6, 6))
    corridor_costs(x, y, lo, width, 2, out)
    for j in range(6):
        for r in range(width[j]):
            assert out[j, r] == pytest.approx(0.5 * np.sum((x[lo[j] + r] - y[j + 2]) ** 2))


def _unit(v):
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _skipped_slow_shot(rng, noise):
    """A slow shot (neighbouring frames alike: a random walk) whose copy B, with noise of
    this size, skips A's frames 40-51; and the continuous path the plain DTW would give,
    running through the skip."""
    a = _unit(np.cumsum(rng.normal(size=(100, 64)), axis=0) + 20 * rng.normal(size=64))
    keep = np.r_[0:40, 52:100]
    b = _unit(a[keep] + noise * rng.normal(size=(len(keep), 64)))
    path = [(0, 0)]
    for j in range(1, len(keep)):
        for i in range(path[-1][0] + 1, keep[j]):
            path.append((i, j - 1))
        path.append((keep[j], j))
    return a, b, keep, np.array(path)


def test_skip_path_jumps_where_b_skipped_and_nowhere_else():
    rng = np.random.default_rng(0)
    a, b, keep, path = _skipped_slow_shot(rng, 0.02)
    new, jumps = skip_path(path, a, b, 25.0, 25.0)
    assert jumps == [(40, 39, 52)]
    assert np.array_equal(new[:, 0], keep) and np.array_equal(new[:, 1], np.arange(len(keep)))
    # no skip: the diagonal comes back unchanged
    same = _unit(a + 0.02 * rng.normal(size=a.shape))
    diag = np.column_stack([np.arange(100), np.arange(100)])
    new, jumps = skip_path(diag, a, same, 25.0, 25.0)
    assert jumps == [] and np.array_equal(new, diag)


def test_skip_path_jumps_in_a_noisy_copy_of_a_slow_shot():
    rng = np.random.default_rng(0)
    # as above, but B is noisy (the median cost along the path ~0.05, a noisy compressed
    # copy's floor, against ~0.002 between neighbouring A frames): a penalty in plain
    # medians (no cap) kept the path continuous, spreading the skip over B's frames
    a, b, keep, path = _skipped_slow_shot(rng, 0.04)
    cell = 0.5 * np.sum((a[path[:, 0]] - b[path[:, 1]]) ** 2, axis=1)
    assert np.median(cell) > 4 * SKIP_SCALE_CAP
    new, jumps = skip_path(path, a, b, 25.0, 25.0)
    assert jumps == [(40, 39, 52)]
    assert len(new) == len(keep) and np.all(np.abs(new[:, 0] - keep) <= 1)
    # and a noisy copy without a skip gets no jump
    same = _unit(a + 0.04 * rng.normal(size=a.shape))
    diag = np.column_stack([np.arange(100), np.arange(100)])
    new, jumps = skip_path(diag, a, same, 25.0, 25.0)
    assert jumps == [] and np.array_equal(new, diag)


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_skip_path_keeps_pace_with_a_copy_faster_than_a_into_a_freeze(seed):
    rng = np.random.default_rng(seed)
    # a slow shot; B shows it at 1.5 A frames per B frame (every third A frame left
    # out), holds A's frame 45 for 12 frames, then goes on at that pace. With unit steps
    # each A frame left out cost a whole cell of its own: the path lagged up to 5-7 frames
    # behind, 24-31 of B's 81 frames 2 or more off, rather than pay them (carphone, a
    # 25 fps copy with a freeze); B's own steps of 2 take most of that away
    a = _unit(np.cumsum(rng.normal(size=(120, 64)), axis=0) + 20 * rng.normal(size=64))
    keep = np.r_[np.round(1.5 * np.arange(30)).astype(int), np.full(12, 45),
                 45 + np.round(1.5 * np.arange(1, 40)).astype(int)]
    keep = keep[keep < 120]
    b = _unit(a[keep] + 0.02 * rng.normal(size=(len(keep), 64)))
    path = [(0, 0)]  # the continuous path through B's frames (unit steps)
    for j in range(1, len(keep)):
        path += [(i, j - 1) for i in range(path[-1][0] + 1, keep[j])]
        path.append((max(keep[j], path[-1][0]), j))
    new, jumps = skip_path(np.array(path), a, b, 30.0, 25.0)
    assert jumps == []  # B's own pace is no skip
    placed = np.array([new[new[:, 1] == j, 0].mean() for j in range(len(keep))])
    off = np.abs(placed - keep)
    assert off.max() <= 2 and np.sum(off > 1) <= 3


def test_skip_path_ends_b_on_its_own_frame_when_a_runs_on():
    rng = np.random.default_rng(1)
    # B skips A's frames 30-41 and ends at A's frame 79; the path given ends on A's last
    # frame (99), as when the shared part kept A's tail
    a = _unit(np.cumsum(rng.normal(size=(100, 64)), axis=0) + 20 * rng.normal(size=64))
    keep = np.r_[0:30, 42:80]
    b = _unit(a[keep] + 0.02 * rng.normal(size=(len(keep), 64)))
    path = [(i, j) for j, i in enumerate(keep)]
    path = np.array(path[:30] +
                    [(i, 29) for i in range(30, 42)] + path[30:] +
                    [(i, len(keep) - 1) for i in range(80, 100)])
    new, jumps = skip_path(path, a, b, 25.0, 25.0)
    assert jumps == [(30, 29, 42)]
    # B's last frame on A's frame 79, not on 99 (nor reached from it by a jump)
    assert tuple(new[-1]) == (79, len(keep) - 1)
    assert np.array_equal(new[:, 0], keep) and np.array_equal(new[:, 1], np.arange(len(keep)))


def test_carry_confidence_takes_the_nearest_row_of_the_same_column():
    old = np.array([[0, 0], [1, 0], [2, 0], [3, 1], [4, 2]])
    conf = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    new = np.array([[0, 0], [3, 1], [4, 2]])
    np.testing.assert_allclose(carry_confidence(old, conf, new), [0.1, 0.4, 0.5])
    assert carry_confidence(old, None, new) is None


@pytest.fixture(scope="module")
def clip():
    return sv.render_clip(seed=5, duration_s=6.0, fps=20.0, size=(128, 72),
                          shot_s=(2.0, 3.0), still_s=0.3)


def test_a_skipped_copy_jumps_over_the_skip(clip):
    frames, fps = clip
    cfg = sv.video_config("skip", 7)
    cfg.update(skips=[(0.5, 0.5)], stretch=1.0)
    fa, fb, fps_a, fps_b, truth = sv.make_video_pair(frames, fps, cfg)
    al = align_recordings(FakeVideo(fa, fps_a), FakeVideo(fb, fps_b))
    assert not al.is_continuous
    # the B frame where the truth jumps by more than the skip's half
    jb = int(np.flatnonzero(np.diff(truth[:, 0]) > 5)[0]) + 1
    landed = [s for s in al.diagnostics["skips"] if abs(s["b_s"] * fps_b - jb) <= 1]
    assert len(landed) == 1 and landed[0]["a_to_s"] - landed[0]["a_from_s"] >= 0.3
    # any other jump stays inside a still (frames A holds identical: truth's range)
    for s in al.diagnostics["skips"]:
        if s not in landed:
            j = int(round(s["b_s"] * fps_b))
            assert truth[j, 3] - truth[j, 2] >= 3
    within, _ = sv.frame_accuracy(np.asarray(al.times_s), truth, fps_a, fps_b)
    assert within >= 0.98
    assert al.confidence is not None and len(al.confidence) == len(al.path)


def test_an_unskipped_copy_gets_no_jump(clip):
    frames, fps = clip
    cfg = sv.video_config("noise", 7)
    fa, fb, fps_a, fps_b, truth = sv.make_video_pair(frames, fps, cfg)
    al = align_recordings(FakeVideo(fa, fps_a), FakeVideo(fb, fps_b))
    # no jump; steps of 2 on A where the copy runs faster than A (B's own pace)
    assert al.diagnostics["skips"] == [] and np.all(np.diff(al.path[:, 0]) <= 2)


def test_an_anchored_alignment_keeps_the_continuous_path(clip):
    frames, fps = clip
    cfg = sv.video_config("skip", 7)
    cfg.update(skips=[(0.5, 0.5)], stretch=1.0)
    fa, fb, fps_a, fps_b, truth = sv.make_video_pair(frames, fps, cfg)
    jb = 20
    anchor = [[truth[jb, 0] / fps_a, jb / fps_b]]
    al = align_recordings(FakeVideo(fa, fps_a), FakeVideo(fb, fps_b), anchors=anchor)
    assert al.is_continuous and "skips" not in al.diagnostics


def test_skip_path_begins_b_on_its_own_frame_when_a_starts_earlier():
    rng = np.random.default_rng(2)
    # A has 6 frames before B's first (a trim the shared part kept) and B skips A's
    # frames 40-51; the path given holds B's first frame for A's frames 0-6, as the
    # engine's path from the shared part's corner does
    a = _unit(np.cumsum(rng.normal(size=(100, 64)), axis=0) + 20 * rng.normal(size=64))
    keep = np.r_[6:40, 52:100]
    b = _unit(a[keep] + 0.02 * rng.normal(size=(len(keep), 64)))
    path = [(i, 0) for i in range(6)]
    for j, i in enumerate(keep):
        if j and i > keep[j - 1] + 1:
            path += [(k, j - 1) for k in range(keep[j - 1] + 1, i)]
        path.append((i, j))
    new, jumps = skip_path(np.array(path), a, b, 25.0, 25.0)
    assert len(jumps) == 1
    # B's first frame on A's frame 6 alone, not on 0 (nor on the run 0-6)
    assert tuple(new[0]) == (6, 0) and np.sum(new[:, 1] == 0) == 1
    assert np.array_equal(new[:, 1], np.arange(len(keep)))
    assert np.all(np.abs(new[:, 0] - keep) <= 1)
    # the start moves only within the run the path gives B's first frame: B's first
    # frame on A's frame 0 alone stays there (its run ends at once)
    # (A from its frame 3 on: B's first frame shows A's frame 3, the path gives it 0)
    rest = [(i - 3, j) for i, j in path if j >= 1]
    given = np.array([(0, 0)] + [(i, 1) for i in range(1, rest[0][0])] + rest)
    new, _ = skip_path(given, a[3:], b, 25.0, 25.0)
    assert tuple(new[0]) == (0, 0)


def test_open_ends_leave_out_a_frames_before_and_after_b():
    rng = np.random.default_rng(4)
    a = _unit(rng.normal(size=(30, 16)))
    b = _unit(a[4:25] + 0.01 * rng.normal(size=(21, 16)))
    # the path holds B's first frame for A's 0-4 and its last for A's 24-29
    path = np.array([(i, 0) for i in range(4)] + [(4 + j, j) for j in range(21)] +
                    [(i, 20) for i in range(25, 30)])
    out = open_ends(path, a, b)
    assert tuple(out[0]) == (4, 0) and tuple(out[-1]) == (24, 20)
    assert np.array_equal(out, path[4:-5])
    # a path whose ends are single cells comes back as it is
    assert np.array_equal(open_ends(out, a, b), out)


def test_a_copy_starting_a_few_frames_late_begins_on_its_own_frame(clip):
    frames, fps = clip
    cfg = sv.video_config("trim", 3)
    # B starts 3 frames (0.15 s) after A: a trim under what the shared part counts
    cfg.update(trim_a=(0.0, 0.0), trim_b=(3 / fps, 0.0), stretch=1.0)
    fa, fb, fps_a, fps_b, truth = sv.make_video_pair(frames, fps, cfg)
    al = align_recordings(FakeVideo(fa, fps_a), FakeVideo(fb, fps_b))
    path = np.asarray(al.path)
    first = path[path[:, 1] == 0, 0]
    assert truth[0, 2] - 1 <= first.mean() <= truth[0, 3] + 1 and truth[0, 1] >= 3
    within, _ = sv.frame_accuracy(np.asarray(al.times_s), truth, fps_a, fps_b)
    assert within == 1.0
