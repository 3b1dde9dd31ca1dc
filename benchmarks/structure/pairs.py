"""Structurally changed pairs from ../shared/data: B with a section repeated, dropped or
moved; the ground truth follows from the cuts.

A change takes sections of B of at least 4 s at seeded random places (cut points kept
1.5 s from the ends and from each other). B' is made of pieces of B ``[s, e)`` laid end
to end, joined with a 10 ms crossfade; for each piece every ground-truth event of B
inside it moves by the piece's offset (except events within 0.25 s of a cut's end, whose
note is cut off), so an event of A appears once per piece that
holds it (twice for a repeat, never for a dropped section). The jumps are the junctions
of B' where the source position on B is not continuous: on B' at the junction, on A
from the A time of the source position before the junction to the one after it (the
uncut ground truth's B -> A map).
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import soundfile as sf

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
if not (DATA / "index.csv").is_file():
    DATA = Path("/work/shared/data")
AUDIO_MATERIAL = ("music", "speech", "realaudio")
FADE_S = 0.01
MIN_SECTION_S = 4.0
MARGIN_S = 3.0
HIDDEN_S = 0.25


@dataclasses.dataclass
class Changed:
    pair_id: str
    change: str            # "none", "repeat", "drop", "move"
    a: Path
    b: Path                # the new B
    gt: np.ndarray         # (K, 2) time_a_s, time_b_s on the new B
    pieces: list           # [(s, e, offset)] seconds of old B and offset on new B
    jumps: list            # [{"b_s", "a_from_s", "a_to_s"}]
    duration_b_s: float


def load_pairs(min_duration_s=20.0):
    rows = list(csv.DictReader(open(DATA / "index.csv")))
    out = []
    for r in rows:
        if r["modality"] not in AUDIO_MATERIAL:
            continue
        if float(r["duration_b_s"]) < min_duration_s:
            continue
        out.append(r)
    return out


def _gt(row):
    g = list(csv.DictReader(open(DATA / row["gt_csv"])))
    return np.array([[float(x["time_a_s"]), float(x["time_b_s"])] for x in g])


def _b_to_a(gt, tb):
    order = np.argsort(gt[:, 1])
    return float(np.interp(tb, gt[order, 1], gt[order, 0]))


def _cuts(rng, lo, hi, k, min_gap):
    """k sorted cut points in [lo, hi] at least min_gap apart."""
    for _ in range(10000):
        c = np.sort(rng.uniform(lo, hi, k))
        if np.all(np.diff(c) >= min_gap):
            return [float(v) for v in c]
    raise ValueError("recording too short for the change")


def plan(change, duration, gt, rng):
    """Pieces [(s, e)] of old B making the new B."""
    first, last = max(MARGIN_S, float(gt[0, 1]) + 0.5), min(duration - MARGIN_S,
                                                            float(gt[-1, 1]) - 0.5)
    if change == "none":
        return [(0.0, duration)]
    if change == "repeat":
        x1, x2 = _cuts(rng, first, last, 2, MIN_SECTION_S)
        return [(0.0, x2), (x1, duration)]
    if change == "drop":
        x1, x2 = _cuts(rng, first, last, 2, MIN_SECTION_S)
        return [(0.0, x1), (x2, duration)]
    if change == "move":
        x1, x2, x3 = _cuts(rng, first, last, 3, MIN_SECTION_S)
        return [(0.0, x1), (x2, x3), (x1, x2), (x3, duration)]
    raise ValueError(change)


def make(row, change, out_dir, seed=0):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    b, sr = sf.read(DATA / row["file_b"], always_2d=True)
    duration = len(b) / sr
    gt = _gt(row)
    spans = plan(change, duration, gt, rng)
    fade = int(FADE_S * sr)
    parts, pieces, rows_gt, jumps = [], [], [], []
    offset = 0.0
    for k, (s, e) in enumerate(spans):
        seg = b[int(round(s * sr)):int(round(e * sr))].copy()
        if k and fade:
            ramp = np.linspace(0, 1, fade)[:, None]
            seg[:fade] *= ramp
            parts[-1][-fade:] *= ramp[::-1]
        parts.append(seg)
        # an event whose onset lies within HIDDEN_S of the piece's end is cut off on
        # the new B (its note is not heard): it has no place to be found
        end = e if k == len(spans) - 1 else e - HIDDEN_S
        inside = (gt[:, 1] >= s) & (gt[:, 1] < end)
        rows_gt.append(np.c_[gt[inside, 0], gt[inside, 1] - s + offset])
        if k:
            prev_end = spans[k - 1][1]
            jumps.append({"b_s": offset, "a_from_s": _b_to_a(gt, prev_end),
                          "a_to_s": _b_to_a(gt, s)})
        pieces.append((s, e, offset))
        offset += len(seg) / sr
    new_b = np.concatenate(parts)
    a_path = DATA / row["file_a"]
    # the seed in the name: runs of other seeds at the same time write beside it
    b_path = out_dir / f"{row['pair_id']}__{change}_{seed}.wav"
    sf.write(b_path, new_b, sr)
    return Changed(row["pair_id"], change, a_path, b_path, np.concatenate(rows_gt), pieces,
                   jumps, len(new_b) / sr)
