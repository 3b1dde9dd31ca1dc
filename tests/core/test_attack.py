"""Slow attacks (core.pipeline.attack): a bowed note's features answer late; the music
pipeline moves that side's features earlier by the lag its onset widths predict."""

from __future__ import annotations

import numpy as np
import pytest

from core.pipeline import align_recordings, attack
from tests.core.media_factory import ArrayAudio as _Audio
from tests.core.media_factory import timbre_pair


def test_peak_widths_tell_a_spike_from_a_plateau():
    rate = attack._RATE_HZ
    nov = np.zeros(int(6 * rate))
    spikes, plateaus = [], []
    for k, t in enumerate(np.arange(0.5, 5.5, 0.5)):
        i = int(t * rate)
        if k % 2:
            nov[i:i + 14] = 1.0  # 70 ms
            plateaus.append(i)
        else:
            nov[i - 3:i + 4] = [0.3, 0.6, 0.9, 1.0, 0.9, 0.6, 0.3]  # 25 ms above half
            spikes.append(i)
    widths = attack.peak_widths_s(nov)
    assert sorted(np.round(widths, 3)) == [0.025] * 5 + [0.07] * 5


def test_lags_only_for_known_attacks_that_differ():
    fast, slow = 0.04, 0.07
    assert attack.attack_lag_s(fast) == 0.0
    assert attack.attack_lag_s(slow) == pytest.approx(attack._LAG_PER_S * 0.03)
    assert attack.side_lags_s(slow, fast) == (attack.attack_lag_s(slow), 0.0)
    # too close to tell apart, or unmeasured: nothing moves
    assert attack.side_lags_s(0.06, fast) == (0.0, 0.0)
    assert attack.side_lags_s(None, fast) == (0.0, 0.0)


def test_a_width_beyond_an_attack_s_lags_as_a_legato_section():
    # a string quartet's broad novelty hump (0.115-0.12 s): its features lag ~35 ms
    hump = 0.12
    assert not attack.known_width(hump)
    assert attack.attack_lag_s(hump) == attack._WIDE_LAG_S
    assert attack.side_lags_s(hump, 0.04) == (attack._WIDE_LAG_S, 0.0)
    assert attack.side_lags_s(0.04, 0.15) == (0.0, attack._WIDE_LAG_S)
    assert attack.side_lags_s(hump, 0.105) == (0.0, 0.0)  # too close to tell apart


def test_the_lag_stops_growing_with_the_width():
    # a voice's novelty peaks are wider than a bowed string's, its features no later
    voice = 0.1
    assert attack.known_width(voice)
    assert attack.attack_lag_s(voice) == pytest.approx(attack._MAX_LAG_S)
    assert attack.side_lags_s(voice, 0.04) == (attack._MAX_LAG_S, 0.0)
    assert attack.attack_lag_s(0.05) < attack._MAX_LAG_S


def test_compensate_moves_the_later_side_earlier():
    from core.warping import Term

    x = np.arange(10.0)[:, None]
    y = 100 + np.arange(12.0)[:, None]
    terms, frames = attack.compensate([Term("t", x, y)], 0.0, 0.03, 100.0)
    assert frames == (0, 3)
    assert np.array_equal(terms[0].x, x)
    assert terms[0].y[:, 0].tolist() == [103, 104, 105, 106, 107, 108, 109, 110, 111,
                                         111, 111, 111]
    same, frames = attack.compensate([Term("t", x, y)], 0.02, 0.015, 100.0)
    assert frames == (0, 0) and same[0].y is y


def _bowed_piano(seed):
    return timbre_pair(seed, 14, "bowed", "piano")


def test_a_bowed_string_against_a_piano_is_not_late(monkeypatch):
    xa, xb, oa, ob = _bowed_piano(9)
    al = align_recordings(_Audio(xa), _Audio(xb))
    info = al.diagnostics["attack"]
    assert al.diagnostics["material"] == "music"
    assert info["applied"] and info["shift_frames"][0] > 0 and info["shift_frames"][1] == 0
    assert info["width_s"][0] > info["width_s"][1]
    err = al.map_a_to_b(oa) - ob
    # without the compensation the bowed side's notes map ~60-80 ms early
    monkeypatch.setattr(attack, "_MIN_WIDTH_DIFF_S", 1.0)
    plain = align_recordings(_Audio(xa), _Audio(xb))
    assert not plain.diagnostics["attack"]["applied"]
    err_plain = plain.map_a_to_b(oa) - ob
    assert np.median(err_plain) < -0.04
    assert abs(np.median(err)) < 0.025
    assert np.mean(np.abs(err)) < np.mean(np.abs(err_plain)) - 0.02


@pytest.mark.parametrize("seed", [2, 4, 5])
def test_a_quiet_room_tone_after_the_last_note_leaves_the_attack_width_as_it_is(seed):
    from scipy.signal import butter, sosfilt

    from core.synthetic.music import SR, make_score, render

    rng = np.random.default_rng(seed)
    events = [e for e in make_score(rng, 28) if e[0] is not None]
    x, _ = render(rng, events, "piano", "smooth", 0.5)
    x = (0.7 * x / np.max(np.abs(x))).astype(np.float32)
    room = sosfilt(butter(2, 3000, fs=SR, output="sos"),
                   np.random.default_rng(seed).standard_normal(8 * SR))
    tail = 0.7 * 10 ** (-45 / 20) * room / np.sqrt(np.mean(room ** 2))  # 45 dB down
    with_tail = np.r_[x, tail].astype(np.float32)
    # the log-compressed novelty gives the room tone's fluctuations peaks as high as the
    # notes', and wide: they counted, and the width grew by 0.0175-0.03 s (a piano then
    # looked 5 frames late against an organ); far below the notes' level they do not
    alone = attack.attack_width_s(x, SR, 0.0)
    assert alone <= 0.045
    assert attack.attack_width_s(with_tail, SR, 0.0) == pytest.approx(alone)
    nov = attack.novelty(with_tail, SR, 0.0)
    assert len(attack.loud_peaks(with_tail, SR, nov)) < len(attack._strong_peaks(nov,
                                                                                  attack._RATE_HZ))
