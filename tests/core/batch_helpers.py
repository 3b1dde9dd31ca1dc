"""Media, manifests and worker plugins for the batch tests (tests/core is on sys.path, so
Dask workers spawned from a test import this module by name)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
from distributed.diagnostics.plugin import WorkerPlugin

from core.synthetic.music import tone_sections

SR = 16000
MELODY = [60, 64, 67, 72, 71, 67, 65, 62, 60, 69, 64, 60]


def tones(path, pitches, note_s: float, rate: int = SR) -> Path:
    """Decaying sine notes, one per MIDI pitch, ``note_s`` seconds each."""
    t = np.arange(int(note_s * rate)) / rate
    notes = [np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t) * np.exp(-4 * t)
             for p in pitches]
    sf.write(str(path), np.concatenate(notes).astype(np.float32) * 0.5, rate)
    return Path(path)


def make_pairs(folder: Path, n: int, note_s: float = 0.25, repeat: int = 1) -> list[tuple]:
    """``n`` pairs ``(a, b)`` in ``folder``: a melody against a slower rendering."""
    pairs = []
    for k in range(n):
        melody = (MELODY[k % len(MELODY):] + MELODY[:k % len(MELODY)]) * repeat
        a = tones(folder / f"a{k}.wav", melody, note_s)
        b = tones(folder / f"b{k}.wav", melody, note_s * (1.2 + 0.1 * (k % 3)))
        pairs.append((a, b))
    return pairs


def sections(path, freqs, sr: int = 8000, sec: float = 4.0, seed: int = 0) -> Path:
    """Sections of ``sec`` seconds, each a short melody of its own (a frequency given
    twice plays its section again: B with a repeated section, as tests/core/
    test_structure.py builds it)."""
    sf.write(str(path), tone_sections(freqs, sr, sec, seed).astype(np.float32), sr)
    return Path(path)


def write_manifest(path: Path, rows: list[dict], columns=None) -> Path:
    import csv

    columns = columns or sorted({key for row in rows for key in row},
                                key=["id", "a", "b", "method", "feature", "rate", "band",
                                     "anchors", "structure"].index)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    return path


class KillOn(WorkerPlugin):
    """Makes a worker process die (``os._exit``) when it opens a file whose name
    contains ``marker``, as a crash in a decoder would."""

    name = "test-kill-on"

    def __init__(self, marker: str):
        self.marker = marker

    def setup(self, worker) -> None:
        import core.media as media

        original = media.open_recording
        marker = self.marker

        def open_or_die(path):
            if marker in os.fspath(path):
                os._exit(71)
            return original(path)

        media.open_recording = open_or_die
