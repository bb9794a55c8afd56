"""The tracking store: where it is, opening it safely, and its experiments.

A SQLite store is created under a lock (MLflow's schema set-up races between processes), put
in WAL mode and checked (`PRAGMA quick_check`: a damaged one is never written to); one that
cannot be written is opened read-only for reading. A tracking server must answer (waited for
up to `tracking.server_wait_seconds`) before a run is started against it.
"""

import contextlib
import fcntl
import hashlib
import logging
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from scratchnet.core.errors import ConfigError
from scratchnet.core.paths import tracking_uri
from scratchnet.tracking.failures import StoreError, store_errors
from scratchnet.tracking.follow import follow_store
from scratchnet.tracking.names import CUSTOM_MODEL_KIND, EXPERIMENT_KIND_TAG
from scratchnet.tracking.server import is_server, wait_for_server
from scratchnet.tracking.sqlite_file import (
    DamagedStoreError,
    check_intact,
    sqlite_path,
    writable,
)
from scratchnet.tracking.sqlite_store import (
    mlflow_read_only_uri,
    read_only,
    sync_wal_at_checkpoints,
)

STORE_INIT_ATTEMPTS = 5  # a new store being made by another program: 7.5 s at most
Client = MlflowClient  # what the layers above MLflow hold a store by
# The MLflow UI opens an experiment of this kind in its model-training view (runs, datasets,
# models), not the GenAI one (traces) it infers for an experiment without the tag.
EXPERIMENT_TAGS = {EXPERIMENT_KIND_TAG: CUSTOM_MODEL_KIND}
__all__ = [
    "Client",
    "DamagedStoreError",
    "StoreError",
    "check_intact",
    "open_client",
    "resolve_uri",
    "sqlite_path",
    "store_errors",
    "writable",
]


def _quiet_database_errors(record: logging.LogRecord) -> bool:
    """MLflow logs every SQL error with its traceback before raising it; scratchnet reports
    the error itself, as one line (a full disk printed ~400 lines)."""
    return not record.getMessage().startswith("SQLAlchemy database error")


logging.getLogger("mlflow.store.db.utils").addFilter(_quiet_database_errors)


def resolve_uri(uri: str | None, server_wait: float = 0.0, check_integrity: bool = True) -> str:
    """The store to write to: `None` means the default store (`core.paths`); a SQLite file
    needs a writable folder (made if absent) and must pass `PRAGMA quick_check`
    (`check_integrity`, once per process; a sweep's jobs leave it to their launcher).

    A tracking server must accept connections, waited for up to `server_wait` seconds: MLflow's
    client would otherwise retry each call for minutes before failing.
    """
    uri = tracking_uri(uri)
    if is_server(uri):
        wait_for_server(uri, server_wait)
    db = sqlite_path(uri)
    if db is not None:
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ConfigError(
                f"tracking.uri={uri!r}: cannot create {db.parent} ({err.strerror})"
            ) from err
        if not _writable(db.parent) or (db.exists() and not _writable(db)):
            raise ConfigError(
                f"tracking.uri={uri!r}: {db} is not writable (allowed: a writable path)"
            )
        init_sqlite_store(uri, check_integrity)
    return uri


_READY_STORES: set[str] = set()


