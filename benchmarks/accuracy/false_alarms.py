"""A false-alarm audit of the recording-condition checks: clean pairs that should
trigger none of them, made to tempt each one (issue 16).

    nice -n 10 python benchmarks/accuracy/false_alarms.py [--cache DIR] [--only NAME,...]
        [--json OUT] [--md OUT.md] [--seed N]
    python benchmarks/accuracy/false_alarms.py --table BEFORE.json [AFTER.json]

The checks of the audio pipeline (``core/pipeline/conditions.py`` and the features)
were tuned to fire on transformed copies (``unseen.py``) and checked not to fire on
``../shared/data`` and the generated tune/held-out pairs. Here every pair is clean (no
hum, no noise added, no filter, no room) but holds what a check looks for, from
material the benchmarks lack:

- hum: a drone or a pedal bass on exactly 50 or 60 Hz, a walking bass near them;
- noise: sustained pads and organ chords with breath noise, bowed drones;
- band: the same melody two octaves apart (a bass voice against a flute), a muted
  (dark) side against a bright one;
- reverb: unpitched percussion ringing (cymbals) against dry claps, bells against a
  woodblock, speech over ringing chords against speech over short ones, speech
  with long sustained vowels (sung) against plain speech;
- key: material whose chroma is near uniform (twelve-tone rows, chromatic runs,
  drum kits);
- attack and onset lag: staccato against legato on one instrument;
- unshared ends: a long quiet room-tone tail, applause at both ends of both sides;
- speech of other voices and rates (``core.synthetic`` has no speech: a formant
  synthesizer of syllables here, voices of three pitches and vocal-tract lengths).

Every pair goes through ``core.align_files`` with the defaults; then, for every check
that fired, again with that check alone disabled (its decision monkeypatched in this
script, never an option of the product; a check that fires only then is named beside
that error). The error is the mean absolute error (ms) of
the A -> B map at the ground-truth events (``heldout.score``). Pairs are cached under
``--cache`` (default ``/tmp/ai-false-alarms``), never in the repo.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))
from heldout import score  # noqa: E402

from core.synthetic.music import SR, TIMBRES, make_score, render, write_pair  # noqa: E402

__all__ = ["CHECKS", "PAIRS", "disabled", "fired", "make_pair", "run_pair"]


# ------------------------------------------------------------------ timbres

def _harmonics(f, t, weights):
    return sum(w * np.sin(2 * np.pi * k * f * t) for k, w in enumerate(weights, 1)
               if k * f < 0.45 * SR)


def _pad(f, dur, t):
    """An organ-like pad: slow swell, held, slow release."""
    env = np.minimum(1.0, t / 0.25) * np.clip((dur - t) / 0.3 + 1.0, 0.0, 1.0)
    return env * _harmonics(f, t, (1.0, 0.5, 0.35, 0.2, 0.1, 0.05))


def _flute(f, dur, t):
    env = np.minimum(1.0, t / 0.04) * np.clip((dur - t) / 0.05 + 1.0, 0.0, 1.0)
    return env * _harmonics(f, t, (1.0, 0.12, 0.04))


def _bass_voice(f, dur, t):
    """A low sung voice: many harmonics under two low formants."""
    env = np.minimum(1.0, t / 0.06) * np.clip((dur - t) / 0.08 + 1.0, 0.0, 1.0)
    k = np.arange(1, 40)
    fk = k * f
    gain = np.exp(-((fk - 400) / 200) ** 2) + 0.5 * np.exp(-((fk - 900) / 250) ** 2) + 0.1
    return env * sum(g * np.sin(2 * np.pi * fr * t) for g, fr in zip(gain, fk, strict=True)
                     if fr < 0.45 * SR)


def _muted(f, dur, t):
    """A muted, dark tone: a fundamental and a weak octave."""
    env = np.minimum(1.0, t / 0.01) * np.exp(-1.5 * t) * np.clip((dur - t) / 0.05 + 1, 0, 1)
    return env * _harmonics(f, t, (1.0, 0.15))


def _bright(f, dur, t):
    """A bright buzz: 30 harmonics falling slowly."""
    env = np.minimum(1.0, t / 0.005) * np.clip((dur - t) / 0.05 + 1.0, 0.0, 1.0)
    return env * _harmonics(f, t, [1.0 / k ** 0.7 for k in range(1, 31)])


def _bell(f, dur, t):
    """A bell: inharmonic partials ringing for seconds (about 60 dB in 3 s)."""
    del dur
    return sum(w * np.sin(2 * np.pi * r * f * t) * np.exp(-t * d)
               for r, w, d in ((0.5, 0.6, 1.6), (1.0, 1.0, 2.3), (1.19, 0.5, 2.8),
                               (1.56, 0.4, 3.5), (2.0, 0.3, 4.0), (2.74, 0.2, 5.0))
               if r * f < 0.45 * SR) * np.minimum(1.0, t / 0.002)


def _woodblock(f, dur, t):
    del dur
    return (np.sin(2 * np.pi * 2.0 * f * t) + 0.5 * np.sin(2 * np.pi * 5.4 * f * t)) \
        * np.exp(-45.0 * t) * np.minimum(1.0, t / 0.001)


def _noise_hit(seed, decay, lo, hi):
    """An unpitched hit: band-passed noise decaying at ``decay`` (1/s)."""
    from scipy.signal import butter, sosfilt

    sos = butter(2, [lo, hi], btype="band", fs=SR, output="sos")

    def note(f, dur, t):
        del dur
        rng = np.random.default_rng(seed + int(f))
        return sosfilt(sos, rng.standard_normal(t.size)) * np.exp(-decay * t) \
            * np.minimum(1.0, t / 0.001)
    return note


def _kit(f, dur, t):
    """A drum kit: the 'pitch' picks the drum (kick, snare, hat, tom)."""
    del dur
    kind = int(round(12 * np.log2(f / 440.0))) % 4
    rng = np.random.default_rng(int(f))
    if kind == 0:  # kick: a falling sine
        return np.sin(2 * np.pi * (50 * t + 60 * (1 - np.exp(-20 * t)) / 20)) * np.exp(-7 * t)
    if kind == 1:  # snare: noise and a tone
        return (0.7 * rng.standard_normal(t.size) + np.sin(2 * np.pi * 190 * t)) \
            * np.exp(-18 * t)
    if kind == 2:  # hat: bright noise
        n = rng.standard_normal(t.size)
        return np.r_[0.0, np.diff(n)] * np.exp(-45 * t) * 0.6
    return np.sin(2 * np.pi * 110 * t) * np.exp(-9 * t)  # tom


# ------------------------------------------------------------------ speech

# vowels: (F1, F2, F3) Hz of an adult male voice
_VOWELS = ((730, 1090, 2440), (530, 1840, 2480), (270, 2290, 3010), (570, 840, 2410),
           (300, 870, 2240), (660, 1720, 2410))
VOICES = {"male": (110.0, 1.0), "female": (210.0, 1.17), "child": (290.0, 1.3)}


def _syllable(rng_seed, vowel, consonant, f0, scale, dur):
    """One syllable: a consonant (a fricative's noise or a stop's burst) and a voiced
    vowel under three formants, its pitch gliding."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(rng_seed)
    parts = []
    if consonant == "s":
        sos = butter(2, [3500, 7000], btype="band", fs=SR, output="sos")
        n = int(0.07 * SR)
        parts.append(0.25 * sosfilt(sos, rng.standard_normal(n)) * np.hanning(n))
    elif consonant == "t":
        n = int(0.02 * SR)
        sos = butter(2, [1500, 5000], btype="band", fs=SR, output="sos")
        parts.append(0.5 * sosfilt(sos, rng.standard_normal(n)) * np.exp(-np.arange(n) / 60))
    n = int(dur * SR)
    t = np.arange(n) / SR
    glide = f0 * (1.0 + 0.12 * (rng.uniform(-1, 1)) * t / max(dur, 1e-3))
    phase = 2 * np.pi * np.cumsum(glide) / SR
    formants = [scale * fr for fr in _VOWELS[vowel]]
    voiced = np.zeros(n)
    for k in range(1, int(0.45 * SR / (f0 * 1.15))):
        fk = k * f0
        gain = sum(a * np.exp(-((fk - fr) / (60 + 0.08 * fr)) ** 2)
                   for a, fr in zip((1.0, 0.6, 0.25), formants, strict=True)) + 0.02
        voiced += gain / k ** 0.5 * np.sin(k * phase)
    env = np.minimum(1.0, t / 0.02) * np.clip((dur - t) / 0.04, 0.0, 1.0)
    parts.append(voiced * env)
    return np.concatenate(parts)


