"""Concurrency: independent `scratchnet-train` processes started at once on one brand-new
SQLite store, each logging every epoch, lose no metric row and show no `database is locked`."""

import contextlib
import subprocess
from pathlib import Path

import pytest
from faults_support import PROG, QUIET, metric_rows
from mlflow.tracking import MlflowClient

from harness import BIN, all_runs
from scratchnet.tracking.names import EPOCH_METRICS

pytestmark = pytest.mark.slow
PROCESSES, EPOCHS = 8, 200
CHEAP_EPOCHS = (  # one update per epoch: the store, not the arithmetic, is under test
    f"trainer.epochs={EPOCHS}",
    "data.train_size=50",
    "trainer.batch_size=50",
    "model.hidden_size=5",
    "tracking.flush_seconds=0",  # one MLflow write per epoch per process
)


def test_eight_processes_on_a_new_store_lose_no_metric_row_and_never_see_a_lock(
    tmp_path: Path,
) -> None:
    db = tmp_path / "new-store" / "mlflow.db"  # does not exist: all 8 create it at once
    logs = [tmp_path / f"seed{seed}.log" for seed in range(PROCESSES)]
    with contextlib.ExitStack() as stack:
        procs = [
            subprocess.Popen(
                [str(BIN / PROG), f"tracking.uri=sqlite:///{db}", *QUIET, *CHEAP_EPOCHS]
                + [f"seed={seed}"],
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=stack.enter_context(log.open("w")),
            )
            for seed, log in enumerate(logs)
        ]
        codes = [proc.wait(timeout=600) for proc in procs]
    errors = "\n".join(log.read_text() for log in logs)
    assert codes == [0] * PROCESSES, errors[-3000:]
    assert "database is locked" not in errors
    assert "Traceback" not in errors
    runs = all_runs(MlflowClient(tracking_uri=f"sqlite:///{db}"))
    assert sorted(r.data.tags["seed"] for r in runs) == [str(s) for s in range(PROCESSES)]
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert len(metric_rows(db)) == PROCESSES * len(EPOCH_METRICS) * (EPOCHS + 1)
