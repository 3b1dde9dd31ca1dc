"""Render the demo pair: one melody, two instruments, two tempo curves.

The melody is the main theme of Beethoven's Ninth Symphony, fourth movement (public
domain). Both recordings are synthesized here from scratch (additive synthesis), so the
files are ours to give away: CC0 (see LICENSE in this folder). Run

    python assets/demo/make_demo.py

to rebuild ``a.flac``, ``b.flac`` and ``gt.csv`` (the true onset times in A and B).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 22050
HERE = Path(__file__).resolve().parent

# (MIDI pitch, beats); E E F G | G F E D | C C D E | E. D D- | ...
THEME = [(64, 1), (64, 1), (65, 1), (67, 1), (67, 1), (65, 1), (64, 1), (62, 1),
         (60, 1), (60, 1), (62, 1), (64, 1), (64, 1.5), (62, 0.5), (62, 2),
         (64, 1), (64, 1), (65, 1), (67, 1), (67, 1), (65, 1), (64, 1), (62, 1),
         (60, 1), (60, 1), (62, 1), (64, 1), (62, 1.5), (60, 0.5), (60, 2)]
BASS = {0: 48, 4: 43, 8: 48, 12: 43, 16: 48, 20: 43, 24: 45, 28: 43}  # beat -> pitch


def tempo_map(beats: np.ndarray, bpm0: float, wobble: float, phase: float) -> np.ndarray:
    """Seconds of each beat position for a smoothly varying tempo."""
    grid = np.linspace(0.0, beats.max() + 4, 4000)
    bpm = bpm0 * (1.0 + wobble * np.sin(2 * np.pi * grid / 16.0 + phase))
    seconds = np.concatenate([[0.0], np.cumsum(np.diff(grid) * 60.0 / bpm[:-1])])
    return np.interp(beats, grid, seconds)


def piano(freq: float, dur: float) -> np.ndarray:
    t = np.arange(int((dur + 0.6) * SR)) / SR
    env = np.exp(-3.0 * t) * np.minimum(1.0, t / 0.004)
    tone = sum(np.sin(2 * np.pi * k * freq * t) / k ** 1.3 for k in range(1, 8))
    return env * tone


def organ(freq: float, dur: float) -> np.ndarray:
    t = np.arange(int((dur + 0.15) * SR)) / SR
    env = np.minimum(1.0, t / 0.03) * np.clip((dur + 0.15 - t) / 0.15, 0.0, 1.0)
    tone = sum(np.sin(2 * np.pi * k * freq * t) * w for k, w in ((1, 1.0), (2, 0.6),
                                                                    (3, 0.35), (4, 0.3)))
    return env * tone


def render(instrument, onsets_s, durations_s, pitches, total_s, rng) -> np.ndarray:
    out = np.zeros(int(total_s * SR))
    for t0, dur, pitch in zip(onsets_s, durations_s, pitches, strict=True):
        note = instrument(440.0 * 2 ** ((pitch - 69) / 12), dur)
        k = int(round(t0 * SR))
        n = min(len(note), len(out) - k)
        out[k:k + n] += note[:n]
    out += 0.003 * rng.standard_normal(len(out))
    return (0.8 * out / np.max(np.abs(out))).astype(np.float32)


def main() -> None:
    rng = np.random.default_rng(7)
    beats = np.concatenate([[0.0], np.cumsum([b for _, b in THEME])])
    starts = beats[:-1]
    melody = [p for p, _ in THEME]
    bass_beats = np.array(sorted(BASS))
    versions = {"a": (piano, 1.2, 96.0, 0.10, 0.0), "b": (organ, 0.5, 80.0, 0.18, 2.0)}
    onsets = {}
    for name, (instrument, lead_s, bpm, wobble, phase) in versions.items():
        t = lead_s + tempo_map(np.r_[starts, beats[-1]], bpm, wobble, phase)
        onsets[name] = t[:-1]
        end = t[-1] + 1.0
        mel = render(instrument, t[:-1], np.diff(t) * 0.95, melody, end, rng)
        tb = lead_s + tempo_map(np.r_[bass_beats, bass_beats[-1] + 4], bpm, wobble, phase)
        bass = render(instrument, tb[:-1], np.diff(tb) * 0.95, [BASS[b] for b in bass_beats],
                      end, rng)
        mix = mel + 0.5 * bass
        sf.write(HERE / f"{name}.flac", (0.8 * mix / np.abs(mix).max()).astype(np.float32), SR,
                 subtype="PCM_16")
    with open(HERE / "gt.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["event_id", "time_a_s", "time_b_s"])
        for k, (ta, tb) in enumerate(zip(onsets["a"], onsets["b"], strict=True)):
            writer.writerow([k, f"{ta:.6f}", f"{tb:.6f}"])


if __name__ == "__main__":
    main()
