"""The integrity check a store gets when a launcher, a run or a report opens it: the whole file
while it is small; past `FULL_CHECK_BYTES` every table but the metric rows (nearly all of a big
store), which `scratchnet-store check` still covers."""

import contextlib
import sqlite3
from pathlib import Path

import pytest
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from store_support import empty_store

from scratchnet.cli.store import main
from scratchnet.tracking import sqlite_file as store_module
from scratchnet.tracking.store import DamagedStoreError, check_intact


@pytest.fixture
def db(tmp_path: Path, tmp_path_factory) -> Path:
    """A store with one run of 200 epochs of one metric, all in mlflow.db (no WAL left)."""
    uri = empty_store(tmp_path / "mlruns", tmp_path_factory.getbasetemp())
    client = MlflowClient(tracking_uri=uri)
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.log_batch(run_id, metrics=[Metric("test_acc", 0.5, 0, step) for step in range(200)])
    path = Path(uri.removeprefix("sqlite:///"))
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def damage_root_page(db: Path, index: str) -> None:
    """Overwrite the header of the index's root page (a page gone bad on disk)."""
    with contextlib.closing(sqlite3.connect(db)) as con:
        page = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (index,))
        number = page.fetchone()[0]
        size = con.execute("PRAGMA page_size").fetchone()[0]
    with db.open("r+b") as fh:
        fh.seek((number - 1) * size)
        fh.write(b"\x07" * 16)


def test_a_big_stores_runs_pages_are_still_checked(db, monkeypatch):
    monkeypatch.setattr(store_module, "FULL_CHECK_BYTES", 0)  # every store counts as big
    check_intact(db)  # sound
    damage_root_page(db, "sqlite_autoindex_runs_1")
    with pytest.raises(DamagedStoreError, match="is damaged"):
        check_intact(db)


def test_a_small_stores_metric_pages_are_checked_a_big_ones_by_store_check(db, monkeypatch, capsys):
    damage_root_page(db, "sqlite_autoindex_metrics_1")
    with pytest.raises(DamagedStoreError, match="is damaged"):
        check_intact(db)
    monkeypatch.setattr(store_module, "FULL_CHECK_BYTES", 0)
    check_intact(db)  # the metric rows are left to SQLite's checks as pages are read
    with pytest.raises(SystemExit) as done:
        main(["check", "--store", str(db.parent)])
    assert done.value.code == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith("integrity: ") for line in lines)
