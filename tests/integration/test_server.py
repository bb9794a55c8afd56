"""The tracking server stack (scripts/server.py: PostgreSQL + mlflow server) under a real sweep.

A stack on free loopback ports in a fresh folder: a 4-job parallel sweep logs to it while its
MLflow server is killed and restarted once (the jobs keep their epochs buffered, later jobs and
the launcher wait), then runs, metric rows and artifacts are counted where the server stored
them, no sweep lease is left, logging latency is measured (printed, not asserted) against
SQLite, and stopping must leave no process and no open port.
"""

import json
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from integration_support import (
    ARTIFACTS,
    Stack,
    count_metric_rows,
    free_port,
    group_alive,
    parent_and_children,
    pid_alive,
    port_open,
    postgres_stack,
    processes_mentioning,
    restart_mlflow,
    server_script,
)
from mlflow.entities import Metric, Run
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from harness import BIN, new_store
from scratchnet.config import register_configs
from scratchnet.core.errors import ConfigError
from scratchnet.core.paths import config_dir
from scratchnet.tracking.names import EPOCH_METRICS, LEASE_TAG_PREFIX
from scratchnet.tracking.store import resolve_uri

pytestmark = pytest.mark.slow
EXPERIMENT = "server_sweep"
GRID = ("trainer.lr=0.1,0.5", "model.hidden_size=5,20")
JOBS, EPOCHS = 4, 600
# Jobs that train for a few seconds, their epochs sent every 0.5 s: the server's restart lands
# while the first two train.
SWEEP_JOBS = (
    f"trainer.epochs={EPOCHS}",
    "data.train_size=1000",
    "tracking.flush_seconds=0.5",
    "trainer.progress=false",
)
LATENCY_CALLS = 50


@pytest.fixture
def stack() -> Iterator[Stack]:
    """PostgreSQL + MLflow started by scripts/server.py in a fresh folder, always stopped."""
    with postgres_stack() as running:
        yield running


def compose_tracking() -> DictConfig:
    """The `tracking` node of `scratchnet-train tracking=server`, composed by Hydra."""
    register_configs()
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        return compose("config", overrides=["tracking=server"]).tracking


def median_log_batch_ms(uri: str, calls: int = LATENCY_CALLS) -> float:
    """Median wall time of `log_batch` with one epoch's 6 metrics, as EpochLogger sends them."""
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment(f"latency-{time.time_ns()}")
    run_id = client.create_run(experiment_id).info.run_id
    times = []
    for step in range(calls):
        now = int(time.time() * 1000)
        metrics = [Metric(key, 0.5, now, step) for key in EPOCH_METRICS]
        start = time.perf_counter()
        client.log_batch(run_id, metrics=metrics, synchronous=True)
        times.append(time.perf_counter() - start)
    client.set_terminated(run_id)
    return statistics.median(times) * 1000


def test_status_of_a_folder_without_a_stack_is_not_running(tmp_path):
    done = server_script(tmp_path, "status", "--json")
    assert done.returncode == 3
    assert json.loads(done.stdout)["mlflow_pid"] is None


def test_a_closed_server_port_is_a_config_error_at_once():
    uri = f"http://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(ConfigError, match="no tracking server answers"):
        resolve_uri(uri)
    assert time.monotonic() - start < 10  # not MLflow's minutes of retries


