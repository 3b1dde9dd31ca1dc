"""DTW speed and memory: this engine against dtaidistance, tslearn, librosa, dtw-python,
linmdtw and synctoolbox, side by side in one run.

Every (library, case) runs in its own subprocess: inputs are generated from a seed, the
library is warmed up on an input of the case's size (another seed; JIT compile time
excluded, whichever kernels the size selects), then the case runs
``--repeat`` times (median reported; a single run when it takes more than 5 s). Peak
memory is the growth of the process' peak resident set (VmHWM, reset before the run)
over its resident set before the run. Costs are included in every library's time.

    python benchmarks/dtw/bench.py                 # everything, writes results.md
    python benchmarks/dtw/bench.py --cases 1d_10k  # one case
    python benchmarks/dtw/bench.py --scale 0.1     # quick smoke run, smaller inputs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

# case -> (n, d, band fraction or None)
CASES = {
    "1d_10k": (10_000, 1, None),
    "d12_8k": (8_000, 12, None),
    "d128_8k": (8_000, 128, None),
    "band10_d12_40k": (40_000, 12, 0.1),
    "long_d12_180k": (180_000, 12, None),
}
LIBRARIES = ["ours", "ours-sweep", "dtaidistance", "tslearn", "librosa", "dtw-python", "linmdtw",
             "synctoolbox"]
# combinations not run, with the reason (out of memory on a shared 24 GB machine, or no
# exact path); see ../shared/ANCHORS.md for the numbers measured once on this machine
SKIP = {
    ("librosa", "band10_d12_40k"): "needs the full 40k x 40k matrix (12.8 GB): out of memory",
    ("dtw-python", "band10_d12_40k"): "needs the full 40k x 40k matrix: out of memory",
    ("tslearn", "band10_d12_40k"): "allocates the full matrix and mask (14.2 GB)",
    ("linmdtw", "band10_d12_40k"): "no band option",
    ("linmdtw", "1d_10k"): "crashes on 1-D input (its bug, see ANCHORS.md)",
    ("linmdtw", "d128_8k"): "crashes at d=128 (see ANCHORS.md)",
    ("synctoolbox", "1d_10k"): "no exact path method (MrMsDTW is approximate)",
    ("synctoolbox", "d12_8k"): "no exact path method",
    ("synctoolbox", "d128_8k"): "no exact path method",
    ("synctoolbox", "band10_d12_40k"): "no exact path method",
}
LONG_CASE = "long_d12_180k"
LONG_LIBS = {"ours", "ours-exact", "synctoolbox"}  # the others cannot hold 180k x 180k


def make_inputs(n, d, seed=0):
    """Two smooth feature sequences, the second a time-warped noisy copy of the first.

    Chroma-like for d=12 (non-negative, so cosine and MrMsDTW make sense)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n)
    warp = t + 0.04 * np.sin(2 * np.pi * 3 * t) / 3
    n_waves = 6

    def feats(s):
        out = np.zeros((s.shape[0], d))
        for k in range(d):
            freqs = rng_f[k]
            phases = rng_p[k]
            out[:, k] = np.sum(np.sin(2 * np.pi * freqs[None, :] * s[:, None] * n / 400
                                      + phases[None, :]), axis=1)
        return out

    rng_f = rng.uniform(0.5, 4.0, size=(d, n_waves))
    rng_p = rng.uniform(0, 2 * np.pi, size=(d, n_waves))
    x = feats(t)
    y = feats(warp) + 0.1 * rng.normal(size=(n, d))
    if d == 12:
        x, y = np.abs(x), np.abs(y)
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


