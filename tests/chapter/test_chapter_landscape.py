"""Why the chapter trains on the loss: along one weight, accuracy is flat almost everywhere."""

import numpy as np
import pytest

from scratchnet.chapter.landscape import finite_differences, flat_fraction, sweep_weight
from scratchnet.data import load_dataset
from scratchnet.nn import TwoLayerNet


@pytest.fixture(scope="module")
def problem():
    data = load_dataset("digits", seed=0, train_size=300)
    net = TwoLayerNet(64, 10, 10, weight_init_std=0.3, dtype=np.float64, seed=0)
    return net, data.x_train, data.t_train


def test_accuracy_is_flat_at_most_steps_and_the_loss_at_none(problem):
    net, x, t = problem
    sweep = sweep_weight(net, x, t, "W2", (0, 0), span=3.0, points=101)
    assert flat_fraction(sweep.accuracies, sweep.values) > 0.8
    assert flat_fraction(sweep.losses, sweep.values) == 0.0


def test_the_sweep_is_centred_on_the_weight_and_puts_it_back(problem):
    net, x, t = problem
    before = net.params["W2"].copy()
    sweep = sweep_weight(net, x, t, "W2", (1, 2), span=1.0, points=5)
    assert np.array_equal(net.params["W2"], before)
    assert sweep.values[2] == before[1, 2]
    assert sweep.values[0] == pytest.approx(before[1, 2] - 1.0)


def test_flat_fraction_counts_exactly_zero_slopes():
    x = np.arange(5.0)
    assert flat_fraction(np.array([0.0, 0.0, 1.0, 1.0, 1.0]), x) == 0.75
    assert flat_fraction(x**2, x) == 0.0
    assert finite_differences(x**2, x).tolist() == [1.0, 3.0, 5.0, 7.0]
