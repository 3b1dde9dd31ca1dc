"""Side-by-side benchmark of core.ot / core.soft_dtw / core.ctw against POT and tslearn.

Every comparison runs both libraries in this one process on the same inputs, reports
wall-clock medians (JIT warm-up excluded: each side is called once on a small input
first) and ratios, checks that the answers agree, and writes ``results.md`` next to this
file. Sections can be chosen on the command line::

    python benchmarks/ot_soft/run.py                 # everything (a few minutes)
    python benchmarks/ot_soft/run.py sinkhorn soft   # some sections

Sections: sinkhorn, exact, unbalanced, soft, ctw, crossmodal.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from core.synthetic import mean_path_error, warped_views

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("ALIGNMENT_DATA", HERE.parents[2] / "shared" / "data"))


def timed(fn, repeat=1):
    """Median wall time over ``repeat`` calls and the last result."""
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def peak_mb(fn):
    """Peak of numpy/Python allocations (tracemalloc) during ``fn``, in MB."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------------------ OT
def section_sinkhorn(lines, n=5000, d=12, reg=2.0, tol=1e-9):
    import ot as pot

    from core import ot

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, d))
    y = rng.standard_normal((n, d)) + 0.2
    a = np.full(n, 1.0 / n)
    ot(x[:50], y[:50], reg=reg)  # warm-up (numba cache load)
    pot.sinkhorn(a[:50] * n / 50, a[:50] * n / 50, pot.dist(x[:50], y[:50]), reg,
                 method="sinkhorn_log")

    def run_pot():
        M = pot.dist(x, y)
        G, log = pot.sinkhorn(a, a, M, reg, method="sinkhorn_log", stopThr=tol,
                              numItermax=100000, log=True)
        return G, log, float(np.sum(G * M))

    def run_ours():
        return ot(x, y, reg=reg, tol=tol, max_iter=100000)

    t_pot, (G, log, cost_pot) = timed(run_pot)
    t_ours, r = timed(run_ours, repeat=3)
    diff = float(np.max(np.abs(G - r.plan)))
    rel = diff / float(G.max())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mem_pot = peak_mb(run_pot) if n <= 5000 else float("nan")
    mem_ours = peak_mb(run_ours)
    d_ = r.diagnostics
    lines += [
        f"## Entropic OT (log-domain Sinkhorn), n = m = {n}, d = {d}, reg = {reg}, "
        f"tol = {tol:g}, uniform weights, squared euclidean",
        "",
        "| | POT `ot.sinkhorn(method=\"sinkhorn_log\")` (incl. `ot.dist`) | core.ot "
        "(incl. plan and path) | ratio |",
        "|---|---|---|---|",
        f"| time | {t_pot:.2f} s | {t_ours:.2f} s (median of 3) | **{t_pot / t_ours:.1f}x** |",
        f"| iterations | {log['niter']} (checks every 10) | {d_['n_iter']} "
        f"(stages {d_['stage_iters']}) | |",
        f"| peak numpy memory | {mem_pot:.0f} MB | {mem_ours:.0f} MB | |",
        f"| transport cost <plan, C> | {cost_pot:.12g} | {r.distance:.12g} | "
        f"rel. diff {abs(cost_pot - r.distance) / cost_pot:.1e} |",
        "",
        f"Plans: max |P_pot - P_ours| = {diff:.2e} (entries up to {G.max():.2e}; "
        f"{rel:.1e} of the largest entry). Marginal error (L2, columns): ours "
        f"{d_['marginal_error']:.1e}. Our time includes the plan (computed row block by "
        f"row block from the potentials) and `plan_to_path` on the 5000 x 5000 plan; "
        f"Sinkhorn keeps O(N + M) memory besides the plan (costs are recomputed each "
        f"pass, one pass per iteration).",
        "",
    ]


