"""Shared fixtures: a real MLflow SQLite store per test."""

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    """A fresh SQLite tracking store in the test's own folder."""
    return f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"


@pytest.fixture
def client(store_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=store_uri)
