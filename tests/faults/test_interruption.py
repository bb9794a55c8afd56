"""Interruption: Ctrl-C or SIGTERM ends every run KILLED with its logged epochs kept, whether
it hits a single run, a parallel sweep's parent or one of its workers; no run is ever left
RUNNING. A SIGKILLed process cannot clean up: its run is marked FAILED when the sweep ends or
resumes, and the resumed sweep finishes each configuration exactly once."""

import os
import signal
from pathlib import Path

import pytest
from faults_support import (
    EXIT_INTERRUPTED,
    epochs_logged,
    leases,
    loky_workers,
    running_children,
    split,
    started,
    stderr_of,
    train,
    wait_for,
)
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from harness import all_runs, new_store
from scratchnet.tracking.failures import LOCKED_NOTE, LOCKED_TEXTS

pytestmark = pytest.mark.slow
# Runs that would go on for hours, logging every epoch: a signal always lands mid-run, often
# inside an MLflow write (the case that once left SQLite locked for everybody else).
ENDLESS = ("trainer.epochs=100000", "data.train_size=200", "tracking.flush_seconds=0")
PARALLEL = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
INTERRUPTS = [signal.SIGINT, signal.SIGTERM]
# Finite jobs for the resume tests: a few seconds each, so a signal lands while they run.
FINITE = ("trainer.epochs=300", "data.train_size=200", "tracking.flush_seconds=0")


def config_hashes_finished(client: MlflowClient) -> list[str]:
    _, children = split(all_runs(client))
    return sorted(
        c.data.tags["scratchnet.config_hash"] for c in children if c.info.status == "FINISHED"
    )


@pytest.mark.parametrize("sig", INTERRUPTS, ids=lambda s: s.name)
def test_a_signalled_run_ends_killed_with_its_epochs_kept(
    tmp_path: Path, sig: signal.Signals
) -> None:
    store_uri = new_store(tmp_path / "store")
    client = MlflowClient(tracking_uri=store_uri)
    with started(store_uri, *ENDLESS, cwd=tmp_path) as proc:
        (run,) = wait_for(
            "a run with 3 epochs logged",
            lambda: [r for r in all_runs(client) if epochs_logged(client, r) >= 3],
        )
        proc.send_signal(sig)
        assert proc.wait(timeout=120) == EXIT_INTERRUPTED, stderr_of(tmp_path)[-2000:]
    (run,) = all_runs(client)
    assert run.info.status == "KILLED"
    assert epochs_logged(client, run) >= 3
    assert stderr_of(tmp_path).strip().endswith("scratchnet-train: interrupted")


@pytest.mark.parametrize("target", ["parent", "worker"])
@pytest.mark.parametrize("sig", INTERRUPTS, ids=lambda s: s.name)
def test_a_signalled_parallel_sweep_ends_every_run_killed_with_its_epochs_kept(
    tmp_path: Path, sig: signal.Signals, target: str
) -> None:
    store_uri = new_store(tmp_path / "store")
    client = MlflowClient(tracking_uri=store_uri)
    with started(store_uri, *PARALLEL, *ENDLESS, "seed=0,1,2", cwd=tmp_path, multirun=True) as p:
        running = wait_for("two jobs running", lambda: running_children(client, 2, 2))
        before = {r.info.run_id: epochs_logged(client, r) for r in running}
        os.kill(p.pid if target == "parent" else loky_workers(p.pid)[0], sig)
        assert p.wait(timeout=120) == EXIT_INTERRUPTED, stderr_of(tmp_path)[-3000:]
    (parent,), children = split(all_runs(client))
    assert parent.info.status == "KILLED"
    assert [c.info.status for c in children] == ["KILLED", "KILLED"]
    for child in children:
        assert epochs_logged(client, child) >= before[child.info.run_id]
    assert parent.data.metrics["runs_killed"] == 2
    said = stderr_of(tmp_path)
    assert all(text not in said for text in (*LOCKED_TEXTS, LOCKED_NOTE))


