"""Playback clock against the sound actually played, on a PulseAudio null sink.

A and B are time-coded signals (A's sample at t seconds is ``t / 1000``, B's ``-t / 1000``,
float32 throughout), so every sample the null sink plays says which recording sounds and
where. ``parec`` records the sink's monitor in 2 ms fragments; each fragment is stamped
with ``time.monotonic()`` on arrival, so the last sample of a fragment was played about
then (the monitor path adds its own delay: about a fragment). Meanwhile the real window
code (PlaybackController, SoundDeviceOutput through PortAudio -> ALSA's pulse plugin ->
the null sink) moves the cursor.

Each cursor update is compared with the code the sink played at that moment.

Also measured: first sound after Play (A leads; B warped onto A on a music pair), where
a switch lands (the code just after a switch vs the aligned point of the code just
before), underruns, and the same cursor error on the silent clock (no device: its
"played" position is the monotonic clock itself).

Run (a user PulseAudio daemon with a float null sink; see README.md here):
    pulseaudio -D --exit-idle-time=-1 --system=false
    pactl load-module module-null-sink sink_name=bench format=float32le rate=44100
    pactl set-default-sink bench
    QT_QPA_PLATFORM=offscreen python benchmarks/playback/bench_clock.py --seconds 600
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

RATE = 44100
SCALE = 1000.0


class MonitorCapture:
    """``parec`` on the null sink's monitor; (arrival monotonic time, last code) pairs."""

    def __init__(self, source="bench.monitor", fragment_ms=2):
        self.proc = subprocess.Popen(
            ["parec", "-d", source, "--format=float32le", f"--rate={RATE}", "--channels=2",
             f"--latency-msec={fragment_ms}", "--raw"], stdout=subprocess.PIPE, bufsize=0)
        self.samples: list[tuple[float, float, float]] = []  # (arrival, code L, code R)
        self.first_sound: float | None = None
        self.blocks: list[tuple[float, np.ndarray]] = []
        self.keep_blocks = False
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        fd = self.proc.stdout.fileno()
        pending = b""
        while not self._stop:
            data = os.read(fd, 8192)
            now = time.monotonic()
            if not data:
                break
            pending += data
            usable = len(pending) // 8 * 8
            if not usable:
                continue
            frames = np.frombuffer(pending[:usable], dtype=np.float32).reshape(-1, 2)
            pending = pending[usable:]
            if self.first_sound is None and np.any(frames != 0):
                self.first_sound = now
            self.samples.append((now, float(frames[-1, 0]), float(frames[-1, 1])))
            if self.keep_blocks:
                self.blocks.append((now, frames.copy()))

    def close(self):
        self._stop = True
        self.proc.terminate()
        self.proc.wait(timeout=5)


def _time_coded(folder, seconds):
    n = int(seconds * RATE)
    a = (np.arange(n) / RATE / SCALE).astype(np.float32)
    soundfile.write(folder / "a.wav", a, RATE, subtype="FLOAT")
    soundfile.write(folder / "b.wav", -(np.arange(int(n * 1.25)) / RATE / SCALE
                                        ).astype(np.float32), RATE, subtype="FLOAT")
    return folder / "a.wav", folder / "b.wav"


def _session(app, a, b, alignment):
    from core.media import open_recording
    from inspector.session import Session

    s = Session()
    s.set_recording("a", open_recording(a))
    s.set_recording("b", open_recording(b))
    s.add_alignment(alignment)
    return s


def _linear_alignment(dur_a, ratio=1.25, fr=100):
    from core.alignment import Alignment

    i = np.arange(int(dur_a * fr))
    return Alignment(np.stack([i, np.round(ratio * i)], 1).astype(int), fr, fr)


def _run_loop(app, seconds, on_tick=None):
    from PySide6.QtCore import QTimer

    end = time.monotonic() + seconds
    timer = QTimer()
    timer.setInterval(5)

    def check():
        if on_tick is not None:
            on_tick()
        if time.monotonic() >= end:
            app.quit()

    timer.timeout.connect(check)
    timer.start()
    app.exec()
    timer.stop()


