"""A tracking server that is not answering yet (restarting, a deploy): a run started meanwhile
waits for it with bounded backoff (`tracking.server_wait_seconds`) and then records everything;
past the wait it is one line, exit 2, naming the setting."""

import subprocess
import time
from pathlib import Path

import pytest
from integration_support import free_port, mlflow_ui
from mlflow.tracking import MlflowClient

from harness import BIN, new_store, run_cli

pytestmark = pytest.mark.slow
QUIET = ("trainer.progress=false", "tracking.log_weights=false", "tracking.log_figure=false")
EPOCHS = 5


def test_a_run_waits_for_a_server_that_comes_up_late_and_records_every_epoch(
    tmp_path: Path,
) -> None:
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    args = [str(BIN / "scratchnet-train"), "tracking=server", f"tracking.uri={uri}", *QUIET]
    log = tmp_path / "train.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*args, f"trainer.epochs={EPOCHS}", "tracking.server_wait_seconds=240"],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while "waiting up to 240 s" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.25)
        with mlflow_ui(new_store(tmp_path / "store"), tmp_path / "art", port=port) as server:
            assert proc.wait(timeout=300) == 0, log.read_text()[-3000:]
            client = MlflowClient(tracking_uri=server.url)
            (run,) = client.search_runs([client.get_experiment_by_name("scratchnet").experiment_id])
            assert run.info.status == "FINISHED"
            assert len(client.get_metric_history(run.info.run_id, "test_acc")) == EPOCHS + 1
    finally:
        proc.kill()
        proc.wait()


def test_a_server_that_never_answers_is_one_line_after_the_wait(tmp_path: Path) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    done = run_cli(
        "scratchnet-train", "tracking=server", f"tracking.uri={uri}", *QUIET,
        "trainer.epochs=1", "tracking.server_wait_seconds=2", cwd=tmp_path,
    )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr[-2000:]
    assert "no tracking server answers" in lines[0]
    assert "after waiting 2 s (tracking.server_wait_seconds)" in lines[0]
