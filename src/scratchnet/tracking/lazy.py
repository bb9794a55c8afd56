"""A tracking store opened for a report: MLflow's client only when it is needed.

Importing MLflow and opening its SQLAlchemy store costs ~5 s here, more than reading and
analysing a sweep. So a SQLite store's file is read straight (`sql_reader`), and the client is
opened only to write (a diagnosis that changed, report files not logged yet) or where the file
cannot be read straight: another kind of store, a moved store that must first be relocated,
runs a dead process may have left RUNNING (reaped first), MLflow workspaces switched on.
"""

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from scratchnet.core.paths import tracking_uri
from scratchnet.tracking import sql_reader
from scratchnet.tracking.frames import RunState, Sweep, SweepData
from scratchnet.tracking.names import RUNNING
from scratchnet.tracking.relocation import is_foreign
from scratchnet.tracking.sql_experiments import readable_here
from scratchnet.tracking.sqlite_file import check_intact, sqlite_path
from scratchnet.tracking.sqlite_store import connected, is_mlflow_store

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient


def moved(db: Path) -> bool:
    """Whether an experiment of the store records artifacts outside its folder (`follow`)."""
    with connected(db) as con:
        locations = con.execute("SELECT artifact_location FROM experiments").fetchall()
    return any(loc is not None and is_foreign(str(loc), db.parent) for (loc,) in locations)


def any_running(db: Path) -> bool:
    """Whether a run of the store is RUNNING (its process may be dead: the reaper decides)."""
    with connected(db) as con:
        query = "SELECT 1 FROM runs WHERE status = ? LIMIT 1"
        return con.execute(query, (RUNNING,)).fetchone() is not None


def direct_file(uri: str, reap: bool, check: bool = True) -> Path | None:
    """The SQLite file to read straight, or None where only MLflow's client will do.

    With `check`, a damaged file is refused here as `open_client` refuses it
    (DamagedStoreError).
    """
    db = sqlite_path(uri)
    if db is None or not db.is_file() or not readable_here():
        return None
    if check:
        check_intact(db)
    if not is_mlflow_store(db) or moved(db) or (reap and any_running(db)):
        return None
    return db


class LazyStore:
    """A store by URI (or an open client), read straight from its SQLite file where it can be;
    `client` opens MLflow's client (`store.open_client`) on first use."""

    def __init__(
        self, uri: str | None = None, reap: bool = False, client: "MlflowClient | None" = None
    ) -> None:
        self.uri = client.tracking_uri if client is not None else tracking_uri(uri)
        self._reap = reap
        if client is not None:
            self.__dict__["client"] = client  # already open: checked, relocated, reaped
            self.db = direct_file(self.uri, reap=False, check=False)
        else:
            self.db = direct_file(self.uri, reap)

    @cached_property
    def client(self) -> "MlflowClient":
        """MLflow's client on the store, opened now (imports MLflow)."""
        from scratchnet.tracking.store import open_client

        return open_client(self.uri, reap=self._reap)

    def has_sweeps(self, experiment: str) -> bool:
        """Whether the experiment has a sweep (StoreError for an unknown experiment)."""
        if self.db is not None:
            return sql_reader.has_sweeps(self.db, experiment)
        from scratchnet.tracking.reader import find_experiment, sweep_parents

        found = find_experiment(self.client, experiment)
        return bool(sweep_parents(self.client, found.experiment_id))

    def load_sweep(self, experiment: str, sweep: str = "latest") -> SweepData:
        """The sweep `sweep` of `experiment`, as `reader.load_sweep` reads it."""
        if self.db is not None:
            return sql_reader.load_sweep(self.db, experiment, sweep)
        from scratchnet.tracking.reader import load_sweep

        return load_sweep(self.client, experiment, sweep)

    def run_states(self, parent: Sweep) -> list[RunState]:
        """The sweep's members as they are now."""
        if self.db is not None:
            return sql_reader.run_states(self.db, parent)
        from scratchnet.tracking.reader import member_runs, state

        return [state(r) for r in member_runs(self.client, parent.experiment_id, parent.run_id)]

    def run_state(self, run_id: str) -> RunState:
        """One run as it is now."""
        from scratchnet.tracking.reader import state

        return state(self.client.get_run(run_id))


def as_lazy(store: "LazyStore | MlflowClient") -> LazyStore:
    """`store` as a LazyStore (an open client is wrapped)."""
    return store if isinstance(store, LazyStore) else LazyStore(client=store)