def speech(seed, voice, rate, n_syllables=60, sung=(), sr_jitter=0.15):
    """A synthesized 'sentence' of syllables (the same sequence for a given ``seed``)
    in ``voice`` at ``rate`` (syllables per second at 1.0: about 4); the syllables in
    ``sung`` are held four times as long on one pitch (sung vowels).

    Returns (samples, syllable onsets in s)."""
    plan = np.random.default_rng(seed)  # the text: the same on both sides
    vowels = plan.integers(0, len(_VOWELS), n_syllables)
    consonants = plan.choice(["", "s", "t", "t"], n_syllables)
    lengths = plan.uniform(0.13, 0.24, n_syllables)
    breaks = plan.random(n_syllables) < 0.15
    f0, scale = VOICES[voice]
    rng = np.random.default_rng(seed * 31 + int(rate * 100) + int(f0))  # the speaker
    out, onsets, pos = [np.zeros(int(0.4 * SR))], [], 0.4
    for k in range(n_syllables):
        dur = lengths[k] / rate * rng.uniform(1 - sr_jitter, 1 + sr_jitter)
        pitch = f0 * (1.15 - 0.3 * (k % 8) / 8) * rng.uniform(0.95, 1.05)
        if k in sung:
            dur *= 4.0
        syl = _syllable(seed * 1000 + k, int(vowels[k]), consonants[k], pitch, scale, dur)
        onsets.append(pos)
        out.append(syl)
        pos += syl.size / SR
        gap = rng.uniform(0.25, 0.6) if breaks[k] else rng.uniform(0.0, 0.03)
        out.append(np.zeros(int(gap * SR)))
        pos += int(gap * SR) / SR
    out.append(np.zeros(int(0.5 * SR)))
    x = np.concatenate(out)
    return x, np.array(onsets)


