"""Concurrency: independent `scratchnet-train` processes started at once on one brand-new
SQLite store, each logging every epoch, lose no metric row and show no `database is locked`;
two runs that log the same new dataset at once both record it, and it is stored once."""

import contextlib
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from faults_support import PROG, QUIET, metric_rows, wait_for
from mlflow.tracking import MlflowClient

from harness import BIN, all_runs, new_store
from scratchnet.tracking.failures import LOCKED_NOTE, LOCKED_TEXTS
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
    assert all(text not in errors for text in (*LOCKED_TEXTS, LOCKED_NOTE))
    assert "Traceback" not in errors
    runs = all_runs(MlflowClient(tracking_uri=f"sqlite:///{db}"))
    assert sorted(r.data.tags["seed"] for r in runs) == [str(s) for s in range(PROCESSES)]
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert len(metric_rows(db)) == PROCESSES * len(EPOCH_METRICS) * (EPOCHS + 1)


# One process of the dataset race: opens a run on the store, says so, waits for the word, then
# logs the digits splits as dataset inputs (what every training run does first).
LOG_INPUTS = """
import logging, sys, time
from pathlib import Path
from scratchnet.data import load_dataset
from scratchnet.tracking.datasets import dataset_inputs
from scratchnet.tracking.recorder import recorded_run
logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
uri, folder, me = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
inputs = dataset_inputs(load_dataset("digits"))
with recorded_run(uri, "race", me, {}, {}) as recorder:
    (folder / f"ready-{me}").touch()
    while not (folder / "go").exists():
        time.sleep(0.01)
    recorder.log_inputs(inputs)
"""


def test_two_runs_logging_the_same_new_dataset_at_once_both_record_it_once(
    tmp_path: Path,
) -> None:
    # Each process reads "no such dataset yet" before either can write (the test holds
    # SQLite's write lock meanwhile); the one that writes second hits the unique key.
    uri = new_store(tmp_path / "store")
    db = Path(uri.removeprefix("sqlite:///"))
    logs = [tmp_path / f"race{i}.log" for i in range(2)]
    with contextlib.ExitStack() as stack:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", LOG_INPUTS, uri, str(tmp_path), str(i)],
                stdout=subprocess.DEVNULL,
                stderr=stack.enter_context(log.open("w")),
            )
            for i, log in enumerate(logs)
        ]
        wait_for("both runs open", lambda: all((tmp_path / f"ready-{i}").exists() for i in (0, 1)))
        lock = stack.enter_context(contextlib.closing(sqlite3.connect(db, isolation_level=None)))
        lock.execute("BEGIN IMMEDIATE")
        (tmp_path / "go").touch()
        time.sleep(3)  # both read the datasets, then wait for the lock (MLflow waits 20 s)
        lock.execute("COMMIT")
        codes = [proc.wait(timeout=120) for proc in procs]
    said = [log.read_text() for log in logs]
    assert codes == [0, 0], said
    retried = ["created its dataset first; again" in text for text in said]
    assert sorted(retried) == [False, True], said
    with contextlib.closing(sqlite3.connect(db)) as con:
        datasets = con.execute("SELECT name FROM datasets ORDER BY name").fetchall()
        inputs = con.execute("SELECT destination_id FROM inputs").fetchall()
    assert datasets == [("digits/test",), ("digits/train",)]  # each made once
    assert sorted(Counter(run for (run,) in inputs).values()) == [2, 2]  # both runs have both
