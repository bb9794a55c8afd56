"""Shared fixtures: a real MLflow SQLite store per test."""

import contextlib
import sqlite3
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from scratchnet.tracking.store import resolve_uri


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new store made by scratchnet's own opening (MLflow's schema, WAL mode), once a worker.

    Creating MLflow's tables takes ~3 s of migrations a store; a copy of this one, ~0.05 s.
    """
    db = tmp_path_factory.mktemp("empty-store") / "mlflow.db"
    resolve_uri(f"sqlite:///{db}")
    return db


@pytest.fixture
def store_uri(tmp_path: Path, empty_store: Path) -> str:
    """A SQLite tracking store of the test's own, in its folder: a copy of `empty_store`.

    Copied with SQLite's backup API, which reads a consistent snapshot (WAL included). Its
    first opening points it at its own folder (`tracking.follow`), silently: it has no runs.
    Tests about creating a store use a path of their own instead.
    """
    db = tmp_path / "store" / "mlflow.db"
    db.parent.mkdir()
    with (
        contextlib.closing(sqlite3.connect(empty_store)) as source,
        contextlib.closing(sqlite3.connect(db)) as copy,
    ):
        source.backup(copy)
    return f"sqlite:///{db}"


@pytest.fixture
def client(store_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=store_uri)
