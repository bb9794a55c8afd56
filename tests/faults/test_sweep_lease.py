"""One launch at a time per sweep definition: the same sweep started again while it runs says
who is running it and exits 2 (or, with `sweep.wait=true`, waits and then finds every run
done); nothing is trained twice, no run is mislabelled FAILED, no lease is left behind."""

import contextlib
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from faults_support import (
    error_line,
    leases,
    running_children,
    split,
    started,
    stderr_of,
    store_runs,
    train,
    wait_for,
)
from mlflow.tracking import MlflowClient

from harness import all_runs, new_store
from scratchnet.tracking.failures import LOCKED_NOTE
from scratchnet.tracking.names import FAILURE_TAG
from scratchnet.tracking.store import open_client
from scratchnet.tracking.sweeps import open_experiment

pytestmark = pytest.mark.slow
SWEEP = ("trainer.epochs=600", "data.train_size=200", "seed=0,1")
EXPERIMENT = "locked_out"


def training_child(client: MlflowClient) -> list | None:
    """A RUNNING child whose inputs are logged: it trains, and writes nothing until it ends."""
    running = running_children(client, 1, 0) or []
    return [r for r in running if client.get_run(r.info.run_id).inputs.dataset_inputs] or None


def test_the_same_sweep_started_twice_is_refused_or_waits_and_runs_once(tmp_path: Path) -> None:
    store_uri = new_store(tmp_path / "store")
    client = MlflowClient(tracking_uri=store_uri)
    first, waiter = tmp_path / "first", tmp_path / "waiter"
    first.mkdir(), waiter.mkdir()
    quiet_store = "tracking.flush_seconds=1000"  # no write in flight while it is stopped
    with started(store_uri, *SWEEP, quiet_store, cwd=first, multirun=True) as proc:
        wait_for("the first sweep's job training", lambda: training_child(client))
        stop_between_writes(proc.pid, tmp_path / "store" / "mlflow.db")  # holding its lease
        refused = train(store_uri, *SWEEP, cwd=tmp_path, multirun=True)
        line = error_line(refused)
        assert f"is running already (pid {proc.pid} on host" in line
        assert "sweep.wait=true" in line
        with started(
            store_uri, *SWEEP, "sweep.wait=true", cwd=waiter, multirun=True, log_stdout=True
        ) as wait:
            wait_for("the waiter waiting", lambda: "sweep.wait=true" in stdout_of(waiter))
            os.killpg(proc.pid, signal.SIGCONT)
            assert proc.wait(timeout=300) == 0, stderr_of(first)[-2000:]
            assert wait.wait(timeout=300) == 0, stderr_of(waiter)[-2000:]
    (parent,), children = split(all_runs(client))
    assert parent.info.status == "FINISHED"
    assert sorted(c.info.status for c in children) == ["FINISHED", "FINISHED"]  # trained once
    assert [c.data.tags.get(FAILURE_TAG) for c in all_runs(client)] == [None] * 3
    assert leases(client) == []


def stop_between_writes(pgid: int, db: Path) -> None:
    """SIGSTOP the process group, alive and holding its lease, at a moment it holds no write
    lock on the store: stopped mid-write (a heartbeat's), it would lock every other launch out."""
    for _ in range(100):
        os.killpg(pgid, signal.SIGSTOP)
        if not write_locked(db):
            return
        os.killpg(pgid, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"process group {pgid} held the store's write lock 100 times")


def write_locked(db: Path) -> bool:
    """Whether another connection holds the write lock of the SQLite store `db`."""
    with contextlib.closing(sqlite3.connect(db, timeout=0.5)) as con:
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        con.rollback()
        return False


def stdout_of(cwd: Path) -> str:
    return (cwd / "stdout.log").read_text()


def test_a_bad_grid_into_an_existing_experiment_leaves_no_claim_behind(tmp_path: Path) -> None:
    store_uri = new_store(tmp_path / "store")
    client = MlflowClient(tracking_uri=store_uri)
    grid = ("data.train_size=200", "trainer.epochs=1", "tracking.experiment=grid")
    assert train(store_uri, *grid, "seed=0", cwd=tmp_path, multirun=True).returncode == 0
    before = len(all_runs(client))
    # The experiment exists, so the claim goes first and its settling overlaps the check.
    bad = train(store_uri, *grid, "trainer.batch_size=16,100000", cwd=tmp_path, multirun=True)
    assert bad.returncode == 2
    assert "trainer.batch_size=100000" in error_line(bad)
    assert leases(client) == []
    assert len(all_runs(client)) == before


def test_a_sweep_into_a_store_another_process_keeps_locked_says_so_in_one_line(tmp_path):
    store_uri = new_store(tmp_path / "store")
    db = tmp_path / "store" / "mlflow.db"
    open_experiment(store_uri, EXPERIMENT)  # as a sweep makes it: the lease's claim writes first
    with contextlib.closing(sqlite3.connect(db)) as holder:
        holder.execute("BEGIN IMMEDIATE")  # a write in flight that never ends (a stopped process)
        done = train(
            store_uri, *SWEEP, f"tracking.experiment={EXPERIMENT}", cwd=tmp_path, multirun=True
        )
        holder.rollback()
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0 and len(lines) == 1, done.stderr[-3000:]
    assert LOCKED_NOTE in lines[0] and str(db) in lines[0]
    assert store_runs(store_uri) == [] and leases(open_client(store_uri)) == []  # nothing half-made
