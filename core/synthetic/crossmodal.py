"""Video-against-audio pairs: a melody played (audio) and acted out (video) under two
different tempo maps, with the shared events known exactly.

``MOTIONS``: how the video shows the events.

- ``bounce``: a ball lands on a floor at every note (fast motion reverses: a motion peak);
- ``pendulum``: a bob swings and turns at every note (the motion stops and reverses: a
  motion *minimum*, the change of direction);
- ``conductor``: a baton sweeps in a four-beat pattern, its ictus (a sharp bounce, fast
  reversal) on every note;
- ``cuts``: a cut to another scene on the first note of every bar, slow drift in between.

The audio plays the melody with one instrument of :data:`core.synthetic.music.TIMBRES`
(the seed picks it). The ground truth lists the shared events: every note, or for
``cuts`` the notes the cuts fall on.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .music import SR, render, tempo_map

__all__ = ["INSTRUMENTS", "MOTIONS", "make_crossmodal_pair", "render_motion"]

MOTIONS = ("bounce", "pendulum", "conductor", "cuts")
INSTRUMENTS = ("piano", "plucked", "marimba", "organ")


def _melody(rng, n_events):
    """Monophonic events (pitches, beats) on a 4-beat bar grid."""
    events = []
    pitch = int(rng.integers(60, 72))
    for _ in range(n_events):
        pitch = int(np.clip(pitch + rng.integers(-4, 5), 52, 84))
        beats = float(rng.choice([0.5, 1.0, 1.0, 1.0, 1.5, 2.0]))
        events.append(((pitch,), beats))
    return events


def _times(rng, events, kind, lead):
    beats = np.concatenate([[0.0], np.cumsum([b for _, b in events])])
    grid, secs = tempo_map(rng, beats[-1], kind)
    return lead + np.interp(beats, grid, secs), beats


def render_motion(motion, events_s, fps, duration_s, seed=0, size=(160, 120), bars=None):
    """BGR frames acting out the event times ``events_s`` (see ``MOTIONS``)."""
    import cv2

    rng = np.random.default_rng(seed)
    w, h = size
    n = int(np.ceil(duration_s * fps))
    ev = np.asarray(events_s, dtype=np.float64)
    bg = np.zeros((h, w, 3), np.uint8)
    bg[:] = (50, 40, 30)
    scenes = [np.clip(cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 6)
                      * 900 - 300, 0, 255).astype(np.uint8) for _ in range(6)]
    frames = []
    for k in range(n):
        t = k / fps
        i = int(np.searchsorted(ev, t, side="right")) - 1
        if 0 <= i < len(ev) - 1:
            s = (t - ev[i]) / (ev[i + 1] - ev[i])
        elif i < 0:
            s = 1.0 - min(1.0, (ev[0] - t) / 0.8)
        else:
            s = min(1.0, (t - ev[-1]) / 0.8)
        im = bg.copy()
        if motion == "bounce":
            x = int(w * (0.2 + 0.6 * ((i + s) % 8) / 8))
            y = int(h * 0.8 - h * 0.55 * 4 * s * (1 - s))
            cv2.circle(im, (x, y), 9, (80, 200, 250), -1, lineType=cv2.LINE_AA)
        elif motion == "pendulum":
            side = 1.0 if i % 2 == 0 else -1.0
            angle = 0.7 * side * np.cos(np.pi * s)
            x = int(w / 2 + 0.75 * h * np.sin(angle))
            y = int(0.1 * h + 0.75 * h * np.cos(angle))
            cv2.line(im, (w // 2, int(0.1 * h)), (x, y), (200, 200, 200), 2)
            cv2.circle(im, (x, y), 10, (60, 120, 240), -1, lineType=cv2.LINE_AA)
        elif motion == "conductor":
            # four-beat pattern: down, left, right, up; the ictus at every note
            targets = [(0.5, 0.85), (0.2, 0.6), (0.8, 0.6), (0.5, 0.3)]
            p0 = np.array(targets[i % 4 if i >= 0 else 0])
            p1 = np.array(targets[(i + 1) % 4 if i >= 0 else 0])
            lift = 0.25 * np.sin(np.pi * s)  # rebound after the ictus
            pos = p0 + (p1 - p0) * s ** 2 - np.array([0.0, lift])
            x, y = int(pos[0] * w), int(pos[1] * h)
            cv2.line(im, (w // 2, h - 5), (x, y), (230, 230, 230), 3, lineType=cv2.LINE_AA)
        elif motion == "cuts":
            j = int(np.searchsorted(bars, t, side="right")) - 1 if bars is not None else 0
            scene = scenes[j % len(scenes)] if j >= 0 else bg
            dx = int(6 * s)
            im = np.roll(scene, dx, axis=1)
        else:
            raise ValueError(f"motion: expected one of {MOTIONS}, got {motion!r}")
        noise = rng.normal(0, 3.0, im.shape)
        frames.append(np.clip(im.astype(np.float32) + noise, 0, 255).astype(np.uint8))
    return frames


def make_crossmodal_pair(out_dir, motion, seed=0, n_events=28, fps=None):
    """Write ``video.mp4`` (A), ``audio.wav`` (B), ``gt.csv`` (event_id, time_a_s,
    time_b_s) and ``meta.json``; returns the folder."""
    import soundfile as sf

    from .video import write_frames

    if motion not in MOTIONS:
        raise ValueError(f"motion: expected one of {MOTIONS}, got {motion!r}")
    rng = np.random.default_rng(seed)
    events = _melody(rng, n_events)
    fps = float(fps or rng.choice([25.0, 30.0]))
    instrument = str(rng.choice(INSTRUMENTS))
    kinds = ("smooth", "abrupt") if seed % 2 == 0 else ("abrupt", "smooth")
    tv, beats = _times(rng, events, kinds[0], float(rng.uniform(0.5, 1.5)))
    xb, ob = render(rng, events, instrument, kinds[1], float(rng.uniform(0.3, 1.5)))
    ev_v = tv[:-1]
    duration_v = float(tv[-1] + 1.0)
    bar_notes = np.flatnonzero(np.isclose(np.mod(beats[:-1], 4.0), 0.0))
    bars = ev_v[bar_notes] if motion == "cuts" else None
    frames = render_motion(motion, ev_v, fps, duration_v, seed, bars=bars)
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    write_frames(d / "video.mp4", frames, fps)
    sf.write(d / "audio.wav", xb, SR, subtype="PCM_16")
    shared = bar_notes if motion == "cuts" else np.arange(len(ev_v))
    with open(d / "gt.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event_id", "time_a_s", "time_b_s"])
        for i in shared:
            w.writerow([int(i), f"{ev_v[i]:.6f}", f"{ob[i]:.6f}"])
    (d / "meta.json").write_text(json.dumps(
        {"motion": motion, "seed": seed, "fps": fps, "instrument": instrument,
         "tempo": kinds, "duration_a_s": len(frames) / fps, "duration_b_s": len(xb) / SR,
         "n_events": int(len(shared))}))
    return d
