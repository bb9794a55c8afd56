"""MLflow: the store, run naming, params, per-epoch metrics, tags and artifacts of one run."""

import contextlib
import fcntl
import hashlib
import io
import os
import re
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from scratchnet.errors import ConfigError
from scratchnet.paths import default_artifact_root, default_tracking_uri, repo_root
from scratchnet.train import Callback

SECRET_KEY = re.compile(r"(password|passwd|token|secret|api_?key|(^|[._])key)$", re.IGNORECASE)
MASK = "***"
PARAMS_PER_CALL = 100  # MLflow's log_batch limits
METRICS_PER_CALL = 1000
TAG_PREFIX = "scratchnet."
STORE_INIT_ATTEMPTS = 5  # a new store being made by another program: 7.5 s at most


def resolve_uri(uri: str | None) -> str:
    """`None` means the repo's store; a SQLite file needs a writable folder (made if absent).

    A tracking server must accept connections: MLflow's client would otherwise retry for
    minutes before failing.
    """
    uri = uri or default_tracking_uri()
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
                    MlflowClient(tracking_uri=uri)
                    break
                except Exception:  # half-made tables fail in many ways
                    # another program, not under this lock (an MLflow UI, a notebook), is
                    # creating the same store: let it finish, then open what it made
                    if attempt == STORE_INIT_ATTEMPTS - 1:
                        raise
                    time.sleep(0.5 * 2**attempt)
            use_wal(db)
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
    if uri == default_tracking_uri():
        return default_artifact_root().as_uri()
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


def git_state(root: Path | None = None) -> tuple[str, bool]:
    """(commit, dirty) of the checkout, or ("unknown", False) outside git."""
    root = root or repo_root()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False
    return commit, bool(status.strip())


def mask_secrets(params: Mapping[str, str]) -> dict[str, str]:
    """Replace the values of keys that look like secrets (password, token, secret, key)."""
    return {k: (MASK if SECRET_KEY.search(k) else v) for k, v in params.items()}


def mask_overrides(overrides: Iterable[str]) -> list[str]:
    """Hydra overrides with secret-looking values masked: `+db.password=x` -> `+db.password=***`."""
    masked = []
    for override in overrides:
        key, sep, _ = override.partition("=")
        secret = sep and SECRET_KEY.search(key.lstrip("+~"))
        masked.append(f"{key}={MASK}" if secret else override)
    return masked


def mask_tree(node: Any, key: str = "") -> Any:
    """A copy of a nested config (dicts and lists) with the values under secret-looking keys
    masked, as the resolved `config.yaml` artifact is written."""
    if isinstance(node, Mapping):
        return {k: mask_tree(v, f"{key}.{k}" if key else str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [mask_tree(v, key) for v in node]
    return MASK if key and SECRET_KEY.search(key) and node is not None else node


def run_name(
    lr: float, batch_size: int, hidden_size: int, seed: int, train_size: int | None
) -> str:
    """A readable name that tells a sweep's runs apart in the UI: `lr=0.1 bs=100 h=50 seed=0`."""
    parts = [f"lr={lr:g}", f"bs={batch_size}", f"h={hidden_size}"]
    if train_size is not None:
        parts.append(f"n={train_size}")
    parts.append(f"seed={seed}")
    return " ".join(parts)


class EpochLogger(Callback):
    """Logs every epoch's metrics (step = epoch), batching epochs into one `log_batch` call.

    A call costs ~4-20 ms on SQLite and ~50 ms over HTTP, more than a digits epoch, so
    epochs are buffered and sent at most every `flush_seconds` (0: every epoch), at the end,
    and before the run is closed for any reason; epoch 0 is sent at once.
    """

    def __init__(self, client: MlflowClient, run_id: str, flush_seconds: float = 1.0) -> None:
        self.client = client
        self.run_id = run_id
        self.flush_seconds = flush_seconds
        self._pending: list[Metric] = []
        self._last_flush = time.monotonic()

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> None:
        now = int(time.time() * 1000)
        self._pending.extend(Metric(k, float(v), now, epoch) for k, v in metrics.items())
        if epoch == 0 or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def on_train_end(self, result: object) -> None:
        self.flush()

    def flush(self) -> None:
        """Send the buffered epochs (MLflow takes at most 1,000 metrics per call)."""
        for i in range(0, len(self._pending), METRICS_PER_CALL):
            chunk = self._pending[i : i + METRICS_PER_CALL]
            self.client.log_batch(self.run_id, metrics=chunk, synchronous=True)
        self._pending.clear()
        self._last_flush = time.monotonic()


class RunRecorder:
    """One MLflow run: created with params and tags, fed epochs, closed with a status."""

    def __init__(self, client: MlflowClient, run_id: str, flush_seconds: float = 1.0) -> None:
        self.client = client
        self.run_id = run_id
        self.epoch_logger = EpochLogger(client, run_id, flush_seconds)

    @classmethod
    def start(
        cls,
        uri: str,
        experiment: str,
        name: str,
        params: Mapping[str, str],
        tags: Mapping[str, str],
        flush_seconds: float = 1.0,
    ) -> "RunRecorder":
        client = MlflowClient(tracking_uri=uri)
        experiment_id = get_or_create_experiment(client, uri, experiment)
        run = client.create_run(experiment_id, run_name=name, tags=dict(tags))
        recorder = cls(client, run.info.run_id, flush_seconds)
        items = [Param(k, v) for k, v in mask_secrets(params).items()]
        for i in range(0, len(items), PARAMS_PER_CALL):
            client.log_batch(recorder.run_id, params=items[i : i + PARAMS_PER_CALL])
        return recorder

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self.client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_files(self, files: Mapping[str, bytes]) -> None:
        """Upload in-memory files (name -> bytes) as artifacts at the run's root."""
        with tempfile.TemporaryDirectory(prefix="scratchnet-") as tmp:
            for name, content in files.items():
                (Path(tmp) / name).write_bytes(content)
            self.client.log_artifacts(self.run_id, tmp)

    def end(self, status: str) -> None:
        """Send any buffered epochs, then close the run with `status`."""
        try:
            self.epoch_logger.flush()
        finally:
            self.client.set_terminated(self.run_id, status=status)


def weights_npz(params: Mapping[str, np.ndarray]) -> bytes:
    """The network's parameters as the bytes of an .npz file."""
    buf = io.BytesIO()
    np.savez(buf, **params)
    return buf.getvalue()
