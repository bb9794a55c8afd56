"""Shared fixtures: a real MLflow SQLite store per test."""

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness import new_store


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    """A new SQLite tracking store in the test's own folder (a copy of an empty one)."""
    return new_store(tmp_path / "store")


@pytest.fixture
def client(store_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=store_uri)