def section_exact(lines):
    import ot as pot
    from scipy.optimize import linear_sum_assignment

    from core import ot

    rng = np.random.default_rng(1)
    rows = []
    worst = 0.0
    ratios = {}
    for n, m in [(50, 70), (400, 400), (1000, 1100), (2000, 2200), (3000, 3300),
                 (5000, 5500)]:
        d = 5 if n < 1000 else 12
        x = rng.standard_normal((n, d))
        y = rng.standard_normal((m, d)) * 1.2
        a = rng.random(n) + 0.05
        b = rng.random(m) + 0.05
        a /= a.sum()
        b /= b.sum()
        if n == 50:  # warm-up
            ot(x, y, a=a, b=b, method="emd")

        def run_pot(a=a, b=b, x=x, y=y):
            return pot.emd2(a, b, pot.dist(x, y), numItermax=10**9)

        t_pot, e = timed(run_pot)
        t_ours, r = timed(lambda a=a, b=b, x=x, y=y: ot(x, y, a=a, b=b, method="emd"))
        rel = abs(r.distance - e) / e
        worst = max(worst, rel)
        ratios[n] = t_pot / t_ours
        rows.append(f"| {n} x {m}, d = {d}, random weights | {e:.15g} | {r.distance:.15g} | "
                    f"{rel:.1e} | {t_pot:.3f} s | {t_ours:.3f} s ({t_pot / t_ours:.2f}x, "
                    f"{r.diagnostics['n_pivots']} pivots) |")
    n = 2000
    x = rng.standard_normal((n, 12))
    y = rng.standard_normal((n, 12))
    M = pot.dist(x, y)
    t_lsa, (ri, ci) = timed(lambda: linear_sum_assignment(M))
    t_ours, r = timed(lambda: ot(x, y, method="assignment"))
    same = bool(np.array_equal(r.diagnostics["assignment"][:, 1], ci))
    t_pot, e = timed(lambda: pot.emd2(np.full(n, 1 / n), np.full(n, 1 / n), M,
                                      numItermax=10**8))
    rows.append(f"| {n} x {n}, uniform (assignment) | {e:.15g} | {r.distance:.15g} | "
                f"{abs(r.distance - e) / e:.1e} | {t_pot:.3f} s | {t_ours:.3f} s |")
    lines += [
        "## Exact OT and assignment",
        "",
        "| problem | POT `emd2` (numItermax=1e8) | core.ot(method=\"emd\" / \"assignment\") "
        "| rel. diff | POT time | our time |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Worst relative difference on random-weight problems: {worst:.1e} (target 1e-9). "
        f"Assignment n = {n}: same matching as `scipy.optimize.linear_sum_assignment`: "
        f"{same} (scipy alone {t_lsa:.2f} s). Exact OT with non-uniform weights uses "
        "our network simplex (numba, block search pivots; times include the cost matrix, "
        "the dense plan and plan_to_path, POT's include `ot.dist`); uniform N = M uses "
        "the assignment solver. Speed ratio POT / ours for n >= 1000: "
        + ", ".join(f"{k}: {v:.2f}x" for k, v in ratios.items() if k >= 1000) + ".",
        "",
    ]


def section_unbalanced(lines, n=2000, d=12, reg=1.0, reg_m=2.0):
    import ot as pot

    from core import ot

    rng = np.random.default_rng(2)
    x = rng.standard_normal((n, d))
    y = rng.standard_normal((n, d)) + 0.3
    a = rng.random(n) + 0.1
    b = 1.5 * (rng.random(n) + 0.1)
    a /= a.sum()
    b /= b.sum() / 1.5
    ot(x[:20], y[:20], a=a[:20], b=b[:20], method="unbalanced", reg=reg)

    def run_pot():
        M = pot.dist(x, y)
        return pot.unbalanced.sinkhorn_unbalanced(a, b, M, reg, reg_m, stopThr=1e-9,
                                                  numItermax=100000)

    t_pot, G = timed(run_pot)
    t_ours, r = timed(lambda: ot(x, y, a=a, b=b, method="unbalanced", reg=reg,
                                 reg_m=reg_m, tol=1e-9, max_iter=100000), repeat=3)
    diff = float(np.max(np.abs(G - r.plan)))
    lines += [
        f"## Unbalanced OT (KL-relaxed marginals), n = m = {n}, d = {d}, reg = {reg}, "
        f"reg_m = {reg_m}, masses 1 and 1.5",
        "",
        "| POT `sinkhorn_unbalanced` (plain domain, incl. `ot.dist`) | core.ot "
        f"({r.diagnostics['domain']}) | ratio | max plan diff |",
        "|---|---|---|---|",
        f"| {t_pot:.2f} s | {t_ours:.2f} s | {t_pot / t_ours:.1f}x | {diff:.1e} "
        f"(entries up to {G.max():.1e}) |",
        "",
    ]


