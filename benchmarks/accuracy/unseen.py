"""The default audio pipeline on transformed copies of real recordings (issue 16).

    nice -n 10 python benchmarks/accuracy/unseen.py [--out RESULTS.json] [--pairs SUBSTR,...]
        [--transforms NAME,...] [--cache DIR] [--timeout-s S]
    python benchmarks/accuracy/unseen.py --table BEFORE.json [AFTER.json] [--md OUT.md]

Four public pairs of ``../shared/data`` (Mozart K.545 piano vs harpsichord, the Bach
chorale BWV 66.6 piano vs strings, Harvard sentences by two voices, the real "Vibe Ace"
recording against a stretched copy) have B replaced by a transformed copy (gain, an
inverted channel, DC, mains hum, a key shift, band limits, reverb, noise, clipping,
lossy compression, other sample rates, tempo changes (and, as their control, a
phase-vocoder stretch and back at the same tempo), silence padding, and unrelated
material before or after B: speech in the voice of harvard1's A or in another, an organ
chorale, pink noise); the ground truth follows the transform. Every copy goes through
``core.align_files`` with the defaults and is scored with the data set's
``eval_alignment.py`` (mean absolute error in ms over the events); a refusal (a
``ValueError`` or ``MediaError``), a crash (any other exception) or a hang (over
``--timeout-s``) is reported as such; each result's warning (``diagnostics["warning"]``,
e.g. a part of B that A lacks) is kept. Generated files are cached under ``--cache``
(default ``/tmp/ai-unseen``), never in the repo.

Run it with ``PYTHONPATH`` pointing at the checkout to measure (the before/after table
of ``benchmarks/accuracy/unseen.md`` compares two such runs).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import signal
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[2] / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")
PAIRS = {
    "k545": "public/music/music_p03_k545",
    "bwv66.6": "public/music/music_p01_bwv66.6",
    "harvard1": "public/speech/speech_p01_harvard1",
    "vibeace": "public/realaudio/realaudio_p01_vibeace_0-30s",
}
# run only when named in --pairs (exactly): pairs for a check's fresh rows
EXTRA_PAIRS = {"harvard2": "public/speech/speech_p02_harvard2"}
# unrelated recordings for lead-ins and tails: material no pair above contains
# (harvard2's A: a US male voice of the synthesizer that speaks harvard1's A; its B: the
# same voice, fast; bwv269's A: a chorale on a church organ)
PREFIX_SOURCE = "public/speech/speech_p02_harvard2/a.wav"
EXTRA_SOURCES = {"": PREFIX_SOURCE, "speech": "public/speech/speech_p02_harvard2/b.wav",
                 "music": "public/music/music_p02_bwv269/a.wav", "noise": None}
TRANSFORMS = ("gain+20", "gain-20", "invert-channel", "dc", "hum60", "key+2", "telephone",
              "lowpass2k", "reverb", "reverb0.6", "reverb2.0", "reverb0.9", "reverb-seed1",
              "reverb0.75",
              "noise20", "noise10", "noise0",
              "clip", "vorbis", "mp3", "sr8k", "sr96k", "tempo0.6", "tempo1.5", "tempo0.5",
              "tempo0.7", "tempo0.8", "vocoder0.6", "vocoder0.5", "prefix8",
              "prefix14", "pad-silence", "suffix8", "speech-prefix8", "music-prefix8",
              "noise-prefix8", "music-suffix8")


# ------------------------------------------------------------------ transforms
# each returns (samples (n,) or (n, ch), sample rate, map of B times old -> new, suffix)


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _resample(x, sr_in, sr_out):
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(x, int(sr_out) // g, int(sr_in) // g).astype(np.float32)


def _butter(x, sr, kind, cutoff_hz, order=6):
    from scipy.signal import butter, sosfiltfilt

    sos = butter(order, cutoff_hz, btype=kind, fs=sr, output="sos")
    return sosfiltfilt(sos, x).astype(np.float32)


def _stretch(x, rate, n_fft=512, hop=128):
    """Phase-vocoder time stretch: the output lasts ``len(x) / rate`` (rate < 1: slower),
    pitch kept. Short frames keep onsets in place (a click train lands within 8 ms of
    ``t / rate``; 2048-sample frames smeared them by up to 57 ms)."""
    from scipy.signal import get_window

    win = get_window("hann", n_fft).astype(np.float64)
    pad = np.concatenate([np.zeros(n_fft), x.astype(np.float64), np.zeros(n_fft)])
    n_frames = 1 + (len(pad) - n_fft) // hop
    spec = np.stack([np.fft.rfft(win * pad[k * hop:k * hop + n_fft])
                     for k in range(n_frames)])
    steps = np.arange(0, n_frames - 1, rate)
    omega = 2 * np.pi * hop * np.arange(n_fft // 2 + 1) / n_fft
    phase = np.angle(spec[0])
    out = np.zeros(len(steps) * hop + n_fft)
    norm = np.zeros_like(out)
    for t, step in enumerate(steps):
        k = int(step)
        frac = step - k
        mag = (1 - frac) * np.abs(spec[k]) + frac * np.abs(spec[k + 1])
        frame = np.fft.irfft(mag * np.exp(1j * phase), n_fft) * win
        out[t * hop:t * hop + n_fft] += frame
        norm[t * hop:t * hop + n_fft] += win ** 2
        dphi = np.angle(spec[k + 1]) - np.angle(spec[k]) - omega
        dphi -= 2 * np.pi * np.round(dphi / (2 * np.pi))
        phase = phase + omega + dphi
    out /= np.maximum(norm, 1e-3)
    # output frame t (centre t * hop + n_fft / 2) reads input frame t * rate (its centre
    # t * rate * hop + n_fft / 2 in the padded input): input sample s lands at s / rate
    start = int(round(n_fft * (1 + rate) / (2 * rate)))
    n_out = int(round(len(x) / rate))
    return out[start:start + n_out].astype(np.float32)


def _reverb_ir(sr, rt60_s=1.2, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(rt60_s * 1.5 * sr)) / sr
    ir = rng.standard_normal(t.size) * np.exp(-6.9 * t / rt60_s)
    ir[0] = 1.0  # the direct sound
    return ir / np.sqrt(np.sum(ir ** 2))


def _noise(x, snr_db, seed=1):
    rng = np.random.default_rng(seed)
    n = rng.standard_normal(x.shape[0]).astype(np.float32)
    return x + n * (_rms(x) / _rms(n) * 10 ** (-snr_db / 20))


def _extra(x, sr, seconds, source=PREFIX_SOURCE, after=False):
    """``seconds`` of ``source`` (a file of the data set; None: pink noise) at B's level,
    before B (or after it)."""
    import soundfile as sf

    n = int(seconds * sr)
    if source is None:
        white = np.fft.rfft(np.random.default_rng(2).standard_normal(n))
        other = np.fft.irfft(white / np.sqrt(np.maximum(np.arange(white.size), 1)), n)
    else:
        other, sr_o = sf.read(DATA / source, dtype="float32", always_2d=True)
        other = other.mean(axis=1)
        if sr_o != sr:
            other = _resample(other, sr_o, sr)
    other = (np.resize(other, n) * (_rms(x) / max(_rms(other), 1e-9))).astype(np.float32)
    return np.concatenate([x, other] if after else [other, x])


def _identity(t):
    return t


def transform(name, x, sr):
    """B's samples ``x`` (n,) at ``sr`` transformed: (samples, rate, time map, suffix)."""
    same = _identity
    if "prefix" in name or "suffix" in name:  # [KIND-]prefixS / [KIND-]suffixS
        kind, _, where = name.rpartition("-")
        seconds = float(where[6:])
        after = where.startswith("suffix")
        y = _extra(x, sr, seconds, EXTRA_SOURCES[kind], after=after)
        return y, sr, (_identity if after else (lambda t: t + seconds)), ".wav"
    if name.startswith("gain"):
        return x * 10 ** (float(name[4:]) / 20), sr, same, ".wav"
    if name == "invert-channel":  # a stereo copy whose right channel has its polarity flipped
        return np.column_stack([x, -x]), sr, same, ".wav"
    if name == "dc":
        return x + 0.3 * float(np.max(np.abs(x))), sr, same, ".wav"
    if name == "hum60":  # mains hum and harmonics at the level of the signal
        t = np.arange(x.shape[0]) / sr
        hum = sum(a * np.sin(2 * np.pi * 60 * k * t + k)
                  for k, a in ((1, 1.0), (2, 0.5), (3, 0.3), (4, 0.2), (5, 0.1)))
        return x + hum.astype(np.float32) * (_rms(x) / _rms(hum)), sr, same, ".wav"
    if name == "key+2":  # played faster: pitch up two semitones, times divided by the ratio
        ratio = 2 ** (2 / 12)
        return _resample(x, int(round(sr * ratio)), sr), sr, (lambda t: t / ratio), ".wav"
    if name == "telephone":
        y = _butter(_butter(x, sr, "highpass", 300.0), sr, "lowpass", 3400.0)
        return y, sr, same, ".wav"
    if name == "lowpass2k":
        return _butter(x, sr, "lowpass", 2000.0), sr, same, ".wav"
    if name.startswith("reverb"):  # "reverb": RT60 1.2 s; "reverb0.6": 0.6 s;
        from scipy.signal import fftconvolve  # "reverb-seed1": 1.2 s, another noise tail

        rest = name[6:]
        seed = int(rest[5:]) if rest.startswith("-seed") else 0
        rt60_s = 1.2 if rest.startswith("-seed") else float(rest or 1.2)
        y = fftconvolve(x, _reverb_ir(sr, rt60_s, seed))[:x.shape[0]]
        return (y * _rms(x) / _rms(y)).astype(np.float32), sr, same, ".wav"
    if name.startswith("noise"):
        return _noise(x, float(name[5:])), sr, same, ".wav"
    if name == "clip":  # hard clipping at a tenth of the peak
        peak = 0.1 * float(np.max(np.abs(x)))
        return np.clip(x, -peak, peak) * 5.0, sr, same, ".wav"
    if name == "vorbis":
        return x, sr, same, ".ogg"
    if name == "mp3":
        return x, sr, same, ".mp3"
    if name == "sr8k":
        return _resample(x, sr, 8000), 8000, same, ".wav"
    if name == "sr96k":
        return _resample(x, sr, 96000), 96000, same, ".wav"
    if name.startswith("tempo"):
        rate = float(name[5:])
        return _stretch(x, rate), sr, (lambda t: t / rate), ".wav"
    if name.startswith("vocoder"):  # the tempo copies' artifacts at B's own tempo: a
        # stretch to ``rate`` and back (a control for the tempo rows)
        rate = float(name[7:])
        y = _stretch(_stretch(x, rate), 1.0 / rate)[:x.shape[0]]
        return y, sr, same, ".wav"
    if name == "pad-silence":
        z = np.zeros(int(6.0 * sr), dtype=np.float32)
        return np.concatenate([z, x, z[:int(4.0 * sr)]]), sr, (lambda t: t + 6.0), ".wav"
    raise ValueError(f"unknown transform {name!r}")


