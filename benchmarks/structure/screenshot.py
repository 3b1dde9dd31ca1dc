"""assets/screenshots/structure.png: a pair whose B repeats a section, aligned as pieces,
with units (run under xvfb: ``xvfb-run -a -s "-screen 0 1400x900x24" python
benchmarks/structure/screenshot.py [OUT]``)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main(out: str) -> int:
    import soundfile as sf
    from PySide6.QtWidgets import QApplication

    from core.synthetic.music import tone_sections
    from inspector.app import MainWindow

    tmp = Path(tempfile.mkdtemp())
    pa, pb = tmp / "a.wav", tmp / "b.wav"
    sf.write(pa, tone_sections([220, 330, 262, 392, 294]), 8000)
    sf.write(pb, tone_sections([220, 330, 262, 330, 392, 294]), 8000)
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

    done = {}
    window.workspace.default_alignment_finished.connect(lambda a: done.setdefault("d", a))
    window.workspace.open_file("a", str(pa))
    window.workspace.open_file("b", str(pb))
    wait(lambda: "d" in done)
    window.structure.finished.connect(lambda a: done.setdefault("s", a))
    window.structure.run("pieces")
    wait(lambda: "s" in done and window.jobs.n_running == 0)
    window.session.move_cursor("b", 14.0)
    t0 = time.monotonic()
    wait(lambda: time.monotonic() - t0 > 2.0 and window.jobs.n_running == 0)
    ok = window.save_screenshot(out)
    window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else
                          str(ROOT / "assets" / "screenshots" / "structure.png")))