# ------------------------------------------------------------------------------ soft
def section_soft(lines, n=4000):
    from tslearn import metrics as tm

    from core.soft import soft_dtw, soft_dtw_grad

    rows = []
    for d in (1, 12):
        rng = np.random.default_rng(3)
        x = rng.standard_normal((n, d))
        y = rng.standard_normal((n, d))
        small = (x[:20], y[:20])
        tm.soft_dtw(*small)
        tm.soft_dtw_alignment(*small)
        soft_dtw(*small)
        soft_dtw_grad(*small)

        def ts_grad(x=x, y=y):
            sq = tm.SquaredEuclidean(x, y)
            sdtw = tm.SoftDTW(sq.compute(), gamma=1.0)
            value = sdtw.compute()
            return value, sq.jacobian_product(sdtw.grad())

        t_tv, v_ts = timed(lambda x=x, y=y: tm.soft_dtw(x, y, gamma=1.0), repeat=3)
        t_ov, r_v = timed(lambda x=x, y=y: soft_dtw(x, y, gamma=1.0, return_plan=False),
                          repeat=3)
        t_ta, (A_ts, va_ts) = timed(lambda x=x, y=y: tm.soft_dtw_alignment(x, y, gamma=1.0),
                                    repeat=3)
        t_oa, r_a = timed(lambda x=x, y=y: soft_dtw(x, y, gamma=1.0), repeat=3)
        t_tg, (vg_ts, g_ts) = timed(ts_grad, repeat=3)
        t_og, (vg, g) = timed(lambda x=x, y=y: soft_dtw_grad(x, y, gamma=1.0), repeat=3)
        rows += [
            f"| d={d} value | {t_tv:.3f} s | {t_ov:.3f} s | **{t_tv / t_ov:.1f}x** | "
            f"{abs(v_ts - r_v.distance) / abs(v_ts):.1e} |",
            f"| d={d} value + expected alignment E | {t_ta:.3f} s | {t_oa:.3f} s | "
            f"**{t_ta / t_oa:.1f}x** | E max diff {np.max(np.abs(A_ts - r_a.plan)):.1e} |",
            f"| d={d} value + gradient w.r.t. x | {t_tg:.3f} s | {t_og:.3f} s | "
            f"**{t_tg / t_og:.1f}x** | grad max rel diff "
            f"{np.max(np.abs(g_ts - g)) / np.max(np.abs(g_ts)):.1e} |",
        ]
    lines += [
        f"## soft-DTW, N = M = {n}, gamma = 1, squared euclidean",
        "",
        "| case | tslearn | core | ratio | agreement |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "tslearn: `soft_dtw`, `soft_dtw_alignment`, and `SquaredEuclidean` + `SoftDTW` "
        "(`compute`, `grad`, `jacobian_product`) for the gradient. Ours: anti-diagonal "
        "forward and backward passes (vectorized exp/log), costs computed on the fly; "
        "`soft_dtw` includes `plan_to_path` on E; the gradient is accumulated in the "
        "backward pass without forming E. Medians of 3.",
        "",
    ]


