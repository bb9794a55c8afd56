"""Sweep-level analysis and write-back on a synthetic sweep with known verdicts."""

import math

import numpy as np
import pandas as pd
import pytest

from scratchnet.analysis import (
    config_label,
    diagnose_runs,
    effect_table,
    effect_tables,
    ranked,
    repeats_seeds,
    seed_spread,
    varied_factors,
    verdict_counts,
)
from scratchnet.tracking.reader import child_runs, load_sweep, state
from scratchnet.tracking.synthetic import curve
from scratchnet.tracking.writeback import planned_changes, write_back


@pytest.fixture(scope="module")
def diag(synthetic_store) -> pd.DataFrame:
    data = load_sweep(synthetic_store.client, "study")
    return diagnose_runs(data.runs, data.history)


def by_name(diag: pd.DataFrame, name: str) -> pd.Series:
    return diag.set_index("name").loc[name]


def test_every_run_gets_the_verdict_of_its_shape(diag):
    assert by_name(diag, "lr=0.1 h=10 seed=0")["verdict"] == "underfit"
    assert by_name(diag, "lr=1 h=10 seed=1")["verdict"] == "good_fit"
    assert by_name(diag, "lr=1 h=100 seed=0")["verdict"] == "overfit"
    assert by_name(diag, "lr=10 h=10 seed=0")["verdict"] == "diverged"


def test_onset_is_found_in_overfitting_runs_only(diag):
    onsets = diag.set_index("name")["overfit_onset"]
    turn = int(np.argmin(curve(40, kind="overfit", onset=15)["test_loss"]))  # noiseless minimum
    assert abs(onsets["lr=1 h=100 seed=0"] - turn) <= 3
    assert pd.isna(onsets["lr=1 h=10 seed=0"])


def test_varied_factors_are_the_swept_ones(diag):
    assert varied_factors(diag) == ["lr", "hidden_size"]


def test_effect_table_counts_verdicts_per_value(diag):
    table = effect_table(diag, "lr").set_index("lr")
    assert table.loc[0.1, "underfit"] == 4
    assert table.loc[10.0, "diverged"] == 1 and math.isnan(table.loc[10.0, "best_acc_mean"])
    assert table.loc[1.0, "runs"] == 5
    assert set(effect_tables(diag)) == {"lr", "hidden_size"}


def test_effect_table_keeps_a_missing_train_size_as_its_own_group():
    frame = pd.DataFrame(
        {
            "train_size": pd.array([100, None, None], dtype="Int64"),
            "verdict": ["overfit", "good_fit", "good_fit"],
            "overfit_onset": pd.array([5, None, None], dtype="Int64"),
            **{k: [0.5, 0.9, 0.8] for k in ("best_acc", "test_acc_at_best", "final_test_acc")},
            **{k: [0.3, 0.0, 0.02] for k in ("gap_acc_final", "gap_loss_final")},
        }
    )
    table = effect_table(frame, "train_size")
    assert table["runs"].tolist() == [1, 2]
    assert table["best_acc_mean"].tolist() == pytest.approx([0.5, 0.85])


def test_seed_spread_summarizes_configurations_repeated_over_seeds(diag):
    assert repeats_seeds(diag)
    spread = seed_spread(diag).set_index(["lr", "hidden_size"])
    row = spread.loc[(1.0, 10)]
    assert row["seeds"] == 2
    assert row["best_acc_min"] <= row["best_acc_mean"] <= row["best_acc_max"]
    assert row["best_acc_std"] >= 0


def test_no_seed_spread_when_each_configuration_ran_once(diag):
    single = diag[diag["seed"] == 0]
    assert seed_spread(single) is None


def test_ranked_puts_the_best_validation_accuracy_first(diag):
    order = ranked(diag)
    assert order["rank"].tolist() == list(range(1, len(order) + 1))
    assert (order["selection"] == "val").all()
    assert order["best_acc"].is_monotonic_decreasing


def test_ranked_never_ranks_by_test_accuracy(diag):
    flipped = diag.copy()
    flipped["test_acc_at_best"] = 1 - flipped["test_acc_at_best"]  # test says the opposite
    assert ranked(flipped)["run_id"].tolist() == ranked(diag)["run_id"].tolist()


def test_verdict_counts_cover_all_four_verdicts(diag):
    counts = verdict_counts(diag)
    # The failed run stopped after 3 epochs, still near chance: underfit.
    assert counts == {"good_fit": 2, "overfit": 2, "underfit": 5, "diverged": 1, "no data": 0}


def test_config_label_names_the_varied_factors(diag):
    row = by_name(diag, "lr=1 h=100 seed=0")
    assert config_label(row, ["lr", "hidden_size"]) == "lr=1 h=100"


def write_diagnosis(client, diag, runs) -> int:
    """What a report does: plan the changes against the runs as they are, then write them."""
    return write_back(client, planned_changes(diag, [state(r) for r in runs]))


def test_write_back_logs_metrics_and_verdict_tags(synthetic_store, diag):
    client = synthetic_store.client
    current = child_runs(client, synthetic_store.experiment_id, synthetic_store.parent)
    write_diagnosis(client, diag, current)
    overfit = by_name(diag, "lr=1 h=100 seed=0")["run_id"]
    run = client.get_run(overfit)
    assert run.data.tags["overfit.verdict"] == "overfit"
    assert run.data.metrics["overfit_onset"] == by_name(diag, "lr=1 h=100 seed=0")["overfit_onset"]
    assert run.data.tags["overfit.selection"] == "val"
    for key in (
        "best_epoch",
        "best_val_acc",
        "test_acc_at_best",
        "gap_acc_final",
        "gap_loss_final",
    ):
        assert key in run.data.metrics


def test_write_back_never_logs_nan_and_omits_a_missing_onset(synthetic_store, diag):
    client = synthetic_store.client
    current = child_runs(client, synthetic_store.experiment_id, synthetic_store.parent)
    write_diagnosis(client, diag, current)
    for run in child_runs(client, synthetic_store.experiment_id, synthetic_store.parent):
        assert all(np.isfinite(v) for v in run.data.metrics.values())
        if run.data.tags.get("overfit.onset") == "none":
            assert "overfit_onset" not in run.data.metrics


def test_write_back_twice_changes_nothing_the_second_time(synthetic_store, diag):
    client = synthetic_store.client
    current = child_runs(client, synthetic_store.experiment_id, synthetic_store.parent)
    write_diagnosis(client, diag, current)
    again = child_runs(client, synthetic_store.experiment_id, synthetic_store.parent)
    assert write_diagnosis(client, diag, again) == 0
