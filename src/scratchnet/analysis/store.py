"""Read a sweep back from MLflow: its parent run, its child runs and their per-epoch metrics.

Only MLflow's public client API is used. Per-epoch histories come from one
`MlflowClient.get_metric_history` call per run and metric, for the four logged train/test
metrics (the two gaps are their differences, recomputed exactly). On a 200-run x 100-epoch
SQLite store this is about as fast as the store's private bulk query, and threads do not help:
the cost is SQLite's scan per key and turning rows into `Metric` entities, not the number of
calls. See benchmarks/bench_read_runs.py.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from mlflow.entities import Experiment, Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from scratchnet.errors import ScratchnetError
from scratchnet.paths import default_tracking_uri
from scratchnet.tracking import sqlite_path

METRICS = ("train_loss", "train_acc", "test_loss", "test_acc", "gap_acc", "gap_loss")
READ_METRICS = METRICS[:4]  # the gaps are recomputed from these (bit-identical, 1/3 fewer reads)
PARENT_TAG = "mlflow.parentRunId"
SWEEP_PARENT_TAG = "scratchnet.sweep_parent"
SWEEP_ID_TAG = "scratchnet.sweep_id"
DESCRIPTION_TAG = "scratchnet.study_description"
PAGE = 1000
# Typed columns of the runs frame: column -> (MLflow param, type).
PARAM_COLUMNS: dict[str, tuple[str, type]] = {
    "lr": ("trainer.lr", float),
    "batch_size": ("trainer.batch_size", int),
    "hidden_size": ("model.hidden_size", int),
    "train_size": ("data.train_size", int),
    "seed": ("seed", int),
    "dataset": ("data.name", str),
    "epochs": ("trainer.epochs", int),
    "iters_num": ("trainer.iters_num", int),
    "sampling": ("trainer.sampling", str),
    "activation": ("model.activation", str),
    "weight_init_std": ("model.weight_init_std", float),
}
# Columns of the runs frame taken from tags: column -> tag.
TAG_COLUMNS = {
    "diverged": "diverged",
    "diverged_epoch": "scratchnet.diverged_epoch",
    "dataset_digest": "scratchnet.dataset_digest",
    "git_commit": "scratchnet.git_commit",
    "git_dirty": "scratchnet.git_dirty",
    "config_hash": "scratchnet.config_hash",
    "study": "scratchnet.study",
    "overrides": "scratchnet.overrides",
    "failure": "scratchnet.failure",
}
RUN_COLUMNS = ["run_id", "name", "status", "start_time", "end_time"]
SORT_COLUMNS = ["lr", "batch_size", "hidden_size", "train_size", "seed", "name", "run_id"]


class AnalysisError(ScratchnetError):
    """The store, experiment or sweep asked for cannot be read."""


@dataclass(frozen=True)
class Sweep:
    """A sweep's parent run: what was swept and why."""

    run_id: str
    name: str
    status: str
    start_time: int | None
    end_time: int | None
    experiment: str
    experiment_id: str
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        """The first 8 characters of the parent's run id."""
        return self.run_id[:8]

    @property
    def description(self) -> str:
        """The study's question, from the `scratchnet.study_description` tag."""
        return self.tags.get(DESCRIPTION_TAG, "")


@dataclass
class SweepData:
    """A sweep read back: the parent, one row per child run, one row per run and epoch."""

    sweep: Sweep
    runs: pd.DataFrame
    history: pd.DataFrame


def open_client(uri: str | None = None) -> MlflowClient:
    """A client on `uri` (default: the repo's store); a missing SQLite file is an error."""
    uri = uri or default_tracking_uri()
    db = sqlite_path(uri)
    if db is not None and not db.is_file():
        raise AnalysisError(f"no tracking store at {db} (tracking URI {uri})")
    return MlflowClient(tracking_uri=uri)


def find_experiment(client: MlflowClient, name: str) -> Experiment:
    """The active experiment called `name`, else AnalysisError listing the known ones."""
    try:
        found = client.get_experiment_by_name(name)
    except MlflowException as err:
        raise AnalysisError(f"cannot read the tracking store: {err.message}") from err
    if found is None or found.lifecycle_stage != "active":
        known = sorted(e.name for e in client.search_experiments())
        raise AnalysisError(f"unknown experiment {name!r} (known: {', '.join(known) or 'none'})")
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
    """The sweep `latest`, or the one whose parent run id (or a prefix) or sweep id is `sweep`."""
    parents = sweep_parents(client, experiment.experiment_id)
    sweep = sweep.strip()
    if sweep == "latest":
        if not parents:
            raise AnalysisError(
                f"experiment {experiment.name!r} has no sweep (no run tagged "
                f"{SWEEP_PARENT_TAG}=true); run one with scratchnet-train -m"
            )
        return to_sweep(parents[0], experiment)
    matches = [
        r
        for r in parents
        if sweep and (r.info.run_id.startswith(sweep) or r.data.tags.get(SWEEP_ID_TAG) == sweep)
    ]
    if len(matches) > 1 and len({r.data.tags.get(SWEEP_ID_TAG) for r in matches}) > 1:
        ids = ", ".join(r.info.run_id[:8] for r in matches)
        raise AnalysisError(f"--sweep {sweep!r} is ambiguous: it matches {ids}")
    if matches:
        return to_sweep(matches[0], experiment)
    known = ", ".join(r.info.run_id[:8] for r in parents[:5]) or "none"
    raise AnalysisError(
        f"no sweep {sweep!r} in experiment {experiment.name!r} "
        f"(allowed: latest, a parent run id or prefix, a sweep id; recent: {known})"
    )