def test_tracking_server_takes_its_uri_from_mlflow_tracking_uri(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert compose_tracking().uri == "http://127.0.0.1:5000"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://head-node:5000")
    tracking = compose_tracking()
    assert tracking.uri == "http://head-node:5000"
    assert tracking.flush_seconds == 2.0


def leases(client: MlflowClient) -> list[str]:
    """The sweep lease tags left on the experiment (`scratchnet.tracking.lease`)."""
    tags = client.get_experiment_by_name(EXPERIMENT).tags
    return [key for key in tags if key.startswith(LEASE_TAG_PREFIX)]


def check_runs(client: MlflowClient) -> list[Run]:
    """Every job arrived as a FINISHED child of one FINISHED parent; returns the children."""
    parent, kids = parent_and_children(client)
    print(f"\nruns: {JOBS} sent, {len(kids)} children found (+1 parent)")
    assert len(kids) == JOBS
    assert {k.info.status for k in kids} == {"FINISHED"}
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["runs_finished"] == JOBS
    return kids


def check_metric_rows(client: MlflowClient, stack: Stack, kids: list[Run]) -> None:
    """Every epoch's 6 metrics of every run are rows in PostgreSQL, steps 0..EPOCHS."""
    sent = JOBS * (EPOCHS + 1) * len(EPOCH_METRICS)
    found = count_metric_rows(stack, [k.info.run_id for k in kids])
    print(f"metric rows: {sent} sent ({JOBS} runs x {EPOCHS + 1} epochs x 6), {found} found")
    assert found == sent
    for kid in kids:
        steps = [m.step for m in client.get_metric_history(kid.info.run_id, "test_acc")]
        assert sorted(steps) == list(range(EPOCHS + 1))


def check_artifacts(client: MlflowClient, stack: Stack, kids: list[Run]) -> None:
    """Every run's artifacts are listed by the server and stored in its artifact folder."""
    for kid in kids:
        assert sorted(a.path for a in client.list_artifacts(kid.info.run_id)) == sorted(ARTIFACTS)
        stored = stack.folder / "artifacts" / kid.info.experiment_id / kid.info.run_id
        assert sorted(p.name for p in (stored / "artifacts").iterdir()) == sorted(ARTIFACTS)


def check_stopped(stack: Stack) -> None:
    """`server.py stop` leaves no process (MLflow's group, PostgreSQL) and no open port."""
    done = stack.stop()
    assert done.returncode == 0, done.stderr
    assert not pid_alive(stack.mlflow_pid)
    assert not group_alive(stack.mlflow_pid)  # uvicorn and its workers too
    assert not pid_alive(stack.postgres_pid)
    assert processes_mentioning(str(stack.folder)) == []
    assert not port_open(stack.port)
    assert not port_open(stack.pg_port)
    assert server_script(stack.folder, "status").returncode == 3


def training(client: MlflowClient, jobs: int, min_epochs: int) -> bool:
    """Whether `jobs` child runs are RUNNING with at least `min_epochs` epochs logged each."""
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is None:
        return False
    runs = client.search_runs([found.experiment_id], "attributes.status = 'RUNNING'")
    kids = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    logged = [len(client.get_metric_history(r.info.run_id, "test_acc")) for r in kids]
    return len(kids) >= jobs and min(logged) >= min_epochs


def sweep_across_a_restart(stack: Stack, log: Path) -> None:
    """The parallel sweep, its MLflow server killed once two jobs train and restarted 3 s later
    (`restart_mlflow`): the jobs keep their epochs buffered meanwhile, later jobs and the
    launcher wait for it (`tracking.server_wait_seconds`)."""
    args = [
        str(BIN / "scratchnet-train"), "-m", "tracking=server", f"tracking.uri={stack.uri}",
        f"tracking.experiment={EXPERIMENT}", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
        *GRID, *SWEEP_JOBS,
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(args, cwd=stack.folder, stdout=out, stderr=subprocess.STDOUT)
    try:
        client = MlflowClient(tracking_uri=stack.uri)
        deadline = time.monotonic() + 240
        while not training(client, jobs=2, min_epochs=2):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.25)
        restart_mlflow(stack, down_seconds=3)
        assert proc.wait(timeout=300) == 0, log.read_text()[-3000:]
    finally:
        proc.kill()
        proc.wait()
    said = log.read_text()
    assert "keeping the run's epochs" in said and "buffered epochs sent" in said, said[-3000:]
    assert "Traceback" not in said


def test_a_parallel_sweep_reaches_the_stack_whole_across_a_server_restart_and_stop_leaves_nothing(
    stack, tmp_path
):
    # One test, not six: a stack takes a minute to start on a loaded 2-core machine, and
    # pytest-xdist's loadgroup cannot keep a module's tests on one worker under pytest 9.
    sweep_across_a_restart(stack, tmp_path / "sweep.log")
    client = MlflowClient(tracking_uri=stack.uri)
    kids = check_runs(client)
    check_metric_rows(client, stack, kids)
    check_artifacts(client, stack, kids)
    assert leases(client) == []
    http = median_log_batch_ms(stack.uri)
    sqlite = median_log_batch_ms(new_store(tmp_path / "store"))
    print(
        f"median log_batch (6 metrics) over {LATENCY_CALLS} calls: "
        f"HTTP+PostgreSQL {http:.1f} ms, SQLite {sqlite:.1f} ms"
    )
    check_stopped(stack)
