"""The SQL scratchnet runs on a SQLite store's own file, below MLflow's client API.

MLflow's client can read an experiment's artifact location and a run's artifact URI but has
no way to change them, nor to copy a store that is being written, nor to check its pages:
rewriting artifact locations (in one transaction), the online backup (with counts taken in
the very read transaction it copies) and `PRAGMA quick_check` are done here, and only here;
so is reading a sweep's histories in one query (the client reads one run and metric a call).
"""

import contextlib
import math
import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

BUSY_TIMEOUT_S = 30.0  # a sweep's writers hold the store for milliseconds at a time
# What a commit waits for in WAL mode. FULL (SQLite's default) syncs the WAL at every commit,
# ~4 ms here and ~10 commits a run; NORMAL syncs it at checkpoints only. A killed process loses
# nothing it committed either way (the WAL is in the OS's hands); a power cut or an OS crash
# can lose the last commits, never the file's consistency (SQLite's docs: "WAL mode is
# always consistent with synchronous=NORMAL").
WAL_SYNCHRONOUS = "NORMAL"


@dataclass(frozen=True)
class Table:
    """A table that records artifact locations: its key and location columns."""

    name: str
    key: str
    location: str


# Runs and logged models live below their experiment's location (MLflow's layout).
LOCATION_TABLES = (
    Table("experiments", "experiment_id", "artifact_location"),
    Table("runs", "run_uuid", "artifact_uri"),
    Table("logged_models", "model_id", "artifact_location"),
)


@dataclass(frozen=True)
class Recorded:
    """One recorded artifact location: its table, row key, experiment and location."""

    table: str
    key: str
    experiment_id: str
    location: str


Plan = Callable[[list[Recorded]], Mapping[tuple[str, str], str]]


