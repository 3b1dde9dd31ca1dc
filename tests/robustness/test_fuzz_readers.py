"""At least 1,000 seeded fuzz cases per reader (issue 19): no crash, no hang, only
ValueErrors naming the file or valid results, no warning, no temporary file left.

The cases run in one child process per reader (see ``fuzzing.py``), two readers at a
time; a crash or a hang in C code is attributed to its case and the child restarted
after it. ``ALIGNMENT_INSPECTOR_FUZZ_CASES`` and ``ALIGNMENT_INSPECTOR_FUZZ_SEED`` change
the number of cases and the seed (CI: 1,000 and 19); a failing case is reproduced with
``python tests/robustness/fuzzing.py READER SEED K K+1 FOLDER``.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from fuzzing import CASE_TIMEOUT_S, READERS, ROOT  # tests/robustness is on sys.path

N_CASES = int(os.environ.get("ALIGNMENT_INSPECTOR_FUZZ_CASES", "1000"))
SEED = int(os.environ.get("ALIGNMENT_INSPECTOR_FUZZ_SEED", "19"))
FUZZING = Path(__file__).with_name("fuzzing.py")
#: Time allowed for a child to start (imports numpy, soundfile, OpenCV) and make seeds.
STARTUP_S = 120.0


def _scratch(base: Path) -> Path:
    """A folder for the cases: in memory when the machine has one (every writer fsyncs;
    on a busy disk that, not the readers, would dominate the run)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="fuzz-", dir=shm))
    return Path(tempfile.mkdtemp(prefix="fuzz-", dir=base))


def run_reader(name: str, folder: Path) -> dict:
    """All cases of one reader; returns counts, failures and stray files."""
    counts: collections.Counter = collections.Counter()
    failures: list[dict] = []
    private_tmp = folder / "tmp"
    private_tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(private_tmp)}
    start = 0
    while start < N_CASES:
        err_path = folder / f"stderr-{start}.txt"
        with open(err_path, "wb") as err:
            proc = subprocess.Popen([sys.executable, str(FUZZING), name, str(SEED), str(start),
                                     str(N_CASES), str(folder / "work")],
                                    stdout=subprocess.PIPE, stderr=err, env=env)
        current, done, pending = None, False, b""
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        try:
            while True:
                limit = STARTUP_S if current is None else CASE_TIMEOUT_S + 30
                if not selector.select(timeout=limit):
                    proc.kill()
                    proc.wait()
                    failures.append({"case": current, "status": "hang",
                                     "detail": f"no answer for {limit:g} s (a hang in C?)"})
                    break
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    code = proc.wait()
                    if not done:
                        tail = err_path.read_text(errors="replace")[-800:]
                        failures.append({"case": current, "status": "crash",
                                         "detail": f"exit status {code}: {tail}"})
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    record = json.loads(line)
                    if "start" in record:
                        current = record["start"]
                    elif "done" in record:
                        done = True
                    else:
                        counts[record["status"]] += 1
                        if record["status"] not in ("ok", "refused"):
                            failures.append(record)
        finally:
            selector.close()
            proc.stdout.close()
        if done:
            break
        if current is None:  # the child died before its first case: no point retrying
            failures.append({"case": None, "status": "crash",
                             "detail": err_path.read_text(errors="replace")[-800:]})
            break
        counts["crash" if failures[-1]["status"] == "crash" else "hang"] += 1
        start = current + 1
    cases = folder / "work" / "cases"
    strays = sorted(p.name for p in cases.iterdir() if not p.name.startswith("case")) \
        if cases.is_dir() else []
    strays += sorted(p.name for p in private_tmp.iterdir())
    return {"counts": counts, "failures": failures, "strays": strays}


@pytest.fixture(scope="session")
def fuzz_results(tmp_path_factory):
    """Every reader's results, two children at a time (the machine has two cores)."""
    base = tmp_path_factory.mktemp("fuzz")
    folder = _scratch(base)
    t0 = time.perf_counter()
    try:
        for name in READERS:
            (folder / name).mkdir()
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            futures = {name: pool.submit(run_reader, name, folder / name) for name in READERS}
            results = {name: future.result() for name, future in futures.items()}
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    elapsed = time.perf_counter() - t0
    total = collections.Counter()
    for name, result in results.items():
        total.update(result["counts"])
        print(f"fuzz {name}: {dict(result['counts'])}")
    print(f"fuzz: {sum(total.values())} cases over {len(results)} readers in {elapsed:.1f} s: "
          f"{dict(total)}")
    return results


@pytest.mark.parametrize("reader", sorted(READERS))
def test_reader_survives_fuzzing(fuzz_results, reader):
    result = fuzz_results[reader]
    counts = result["counts"]
    assert sum(counts.values()) == N_CASES
    assert not result["failures"], "\n".join(
        f"case {f['case']}: {f['status']}: {f['detail']}" for f in result["failures"][:10])
    assert not result["strays"], f"files left behind: {result['strays']}"
    assert counts["ok"] > 0 and counts["refused"] > 0  # the mutations reach both outcomes
