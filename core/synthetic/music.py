"""Synthetic music with exact onsets: scores, tempo maps, timbres, room and channel.

Moved here from ``benchmarks/accuracy/heldout.py`` (which still uses it) so the generators
of ``benchmarks/accuracy/generalize.py`` and the tests share one copy. ``make_score``
draws a seeded score (repeated notes, chords, rests, fermatas), ``tempo_map`` a smooth or
abrupt tempo curve, ``render`` plays it with one timbre (``TIMBRES``: percussive piano,
held organ, slow-attack bowed with vibrato, plucked, a slow-attack vowel-like voice, a
marimba); ``reverb`` and ``band_limit`` change the room and the channel.
``make_audio_pair`` writes one pair of an ``AUDIO_CASES`` case with its ground truth.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

__all__ = ["AUDIO_CASES", "TIMBRES", "band_limit", "bass_line", "make_audio_pair", "make_score",
           "tone_sections",
           "render", "reverb", "tempo_map"]

SR = 22050


# timbres: note(freq, dur_s) -> samples
def _piano(f, dur, t):
    env = np.exp(-3.5 * t) * np.minimum(1.0, t / 0.003)
    return env * sum(np.sin(2 * np.pi * k * f * t) * np.exp(-0.8 * k * t) / k ** 1.2
                     for k in range(1, 9))


def _organ(f, dur, t):
    env = np.minimum(1.0, t / 0.02) * np.clip((dur - t) / 0.08 + 1.0, 0.0, 1.0)
    return env * sum(np.sin(2 * np.pi * k * f * t) * w
                     for k, w in ((1, 1.0), (2, 0.7), (3, 0.3), (4, 0.25), (6, 0.1)))


def _bowed(f, dur, t):
    env = np.minimum(1.0, t / 0.09) ** 2 * np.clip((dur - t) / 0.1 + 1.0, 0.0, 1.0)
    # vibrato: +-0.5 % frequency deviation at 5.5 Hz
    phase = 2 * np.pi * f * t - 0.005 * f / 5.5 * np.cos(2 * np.pi * 5.5 * t)
    return env * sum(np.sin(k * phase) / k for k in range(1, 10))


def _plucked(f, dur, t):
    env = np.exp(-6.0 * t) * np.minimum(1.0, t / 0.001)
    return env * sum(np.sin(2 * np.pi * k * f * t) * np.exp(-2.0 * k * t) * (0.9 ** k)
                     for k in range(1, 12))


TIMBRES = {"piano": (_piano, 0.8), "organ": (_organ, 0.1), "bowed": (_bowed, 0.12),
           "plucked": (_plucked, 0.6)}


def make_score(rng, n_events):
    """Events: (pitches, beats, is_rest). Repeated notes, chords, rests, fermatas."""
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    root = int(rng.integers(55, 65))
    degree = 7
    events = []
    prev = None
    for _ in range(n_events):
        u = rng.random()
        beats = float(rng.choice([0.5, 1.0, 1.0, 1.0, 1.5, 2.0]))
        if prev is not None and u < 0.3:
            pitches = prev  # repeated note / chord
        else:
            degree = int(np.clip(degree + rng.integers(-3, 4), 0, 13))
            top = root + 12 * (degree // 7) + scale[degree % 7]
            if rng.random() < 0.35:
                pitches = (top, top - 4 if rng.random() < 0.5 else top - 3, top - 7, top - 12)
                pitches = pitches[:int(rng.integers(2, 5))]
            else:
                pitches = (top,)
        if rng.random() < 0.06:
            beats *= 3.0  # fermata
        events.append((pitches, beats))
        prev = pitches
        if rng.random() < 0.06:
            events.append((None, float(rng.choice([1.0, 2.0]))))  # a rest
            prev = None
    return events


def tempo_map(rng, total_beats, kind):
    """Seconds of a fine beat grid for a smooth or an abrupt tempo curve."""
    grid = np.linspace(0.0, total_beats + 1, 8000)
    bpm0 = float(rng.uniform(70, 130))
    if kind == "smooth":
        period = float(rng.uniform(8, 20))
        bpm = bpm0 * (1 + 0.2 * np.sin(2 * np.pi * grid / period + rng.uniform(0, 6.3)))
    else:  # abrupt: piecewise-constant tempo, a change every 4..10 beats
        bpm = np.empty_like(grid)
        edges = np.cumsum(rng.uniform(4, 10, size=64))
        factors = rng.uniform(0.7, 1.4, size=65)
        bpm[:] = bpm0 * factors[np.searchsorted(edges, grid)]
    return grid, np.concatenate([[0.0], np.cumsum(np.diff(grid) * 60.0 / bpm[:-1])])


def bass_line(events, beats_per_bar=4.0, low=36):
    """A held bass under ``events``: one note per bar, struck with the first played
    event at or after the bar line and held until the next bass note (or the end), an
    octave or two below that event's lowest pitch, in ``low`` .. ``low + 11`` (MIDI).
    Returns ``(pitch, first_event, end_event)`` rows; every bass onset is a melody onset,
    so the melody's ground truth stays the whole truth."""
    beats = np.concatenate([[0.0], np.cumsum([b for _, b in events])])
    starts = []
    bar = 0.0
    for k, (pitches, _) in enumerate(events):
        if pitches is not None and beats[k] >= bar - 1e-9:
            starts.append(k)
            bar = (np.floor(beats[k] / beats_per_bar + 1e-9) + 1) * beats_per_bar
    ends = starts[1:] + [len(events)]
    return [(int(low + (min(events[k][0]) - low) % 12), k, e) for k, e in zip(starts, ends,
                                                                            strict=True)]


