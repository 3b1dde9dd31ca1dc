"""Before / after: bench.py's worker on two source trees in alternating processes.

    python benchmarks/dtw/ab.py BEFORE_TREE AFTER_TREE CASES LIBS ROUNDS
    python benchmarks/dtw/ab.py /tmp/old . 1d_10k,d12_8k ours,ours-sweep 4

A tree is a checkout of this repository (``git worktree add`` or ``git archive``). Each
(case, library, tree) runs ``ROUNDS`` times, alternating the trees so that a machine's
load falls on both; the table keeps the best of the rounds (median of 3 repeats each).
On a shared machine this is how a change to the kernels is checked against the rows of
results.md.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

before_tree, after_tree = (str(Path(t).resolve()) for t in sys.argv[1:3])
cases = sys.argv[3].split(",")
libs = sys.argv[4].split(",")
rounds = int(sys.argv[5])
trees = {"before": before_tree, "after": after_tree}
code = ("import sys, pathlib; sys.path.insert(0, sys.argv[1] + '/benchmarks/dtw'); import bench; "
        "bench.worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), 1.0, pathlib.Path(sys.argv[5]))")
best = {}
for case in cases:
    for lib in libs:
        for _ in range(rounds):
            for name, tree in trees.items():
                out = Path(os.environ.get("TMPDIR", "/tmp")) / f"dtw_ab_{name}.json"
                subprocess.run([sys.executable, "-c", code, tree, lib, case, "3", str(out)],
                               check=True, env=dict(os.environ, PYTHONPATH=tree),
                               cwd=os.environ.get("TMPDIR", "/tmp"))
                d = json.load(open(out))
                t = sorted(d["times"])[len(d["times"]) // 2]
                key = (case, lib, name)
                best[key] = min(best.get(key, 1e9), t)
                print(case, lib, name, round(t, 3), d["peak_bytes"], flush=True)
print("| case | lib | before s | after s | before / after |")
print("|---|---|---|---|---|")
for case in cases:
    for lib in libs:
        b, a = best[(case, lib, "before")], best[(case, lib, "after")]
        print(f"| {case} | {lib} | {b:.3f} | {a:.3f} | {b / a:.2f} |")
