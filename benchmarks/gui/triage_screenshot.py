"""assets/screenshots/batch_triage.png: the batch triage window on a batch run with
``structure auto`` over pairs of ../shared/data whose B repeats, drops or moves a section
(benchmarks/structure/pairs.py), the unchanged pairs, one pair whose B has 8 s of another
voice before it (``speech-prefix8`` of benchmarks/accuracy/unseen.py: a lead-in A lacks,
left out with a warning) and one pair whose file is missing; then
``batch_pair_pieces.png``: the window with the first pair with jumps opened from
the table (as a user's double-click does).

    xvfb-run -a -s "-screen 0 1440x900x24" python benchmarks/gui/triage_screenshot.py [OUT_DIR]

OUT_DIR defaults to ``assets/screenshots/``. The batch runs on a local cluster of two
workers (a minute or two at a load of 2).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "structure"))
sys.path.insert(0, str(ROOT / "benchmarks" / "gui"))
sys.path.insert(0, str(ROOT / "benchmarks" / "accuracy"))

#: (pair of ../shared/data, change of B): two music pairs and a speech pair
PAIRS = (("music_p01_bwv66.6", "repeat"), ("music_p02_bwv269", "move"),
         ("speech_p01_harvard1", "drop"), ("music_p03_k545", "none"),
         ("speech_p02_harvard2", "none"))


def _batch(folder: Path) -> Path:
    from pairs import load_pairs, make

    from core.batch import align_pairs

    rows = {r["pair_id"]: r for r in load_pairs()}
    pairs = []
    for pair_id, change in PAIRS:
        if pair_id not in rows:
            continue
        made = make(rows[pair_id], change, folder / "media", seed=0)
        name = pair_id.split("_", 2)[2]
        pairs.append({"id": f"{name}_{change}", "a": str(made.a), "b": str(made.b)})
    if not pairs:
        raise SystemExit("no pair of ../shared/data found (benchmarks/structure/pairs.py)")
    from unseen import make_pair as unseen_pair

    a, b, _, _ = unseen_pair("harvard1", "speech-prefix8", folder / "media")
    pairs.append({"id": "harvard1_lead-in", "a": str(a), "b": str(b),
                  "structure": "monotone"})
    pairs.append({"id": "missing", "a": str(folder / "media" / "take_that_was_deleted.wav"),
                  "b": pairs[0]["b"]})
    out = folder / "out"
    rows = align_pairs(pairs, out, structure="auto", n_workers=2)
    for row in rows:
        print(f"{row.id}: {row.status} jumps={row.jumps} conf={row.mean_confidence} "
              f"unshared_s={row.unshared_s} {row.error}{row.warning}")
    return out


def main(out_dir: str) -> int:
    from PySide6.QtWidgets import QApplication
    from screenshots import fresh, idle, shot, wait_for

    from inspector.files.triage import COLUMNS

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    batch = _batch(Path(tempfile.mkdtemp()))
    app = QApplication.instance() or QApplication(["triage_screenshot"])
    window = fresh(app)
    triage = window.files.triage
    table = triage.open_batch(batch)
    table.resize(1240, 400)
    ok = [k for k, r in enumerate(table.rows) if r.status != "failed"]
    wait_for(app, lambda: all(table.has_thumbnail(k) for k in ok))
    idle(app, window)
    table.table.resizeColumnsToContents()
    table.grab().save(str(out_dir / "batch_triage.png"))
    print(out_dir / "batch_triage.png")

    jumps = [r for r in range(table.table.rowCount())
             if table.table.item(r, COLUMNS.index("jumps")).text()]
    if jumps:
        opened = []
        triage.pair_opened.connect(opened.append)
        table.table.cellDoubleClicked.emit(jumps[0], COLUMNS.index("id"))
        wait_for(app, lambda: opened)
        window.raise_()
        shot(app, window, out_dir / "batch_pair_pieces.png")
    table.close()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "assets" / "screenshots")))
