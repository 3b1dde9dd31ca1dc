#!/usr/bin/env bash
# Freeze Alignment Inspector with PyInstaller (see packaging/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
pyinstaller --noconfirm --clean packaging/alignment_inspector.spec
