"""`scratchnet-train` end to end: a real process, a real Hydra compose, a real MLflow store."""

from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

import scratchnet
from harness import all_runs, new_store, run_cli
from scratchnet.data import write_idx
from scratchnet.training import METRICS

pytestmark = pytest.mark.slow
QUICK = ("trainer.epochs=3", "trainer.progress=false")


def metric_values(client, run_id: str) -> dict[str, list[tuple[int, float]]]:
    return {
        key: sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))
        for key in METRICS
    }


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One 3-epoch run with the defaults in a store of its own: (its process, its run, a client)."""
    folder = tmp_path_factory.mktemp("quick-run")
    client = MlflowClient(tracking_uri=new_store(folder / "store"))
    done = run_cli("scratchnet-train", f"tracking.uri={client.tracking_uri}", *QUICK, cwd=folder)
    assert done.returncode == 0, done.stderr
    (run,) = all_runs(client)
    return done, run, client


def test_a_run_records_every_metric_at_every_epoch_including_zero(quick_run):
    _, run, client = quick_run
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "lr=0.5 bs=32 h=50 seed=0"
    for key, points in metric_values(client, run.info.run_id).items():
        assert [step for step, _ in points] == [0, 1, 2, 3], key
    assert run.data.params["trainer.lr"] == "0.5"
    assert run.data.tags["seed"] == "0"
    assert run.data.tags["diverged"] == "false"
    assert len(run.data.tags["scratchnet.dataset_digest"]) == 64
    assert "trainer.epochs=3" in run.data.tags["scratchnet.overrides"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"config.yaml", "model"}  # no PNG unless tracking.log_figure


def test_a_run_draws_its_learning_curves_only_when_asked(tmp_path, store_uri, client):
    asked = ("tracking.log_figure=true", "tracking.log_weights=false")
    done = run_cli("scratchnet-train", f"tracking.uri={store_uri}", *QUICK, *asked, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (run,) = all_runs(client)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"config.yaml", "learning_curves.png"}
    png = client.download_artifacts(run.info.run_id, "learning_curves.png", str(tmp_path))
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_run_logs_its_trained_net_and_says_where(quick_run):
    done, run, client = quick_run
    net = scratchnet.load_net(run.info.run_id, client.tracking_uri)
    assert net.params["W1"].shape == (64, 50)
    assert net.params["W2"].shape == (50, 10)
    where = f"artifacts in {run.info.artifact_uri}, model runs:/{run.info.run_id}/model"
    assert f"MLflow run {run.info.run_id} in experiment 'scratchnet': {where}" in done.stdout


def test_same_config_and_seed_give_identical_metrics(tmp_path, store_uri, client, quick_run):
    _, first, first_client = quick_run
    done = run_cli("scratchnet-train", f"tracking.uri={store_uri}", *QUICK, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (second,) = all_runs(client)
    assert second.info.run_id != first.info.run_id
    first_metrics = metric_values(first_client, first.info.run_id)
    assert first_metrics == metric_values(client, second.info.run_id)


@pytest.mark.parametrize(
    ("override", "named"),
    # trainer.lr=-1 and =abc, trainer.batch_size=0, data=nope, trainer.lrr=0.1: in
    # tests/faults/test_bad_config.py, which asserts the same and what is allowed
    [
        ("model.hidden_size=0", "model.hidden_size=0"),
        ("data.train_size=10000000", "data.train_size=10000000"),
        ("trainer.batch_size=2000", "trainer.batch_size=2000"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_run(tmp_path, store_uri, client, override, named):
    done = run_cli("scratchnet-train", f"tracking.uri={store_uri}", override, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("scratchnet-train: error: ")
    assert named in lines[0]
    assert all_runs(client) == []


def test_a_missing_data_root_says_where_it_looked(tmp_path, store_uri, client):
    done = run_cli(
        "scratchnet-train",
        f"tracking.uri={store_uri}",
        "data=mnist",
        "data.root=/nonexistent",
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "/nonexistent" in done.stderr.strip()
    assert all_runs(client) == []


def test_a_truncated_idx_file_is_rejected_before_any_run(tmp_path, store_uri, client):
    root = tmp_path / "idx"
    root.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 30), ("t10k", 10)):
        write_idx(root / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), np.uint8))
        write_idx(root / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(np.uint8))
    images = root / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-100])
    done = run_cli(
        "scratchnet-train",
        f"tracking.uri={store_uri}",
        "data=mnist",
        f"data.root={root}",
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "train-images-idx3-ubyte" in done.stderr
    assert all_runs(client) == []


@pytest.fixture(scope="module")
def help_text(tmp_path_factory) -> str:
    """What `scratchnet-train --help` prints."""
    done = run_cli("scratchnet-train", "--help", cwd=tmp_path_factory.mktemp("help"))
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_shows_the_groups_and_an_example(help_text):
    assert "data: digits, fashion_mnist, mnist" in help_text
    assert "scratchnet-train -m" in help_text


def listed_groups(help_text: str) -> dict[str, list[str]]:
    """The `group: option, ...` lines of --help's configuration groups section."""
    section = help_text.split("== Configuration groups (group=option) ==")[1].split("== Config")[0]
    rows = [line.split(": ", 1) for line in section.strip().splitlines()]
    return {group: options.split(", ") for group, options in rows}


def test_help_lists_only_the_groups_scratchnet_train_accepts(tmp_path, help_text):
    from hydra import compose, initialize_config_dir

    from scratchnet.config import register_configs
    from scratchnet.core.paths import config_dir

    groups = listed_groups(help_text)
    assert sorted(groups) == [
        "data",
        "experiment",
        "hparams_search",
        "model",
        "optimizer",
        "tracking",
        "trainer",
    ]
    register_configs()
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        for group, options in groups.items():
            for option in options:
                assert compose("config", overrides=[f"{group}={option}"]) is not None
    refused = run_cli("scratchnet-train", "chapter=minibatch_loss", cwd=tmp_path)
    assert refused.returncode == 2 and "chapter" in refused.stderr