# ------------------------------------------------------------------------ workers
def _runner(lib, n, d, band):
    """A function running the case once (costs included) and returning a path."""
    r = None if band is None else int(band * n)
    if lib in ("ours", "ours-exact", "ours-sweep"):
        from core.warping import dtw

        if lib == "ours-sweep":  # no pruning: every window cell swept (worst case)
            import core.warping._engine as engine

            engine.PRUNE_MIN_CELLS = float("inf")

        kw = {"metric": "cosine" if lib == "ours" and n >= 100_000 else "euclidean"}
        if r is not None:
            kw["window"] = ("sakoe_chiba", r)
        if lib == "ours-exact":
            kw["exact"] = True
            kw["metric"] = "cosine"

        def run(x, y):
            return dtw(x, y, **kw).path
        return run
    if lib == "dtaidistance":
        from dtaidistance import dtw as ddtw
        from dtaidistance import dtw_ndim

        kw = {} if r is None else {"window": r + 1}  # its window is |i - j| < window
        if d == 1:
            return lambda x, y: np.array(ddtw.warping_path(x[:, 0], y[:, 0], use_c=True,
                                                           **kw))
        return lambda x, y: np.array(dtw_ndim.warping_path(x, y, use_c=True, **kw))
    if lib == "tslearn":
        from tslearn.metrics import dtw_path

        kw = {} if r is None else {"global_constraint": "sakoe_chiba",
                                   "sakoe_chiba_radius": r}
        return lambda x, y: np.array(dtw_path(x, y, **kw)[0])
    if lib == "librosa":
        import librosa

        return lambda x, y: librosa.sequence.dtw(x.T, y.T, metric="euclidean")[1][::-1]
    if lib == "dtw-python":
        import dtw as dtwpy

        def run(x, y):
            a = dtwpy.dtw(x, y, dist_method="euclidean", step_pattern="symmetric2")
            return np.c_[a.index1, a.index2]
        return run
    if lib == "linmdtw":
        import linmdtw

        def run(x, y):
            xs = np.ascontiguousarray(x, dtype=np.float32)
            ys = np.ascontiguousarray(y, dtype=np.float32)
            return np.asarray(linmdtw.linmdtw(xs, ys, do_gpu=False)[1])
        return run
    if lib == "synctoolbox":
        from synctoolbox.dtw.mrmsdtw import sync_via_mrmsdtw

        def run(x, y):
            p = sync_via_mrmsdtw(f_chroma1=x.T, f_chroma2=y.T, input_feature_rate=50,
                                 verbose=False)
            return np.asarray(p).T
        return run
    raise ValueError(lib)


def _rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _peak_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def worker(lib, case, repeat, scale, out_path):
    n, d, band = CASES[case]
    n = max(100, int(n * scale))
    run = _runner(lib, n, d, band)
    # warm-up on an input of the case's size (another seed): the engine picks its kernels
    # by size and memory (band, tiles, pruned, multiscale), and a 500-frame warm-up left
    # the tiles kernels to compile inside the timed run (d12_8k on an empty numba cache:
    # 6.4 s instead of 0.07 s)
    wx, wy = make_inputs(n, d, seed=1)
    run(wx, wy)  # JIT compile, caches
    x, y = make_inputs(n, d)
    times = []
    peak = None
    path = None
    for _ in range(repeat):
        base = _rss_bytes()
        ok = _reset_peak()
        t0 = time.perf_counter()
        path = run(x, y)
        times.append(time.perf_counter() - t0)
        if ok:
            extra = _peak_bytes() - base
            peak = extra if peak is None else max(peak, extra)
        if times[-1] > 5.0:
            break
    np.save(out_path.with_suffix(".npy"), np.asarray(path, dtype=np.int64))
    out_path.write_text(json.dumps({"times": times, "peak_bytes": peak, "n": n}))


# ------------------------------------------------------------------------ driver
def run_one(lib, case, repeat, scale, timeout_s):
    out = HERE / f".tmp_{lib}_{case}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--worker", lib, case, "--repeat", str(repeat),
           "--scale", str(scale), "--out", str(out)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout_s} s"}
    if proc.returncode != 0 or not out.exists():
        last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return {"error": last[:120]}
    res = json.loads(out.read_text())
    res["path"] = np.load(out.with_suffix(".npy"))
    out.unlink()
    out.with_suffix(".npy").unlink()
    res["wall_s"] = time.perf_counter() - t0
    return res


