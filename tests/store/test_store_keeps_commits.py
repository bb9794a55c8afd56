"""A store open in a sweep keeps every commit while other programs read it (a backup, a
report, the UI): nothing in the sweep's process drops the locks its connections hold."""

import contextlib
import sqlite3
import subprocess
import sys
from pathlib import Path

from scratchnet.config.validate import check_tracking_uri

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
