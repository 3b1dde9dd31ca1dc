"""Project-wide checks: lint, the import contract, and the launcher's headless path."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool(name):
    exe = shutil.which(name, path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return exe


def test_ruff_is_clean():
    proc = subprocess.run([_tool("ruff"), "check", "."], cwd=REPO, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_core_never_imports_qt_or_inspector():
    proc = subprocess.run([_tool("lint-imports")], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_headless_commands_do_not_load_qt():
    code = ("import sys; from inspector import launch; "
            "status = launch.main(['align', '--help']) ; "
            "assert not any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules), "
            "sorted(m for m in sys.modules if m.startswith('PySide6'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "usage: alignment-inspector align" in proc.stdout
