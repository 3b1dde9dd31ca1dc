#!/bin/sh
# Refit the per-step confidence after a change of the default pipelines (issue 16):
#   sh benchmarks/accuracy/refit_confidence.sh [DIR [TAG]]
# runs the tuning and held-out generated pairs and ../shared/data with the evidence
# recorded (generalize.py --json, pairs cached in DIR/cache), fits the calibration on the
# tuning pairs only, writes core/pipeline/calibration.json and prints the reports
# (held-out, ../shared/data and the demo pair are never fitted on). Runs under nice; about 10 minutes
# on a quiet 2-core machine.
set -e
DIR=${1:-/tmp/ai-confidence}
TAG=${2:-refit}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-python}
mkdir -p "$DIR"
for spec in "audio tune 5" "audio heldout 2" "xmodal tune 4" "xmodal heldout 2" \
            "video tune 3" "video heldout 1" "shared heldout 1" "demo heldout 1"; do
  set -- $spec
  echo "== $1 $2" >&2
  PYTHONPATH="$HERE" nice -n 19 "$PY" "$HERE/benchmarks/accuracy/generalize.py" "$1" \
    --split "$2" --reps "$3" --cache "$DIR/cache" --json "$DIR/$1_$2_$TAG.json" \
    > "$DIR/$1_$2_$TAG.log"
done
PYTHONPATH="$HERE" "$PY" "$HERE/benchmarks/accuracy/calibrate.py" --runs "$DIR" --tag "$TAG" \
  --write | tee "$HERE/benchmarks/accuracy/confidence_calibration.md"
