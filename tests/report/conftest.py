"""A real trained sweep (scratchnet.tracking.run.run under a parent run) and reports built from it.

8 digits runs (lr x hidden, two of them also with a second seed) on 100 training images for
30 epochs, a run whose name is an HTML/Markdown injection, and a run that fails at epoch 2.
Built once per test session and shared by the pytest-xdist workers through a file lock.
"""

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

import scratchnet.core.paths
from scratchnet.config import register_configs
from scratchnet.report.build import Report, build_report
from scratchnet.tracking.run import run
from scratchnet.tracking.store import get_or_create_experiment, resolve_uri
from scratchnet.training import Callback

EXPERIMENT = "overfit_study"
EVIL_NAME = "<script>alert(1)</script> | pipe"
DESCRIPTION = "Which lr and hidden size overfit 100 digits? <b>bold</b> | piped"


class Boom(Callback):
    """Fails the run at epoch 2."""

    def on_epoch_end(self, epoch, metrics):
        if epoch == 2:
            raise RuntimeError("boom at epoch 2")


@dataclass
class TrainedStore:
    uri: str
    client: MlflowClient
    parent: str
    root: Path
    experiment: str = EXPERIMENT
    evil_name: str = EVIL_NAME
    description: str = DESCRIPTION


@dataclass
class Built:
    store: TrainedStore
    first: Report
    second: Report


def base_overrides(uri: str) -> list[str]:
    return [
        f"tracking.uri={uri}",
        f"tracking.experiment={EXPERIMENT}",
        "tracking.log_weights=false",
        "tracking.log_figure=false",
        "trainer.progress=false",
        "trainer.epochs=30",
        "trainer.batch_size=10",
        "data.train_size=100",
    ]


def configured(
    base: DictConfig, lr: float, hidden: int = 50, seed: int = 0, run_name: str | None = None
) -> DictConfig:
    """`base` with these settings (composing once and copying is faster than composing)."""
    cfg = base.copy()
    cfg.trainer.lr, cfg.model.hidden_size, cfg.seed = lr, hidden, seed
    cfg.tracking.run_name = run_name
    return cfg


def train_sweep(root: Path) -> tuple[str, str]:
    """Train the sweep into a store under `root`; return (tracking URI, parent run id)."""
    uri = resolve_uri(f"sqlite:///{root / 'store' / 'mlflow.db'}")
    client = MlflowClient(tracking_uri=uri)
    experiment_id = get_or_create_experiment(client, uri, EXPERIMENT)
    parent = client.create_run(
        experiment_id,
        run_name="sweep overfit_study",
        tags={
            "scratchnet.sweep_parent": "true",
            "scratchnet.sweep_id": "0123456789abcdef",
            "scratchnet.study": EXPERIMENT,
            "scratchnet.study_description": DESCRIPTION,
        },
    ).info.run_id
    register_configs()
    with initialize_config_dir(str(scratchnet.core.paths.config_dir()), version_base="1.3"):
        base = compose("config", overrides=base_overrides(uri))
    grid = [(lr, hidden, 0) for lr in (0.05, 2.0, 50.0) for hidden in (10, 200)]
    grid += [(2.0, 10, 1), (2.0, 200, 1)]  # two configurations repeated over seeds
    for lr, hidden, seed in grid:
        run(configured(base, lr=lr, hidden=hidden, seed=seed), parent_run_id=parent)
    run(configured(base, lr=2.0, run_name=EVIL_NAME), parent_run_id=parent)
    with pytest.raises(RuntimeError, match="boom"):
        run(configured(base, lr=2.0, seed=7), parent_run_id=parent, extra_callbacks=[Boom()])
    client.set_terminated(parent)
    return uri, parent


def report_fields(report: Report) -> dict:
    return {
        "out_dir": str(report.out_dir),
        "files": [str(f) for f in report.files],
        "parent_run_id": report.parent_run_id,
        "runs_updated": report.runs_updated,
        "logged": report.logged,
    }


def report_from(fields: dict) -> Report:
    files = tuple(Path(f) for f in fields["files"])
    return Report(Path(fields["out_dir"]), files, *(fields[k] for k in list(fields)[2:]))


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The sweep trained once for all pytest-xdist workers, and its report built twice.

    Both builds write back into the store; the second must find nothing to change.
    """
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "trained-sweep"
    root.mkdir(exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker builds, the others wait and reuse
        done = root / "built.json"
        if not done.exists():
            uri, parent = train_sweep(root)
            client = MlflowClient(tracking_uri=uri)
            first = build_report(client, EXPERIMENT, out_dir=root / "one")
            second = build_report(client, EXPERIMENT, out_dir=root / "two")
            fields = {"uri": uri, "parent": parent}
            fields |= {"first": report_fields(first), "second": report_fields(second)}
            done.write_text(json.dumps(fields))
        fields = json.loads(done.read_text())
    store = TrainedStore(
        fields["uri"], MlflowClient(tracking_uri=fields["uri"]), fields["parent"], root
    )
    return Built(store, report_from(fields["first"]), report_from(fields["second"]))


@pytest.fixture(scope="session")
def trained_store(built: Built) -> TrainedStore:
    return built.store
