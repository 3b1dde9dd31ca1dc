"""A held low voice one side sustains and the other lets decay (issue 16): the check of
:mod:`core.pipeline.sustain` and the chroma-change term it adds to the first search."""

import numpy as np
import pytest

from core.pipeline.sustain import chroma_change, held_low_mismatch, held_low_share

RATE = 50.0
MIDI_MIN = 21


def _energy(seconds=8.0, *, low=None, melody=1.0, seed=0):
    """Pitch energies (T, 88): a melody changing pitch every 0.4 s in MIDI 60-72, and
    ``low(t)`` (or nothing) on MIDI 40."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    e = np.full((n, 88), 1e-9)
    notes = rng.integers(60, 73, size=n // 20 + 1)
    for k, pitch in enumerate(notes):
        e[k * 20:(k + 1) * 20, pitch - MIDI_MIN] += melody
    if low is not None:
        e[:, 40 - MIDI_MIN] += low(np.arange(n) / RATE)
    return e


def _held(t):  # an organ's pedal note: struck every 2 s, held to the next
    return np.full_like(t, 0.3)


def _decaying(t):  # a piano's: struck every 2 s, its energy dying away at 3 per second
    return 0.3 * np.exp(-3.0 * (t % 2.0))


def test_a_held_low_note_holds_a_share_of_the_energy():
    # 0.3 of a frame's 1.3 (the melody's 1.0 beside it), all of it held
    held, share = held_low_share(_energy(low=_held), RATE, MIDI_MIN)
    assert held == pytest.approx(0.3 / 1.3, rel=1e-3)
    assert share == pytest.approx(0.3 / 1.3, rel=1e-3)


def test_a_decaying_low_note_and_a_melody_alone_hold_almost_nothing():
    held, share = held_low_share(_energy(low=_decaying), RATE, MIDI_MIN)
    assert held < 0.01 and share > 0.02  # it sounds, it is not held
    assert held_low_share(_energy(), RATE, MIDI_MIN)[0] < 1e-6
    # a melody note in the low register comes and goes: not held for a second
    e = _energy()
    e[100:110, 45 - MIDI_MIN] += 1.0
    assert held_low_share(e, RATE, MIDI_MIN)[0] < 1e-6


def test_the_check_fires_only_where_one_side_holds_and_the_other_lets_decay():
    held = held_low_share(_energy(low=_held), RATE, MIDI_MIN)
    decaying = held_low_share(_energy(low=_decaying, seed=1), RATE, MIDI_MIN)
    none = held_low_share(_energy(seed=2), RATE, MIDI_MIN)
    fired = held_low_mismatch(decaying, held)
    assert fired["applied"] is True and fired["side"] == "b" and fired["weight"] > 0
    assert fired["held"] == [round(decaying[0], 4), round(held[0], 4)]
    assert fired["share"] == [round(decaying[1], 4), round(held[1], 4)]
    assert held_low_mismatch(held, decaying)["side"] == "a"
    # both hold (organ against organ), neither holds (no bass; piano against marimba)
    assert held_low_mismatch(held, held)["applied"] is False
    assert held_low_mismatch(none, decaying)["applied"] is False
    # the other side has no low register at all: a lost band, not a decay
    assert held_low_mismatch(held, none)["applied"] is False
    assert held_low_mismatch((0.0, 0.0), (0.0, 0.0)) == {
        "applied": False, "held": [0.0, 0.0], "share": [0.0, 0.0]}


def test_a_quiet_held_bass_is_found_and_a_steady_noise_is_not_one():
    # a bass at a twenty-fifth of the melody's level: about 0.012 of the energy, held
    quiet_held = held_low_share(_energy(low=lambda t: np.full_like(t, 0.012)), RATE,
                                MIDI_MIN)
    quiet_decaying = held_low_share(
        _energy(low=lambda t: 0.012 * np.exp(-3.0 * (t % 2.0)), seed=1), RATE, MIDI_MIN)
    assert quiet_held[0] == pytest.approx(0.012 / 1.012, rel=1e-3)
    fired = held_low_mismatch(quiet_decaying, quiet_held)
    assert fired["applied"] is True and fired["side"] == "b"
    # a steady noise fills every low pitch alike: it sounds there, nothing stands out
    noisy = _energy(seed=2)
    noisy += 0.005
    held, share = held_low_share(noisy, RATE, MIDI_MIN)
    assert held < 1e-6 and share > 0.03
    assert held_low_mismatch(quiet_decaying, (held, share))["applied"] is False
    # one side holding a seventh of the other's (a chorale's bass voice on strings
    # against a piano, slowed: BWV 66.6's copy) is not a bass one side lets decay
    assert held_low_mismatch((0.0009, 0.0114), (0.0063, 0.0168))["applied"] is False


def test_silence_and_bad_input():
    assert held_low_share(np.zeros((100, 88)), RATE, MIDI_MIN) == (0.0, 0.0)
    assert held_low_share(np.zeros((0, 88)), RATE, MIDI_MIN) == (0.0, 0.0)
    with pytest.raises(ValueError, match="energy: expected"):
        held_low_share(np.zeros(88), RATE, MIDI_MIN)
    with pytest.raises(ValueError, match="rate_hz: expected a positive"):
        held_low_share(np.zeros((10, 88)), 0.0, MIDI_MIN)


def test_the_chroma_change_sees_a_rise_not_a_held_note():
    n = 200
    chroma = np.zeros((n, 12))
    chroma[:, 0] = 1.0  # C held throughout
    chroma[100:, 7] = 1.0  # G enters at frame 100 (2 s)
    chroma[150:160] = 0.0  # a silent gap
    change = chroma_change(chroma, RATE)
    assert change.shape == (n, 12)
    assert np.all(change >= 0.0)
    # C never rises (it falls where G joins the unit-normalized frame); G rises at 2 s
    assert np.all(change[:140, 0] < 1e-12)
    assert int(np.argmax(change[:140, 7])) in range(98, 103)
    assert np.all(change[:80] == 0.0)


def _audio_pair(tmp_path, case, bass_level):
    from core.synthetic.music import make_audio_pair

    d = make_audio_pair(tmp_path / f"{case}_{bass_level}", case, seed=106, n_events=16,
                        bass_level=bass_level)
    return d / "a.wav", d / "b.wav"


def test_the_pipeline_adds_the_change_term_for_a_held_bass_only(tmp_path):
    from core.media import open_recording
    from core.pipeline import align_files, cost_source

    fa, fb = _audio_pair(tmp_path, "piano_organ", 0.5)
    al = align_files(str(fa), str(fb))
    info = al.diagnostics["held_low"]
    assert info["applied"] is True and info["side"] == "b"
    names = [t["name"] for t in al.params["terms"]]
    assert names[-1] == "chroma_change"
    first, *local = al.params["recipe"]["stages"]
    assert first["weights"][-1] == info["weight"]
    assert all(stage["weights"][-1] == 0.0 for stage in local)
    # a re-solve rebuilds the same terms
    source = cost_source(open_recording(str(fa)), open_recording(str(fb)), al)
    assert source.names[-1] == "chroma_change"

    fa, fb = _audio_pair(tmp_path, "piano_organ", 0.0)
    plain = align_files(str(fa), str(fb))
    assert plain.diagnostics["held_low"]["applied"] is False
    assert "chroma_change" not in [t["name"] for t in plain.params["terms"]]


def test_a_side_that_lost_its_bass_band_is_not_taken_for_a_decaying_one(tmp_path):
    from core.pipeline import align_files

    # an organ with a held bass against a piano band-limited to 300-3400 Hz
    fa, fb = _audio_pair(tmp_path, "organ_band", 0.5)
    info = align_files(str(fa), str(fb)).diagnostics["held_low"]
    assert info["held"][0] > 0.02 and info["share"][1] < 0.01
    assert info["applied"] is False


def test_a_bass_at_a_tenth_of_the_melody_on_the_bowed_side_is_found(tmp_path):
    from core.pipeline import align_files

    # a bowed string holding its bass at a tenth of a melody note's level against a piano
    fa, fb = _audio_pair(tmp_path, "bowed_piano", 0.1)
    info = align_files(str(fa), str(fb)).diagnostics["held_low"]
    assert info["applied"] is True and info["side"] == "a"
    assert info["held"][0] < 0.02  # below what the check needed before
    fa, fb = _audio_pair(tmp_path, "bowed_piano", 0.0)
    assert align_files(str(fa), str(fb)).diagnostics["held_low"]["applied"] is False