def render(rng, events, timbre, tempo_kind, lead_s, *, tail_s=None, held=0.92,
           end_s=1.5, bass=None, bass_level=0.5):
    """Play ``events`` with ``timbre`` (a name of :data:`TIMBRES`, or a function
    ``note(freq_hz, dur_s, t)``) under a ``tempo_kind`` tempo curve after ``lead_s``
    of silence: (float32 samples at :data:`SR`, onsets in s).

    A note is held ``held`` of its beats (0.92: legato; less: staccato) and rendered
    ``tail_s`` beyond (default 0.6 s for the decaying timbres, 0.15 s else: a bell
    ringing longer needs more); ``end_s`` of room follows the last beat. ``bass``
    (rows of :func:`bass_line`) adds a held bass in the same timbre on the same tempo
    curve at ``bass_level`` of a melody note's level; without it the random draws, and
    so the melody, are the same as with it."""
    beats = np.concatenate([[0.0], np.cumsum([b for _, b in events])])
    grid, secs = tempo_map(rng, beats[-1], tempo_kind)
    times = lead_s + np.interp(beats, grid, secs)
    func = timbre if callable(timbre) else TIMBRES[timbre][0]
    out = np.zeros(int((times[-1] + end_s) * SR))
    onsets = []

    def play(pitch, t0, t1, tail, gain, scale=1.0):
        dur = max(0.05, (t1 - t0) * held)
        t = np.arange(int((dur + tail) * SR)) / SR
        note = func(440.0 * 2 ** ((pitch - 69) / 12), dur, t) * gain
        i0 = int(round(t0 * SR))
        n = min(len(note), len(out) - i0)
        out[i0:i0 + n] += note[:n] / scale

    for k, (pitches, _) in enumerate(events):
        if pitches is None:
            continue
        tail = tail_s if tail_s is not None else (
            0.6 if timbre in ("piano", "plucked", "marimba") else 0.15)
        for p in pitches:
            play(p, times[k], times[k + 1], tail, rng.uniform(0.6, 1.0), len(pitches) ** 0.5)
        onsets.append(times[k])
    for pitch, k0, k1 in bass or ():  # 0.15 s beyond: it ends as the next one starts
        play(pitch, times[k0], times[k1], 0.15, bass_level)
    out += 0.002 * rng.standard_normal(len(out)) * np.abs(out).max()
    return (0.7 * out / np.abs(out).max()).astype(np.float32), np.array(onsets)


def _played(events):
    return [" ".join(str(int(p)) for p in pitches) for pitches, _ in events
            if pitches is not None]


def _voice(f, dur, t):
    """A sung vowel: slow attack, vibrato, two formants over a harmonic source."""
    env = np.minimum(1.0, t / 0.12) ** 1.5 * np.clip((dur - t) / 0.1 + 1.0, 0.0, 1.0)
    phase = 2 * np.pi * f * t - 0.01 * f / 5.0 * np.cos(2 * np.pi * 5.0 * t)
    out = np.zeros_like(t)
    for k in range(1, 16):
        fk = k * f
        if fk > 5000:
            break
        gain = np.exp(-((fk - 700) / 250) ** 2) + 0.6 * np.exp(-((fk - 1200) / 300) ** 2) \
            + 0.05
        out += gain * np.sin(k * phase)
    return env * out


def _marimba(f, dur, t):
    env = np.minimum(1.0, t / 0.002)
    return env * (np.sin(2 * np.pi * f * t) * np.exp(-4.0 * t)
                  + 0.4 * np.sin(2 * np.pi * 3.9 * f * t) * np.exp(-12.0 * t))


TIMBRES.update({"voice": (_voice, 0.1), "marimba": (_marimba, 0.6)})


