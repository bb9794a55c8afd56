"""Security: the UI listens on loopback only; secret-looking config values never reach the
store (params, tags or the config.yaml artifact). HTML report escaping is specified with
`scratchnet-report` (tests/report/)."""

import os
import subprocess
from pathlib import Path

import pytest
from faults_support import split, store_runs, train
from mlflow.tracking import MlflowClient

from harness import REPO, new_store
from scratchnet.tracking.provenance import MASK, mask_overrides, mask_secrets, mask_tree

SECRET = "hunter2-s3cr3t"


def test_make_ui_binds_the_mlflow_ui_to_loopback_only() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("UI_HOST", "MAKEFLAGS")}
    dry = subprocess.run(
        ["make", "-n", "ui"], cwd=REPO, capture_output=True, text=True, check=True, env=env
    ).stdout.replace("\\\n", " ")  # join the recipe's continued lines
    (ui,) = [line for line in dry.splitlines() if "mlflow ui" in line]
    assert "--host 127.0.0.1" in ui
    assert "0.0.0.0" not in dry


@pytest.mark.parametrize(
    "key", ["db.password", "tracking.token", "api_key", "aws.secret", "data.key", "s3.apikey"]
)
def test_secret_looking_params_are_masked(key: str) -> None:
    assert mask_secrets({key: SECRET, "trainer.lr": "0.1"}) == {key: MASK, "trainer.lr": "0.1"}


def test_ordinary_params_that_merely_contain_key_words_are_kept() -> None:
    params = {"data.keyboard_layout": "us", "model.hidden_size": "50", "tokens_seen": "9"}
    assert mask_secrets(params) == params


def test_secret_overrides_and_config_trees_are_masked() -> None:
    assert mask_overrides([f"+data.api_token={SECRET}", "trainer.lr=0.1"]) == [
        f"+data.api_token={MASK}",
        "trainer.lr=0.1",
    ]
    tree = {"db": {"password": SECRET, "host": "h"}, "seed": 0}
    assert mask_tree(tree) == {"db": {"password": MASK, "host": "h"}, "seed": 0}


@pytest.mark.slow
def test_a_secret_added_on_the_command_line_reaches_no_param_tag_or_artifact(
    tmp_path: Path,
) -> None:
    store_uri = new_store(tmp_path / "store")
    done = train(store_uri, f"+data.api_token={SECRET}", "trainer.epochs=1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = store_runs(store_uri)
    assert run.data.params["data.api_token"] == MASK
    assert_secret_absent(MlflowClient(tracking_uri=store_uri), run, tmp_path)


@pytest.mark.slow
def test_a_secret_in_a_sweep_reaches_neither_the_parent_nor_its_children(
    tmp_path: Path,
) -> None:
    store_uri = new_store(tmp_path / "store")
    args = (f"+data.api_token={SECRET}", "trainer.epochs=1", "data.train_size=100")
    done = train(store_uri, *args, cwd=tmp_path, multirun=True)
    assert done.returncode == 0, done.stderr[-2000:]
    client = MlflowClient(tracking_uri=store_uri)
    (parent,), children = split(store_runs(store_uri))
    assert f"+data.api_token={MASK}" in parent.data.params["sweep.overrides"]
    for run in [parent, *children]:
        assert_secret_absent(client, run, tmp_path)


def assert_secret_absent(client: MlflowClient, run, tmp_path: Path) -> None:
    """Not in any param, tag or (text) artifact of `run`."""
    recorded = [*run.data.params.values(), *run.data.tags.values()]
    assert not [text for text in recorded if SECRET in text]
    for artifact in client.list_artifacts(run.info.run_id):
        if artifact.path.endswith(".yaml"):
            local = client.download_artifacts(run.info.run_id, artifact.path, str(tmp_path))
            assert SECRET not in Path(local).read_text()
