"""Print results.json (bench.py) as the Markdown tables of results.md.

``python table.py [results.json ...]``: the rows of every file given (e.g. a tuning run
of seeds 0-1 and a held-out run of seeds 2-3); the summary is printed for all rows and,
when both are present, for seeds 0-1 (tuned on) and seeds 2 and up (held out) apart."""

import json
import sys
from pathlib import Path

import numpy as np

paths = [Path(a) for a in sys.argv[1:]] or [Path(__file__).with_name("results.json")]
rows = [r for path in paths for r in json.loads(path.read_text())["pairs"]]
rows.sort(key=lambda r: (r["pair"], ("none", "repeat", "drop", "move").index(r["change"]),
                         r["seed"]))
print("| pair | change | seed | uncut ms | auto ms | ratio | jumps: 3 ends / B end / true "
      "| result |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['pair']} | {r['change']} | {r['seed']} | {r['uncut_ms']:.1f} | "
          f"{r['error_ms']:.1f} | {r['ratio']:.2f} | {r['jumps_found_ok']} / "
          f"{r.get('jumps_found_on_b', '-')} / {r['jumps_true']} "
          f"| {r['result']}{' (same path)' if r.get('same_as_monotone') else ''} |")


def summary(sel_rows, title):
    print()
    print(f"**{title}**")
    print()
    print("| change | cases | error ratio <= 1.5 | median ratio | jumps, 3 ends within 0.5 s "
          "| jumps, B end within 0.5 s | auto switched |")
    print("|---|---|---|---|---|---|---|")
    for change in ("none", "repeat", "drop", "move"):
        sel = [r for r in sel_rows if r["change"] == change]
        if not sel:
            continue
        ratios = np.array([r["ratio"] for r in sel])
        found = sum(r["jumps_found_ok"] for r in sel)
        on_b = sum(r.get("jumps_found_on_b", 0) for r in sel)
        true = sum(r["jumps_true"] for r in sel)
        switched = sum(r["result"] == "pieces" for r in sel)
        print(f"| {change} | {len(sel)} | {int(np.sum(ratios <= 1.5))} | "
              f"{np.median(ratios):.2f} | {found} / {true} | {on_b} / {true} | {switched} |")
    changed = [r for r in sel_rows if r["change"] != "none"]
    if changed:
        ok = sum(r["ratio"] <= 1.5 for r in changed)
        found = sum(r["jumps_found_ok"] for r in changed)
        true = sum(r["jumps_true"] for r in changed)
        print(f"| changed, all | {len(changed)} | {ok} | "
              f"{np.median([r['ratio'] for r in changed]):.2f} | {found} / {true} | "
              f"{sum(r.get('jumps_found_on_b', 0) for r in changed)} / {true} | "
              f"{sum(r['result'] == 'pieces' for r in changed)} |")


tuned = [r for r in rows if r["seed"] < 2]
held = [r for r in rows if r["seed"] >= 2 or r["change"] == "none"]
summary(rows, "All seeds")
if tuned and any(r["seed"] >= 2 for r in rows):
    summary(tuned, "Seeds 0-1 (tuned on)")
    summary(held, "Seeds 2 and up (held out; unchanged pairs: one run, their change has no seed)")
