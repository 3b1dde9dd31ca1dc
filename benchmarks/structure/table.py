"""Print results.json (bench.py) as the Markdown tables of results.md."""

import json
import sys
from pathlib import Path

import numpy as np

path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("results.json")
rows = json.loads(path.read_text())["pairs"]
print("| pair | change | seed | uncut ms | auto ms | ratio | jumps: 3 ends / B end / true "
      "| result |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['pair']} | {r['change']} | {r['seed']} | {r['uncut_ms']:.1f} | "
          f"{r['error_ms']:.1f} | {r['ratio']:.2f} | {r['jumps_found_ok']} / "
          f"{r.get('jumps_found_on_b', '-')} / {r['jumps_true']} "
          f"| {r['result']}{' (same path)' if r.get('same_as_monotone') else ''} |")
print()
print("| change | cases | error ratio <= 1.5 | median ratio | jumps, 3 ends within 0.5 s | "
      "jumps, B end within 0.5 s | auto switched |")
print("|---|---|---|---|---|---|---|")
for change in ("none", "repeat", "drop", "move"):
    sel = [r for r in rows if r["change"] == change]
    if not sel:
        continue
    ratios = np.array([r["ratio"] for r in sel])
    found = sum(r["jumps_found_ok"] for r in sel)
    on_b = sum(r.get("jumps_found_on_b", 0) for r in sel)
    true = sum(r["jumps_true"] for r in sel)
    switched = sum(r["result"] == "pieces" for r in sel)
    print(f"| {change} | {len(sel)} | {int(np.sum(ratios <= 1.5))} | {np.median(ratios):.2f} | "
          f"{found} / {true} | {on_b} / {true} | {switched} |")
