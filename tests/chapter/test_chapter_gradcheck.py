"""Gradient check: backprop agrees with numerical gradients and is far faster."""

import numpy as np
import pytest

from scratchnet.chapter.gradcheck import (
    Size,
    check_size,
    gradient_errors,
    make_problem,
    relative_error,
    seconds_per_call,
    sizes_from,
)
from scratchnet.nn import TwoLayerNet

SMALL = Size(input=6, hidden=4, output=3, batch=5)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_backprop_agrees_with_the_chapter_numerical_gradient_to_about_1e_6(activation):
    net, x, t = make_problem(SMALL, weight_init_std=0.1, activation=activation, seed=0)
    errors, _ = gradient_errors(net, x, t)
    assert set(errors) == {"W1", "b1", "W2", "b2"}
    assert max(errors.values()) < 2e-6


def test_against_the_delta_free_loss_only_the_numerical_error_remains():
    net, x, t = make_problem(SMALL, weight_init_std=0.1, activation="sigmoid", seed=0)
    with_delta, without = gradient_errors(net, x, t)
    assert max(without.values()) < 1e-8
    assert max(without.values()) < min(with_delta.values())


@pytest.mark.parametrize(
    "levers",
    [
        {"weight_decay_lambda": 0.1},
        {"dropout_ratio": 0.5},
        {"dropout_ratio": 0.3, "weight_decay_lambda": 0.1},
    ],
)
def test_the_delta_free_check_holds_with_weight_decay_and_dropout(levers):
    """The penalty is in both losses, and one dropout mask is held for all three gradients."""
    _, x, t = make_problem(SMALL, weight_init_std=0.1, activation="sigmoid", seed=0)
    net = TwoLayerNet(6, 4, 3, 0.1, dtype=np.float64, seed=0, **levers)
    with_delta, without = gradient_errors(net, x, t)
    assert max(without.values()) < 1e-8
    assert max(with_delta.values()) < 2e-6
    assert not net.dropout.held


def test_relative_error_is_zero_for_equal_arrays_and_for_two_zero_arrays():
    a = np.array([1.0, -2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0


def test_relative_error_does_not_depend_on_scale():
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.1])
    assert relative_error(1e-6 * a, 1e-6 * b) == pytest.approx(relative_error(a, b))


def test_a_size_counts_its_weights_and_biases():
    assert Size(64, 50, 10, 100).num_params == 64 * 50 + 50 + 50 * 10 + 10
    assert sizes_from([[4, 3, 2, 1]]) == [Size(4, 3, 2, 1)]


def test_the_numerical_gradient_is_many_times_slower_than_backprop():
    size = Size(input=16, hidden=10, output=10, batch=10)  # 280 parameters: ~400x slower
    check = check_size(size, 0.1, "sigmoid", seed=0, min_time=0.005, repeats=3)
    assert check.slowdown > 20


def test_a_timing_repeats_the_call_until_min_time_has_passed():
    calls = []
    seconds = seconds_per_call(lambda: calls.append(1), min_time=0.001, repeats=2)
    assert seconds > 0
    assert len(calls) > 2