def make_pair(pair, name, cache):
    """Write (or reuse) B's transformed copy: (path A, path B, gt A, gt B)."""
    import soundfile as sf

    pair_dir = DATA / {**PAIRS, **EXTRA_PAIRS}[pair]
    ev = load_eval()
    ga, gb = ev.load_gt(str(pair_dir))
    x, sr = sf.read(pair_dir / "b.wav", dtype="float32", always_2d=True)
    y, sr_out, time_map, suffix = transform(name, x.mean(axis=1), sr)
    out = cache / f"{pair}_{name}{suffix}"
    if not out.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name("tmp_" + out.name)
        if suffix == ".wav":
            sf.write(tmp, y, sr_out, subtype="FLOAT")
        elif suffix == ".ogg":
            sf.write(tmp, y, sr_out, format="OGG", subtype="VORBIS")
        else:
            sf.write(tmp, y, sr_out, format="MP3", subtype="MPEG_LAYER_III")
        tmp.rename(out)
    return pair_dir / "a.wav", out, ga, np.asarray([time_map(t) for t in gb])


def load_eval():
    spec = importlib.util.spec_from_file_location("eval_alignment", DATA / "eval_alignment.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Hang


def run_one(pair, name, cache, timeout_s):
    from core import align_files

    pair_dir = DATA / {**PAIRS, **EXTRA_PAIRS}[pair]
    path_a, path_b, ga, gb = make_pair(pair, name, cache) if name != "none" else (
        pair_dir / "a.wav", pair_dir / "b.wav", *load_eval().load_gt(str(pair_dir)))
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(int(timeout_s))
    t0 = time.perf_counter()
    try:
        al = align_files(path_a, path_b)
    except _Hang:
        return {"status": "hang", "time_s": round(time.perf_counter() - t0, 2)}
    except ValueError as exc:  # a refusal names its reason (MediaError is a ValueError)
        return {"status": "refused", "reason": str(exc)[:200],
                "time_s": round(time.perf_counter() - t0, 2)}
    except Exception as exc:  # noqa: BLE001 - a crash is what the audit looks for
        kind = type(exc).__name__
        status = "refused" if kind == "MediaError" else "crash"
        return {"status": status, "reason": f"{kind}: {exc}"[:200],
                "time_s": round(time.perf_counter() - t0, 2)}
    finally:
        signal.alarm(0)
    elapsed = time.perf_counter() - t0
    s = load_eval().score(ga, gb, np.asarray(al.times_s), "a2b")
    d = al.diagnostics
    return {"status": "ok", "mae_ms": round(float(s["mae_ms"]), 1),
            "time_s": round(elapsed, 2), "material": d.get("material"),
            "aligned_part": d.get("aligned_part"), "warning": d.get("warning"),
            "fixes": {k: d[k] for k in ("key", "hum", "noise", "band", "reverb", "clipping",
                                        "held_low")
                      if k in d}}


def _cell(r):
    if r is None:
        return "-"
    if r["status"] == "ok":
        return f"{r['mae_ms']:.1f}"
    return r["status"]


def table(runs, labels):
    pairs = list(PAIRS) + [p for p in EXTRA_PAIRS if any(k.startswith(f"{p}/")
                                                         for run in runs for k in run)]
    names = ["none"] + [t for t in TRANSFORMS]
    head = "| transform | " + " | ".join(pairs) + " |"
    lines = [head, "|---|" + "---|" * len(pairs)]
    for name in names:
        if not any(f"{p}/{name}" in run for run in runs for p in pairs):
            continue
        cells = []
        for p in pairs:
            vals = [_cell(run.get(f"{p}/{name}")) for run in runs]
            cells.append(" → ".join(vals) if len(set(vals)) > 1 else vals[0])
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Mean absolute error in ms over the ground-truth events (" +
                 " → ".join(labels) + " where they differ);")
    lines.append("refused: the pipeline raised a ValueError (a crash or a hang would say so).")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--pairs", default="")
    ap.add_argument("--transforms", default="")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ai-unseen"))
    ap.add_argument("--timeout-s", type=float, default=300.0)
    ap.add_argument("--table", nargs="+", type=Path)
    ap.add_argument("--md", type=Path)
    args = ap.parse_args(argv)
    if args.table:
        runs = [json.loads(p.read_text()) for p in args.table]
        text = table(runs, [p.stem for p in args.table])
        if args.md:
            args.md.write_text(text + "\n")
        print(text)
        return 0
    pairs = [p for p in PAIRS if not args.pairs or any(s in p for s in args.pairs.split(","))]
    pairs += [p for p in EXTRA_PAIRS if p in args.pairs.split(",")]
    names = ["none"] + list(TRANSFORMS)
    if args.transforms:
        names = [n for n in args.transforms.split(",") if n]
    results = json.loads(args.out.read_text()) if args.out and args.out.exists() else {}
    for pair in pairs:
        for name in names:
            r = run_one(pair, name, args.cache, args.timeout_s)
            results[f"{pair}/{name}"] = r
            extra = r.get("reason", "") or r.get("fixes", "") or ""
            print(f"{pair:9s} {name:15s} {_cell(r):>8s} {r['time_s']:6.1f} s  {extra}",
                  flush=True)
            if args.out:
                args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
