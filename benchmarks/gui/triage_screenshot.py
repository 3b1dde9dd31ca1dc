"""assets/screenshots/batch_triage.png: the batch triage window on a batch run with
``structure auto`` over pairs of ../shared/data whose B repeats, drops or moves a section
(benchmarks/structure/pairs.py), the unchanged pairs and one pair whose file is missing;
then ``batch_pair_pieces.png``: the window with the first pair with jumps opened from
the table (as a user's double-click does).

    xvfb-run -a -s "-screen 0 1440x900x24" python benchmarks/gui/triage_screenshot.py [OUT_DIR]

OUT_DIR defaults to ``assets/screenshots/``. The batch runs on a local cluster of two
workers (a minute or two at a load of 2).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "structure"))

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
    pairs.append({"id": "missing", "a": str(folder / "media" / "take_that_was_deleted.wav"),
                  "b": pairs[0]["b"]})
    out = folder / "out"
    rows = align_pairs(pairs, out, structure="auto", n_workers=2)
    for row in rows:
        print(f"{row.id}: {row.status} jumps={row.jumps} conf={row.mean_confidence} "
              f"{row.error}")
    return out


def main(out_dir: str) -> int:
    from PySide6.QtWidgets import QApplication

    from inspector.app import MainWindow
    from inspector.files.triage import COLUMNS

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    batch = _batch(Path(tempfile.mkdtemp()))
    app = QApplication.instance() or QApplication([])
    window = MainWindow(settings=None)
    window.resize(1440, 900)
    window.show()

    def wait(pred, timeout_s=300.0):
        end = time.monotonic() + timeout_s
        while not pred():
            app.processEvents()
            time.sleep(0.01)
            if time.monotonic() > end:
                raise TimeoutError

    triage = window.files.triage
    table = triage.open_batch(batch)
    table.resize(1240, 400)
    ok = [k for k, r in enumerate(table.rows) if r.status != "failed"]
    wait(lambda: all(table.has_thumbnail(k) for k in ok) and window.jobs.n_running == 0)
    table.table.resizeColumnsToContents()
    app.processEvents()
    table.grab().save(str(out_dir / "batch_triage.png"))

    jumps = [r for r in range(table.table.rowCount())
             if table.table.item(r, COLUMNS.index("jumps")).text()]
    if jumps:
        opened = {}
        triage.pair_opened.connect(lambda rid: opened.setdefault("id", rid))
        table.table.cellDoubleClicked.emit(jumps[0], COLUMNS.index("id"))
        wait(lambda: "id" in opened and window.jobs.n_running == 0)
        window.session.move_cursor("b", 0.5 * window.session.duration("b"))
        t0 = time.monotonic()
        wait(lambda: time.monotonic() - t0 > 2.0 and window.jobs.n_running == 0)
        window.raise_()
        window.save_screenshot(str(out_dir / "batch_pair_pieces.png"))
    table.close()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "assets" / "screenshots")))
