"""Reading a sweep straight from the SQLite file gives what MLflow's client gives, and a report
that changes nothing never imports MLflow."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from scratchnet.tracking import reader, sql_reader
from scratchnet.tracking.failures import StoreError
from scratchnet.tracking.lazy import LazyStore
from scratchnet.tracking.names import REUSED, member_tag


def reusing_store(build, db: Path) -> tuple[MlflowClient, Path, dict[str, str]]:
    """The two synthetic sweeps; the new one also reuses the old one's run, and a run of the
    new one is deleted (searches leave deleted runs out)."""
    ids = build(db)
    client = MlflowClient(tracking_uri=ids["uri"])
    (old_run,) = reader.child_runs(client, ids["experiment_id"], ids["old"])
    client.set_tag(old_run.info.run_id, member_tag(ids["parent"]), REUSED)
    kids = reader.child_runs(client, ids["experiment_id"], ids["parent"])
    client.delete_run(kids[0].info.run_id)
    return client, db, ids


@pytest.fixture(scope="module")
def store(build_synthetic, tmp_path_factory) -> tuple[MlflowClient, Path, dict[str, str]]:
    return reusing_store(build_synthetic, tmp_path_factory.mktemp("sql-reader") / "mlflow.db")


@pytest.mark.parametrize("sweep", ["latest", "latest~1", "old-sweep", "parent-prefix"])
def test_the_file_gives_the_sweep_the_client_gives(store, sweep):
    client, db, ids = store
    sweep = ids["parent"][:8] if sweep == "parent-prefix" else sweep
    by_client = reader.load_sweep(client, "study", sweep)
    by_file = sql_reader.load_sweep(db, "study", sweep)
    assert by_file.sweep == by_client.sweep
    pd.testing.assert_frame_equal(by_file.runs, by_client.runs)
    pd.testing.assert_frame_equal(by_file.history, by_client.history)


def test_the_file_gives_the_reused_run_and_leaves_the_deleted_one_out(store):
    client, db, ids = store
    runs = sql_reader.load_sweep(db, "study").runs
    assert runs["reused"].sum() == 1
    deleted = {r.info.run_id for r in client.search_runs([ids["experiment_id"]], run_view_type=2)}
    assert deleted and not deleted & set(runs["run_id"])


def test_the_file_gives_the_members_latest_metrics_and_tags_the_client_gives(store):
    client, db, ids = store
    for run_id in reader.child_runs(client, ids["experiment_id"], ids["parent"])[:2]:
        client.log_metric(run_id.info.run_id, "best_epoch", 7.0)
    parent = sql_reader.load_sweep(db, "study").sweep
    members = reader.member_runs(client, ids["experiment_id"], ids["parent"])
    by_client = sorted((reader.state(r) for r in members), key=lambda s: s.run_id)
    by_file = sorted(sql_reader.run_states(db, parent), key=lambda s: s.run_id)
    assert [(s.run_id, s.status, dict(s.tags)) for s in by_file] == [
        (s.run_id, s.status, dict(s.tags)) for s in by_client
    ]
    assert [dict(s.metrics) for s in by_file] == [dict(s.metrics) for s in by_client]


def test_an_unknown_experiment_is_the_same_error_either_way(store):
    client, db, _ = store
    with pytest.raises(StoreError) as by_client:
        reader.load_sweep(client, "nope")
    with pytest.raises(StoreError) as by_file:
        sql_reader.load_sweep(db, "nope")
    assert str(by_file.value) == str(by_client.value)


def test_a_moved_store_is_read_through_the_client_which_relocates_it(build_synthetic, tmp_path):
    _, db, _ = reusing_store(build_synthetic, tmp_path / "mlflow.db")
    moved = tmp_path / "moved"
    shutil.copytree(db.parent, moved, ignore=shutil.ignore_patterns("moved"))
    shutil.rmtree(db.parent / "art", ignore_errors=True)  # the original is gone: a move
    db.unlink()
    lazy = LazyStore(f"sqlite:///{moved / 'mlflow.db'}")
    assert lazy.db is None
    assert lazy.load_sweep("study").sweep.experiment == "study"
    assert LazyStore(f"sqlite:///{moved / 'mlflow.db'}").db == moved / "mlflow.db"


REPORT_AGAIN = textwrap.dedent(
    """
    import sys
    from scratchnet.cli.report import main
    try:
        main(sys.argv[1:])
    except SystemExit as done:
        assert not done.code, done.code
    print("mlflow imported:", "mlflow" in sys.modules)
    print("matplotlib imported:", "matplotlib" in sys.modules)
    """
)


def test_a_report_that_changes_nothing_never_imports_mlflow_nor_matplotlib(store, tmp_path):
    _, db, _ = store
    args = ["--experiment", "study", f"--tracking-uri=sqlite:///{db}", f"--out={tmp_path / 'r'}"]
    runs = [
        subprocess.run([sys.executable, "-c", REPORT_AGAIN, *args], capture_output=True, text=True)
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[-1].stderr[-2000:]
    assert "mlflow imported: True" in runs[0].stdout  # the first writes the diagnoses back
    assert "mlflow imported: False" in runs[1].stdout
    assert "matplotlib imported: False" in runs[1].stdout  # every figure from the cache
    assert "diagnosis written to 0 runs; report already logged (unchanged)" in runs[1].stderr
