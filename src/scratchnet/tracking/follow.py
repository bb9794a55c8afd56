"""What opening a local store does about artifact locations that point outside its folder.

Moved (every old location with runs under it is gone): relocate, and say so in one line.
Copied (an old location still exists: another store's folder): refuse, one line naming
`scratchnet-store relocate`, before anything is written, so no new artifact ever lands in
another store's folder. Experiments without runs hold no artifacts: they simply follow the
store (MLflow's Default experiment is created pointing at the creator's working directory).
"""

import logging
from pathlib import Path

from mlflow.entities import Experiment, ViewType
from mlflow.tracking import MlflowClient

from scratchnet.core.errors import ScratchnetError
from scratchnet.tracking.relocation import (
    Relocation,
    is_foreign,
    local_path,
    relocate,
    split_root,
)

log = logging.getLogger("scratchnet.store")
RELOCATE_COMMAND = "scratchnet-store relocate"


class ForeignStoreError(ScratchnetError):
    """The store records artifact locations in another store's folder, which still exists."""


def every_experiment(client: MlflowClient) -> list[Experiment]:
    """Every experiment of the store, deleted ones too."""
    found: list[Experiment] = []
    token = None
    while True:
        page = client.search_experiments(view_type=ViewType.ALL, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def holds_runs(client: MlflowClient, experiment_id: str) -> bool:
    """Whether the experiment has any run (deleted ones too)."""
    return bool(client.search_runs([experiment_id], run_view_type=ViewType.ALL, max_results=1))


def present_roots(client: MlflowClient, foreign: list[Experiment]) -> list[str]:
    """The old artifact roots of experiments with runs that still exist on disk (a copy)."""
    present = set()
    for exp in foreign:
        path = local_path(exp.artifact_location)
        if path is not None and path.exists() and holds_runs(client, exp.experiment_id):
            present.add(str(split_root(path, exp.experiment_id)[0]))
    return sorted(present)


def copy_refusal(db: Path, roots: list[str]) -> ForeignStoreError:
    """The one-line error for a copy whose locations point into existing folders."""
    folder = db.parent
    return ForeignStoreError(
        f"the tracking store {folder} records its artifacts in {', '.join(roots)}, which "
        f"exists: another store's folder (this one is a copy); nothing was written. Run "
        f"`{RELOCATE_COMMAND} --store {folder}` to point them into {folder} "
        "(its artifacts copied there too)"
    )


def moved_notice(done: Relocation) -> str:
    """The one line said when a moved store is relocated on opening."""
    return (
        f"the tracking store {done.folder} was moved: its artifact locations pointed into "
        f"{', '.join(done.old_roots)}, which is gone; relocated {done.counts()} "
        f"into {done.folder}"
    )


def follow_store(db: Path, client: MlflowClient) -> Relocation | None:
    """Make the store at `db` point at its own folder, or refuse (ForeignStoreError).

    Reads the experiments through the client; rewrites only when one points elsewhere.
    """
    foreign = [e for e in every_experiment(client) if is_foreign(e.artifact_location, db.parent)]
    if not foreign:
        return None
    roots = present_roots(client, foreign)
    if roots:
        raise copy_refusal(db, roots)
    done = relocate(db)
    if done.runs or done.models:
        log.warning(moved_notice(done))
    return done