def _sync_at_checkpoints(dbapi_connection: object, _record: object) -> None:
    """A new SQLAlchemy connection to a SQLite store in WAL mode commits `WAL_SYNCHRONOUS`."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        (mode,) = dbapi_connection.execute("PRAGMA journal_mode").fetchone()
        if mode == "wal":
            dbapi_connection.execute(f"PRAGMA synchronous={WAL_SYNCHRONOUS}")


def sync_wal_at_checkpoints() -> None:
    """Make every SQLAlchemy engine of this process (MLflow's stores) open its SQLite
    connections with `WAL_SYNCHRONOUS`: SQLAlchemy's own connect event; idempotent."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _sync_at_checkpoints):
        event.listen(Engine, "connect", _sync_at_checkpoints)


def read_only(db: Path) -> bool:
    """Whether the store can only be read: its folder (or the file) is not writable.

    SQLite writes beside the database (its WAL and lock files), so a store in a folder this
    process cannot write to (an archive, a read-only mount, someone else's share) can only be
    opened read-only (`read_only_uri`).
    """
    folder = db.parent
    return not os.access(folder, os.W_OK | os.X_OK) or (db.exists() and not os.access(db, os.W_OK))


def read_only_uri(db: Path) -> str:
    """SQLite's URI for reading `db` without writing anything beside it.

    `mode=ro` when a WAL file is present (another process may be writing: its commits there
    are read too; SQLite >= 3.22 needs no write access for that), else `immutable=1`: a store
    in WAL mode cannot otherwise be opened where its shared-memory file cannot be created.
    """
    wal = db.with_name(db.name + "-wal")
    flag = "mode=ro" if wal.exists() else "immutable=1"
    return f"file:{quote(str(db.absolute()))}?{flag}"


def mlflow_read_only_uri(db: Path) -> str:
    """The tracking URI that opens `db` read-only through SQLAlchemy (`uri=true`)."""
    return f"sqlite:///{read_only_uri(db)}&uri=true"


@contextlib.contextmanager
def connected(db: Path) -> Iterator[sqlite3.Connection]:
    """A connection in autocommit mode (transactions are begun explicitly), closed after;
    read-only for a store that cannot be written (`read_only`)."""
    target, as_uri = (read_only_uri(db), True) if read_only(db) else (str(db), False)
    with contextlib.closing(
        sqlite3.connect(target, timeout=BUSY_TIMEOUT_S, isolation_level=None, uri=as_uri)
    ) as con:
        yield con


def _tables(con: sqlite3.Connection) -> list[Table]:
    names = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return [t for t in LOCATION_TABLES if t.name in names]


def read_locations(con: sqlite3.Connection) -> list[Recorded]:
    """Every recorded artifact location of experiments, runs and logged models."""
    rows = []
    for table in _tables(con):
        query = f"SELECT {table.key}, experiment_id, {table.location} FROM {table.name}"
        for key, experiment_id, location in con.execute(query):
            if location is not None:
                rows.append(Recorded(table.name, str(key), str(experiment_id), str(location)))
    return rows


def rewrite_locations(db: Path, plan: Plan) -> Counter[str]:
    """Apply `plan` (rows -> {(table, key): new location}) in one write transaction.

    The rows are read inside the transaction, so a concurrent relocation finds nothing left
    to do; any error rolls every change back. Returns the number of rows changed per table.
    """
    with connected(db) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            changes = plan(read_locations(con))
            for table in _tables(con):
                updates = [(loc, key) for (name, key), loc in changes.items() if name == table.name]
                sql = f"UPDATE {table.name} SET {table.location} = ? WHERE {table.key} = ?"
                con.executemany(sql, updates)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return Counter(name for name, _ in changes)


@dataclass(frozen=True)
class Snapshot:
    """What an online backup copied: counts and locations read in the transaction it copied."""

    runs: int
    metric_rows: int
    locations: list[Recorded]


def snapshot(db: Path, dest: Path) -> Snapshot:
    """Copy `db` into the new file `dest` with SQLite's online backup, while others may write.

    One read transaction holds the snapshot: the counts and locations are read in it, then
    the backup copies the same snapshot (a connection's backup reads through its own open
    transaction), whatever the writers commit meanwhile.
    """
    with connected(db) as src, contextlib.closing(sqlite3.connect(dest)) as out:
        src.execute("BEGIN")  # deferred: the first read fixes the snapshot
        runs = src.execute("SELECT count(*) FROM runs").fetchone()[0]
        metric_rows = src.execute("SELECT count(*) FROM metrics").fetchone()[0]
        locations = read_locations(src)
        src.backup(out)
        src.execute("COMMIT")
    return Snapshot(int(runs), int(metric_rows), locations)


def quick_check(db: Path, skip: Collection[str] = ()) -> list[str]:
    """SQLite's `PRAGMA quick_check`, one problem a line; [] when the file is sound.

    With `skip`, every table but those (each with its indexes) is checked, one at a time:
    SQLite's per-table form, which leaves out the whole-file checks (pages never used).
    """
    try:
        with connected(db) as con:
            if not skip:
                found = [row[0] for row in con.execute("PRAGMA quick_check")]
            else:
                tables = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                names = [name for (name,) in tables.fetchall() if name not in skip]
                found = [
                    row[0] for name in names for row in con.execute(f'PRAGMA quick_check("{name}")')
                ]
    except sqlite3.DatabaseError as err:
        return [f"{db}: {err}"]
    lines = [line.strip() for text in found for line in str(text).splitlines()]
    return [line for line in lines if line and line != "ok" and not line.startswith("***")]


def is_mlflow_store(db: Path) -> bool | None:
    """Whether `db` holds MLflow's schema (its migrations table); None if it cannot be read."""
    try:
        with connected(db) as con:
            found = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
    except sqlite3.DatabaseError:
        return None
    return found is not None


RUNS_PER_QUERY = 500  # SQLite's bound parameters: 999 in old builds


def metric_rows(
    db: Path, run_ids: Sequence[str], keys: Sequence[str]
) -> list[tuple[str, str, int, int, float]]:
    """(run_id, key, step, timestamp, value) of every point of `keys` of the runs, read in one
    query per 500 runs, in `get_metric_history`'s order per run and key (timestamp, step,
    value), NaN where MLflow stored one (`is_nan`) as MLflow's client returns it."""
    with connected(db) as con:
        return metric_rows_in(con, run_ids, keys)


def metric_rows_in(
    con: sqlite3.Connection, run_ids: Sequence[str], keys: Sequence[str]
) -> list[tuple[str, str, int, int, float]]:
    """`metric_rows` on an open connection (inside a read transaction of the caller's)."""
    rows: list[tuple[str, str, int, int, float]] = []
    marks_k = ",".join("?" * len(keys))
    for start in range(0, len(run_ids), RUNS_PER_QUERY):
        chunk = list(run_ids[start : start + RUNS_PER_QUERY])
        found = con.execute(
            "SELECT run_uuid, key, step, timestamp, value, is_nan FROM metrics"
            f" WHERE run_uuid IN ({','.join('?' * len(chunk))}) AND key IN ({marks_k})"
            " ORDER BY run_uuid, key, timestamp, step, value",
            [*chunk, *keys],
        )
        rows += [(r, k, s, t, math.nan if nan else float(v)) for r, k, s, t, v, nan in found]
    return rows