# ------------------------------------------------------------------ pairs

def _norm(x, peak=0.7):
    return (peak * x / max(float(np.max(np.abs(x))), 1e-12)).astype(np.float32)


def _drone(n, f, weights=(1.0, 0.6, 0.4, 0.25, 0.15), level=0.5):
    t = np.arange(n) / SR
    return level * _harmonics(f, t, weights) * np.minimum(1.0, t / 0.5)


def _breath(n, seed, level):
    """Breath or bow noise: low-passed noise, steady, ``level`` of full scale."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    sos = butter(2, 3000, btype="low", fs=SR, output="sos")
    y = sosfilt(sos, rng.standard_normal(n))
    return level * y / np.sqrt(np.mean(y ** 2))


def _transposed(events, semitones):
    return [(None if p is None else tuple(q + semitones for q in p), b) for p, b in events]


def _chromatic(rng, n_events, row=False):
    """Twelve-tone rows (``row``) or chromatic runs up and down: every pitch class as
    often as any other."""
    events, pitch = [], int(rng.integers(55, 67))
    while len(events) < n_events:
        if row:
            for p in rng.permutation(12):
                events.append(((60 + int(p) + 12 * int(rng.integers(-1, 1)),),
                               float(rng.choice([0.5, 1.0, 1.0, 1.5]))))
        else:
            step = int(rng.choice([-1, 1]))
            for _ in range(int(rng.integers(6, 13))):
                pitch = int(np.clip(pitch + step, 48, 84))
                events.append(((pitch,), float(rng.choice([0.5, 0.5, 1.0]))))
    return events[:n_events]


def _chords(rng, n_events):
    """Slow chord changes (2-4 beats), triads in a low register: a pad's material."""
    roots = rng.integers(48, 60, n_events)
    return [((int(r), int(r) + int(rng.choice([3, 4])), int(r) + 7, int(r) + 12),
             float(rng.choice([2.0, 3.0, 4.0]))) for r in roots]


