"""Helpers shared by the test folders: the repo's paths and the CLI as a real subprocess.

A module of its own, not conftest.py: sub-folders have conftest.py files too, and
`from conftest import ...` would pick up whichever was imported last.
"""

import os
import subprocess
import sys
from pathlib import Path

from mlflow.tracking import MlflowClient

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