def path_agreement(path, exact, n):
    """Fraction of frames of A whose mean matched frame of B is within one frame."""
    def mean_j(p):
        sums = np.bincount(p[:, 0], weights=p[:, 1], minlength=n)
        counts = np.bincount(p[:, 0], minlength=n)
        return sums / np.maximum(counts, 1)
    return float(np.mean(np.abs(mean_j(path) - mean_j(exact)) <= 1.0))


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, "
            f"load average {load:.1f} at start")


def fmt_bytes(b):
    if b is None:
        return "?"
    return f"{b / 2**20:.0f} MB" if b < 2**30 else f"{b / 2**30:.2f} GB"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs=2, metavar=("LIB", "CASE"))
    ap.add_argument("--out", type=Path)
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--libs", nargs="*", default=LIBRARIES + ["ours-exact"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--results", type=Path, default=HERE / "results.md")
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker[0], args.worker[1], args.repeat, args.scale, args.out)
        return 0
    lines = ["# DTW benchmark", "", f"Machine: {machine()}.", "",
             f"Run: `python benchmarks/dtw/bench.py {' '.join(sys.argv[1:])}`, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Median of "
             f"{args.repeat} runs (one when a run takes over 5 s), JIT warm-up excluded, "
             "costs included; memory = growth of the peak resident set during the run.",
             ""]
    for case in args.cases:
        n, d, band = CASES[case]
        if case == LONG_CASE:
            libs = [lib for lib in args.libs if lib in LONG_LIBS]
        else:
            libs = [lib for lib in args.libs if lib != "ours-exact"]
        libs = [lib for lib in libs if lib != "ours-sweep" or case != LONG_CASE]
        results = {}
        for lib in libs:
            if (lib, case) in SKIP:
                results[lib] = {"error": "not run: " + SKIP[(lib, case)]}
                continue
            print(f"{case}: {lib} ...", flush=True)
            results[lib] = run_one(lib, case, args.repeat, args.scale, args.timeout)
            r = results[lib]
            print("   ", r.get("error") or
                  f"{statistics.median(r['times']):.3f} s, {fmt_bytes(r['peak_bytes'])}",
                  flush=True)
        ok = {k: v for k, v in results.items() if "error" not in v}
        med = {k: statistics.median(v["times"]) for k, v in ok.items()}
        others = {k: t for k, t in med.items() if not k.startswith("ours")}
        fastest = min(others, key=others.get) if others else None
        title = f"{case}: N = M = {int(n * args.scale):,}, d = {d}" + (
            f", Sakoe-Chiba band {int(band * 100)} %" if band else "")
        lines += [f"## {title}", "", "| library | time | peak memory | "
                  "fastest other / this |", "|---|---|---|---|"]
        for lib, r in results.items():
            if "error" in r:
                lines.append(f"| {lib} | {r['error']} | | |")
                continue
            ratio = others[fastest] / med[lib] if fastest else float("nan")
            lines.append(f"| {lib} | {med[lib]:.3f} s | {fmt_bytes(r['peak_bytes'])} | "
                         f"{ratio:.1f}x |")
        if case == LONG_CASE and "ours" in ok and "ours-exact" in ok:
            agree = path_agreement(ok["ours"]["path"], ok["ours-exact"]["path"],
                                   ok["ours"]["n"])
            lines += ["", f"Default (multiscale) path within one frame of the exact path "
                          f"on {100 * agree:.2f} % of the frames of A."]
            if "synctoolbox" in ok:
                agree_s = path_agreement(ok["synctoolbox"]["path"], ok["ours-exact"]["path"],
                                         ok["ours"]["n"])
                lines.append(f"synctoolbox MrMsDTW path (cosine cost) within one frame of "
                             f"the exact path on {100 * agree_s:.2f} % of the frames.")
        lines.append("")
        args.results.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
