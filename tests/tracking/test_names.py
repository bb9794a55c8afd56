"""The store's names: one module, importable without MLflow, agreeing with MLflow's own."""

import subprocess
import sys
from pathlib import Path

import mlflow
from mlflow.entities import RunStatus, SourceType
from mlflow.utils.mlflow_tags import (
    MLFLOW_DATASET_CONTEXT,
    MLFLOW_GIT_COMMIT,
    MLFLOW_LOGGED_MODELS,
    MLFLOW_PARENT_RUN_ID,
    MLFLOW_SOURCE_NAME,
    MLFLOW_SOURCE_TYPE,
)

from scratchnet.tracking import names


def test_the_names_module_imports_without_mlflow():
    code = "import sys, scratchnet.tracking.names; print('mlflow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_mlflow_tags_we_write_are_the_ones_mlflow_reads():
    assert names.PARENT_TAG == MLFLOW_PARENT_RUN_ID
    assert names.GIT_COMMIT_SOURCE_TAG == MLFLOW_GIT_COMMIT
    assert names.SOURCE_NAME_TAG == MLFLOW_SOURCE_NAME
    assert names.SOURCE_TYPE_TAG == MLFLOW_SOURCE_TYPE
    assert names.LOGGED_MODELS_TAG == MLFLOW_LOGGED_MODELS
    assert names.DATASET_CONTEXT_TAG == MLFLOW_DATASET_CONTEXT


def test_source_types_are_mlflow_source_types():
    for kind in (names.SOURCE_LOCAL, names.SOURCE_JOB):
        assert SourceType.to_string(SourceType.from_string(kind)) == kind


def test_the_experiment_kind_is_one_the_installed_mlflow_ui_reads():
    # No Python constant names it in mlflow 3.17: the UI's JavaScript bundle is the reference.
    bundle = Path(mlflow.__file__).parent / "server" / "js" / "build" / "static" / "js"
    main = next(bundle.glob("main.*.js")).read_text(errors="replace")
    assert f'"{names.EXPERIMENT_KIND_TAG}"===' in main
    assert f'CUSTOM_MODEL_DEVELOPMENT="{names.CUSTOM_MODEL_KIND}"' in main


def test_statuses_are_mlflow_run_statuses():
    for status in (names.RUNNING, names.FINISHED, names.FAILED, names.KILLED):
        assert RunStatus.to_string(RunStatus.from_string(status)) == status


def test_scratchnet_tags_share_one_prefix():
    tags = [v for k, v in vars(names).items() if k.endswith("_TAG") and isinstance(v, str)]
    bare = (
        "seed",
        "diverged",
        "stopped_early",
        "stopped_epoch",
        "best_epoch",
    )  # as users know them
    ours = [t for t in tags if not t.startswith(("mlflow.", "overfit.")) and t not in bare]
    assert ours and all(t.startswith(names.TAG_PREFIX) for t in ours)
    assert len(set(tags)) == len(tags)  # no two names for one tag
