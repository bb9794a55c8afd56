"""A sweep as pandas frames: one row per run, one row per run and epoch (no MLflow here).

The column names are the analysis's vocabulary: `runs_frame` maps each recorded param and tag
to its column once, and everything downstream reads the columns.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scratchnet.tracking.attempts import Attempt, superseded
from scratchnet.tracking.names import (
    BEST_EPOCH_TAG,
    CONFIG_HASH_TAG,
    DATASET_DIGEST_TAG,
    DIVERGED_EPOCH_TAG,
    DIVERGED_TAG,
    DIVERGED_VALUE_TAG,
    DIVERGENCE_RULE_TAG,
    EPOCH_METRICS,
    EPOCHS_PLANNED_TAG,
    FAILURE_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
    OVERRIDES_TAG,
    PARENT_TAG,
    SELECTION_TAG,
    STOPPED_EARLY_TAG,
    STOPPED_EPOCH_TAG,
    STUDY_DESCRIPTION_TAG,
    STUDY_TAG,
)

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
    "weight_init_std": ("model.weight_init_std", str),  # a number or a name (he, xavier ...)
    "optimizer": ("optimizer.name", str),
    "weight_decay_lambda": ("model.weight_decay_lambda", float),
    "dropout_ratio": ("model.dropout_ratio", float),
    "val_fraction": ("data.val_fraction", float),
    "patience": ("trainer.early_stopping.patience", int),
}
# Columns of the runs frame taken from tags: column -> tag.
TAG_COLUMNS = {
    "diverged": DIVERGED_TAG,
    "diverged_epoch": DIVERGED_EPOCH_TAG,
    "dataset_digest": DATASET_DIGEST_TAG,
    "git_commit": GIT_COMMIT_TAG,
    "git_dirty": GIT_DIRTY_TAG,
    "config_hash": CONFIG_HASH_TAG,
    "study": STUDY_TAG,
    "overrides": OVERRIDES_TAG,
    "failure": FAILURE_TAG,
    "selection": SELECTION_TAG,
    "divergence_rule": DIVERGENCE_RULE_TAG,
    "diverged_value": DIVERGED_VALUE_TAG,
    "stopped_early": STOPPED_EARLY_TAG,
    "stopped_epoch": STOPPED_EPOCH_TAG,
    "early_best_epoch": BEST_EPOCH_TAG,
    "epochs_planned": EPOCHS_PLANNED_TAG,
    "parent_run_id": PARENT_TAG,
}
INT_TAG_COLUMNS = ("diverged_epoch", "stopped_epoch", "early_best_epoch", "epochs_planned")
SPLIT_METRICS = tuple(k for k in EPOCH_METRICS if not k.startswith("gap_"))
RUN_COLUMNS = ["run_id", "name", "status", "start_time", "end_time"]
SORT_COLUMNS = [
    *("lr", "batch_size", "hidden_size", "train_size", "activation", "optimizer"),
    *("weight_decay_lambda", "dropout_ratio", "weight_init_std", "seed", "name", "run_id"),
]


@dataclass(frozen=True)
class RunRecord:
    """What the runs frame reads of one run: its info, params and tags."""

    run_id: str
    name: str
    status: str
    start_time: int | None
    end_time: int | None
    params: Mapping[str, str]
    tags: Mapping[str, str]


@dataclass(frozen=True)
class RunState:
    """A run as a write-back finds it: its status, latest metric values and tags."""

    run_id: str
    status: str
    metrics: Mapping[str, float]
    tags: Mapping[str, str]


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
        return self.tags.get(STUDY_DESCRIPTION_TAG, "")


@dataclass
class SweepData:
    """A sweep read back: the parent, one row per child run, one row per run and epoch."""

    sweep: Sweep
    runs: pd.DataFrame
    history: pd.DataFrame


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


def runs_frame(runs: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per run: id, name, status, times, typed params and selected tags, sorted."""
    rows = []
    for r in runs:
        row: dict[str, object] = {
            "run_id": r.run_id,
            "name": r.name,
            "status": r.status,
            "start_time": r.start_time,
            "end_time": r.end_time,
        }
        params, tags = r.params, r.tags
        for column, (key, kind) in PARAM_COLUMNS.items():
            row[column] = _typed(params.get(key), kind)
        for column, tag in TAG_COLUMNS.items():
            row[column] = tags.get(tag)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*RUN_COLUMNS, *PARAM_COLUMNS, *TAG_COLUMNS])
    for column in ("start_time", "end_time", *INT_TAG_COLUMNS):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    for column, (_, kind) in PARAM_COLUMNS.items():
        if kind is int:
            frame[column] = frame[column].astype("Int64")
        elif kind is float:
            frame[column] = frame[column].astype(float)
    frame["diverged"] = frame["diverged"].eq("true")
    frame["stopped_early"] = frame["stopped_early"].eq("true")
    return sort_runs(frame)


