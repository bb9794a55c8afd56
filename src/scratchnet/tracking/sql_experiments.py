"""A SQLite store's experiments and their FINISHED configs, read straight from its file.

Imports neither MLflow nor pandas: the launching process asks this before it starts a sweep's
workers, which then import while it goes on. The queries follow what MLflow's client returns:
active experiments in MLflow's default workspace, tags as stored.
"""

import os
import sqlite3
from pathlib import Path

from scratchnet.tracking.names import CONFIG_HASH_TAG, FINISHED
from scratchnet.tracking.sqlite_store import connected

DEFAULT_WORKSPACE = "default"  # MLflow's, where a client without workspaces reads and writes
WORKSPACE_SWITCHES = ("MLFLOW_ENABLE_WORKSPACES", "MLFLOW_WORKSPACE")


def readable_here() -> bool:
    """Whether MLflow's client would read the default workspace (no workspace is switched on)."""
    return not any(os.environ.get(name) for name in WORKSPACE_SWITCHES)


def _workspace_clause(con: sqlite3.Connection) -> str:
    columns = {row[1] for row in con.execute("PRAGMA table_info(experiments)")}
    return f" AND workspace = '{DEFAULT_WORKSPACE}'" if "workspace" in columns else ""


def active_experiments(con: sqlite3.Connection) -> str:
    """The SQL condition on `experiments` rows that MLflow's client would see."""
    return "lifecycle_stage = 'active'" + _workspace_clause(con)


def found_experiment(con: sqlite3.Connection, name: str) -> str | None:
    """The id of the active experiment `name`, if there is one."""
    found = con.execute(
        f"SELECT experiment_id FROM experiments WHERE name = ? AND {active_experiments(con)}",
        (name,),
    ).fetchone()
    return None if found is None else str(found[0])


def has_experiment(db: Path, name: str) -> bool:
    """Whether the store's file holds the active experiment `name` (False: no file yet)."""
    if not db.exists():
        return False
    with connected(db) as con:
        return found_experiment(con, name) is not None


def finished_config_hashes(db: Path, experiment: str) -> set[str]:
    """The config hashes of `experiment`'s FINISHED runs: the jobs a grid's resume lookup can
    skip (none when the file or the experiment does not exist yet)."""
    if not db.exists():
        return set()
    with connected(db) as con:
        exp_id = found_experiment(con, experiment)
        if exp_id is None:
            return set()
        rows = con.execute(
            "SELECT t.value FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid"
            " WHERE r.experiment_id = ? AND r.lifecycle_stage = 'active' AND r.status = ?"
            " AND t.key = ?",
            (int(exp_id), FINISHED, CONFIG_HASH_TAG),
        )
        return {row[0] for row in rows}
