"""Shared fixtures: a real MLflow SQLite store per test."""

import signal
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness import new_store

# A suite started in the background (`nohup make test &`) inherits SIGINT ignored, and so
# would every command it starts: the Ctrl-C tests need it delivered. A handled signal is reset
# to its default in the commands the tests start; an ignored one would stay ignored.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    """A new SQLite tracking store in the test's own folder (a copy of an empty one)."""
    return new_store(tmp_path / "store")


@pytest.fixture
def client(store_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=store_uri)