def cursor_error(app, folder, seconds, *, silent: bool):
    """Play A from 0 for ``seconds``; the cursor (as logged at each tick) against the code
    the monitor heard (null sink), or against the monotonic clock (silent)."""
    from inspector.playback import PlaybackController
    from inspector.playback.devices import SilentOutput, SoundDeviceOutput

    a, b = _time_coded(folder, seconds + 5)
    session = _session(app, a, b, _linear_alignment(seconds + 5))
    factory = (lambda: SilentOutput(RATE)) if silent else (lambda: SoundDeviceOutput(RATE))
    c = PlaybackController(session, device_factory=factory)
    log: list[tuple[float, float]] = []
    session.cursor_moved.connect(lambda ta, tb: log.append((time.monotonic(), ta)))
    _run_loop(app, 3.0)  # as in the window: the warm-up thread is done before Play
    capture = None if silent else MonitorCapture()
    time.sleep(0.5)
    c.play()
    started = time.monotonic()
    device_start = getattr(c.device, "_start", started)
    _run_loop(app, seconds)
    underruns = c.device.underruns if c.device is not None else 0
    starved = c.mixer.starved_frames if c.mixer is not None else 0
    held_s = (c.mixer.sound_started or 0) / c.device.rate_hz if c.mixer is not None else 0.0
    c.shutdown()
    log_t = np.array([t for t, _ in log])
    log_a = np.array([a for _, a in log])
    if silent:
        # what the silent clock "plays" is the monotonic clock since the device started
        keep = log_t > started + 1.0
        errors = log_a[keep] - (log_t[keep] - device_start - held_s)
        times = log_t[keep] - started
    else:
        capture.close()
        heard = np.array([(t, code * SCALE) for t, code, _ in capture.samples if code > 0])
        # each cursor update against the code the sink was playing at that moment (the
        # monitor's fragments interpolated; between updates the line stays put, as any
        # cursor between screen refreshes)
        keep = (log_t > started + 1.0) & (log_t < heard[-1, 0]) & (log_t > heard[0, 0])
        errors = log_a[keep] - np.interp(log_t[keep], heard[:, 0], heard[:, 1])
        times = log_t[keep] - started
    return _summary(errors, times, underruns=underruns, starved=starved)


def _summary(errors, times, **extra):
    errors = np.asarray(errors) * 1000.0
    abs_e = np.abs(errors - 0.0)
    first = errors[times < times.min() + 60]
    last = errors[times > times.max() - 60]
    return {"n": int(len(errors)), "median_abs_ms": float(np.median(abs_e)),
            "p95_abs_ms": float(np.percentile(abs_e, 95)),
            "mean_ms": float(np.mean(errors)),
            "drift_ms": float(np.median(last) - np.median(first)),
            "duration_s": float(times.max() - times.min()), **extra}


def _device_first_sound(app, c, t_play, timeout=5.0):
    """Milliseconds from Play until the device's own clock says the first sounding frame
    is played (its played-frame count reaches the mixer's first sounding frame)."""
    end = t_play + timeout
    while time.monotonic() < end:
        app.processEvents()
        mixer, device = c.mixer, c.device
        if mixer is not None and device is not None and mixer.sound_started is not None:
            now = time.monotonic()
            if device.played_frames(now) >= mixer.sound_started:
                return 1000 * (now - t_play)
        time.sleep(0.0005)
    return None


