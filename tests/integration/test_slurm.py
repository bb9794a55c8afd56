"""Sweeps on a real SLURM cluster (submitit) into the PostgreSQL-backed tracking server.

A single-node cluster from Debian's packages (`slurm_cluster.py`: munge, slurmctld, slurmd,
and slurmdbd on MariaDB for `sacct`) and the stack of `scripts/server.py`, both on loopback.
`hydra/launcher=slurm` submits a 4-job grid as one array job: 4 children of one parent, every
epoch of every run in PostgreSQL, and each run tagged with the array task that ran it, as
`sacct` knows it. Then a job cancelled with `scancel` while it trains ends KILLED with its
epochs kept, and re-running the same command resumes the sweep: the finished job skipped,
the cancelled one trained again.
"""

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration_support import (
    Stack,
    count_metric_rows,
    port_open,
    postgres_missing,
    server_stack,
    shared_tmp_dir,
    sweep,
)
from mlflow.entities import Run
from mlflow.tracking import MlflowClient
from slurm_cluster import (
    ACCOUNT,
    PARTITION,
    Cluster,
    processes_of,
    slurm_cluster,
    slurm_missing,
)

from harness import BIN, run_cli
from scratchnet.tracking.names import (
    EPOCH_METRICS,
    FAILED,
    FINISHED,
    KILLED,
    PARENT_TAG,
    SLURM_JOB_TAG,
    SWEEP_PARENT_TAG,
)
from scratchnet.tracking.provenance import slurm_job_id

# The recipe of docs/cluster.md: our preset, with a partition, a time limit and an account.
SLURM = ("tracking=server", "hydra/launcher=slurm", f"hydra.launcher.partition={PARTITION}",
         "hydra.launcher.timeout_min=5", f"hydra.launcher.account={ACCOUNT}")  # fmt: skip
GRID = ("trainer.lr=0.1,0.5", "model.hidden_size=5,20")
JOBS, EPOCHS = 4, 3  # the grid's size; integration_support.TINY's epochs
# The sweep to cancel: all 1,347 training digits in batches of 16 (~30 epochs/s here, on one
# BLAS thread), so its long job trains ~7 s; epochs reach the server every 0.5 s.
LONG_EPOCHS = 200
CANCEL_ARGS = ("trainer.progress=false", "trainer.batch_size=16", "model.hidden_size=200",
               "tracking.flush_seconds=0.5", f"trainer.epochs=3,{LONG_EPOCHS}")  # fmt: skip


def test_the_slurm_job_tag_names_an_array_task_as_sacct_does():
    array = {"SLURM_JOB_ID": "14", "SLURM_ARRAY_JOB_ID": "12", "SLURM_ARRAY_TASK_ID": "2"}
    assert slurm_job_id(array) == "12_2"
    assert slurm_job_id({"SLURM_JOB_ID": "7"}) == "7"
    assert slurm_job_id({}) is None


@pytest.fixture
def cluster(monkeypatch) -> Iterator[Cluster]:
    """A one-node SLURM cluster in a fresh folder; `SLURM_CONF` points the clients at it."""
    reason = slurm_missing()
    if reason:
        pytest.skip(reason)
    with shared_tmp_dir("scratchnet-slurm-") as folder:
        with slurm_cluster(folder) as running:
            monkeypatch.setenv("SLURM_CONF", str(running.lay.conf))
            yield running
        assert processes_of(running) == [], "processes of the cluster outlived it"
        assert not any(port_open(port) for port in running.lay.ports)


@pytest.fixture
def stack() -> Iterator[Stack]:
    """PostgreSQL + MLflow started by scripts/server.py in a fresh folder, always stopped."""
    reason = postgres_missing()
    if reason:
        pytest.skip(reason)
    with shared_tmp_dir("scratchnet-stack-") as folder, server_stack(folder) as running:
        yield running


def sweep_runs(client: MlflowClient, experiment: str) -> tuple[Run, list[Run]]:
    """The experiment's only sweep parent and its children."""
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment}"
    runs = client.search_runs([found.experiment_id], max_results=1000)
    (parent,) = [r for r in runs if r.data.tags.get(SWEEP_PARENT_TAG) == "true"]
    return parent, [r for r in runs if r.data.tags.get(PARENT_TAG) == parent.info.run_id]


