"""`make ui` in a clone: a copied store is refused until relocated, a moved one relocated; then
the UI serves the clone's own artifacts (the real Makefile target, the real MLflow UI)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from store_support import fetch, free_port, ok, stop_group, store_cli, uri_of, wait_healthy

from harness import BIN, REPO
from scratchnet.tracking.relocation import local_path, relocate

pytestmark = pytest.mark.slow
UI_ENV = {"MLFLOW_WORKERS": "1", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def clone_of(source: Path, clone: Path) -> Path:
    """`clone/` with the repo's Makefile and a copy of the store in `clone/mlruns`."""
    shutil.copytree(source, clone / "mlruns")
    shutil.copy(REPO / "Makefile", clone)
    (clone / "pyproject.toml").write_text("")
    return clone


def make_ui(clone: Path, port: int) -> list[str]:
    """`make ui` in `clone`, on this venv (its stamp newer than the clone's pyproject.toml)."""
    stamp = clone / "stamp"
    stamp.write_text("")
    return ["make", "-C", str(clone), "ui", f"BIN={BIN}", f"STAMP={stamp}", f"UI_PORT={port}"]


def env() -> dict[str, str]:
    return {**os.environ, **UI_ENV, "PYTHONWARNINGS": "ignore"}


def served_config(clone: Path, port: int, run_id: str) -> tuple[bytes, str]:
    """`config.yaml` of `run_id` as the UI started by `make ui` in `clone` serves it, and what
    `make ui` printed."""
    log = clone / "ui.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            make_ui(clone, port), env=env(), stdout=out, stderr=out, start_new_session=True
        )
        try:
            wait_healthy(f"http://127.0.0.1:{port}", proc)
            url = f"http://127.0.0.1:{port}/get-artifact?path=config.yaml&run_uuid={run_id}"
            return fetch(url), log.read_text()
        finally:
            stop_group(proc)


def training_run(folder: Path):
    client = MlflowClient(tracking_uri=uri_of(folder))
    (run,) = client.search_runs([client.get_experiment_by_name("single").experiment_id])
    return run


def test_make_ui_refuses_a_copy_then_serves_its_own_artifacts_once_relocated(source, tmp_path):
    clone = clone_of(source.folder, tmp_path / "clone")
    port = free_port()
    refused = subprocess.run(make_ui(clone, port), env=env(), capture_output=True, text=True)
    assert refused.returncode != 0
    (line,) = [x for x in refused.stderr.splitlines() if x.startswith("scratchnet-store: error")]
    assert f"scratchnet-store relocate --store {clone / 'mlruns'}" in line

    ok(store_cli("relocate", "--store", str(clone / "mlruns"), cwd=tmp_path))
    run = training_run(clone / "mlruns")
    config = local_path(run.info.artifact_uri) / "config.yaml"
    config.write_bytes(config.read_bytes() + b"# the clone's own copy\n")  # tell them apart
    served, said = served_config(clone, port, run.info.run_id)
    assert served == config.read_bytes() and "error" not in said


def test_make_ui_relocates_a_moved_clone_and_serves_its_artifacts(source, tmp_path):
    first = clone_of(source.folder, tmp_path / "first")
    relocate(first / "mlruns" / "mlflow.db")  # a store of its own, then moved
    clone = tmp_path / "moved"
    shutil.move(first, clone)
    run = training_run(clone / "mlruns")  # reading only: nothing relocates it yet
    assert not local_path(run.info.artifact_uri).exists()
    served, said = served_config(clone, free_port(), run.info.run_id)
    (line,) = [x for x in said.splitlines() if "was moved" in x]
    assert line.startswith(f"the tracking store {clone / 'mlruns'} was moved: ")
    here = local_path(training_run(clone / "mlruns").info.artifact_uri) / "config.yaml"
    assert here.is_relative_to(clone) and served == here.read_bytes()