def first_sound_and_switch(app, folder):
    """First sound after Play (A leads, time-coded; B warped onto A, music pair) and the
    position a switch lands on."""
    from inspector.playback import PlaybackController
    from inspector.playback.devices import SoundDeviceOutput

    results = {}
    a, b = _time_coded(folder, 20)
    al = _linear_alignment(25)
    session = _session(app, a, b, al)
    c = PlaybackController(session, device_factory=lambda: SoundDeviceOutput(RATE))
    _run_loop(app, 3.0)  # the prefetch thread's warm-up (numba kernels) is done
    capture = MonitorCapture()
    capture.keep_blocks = True
    time.sleep(0.5)
    t_play = time.monotonic()
    c.play()
    results["first_sound_a_device_ms"] = _device_first_sound(app, c, t_play)
    _run_loop(app, 2.0)
    results["first_sound_a_monitor_ms"] = 1000 * (capture.first_sound - t_play)
    switches = []
    for _ in range(5):
        capture.blocks.clear()
        c.switch()
        _run_loop(app, 0.8)
        codes = np.concatenate([f[:, 0] for _, f in capture.blocks]) * SCALE
        flip = int(np.flatnonzero(np.sign(codes[1:]) != np.sign(codes[:-1]))[0]) + 1
        # the crossfade starts where the code stops being a ramp of one sample per sample
        if os.environ.get("DEBUG_SWITCH"):
            print(np.array2string(codes[flip - 900:flip + 30:30], precision=6), flush=True)
        steps = np.abs(np.diff(codes[:flip]))
        ramp = np.abs(steps - 1.0 / RATE) < 0.1 / RATE
        j = flip - 1  # walk back through the crossfade to the last step of the ramp
        while j > 0 and not ramp[j - 1]:
            j -= 1
        before = abs(codes[j]) + 1.0 / RATE  # the old recording's time at sample j + 1
        fade = int(0.02 * RATE)
        after = codes[j + 1 + fade + 10]
        elapsed = (fade + 10) / RATE
        if codes[j] > 0:  # A -> B
            landed = abs(after) - (al.map_a_to_b(before) + elapsed)
        else:  # B -> A
            landed = after - (al.map_b_to_a(before) + elapsed)
        print(f"switch: crossfade from {before:.4f} s, then {after:.4f} s, off by "
              f"{1000 * landed:.2f} ms", flush=True)
        switches.append(float(1000 * abs(landed)))
    results["switch_error_ms"] = switches
    c.shutdown()
    capture.close()
    return results


def first_sound_warped(app, pair):
    """Play in "B warped onto A" on a music pair (the first chunk is stretched after
    Play); five starts at different places."""
    from core.pipeline import align_files
    from inspector.playback import PlaybackController
    from inspector.playback.devices import SoundDeviceOutput

    a, b = pair
    al = align_files(a, b)
    session = _session(app, a, b, al)
    c = PlaybackController(session, device_factory=lambda: SoundDeviceOutput(RATE))
    c.set_mode("warped")
    _run_loop(app, 3.0)
    out = []
    capture = MonitorCapture()
    time.sleep(1.0)
    for start in (1.0, 7.0, 13.0, 19.0, 24.0):
        capture.first_sound = None
        session.move_cursor("a", start)
        t_play = time.monotonic()
        c.play()
        device_ms = _device_first_sound(app, c, t_play)
        _run_loop(app, 1.5)
        started = c.mixer.sound_started if c.mixer is not None else None
        c.pause()
        _run_loop(app, 0.5)
        heard = capture.first_sound
        heard_ms = None if heard is None else 1000 * (heard - t_play)
        print(f"warped from {start} s: first sounding frame {started}, played at "
              f"{device_ms:.0f} ms by the device's clock, in the monitor at "
              f"{heard_ms:.0f} ms", flush=True)
        out.append({"device_ms": device_ms, "monitor_ms": heard_ms})
    capture.close()
    c.shutdown()
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--out", default=str(Path(__file__).with_name("clock.json")))
    parser.add_argument("--only", choices=("sink", "silent", "start", "switch"), default=None)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.only in (None, "start", "switch"):
            results.update(first_sound_and_switch(app, folder))
            print(json.dumps(results), flush=True)
        if args.only in (None, "start"):
            data = REPO.parent / "shared" / "data" / "public" / "music" / "music_p03_k545"
            if data.is_dir():
                results["first_sound_warped_ms"] = first_sound_warped(
                    app, (data / "a.wav", data / "b.wav"))
            print(json.dumps(results, indent=1), flush=True)
        if args.only in (None, "sink"):
            results["null_sink"] = cursor_error(app, folder, args.seconds, silent=False)
            print(json.dumps(results["null_sink"], indent=1), flush=True)
        if args.only in (None, "silent"):
            results["silent"] = cursor_error(app, folder, min(args.seconds, 600), silent=True)
            print(json.dumps(results["silent"], indent=1), flush=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
