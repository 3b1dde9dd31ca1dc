"""Batches on a real Dask cluster (a scheduler and two workers as separate processes on
127.0.0.1) and on the shared data set (the same results as ``align``, pair by pair)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from batch_helpers import make_pairs, write_manifest

from core import cli
from core.batch import read_summary
from core.batch.runner import RECORDS_FOLDER

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 90


def _wait_for(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def test_a_batch_on_a_running_cluster_survives_a_killed_worker(tmp_path):
    from distributed import Client

    pairs = make_pairs(tmp_path, 8, note_s=0.25, repeat=2)
    manifest = write_manifest(tmp_path / "pairs.csv", [
        {"id": f"p{k}", "a": a.name, "b": b.name} for k, (a, b) in enumerate(pairs)])
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO),
               # the settings the local cluster uses (a pair that kills two workers fails)
               DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1",
               DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0")
    scheduler_file = tmp_path / "scheduler.json"
    python = [sys.executable, "-m"]
    logs = {name: open(tmp_path / f"{name}.log", "w")
            for name in ("scheduler", "w0", "w1", "batch")}
    processes = []
    client = None

    def start(args, name):
        process = subprocess.Popen(args, env=env, cwd=tmp_path, stdout=logs[name],
                                   stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    try:
        start(python + ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                        "0", "--no-dashboard", "--scheduler-file", str(scheduler_file),
                        "--idle-timeout", "300s"], "scheduler")
        _wait_for(scheduler_file.exists, 60, "the scheduler")
        workers = [start(python + ["distributed.cli.dask_worker", "--scheduler-file",
                                   str(scheduler_file), "--host", "127.0.0.1", "--nthreads",
                                   "1", "--no-nanny", "--no-dashboard", "--name", name,
                                   "--death-timeout", "60", "--memory-limit", "0"], name)
                   for name in ("w0", "w1")]
        client = Client(scheduler_file=str(scheduler_file), timeout=30, set_as_default=False)
        client.wait_for_workers(2, timeout=60)
        address = client.scheduler.address
        pids = client.run(os.getpid)
        victim_address = next(a for a, pid in pids.items() if pid == workers[0].pid)

        batch = start(python + ["inspector.launch", "batch", str(manifest), "-o", str(out),
                                "--scheduler", address], "batch")
        killed_keys: list[str] = []

        def victim_is_busy_mid_batch():
            if batch.poll() is not None:
                return True
            done = list((out / RECORDS_FOLDER).glob("*.json")) if out.exists() else []
            keys = client.processing(workers=[victim_address]).get(victim_address, [])
            if done and keys:
                killed_keys.extend(keys)
                workers[0].send_signal(signal.SIGKILL)
                return True
            return False

        _wait_for(victim_is_busy_mid_batch, TIMEOUT_S, "a worker busy in the middle of the "
                                                        "batch")
        assert killed_keys, "the batch ended before a worker could be killed"
        assert workers[0].wait(timeout=30) == -signal.SIGKILL
        status = batch.wait(timeout=TIMEOUT_S)
        log = (tmp_path / "batch.log").read_text()
        assert status == 0, log
    finally:
        if client is not None:
            client.close()
        for process in processes:
            _stop(process)
        for handle in logs.values():
            handle.close()
    rows = read_summary(out)
    assert sorted(r.id for r in rows) == sorted(f"p{k}" for k in range(len(pairs)))
    assert len({r.id for r in rows}) == len(rows) == len(pairs)  # each pair exactly once
    assert all(r.status == "ok" for r in rows), rows
    # the pair that was running on the killed worker was done again on the other one
    index = int(killed_keys[0].rsplit("-", 1)[1])
    assert (out / f"p{index}.json").is_file()
    assert "batch: 8 pairs: 8 aligned, 0 failed" in log
    assert not [p for p in os.listdir(out) if ".tmp" in p]


@pytest.mark.data
@pytest.mark.slow
def test_the_batch_gives_what_align_gives_on_the_data_set(shared_data, tmp_path, capsys):
    from core.formats import read_alignment

    with open(shared_data / "index.csv", newline="") as handle:
        index = {row["pair_id"]: row for row in csv.DictReader(handle)}
    chosen = ["speech_p02_harvard2", "music_p03_k545", "video_p01_bikes",
              "xmodal_p01_bounce_bwv26.6"]
    manifest = write_manifest(tmp_path / "pairs.csv", [
        {"id": pid, "a": shared_data / index[pid]["file_a"],
         "b": shared_data / index[pid]["file_b"]} for pid in chosen])
    out = tmp_path / "out"
    assert cli.main(["batch", str(manifest), "-o", str(out), "--workers", "2", "-q"]) == 0
    rows = {row.id: row for row in read_summary(out)}
    for pid in chosen:
        single = tmp_path / f"{pid}.json"
        assert cli.main(["align", str(shared_data / index[pid]["file_a"]),
                         str(shared_data / index[pid]["file_b"]), "-o", str(single),
                         "-q"]) == 0
        mine, theirs = read_alignment(out / f"{pid}.json"), read_alignment(single)
        # another process: integer paths are equal, floats to rounding
        np.testing.assert_array_equal(mine.path, theirs.path, err_msg=pid)
        np.testing.assert_allclose(mine.times_s, theirs.times_s, rtol=0, atol=1e-9)
        np.testing.assert_allclose(mine.confidence, theirs.confidence, rtol=0, atol=1e-6)
        assert mine.params == theirs.params
        assert mine.sources["a"]["sha256"] == theirs.sources["a"]["sha256"]
        assert rows[pid].status == "ok"
        assert rows[pid].material == mine.diagnostics["material"]
        assert rows[pid].mean_confidence == pytest.approx(float(np.mean(mine.confidence)),
                                                          abs=1e-4)
    capsys.readouterr()