def array_of(kids: list[Run]) -> str:
    """The one array job whose tasks ran these runs (tags `<array job>_<task>`)."""
    (array,) = {k.data.tags[SLURM_JOB_TAG].split("_")[0] for k in kids}
    return array


def epochs_logged(client: MlflowClient, run: Run, metric: str = "test_acc") -> list[int]:
    return sorted(m.step for m in client.get_metric_history(run.info.run_id, metric))


def check_grid(client: MlflowClient, stack: Stack, cluster: Cluster) -> None:
    """4 FINISHED children of one parent, all epochs in PostgreSQL, tagged with their task."""
    parent, kids = sweep_runs(client, "slurm_grid")
    print(f"\nruns: {JOBS} sent, {len(kids)} children found under parent {parent.info.run_id}")
    assert len(kids) == JOBS
    assert {k.info.status for k in kids} == {FINISHED} and parent.info.status == FINISHED
    sent = JOBS * (EPOCHS + 1) * len(EPOCH_METRICS)
    found = count_metric_rows(stack, [k.info.run_id for k in kids])
    print(f"metric rows: {sent} sent ({JOBS} x {EPOCHS + 1} epochs x {len(EPOCH_METRICS)}), "
          f"{found} found in PostgreSQL")  # fmt: skip
    assert found == sent
    for kid in kids:
        for metric in EPOCH_METRICS:
            assert epochs_logged(client, kid, metric) == list(range(EPOCHS + 1))
    jobs = accounted(cluster, array_of(kids), JOBS, "State,Partition,Timelimit,Account")
    tags = {k.data.tags[SLURM_JOB_TAG]: k.info.run_name for k in kids}
    print("SLURM jobs (sacct: state, partition, time limit, account):")
    for job in sorted(tags):
        print(f"  {job} {' '.join(jobs[job])}: run {tags[job]}")
    assert sorted(jobs) == sorted(tags) == [f"{array_of(kids)}_{i}" for i in range(JOBS)]
    assert {tuple(v) for v in jobs.values()} == {("COMPLETED", PARTITION, "00:05:00", ACCOUNT)}


def accounted(cluster: Cluster, array: str, tasks: int, fields: str) -> dict[str, list[str]]:
    """`sacct`'s rows of the array's tasks once every task has ended there: slurmctld hands
    its records to slurmdbd a moment after a job ends, so a fast job may not be listed yet."""
    rows: dict[str, list[str]] = {}

    def ended() -> bool:
        rows.clear()
        rows.update(cluster.sacct(array, f"{fields},State"))
        busy = {"PENDING", "RUNNING", "COMPLETING"}
        return len(rows) == tasks and not any(row[-1] in busy for row in rows.values())

    cluster.wait_for(f"the {tasks} tasks of array {array} in SLURM's accounting", ended)
    return {job: row[:-1] for job, row in rows.items()}


def cancel_sweep(stack: Stack) -> list[str]:
    """`scratchnet-train -m ...` of the 2-job sweep (3 and LONG_EPOCHS epochs) to cancel."""
    return ["scratchnet-train", "-m", f"tracking.uri={stack.uri}", *SLURM,
            "tracking.experiment=slurm_cancel", *CANCEL_ARGS]  # fmt: skip


def start_cancel_sweep(stack: Stack, cwd: Path) -> subprocess.Popen:
    """The sweep to cancel, in the background, its output in `cancel-sweep.log`."""
    prog, *args = cancel_sweep(stack)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}  # as harness.run_cli runs it
    with (cwd / "cancel-sweep.log").open("w") as log:
        return subprocess.Popen(
            [str(BIN / prog), *args], cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env
        )


