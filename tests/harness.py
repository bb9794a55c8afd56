"""Helpers shared by the test folders: the repo's paths and the CLI as a real subprocess.

A module of its own, not conftest.py: sub-folders have conftest.py files too, and
`from conftest import ...` would pick up whichever was imported last.
"""

import atexit
import contextlib
import functools
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from mlflow.tracking import MlflowClient

from scratchnet.tracking.store import resolve_uri

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = REPO.parent / "shared" / "data" / "mnist"
BIN = Path(sys.executable).parent
# Headless Chromium as root on a machine without network: no sandbox, GPU or background services.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def in_the_loop(frame, function: str) -> bool:
    """True when `frame` (a signal handler's) runs inside training/loop.py's `function`."""
    while frame is not None:
        if frame.f_code.co_name == function and frame.f_code.co_filename.endswith("loop.py"):
            return True
        frame = frame.f_back
    return False


def run_cli(
    *args: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run a console script (`scratchnet-train ...`) from the venv, in `cwd`."""
    full_env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def all_runs(client: MlflowClient) -> list:
    """Every run of every experiment in the store."""
    ids = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(ids, max_results=10000) if ids else []


@functools.cache
def empty_store() -> Path:
    """A new store made by scratchnet's own opening (MLflow's schema, WAL mode), once a process.

    Creating MLflow's tables takes ~3 s of migrations a store; opening a copy of this one, 0.08 s.
    """
    folder = Path(tempfile.mkdtemp(prefix="scratchnet-empty-store-"))
    atexit.register(shutil.rmtree, folder, True)
    db = folder / "mlflow.db"
    resolve_uri(f"sqlite:///{db}")
    return db


def new_store(folder: Path) -> str:
    """The URI of a store of its own at `folder/mlflow.db`: a copy of `empty_store()`.

    Copied with SQLite's backup API, which reads a consistent snapshot (WAL included). Its
    first opening points it at its own folder (`tracking.follow`), silently: it has no runs.
    Tests about creating a store use a path of their own instead.
    """
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "mlflow.db"
    with (
        contextlib.closing(sqlite3.connect(empty_store())) as source,
        contextlib.closing(sqlite3.connect(db)) as copy,
    ):
        source.backup(copy)
    return f"sqlite:///{db}"
