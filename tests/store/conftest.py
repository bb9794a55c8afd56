"""A store holding every kind of experiment, made once by the real commands for these tests.

A single training run, a 2-job sweep (its parent and children), a chapter script's run and an
experiment laid out as `mlflow ui` makes them (`<artifacts>/<id>`), each with artifacts.
Built once per session and shared by the pytest-xdist workers through a file lock; tests copy
it and never write to it.
"""

import fcntl
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.tracking import MlflowClient
from store_support import chapter, ok, sweep, train, uri_of

from scratchnet.tracking.names import FINISHED

UI_EXPERIMENT = "made_in_the_ui"


@dataclass(frozen=True)
class Source:
    """The shared store's folder (`.../mlruns`) and its run ids."""

    folder: Path

    @property
    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=uri_of(self.folder))


def ui_made_experiment(folder: Path) -> None:
    """An experiment created the way `mlflow ui --default-artifact-root` creates one, and a
    run with a file in it."""
    store = SqlAlchemyStore(uri_of(folder), default_artifact_root=str(folder / "artifacts"))
    experiment_id = store.create_experiment(UI_EXPERIMENT)
    client = MlflowClient(tracking_uri=uri_of(folder))
    run_id = client.create_run(experiment_id, run_name="by hand").info.run_id
    client.log_text(run_id, "made by hand\n", "notes.txt")
    client.set_terminated(run_id, FINISHED)


def build(folder: Path, cwd: Path) -> None:
    ok(train(folder, "tracking.experiment=single", cwd=cwd))
    ok(sweep(folder, "tracking.experiment=swept", "trainer.lr=0.1,0.5", cwd=cwd))
    ok(chapter(folder, cwd=cwd))
    ui_made_experiment(folder)


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "store-source"
    root.mkdir(exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker builds, the others wait and reuse
        folder = root / "clone" / "mlruns"
        if not (root / "built").exists():
            shutil.rmtree(folder.parent, ignore_errors=True)  # what a failed attempt left
            folder.mkdir(parents=True)
            build(folder, cwd=root)
            (root / "built").write_text("ok")
    return Source(folder)
