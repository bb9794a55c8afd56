"""Synthetic learning curves and sweep stores, for tests, benchmarks and trying the report.

The curves have known shapes (and so known verdicts); `log_sweep` writes them into a real
MLflow store the way training does (parent run, child runs, metrics at step = epoch) but
with a few `log_batch` calls per run instead of one per epoch.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from scratchnet.tracking.names import (
    EPOCH_METRICS,
    METRICS_PER_CALL,
    PARENT_TAG,
    SWEEP_ID_TAG,
    SWEEP_PARENT_TAG,
)

CHANCE_LOSS = float(np.log(10))


def curve(
    epochs: int = 60,
    *,
    kind: str = "good_fit",
    onset: int = 25,
    slope: float = 0.01,
    noise: float = 0.0,
    seed: int = 0,
    validation: bool = True,
) -> pd.DataFrame:
    """A history of `epochs` + 1 epochs shaped as `kind`: good_fit, overfit, underfit, diverged.

    good_fit: both losses fall to a plateau, small gap. overfit: as good_fit but the held-out
    losses rise by `slope` per epoch after `onset` and the accuracy gap grows. underfit:
    losses barely fall, accuracy stays low. diverged: the train loss climbs above its start.
    Validation and test follow the same held-out curve with their own noise; without
    `validation` there are no val columns and the gaps are against test, as for a run with
    `data.val_fraction=0`.
    """
    rng = np.random.default_rng(seed)
    e = np.arange(epochs + 1, dtype=float)
    train, held_out = _shapes(e, kind, onset, slope)
    train = train + rng.normal(0, noise, e.shape)
    columns: dict[str, np.ndarray] = {"epoch": e.astype(int), "train_loss": train}
    columns["train_acc"] = np.clip(1 - train / CHANCE_LOSS * 0.9, 0, 1)
    for split in ("val", "test") if validation else ("test",):
        loss = held_out + rng.normal(0, noise, e.shape)
        penalty = 0.08 if kind == "overfit" else 0
        columns[f"{split}_loss"] = loss
        columns[f"{split}_acc"] = np.clip(1 - loss / CHANCE_LOSS * 0.9 - penalty, 0, 1)
    chosen = "val" if validation else "test"
    columns["gap_acc"] = columns["train_acc"] - columns[f"{chosen}_acc"]
    columns["gap_loss"] = columns[f"{chosen}_loss"] - train
    return pd.DataFrame(columns)


def _shapes(e: np.ndarray, kind: str, onset: int, slope: float) -> tuple[np.ndarray, np.ndarray]:
    """The noise-free train and held-out loss curves of `kind`."""
    decay = np.exp(-e / 8)
    if kind == "underfit":
        train = CHANCE_LOSS - 0.8 * (1 - decay)
        return train, train + 0.05 * (1 - decay)
    if kind == "diverged":
        train = CHANCE_LOSS * (1 + 0.05 * e)
        return train, train + 0.02
    train = (CHANCE_LOSS - 0.1) * decay + 0.1
    held_out = train + 0.1 * (1 - decay)
    if kind == "overfit":
        held_out = held_out + slope * np.maximum(e - onset, 0)
        train = train * np.exp(-np.maximum(e - onset, 0) / 20)
    return train, held_out


@dataclass
class FakeRun:
    """One child run to log: its name, params, tags, history and final status."""

    name: str
    params: Mapping[str, str]
    history: pd.DataFrame
    tags: Mapping[str, str] = field(default_factory=dict)
    status: str = "FINISHED"


def metric_batch(history: pd.DataFrame, timestamp: int) -> list[Metric]:
    """Every finite value of the epoch metrics as MLflow metrics, step = epoch."""
    out = []
    for row in history.itertuples(index=False):
        for key in EPOCH_METRICS:
            if key not in history:
                continue
            value = float(getattr(row, key))
            if np.isfinite(value):
                out.append(Metric(key, value, timestamp + int(row.epoch), int(row.epoch)))
    return out


def log_sweep(
    client: MlflowClient,
    experiment_id: str,
    runs: Sequence[FakeRun],
    *,
    name: str = "sweep",
    sweep_id: str = "synthetic",
    tags: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    timestamp: int = 1_700_000_000_000,
) -> str:
    """A parent run with `runs` as its children; returns the parent's run id."""
    parent_tags = {SWEEP_PARENT_TAG: "true", SWEEP_ID_TAG: sweep_id, **(tags or {})}
    parent = client.create_run(
        experiment_id, start_time=timestamp, run_name=name, tags=parent_tags
    ).info.run_id
    if params:
        client.log_batch(parent, params=[Param(k, v) for k, v in params.items()])
    for i, fake in enumerate(runs):
        run_tags = {PARENT_TAG: parent, SWEEP_ID_TAG: sweep_id, **fake.tags}
        child = client.create_run(
            experiment_id, start_time=timestamp + i, run_name=fake.name, tags=run_tags
        ).info.run_id
        metrics = metric_batch(fake.history, timestamp)
        client.log_batch(
            child,
            params=[Param(k, str(v)) for k, v in fake.params.items()],
            tags=[RunTag(k, v) for k, v in fake.tags.items()],
        )
        for j in range(0, len(metrics), METRICS_PER_CALL):
            client.log_batch(child, metrics=metrics[j : j + METRICS_PER_CALL])
        client.set_terminated(child, status=fake.status, end_time=timestamp + 1000 + i)
    client.set_terminated(parent, end_time=timestamp + 10_000)
    return parent
