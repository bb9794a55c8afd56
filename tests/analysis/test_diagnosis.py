"""Per-run diagnosis on synthetic curves: best epoch, gaps, onset, verdict."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchnet.analysis import (
    Thresholds,
    best_epoch,
    diagnose,
    gaps,
    noise_level,
    overfit_onset,
    smooth,
    verdict,
)
from scratchnet.tracking.synthetic import curve


def history(train_loss, test_loss, train_acc=None, test_acc=None) -> pd.DataFrame:
    """A history from explicit per-epoch values (accuracies default to a good fit)."""
    n = len(train_loss)
    return pd.DataFrame(
        {
            "epoch": np.arange(n),
            "train_loss": np.asarray(train_loss, dtype=float),
            "test_loss": np.asarray(test_loss, dtype=float),
            "train_acc": np.full(n, 0.99) if train_acc is None else np.asarray(train_acc),
            "test_acc": np.full(n, 0.97) if test_acc is None else np.asarray(test_acc),
        }
    )


def test_best_epoch_is_the_first_epoch_of_lowest_test_loss():
    h = history([3, 2, 1, 1, 1], [3, 2, 1.5, 1.5, 1.7])
    assert best_epoch(h) == 2


def test_best_epoch_skips_non_finite_epochs():
    h = history([3, 2, 1], [3, np.nan, 2.5])
    assert best_epoch(h) == 2


def test_gaps_are_final_and_maximal_train_test_differences():
    h = history(
        [2.0, 1.0, 0.5], [2.0, 1.5, 1.2], train_acc=[0.1, 0.9, 0.95], test_acc=[0.1, 0.7, 0.9]
    )
    g = gaps(h)
    assert g.acc_final == pytest.approx(0.05)
    assert g.acc_max == pytest.approx(0.2)
    assert g.loss_final == pytest.approx(0.7)
    assert g.loss_max == pytest.approx(0.7)


def test_smooth_is_a_centered_moving_average_truncated_at_the_ends():
    out = smooth(np.array([0.0, 3.0, 6.0, 9.0, 12.0]), 3)
    assert out.tolist() == pytest.approx([1.5, 3.0, 6.0, 9.0, 10.5])


def test_noise_level_is_zero_for_a_straight_line():
    assert noise_level(np.linspace(1, 2, 20)) == pytest.approx(0.0, abs=1e-12)


def test_noise_level_estimates_the_jitter_of_a_noisy_trend():
    rng = np.random.default_rng(0)
    values = np.linspace(2, 1, 400) + rng.normal(0, 0.05, 400)
    assert noise_level(values) == pytest.approx(0.05, rel=0.15)


def test_onset_is_found_where_a_clean_test_loss_turns_up():
    onset = overfit_onset(curve(60, kind="overfit", onset=25))
    assert onset is not None and 24 <= onset <= 30


@pytest.mark.parametrize("seed", range(20))
def test_onset_is_found_under_noise_near_the_true_turn(seed: int):
    onset = overfit_onset(curve(60, kind="overfit", onset=25, noise=0.02, seed=seed))
    assert onset is not None and 20 <= onset <= 34


@pytest.mark.parametrize("noise", [0.01, 0.03, 0.05])
def test_onset_never_fires_on_noise_around_a_falling_or_flat_test_loss(noise: float):
    fired = [overfit_onset(curve(60, noise=noise, seed=s)) for s in range(100)]
    assert fired.count(None) == 100


def test_onset_ignores_a_bump_that_subsides_by_the_end():
    e = np.arange(61)
    train = 2 * np.exp(-e / 8) + 0.05
    test = train + 0.2 + 0.3 * np.exp(-(((e - 30) / 5) ** 2))  # a bump at 30, gone by 45
    assert overfit_onset(history(train, test)) is None


def test_onset_needs_the_train_loss_to_keep_falling():
    e = np.arange(61)
    test = 1 + 0.01 * np.maximum(e - 25, 0)
    train = test - 0.1  # both rise together: instability, not overfitting
    assert overfit_onset(history(train, test)) is None


def test_onset_needs_min_span_epochs_after_the_minimum():
    train = np.linspace(2, 0.1, 31)
    test = np.concatenate([np.linspace(2, 0.5, 29), [0.7, 0.9]])  # lowest at 28, then 2 epochs
    assert overfit_onset(history(train, test), Thresholds(smooth_window=1, min_span=3)) is None
    assert overfit_onset(history(train, test), Thresholds(smooth_window=1, min_span=2)) == 28


def test_onset_is_the_last_minimum_when_test_loss_dips_twice():
    e = np.arange(81)
    train = 2 * np.exp(-e / 10)
    test = 1 + 0.3 * np.exp(-(((e - 20) / 6) ** 2)) - 0.2 * (e > 40) + 0.02 * np.maximum(e - 50, 0)
    onset = overfit_onset(history(train, test))
    assert onset is not None and 45 <= onset <= 52


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.01, 0.5), min_size=2, max_size=80))
def test_onset_never_fires_on_a_non_increasing_test_loss(steps: list[float]):
    test = 5 - np.cumsum(steps) * 0.1
    train = test - 0.1
    assert overfit_onset(history(train, test)) is None


def test_verdict_diverged_when_the_run_was_tagged_diverged():
    label, reason = verdict(curve(kind="good_fit"), onset=None, diverged=True, diverged_epoch=7)
    assert label == "diverged" and "epoch 7" in reason


def test_verdict_diverged_when_train_loss_ends_far_above_its_start():
    assert verdict(curve(kind="diverged"), onset=None)[0] == "diverged"


def test_verdict_diverged_when_a_logged_loss_is_not_finite():
    h = curve(kind="good_fit")
    h.loc[10, "test_loss"] = np.inf
    assert verdict(h, onset=None)[0] == "diverged"


def test_verdict_underfit_when_best_train_accuracy_is_low():
    label, reason = verdict(curve(kind="underfit"), onset=None)
    assert label == "underfit" and "< 0.9" in reason


def test_verdict_overfit_by_onset_even_with_a_small_gap():
    assert verdict(curve(kind="good_fit"), onset=12)[0] == "overfit"


def test_verdict_overfit_by_accuracy_gap_without_onset():
    h = curve(kind="good_fit")
    h["val_acc"] = h["train_acc"] - 0.2
    assert verdict(h, onset=None)[0] == "overfit"


def test_the_test_set_never_drives_the_verdict_when_there_is_a_validation_split():
    h = curve(kind="good_fit")
    h["test_acc"] = h["train_acc"] - 0.2  # a gap on test alone
    assert verdict(h, onset=None)[0] == "good_fit"


def test_without_a_validation_split_the_verdict_falls_back_to_test():
    h = curve(kind="good_fit", validation=False)
    h["test_acc"] = h["train_acc"] - 0.2
    assert verdict(h, onset=None)[0] == "overfit"


def test_verdict_good_fit_otherwise():
    assert verdict(curve(kind="good_fit"), onset=None)[0] == "good_fit"


def test_verdict_thresholds_are_configurable():
    h = curve(kind="underfit")
    assert verdict(h, onset=None, t=Thresholds(underfit_train_acc=0.3))[0] != "underfit"


@pytest.mark.parametrize("kind", ["good_fit", "overfit", "underfit", "diverged"])
def test_diagnose_recovers_the_shape_of_synthetic_curves(kind: str):
    d = diagnose(curve(60, kind=kind, noise=0.01, seed=1))
    assert d is not None and d.verdict == kind


def test_diagnose_reports_best_epoch_accuracy_and_omits_absent_onset():
    d = diagnose(curve(60, kind="good_fit"))
    assert d.selection == "val"
    assert d.best_epoch == 60 and d.overfit_onset is None
    assert d.best_acc == pytest.approx(d.final_val_acc)
    assert d.test_acc_at_best == pytest.approx(d.final_test_acc)


def test_the_best_epoch_is_chosen_on_validation_and_test_is_read_there():
    h = curve(40, kind="good_fit")
    h["val_loss"] = 2.0
    h.loc[h["epoch"] == 7, "val_loss"] = 0.1  # validation's best; test's best is the last
    d = diagnose(h)
    assert d.best_epoch == 7 and d.test_best_epoch == 40
    assert d.test_acc_at_best == pytest.approx(h.loc[7, "test_acc"])
    assert d.selection_optimism == pytest.approx(h.loc[40, "test_acc"] - h.loc[7, "test_acc"])


def test_diagnose_returns_none_without_a_finite_epoch():
    assert diagnose(history([np.nan], [np.nan])) is None
