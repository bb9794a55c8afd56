"""The chapter's loss examples, and what delta = 1e-7 protects cross-entropy from."""

import math

import numpy as np
import pytest

from scratchnet.chapter.losses import (
    cee_when_correct_class_is_zero,
    example_losses,
    linear_grid,
    log_of_zero,
    loss_curves,
    near_zero_grid,
    outputs_with_correct_probability,
)

Y1 = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]
Y2 = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]


def test_the_right_guess_has_the_chapter_losses():
    losses = example_losses(Y1, label=2, delta=1e-7)
    assert losses["sse"] == pytest.approx(0.0975)
    assert losses["cee"] == pytest.approx(0.5108, abs=1e-4)


def test_the_wrong_guess_has_the_chapter_losses():
    losses = example_losses(Y2, label=2, delta=1e-7)
    assert losses["sse"] == pytest.approx(0.5975)
    assert losses["cee"] == pytest.approx(2.3026, abs=1e-4)


def test_log_of_zero_is_minus_infinity_with_a_divide_warning():
    result = log_of_zero()
    assert result.value == -math.inf
    assert result.warning == "RuntimeWarning: divide by zero encountered in log"


def test_with_delta_a_zero_probability_costs_minus_log_delta():
    result = cee_when_correct_class_is_zero(num_classes=10, label=2, delta=1e-7)
    assert result.value == pytest.approx(-math.log(1e-7))
    assert result.warning is None


def test_without_delta_a_zero_probability_costs_infinity():
    result = cee_when_correct_class_is_zero(num_classes=10, label=2, delta=0.0)
    assert result.value == math.inf
    assert "divide by zero" in result.warning


def test_each_output_row_puts_p_on_the_label_and_sums_to_one():
    rows = outputs_with_correct_probability(np.array([0.0, 0.3, 1.0]), label=2, num_classes=10)
    assert rows[:, 2].tolist() == [0.0, 0.3, 1.0]
    assert np.allclose(rows.sum(axis=1), 1.0)


def test_both_losses_fall_as_the_correct_probability_rises():
    curves = loss_curves(linear_grid(51), label=2, num_classes=10, delta=1e-7)
    assert np.all(np.diff(curves.sse) < 0)
    assert np.all(np.diff(curves.cee) < 0)


def test_without_delta_only_p_zero_is_infinite_and_nothing_is_nan():
    curves = loss_curves(linear_grid(11), label=2, num_classes=10, delta=1e-7)
    assert curves.cee_without_delta[0] == math.inf
    assert np.all(np.isfinite(curves.cee_without_delta[1:]))
    assert np.all(np.isfinite(curves.cee))


def test_near_zero_cee_with_delta_levels_off_while_without_it_keeps_rising():
    curves = loss_curves(near_zero_grid(25), label=2, num_classes=10, delta=1e-7)
    assert curves.cee[0] == pytest.approx(-math.log(1e-7), rel=1e-4)
    assert curves.cee_without_delta[0] == pytest.approx(-math.log(1e-12))
