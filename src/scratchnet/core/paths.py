"""Where the config tree, the default tracking store and the outputs are: in a source checkout
(an editable install) or in an installed package, whatever the current folder.

One rule for the default store, used by every command:
`$SCRATCHNET_TRACKING_URI`, else `$MLFLOW_TRACKING_URI`, else `<checkout>/mlruns/mlflow.db` when
running from a checkout, else `./mlruns/mlflow.db` in the current folder (MLflow's own habit).
"""

import os
from pathlib import Path

TRACKING_URI_VARIABLES = ("SCRATCHNET_TRACKING_URI", "MLFLOW_TRACKING_URI")
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # .../scratchnet


def checkout_root() -> Path | None:
    """The source checkout this package runs from (`$SCRATCHNET_HOME` if set), or None when it
    is installed (a wheel in site-packages has no `src/` above it and no `conf/` beside that)."""
    env = os.environ.get("SCRATCHNET_HOME")
    if env:
        return Path(env).resolve()
    root = PACKAGE_DIR.parents[1]
    is_checkout = PACKAGE_DIR.parent.name == "src" and (root / "conf" / "config.yaml").is_file()
    return root if is_checkout else None


def repo_root() -> Path:
    """Where outputs (`mlruns/`, `reports/`) go by default: the checkout, else the current dir."""
    return checkout_root() or Path.cwd()


def config_dir() -> Path:
    """The Hydra config tree: the checkout's `conf/` (an edited YAML applies at once), else the
    copy of it the wheel carries as `scratchnet/conf/`."""
    root = checkout_root()
    if root is not None and (root / "conf").is_dir():
        return root / "conf"
    return PACKAGE_DIR / "conf"


def mlruns_dir() -> Path:
    """The default SQLite store's folder: `mlflow.db` and `artifacts/`."""
    return repo_root() / "mlruns"


def default_tracking_uri() -> str:
    """The store a command uses when none is configured (the rule in this module's docstring).
    A SQLite URI is absolute, so the jobs of a sweep agree on it wherever they run."""
    for variable in TRACKING_URI_VARIABLES:
        if value := os.environ.get(variable, "").strip():
            return value
    return f"sqlite:///{mlruns_dir() / 'mlflow.db'}"


def tracking_uri(configured: str | None) -> str:
    """The store a run or a report uses: `configured` (`tracking.uri`, `--tracking-uri`) when
    given, else the default."""
    return configured or default_tracking_uri()
