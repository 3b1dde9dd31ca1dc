"""Batch scaling: pairs per second on 1 and 2 local Dask workers, and audio hours aligned
per core hour.

    python benchmarks/batch/bench.py [--copies 2] [--repeats 3] [--json out.json]

The pairs are the audio pairs of ``../shared/data`` whose recording A lasts 30 s or more
(B: 26-60 s), each listed ``--copies`` times under different ids (so that the two workers
have work until the end); without the data set, generated melodies of 40-50 s. Every run
aligns every pair again (``resume=False``).

Measured per configuration (medians over ``--repeats`` runs, the configurations
interleaved so that a change of machine load hits both):

- **steady**: from the moment every worker is started and warmed up (the first progress
  report) to the last pair: the batch's own work, what scaling is about;
- **end to end**: the whole ``align_pairs`` call, cluster start and shutdown included;
- **plain loop**: ``align_files`` on every pair in one process, no Dask (after one
  warm-up pair): what one worker's batch costs over a loop;
- **workers' CPU**: CPU seconds the worker processes used (start and warm-up included):
  on a machine shared with other work, equal CPU per pair on 1 and 2 workers means the
  batch itself adds nothing, and the wall-time efficiency is what the other load left.

Efficiency = (pairs/s on 2 workers) / (2 x pairs/s on 1 worker). Audio hours per core
hour count A and B of every pair, divided by wall time x workers. The load average of the
machine is printed with every run: other work on the machine lowers the 2-worker figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("ALIGNMENT_DATA", REPO.parent / "shared" / "data"))


def data_pairs() -> list[tuple[str, str, str]]:
    index = DATA / "index.csv"
    if not index.is_file():
        return []
    with open(index, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [(row["pair_id"], str(DATA / row["file_a"]), str(DATA / row["file_b"]))
            for row in rows
            if row["modality"] in ("music", "speech", "realaudio")
            and float(row["duration_a_s"]) >= 30.0]


def generated_pairs(folder: Path) -> list[tuple[str, str, str]]:
    import numpy as np
    import soundfile as sf

    rate = 22050
    rng = np.random.default_rng(0)
    pairs = []
    for k in range(5):
        pitches = rng.integers(55, 80, size=160)
        out = []
        for name, note_s in (("a", 0.25), ("b", 0.25 * (1.1 + 0.05 * k))):
            t = np.arange(int(note_s * rate)) / rate
            notes = [np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t) * np.exp(-3 * t)
                     for p in pitches]
            path = folder / f"gen{k}_{name}.wav"
            sf.write(path, (0.4 * np.concatenate(notes)).astype(np.float32), rate)
            out.append(str(path))
        pairs.append((f"gen{k}", *out))
    return pairs


def load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def run_batch(pairs, n_workers: int, folder: Path) -> dict:
    from core.batch import align_pairs

    marks = {}

    def progress(p):
        now = time.perf_counter()
        marks.setdefault("start", now)  # first report: workers started and warmed up
        if p.row is not None:
            marks["end"] = now

    t0 = time.perf_counter()
    cpu0 = children_cpu_s()
    rows = align_pairs(pairs, folder, n_workers=n_workers, resume=False, progress=progress)
    total = time.perf_counter() - t0
    cpu = children_cpu_s() - cpu0
    failed = [r.id for r in rows if r.status != "ok"]
    if failed:
        raise SystemExit(f"pairs failed: {failed}")
    return {"steady_s": marks["end"] - marks["start"], "total_s": total,
            "workers_cpu_s": cpu, "audio_s": sum(r.audio_s for r in rows), "load": load()}


def children_cpu_s() -> float:
    """CPU seconds of this process's finished children (the cluster's workers, once it
    is closed)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def plain_loop(pairs) -> float:
    from core import align_files

    align_files(pairs[0]["a"], pairs[0]["b"])  # warm-up
    t0 = time.perf_counter()
    for pair in pairs:
        align_files(pair["a"], pair["b"])
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        tmp = Path(tmp)
        base = data_pairs() or generated_pairs(tmp)
        source = "../shared/data" if data_pairs() else "generated"
        pairs = [{"id": f"{pid}-{c}", "a": a, "b": b}
                 for c in range(args.copies) for pid, a, b in base]
        print(f"{len(pairs)} pairs ({source}), {args.repeats} repeats, load {load()}",
              flush=True)
        results = {1: [], 2: []}
        for repeat in range(args.repeats):
            for n in (1, 2):
                r = run_batch(pairs, n, tmp / f"out-{n}-{repeat}")
                results[n].append(r)
                print(f"  {n} worker(s): steady {r['steady_s']:.2f} s, end to end "
                      f"{r['total_s']:.2f} s, workers' CPU {r['workers_cpu_s']:.1f} s "
                      f"(load {r['load']})", flush=True)
        cpu0 = time.process_time()
        loop_s = plain_loop(pairs)
        loop_cpu = time.process_time() - cpu0
        print(f"  plain loop in one process: {loop_s:.2f} s, CPU {loop_cpu:.1f} s "
              f"(load {load()})")

    audio_h = results[1][0]["audio_s"] / 3600
    summary = {"pairs": len(pairs), "source": source, "audio_h": audio_h,
               "plain_loop_s": loop_s, "plain_loop_cpu_s": loop_cpu, "runs": results}
    print()
    print("| workers | steady s (median) | pairs/s | end to end s | audio h per core h "
          "(steady) | efficiency vs 1 worker | workers' CPU s per pair |")
    print("|---|---|---|---|---|---|---|")
    steady = {n: statistics.median(r["steady_s"] for r in results[n]) for n in (1, 2)}
    total = {n: statistics.median(r["total_s"] for r in results[n]) for n in (1, 2)}
    for n in (1, 2):
        rate = len(pairs) / steady[n]
        per_core = audio_h / (steady[n] * n / 3600)
        eff = steady[1] / (n * steady[n])
        eff_total = total[1] / (n * total[n])
        summary[f"efficiency_{n}"] = eff
        summary[f"efficiency_end_to_end_{n}"] = eff_total
        shown = "" if n == 1 else f"**{eff:.0%}** (end to end {eff_total:.0%})"
        cpu = statistics.median(r["workers_cpu_s"] for r in results[n]) / len(pairs)
        print(f"| {n} | {steady[n]:.2f} | {rate:.3f} | {total[n]:.2f} | {per_core:.0f} "
              f"| {shown} | {cpu:.2f} |")
    print(f"| plain loop, 1 process | {loop_s:.2f} | {len(pairs) / loop_s:.3f} | | "
          f"{audio_h / (loop_s / 3600):.0f} | | {loop_cpu / len(pairs):.2f} |")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
