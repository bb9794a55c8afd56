"""Where the repository, its config tree and its tracking store are, whatever the cwd."""

import os
from pathlib import Path


def repo_root() -> Path:
    """The project root: `$SCRATCHNET_HOME` if set, else the checkout holding this file."""
    env = os.environ.get("SCRATCHNET_HOME")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[3]


def config_dir() -> Path:
    """The Hydra config tree, `conf/` at the project root."""
    return repo_root() / "conf"


def mlruns_dir() -> Path:
    """The tracking store folder: `mlflow.db` and `artifacts/`."""
    return repo_root() / "mlruns"


def default_tracking_uri() -> str:
    """SQLite store at `<repo>/mlruns/mlflow.db` (MLflow 3 refuses the plain file store)."""
    return f"sqlite:///{mlruns_dir() / 'mlflow.db'}"


def default_artifact_root() -> Path:
    """Artifacts of experiments created in the default store."""
    return mlruns_dir() / "artifacts"