def reverb(x, rt60, seed=0, wet=0.4, sr=SR):
    """A room: convolution with exponentially decaying noise of decay time ``rt60``."""
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(seed)
    n = int(rt60 * sr)
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / max(n, 1))
    ir[0] = 0.0
    wet_part = fftconvolve(x, ir)[:len(x)]
    wet_part *= np.abs(x).max() / max(np.abs(wet_part).max(), 1e-12)
    y = (1 - wet) * x + wet * wet_part
    return (0.7 * y / max(np.abs(y).max(), 1e-12)).astype(np.float32)


def band_limit(x, lo, hi, sr=SR):
    """A channel: 4th-order Butterworth band-pass from ``lo`` to ``hi`` Hz."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(4, [lo, hi], btype="band", fs=sr, output="sos")
    y = sosfiltfilt(sos, x)
    return (0.7 * y / max(np.abs(y).max(), 1e-12)).astype(np.float32)


# case: (timbre A, timbre B, effects on B)
AUDIO_CASES = {
    "piano_organ": ("piano", "organ", {}),
    "bowed_piano": ("bowed", "piano", {}),
    "voice_plucked": ("voice", "plucked", {}),
    "piano_reverb": ("piano", "marimba", {"reverb": 1.2}),
    "organ_band": ("organ", "piano", {"band": (300.0, 3400.0)}),
    "voice_reverb_band": ("voice", "bowed", {"reverb": 0.8, "band": (300.0, 3400.0)}),
}


def make_audio_pair(out_dir, case, seed=0, n_events=32, *, bass_level=0.0):
    """Write ``a.wav``, ``b.wav``, ``gt.csv`` (event_id, time_a_s, time_b_s) and
    ``meta.json`` for one case of ``AUDIO_CASES``; returns the folder. ``bass_level``
    above 0 adds a held bass line (:func:`bass_line`) under the melody on both sides,
    each in its side's timbre; the melody and tempo curves are those of the pair
    without it (the same seed)."""
    if case not in AUDIO_CASES:
        raise ValueError(f"case: expected one of {sorted(AUDIO_CASES)}, got {case!r}")
    ta, tb, effects = AUDIO_CASES[case]
    rng = np.random.default_rng(seed)
    events = make_score(rng, n_events)
    kinds = ("smooth", "abrupt") if seed % 2 == 0 else ("abrupt", "smooth")
    if bass_level < 0:
        raise ValueError(f"bass_level: expected 0 or more, got {bass_level}")
    bass = bass_line(events) if bass_level > 0 else None
    xa, oa = render(rng, events, ta, kinds[0], float(rng.uniform(0.3, 1.5)), bass=bass,
                    bass_level=bass_level)
    xb, ob = render(rng, events, tb, kinds[1], float(rng.uniform(0.3, 1.5)), bass=bass,
                    bass_level=bass_level)
    if "reverb" in effects:
        xb = reverb(xb, effects["reverb"], seed)
    if "band" in effects:
        xb = band_limit(xb, *effects["band"])
    d = write_pair(out_dir, xa, xb, oa, ob, events)
    (d / "meta.json").write_text(json.dumps(
        {"case": case, "seed": seed, "timbres": [ta, tb], "effects": effects,
         "bass_level": bass_level,
         "tempo": kinds, "duration_a_s": len(xa) / SR, "duration_b_s": len(xb) / SR}))
    return d


def write_pair(out_dir, xa, xb, onsets_a, onsets_b, events) -> Path:
    """Write ``a.wav``, ``b.wav`` (16-bit at :data:`SR`) and ``gt.csv`` (one row per
    played event: ``event_id, time_a_s, time_b_s, midi_pitches``) into ``out_dir``."""
    import soundfile as sf

    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    sf.write(d / "a.wav", xa, SR, subtype="PCM_16")
    sf.write(d / "b.wav", xb, SR, subtype="PCM_16")
    with open(d / "gt.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event_id", "time_a_s", "time_b_s", "midi_pitches"])
        for i, (a, b, p) in enumerate(zip(onsets_a, onsets_b, _played(events), strict=True)):
            w.writerow([i, f"{a:.6f}", f"{b:.6f}", p])
    return d


def tone_sections(keys, sr=8000, sec=4.0, seed=0):
    """Sections of ``sec`` seconds, each a short melody of 8 decaying sine notes of its
    own drawn around its key frequency; equal keys give equal sections (a section
    repeated, dropped or moved: the structure tests' and benchmarks' material).
    Returns float64 samples at ``sr``."""
    rng = np.random.default_rng(seed)
    melodies, out = {}, []
    for f in keys:
        if f not in melodies:
            melodies[f] = f * 2 ** (rng.integers(0, 12, 8) / 12)
        t = np.arange(int(sr * sec / 8)) / sr
        out.append(np.concatenate([0.3 * np.sin(2 * np.pi * nf * t) * np.exp(-3 * t)
                                   for nf in melodies[f]]))
    return np.concatenate(out)
