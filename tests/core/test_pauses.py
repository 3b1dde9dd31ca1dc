"""Pauses one side makes longer (core.pipeline.pauses): the lead-in re-timed."""

import numpy as np
import pytest

from core.pipeline import pauses


def _valid(path, first, last):
    d = np.diff(path, axis=0)
    assert np.all(d >= 0) and np.all(d.max(axis=1) == 1)
    assert tuple(path[0]) == first and tuple(path[-1]) == last


def _held_at_the_end():
    """A: sound 0-29, a closure 30-34 (quiet), sound 35-59; B: sound 0-29, a pause
    30-74, sound 75-99. The solved path matches the closure with the pause's start and
    stands on A's last quiet frame through the rest of the pause, as DTW does when the
    glide into the next word sounds like the other side's fading word."""
    quiet_a = np.zeros(60, dtype=bool)
    quiet_a[30:35] = True
    quiet_b = np.zeros(100, dtype=bool)
    quiet_b[30:75] = True
    path = np.array([(k, k) for k in range(35)] + [(34, j) for j in range(35, 75)]
                    + [(35 + k, 75 + k) for k in range(25)])
    return path, quiet_a, quiet_b


def test_the_lead_in_before_a_pause_end_follows_the_pace():
    path, quiet_a, quiet_b = _held_at_the_end()
    new, placed = pauses.place_pauses(path, quiet_a, quiet_b, 100.0, 100.0)
    _valid(new, (0, 0), (59, 99))
    assert len(placed) == 1 and placed[0]["side"] == "b"
    # the line back from the pause's end (35, 75) at slope 1 crosses A's closure and
    # _MAX_LEAD_S (5 frames at 100 Hz) of sound before it: A stands on frame 25
    lead = int(round(pauses._MAX_LEAD_S * 100.0))
    stand = 30 - lead
    rows = {i: new[new[:, 0] == i, 1] for i in range(60)}
    assert rows[stand].min() <= 30 and rows[stand].max() == 75 - (35 - stand)
    # the closure's start (the next word's start) maps to 5 frames before B's sound
    assert list(rows[30]) == [70]
    for i in range(stand + 1, 60):
        assert rows[i].size == 1 and rows[i][0] == 75 - 35 + i


def test_the_same_with_the_sides_exchanged():
    path, quiet_a, quiet_b = _held_at_the_end()
    new, placed = pauses.place_pauses(path[:, ::-1], quiet_b, quiet_a, 100.0, 100.0)
    ref, _ = pauses.place_pauses(path, quiet_a, quiet_b, 100.0, 100.0)
    assert placed[0]["side"] == "a"
    np.testing.assert_array_equal(new, ref[:, ::-1])


def test_pauses_of_about_the_same_length_leave_the_path_alone():
    quiet_a = np.zeros(60, dtype=bool)
    quiet_a[30:50] = True
    quiet_b = np.zeros(61, dtype=bool)
    quiet_b[30:51] = True  # one frame longer: within _MIN_EXTRA_S (2 frames here)
    path = np.array([(k, k) for k in range(50)] + [(49, 50)]
                    + [(50 + k, 51 + k) for k in range(10)])
    new, placed = pauses.place_pauses(path, quiet_a, quiet_b, 100.0, 100.0)
    assert placed == []
    np.testing.assert_array_equal(new, path)


def test_quiet_frames_find_a_gap_and_not_a_noise_floor():
    sr, rate = 8000, 100.0
    rng = np.random.default_rng(3)
    t = np.arange(sr) / sr
    x = np.sin(2 * np.pi * 220 * t)
    x[3000:5000] = 0.0
    x += 1e-4 * rng.standard_normal(x.shape)
    n = 100
    quiet = pauses.quiet_frames(x, sr, rate, n)
    assert quiet[40:60].all() and not quiet[:35].any() and not quiet[66:].any()
    noisy = x + 0.3 * rng.standard_normal(x.shape)  # the floor fills the gap
    assert not pauses.quiet_frames(noisy, sr, rate, n).any()


