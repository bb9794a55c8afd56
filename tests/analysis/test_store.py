"""Reading sweeps back from a real MLflow store."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scratchnet.tracking.frames import history_frame
from scratchnet.tracking.names import EPOCH_METRICS
from scratchnet.tracking.reader import find_experiment, find_sweep, load_sweep
from scratchnet.tracking.store import StoreError, open_client


def test_latest_sweep_is_the_newest_parent(synthetic_store):
    data = load_sweep(synthetic_store.client, "study")
    assert data.sweep.run_id == synthetic_store.parent
    assert data.sweep.description == "What overfits?"


def test_runs_frame_has_one_row_per_child_only(synthetic_store):
    runs = load_sweep(synthetic_store.client, "study").runs
    assert len(runs) == 10
    assert synthetic_store.loose_run not in set(runs["run_id"])
    assert runs["run_id"].is_unique


def test_runs_frame_types_the_params(synthetic_store):
    runs = load_sweep(synthetic_store.client, "study").runs
    assert runs["lr"].dtype == float and runs["hidden_size"].dtype == "Int64"
    assert runs["train_size"].isna().all()  # "None": the full training set
    assert sorted(runs["lr"].unique()) == [0.1, 1.0, 10.0]
    assert runs["diverged"].dtype == bool and runs["diverged"].sum() == 1


def test_runs_frame_keeps_status_tags_and_a_stable_order(synthetic_store):
    runs = load_sweep(synthetic_store.client, "study").runs
    failed = runs[runs["status"] == "FAILED"]
    assert failed["failure"].tolist() == ["boom"]
    again = load_sweep(synthetic_store.client, "study").runs
    assert runs["run_id"].tolist() == again["run_id"].tolist()
    assert runs.sort_values(
        ["lr", "hidden_size", "seed"], kind="stable"
    ).index.is_monotonic_increasing


def test_history_has_every_logged_epoch_of_every_run(synthetic_store):
    data = load_sweep(synthetic_store.client, "study")
    counts = data.history.groupby("run_id").size()
    assert counts.sum() == 8 * 41 + 3 + 4
    run_id = data.runs["run_id"].iloc[0]
    logged = synthetic_store.client.get_metric_history(run_id, "test_loss")
    got = data.history[data.history["run_id"] == run_id]
    assert got["test_loss"].tolist() == [m.value for m in sorted(logged, key=lambda m: m.step)]
    assert list(data.history.columns) == ["run_id", "epoch", *EPOCH_METRICS]


def test_recomputed_gaps_equal_the_logged_ones_exactly(synthetic_store):
    data = load_sweep(synthetic_store.client, "study")
    run_id = data.runs["run_id"].iloc[3]
    got = data.history[data.history["run_id"] == run_id]
    for key in ("gap_acc", "gap_loss"):
        logged = synthetic_store.client.get_metric_history(run_id, key)
        assert got[key].tolist() == [m.value for m in sorted(logged, key=lambda m: m.step)]


def test_runs_summary_has_the_last_epoch(synthetic_store):
    runs = load_sweep(synthetic_store.client, "study").runs
    failed = runs[runs["status"] == "FAILED"].iloc[0]
    assert (failed["epochs_logged"], failed["last_epoch"]) == (4, 3)
    assert math.isfinite(failed["final_test_acc"])


def test_sweep_found_by_parent_id_prefix_and_by_sweep_id(synthetic_store):
    exp = find_experiment(synthetic_store.client, "study")
    old = synthetic_store.old_parent
    assert find_sweep(synthetic_store.client, exp, old[:8]).run_id == old
    assert find_sweep(synthetic_store.client, exp, old).run_id == old
    assert find_sweep(synthetic_store.client, exp, "old-sweep").run_id == old


def test_unknown_sweep_is_an_error_listing_recent_ones(synthetic_store):
    exp = find_experiment(synthetic_store.client, "study")
    with pytest.raises(StoreError, match="no sweep 'zzz'.*recent: "):
        find_sweep(synthetic_store.client, exp, "zzz")


def test_unknown_experiment_is_an_error_listing_known_ones(synthetic_store):
    with pytest.raises(StoreError, match="unknown experiment 'nope'.*study"):
        load_sweep(synthetic_store.client, "nope")


def test_experiment_without_sweep_is_an_error(synthetic_store):
    synthetic_store.client.create_experiment("lonely")
    with pytest.raises(StoreError, match="has no sweep"):
        load_sweep(synthetic_store.client, "lonely")


def test_missing_store_file_is_an_error_not_a_new_store(tmp_path: Path):
    with pytest.raises(StoreError, match="no tracking store"):
        open_client(f"sqlite:///{tmp_path / 'absent.db'}")
    assert not (tmp_path / "absent.db").exists()


def test_history_frame_keeps_the_latest_value_of_a_step_logged_twice():
    records = [
        ("r", "test_loss", 0, 1, 2.0),
        ("r", "test_loss", 1, 2, 1.0),
        ("r", "test_loss", 1, 5, 0.5),  # the same epoch again, later (a resumed run)
    ]
    frame = history_frame(records)
    assert frame["test_loss"].tolist() == [2.0, 0.5]
    assert np.isnan(frame["train_loss"]).all()


def test_history_frame_of_nothing_has_the_columns():
    frame = history_frame([])
    assert frame.empty and list(frame.columns) == ["run_id", "epoch", *EPOCH_METRICS]
    assert isinstance(frame, pd.DataFrame)


def test_history_frame_leaves_out_an_epoch_still_being_written_but_keeps_a_nan_one():
    def epoch(step: int, keys: tuple[str, ...], value: float = 1.0) -> list:
        return [("r", key, step, step, value) for key in keys]

    both = ("train_loss", "test_loss")
    records = [*epoch(0, both), *epoch(1, both, float("nan")), *epoch(2, ("train_loss",))]
    frame = history_frame(records)
    assert frame["epoch"].tolist() == [0, 1]  # epoch 2 lacks test_loss: not read as not finite
    assert np.isnan(frame["test_loss"].iloc[1])
