"""Metric rows written in bulk into an MLflow SQL store (SQLite, PostgreSQL; any SqlAlchemyStore).

MLflow's `SqlAlchemyStore` makes one ORM object per metric and flushes them one at a time
(0.2-0.5 ms a metric), most of a sweep job's cost outside training. Here a batch's rows go
into MLflow's own table model (`SqlMetric.__table__`) in one executemany, through the store's
own sessions, with the values MLflow would store (`sanitize_metric_value`: NaN as `is_nan`,
inf clamped). No SQL is written here and the schema stays MLflow's. The latest-metrics table
is left to MLflow: `RunRecorder.send` sends each key's last step through `log_batch`
(`split_latest`).
"""

import itertools
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlflow.entities import LifecycleStage, Metric
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.tracking.fluent import get_active_model_id
from mlflow.tracking.metric_value_conversion_utils import (
    convert_metric_value_to_float_if_possible as as_float,
)
from mlflow.utils import validation

from scratchnet.tracking.names import SQL_STORE_MODULE

if TYPE_CHECKING:  # imported by MLflow itself when it opens a SQL store (~1 s otherwise)
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore


def sql_store(client: MlflowClient) -> "SqlAlchemyStore | None":
    """The client's SQL store, or None for any other store (a tracking server, a file store).

    MlflowClient has no public way to its store: this reads its private `_tracking_client`
    (MLflow 3.x), the only place scratchnet does. Without it, or without the store's session
    maker and value sanitizer, the bulk path is off and every metric goes through `log_batch`.
    """
    store = getattr(getattr(client, "_tracking_client", None), "store", None)
    module = sys.modules.get(SQL_STORE_MODULE)  # a SQL store's class is imported already
    if module is None or not isinstance(store, module.SqlAlchemyStore):
        return None
    needed = ("ManagedSessionMaker", "sanitize_metric_value")
    return store if all(hasattr(store, n) for n in needed) else None


def split_latest(metrics: Sequence[Metric]) -> tuple[list[Metric], list[Metric]]:
    """(earlier, latest): `latest` holds the whole steps that are some key's last step in
    `metrics`, `earlier` the other whole steps. MLflow's latest value of a key is its metric of
    the highest (step, timestamp, value), always in `latest`, so `log_batch(latest)` leaves the
    latest-metrics table as `log_batch(metrics)` would."""
    last = {key: max(m.step for m in group) for key, group in _by_key(metrics)}
    steps = set(last.values())
    return [m for m in metrics if m.step not in steps], [m for m in metrics if m.step in steps]


def _by_key(metrics: Sequence[Metric]) -> "itertools.groupby[str, Metric]":
    return itertools.groupby(sorted(metrics, key=lambda m: m.key), key=lambda m: m.key)


def plain(metrics: Sequence[Metric]) -> bool:
    """Whether `log_batch` would take these metrics as they are: names MLflow accepts (its
    private `_validate_metric`, once a name; without it, no), float values, non-negative int
    timestamps, int steps. Anything else is left to `log_batch`, to convert or to refuse in
    its own words."""
    check = getattr(validation, "_validate_metric", None)
    typed = all(
        isinstance(m.value, float) and type(m.timestamp) is int and m.timestamp >= 0
        and type(m.step) is int
        for m in metrics
    )  # fmt: skip
    if check is None or not typed:
        return False
    try:
        for m in {m.key: m for m in metrics}.values():
            check(m.key, m.value, m.timestamp, m.step)
    except MlflowException:
        return False
    return True


def metric_rows(store: "SqlAlchemyStore", run_id: str, metrics: Sequence[Metric]) -> list[dict]:
    """The rows `log_batch` would store for `plain` metrics: values converted and sanitized by
    MLflow itself (NaN as `is_nan`, inf clamped), each row once (its primary key)."""
    rows: dict[tuple, dict] = {}
    for m in metrics:
        is_nan, value = store.sanitize_metric_value(as_float(m.value))
        row = {"run_uuid": run_id, "key": m.key, "value": value, "timestamp": m.timestamp,
               "step": m.step, "is_nan": is_nan}  # fmt: skip
        rows.setdefault((m.key, m.timestamp, m.step, value, is_nan), row)
    return list(rows.values())


def insert_metrics(store: "SqlAlchemyStore", run_id: str, metrics: Sequence[Metric]) -> bool:
    """Insert `metrics` in one transaction; False, with nothing written, where `log_batch`
    must decide instead: a run that is not active (or absent), a metric already stored (MLflow
    skips those), metrics of a logged model (MLflow records them twice), or values, steps and
    timestamps of other types than `plain` ones (MLflow converts or refuses them)."""
    from mlflow.store.tracking.dbmodels.models import SqlMetric, SqlRun
    from sqlalchemy import insert, select
    from sqlalchemy.exc import IntegrityError

    if get_active_model_id() is not None or any(m.model_id for m in metrics) or not plain(metrics):
        return False
    rows = metric_rows(store, run_id, metrics)
    runs = SqlRun.__table__
    with store.ManagedSessionMaker(read_only=False) as session:
        stage = session.execute(
            select(runs.c.lifecycle_stage).where(runs.c.run_uuid == run_id)
        ).scalar()
        if stage != LifecycleStage.ACTIVE:
            return False
        try:
            session.execute(insert(SqlMetric.__table__), rows)
        except IntegrityError:
            session.rollback()
            return False
    return True
