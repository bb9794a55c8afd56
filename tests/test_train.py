"""The mini-batch SGD loop: exact epochs, sampling, history, three splits, divergence, early
stopping, determinism."""

import numpy as np
import pytest

from scratchnet.data import load_dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.training import METRICS, Callback, batch_indices, make_plan, train
from scratchnet.training.stopping import (
    LOSS_ABOVE_FACTOR,
    NON_FINITE,
    Divergence,
    DivergenceRule,
    EarlyStopping,
)

TWO_SPLITS = {"epoch", *METRICS} - {"val_loss", "val_acc"}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


@pytest.fixture(scope="module")
def digits3():
    """Train, validation (10 % of the training set) and test."""
    return load_dataset("digits", seed=0, val_fraction=0.1)


def fresh_net(data, hidden=20, seed=0, dtype=np.float32):
    return TwoLayerNet(data.input_size, hidden, data.num_classes, seed=seed, dtype=dtype)


def test_epoch_is_exact_for_a_batch_size_that_does_not_divide_the_data():
    plan = make_plan(train_size=1347, batch_size=128, epochs=3)
    assert plan.iters_per_epoch == 11
    assert plan.total_iters == 33
    assert plan.epochs == 3


def test_iters_num_ends_with_a_partial_epoch():
    plan = make_plan(train_size=60000, batch_size=100, iters_num=10000)
    assert plan.iters_per_epoch == 600
    assert plan.epochs == 17


def test_shuffle_visits_every_sample_once_per_epoch():
    plan = make_plan(train_size=103, batch_size=10, epochs=2)
    epochs = list(batch_indices(plan, "shuffle", np.random.default_rng(0)))
    assert [e for e, _ in epochs] == [1, 2]
    for _, batches in epochs:
        assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(103))


def test_with_replacement_draws_full_batches_like_the_chapter():
    plan = make_plan(train_size=50, batch_size=8, epochs=1)
    ((_, batches),) = batch_indices(plan, "with_replacement", np.random.default_rng(0))
    assert len(batches) == plan.iters_per_epoch == 7
    assert all(len(b) == 8 and b.max() < 50 for b in batches)


def test_history_has_every_metric_at_every_epoch_from_zero(digits):
    result = train(fresh_net(digits), digits, lr=0.5, batch_size=32, epochs=4)
    assert [row["epoch"] for row in result.history] == [0, 1, 2, 3, 4]
    for row in result.history:
        assert set(row) == TWO_SPLITS
    assert result.iterations == 4 * 43


def test_with_a_validation_split_every_epoch_reports_all_three_splits(digits3):
    result = train(fresh_net(digits3), digits3, lr=0.5, batch_size=32, epochs=2)
    assert [set(row) for row in result.history] == [{"epoch", *METRICS}] * 3


def test_with_a_validation_split_the_gaps_are_measured_against_validation(digits3):
    row = train(fresh_net(digits3), digits3, lr=0.5, batch_size=32, epochs=2).history[-1]
    assert row["gap_acc"] == row["train_acc"] - row["val_acc"]
    assert row["gap_loss"] == row["val_loss"] - row["train_loss"]


def test_training_learns_the_digits(digits):
    result = train(fresh_net(digits), digits, lr=0.5, batch_size=32, epochs=20)
    assert result.history[0]["test_acc"] < 0.2
    assert result.history[-1]["test_acc"] > 0.9


def test_gaps_are_train_minus_test_accuracy_and_test_minus_train_loss(digits):
    row = train(fresh_net(digits), digits, lr=0.5, batch_size=32, epochs=2).history[-1]
    assert row["gap_acc"] == pytest.approx(row["train_acc"] - row["test_acc"])
    assert row["gap_loss"] == pytest.approx(row["test_loss"] - row["train_loss"])


def test_same_seed_gives_bit_identical_history(digits):
    first = train(fresh_net(digits), digits, lr=0.5, batch_size=32, epochs=3, seed=7)
    second = train(fresh_net(digits), digits, lr=0.5, batch_size=32, epochs=3, seed=7)
    assert first.history == second.history


def test_a_different_seed_draws_different_batches(digits):
    first = train(fresh_net(digits), digits, lr=0.5, batch_size=32, epochs=2, seed=1)
    second = train(fresh_net(digits), digits, lr=0.5, batch_size=32, epochs=2, seed=2)
    assert first.history[-1] != second.history[-1]


def test_a_huge_learning_rate_diverges_after_patience_epochs_above_the_factor(digits):
    result = train(fresh_net(digits), digits, lr=1e4, batch_size=32, epochs=10)
    assert result.diverged and result.divergence.rule == LOSS_ABOVE_FACTOR
    assert result.diverged_at == 3  # epochs 1, 2 and 3 above 3x the epoch-0 loss
    assert [row["epoch"] for row in result.history] == [0, 1, 2, 3]  # the spikes are kept
    assert result.divergence.value == result.history[-1]["train_loss"]
    assert all(np.isfinite(v) for row in result.history for v in row.values())


