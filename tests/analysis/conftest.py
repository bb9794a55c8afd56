"""A real MLflow store holding synthetic sweeps with known shapes (built once per session)."""

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from scratchnet.tracking.synthetic import FakeRun, curve, log_sweep

T0 = 1_700_000_000_000


@dataclass
class SyntheticStore:
    uri: str
    client: MlflowClient
    experiment_id: str
    old_parent: str
    parent: str
    loose_run: str


def params(lr: float, hidden: int, seed: int, train_size: str = "None") -> dict[str, str]:
    return {
        "trainer.lr": str(lr),
        "trainer.batch_size": "32",
        "model.hidden_size": str(hidden),
        "data.train_size": train_size,
        "data.name": "digits",
        "trainer.epochs": "40",
        "seed": str(seed),
    }


def sweep_runs() -> list[FakeRun]:
    """lr x hidden x 2 seeds with known verdicts, plus a diverged and a failed run."""
    kinds = {(0.1, 10): "underfit", (0.1, 100): "underfit", (1.0, 10): "good_fit"}
    runs = []
    for lr in (0.1, 1.0):
        for hidden in (10, 100):
            for seed in (0, 1):
                kind = kinds.get((lr, hidden), "overfit")
                runs.append(
                    FakeRun(
                        f"lr={lr:g} h={hidden} seed={seed}",
                        params(lr, hidden, seed),
                        curve(40, kind=kind, onset=15, noise=0.005, seed=seed),
                        tags={"diverged": "false", "seed": str(seed)},
                    )
                )
    runs.append(
        FakeRun(
            "lr=10 h=10 seed=0",
            params(10.0, 10, 0),
            curve(2, kind="good_fit"),
            tags={"diverged": "true", "scratchnet.diverged_epoch": "3"},
        )
    )
    runs.append(
        FakeRun(
            "lr=1 h=100 seed=2 | failed",
            params(1.0, 100, 2),
            curve(3, kind="good_fit"),
            tags={"diverged": "false", "scratchnet.failure": "boom"},
            status="FAILED",
        )
    )
    return runs


def build(path: Path) -> dict[str, str]:
    """Log the two sweeps and a loose run into a new store at `path`; return their ids."""
    uri = f"sqlite:///{path}"
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("study", artifact_location=(path.parent / "art").as_uri())
    old = log_sweep(
        client,
        exp,
        [FakeRun("old", params(0.5, 10, 0), curve(5))],
        sweep_id="old-sweep",
        timestamp=T0,
    )
    parent = log_sweep(
        client,
        exp,
        sweep_runs(),
        name="sweep study",
        sweep_id="new-sweep",
        tags={"scratchnet.study_description": "What overfits?"},
        params={"sweep.grid_size": "8", "sweep.overrides": "trainer.lr=0.1,1"},
        timestamp=T0 + 100_000,
    )
    loose = client.create_run(exp, run_name="not in a sweep").info.run_id
    client.set_terminated(loose)
    return {"uri": uri, "experiment_id": exp, "old": old, "parent": parent, "loose": loose}


@pytest.fixture(scope="session")
def build_synthetic():
    """`build`: log the synthetic sweeps into a new store at a path (for a test's own store)."""
    return build


@pytest.fixture(scope="session")
def synthetic_store(tmp_path_factory: pytest.TempPathFactory) -> SyntheticStore:
    """Built once per test session, shared by the pytest-xdist workers through a file lock."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "synthetic-sweeps"
    root.mkdir(exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "ids.json"
        if not done.exists():
            done.write_text(json.dumps(build(root / "mlflow.db")))
        ids = json.loads(done.read_text())
    client = MlflowClient(tracking_uri=ids["uri"])
    return SyntheticStore(
        ids["uri"], client, ids["experiment_id"], ids["old"], ids["parent"], ids["loose"]
    )
