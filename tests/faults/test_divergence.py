"""Divergence: a run whose loss blows up stops at that epoch and ends FINISHED with the tag
`diverged=true` (a documented outcome, not a failure); a sweep goes on past it; no NaN or
inf ever reaches the store."""

from pathlib import Path

import pytest
from faults_support import all_finite, metric_rows, split, store_runs, train
from mlflow.tracking import MlflowClient

from harness import all_runs, new_store

pytestmark = pytest.mark.slow
EPOCHS = 20
SMALL = (f"trainer.epochs={EPOCHS}", "data.train_size=200")


def db_of(store_uri: str) -> Path:
    return Path(store_uri.removeprefix("sqlite:///"))


@pytest.mark.parametrize(
    "blow_up",
    [
        ("trainer.lr=1000",),
        ("trainer.lr=1e6", "model.activation=relu", "model.dtype=float64"),
        ("trainer.lr=1e30", "model.activation=relu"),
    ],
    ids=["saturating sigmoid", "exploding relu", "overflowing float32 relu"],
)
def test_a_diverging_run_stops_early_ends_finished_tagged_diverged_and_logs_no_nan(
    tmp_path: Path, blow_up: tuple[str, ...]
) -> None:
    store_uri = new_store(tmp_path / "store")
    done = train(store_uri, *SMALL, *blow_up, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = store_runs(store_uri)
    assert run.info.status == "FINISHED"
    assert run.data.tags["diverged"] == "true"
    stopped_at = int(run.data.tags["scratchnet.diverged_epoch"])
    assert 1 <= stopped_at < EPOCHS
    assert "diverged at epoch" in done.stdout + done.stderr
    assert all_finite(metric_rows(db_of(store_uri)))


def test_a_sweep_mixing_diverging_and_sane_lrs_finishes_every_job_and_counts_them(
    tmp_path: Path,
) -> None:
    store_uri = new_store(tmp_path / "store")
    client = MlflowClient(tracking_uri=store_uri)
    done = train(store_uri, *SMALL, "trainer.lr=0.5,1000,1e6", cwd=tmp_path, multirun=True)
    assert done.returncode == 0, done.stderr[-2000:]
    (parent,), children = split(all_runs(client))
    assert sorted(c.info.status for c in children) == ["FINISHED"] * 3
    assert sorted(c.data.tags["diverged"] for c in children) == ["false", "true", "true"]
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["runs_finished"] == 3
    assert parent.data.metrics["runs_diverged"] == 2
    assert parent.data.tags["scratchnet.best_by_final_val_acc"].startswith("lr=0.5 ")
    assert all_finite(metric_rows(db_of(store_uri)))
