"""A held low voice one side sustains and the other lets decay (issue 16): the check of
:mod:`core.pipeline.sustain` and the chroma-change term it adds to the first search."""

import numpy as np
import pytest

from core.pipeline.sustain import (
    chroma_change,
    held_all_share,
    held_low_mismatch,
    held_low_share,
    held_part,
    needs_held_all,
)

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
    held_all = held_all_share(_energy(low=_held), RATE)
    assert held == pytest.approx(0.3 / 1.3, rel=1e-3)
    assert share == pytest.approx(0.3 / 1.3, rel=1e-3)
    # over all pitches the bass, and a melody note now and then struck thrice in a row
    assert held - 1e-9 <= held_all < held + 0.05


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
    # the other side has no low register at all (a lost band, not a decay): a held bass
    # line still counts where the first side's low register is mostly held
    lost = held_low_mismatch(held, none)
    assert lost["applied"] is True and lost["side"] == "a"
    assert lost["seen_in"] == "holding side" and lost["weight"] > 0
    # a bass that mostly decays (a plucked electric bass, a piano's left hand), of which
    # a little stays for a second, against a band-limited copy: no held voice
    assert held_low_mismatch((0.029, 0.59), (0.0001, 0.0066))["applied"] is False
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


def _sung(seconds=8.0, *, bass=True, seed=0):
    """A sung side: the melody of :func:`_energy`, and (``bass``) a bass held under it
    whose fundamental is nearly silent, heard through harmonics 8-10 (MIDI 76, 78, 80
    over a MIDI 40 fundamental) at a vowel's first formant; without it the melody's
    notes held 2 s each instead, as long notes of a sung melody are."""
    e = _energy(seconds, seed=seed)
    t = np.arange(e.shape[0]) / RATE
    if bass:
        e[:, 40 - MIDI_MIN] += 1e-5
        for pitch in (76, 78, 80):
            e[:, pitch - MIDI_MIN] += 0.2
    else:
        e[:, 64 - MIDI_MIN] += np.where(t % 4.0 < 2.0, 0.5, 0.0)
    return e


def _decide(e_a, e_b):
    """The decision as the pipeline takes it: all pitches' held share only if asked."""
    low_a, low_b = (held_low_share(e, RATE, MIDI_MIN) for e in (e_a, e_b))
    whole = [held_all_share(e, RATE) for e in (e_a, e_b)] \
        if needs_held_all(low_a, low_b) else None
    return held_low_mismatch(low_a, low_b, held_all=whole)


def test_a_bass_heard_through_its_harmonics_is_found_from_the_decaying_side():
    sung = _sung()
    # a plucked bass nearly as loud as the melody, dying away at 6 per second
    plucked = _energy(low=lambda t: 0.9 * np.exp(-6.0 * (t % 2.0)), seed=1)
    held, share = held_low_share(plucked, RATE, MIDI_MIN)
    assert share > 0.05 and held < 0.01
    # the sung side's low register is empty: the first way cannot see its bass
    held, share = held_low_share(sung, RATE, MIDI_MIN)
    assert held < 1e-4 and share < 1e-4 and held_all_share(sung, RATE) > 0.2
    fired = _decide(plucked, sung)
    assert fired["applied"] is True and fired["side"] == "b"
    assert fired["seen_in"] == "decaying side" and fired["hold_s"] > 0
    assert "weight" not in fired  # the chroma-change term is not added
    assert fired["held_all"] == [round(held_all_share(e, RATE), 4) for e in (plucked, sung)]
    assert _decide(sung, plucked)["side"] == "a"
    # the same sung side holding long melody notes, against a plucked side without a
    # bass (its low register empty) or with a quiet one (a chord's lowest notes, a bass
    # at a quarter of a melody note's level: the removal cost more than it helped there)
    sung_melody = _sung(bass=False)
    assert held_all_share(sung_melody, RATE) > 0.05
    assert _decide(_energy(seed=1), sung_melody)["applied"] is False
    quiet = _energy(low=lambda t: 0.2 * np.exp(-6.0 * (t % 2.0)), seed=1)
    assert 0.003 < held_low_share(quiet, RATE, MIDI_MIN)[1] < 0.05
    assert _decide(quiet, sung)["applied"] is False
    # a bass on the plucked side against a side that lost its band and holds no more
    # than the plucked side does (a band-limited piano): no held voice, no firing
    info = _decide(plucked, _energy(seed=2))
    assert info["applied"] is False and "held_all" in info
    # where the low registers decide, all pitches' share is not asked for
    both = [held_low_share(e, RATE, MIDI_MIN) for e in (_energy(low=_held), plucked)]
    assert needs_held_all(*both) is False