# ------------------------------------------------------------------------------ CTW
def section_ctw(lines):
    from tslearn.metrics import ctw_path

    from core import ctw, dtw

    rows = []
    for seed, (noise, latent) in enumerate([(0.1, 3), (0.1, 4), (0.2, 3), (0.3, 5)]):
        x, y, j_true = warped_views(1000, 1200, 20, 30, latent, noise, seed)
        if seed == 0:
            ctw_path(x[:50], y[:60])
            ctw(x[:100], y[:120])
        t_ts, (p_ts, *_rest) = timed(lambda x=x, y=y: ctw_path(x, y))
        t_ours, r = timed(lambda x=x, y=y: ctw(x, y))
        r1 = ctw(x, y, max_iter=1, multiscale=False)
        try:
            dtw(x, y)
            plain = "runs"
        except ValueError as exc:
            plain = f"cannot run ({str(exc).split(':')[0]})"
        rows.append(f"| {seed} | {noise} | {latent} | {mean_path_error(p_ts, j_true):.2f} "
                    f"({t_ts:.2f} s) | {mean_path_error(r.path, j_true):.2f} ({t_ours:.2f} s, "
                    f"{r.diagnostics['n_iter']} full-rate iterations, "
                    f"k = {r.diagnostics['n_components']}) | "
                    f"{mean_path_error(r1.path, j_true):.2f} | {plain} |")
    x, y, j_true = warped_views(1000, 1200, 12, 12, 3, 0.1, 9)
    plain_err = mean_path_error(dtw(x, y, metric="sqeuclidean").path, j_true)
    ctw_err = mean_path_error(ctw(x, y).path, j_true)
    lines += [
        "## CTW on a known warp: x 1000 x 20, y 1200 x 30 (unknown linear maps of a "
        "smooth latent path, noise, non-linear warps)",
        "",
        "Mean |path j - true j| over the frames of A, in frames of B.",
        "",
        "| seed | noise | latent dim | tslearn `ctw_path` | core.ctw | core.ctw max_iter=1, "
        "no levels | plain DTW |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Same dimension (12 and 12, different maps): plain DTW (sqeuclidean) error "
        f"{plain_err:.1f} frames, core.ctw {ctw_err:.2f} frames.",
        "",
    ]


# ------------------------------------------------------------------------------ cross-modal
def _crossmodal_features(pair, rate_hz):
    """Video: grey thumbnails reduced by PCA plus motion; audio: onset strength and
    chroma. Uses core.features/core.media when present."""
    from core.features import compute_features
    from core.media import open_recording

    va = open_recording(pair / "video.mp4")
    au = open_recording(pair / "audio.wav")
    thumb = compute_features(va, "thumbnail", rate_hz=rate_hz).values
    motion = compute_features(va, "motion", rate_hz=rate_hz).values
    onset = compute_features(au, "onset", rate_hz=rate_hz).values
    chroma = compute_features(au, "chroma", rate_hz=rate_hz).values
    logmel = compute_features(au, "logmel", rate_hz=rate_hz).values
    return {"thumbnail": thumb, "motion": motion, "onset": onset, "chroma": chroma,
            "logmel": logmel}


