"""A store keeps every commit: while other programs read it (a backup, a report, the UI),
nothing in the sweep's process drops the locks its connections hold; and a process killed
right after a commit loses nothing (WAL mode syncs at checkpoints, not at every commit)."""

import contextlib
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from mlflow.tracking import MlflowClient

from harness import new_store
from scratchnet.config.validate import check_tracking_uri
from scratchnet.tracking.bulk import sql_store
from scratchnet.tracking.store import resolve_uri

READ_AND_CLOSE = "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('SELECT 1 FROM t')"
COUNT = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM t').fetchone()[0])"  # noqa: E501


def in_another_process(code: str, db: Path) -> str:
    done = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_validating_the_uri_of_an_open_store_keeps_the_commits_that_follow(tmp_path):
    db = tmp_path / "mlflow.db"
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as writer:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("CREATE TABLE t (x)")
        writer.execute("INSERT INTO t VALUES (1)")
        check_tracking_uri(f"sqlite:///{db}")  # what each sweep job does, its store open
        in_another_process(READ_AND_CLOSE, db)  # e.g. scratchnet-store backup, then exiting
        writer.execute("INSERT INTO t VALUES (2)")
        assert in_another_process(COUNT, db) == "2"


KILLED_AFTER_COMMIT = """
import os, signal, sys
from mlflow.tracking import MlflowClient
from scratchnet.tracking.store import resolve_uri
client = MlflowClient(tracking_uri=resolve_uri(sys.argv[1]))
client.create_experiment("committed then killed")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_commit_survives_its_process_killed_at_once(tmp_path):
    uri = new_store(tmp_path)
    done = subprocess.run([sys.executable, "-c", KILLED_AFTER_COMMIT, uri], capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    found = MlflowClient(tracking_uri=uri).get_experiment_by_name("committed then killed")
    assert found is not None


def test_mlflow_connections_to_a_wal_store_sync_at_checkpoints_not_at_every_commit(tmp_path):
    store = sql_store(MlflowClient(tracking_uri=resolve_uri(new_store(tmp_path))))
    assert store is not None
    with store.engine.connect() as con:
        assert con.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert con.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_a_new_store_is_in_wal_mode_before_mlflow_makes_its_tables(tmp_path):
    db = tmp_path / "new.db"
    resolve_uri(f"sqlite:///{db}")
    with contextlib.closing(sqlite3.connect(db)) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT count(*) FROM experiments").fetchone()[0] == 1  # Default
