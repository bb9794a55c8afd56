"""Read a sweep straight from a SQLite store's file, as `reader` reads it through MLflow's client.

A report that has nothing to write back then never imports MLflow (~5 s of its start here) nor
makes `Run` entities. The queries follow what the client's searches return: active runs of
the active experiment in MLflow's default workspace, tags and params as stored, a run's
latest metrics (`run.data.metrics`) from `latest_metrics`. Tests read the same store both ways
and compare the frames.
"""

import math
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from scratchnet.tracking.frames import SPLIT_METRICS, RunRecord, RunState, Sweep, SweepData
from scratchnet.tracking.names import (
    PARENT_TAG,
    REUSED,
    SWEEP_PARENT_TAG,
    member_tag,
)
from scratchnet.tracking.sql_experiments import active_experiments, found_experiment
from scratchnet.tracking.sqlite_store import RUNS_PER_QUERY, connected, metric_rows_in
from scratchnet.tracking.sweep_data import (
    assemble,
    newest_first,
    pick_sweep,
    unknown_experiment,
)

RunRow = tuple[str, str | None, str, int | None, int | None]  # id, name, status, start, end


def experiment_id(con: sqlite3.Connection, name: str) -> str:
    """The id of the active experiment `name`, else the error listing the known ones."""
    found = found_experiment(con, name)
    if found is None:
        known = con.execute(f"SELECT name FROM experiments WHERE {active_experiments(con)}")
        raise unknown_experiment(name, (row[0] for row in known))
    return found


def tagged_runs(con: sqlite3.Connection, exp_id: str, key: str, value: str) -> list[RunRow]:
    """The experiment's active runs whose tag `key` is `value`."""
    return con.execute(
        "SELECT r.run_uuid, r.name, r.status, r.start_time, r.end_time FROM runs r"
        " JOIN tags t ON t.run_uuid = r.run_uuid WHERE r.experiment_id = ?"
        " AND r.lifecycle_stage = 'active' AND t.key = ? AND t.value = ?",
        (int(exp_id), key, value),
    ).fetchall()


def key_values(
    con: sqlite3.Connection, table: str, run_ids: Sequence[str]
) -> dict[str, dict[str, str]]:
    """`table`'s (tags or params) key -> value per run."""
    out: dict[str, dict[str, str]] = {run_id: {} for run_id in run_ids}
    for start in range(0, len(run_ids), RUNS_PER_QUERY):
        chunk = list(run_ids[start : start + RUNS_PER_QUERY])
        marks = ",".join("?" * len(chunk))
        query = f"SELECT run_uuid, key, value FROM {table} WHERE run_uuid IN ({marks})"
        for run_id, key, value in con.execute(query, chunk):
            out[run_id][key] = value
    return out


def latest_metrics(con: sqlite3.Connection, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """Each run's latest value per metric, NaN where MLflow stored one (`is_nan`)."""
    out: dict[str, dict[str, float]] = {run_id: {} for run_id in run_ids}
    for start in range(0, len(run_ids), RUNS_PER_QUERY):
        chunk = list(run_ids[start : start + RUNS_PER_QUERY])
        marks = ",".join("?" * len(chunk))
        query = (
            f"SELECT run_uuid, key, value, is_nan FROM latest_metrics WHERE run_uuid IN ({marks})"
        )
        for run_id, key, value, nan in con.execute(query, chunk):
            out[run_id][key] = math.nan if nan else float(value)
    return out


def records(con: sqlite3.Connection, rows: Iterable[RunRow]) -> list[RunRecord]:
    """The runs as the runs frame reads them."""
    rows = list(rows)
    ids = [row[0] for row in rows]
    params, tags = key_values(con, "params", ids), key_values(con, "tags", ids)
    return [
        RunRecord(run_id, name or "", status, start, end, params[run_id], tags[run_id])
        for run_id, name, status, start, end in rows
    ]


def sweep_parents(con: sqlite3.Connection, experiment: str) -> list[Sweep]:
    """The experiment's sweep parents, newest first."""
    exp_id = experiment_id(con, experiment)
    found = records(con, tagged_runs(con, exp_id, SWEEP_PARENT_TAG, "true"))
    return newest_first(
        Sweep(
            r.run_id,
            r.name,
            r.status,
            r.start_time,
            r.end_time,
            experiment,
            exp_id,
            dict(r.tags),
            dict(r.params),
        )
        for r in found
    )


def member_rows(con: sqlite3.Connection, parent: Sweep) -> list[RunRow]:
    """The sweep's runs: its children, then the runs of earlier sweeps it reused."""
    kids = tagged_runs(con, parent.experiment_id, PARENT_TAG, parent.run_id)
    seen = {row[0] for row in kids}
    reused = tagged_runs(con, parent.experiment_id, member_tag(parent.run_id), REUSED)
    return kids + [row for row in reused if row[0] not in seen]


def has_sweeps(db: Path, experiment: str) -> bool:
    """Whether the active experiment `experiment` has a sweep (StoreError if it is unknown)."""
    with connected(db) as con:
        return bool(sweep_parents(con, experiment))


def load_sweep(db: Path, experiment: str, sweep: str = "latest") -> SweepData:
    """`reader.load_sweep`, read from the file: the sweep, its members and their histories,
    in one read transaction (one moment of a store that is being written)."""
    with connected(db) as con:
        con.execute("BEGIN")
        parent = pick_sweep(sweep_parents(con, experiment), experiment, sweep)
        members = records(con, member_rows(con, parent))
        points = metric_rows_in(con, [r.run_id for r in members], SPLIT_METRICS)
        con.execute("COMMIT")
    return assemble(parent, members, points)


def run_states(db: Path, parent: Sweep) -> list[RunState]:
    """The status, latest metrics and tags of the sweep's members now (what a write-back
    compares against)."""
    with connected(db) as con:
        rows = member_rows(con, parent)
        ids = [row[0] for row in rows]
        metrics, tags = latest_metrics(con, ids), key_values(con, "tags", ids)
    return [RunState(row[0], row[2], metrics[row[0]], tags[row[0]]) for row in rows]