def section_crossmodal(lines, rate_hz=20.0):
    sys.path.insert(0, str(DATA))
    import eval_alignment as ev

    from core import ctw

    pair = DATA / "public" / "crossmodal" / "xmodal_p01_bounce_bwv26.6"
    if not pair.exists():
        lines += ["## Cross-modal pair", "", f"skipped: {pair} not found", ""]
        return
    gt_a, gt_b = ev.load_gt(str(pair))
    t0 = time.perf_counter()
    f = _crossmodal_features(pair, rate_hz)
    t_feat = time.perf_counter() - t0
    na, nb = len(f["thumbnail"]), len(f["onset"])
    linear = np.stack([np.linspace(0, (na - 1) / rate_hz, 200),
                       np.linspace(0, (nb - 1) / rate_hz, 200)], axis=1)
    s_lin = ev.score(gt_a, gt_b, linear)

    def z(a):
        s = a.std(0)
        return (a - a.mean(0)) / np.where(s > 0, s, 1.0)

    video = np.hstack([f["thumbnail"], z(f["motion"])])
    audios = {"onset + chroma": np.hstack([z(f["onset"]), z(f["chroma"])]),
              "log-mel": f["logmel"]}
    rows = [f"| linear stretch | | {s_lin['mae_ms']:.0f} | {s_lin['median_ms']:.0f} | "
            f"{100 * s_lin['within_100ms']:.0f} % | {100 * s_lin['within_200ms']:.0f} % | |"]
    sweep = []
    default = None
    for aname, audio in audios.items():
        for reg, coarse, init in (("auto", "default", "default"),
                                  ("auto", "default", "uniform"),
                                  ("auto", None, "uniform"), ("auto", None, "energy"),
                                  ("auto", None, "novelty"), (0.1, None, "uniform"),
                                  (1.0, None, "uniform"), ("auto", 1.0, "energy")):
            for min_frames in (64,):
                t0 = time.perf_counter()
                kw = {} if coarse == "default" else {"coarse_reg": coarse}
                if init != "default":
                    kw["init"] = init
                r = ctw(video, audio, reg=reg, min_frames=min_frames, rate_a_hz=rate_hz,
                        rate_b_hz=rate_hz, **kw)
                el = time.perf_counter() - t0
                s = ev.score(gt_a, gt_b, np.asarray(r.times_s))
                sweep.append(s["mae_ms"])
                is_default = coarse == "default" and init == "default"
                label = ("defaults (6 runs, held-out selection)" if is_default else
                         f"reg={reg}, coarse_reg={coarse}, init={init}")
                if min_frames == 64:
                    rows.append(
                        f"| core.ctw, {label} | "
                        f"thumbnail + motion vs {aname} | {s['mae_ms']:.0f} | "
                        f"{s['median_ms']:.0f} | {100 * s['within_100ms']:.0f} % | "
                        f"{100 * s['within_200ms']:.0f} % | {el:.2f} s, "
                        f"k = {r.diagnostics['n_components']} |")
                if is_default and aname == "log-mel":
                    default = r
    sweep = np.array(sweep)
    out = HERE / "crossmodal_ctw.csv"
    with open(out, "w") as fh:
        fh.write("time_a_s,time_b_s\n")
        for ta, tb in default.times_s:
            fh.write(f"{ta:.4f},{tb:.4f}\n")
    lines += [
        f"## Cross-modal pair {pair.name} (A = video, B = marimba audio), "
        f"features at {rate_hz:g} Hz",
        "",
        "Scored with `eval_alignment.py` (A -> B, 40 note events). Video: 32 x 18 grey "
        "thumbnails (576 values) + motion; audio: onset strength + chroma, or 64 log-mel "
        "bands (core.media + core.features).",
        "",
        "| method | features | mean error ms | median ms | <= 100 ms | <= 200 ms | notes |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Sensitivity: over the {len(sweep)} CTW calls above the mean error is "
        f"{np.median(sweep):.0f} ms median, {sweep.min():.0f} ms best, {sweep.max():.0f} ms "
        f"worst; {np.mean(sweep < s_lin['mae_ms'] / 2):.0%} of the runs are more than "
        f"twice as good as the linear stretch. CTW finds local optima on this pair (whole "
        f"notes slip); the default keeps, among 6 runs (uniform and energy-curve starts "
        f"x 3 coarse regularizations), the one with the lowest held-out CCA misfit. "
        f"Features took {t_feat:.1f} s. The default run on log-mel is in "
        f"`crossmodal_ctw.csv`.",
        "",
    ]


SECTIONS = {"sinkhorn": section_sinkhorn, "exact": section_exact,
            "unbalanced": section_unbalanced, "soft": section_soft, "ctw": section_ctw,
            "crossmodal": section_crossmodal}


def main(argv):
    chosen = argv or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    import numba

    lines = [
        "# core.ot / core.soft_dtw / core.ctw against POT and tslearn",
        "",
        f"Generated by `benchmarks/ot_soft/run.py {' '.join(argv)}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other jobs (absolute times are noisy, ratios "
        f"less so), Python {platform.python_version()}, numpy {np.__version__}, numba "
        f"{numba.__version__}; load average at start {os.getloadavg()[0]:.1f}. Both sides "
        "run in this process on the same inputs; "
        "JIT warm-up excluded.",
        "",
    ]
    for name in chosen:
        print(f"running {name} ...", flush=True)
        t0 = time.perf_counter()
        SECTIONS[name](lines)
        print(f"  {time.perf_counter() - t0:.1f} s", flush=True)
    lines.append(f"Load average at the end: {os.getloadavg()[0]:.1f} (1 min).")
    text = "\n".join(lines) + "\n"
    (HERE / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
