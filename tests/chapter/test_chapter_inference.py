"""The batch-processing lesson: the test set predicted one image at a time and in batches."""

import numpy as np
import pytest

from scratchnet.chapter.inference import (
    ONE_AT_A_TIME,
    predicted_labels,
    same_predictions,
    speedup,
    time_inference,
)
from scratchnet.data import load_dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.training import train


@pytest.fixture(scope="module")
def trained():
    """A digits net trained 5 epochs (far better than chance: its labels mean something)."""
    data = load_dataset("digits", seed=0)
    net = TwoLayerNet(64, 20, 10, weight_init_std=0.1, seed=0)
    train(net, data, lr=0.5, batch_size=32, epochs=5, seed=0)
    return net, data


@pytest.mark.parametrize("batch_size", [1, 7, 100, 1000])
def test_every_batch_size_gives_the_labels_of_one_image_at_a_time(trained, batch_size):
    net, data = trained
    single = predicted_labels(net, data.x_test, ONE_AT_A_TIME)
    assert single.shape == data.t_test.shape
    np.testing.assert_array_equal(predicted_labels(net, data.x_test, batch_size), single)


def test_the_accuracy_is_that_of_the_net_and_the_same_every_way(trained):
    net, data = trained
    timings = [time_inference(net, data.x_test, data.t_test, b, 1) for b in (0, 1, 10, 1000)]
    assert same_predictions(timings)
    assert {t.accuracy for t in timings} == {net.accuracy(data.x_test, data.t_test)}
    assert timings[0].accuracy > 0.5


def test_time_per_image_and_speed_up_come_from_the_fastest_repeat(trained):
    net, data = trained
    single = time_inference(net, data.x_test, data.t_test, ONE_AT_A_TIME, 2)
    batched = time_inference(net, data.x_test, data.t_test, 100, 2)
    assert single.seconds_per_image == single.seconds / len(data.t_test)
    assert speedup(single, batched) == pytest.approx(single.seconds / batched.seconds)
    assert speedup(single, single) == 1.0