def _typed(text: str | None, kind: type) -> object:
    """A param string as `kind`; None, "None", "null" and unparsable values become None."""
    if text is None or text in ("None", "null", ""):
        return None
    try:
        if kind is int:
            number = float(text)
            return int(number) if math.isfinite(number) and number == int(number) else None
        return kind(text)
    except (ValueError, OverflowError):
        return None


def runs_frame(runs: Iterable[Run]) -> pd.DataFrame:
    """One row per run: id, name, status, times, typed params and selected tags, sorted."""
    rows = []
    for r in runs:
        row: dict[str, object] = {
            "run_id": r.info.run_id,
            "name": r.info.run_name or "",
            "status": r.info.status,
            "start_time": r.info.start_time,
            "end_time": r.info.end_time,
        }
        params, tags = r.data.params, r.data.tags
        for column, (key, kind) in PARAM_COLUMNS.items():
            row[column] = _typed(params.get(key), kind)
        for column, tag in TAG_COLUMNS.items():
            row[column] = tags.get(tag)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*RUN_COLUMNS, *PARAM_COLUMNS, *TAG_COLUMNS])
    for column in ("start_time", "end_time", "diverged_epoch"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    for column, (_, kind) in PARAM_COLUMNS.items():
        if kind is int:
            frame[column] = frame[column].astype("Int64")
        elif kind is float:
            frame[column] = frame[column].astype(float)
    frame["diverged"] = frame["diverged"].eq("true")
    return sort_runs(frame)


def sort_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a stable order: by lr, batch size, hidden size, train size, seed, name, id."""
    keys = [c for c in SORT_COLUMNS if c in frame.columns]
    return frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def history_frame(records: Sequence[tuple[str, str, int, int, float]]) -> pd.DataFrame:
    """(run_id, key, step, timestamp, value) records -> one row per run and epoch, sorted.

    A step logged twice (a resumed run) keeps its latest value; absent metrics are NaN, except
    the gaps, which are computed from the train and test values when not read.
    """
    long = pd.DataFrame(records, columns=["run_id", "key", "epoch", "timestamp", "value"])
    if long.empty:
        empty = {"run_id": pd.Series(dtype=object), "epoch": pd.Series(dtype=np.int64)}
        return pd.DataFrame({**empty, **{k: pd.Series(dtype=float) for k in METRICS}})
    long = long.sort_values(["run_id", "key", "epoch", "timestamp"], kind="stable")
    long = long.drop_duplicates(["run_id", "key", "epoch"], keep="last")
    wide = long.pivot(index=["run_id", "epoch"], columns="key", values="value")
    wide = wide.reindex(columns=list(METRICS)).reset_index()
    wide.columns.name = None
    wide["epoch"] = wide["epoch"].astype(np.int64)
    wide[list(METRICS)] = wide[list(METRICS)].astype(float)
    wide["gap_acc"] = wide["gap_acc"].fillna(wide["train_acc"] - wide["test_acc"])
    wide["gap_loss"] = wide["gap_loss"].fillna(wide["test_loss"] - wide["train_loss"])
    return wide.sort_values(["run_id", "epoch"], kind="stable").reset_index(drop=True)


def read_history(
    client: MlflowClient, run_ids: Iterable[str], keys: Sequence[str] = READ_METRICS
) -> pd.DataFrame:
    """Per-epoch metrics of the runs (run_id, epoch, the six METRICS) via get_metric_history."""
    records = [
        (run_id, m.key, m.step, m.timestamp, m.value)
        for run_id in run_ids
        for key in keys
        for m in client.get_metric_history(run_id, key)
    ]
    return history_frame(records)


def with_summary(runs: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """`runs` plus epochs_logged, last_epoch and the last epoch's metrics (final_*)."""
    grouped = history.sort_values(["run_id", "epoch"]).groupby("run_id", sort=True)
    last = grouped.tail(1).set_index("run_id")
    summary = pd.DataFrame(
        {"epochs_logged": grouped.size(), "last_epoch": last["epoch"]}, index=last.index
    )
    for key in METRICS:
        summary[f"final_{key}"] = last[key]
    out = runs.merge(summary, how="left", left_on="run_id", right_index=True)
    out["epochs_logged"] = out["epochs_logged"].fillna(0).astype(np.int64)
    out["last_epoch"] = out["last_epoch"].astype("Int64")
    return out


def load_sweep(client: MlflowClient, experiment: str, sweep: str = "latest") -> SweepData:
    """Read one sweep of `experiment`: its parent, its child runs and their histories."""
    exp = find_experiment(client, experiment)
    parent = find_sweep(client, exp, sweep)
    children = child_runs(client, exp.experiment_id, parent.run_id)
    if not children:
        raise AnalysisError(
            f"sweep {parent.short_id} of experiment {experiment!r} has no child runs yet"
        )
    runs = runs_frame(children)
    history = read_history(client, runs["run_id"])
    return SweepData(parent, with_summary(runs, history), history)