def test_divergence_patience_one_stops_at_the_first_epoch_above_the_factor(digits):
    result = train(
        fresh_net(digits), digits, lr=1e4, batch_size=32, epochs=10, divergence_patience=1
    )
    assert result.diverged_at == 1 and len(result.history) == 2


def test_a_spike_that_recovers_is_not_divergence():
    rule = DivergenceRule(factor=3.0, patience=3)
    losses = [2.3, 8.0, 3.6, 2.0, 7.5, 7.1, 1.9]  # above 3 x 2.3 twice in a row at most
    assert all(rule.check(e, {"train_loss": v}) is None for e, v in enumerate(losses))


def test_a_loss_above_the_factor_for_patience_epochs_is_divergence():
    rule = DivergenceRule(factor=3.0, patience=3)
    found = [rule.check(e, {"train_loss": v}) for e, v in enumerate([2.3, 8.0, 7.5, 9.1])]
    assert found[:3] == [None, None, None]
    assert found[3] == Divergence(LOSS_ABOVE_FACTOR, 3, "train_loss", 9.1)


def test_a_non_finite_metric_is_divergence_at_once():
    rule = DivergenceRule(factor=None, patience=3)
    assert rule.check(0, {"train_loss": 2.3, "val_acc": 0.1}) is None
    assert rule.check(1, {"train_loss": 2.3, "val_acc": float("nan")}).rule == NON_FINITE


def test_early_stopping_ends_patience_epochs_after_the_best_validation_loss(digits3):
    rule = EarlyStopping(patience=2)
    result = train(
        fresh_net(digits3), digits3, lr=2.0, batch_size=8, epochs=60, early_stopping=rule
    )
    assert result.stopped_early
    assert result.stopped_epoch - result.best_epoch == 2
    losses = {row["epoch"]: row["val_loss"] for row in result.history}
    assert result.best_epoch == min(losses, key=losses.get)
    assert result.history[-1]["epoch"] == result.stopped_epoch < 60


def test_restore_best_ends_with_the_best_epochs_weights(digits3):
    kw = dict(lr=2.0, batch_size=8, seed=1)
    stopped_net = fresh_net(digits3)
    result = train(stopped_net, digits3, epochs=60, early_stopping=EarlyStopping(2), **kw)
    replay = fresh_net(digits3)
    train(replay, digits3, epochs=result.best_epoch, **kw)  # the same run, cut at its best
    for name, value in replay.params.items():
        assert np.array_equal(stopped_net.params[name], value)


@pytest.mark.parametrize("overlap", [True, False])
def test_early_stopping_is_the_same_with_the_evaluation_overlapped_or_not(digits3, overlap):
    kw = dict(lr=2.0, batch_size=8, epochs=60, early_stopping=EarlyStopping(2), eval_threads=2)
    reference = train(fresh_net(digits3), digits3, overlap_evaluation=False, **kw)
    result = train(fresh_net(digits3), digits3, overlap_evaluation=overlap, **kw)
    assert result.history == reference.history and result.iterations == reference.iterations


def test_early_stopping_needs_a_validation_split(digits):
    with pytest.raises(ValueError, match="validation"):
        train(
            fresh_net(digits),
            digits,
            lr=0.5,
            batch_size=32,
            epochs=2,
            early_stopping=EarlyStopping(2),
        )


def test_non_finite_weights_stop_the_run(digits):
    net = fresh_net(digits)
    net.params["W2"][0, 0] = np.nan
    result = train(net, digits, lr=0.1, batch_size=32, epochs=3)
    assert result.diverged_at == 0 and result.divergence.rule == NON_FINITE
    assert result.history == []


def test_callbacks_hear_begin_each_epoch_and_end(digits):
    heard = []

    class Recorder(Callback):
        def on_train_begin(self, plan):
            heard.append(("begin", plan.epochs))

        def on_epoch_end(self, epoch, metrics):
            heard.append(("epoch", epoch))

        def on_train_end(self, result):
            heard.append(("end", len(result.history)))

    train(fresh_net(digits), digits, lr=0.5, batch_size=64, epochs=2, callbacks=[Recorder()])
    assert heard == [("begin", 2), ("epoch", 0), ("epoch", 1), ("epoch", 2), ("end", 3)]


def test_float32_training_tracks_float64_closely(digits):
    kw = dict(lr=0.5, batch_size=32, epochs=5, seed=3)
    low = train(fresh_net(digits, dtype=np.float32), digits, **kw).history
    high = train(fresh_net(digits, dtype=np.float64), digits, **kw).history
    for a, b in zip(low, high, strict=True):
        assert a["test_loss"] == pytest.approx(b["test_loss"], abs=1e-4)
        assert a["test_acc"] == pytest.approx(b["test_acc"], abs=3 / 450)