def init_sqlite_store(uri: str, check_integrity: bool = True) -> None:
    """Open a SQLite store first under an exclusive lock, so a new one is created only once.

    MLflow's tracking store (3.17) creates the tables of an empty database without a lock, so
    processes opening a brand-new store at once race ("table ... already exists", a half-made
    schema). Each process's first opening of a store waits its turn here; later ones do not.
    A store copied or moved from elsewhere is made to point at its own folder, or refused
    (`tracking.follow`).
    """
    if uri in _READY_STORES:
        return
    sync_wal_at_checkpoints()
    db = Path(unquote(uri.removeprefix("sqlite:///"))).expanduser().absolute()
    key = hashlib.sha256(str(db).encode()).hexdigest()[:16]
    with (Path(tempfile.gettempdir()) / f"scratchnet-store-{key}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if check_integrity and db.is_file():
                check_intact(db)
            if not db.exists():
                use_wal(db)  # before MLflow makes the schema: its ~1,300 commits then sync less
            for attempt in range(STORE_INIT_ATTEMPTS):
                try:  # creates the schema and the default experiment if absent
                    client = MlflowClient(tracking_uri=uri)
                    break
                except Exception:  # half-made tables fail in many ways
                    # another program, not under this lock (an MLflow UI, a notebook), is
                    # creating the same store: let it finish, then open what it made
                    if attempt == STORE_INIT_ATTEMPTS - 1:
                        raise
                    time.sleep(0.5 * 2**attempt)
            use_wal(db)
            follow_store(db, client)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    _READY_STORES.add(uri)


def use_wal(db: Path) -> str:
    """Put a SQLite store in WAL journal mode (kept in the file, so set once); returns the mode.

    In the default rollback-journal mode a writer blocks every reader and a commit syncs more
    files (0.8 ms vs 0.3 ms a commit on this machine, quiet; ~15 commits a run), so a sweep's
    parallel jobs wait on each other less. A store busy elsewhere keeps its mode until the
    next opening.
    """
    with contextlib.closing(sqlite3.connect(db, timeout=5.0)) as con:
        try:
            mode = con.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError:  # locked: stay as is, only slower
            return "unknown"
    return str(mode)


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def artifact_root_for(uri: str) -> str | None:
    """Artifacts beside the database for SQLite stores; the server decides for the others."""
    db = sqlite_path(uri)
    return (db.parent / "artifacts").as_uri() if db is not None else None


def get_or_create_experiment(client: MlflowClient, uri: str, name: str) -> str:
    """The experiment's id, created if missing (tolerating a concurrent creator)."""
    try:
        found = client.get_experiment_by_name(name)
    except MlflowException as err:
        if err.get_http_status_code() not in (401, 403):
            raise
        raise ConfigError(
            f"tracking.uri={uri!r}: the server refuses us (HTTP {err.get_http_status_code()}); "
            "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
        ) from err
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        if EXPERIMENT_KIND_TAG not in found.tags:  # made before the tag was set, or by others
            client.set_experiment_tag(found.experiment_id, EXPERIMENT_KIND_TAG, CUSTOM_MODEL_KIND)
        return found.experiment_id
    try:
        return client.create_experiment(
            name, artifact_location=artifact_root_for(uri), tags=EXPERIMENT_TAGS
        )
    except MlflowException:
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def open_client(
    uri: str | None = None, check_integrity: bool = True, reap: bool = False
) -> MlflowClient:
    """A client on an existing store `uri` (default: `core.paths.default_tracking_uri`); a
    missing SQLite file is an error (reading never creates a store), and so is a damaged one
    (`check_integrity`). A moved SQLite store is relocated, a copy refused (`tracking.follow`),
    before anything reads or writes its artifacts; one that cannot be written is opened
    read-only as it is (`writable` says which). With `reap`, runs a dead process left RUNNING
    are ended FAILED (`tracking.reaper`) in a store that can be written."""
    uri = tracking_uri(uri)
    db = sqlite_path(uri)
    if db is None:
        return _reaped(MlflowClient(tracking_uri=uri), reap)
    if not db.is_file():
        raise StoreError(f"no tracking store at {db} (tracking URI {uri})")
    if check_integrity:
        check_intact(db)
    if read_only(db):
        return MlflowClient(tracking_uri=mlflow_read_only_uri(db))
    sync_wal_at_checkpoints()
    client = MlflowClient(tracking_uri=uri)
    follow_store(db, client)
    return _reaped(client, reap)


def _reaped(client: MlflowClient, reap: bool) -> MlflowClient:
    if reap:
        from scratchnet.tracking.reaper import reap_dead_runs

        reap_dead_runs(client)
    return client


def open_for_run(uri: str | None, server_wait: float, in_sweep: bool) -> str:
    """The store a training run writes to, opened (`resolve_uri`); outside a sweep, runs that
    a dead process left RUNNING are ended FAILED first (a sweep's launcher does that for its
    jobs, whose fixed cost stays small)."""
    uri = resolve_uri(uri, server_wait, check_integrity=not in_sweep)
    if not in_sweep:
        from scratchnet.tracking.reaper import reap_dead_runs

        with store_errors(uri):
            reap_dead_runs(MlflowClient(tracking_uri=uri))
    return uri
