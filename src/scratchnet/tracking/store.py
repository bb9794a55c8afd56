"""The tracking store: where it is, opening it safely, and its experiments.

A SQLite store is created under a lock (MLflow's schema set-up races between processes) and
put in WAL mode; a tracking server must answer before a run is started against it.
"""

import contextlib
import fcntl
import hashlib
import os
import socket
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from scratchnet.core.errors import ConfigError, ScratchnetError
from scratchnet.core.paths import tracking_uri
from scratchnet.tracking.follow import follow_store

STORE_INIT_ATTEMPTS = 5  # a new store being made by another program: 7.5 s at most
Client = MlflowClient  # what the layers above MLflow hold a store by


class StoreError(ScratchnetError):
    """The store, experiment or run asked for cannot be read."""


def resolve_uri(uri: str | None) -> str:
    """`None` means the default store (`core.paths`); a SQLite file needs a writable folder
    (made if absent).

    A tracking server must accept connections: MLflow's client would otherwise retry for
    minutes before failing.
    """
    uri = tracking_uri(uri)
    if uri.startswith(("http://", "https://")):
        check_server(uri)
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
        init_sqlite_store(uri)
    return uri


_READY_STORES: set[str] = set()


def init_sqlite_store(uri: str) -> None:
    """Open a SQLite store first under an exclusive lock, so a new one is created only once.

    MLflow's tracking store (3.17) creates the tables of an empty database without a lock, so
    processes opening a brand-new store at once race ("table ... already exists", a half-made
    schema). Each process's first opening of a store waits its turn here; later ones do not.
    A store copied or moved from elsewhere is made to point at its own folder, or refused
    (`tracking.follow`).
    """
    if uri in _READY_STORES:
        return
    db = Path(unquote(uri.removeprefix("sqlite:///"))).expanduser().absolute()
    key = hashlib.sha256(str(db).encode()).hexdigest()[:16]
    with (Path(tempfile.gettempdir()) / f"scratchnet-store-{key}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
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


def check_server(uri: str, timeout: float = 5.0) -> None:
    """Raise ConfigError unless something accepts TCP connections at the URI's host and port."""
    parsed = urlparse(uri)
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError as err:
        raise ConfigError(f"tracking.uri={uri!r}: {err} (allowed: http(s)://host:port)") from err
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ConfigError(
            f"tracking.uri={uri!r}: no tracking server answers at {parsed.hostname}:{port} "
            f"({reason}); start one with `make server` or pass tracking.uri=..."
        ) from err


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:///...` URI, else None."""
    if not uri.startswith("sqlite:"):
        return None
    return Path(unquote(urlparse(uri).path)).resolve()


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
        return found.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_root_for(uri))
    except MlflowException:
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def open_client(uri: str | None = None) -> MlflowClient:
    """A client on an existing store `uri` (default: `core.paths.default_tracking_uri`); a
    missing SQLite file is an error (reading never creates a store). A moved SQLite store is
    relocated, a copy refused (`tracking.follow`), before anything reads or writes its
    artifacts."""
    uri = tracking_uri(uri)
    db = sqlite_path(uri)
    if db is not None and not db.is_file():
        raise StoreError(f"no tracking store at {db} (tracking URI {uri})")
    client = MlflowClient(tracking_uri=uri)
    if db is not None:
        follow_store(db, client)
    return client


def import_store_backend() -> None:
    """Import what opening a SQL store imports (~1 s), e.g. in a sweep worker warming up."""
    import mlflow.store.tracking.sqlalchemy_store  # noqa: F401


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """Turn MLflow's errors inside the block into a one-line StoreError."""
    try:
        yield
    except MlflowException as err:
        raise StoreError(f"tracking store: {err.message}") from err
