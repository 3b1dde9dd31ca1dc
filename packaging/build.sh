#!/usr/bin/env bash
# Freeze Alignment Inspector with PyInstaller (see packaging/README.md).
# DIST (default dist/) and WORK (default build/) choose where the bundle and PyInstaller's
# work files go.
set -euo pipefail
cd "$(dirname "$0")/.."
dist="${DIST:-dist}"
work="${WORK:-build}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # this tree's modules, also in hooks
pyinstaller --noconfirm --clean --distpath "$dist" --workpath "$work" \
    packaging/alignment_inspector.spec
app="$dist/alignment-inspector"
# Sonic Visualiser's external aligner: the same executable under its other name (the
# launcher looks at the name it was started by); a copy where links are not available
case "$(uname -s)" in
    MINGW*|MSYS*|CYGWIN*) cp "$app/alignment-inspector.exe" "$app/alignment-inspector-sv.exe" ;;
    *) ln -sf alignment-inspector "$app/alignment-inspector-sv" ;;
esac
echo "bundle: $app ($(du -sh "$app" | cut -f1))"
