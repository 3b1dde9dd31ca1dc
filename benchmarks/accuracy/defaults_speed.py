"""The default pipeline's time on ``../shared/data``, this tree against another one.

    python benchmarks/accuracy/defaults_speed.py [--before TREE] [--rounds R]
                                                [--pairs SUBSTR,...]

Every pair of the data set's index goes through ``core.pipeline.align_files`` with the
defaults (decoding and features included) in a fresh process per tree and round, the
trees alternating (this one, then ``--before``, R rounds), so that both see the same load.
Each process aligns one pair first to compile and load the kernels (not timed), then times
every pair once (wall time, or with ``--clock cpu`` the process's CPU time summed over
its threads, which other work on a shared machine disturbs less). Prints per pair and in
all the best of the rounds for each tree and the ratio after / before, with the machine's
load (``os.getloadavg``) at each round: on a shared machine only the ratio from one run
means something.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = REPO.parent / "shared" / "data"

_WORKER = r"""
import json, sys, time
from pathlib import Path
from core.pipeline import align_files
pairs = json.loads(sys.argv[1])
first = pairs[0]
align_files(first["a"], first["b"])  # compile and load the kernels
out = {}
clock = time.process_time if sys.argv[2] == "cpu" else time.perf_counter
for p in pairs:
    t0 = clock()
    align_files(p["a"], p["b"])
    out[p["id"]] = clock() - t0
print(json.dumps(out))
"""


def _pairs(data: Path, only):
    rows = []
    with open(data / "index.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            pid = row["pair_id"]
            if only and not any(s in pid for s in only):
                continue
            rows.append({"id": pid, "a": str(data / row["file_a"]),
                         "b": str(data / row["file_b"])})
    return rows


def _run(tree: Path, pairs, clock) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, "-c", _WORKER, json.dumps(pairs), clock], cwd=tree,
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: the worker failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, help="another checkout of the project")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pairs", help="comma-separated substrings of pair ids")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: the process's CPU time over all its threads (less sensitive "
                         "to other work on the machine than wall time)")
    args = ap.parse_args(argv)
    pairs = _pairs(args.data, args.pairs.split(",") if args.pairs else None)
    if not pairs:
        raise SystemExit(f"no pairs in {args.data / 'index.csv'}")
    trees = {"after": REPO}
    if args.before:
        trees["before"] = args.before.resolve()
    best: dict = {name: {} for name in trees}
    for r in range(args.rounds):
        for name, tree in trees.items():
            load = os.getloadavg()[0]
            times = _run(tree, pairs, args.clock)
            print(f"round {r + 1} {name}: {sum(times.values()):.2f} s in all "
                  f"({args.clock}, load {load:.1f})", flush=True)
            for pid, t in times.items():
                best[name][pid] = min(t, best[name].get(pid, float("inf")))
    print(f"\n| pair | {' | '.join(trees)} |" + (" after / before |" if len(trees) > 1 else ""))
    print("|---" * (len(trees) + 1 + (len(trees) > 1)) + "|")
    for p in pairs:
        cells = [f"{best[n][p['id']]:.2f} s" for n in trees]
        ratio = (f" {best['after'][p['id']] / best['before'][p['id']]:.2f} |"
                 if len(trees) > 1 else "")
        print(f"| {p['id']} | {' | '.join(cells)} |{ratio}")
    total = {n: sum(best[n].values()) for n in trees}
    cells = [f"{total[n]:.2f} s" for n in trees]
    ratio = f" {total['after'] / total['before']:.2f} |" if len(trees) > 1 else ""
    print(f"| all | {' | '.join(cells)} |{ratio}")


if __name__ == "__main__":
    main()
