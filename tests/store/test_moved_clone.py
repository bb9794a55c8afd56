"""A clone moved elsewhere: the first `scratchnet-train` or `scratchnet-report` on its store says
so in one line, relocates it, and the old runs' artifacts are readable afterwards."""

import shutil
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from store_support import every_run, ok, sweep, train, tree_digest, uri_of

from harness import run_cli
from scratchnet.tracking.names import SWEEP_PARENT_TAG
from scratchnet.tracking.relocation import is_inside, local_path

pytestmark = pytest.mark.slow
ARTIFACTS = ("config.yaml", "model")  # learning_curves.png only with tracking.log_figure
FILES = ("config.yaml", "model/MLmodel", "model/data/net.npz")


def moved(tmp_path: Path) -> tuple[Path, Path]:
    """`tmp/first` moved to `tmp/second`: the old and new store folders."""
    shutil.move(tmp_path / "first", tmp_path / "second")
    return tmp_path / "first" / "mlruns", tmp_path / "second" / "mlruns"


def notice(*outputs: str) -> str:
    """The one line that says the store was moved (there must be exactly one)."""
    (line,) = [line for text in outputs for line in text.splitlines() if "was moved" in line]
    return line


def test_first_train_in_a_moved_clone_relocates_and_reads_the_old_artifacts(tmp_path):
    ok(train(tmp_path / "first" / "mlruns", "tracking.experiment=study", cwd=tmp_path))
    old, new = moved(tmp_path)
    files = tree_digest(new / "artifacts")

    done = ok(train(new, "tracking.experiment=study", "seed=1", cwd=tmp_path))
    line = notice(done.stdout, done.stderr)
    assert f"the tracking store {new} was moved" in line and str(old / "artifacts") in line
    client = MlflowClient(tracking_uri=uri_of(new))
    first, second = sorted(every_run(client), key=lambda r: r.info.start_time)
    for run in (first, second):
        assert is_inside(local_path(run.info.artifact_uri), new)
    for name in FILES:  # the old run's files, read through MLflow from the new place
        got = Path(client.download_artifacts(first.info.run_id, name, str(tmp_path)))
        digest = tree_digest(got.parent)[got.name]
        assert files[f"{first.info.run_id}/artifacts/{name}"] == digest
    assert {a.path for a in client.list_artifacts(second.info.run_id)} == set(ARTIFACTS)


def test_first_report_in_a_moved_clone_relocates_and_logs_the_report_into_it(tmp_path):
    first = tmp_path / "first" / "mlruns"
    ok(sweep(first, "tracking.experiment=study", "trainer.lr=0.1,0.5", cwd=tmp_path))
    _, new = moved(tmp_path)

    args = ("--experiment", "study", "--tracking-uri", uri_of(new), "--out", str(tmp_path / "r"))
    done = ok(run_cli("scratchnet-report", *args, cwd=tmp_path))
    assert f"the tracking store {new} was moved" in notice(done.stderr)
    client = MlflowClient(tracking_uri=uri_of(new))
    (parent,) = [r for r in every_run(client) if r.data.tags.get(SWEEP_PARENT_TAG) == "true"]
    logged = local_path(parent.info.artifact_uri) / "report" / "report.html"
    assert is_inside(logged, new)
    assert logged.read_bytes() == (tmp_path / "r" / "report.html").read_bytes()
    assert not first.exists()  # nothing was written where the store used to be
