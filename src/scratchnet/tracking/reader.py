"""Read a sweep back from MLflow: its parent run, its child runs and their per-epoch metrics.

Runs and parents come through MLflow's client API. Per-epoch histories, for the four logged
train/test metrics (the two gaps are their differences, recomputed exactly), are read from a
SQLite store's file in one query for the whole sweep: `get_metric_history` costs a call per run
and metric (~6 ms each on SQLite, most of it turning rows into `Metric` entities), seconds for
a sweep. Other stores (a tracking server) are read through `get_metric_history`.
"""

from collections.abc import Iterable, Sequence

import pandas as pd
from mlflow.entities import Experiment, Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from scratchnet.tracking.frames import (
    SPLIT_METRICS,
    RunRecord,
    RunState,
    Sweep,
    SweepData,
    history_frame,
)
from scratchnet.tracking.names import PARENT_TAG, REUSED, SWEEP_PARENT_TAG, member_tag
from scratchnet.tracking.sqlite_store import metric_rows
from scratchnet.tracking.store import StoreError, sqlite_path
from scratchnet.tracking.sweep_data import assemble, pick_sweep, unknown_experiment

# The gaps are recomputed from the split metrics (bit-identical, fewer reads).
READ_METRICS = SPLIT_METRICS
PAGE = 1000


def find_experiment(client: MlflowClient, name: str) -> Experiment:
    """The active experiment called `name`, else StoreError listing the known ones."""
    try:
        found = client.get_experiment_by_name(name)
    except MlflowException as err:
        raise StoreError(f"cannot read the tracking store: {err.message}") from err
    if found is None or found.lifecycle_stage != "active":
        raise unknown_experiment(name, (e.name for e in client.search_experiments()))
    return found


def search_all(client: MlflowClient, experiment_id: str, filter_string: str) -> list[Run]:
    """Every run of the experiment matching `filter_string`, across result pages."""
    runs: list[Run] = []
    token = None
    while True:
        page = client.search_runs(
            [experiment_id], filter_string, max_results=PAGE, page_token=token
        )
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def sweep_parents(client: MlflowClient, experiment_id: str) -> list[Run]:
    """The experiment's sweep parent runs, newest first (ties broken by run id)."""
    runs = search_all(client, experiment_id, f"tags.`{SWEEP_PARENT_TAG}` = 'true'")
    return sorted(runs, key=lambda r: (r.info.start_time or 0, r.info.run_id), reverse=True)


def child_runs(client: MlflowClient, experiment_id: str, parent_id: str) -> list[Run]:
    """Every child run of the parent `parent_id`."""
    return search_all(client, experiment_id, f"tags.`{PARENT_TAG}` = '{parent_id}'")


def member_runs(client: MlflowClient, experiment_id: str, parent_id: str) -> list[Run]:
    """Every run of the sweep: its children, then the runs of earlier sweeps it reused."""
    kids = child_runs(client, experiment_id, parent_id)
    seen = {r.info.run_id for r in kids}
    reused = search_all(client, experiment_id, f"tags.`{member_tag(parent_id)}` = '{REUSED}'")
    return kids + [r for r in reused if r.info.run_id not in seen]


def to_sweep(run: Run, experiment: Experiment) -> Sweep:
    """The parent run as a Sweep."""
    info = run.info
    return Sweep(
        run_id=info.run_id,
        name=info.run_name or "",
        status=info.status,
        start_time=info.start_time,
        end_time=info.end_time,
        experiment=experiment.name,
        experiment_id=experiment.experiment_id,
        tags=dict(run.data.tags),
        params=dict(run.data.params),
    )


def find_sweep(client: MlflowClient, experiment: Experiment, sweep: str = "latest") -> Sweep:
    """The sweep `latest` (or `latest~N`, N before it), or the one whose parent run id (or a
    prefix) or sweep id is `sweep` (`sweep_data.pick_sweep`)."""
    parents = [to_sweep(r, experiment) for r in sweep_parents(client, experiment.experiment_id)]
    return pick_sweep(parents, experiment.name, sweep)


def record(run: Run) -> RunRecord:
    """The parts of an MLflow run that the runs frame reads."""
    info = run.info
    return RunRecord(
        info.run_id,
        info.run_name or "",
        info.status,
        info.start_time,
        info.end_time,
        dict(run.data.params),
        dict(run.data.tags),
    )


def state(run: Run) -> RunState:
    """The run as a write-back compares against it."""
    return RunState(run.info.run_id, run.info.status, run.data.metrics, run.data.tags)


def metric_points(
    client: MlflowClient, run_ids: Iterable[str], keys: Sequence[str]
) -> list[tuple[str, str, int, int, float]]:
    """(run_id, key, step, timestamp, value) of every point of `keys` of the runs: from a SQLite
    store's file in one query (`sqlite_store.metric_rows`), else by `get_metric_history`."""
    db = sqlite_path(client.tracking_uri)
    if db is not None and db.is_file():
        return metric_rows(db, list(run_ids), list(keys))
    return [
        (run_id, m.key, m.step, m.timestamp, m.value)
        for run_id in run_ids
        for key in keys
        for m in client.get_metric_history(run_id, key)
    ]


def read_history(
    client: MlflowClient, run_ids: Iterable[str], keys: Sequence[str] = READ_METRICS
) -> pd.DataFrame:
    """Per-epoch metrics of the runs (run_id, epoch, EPOCH_METRICS), read in bulk."""
    return history_frame(metric_points(client, run_ids, keys))


def load_sweep(client: MlflowClient, experiment: str, sweep: str = "latest") -> SweepData:
    """Read one sweep of `experiment`: its parent, its members (child runs and runs reused
    from earlier sweeps, columns `reused` and `superseded_by`) and their histories."""
    exp = find_experiment(client, experiment)
    parent = find_sweep(client, exp, sweep)
    return load_parent(client, parent)


def load_parent(client: MlflowClient, parent: Sweep) -> SweepData:
    """Read the members of the sweep with this parent, and their histories."""
    found = member_runs(client, parent.experiment_id, parent.run_id)
    points = metric_points(client, [r.info.run_id for r in found], READ_METRICS)
    return assemble(parent, [record(r) for r in found], points)