def _music(rng, events, timbres, **kw):
    lead = kw.pop("lead", (0.5, 0.8))
    kinds = kw.pop("kinds", ("smooth", "abrupt"))
    kw_a = kw.pop("kw_a", {})
    kw_b = kw.pop("kw_b", {})
    shift_a, shift_b = kw_a.pop("shift", 0), kw_b.pop("shift", 0)
    xa, oa = render(rng, _transposed(events, shift_a), timbres[0], kinds[0], lead[0], **kw_a)
    xb, ob = render(rng, _transposed(events, shift_b), timbres[1], kinds[1], lead[1], **kw_b)
    return xa, xb, oa, ob


def _with_drone(x, f, level=0.35):
    return _norm(x + level * float(np.max(np.abs(x))) * _drone(x.size, f) / 0.5)


def _bass_line(rng, n_events, low=31, high=38):
    """A walking bass in the lowest octave (MIDI 31-38: 49-73 Hz, around 50 and 60)."""
    return [((int(rng.integers(low, high + 1)), int(rng.integers(60, 72))),
             float(rng.choice([0.5, 1.0, 1.0]))) for _ in range(n_events)]


def _speech_pair(seed, voices, rates, **kw):
    xa, oa = speech(seed, voices[0], rates[0], sung=kw.get("sung_a", ()))
    xb, ob = speech(seed, voices[1], rates[1], sung=kw.get("sung_b", ()))
    return xa, xb, oa, ob


