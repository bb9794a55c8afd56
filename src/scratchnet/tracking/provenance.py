"""Provenance of a run: the code version it ran, and secrets kept out of what is recorded."""

import functools
import os
import platform
import re
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import scratchnet
from scratchnet.core.paths import checkout_root
from scratchnet.tracking.names import (
    GIT_COMMIT_SOURCE_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
    OVERRIDES_TAG,
    SOURCE_JOB,
    SOURCE_LOCAL,
    SOURCE_NAME_TAG,
    SOURCE_TYPE_TAG,
    VERSION_TAG,
)

PACKAGES = ("scratchnet", "numpy", "pandas", "matplotlib", "mlflow", "hydra-core", "optuna")
SECRET_KEY = re.compile(r"(password|passwd|token|secret|api_?key|(^|[._])key)$", re.IGNORECASE)
MASK = "***"


@functools.cache
def git_state(root: Path | None = None) -> tuple[str, bool]:
    """(commit, dirty) of the checkout, or ("unknown", False) outside git or when installed (the
    current folder's repository is not the code's: the version tag says what ran).

    Asked once per process (two git calls, ~20 ms): a process runs the code it imported.
    """
    root = root or checkout_root()
    if root is None:
        return "unknown", False
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


def provenance_tags(overrides: Iterable[str]) -> dict[str, str]:
    """Tags every run carries: code version (MLflow's own commit tag too) and its overrides."""
    commit, dirty = git_state()
    return {
        GIT_COMMIT_SOURCE_TAG: commit,
        GIT_COMMIT_TAG: commit,
        GIT_DIRTY_TAG: str(dirty).lower(),
        VERSION_TAG: scratchnet.__version__,
        OVERRIDES_TAG: " ".join(mask_overrides(overrides)),
    }


def slurm_job_id(environ: Mapping[str, str] | None = None) -> str | None:
    """The SLURM job this process runs in, as squeue, sacct and scancel name it; None outside.

    An array task is `<array job id>_<task id>` (its own SLURM_JOB_ID is another number).
    """
    env = os.environ if environ is None else environ
    array, task = env.get("SLURM_ARRAY_JOB_ID"), env.get("SLURM_ARRAY_TASK_ID")
    return f"{array}_{task}" if array and task else env.get("SLURM_JOB_ID") or None


def package_versions() -> dict[str, str]:
    """Python and the installed versions of the packages a sweep or report depends on."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def source_tags(command: str) -> dict[str, str]:
    """MLflow's source tags (the UI's Source column): the command, run locally or as a SLURM job."""
    kind = SOURCE_JOB if slurm_job_id() else SOURCE_LOCAL
    return {SOURCE_NAME_TAG: command, SOURCE_TYPE_TAG: kind}