def long_run_training(client: MlflowClient, timeout: float = 180) -> Run:
    """The long job's run once it is RUNNING and the server has some of its epochs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.get_experiment_by_name("slurm_cancel")
        runs = client.search_runs(
            [found.experiment_id], f"params.`trainer.epochs` = '{LONG_EPOCHS}'"
        ) if found else []  # fmt: skip
        if runs and runs[0].info.status == "RUNNING" and len(epochs_logged(client, runs[0])) > 1:
            return runs[0]
        time.sleep(0.5)
    raise AssertionError(f"the {LONG_EPOCHS}-epoch job was never seen training")


def cancel_long_job(client: MlflowClient, stack: Stack, cluster: Cluster, cwd: Path) -> Run:
    """scancel the long job mid-training; its run ends KILLED with its epochs; sweep fails."""
    proc = start_cancel_sweep(stack, cwd)
    try:
        victim = long_run_training(client)
        job = victim.data.tags[SLURM_JOB_TAG]
        done = cluster.client("scancel", job)
        assert done.returncode == 0, done.stderr
        cancelled = time.monotonic()
        proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = (cwd / "cancel-sweep.log").read_text()
    parent, _ = sweep_runs(client, "slurm_cancel")
    killed = client.get_run(victim.info.run_id)
    kept = epochs_logged(client, killed)
    (state,) = cluster.sacct(job.split("_")[0])[job]
    print(f"cancelled {job} ({state}): run {killed.info.status} with epochs 0..{kept[-1]} of "
          f"{LONG_EPOCHS} kept; the sweep exited {proc.returncode} "
          f"{time.monotonic() - cancelled:.0f} s after scancel")  # fmt: skip
    assert state.startswith("CANCELLED")
    assert killed.info.status == KILLED
    assert kept == list(range(len(kept))) and 1 < len(kept) < LONG_EPOCHS + 1
    assert proc.returncode != 0 and parent.info.status == FAILED
    # submitit learns from sacct that the job ended without a result, and fails the sweep.
    assert f"Job {job} " in output and "has not produced any output (state: CANCELLED" in output
    return killed


def skipped_in_job_logs(cwd: Path) -> list[str]:
    """The lines where a job says it skipped its config as already FINISHED (submitit logs)."""
    logs = sorted(cwd.glob("multirun/*/*/.submitit/*/*_log.*"))
    lines = [line for log in logs for line in log.read_text(errors="replace").splitlines()]
    return [line for line in lines if re.search(r"skip .*: already FINISHED", line)]


def check_resumed(client: MlflowClient, stack: Stack, killed: Run, cwd: Path) -> None:
    """The same command again: same parent, the short job skipped, the long one run again."""
    done = run_cli(*cancel_sweep(stack), cwd=cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    parent, kids = sweep_runs(client, "slurm_cancel")
    by_status = {s: [k for k in kids if k.info.status == s] for s in (FINISHED, KILLED)}
    print(f"resumed parent {parent.info.run_id}: {len(kids)} children, "
          + ", ".join(f"{k.info.run_name} {k.info.status} (SLURM {k.data.tags[SLURM_JOB_TAG]})"
                      for k in kids))  # fmt: skip
    assert "resuming sweep" in done.stderr + done.stdout
    assert len(skipped_in_job_logs(cwd)) == 1  # said by the job, in its submitit log
    assert [k.info.run_id for k in by_status[KILLED]] == [killed.info.run_id]
    assert len(by_status[FINISHED]) == 2 and len(kids) == 3
    rerun = [k for k in by_status[FINISHED] if k.data.params["trainer.epochs"] == str(LONG_EPOCHS)]
    assert len(rerun) == 1
    assert epochs_logged(client, rerun[0]) == list(range(LONG_EPOCHS + 1))
    assert parent.info.status == FINISHED
    # The cancelled attempt is superseded by its config's finished re-run: counted apart.
    summary = ("runs_finished", "runs_killed", "runs_superseded")
    counts = {k: parent.data.metrics[k] for k in summary}
    assert counts == {"runs_finished": 2, "runs_killed": 0, "runs_superseded": 1}


@pytest.mark.slow
def test_a_sweep_on_slurm_reaches_the_server_whole_and_a_cancelled_job_resumes(
    cluster, stack, tmp_path
):
    # One test, not three: the stack and the cluster take a while to start on 2 loaded cores.
    start = time.monotonic()
    sweep(stack.uri, tmp_path, *SLURM, "tracking.experiment=slurm_grid", *GRID)
    grid_s = time.monotonic() - start
    client = MlflowClient(tracking_uri=stack.uri)
    check_grid(client, stack, cluster)
    start = time.monotonic()
    killed = cancel_long_job(client, stack, cluster, tmp_path)
    cancel_s = time.monotonic() - start
    start = time.monotonic()
    check_resumed(client, stack, killed, tmp_path)
    print(f"wall time: grid sweep {grid_s:.0f} s, cancelled sweep {cancel_s:.0f} s, "
          f"resume {time.monotonic() - start:.0f} s")  # fmt: skip