def _mix_under(x, onsets, rng, timbre, every=6, level=0.5, tail_s=0.15):
    """Chords under speech: one at every ``every``-th syllable, held to the next."""
    out = np.array(x, dtype=np.float64)
    peak = float(np.max(np.abs(x)))
    chords = _chords(rng, len(onsets) // every + 1)
    for c, k in enumerate(range(0, len(onsets), every)):
        t0 = onsets[k]
        t1 = onsets[k + every] if k + every < len(onsets) else t0 + 1.5
        dur = t1 - t0
        t = np.arange(int((dur + tail_s) * SR)) / SR
        note = sum(timbre(440.0 * 2 ** ((p - 69) / 12), dur, t) for p in chords[c][0])
        i0 = int(t0 * SR)
        n = min(note.size, out.size - i0)
        out[i0:i0 + n] += level * peak * note[:n] / max(float(np.max(np.abs(note))), 1e-9)
    return out


def _tails(x, seconds, level_db, seed, kind="room"):
    """``seconds`` of room tone (steady noise ``level_db`` below the peak) or of
    applause (dense random claps) after ``x``."""
    n = int(seconds * SR)
    rng = np.random.default_rng(seed)
    peak = float(np.max(np.abs(x)))
    if kind == "room":
        tail = _breath(n, seed, 1.0) * peak * 10 ** (level_db / 20)
    else:
        tail = np.zeros(n)
        clap = _noise_hit(seed, 30.0, 800.0, 4000.0)
        t = np.arange(int(0.15 * SR)) / SR
        for start in np.sort(rng.uniform(0, seconds - 0.2, int(25 * seconds))):
            i0 = int(start * SR)
            tail[i0:i0 + t.size] += rng.uniform(0.3, 1.0) * clap(440.0 + i0 % 7, 0.1, t)
        tail *= peak * 10 ** (level_db / 20) / max(float(np.max(np.abs(tail))), 1e-12)
    return np.concatenate([x, tail])


def _build(name, seed):
    """A pair's (xa, xb, onsets_a, onsets_b, events): the samples are float arrays at
    :data:`SR`, the onsets the ground-truth events (s)."""
    rng = np.random.default_rng(seed)
    events = make_score(rng, 28)
    if name == "hum_drone50":  # a drone on exactly 50 Hz under both sides (a pedal)
        xa, xb, oa, ob = _music(rng, events, ("organ", "plucked"))
        xa, xb = _with_drone(xa, 50.0), _with_drone(xb, 50.0, 0.25)
    elif name == "hum_drone60":  # a tanpura-like drone on 60 Hz, on one side only
        xa, xb, oa, ob = _music(rng, events, ("bowed", "piano"))
        xa = _with_drone(xa, 60.0, 0.4)
    elif name == "hum_bass":  # a walking bass around 50-60 Hz (G1..D2) with a melody
        events = _bass_line(rng, 40)
        xa, xb, oa, ob = _music(rng, events, ("organ", "piano"))
    elif name == "noise_pad":  # organ chords held through, with breath noise
        events = _chords(rng, 12)
        xa, xb, oa, ob = _music(rng, events, (_pad, "piano"), kw_a={"held": 1.0,
                                                                      "tail_s": 0.3})
        xa = xa + _breath(xa.size, seed, 0.03)
    elif name == "noise_bowed":  # bowed drones with bow noise on both sides
        events = _chords(rng, 12)
        xa, xb, oa, ob = _music(rng, events, ("bowed", _pad), kw_a={"held": 1.0},
                                kw_b={"held": 1.0, "tail_s": 0.3})
        xa = xa + _breath(xa.size, seed, 0.04)
        xb = xb + _breath(xb.size, seed + 1, 0.03)
    elif name == "band_octaves":  # a bass voice two octaves below a flute
        xa, xb, oa, ob = _music(rng, events, (_bass_voice, _flute),
                                kw_a={"shift": -24}, kw_b={"shift": 12})
    elif name == "band_dark":  # a muted low side against a bright high one
        xa, xb, oa, ob = _music(rng, events, (_muted, _bright), kw_a={"shift": -12},
                                kw_b={"shift": 12})
    elif name == "reverb_cymbals":  # ringing cymbals against dry claps (unpitched)
        events = [((60 + int(rng.integers(0, 5)),), float(rng.choice([1.0, 1.0, 2.0])))
                  for _ in range(24)]
        xa, xb, oa, ob = _music(rng, events, (_noise_hit(seed, 2.2, 3000, 9000),
                                              _noise_hit(seed, 35.0, 800, 4000)),
                                kw_a={"tail_s": 3.0}, kw_b={"tail_s": 0.2})
    elif name == "reverb_bells":  # bells ringing for seconds against a woodblock
        events = [((int(rng.choice([60, 62, 64, 67, 69, 72])),),
                   float(rng.choice([1.0, 1.0, 2.0]))) for _ in range(24)]
        xa, xb, oa, ob = _music(rng, events, (_bell, _woodblock), kw_a={"tail_s": 3.0},
                                kw_b={"tail_s": 0.2})
    elif name == "reverb_speech_chords":  # speech over ringing chords vs over an organ's
        xa, xb, oa, ob = _speech_pair(seed, ("male", "female"), (1.0, 1.15))
        xa = _mix_under(xa, oa, np.random.default_rng(seed), TIMBRES["piano"][0],
                        tail_s=2.0)
        xb = _mix_under(xb, ob, np.random.default_rng(seed), TIMBRES["organ"][0])
    elif name == "reverb_sung":  # speech with long sung vowels against plain speech
        sung = tuple(range(3, 60, 7))
        xa, xb, oa, ob = _speech_pair(seed, ("female", "male"), (1.0, 1.1), sung_a=sung)
    elif name == "key_rows":  # twelve-tone rows: every pitch class equally often
        events = _chromatic(rng, 36, row=True)
        xa, xb, oa, ob = _music(rng, events, ("piano", "organ"))
    elif name == "key_chromatic":  # chromatic runs up and down
        events = _chromatic(rng, 56)
        xa, xb, oa, ob = _music(rng, events, ("plucked", "bowed"))
    elif name == "key_drums":  # two drum kits (no pitch at all)
        events = [((69 + int(rng.choice([0, 1, 2, 2, 3])),), float(rng.choice([0.5, 1.0])))
                  for _ in range(40)]
        xa, xb, oa, ob = _music(rng, events, (_kit, _kit))
    elif name == "attack_staccato":  # one organ, staccato against legato
        xa, xb, oa, ob = _music(rng, events, ("organ", "organ"), kw_a={"held": 0.3},
                                kw_b={"held": 1.0})
    elif name == "attack_piano":  # one piano, damped staccato against legato
        xa, xb, oa, ob = _music(rng, events, ("piano", "piano"),
                                kw_a={"held": 0.25, "tail_s": 0.05}, kw_b={"tail_s": 1.0})
    elif name == "ends_quiet":  # a long quiet room tone after the last note of A
        xa, xb, oa, ob = _music(rng, events, ("piano", "organ"))
        xa = _tails(xa, 8.0, -45.0, seed)
    elif name == "ends_applause":  # applause before and after, on both sides
        xa, xb, oa, ob = _music(rng, events, ("piano", "bowed"))
        xa = _tails(xa[::-1], 3.0, -6.0, seed, "applause")[::-1]
        oa = oa + 3.0
        xa = _tails(xa, 5.0, -6.0, seed + 1, "applause")
        xb = _tails(xb[::-1], 4.0, -6.0, seed + 2, "applause")[::-1]
        ob = ob + 4.0
        xb = _tails(xb, 4.0, -6.0, seed + 3, "applause")
    elif name == "speech_male_child":
        xa, xb, oa, ob = _speech_pair(seed, ("male", "child"), (0.8, 1.3))
    elif name == "speech_female_male":
        xa, xb, oa, ob = _speech_pair(seed, ("female", "male"), (1.2, 0.9))
    else:
        raise ValueError(f"pair: expected one of {PAIRS}, got {name!r}")
    return _norm(xa), _norm(xb), np.asarray(oa), np.asarray(ob)


PAIRS = ("hum_drone50", "hum_drone60", "hum_bass", "noise_pad", "noise_bowed",
         "band_octaves", "band_dark", "reverb_cymbals", "reverb_bells",
         "reverb_speech_chords", "reverb_sung", "key_rows", "key_chromatic", "key_drums",
         "attack_staccato", "attack_piano", "ends_quiet", "ends_applause",
         "speech_male_child", "speech_female_male")


def make_pair(out_dir, name, seed=0):
    """Write (or reuse) a pair's ``a.wav``, ``b.wav`` and ``gt.csv``; returns the
    folder."""
    d = Path(out_dir) / f"{name}_s{seed}"
    if not (d / "gt.csv").exists():
        xa, xb, oa, ob = _build(name, seed)
        write_pair(d, xa, xb, oa, ob, [((k,), 1.0) for k in range(len(oa))])
    return d


# ------------------------------------------------------------------ checks

CHECKS = ("hum", "noise", "band", "reverb", "key", "attack", "onset_lag", "unshared")


def fired(al):
    """The checks whose decision changed something (``reverb`` also when it only found a
    side and kept it: ``reverb(kept)``), from a result's diagnostics."""
    d = al.diagnostics
    out = []
    for side in "ab":
        if d.get("hum", {}).get(side, {}).get("applied"):
            out.append(f"hum:{side}")
        if d.get("noise", {}).get(side, {}).get("applied"):
            out.append(f"noise:{side}")
    if d.get("band", {}).get("applied"):
        out.append("band:" + ",".join(f"{k}={v}" for k, v in d["band"]["lost"].items()))
    rev = d.get("reverb", {})
    if rev.get("side"):
        out.append(f"reverb:{rev['side']}" + ("(kept)" if "kept" in rev else ""))
    if d.get("key", {}).get("applied"):
        out.append(f"key:{d['key']['shift_semitones']:+d}")
    if d.get("attack", {}).get("applied"):
        out.append("attack:" + "/".join(str(f) for f in d["attack"]["shift_frames"]))
    if al.params.get("onset_shift"):
        out.append(f"onset_lag:{al.params['onset_shift']:+d}")
    if d.get("warning") or any(not s.get("quiet") for s in d.get("unshared", ())):
        out.append("unshared")
    return out


@contextlib.contextmanager
def disabled(check):
    """The pipeline with one check's decision replaced by 'nothing found'."""
    import core.pipeline as pipeline
    from core.pipeline import attack, conditions, key

    def keep(x, sample_rate):
        return x, {"applied": False}

    def no_overlap(source, monitor, **kw):
        found, info = original(source, monitor, **kw)
        return (0, source.n - 1, 0, source.m - 1), dict(info, trimmed=False)

    module, attr, replacement = {
        "hum": (conditions, "remove_hum", keep),
        "noise": (conditions, "remove_noise", keep),
        "band": (conditions, "band_of_levels",
                 lambda *a: (None, {"applied": False})),
        "reverb": (conditions, "reverberant_side", lambda *a, **k: None),
        "key": (key, "transpose_terms", lambda terms: (terms, {"applied": False})),
        "attack": (attack, "compensate", lambda terms, *a: (terms, (0, 0))),
        "onset_lag": (attack, "onset_shift_frames", lambda *a, **k: 0),
        "unshared": (pipeline, "find_overlap", no_overlap),
    }[check]
    original = getattr(module, attr)
    setattr(module, attr, replacement)
    try:
        yield
    finally:
        setattr(module, attr, original)


def _align(d):
    import warnings

    from core import align_files

    t0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        al = align_files(str(d / "a.wav"), str(d / "b.wav"))
    cpu = time.process_time() - t0
    err = score(d / "gt.csv", np.asarray(al.times_s))
    return al, {"mae_ms": round(float(err.mean()), 1), "max_ms": round(float(err.max()), 1),
                "cpu_s": round(cpu, 2)}


def run_pair(d):
    """A pair with the defaults and, per check that fired, without it."""
    al, res = _align(d)
    row = dict(res, fired=fired(al), material=al.diagnostics.get("material"),
               without={})
    row["fired_without"] = {}
    for check in dict.fromkeys(f.split(":")[0] for f in row["fired"]):
        with disabled(check):
            al_off, off = _align(d)
        row["without"][check] = off["mae_ms"]
        # what fired instead (hum left in: its lines may pass for noise)
        row["fired_without"][check] = [f for f in fired(al_off) if f not in row["fired"]]
    return row


def _cells(r):
    also = r.get("fired_without", {})
    without = ", ".join(f"{k} {v:.1f}" + (f" ({', '.join(also[k])} fired)" if also.get(k)
                                          else "")
                        for k, v in r["without"].items()) or "-"
    return [", ".join(r["fired"]) or "-", f"{r['mae_ms']:.1f} (max {r['max_ms']:.0f})",
            without]


def table(rows, before=None):
    """A markdown table of one run's rows, or of two (``before`` first) side by side."""
    head = ["checks fired", "error (ms)", "without the check (ms)"]
    if before is None:
        lines = ["| pair | material | " + " | ".join(head) + " |", "|---|---|---|---|---|"]
    else:
        lines = ["| pair | material | " + " | ".join(f"{h}, before" for h in head) + " | "
                 + " | ".join(f"{h}, after" for h in head) + " |",
                 "|---|---|" + "---|" * 6]
    for name, r in rows.items():
        cells = _cells(r) if before is None else [*_cells(before[name]), *_cells(r)]
        lines.append(f"| {name} | {r['material']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ai-false-alarms"))
    ap.add_argument("--only", default="")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--md", type=Path)
    ap.add_argument("--table", nargs="+", type=Path, metavar="JSON",
                    help="print the table of a run's --json (of two: before, after)")
    args = ap.parse_args(argv)
    if args.table:
        runs = [json.loads(p.read_text()) for p in args.table]
        print(table(runs[-1], runs[0] if len(runs) > 1 else None))
        return 0
    names = [p for p in PAIRS if not args.only or any(o in p for o in args.only.split(","))]
    rows = {}
    for name in names:
        d = make_pair(args.cache, name, args.seed)
        rows[name] = r = run_pair(d)
        print(f"{name:22s} {r['material'] or '?':7s} {r['mae_ms']:7.1f} "
              f"{' '.join(r['fired']) or '-':30s} {r['without']}", flush=True)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
    text = table(rows)
    print(text)
    if args.md:
        args.md.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