@pytest.mark.parametrize("slope", [0.5, 2.0])
def test_local_slope_reads_the_pace_where_both_sound(slope):
    n = 80
    path = []
    for i in range(n):
        j0 = int(round(i * slope))
        j1 = int(round((i + 1) * slope)) if i + 1 < n else j0 + 1
        path += [(i, j) for j in range(j0, max(j0 + 1, j1))]
    path = np.array(path)
    quiet_a = np.zeros(n, dtype=bool)
    quiet_b = np.zeros(path[-1, 1] + 1, dtype=bool)
    got = pauses.local_slope(path, quiet_a, quiet_b, len(path) // 2, 30)
    assert got == pytest.approx(slope, rel=0.1)


SR = 16000


def _syllable(f0, envelope, dur):
    """A voiced syllable of ``dur`` s: harmonics of ``f0`` with a 5 Hz vibrato, their
    levels from ``envelope`` (3 parts x 12 bands of 600 Hz), 10 ms ramps at both ends."""
    t = np.arange(int(dur * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.03 * np.sin(2 * np.pi * 5 * t))) / SR
    part = np.minimum(2, (t / (dur / 3)).astype(int))
    out = np.zeros(t.size)
    for h in range(1, int(7000 / f0) + 1):
        out += envelope[part, min(11, int(f0 * h / 600))] * np.sin(h * phase) / h ** 0.5
    return out * np.minimum(1, np.minimum(t / 0.01, (dur - t) / 0.01)) / 4


def _words(seed, n_words=10, slow=1.3, pause_s=0.15, glide_s=0.03):
    """A voice-like pair (harmonics under formant-like envelopes that change every
    40-52 ms): A runs its words together, each boundary a 30 ms glide of the last sound
    fading into a 30 ms closure; B says them 1.3 times slower with a pause before each
    word, where the glide is silent (nothing to glide from) and the closure as long as
    the pace makes it. A word starts (ground truth) at A's glide, at the end of B's
    pause. Returns ``(a, b, starts_a, starts_b)``."""
    rng = np.random.default_rng(seed)
    n_syl = 2 * n_words
    f0s = rng.uniform(100, 160, n_syl)
    envelopes = rng.uniform(0.05, 1.0, (n_syl, 3, 12))

    def syllable(k, dur):
        return _syllable(f0s[k], envelopes[k], dur)

    a, b = [np.zeros(int(0.3 * SR))], [np.zeros(int(0.5 * SR))]
    starts_a, starts_b = [], []
    for w in range(n_words):
        if w:
            starts_a.append(sum(map(len, a)) / SR)
            glide = syllable(2 * w - 1, glide_s)
            a += [glide * np.linspace(1.0, 0.2, glide.size), np.zeros(int(0.03 * SR))]
            b.append(np.zeros(int(pause_s * SR)))
            starts_b.append(sum(map(len, b)) / SR)
            b.append(np.zeros(int(slow * (glide_s + 0.03) * SR)))
        for k in (2 * w, 2 * w + 1):
            a.append(syllable(k, 0.12))
            b.append(syllable(k, 0.12 * slow))
    end = [np.zeros(int(0.3 * SR))]
    a, b = np.concatenate(a + end), np.concatenate(b + end)
    a += 1e-4 * rng.standard_normal(a.size)
    b += 1e-4 * rng.standard_normal(b.size)
    return a.astype(np.float32), b.astype(np.float32), np.array(starts_a), np.array(starts_b)


class _Audio:
    kind = "audio"

    def __init__(self, x):
        self._x, self.rate_hz, self.duration_s, self.path = x, float(SR), x.shape[0] / SR, "m.wav"

    def audio(self, mono=True):
        return self._x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_word_starts_after_a_pause_only_one_side_makes(seed):
    """DTW matches A's glide with B's fading word and stands on A's closure through B's
    pause: the word starts came out 120-170 ms early (the median over 9 boundaries)."""
    from core.pipeline import align_recordings

    a, b, starts_a, starts_b = _words(seed)
    al = align_recordings(_Audio(a), _Audio(b))
    assert al.diagnostics["material"] == "speech"
    err = np.abs(al.map_a_to_b(starts_a) - starts_b)
    assert np.median(err) < 0.025, np.round(1000 * err)
    assert al.diagnostics["pauses"]["placed"] >= 5
    _valid(np.asarray(al.path), (0, 0), (al.n_a - 1, al.n_b - 1))
    assert al.confidence.shape == (al.path.shape[0],)


def _voiced(seed, n_words=10, slow=1.3, pause_s=0.15, bar_s=0.04, bar_db=-30.0):
    """A voice-like pair whose words start with a voice bar (a hum ``bar_db`` below the
    words: a voiced closure): A runs the words together, B pauses before each (the bar
    after the pause, 1.3 times slower like the rest). Returns ``(a, b, starts_a,
    starts_b)``, the word starts at the bars."""
    rng = np.random.default_rng(seed)
    f0s = rng.uniform(100, 160, 2 * n_words)
    envelopes = rng.uniform(0.05, 1.0, (2 * n_words, 3, 12))

    def syllable(k, dur):
        return _syllable(f0s[k], envelopes[k], dur)

    def bar(k, dur):
        t = np.arange(int(dur * SR)) / SR
        hum = np.sin(2 * np.pi * f0s[k] * t) + 0.3 * np.sin(4 * np.pi * f0s[k] * t)
        return 0.3 * 10 ** (bar_db / 20) * hum

    a, b = [np.zeros(int(0.3 * SR))], [np.zeros(int(0.5 * SR))]
    starts_a, starts_b = [], []
    for w in range(n_words):
        if w:
            starts_a.append(sum(map(len, a)) / SR)
            a.append(bar(2 * w, bar_s))
            b.append(np.zeros(int(pause_s * SR)))
            starts_b.append(sum(map(len, b)) / SR)
            b.append(bar(2 * w, bar_s * slow))
        for k in (2 * w, 2 * w + 1):
            a.append(syllable(k, 0.12))
            b.append(syllable(k, 0.12 * slow))
    end = [np.zeros(int(0.3 * SR))]
    a, b = np.concatenate(a + end), np.concatenate(b + end)
    a += 1e-4 * rng.standard_normal(a.size)
    b += 1e-4 * rng.standard_normal(b.size)
    return a.astype(np.float32), b.astype(np.float32), np.array(starts_a), np.array(starts_b)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_faint_word_start_is_not_slid_into_the_other_sides_pause(seed):
    """The log-mel term has each frame's level removed: a voice bar 30 dB down and a
    pause's noise were both mere spectral shapes, and 2-4 of 9 word starts went into
    B's pause (150-175 ms early). The level term keeps quiet with quiet."""
    from core.pipeline import align_recordings

    a, b, starts_a, starts_b = _voiced(seed)
    al = align_recordings(_Audio(a), _Audio(b))
    err = np.abs(al.map_a_to_b(starts_a) - starts_b)
    assert np.max(err) < 0.03, np.round(1000 * err)
    assert al.diagnostics["level"] == {"applied": True}
    assert [f["name"] for f in al.diagnostics["features"]][-1] == "level"


def test_level_values_only_where_the_floor_is_far_below_the_speech():
    sr, rate = 8000, 100.0
    rng = np.random.default_rng(5)
    t = np.arange(sr) / sr
    x = np.sin(2 * np.pi * 220 * t)
    x[3000:5000] = 0.0
    clean = x + 1e-4 * rng.standard_normal(x.shape)
    values = pauses.level_values(clean, sr, rate, 100)
    assert values.shape == (100, 1)
    assert np.all(values[40:60] == 0.0) and np.all(values[:35] > 0.95)
    # a floor 20 dB under the tone: a faint sound and a pause differ by a few dB there
    noisy = x + 0.07 * rng.standard_normal(x.shape)
    assert pauses.level_values(noisy, sr, rate, 100) is None


def test_a_transposed_result_names_the_other_side_as_pausing():
    a, b, *_ = _words(0)
    from core.pipeline import align_recordings

    al = align_recordings(_Audio(a), _Audio(b))
    spans = al.diagnostics["pauses"]["spans"]
    assert spans and {f["side"] for f in spans} == {"b"}
    flipped = al.transposed()
    assert [f["side"] for f in flipped.diagnostics["pauses"]["spans"]] == ["a"] * len(spans)
    assert flipped.transposed().diagnostics["pauses"] == al.diagnostics["pauses"]
