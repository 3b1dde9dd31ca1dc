"""A reverb test for music: does putting one side in a room make the pair match better?

    nice -n 10 python benchmarks/accuracy/reverb_detect.py [--generated DIR]
        [--splits tune,heldout,...] [--unseen DIR] [--rate-hz R]

A probe, not a rule of the pipeline (issue 16). Main's reverb check measures each side
alone (how fast it can fall silent) and cannot tell a piano in a room from a piano
against an organ: a piano's decay is an exponential like a room's. A room also smears
pitch, though: after a chord change a reverberant side still holds the previous chord
for the room's decay time, where a dry piano's dampers cut it. Chroma is level-free, so
an instrument's own decay hardly moves it. The test: the normalized DTW distance of the
two sides' chroma (cosine, ``--rate-hz`` frames per second) with side A put in a room of
B's measured decay time (:func:`core.pipeline.reverb.decay_time_s`; the room is
``unseen.py``'s exponential noise tail), divided by the same with B put in a room of
A's decay time. Below 1: A reverberated matches B better than B reverberated matches A,
so B is the more reverberant side; above 1, A. The printed ``score`` is
``min(ratio, 1 / ratio)`` with the side it points at.

It runs on the generated audio pairs (``generalize.py audio``, cached under
``--generated``), the public audio pairs and the reverberant copies of ``unseen.py``
(cached under ``--unseen``; run ``unseen.py --transforms reverb0.6,reverb,reverb2.0``
first to make them).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import unseen  # noqa: E402  (pairs, data set and the room of the reverb transforms)

ROOMS = ("reverb0.6", "reverb", "reverb2.0")
DEFAULT_DECAY_S = 0.5  # a side whose decay time is unknown (a drone) gets this room


def _mono(path):
    import soundfile as sf

    x, sr = sf.read(path, dtype="float32", always_2d=True)
    return x.mean(axis=1), float(sr)


def _in_room(x, sample_rate, decay_s):
    from scipy.signal import fftconvolve

    room = unseen._reverb_ir(int(sample_rate), decay_s)
    return fftconvolve(x, room)[:x.shape[0]].astype(np.float32)


def _chroma(x, sample_rate, rate_hz):
    from core.features import audio_features

    return np.asarray(audio_features(x, sample_rate, "chroma", rate_hz=rate_hz).values)


def room_ratio(xa, sr_a, xb, sr_b, rate_hz=10.0):
    """``(ratio, decay_a_s, decay_b_s)``: the chroma distance with A in B's room over
    the distance with B in A's room (below 1: B is the more reverberant side)."""
    from core.pipeline.reverb import decay_time_s
    from core.warping import dtw

    decay_a = decay_time_s(xa, sr_a) or DEFAULT_DECAY_S
    decay_b = decay_time_s(xb, sr_b) or DEFAULT_DECAY_S
    fa, fb = _chroma(xa, sr_a, rate_hz), _chroma(xb, sr_b, rate_hz)
    a_in_room = _chroma(_in_room(xa, sr_a, decay_b), sr_a, rate_hz)
    b_in_room = _chroma(_in_room(xb, sr_b, decay_a), sr_b, rate_hz)
    d_a = dtw(a_in_room, fb, metric="cosine").normalized_distance
    d_b = dtw(fa, b_in_room, metric="cosine").normalized_distance
    return float(d_a / d_b), decay_a, decay_b


def _pairs(args):
    for split in [s for s in args.splits.split(",") if s]:
        for folder in sorted((Path(args.generated) / "audio" / split).glob("*")):
            if (folder / "a.wav").exists():
                yield f"{split}/{folder.name}", folder / "a.wav", folder / "b.wav"
    for folder in sorted((unseen.DATA / "public").glob("*/*")):
        if folder.parent.name in ("music", "speech", "realaudio"):
            yield f"public/{folder.name}", folder / "a.wav", folder / "b.wav"
    for pair, rel in unseen.PAIRS.items():
        for room in ROOMS:
            copy = Path(args.unseen) / f"{pair}_{room}.wav"
            if copy.exists():
                yield f"unseen/{pair}_{room}", unseen.DATA / rel / "a.wav", copy


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generated", default="/tmp/ai-generalize")
    ap.add_argument("--splits", default="tune,heldout,heldout2,heldout3")
    ap.add_argument("--unseen", default="/tmp/ai-unseen")
    ap.add_argument("--rate-hz", type=float, default=10.0)
    args = ap.parse_args(argv)
    if not 0 < args.rate_hz <= 50:
        ap.error(f"--rate-hz: expected a rate in (0, 50], got {args.rate_hz}")
    for name, path_a, path_b in _pairs(args):
        (xa, sr_a), (xb, sr_b) = _mono(path_a), _mono(path_b)
        t0 = time.process_time()
        ratio, decay_a, decay_b = room_ratio(xa, sr_a, xb, sr_b, args.rate_hz)
        cpu_ms = 1000.0 * (time.process_time() - t0)
        side, score = ("b", ratio) if ratio <= 1 else ("a", 1.0 / ratio)
        print(f"{name:34s} score {score:.3f} ({side})  decays {decay_a:.2f} / "
              f"{decay_b:.2f} s  cpu {cpu_ms:.0f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