def test_silence_and_bad_input():
    assert held_low_share(np.zeros((100, 88)), RATE, MIDI_MIN) == (0.0, 0.0)
    assert held_low_share(np.zeros((0, 88)), RATE, MIDI_MIN) == (0.0, 0.0)
    assert held_all_share(np.zeros((100, 88)), RATE) == 0.0
    with pytest.raises(ValueError, match="energy: expected"):
        held_all_share(np.zeros(88), RATE)
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


def test_a_held_bass_against_a_side_that_lost_its_bass_band_is_found(tmp_path):
    from core.pipeline import align_files

    # an organ with a held bass against a piano band-limited to 300-3400 Hz
    fa, fb = _audio_pair(tmp_path, "organ_band", 0.5)
    al = align_files(str(fa), str(fb))
    info = al.diagnostics["held_low"]
    assert info["held"][0] > 0.02 and info["share"][1] < 0.01
    assert info["applied"] is True and info["side"] == "a"
    assert info["seen_in"] == "holding side"
    assert [t["name"] for t in al.params["terms"]][-1] == "chroma_change"
    fa, fb = _audio_pair(tmp_path, "organ_band", 0.0)
    assert align_files(str(fa), str(fb)).diagnostics["held_low"]["applied"] is False


def _event_errors_ms(al, folder):
    gt = np.loadtxt(folder / "gt.csv", delimiter=",", skiprows=1, usecols=(1, 2))
    times = np.asarray(al.times_s)
    return np.abs(np.interp(gt[:, 0], times[:, 0], times[:, 1]) - gt[:, 1]) * 1000.0


def test_a_sung_bass_against_a_plucked_one_is_found_and_its_chroma_loses_it(
        tmp_path, monkeypatch):
    from core.pipeline import align_files, sustain
    from core.synthetic.music import make_audio_pair

    # a voice holding its bass (its low register nearly empty) against a plucked string
    # (the generated tuning pair voice_plucked: 280 ms off without the check)
    d = make_audio_pair(tmp_path / "sung", "voice_plucked", seed=102, bass_level=0.5)
    al = align_files(str(d / "a.wav"), str(d / "b.wav"))
    info = al.diagnostics["held_low"]
    assert info["applied"] is True and info["side"] == "a"
    assert info["seen_in"] == "decaying side" and info["share"][0] < 0.001
    # the term is not added: the voice's chroma is made without what it holds
    assert "chroma_change" not in [t["name"] for t in al.params["terms"]]
    monkeypatch.setattr(sustain, "_BASS_SHOWS", np.inf)
    plain = align_files(str(d / "a.wav"), str(d / "b.wav"))
    assert plain.diagnostics["held_low"]["applied"] is False
    assert _event_errors_ms(al, d).mean() < 0.5 * _event_errors_ms(plain, d).mean()
    monkeypatch.undo()
    fa, fb = _audio_pair(tmp_path, "voice_plucked", 0.0)
    assert align_files(str(fa), str(fb)).diagnostics["held_low"]["applied"] is False


def test_a_chroma_without_the_held_part_keeps_the_moving_notes_only():
    from core.features.audio import chroma_of_energy

    n = 400  # 8 s: one silent second, then E2 (MIDI 40) held under a melody stepping
    e = np.full((n, 88), 1e-9)  # C D F G A (never E) every 0.4 s
    e[50:, 40 - MIDI_MIN] = 0.3
    melody = np.array([60, 62, 65, 67, 69])[(np.arange(n) // 20) % 5]
    e[np.arange(50, n), melody[50:] - MIDI_MIN] = 1.0
    e[:50] = 0.0
    plain = chroma_of_energy(e, 1e5, (36, 96))
    moving = chroma_of_energy(e, 1e5, (36, 96), removed=held_part(e, RATE))
    assert np.all(plain[:50] == 0.0) and np.all(moving[:50] == 0.0)
    frames = np.arange(100, 350)
    assert np.all(plain[frames, 4] > 1.0)  # the held E
    assert np.all(moving[frames, 4] < 1e-6)
    assert np.all(moving[frames, melody[frames] % 12] > 1.0)  # the melody's classes stay
    assert np.allclose(chroma_of_energy(e, 1e5, (36, 96), removed=np.zeros_like(e)), plain)



def test_a_bass_at_a_tenth_of_the_melody_on_the_bowed_side_is_found(tmp_path):
    from core.pipeline import align_files

    # a bowed string holding its bass at a tenth of a melody note's level against a piano
    fa, fb = _audio_pair(tmp_path, "bowed_piano", 0.1)
    info = align_files(str(fa), str(fb)).diagnostics["held_low"]
    assert info["applied"] is True and info["side"] == "a"
    assert info["held"][0] < 0.02  # below what the check needed before
    fa, fb = _audio_pair(tmp_path, "bowed_piano", 0.0)
    assert align_files(str(fa), str(fb)).diagnostics["held_low"]["applied"] is False