def with_membership(runs: pd.DataFrame, parent_id: str) -> pd.DataFrame:
    """`runs` (a sweep's members) plus `reused` (a run of an earlier sweep this one skipped
    its config for) and `superseded_by` (the current attempt of a superseded run's config,
    None for the current ones: `scratchnet.tracking.attempts`)."""
    out = runs.copy()
    out["reused"] = out["parent_run_id"].ne(parent_id) if len(out) else pd.Series(dtype=bool)
    rows = out[["run_id", "config_hash", "status", "start_time"]].itertuples(index=False)
    attempts = [
        Attempt(r.run_id, r.config_hash, r.status, None if pd.isna(r.start_time) else r.start_time)
        for r in rows
    ]
    gone = superseded(attempts)
    out["superseded_by"] = [gone.get(run_id) for run_id in out["run_id"]]
    return out


def current_attempts(runs: pd.DataFrame) -> pd.DataFrame:
    """The current attempts: every run of the frame that no later attempt superseded."""
    if "superseded_by" not in runs:
        return runs
    return runs[runs["superseded_by"].isna()]


def superseded_attempts(runs: pd.DataFrame) -> pd.DataFrame:
    """The superseded attempts, listed apart (never counted)."""
    if "superseded_by" not in runs:
        return runs.iloc[0:0]
    return runs[runs["superseded_by"].notna()]


def sort_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a stable order: by lr, batch size, hidden size, train size, seed, name, id."""
    keys = [c for c in SORT_COLUMNS if c in frame.columns]
    return frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def history_frame(records: Sequence[tuple[str, str, int, int, float]]) -> pd.DataFrame:
    """(run_id, key, step, timestamp, value) records -> one row per run and epoch, sorted.

    A step logged twice (a resumed run) keeps its latest value; absent metrics are NaN, except
    the gaps, which are computed when not read, as the trainer computes them: against
    validation when the run has it, else against test. Only whole epochs are kept: an epoch
    missing a metric its run logs elsewhere is still being written (a live run read key by
    key), and is left out rather than read as not finite.
    """
    long = pd.DataFrame(records, columns=["run_id", "key", "epoch", "timestamp", "value"])
    if long.empty:
        empty = {"run_id": pd.Series(dtype=object), "epoch": pd.Series(dtype=np.int64)}
        return pd.DataFrame({**empty, **{k: pd.Series(dtype=float) for k in EPOCH_METRICS}})
    long = long.sort_values(["run_id", "key", "epoch", "timestamp"], kind="stable")
    long = long.drop_duplicates(["run_id", "key", "epoch"], keep="last")
    wide = long.pivot(index=["run_id", "epoch"], columns="key", values="value")
    wide = wide.reindex(columns=list(EPOCH_METRICS))[whole_epochs(long)].reset_index()
    wide.columns.name = None
    wide["epoch"] = wide["epoch"].astype(np.int64)
    wide[list(EPOCH_METRICS)] = wide[list(EPOCH_METRICS)].astype(float)
    chosen_acc = wide["val_acc"].where(wide["val_acc"].notna(), wide["test_acc"])
    chosen_loss = wide["val_loss"].where(wide["val_loss"].notna(), wide["test_loss"])
    wide["gap_acc"] = wide["gap_acc"].fillna(wide["train_acc"] - chosen_acc)
    wide["gap_loss"] = wide["gap_loss"].fillna(chosen_loss - wide["train_loss"])
    return wide.sort_values(["run_id", "epoch"], kind="stable").reset_index(drop=True)


def whole_epochs(long: pd.DataFrame) -> pd.Series:
    """Per (run_id, epoch): whether it has every metric its run logs at any epoch (a NaN value
    counts as logged)."""
    seen = long.pivot(index=["run_id", "epoch"], columns="key", values="timestamp").notna()
    logs = seen.groupby(level="run_id").transform("any")
    return (seen | ~logs).all(axis=1)


def with_summary(runs: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """`runs` plus epochs_logged, last_epoch and the last epoch's loss and accuracy per split
    (final_train_acc, ...; the final gaps are the diagnosis's gap_*_final)."""
    grouped = history.sort_values(["run_id", "epoch"]).groupby("run_id", sort=True)
    last = grouped.tail(1).set_index("run_id")
    summary = pd.DataFrame(
        {"epochs_logged": grouped.size(), "last_epoch": last["epoch"]}, index=last.index
    )
    for key in SPLIT_METRICS:
        summary[f"final_{key}"] = last[key]
    out = runs.merge(summary, how="left", left_on="run_id", right_index=True)
    out["epochs_logged"] = out["epochs_logged"].fillna(0).astype(np.int64)
    out["last_epoch"] = out["last_epoch"].astype("Int64")
    return out
