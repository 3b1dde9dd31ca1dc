#!/usr/bin/env bash
# Build the standalone bundle and use it as a user would: from folders outside the source
# tree, with the bundle read-only (nothing may be written inside it), with a fresh
# per-user cache (the kernels compile once, whatever the working directory), and with
# no home at all (every command works; one line about the temporary cache).
#
#   bash packaging/smoke.sh                  # build into a temporary folder, then check
#   SMOKE_BUNDLE=path/to/alignment-inspector bash packaging/smoke.sh   # check a bundle
#
# Needs PyInstaller in the active environment (see packaging/README.md). Prints the
# bundle's size and the start times it measured.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/ai-smoke-XXXXXX")"
cleanup() { chmod -R u+w "$scratch" 2>/dev/null || true; rm -rf "$scratch"; }
trap cleanup EXIT
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }

if [ -n "${SMOKE_BUNDLE:-}" ]; then
    app="$(cd "$SMOKE_BUNDLE" && pwd)"
else
    start=$(date +%s)
    DIST="$scratch/dist" WORK="$scratch/build" nice -n 10 bash "$repo/packaging/build.sh" \
        > "$scratch/build.log" 2>&1 || { tail -30 "$scratch/build.log"; fail "build"; }
    echo "smoke: built in $(( $(date +%s) - start )) s"
    app="$scratch/dist/alignment-inspector"
fi
exe="$app/alignment-inspector"
sv="$app/alignment-inspector-sv"
[ -x "$exe" ] && [ -e "$sv" ] || fail "no executables in $app"
echo "smoke: bundle $(du -sh "$app" | cut -f1) in $app"

chmod -R a-w "$app"  # read-only (root ignores it: the check below catches any write)
stamp="$scratch/stamp"; touch "$stamp"; sleep 1

demo="$app/_internal/assets/demo"
mkdir -p "$scratch/tmp" "$scratch/home" "$scratch/w1" "$scratch/w2" "$scratch/w3"
cp "$demo/a.flac" "$demo/b.flac" "$scratch/w1/"
printf '0.5\t1.5\tfirst\n2.0\t2.0\tpoint\n' > "$scratch/w1/labels.txt"

export QT_QPA_PLATFORM=offscreen
unset NUMBA_CACHE_DIR PYTHONPATH PYTHONHOME || true
user_env=(env HOME="$scratch/home" XDG_CACHE_HOME="$scratch/home/.cache" TMPDIR="$scratch/tmp")
cache="$scratch/home/.cache/alignment-inspector/numba"
n_cached() { find "$cache" -name '*.nbi' 2>/dev/null | wc -l; }
timed() {  # timed LABEL CMD...: run, print its wall time, fail on a non-zero exit
    local label="$1"; shift
    local t0; t0=$(date +%s.%N)
    "$@" > "$scratch/out.txt" 2> "$scratch/err.txt" \
        || { cat "$scratch/err.txt" >&2; fail "$label"; }
    printf 'smoke: %-44s %6.1f s\n' "$label" "$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { print a - b }')"
}

# 1. a fresh user cache, three working directories: compiled once
cd "$scratch/w1"
timed "align (cold cache, folder 1)" "${user_env[@]}" "$exe" align a.flac b.flac -o path.csv
first=$(n_cached)
[ "$first" -gt 0 ] || fail "no kernel cached in $cache"
cd "$scratch/w2"
timed "align (warm cache, folder 2)" "${user_env[@]}" "$exe" align ../w1/a.flac ../w1/b.flac -o path.csv
cd "$scratch/w3"
timed "align (warm cache, folder 3)" "${user_env[@]}" "$exe" align "$scratch/w1/a.flac" "$scratch/w1/b.flac" -o path.csv
[ "$(n_cached)" -eq "$first" ] || fail "folders 2 and 3 compiled again ($first -> $(n_cached) cache entries)"
echo "smoke: one cache for three working directories ($first kernel entries)"

# 2. every command, from folder 1, warm cache
cd "$scratch/w1"
timed "convert" "${user_env[@]}" "$exe" convert path.csv -o path.json
timed "transfer" "${user_env[@]}" "$exe" transfer path.csv labels.txt -o labels_b.txt
timed "render" "${user_env[@]}" "$exe" render a.flac b.flac --alignment path.csv -o warped.wav
timed "alignment-inspector-sv" "${user_env[@]}" "$sv" a.flac b.flac
grep -q ',' "$scratch/out.txt" || fail "alignment-inspector-sv printed no pairs"
timed "window + demo pair --screenshot" "${user_env[@]}" "$exe" a.flac b.flac --screenshot shot.png
for f in path.csv path.json labels_b.txt warped.wav shot.png; do
    [ -s "$f" ] || fail "$f not written"
done
grep -qi locale "$scratch/err.txt" && fail "Qt locale warning"

# 3. no home at all (and LANG=C): every command works, one line about the temporary cache
cd "$scratch/w2"
nohome=(env -u XDG_CACHE_HOME HOME=/nonexistent-ai-smoke TMPDIR="$scratch/tmp" LANG=C LC_ALL=)
for cmd in "align ../w1/a.flac ../w1/b.flac -o nohome.csv" "convert nohome.csv -o nohome.json" \
           "transfer nohome.csv ../w1/labels.txt -o nohome_labels.txt" \
           "render ../w1/a.flac ../w1/b.flac --alignment nohome.csv -o nohome.wav" \
           "../w1/a.flac ../w1/b.flac --screenshot nohome.png"; do
    # shellcheck disable=SC2086
    timed "no home: ${cmd%% *}" "${nohome[@]}" "$exe" $cmd
    [ "$(grep -c 'kernel cache' "$scratch/err.txt")" -eq 1 ] \
        || { cat "$scratch/err.txt"; fail "no home: ${cmd%% *}: not one line about the cache"; }
    grep -q Traceback "$scratch/err.txt" && fail "no home: ${cmd%% *}: traceback"
    grep -qi locale "$scratch/err.txt" && fail "no home: ${cmd%% *}: Qt locale warning"
done
timed "no home: alignment-inspector-sv" "${nohome[@]}" "$sv" ../w1/a.flac ../w1/b.flac
[ -e /nonexistent-ai-smoke ] && fail "the missing home was created"

# 4. nothing written inside the bundle
written=$(find "$app" -newer "$stamp" | head -5)
[ -z "$written" ] || fail "written inside the bundle: $written"
echo "smoke: OK (load average $(cut -d' ' -f1-3 /proc/loadavg))"
