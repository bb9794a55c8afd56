"""The store's names: one module, importable without MLflow, agreeing with MLflow's own."""

import subprocess
import sys

from mlflow.entities import RunStatus
from mlflow.utils.mlflow_tags import MLFLOW_GIT_COMMIT, MLFLOW_PARENT_RUN_ID

from scratchnet.tracking import names


def test_the_names_module_imports_without_mlflow():
    code = "import sys, scratchnet.tracking.names; print('mlflow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_mlflow_tags_we_write_are_the_ones_mlflow_reads():
    assert names.PARENT_TAG == MLFLOW_PARENT_RUN_ID
    assert names.GIT_COMMIT_SOURCE_TAG == MLFLOW_GIT_COMMIT


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
