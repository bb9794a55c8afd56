"""MLflow's own maintenance on a relocated copy: `mlflow runs delete` + `mlflow gc` (the real
CLI) delete the copy's files only; the original's files and runs stay as they were."""

import shutil

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from store_support import ok, store_digest, train, uri_of

from harness import run_cli
from scratchnet.tracking.relocation import is_inside, local_path, relocate

pytestmark = pytest.mark.slow


def test_gc_on_a_relocated_copy_deletes_the_copys_files_and_leaves_the_originals(source, tmp_path):
    copy = tmp_path / "colleague" / "mlruns"
    shutil.copytree(source.folder, copy)  # what a user does: nothing is writing the original
    refused = train(copy, "tracking.experiment=single", cwd=tmp_path)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert f"`scratchnet-store relocate --store {copy}`" in refused.stderr
    relocate(copy / "mlflow.db")  # what `scratchnet-store relocate` does (tested on its own)
    client = MlflowClient(tracking_uri=uri_of(copy))
    (run,) = client.search_runs([client.get_experiment_by_name("single").experiment_id])
    # (only the run trained into the original: the refused one left nothing behind)
    run_id, files = run.info.run_id, local_path(run.info.artifact_uri)
    assert is_inside(files, copy) and (files / "model" / "MLmodel").is_file()
    original = store_digest(source.folder)
    assert any(name.startswith(f"artifacts/{run_id}/") for name in original)

    env = {"MLFLOW_TRACKING_URI": uri_of(copy)}
    ok(run_cli("mlflow", "runs", "delete", "--run-id", run_id, cwd=tmp_path, env=env))
    ok(run_cli("mlflow", "gc", "--backend-store-uri", uri_of(copy), cwd=tmp_path, env=env))

    assert not files.exists()  # the copy's files are gone, and so is its run
    with pytest.raises(MlflowException):
        client.get_run(run_id)
    assert store_digest(source.folder) == original  # the original, file by file and run by run
    kept = MlflowClient(tracking_uri=uri_of(source.folder)).get_run(run_id)
    assert kept.info.lifecycle_stage == "active"
