"""Guard against PySide6 6.12.0 on Python 3.11, which aborts the interpreter
("Fatal Python error: none_dealloc") after a few thousand Qt calls that return None.
The calls run in a child process so that an abort fails this test instead of killing
the whole test run."""

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import os
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QObject, QTimer
    app = QCoreApplication.instance() or QCoreApplication([])
    obj = QObject()
    timer = QTimer()
    for k in range(20_000):
        timer.setInterval(k % 1000)   # void
        obj.setObjectName("n")        # void
        timer.stop()                  # void
    print("ok", timer.interval())
    """
)


def test_twenty_thousand_void_qt_calls_do_not_abort():
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["ok", str(19_999 % 1000)]