def test_ctrl_c_in_a_terminal_ends_a_parallel_sweep_killed_with_its_epochs_kept(
    tmp_path: Path,
) -> None:
    store_uri = new_store(tmp_path / "store")
    client = MlflowClient(tracking_uri=store_uri)
    with started(store_uri, *PARALLEL, *ENDLESS, "seed=0,1,2", cwd=tmp_path, multirun=True) as p:
        running = wait_for("two jobs running", lambda: running_children(client, 2, 2))
        before = {r.info.run_id: epochs_logged(client, r) for r in running}
        os.killpg(p.pid, signal.SIGINT)  # the terminal signals the whole foreground group
        assert p.wait(timeout=120) == EXIT_INTERRUPTED, stderr_of(tmp_path)[-3000:]
    (parent,), children = split(all_runs(client))
    assert parent.info.status == "KILLED"
    assert [c.info.status for c in children] == ["KILLED", "KILLED"]
    for child in children:
        assert epochs_logged(client, child) >= before[child.info.run_id]


def test_a_sigkilled_worker_fails_its_run_its_siblings_end_killed_and_resume_finishes_each_once(
    tmp_path: Path,
) -> None:
    store_uri = new_store(tmp_path / "store")
    client = MlflowClient(tracking_uri=store_uri)
    grid = (*PARALLEL, *FINITE, "seed=0,1")
    with started(store_uri, *grid, cwd=tmp_path, multirun=True) as proc:
        running = wait_for("two jobs running", lambda: running_children(client, 2, 2))
        by_pid = {victim_pid(r): r.info.run_name for r in running}
        dead_pid = loky_workers(proc.pid)[0]
        os.kill(dead_pid, signal.SIGKILL)
        assert proc.wait(timeout=120) == 1  # a failure of the machine, not a usage error
    lines = stderr_of(tmp_path).strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0], stderr_of(tmp_path)[-3000:]
    dead_run = f"pid {dead_pid} (killed by SIGKILL; run {by_pid[dead_pid]!r})"
    assert lines[0].startswith(f"scratchnet-train: error: a sweep worker died: {dead_run}; ")
    assert "Run the same command again" in lines[0]
    (parent,), children = split(all_runs(client))
    assert parent.info.status == "FAILED"
    status = {victim_pid(c): c.info.status for c in children}
    assert status == {pid: "FAILED" if pid == dead_pid else "KILLED" for pid in by_pid}
    (sibling,) = [c for c in children if c.info.status == "KILLED"]
    assert f"pid {dead_pid} (run {by_pid[dead_pid]!r})" in sibling.data.tags["scratchnet.failure"]

    done = train(store_uri, *grid, cwd=tmp_path, multirun=True)
    assert done.returncode == 0, done.stderr[-3000:]
    (parent,), children = split(all_runs(client))
    assert parent.info.status == "FINISHED"
    hashes = config_hashes_finished(client)
    assert len(hashes) == len(set(hashes)) == 2


def victim_pid(run: Run) -> int:
    """The pid that the run's owner tag names."""
    return int(run.data.tags["scratchnet.owner"].split("pid=")[1].split()[0])


def test_a_sweep_killed_outright_is_repaired_when_it_resumes(
    tmp_path: Path,
) -> None:
    store_uri = new_store(tmp_path / "store")
    client = MlflowClient(tracking_uri=store_uri)
    grid = (*FINITE, "seed=0,1")
    with started(store_uri, *grid, cwd=tmp_path, multirun=True) as proc:
        (victim,) = wait_for("a job running", lambda: running_children(client, 1, 2))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    (parent,), children = split(all_runs(client))
    assert parent.info.status == "RUNNING"  # nobody was left to close anything
    assert [c.info.status for c in children] == ["RUNNING"]
    assert len(leases(client)) == 1  # its owner is dead: the lease has expired

    done = train(store_uri, *grid, cwd=tmp_path, multirun=True)
    assert done.returncode == 0, done.stderr[-3000:]
    (parent,), children = split(all_runs(client))
    assert parent.info.status == "FINISHED"
    assert leases(client) == []
    dead = client.get_run(victim.info.run_id)
    assert dead.info.status == "FAILED"
    assert f"its process (pid {victim_pid(victim)} on host" in dead.data.tags["scratchnet.failure"]
    hashes = config_hashes_finished(client)
    assert len(hashes) == len(set(hashes)) == 2
