"""The training loop per iteration: one batch loss per update, epochs as `train` gives them."""

import numpy as np
import pytest

from scratchnet.chapter.minibatch import batch_loss_noise, train_recording_batches
from scratchnet.data import load_dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.training import train

SETTINGS = {"lr": 0.2, "batch_size": 16, "epochs": 3, "seed": 0}


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits", seed=0, train_size=200)


def net64() -> TwoLayerNet:
    return TwoLayerNet(64, 10, 10, weight_init_std=0.1, dtype=np.float64, seed=0)


def test_one_batch_loss_per_update_and_epochs_at_whole_epochs(data):
    result = train_recording_batches(net64(), data, **SETTINGS)
    assert result.iterations == 3 * 13  # ceil(200 / 16) updates per epoch
    assert [(p.epoch, p.iteration) for p in result.points] == [(0, 0), (1, 13), (2, 26), (3, 39)]
    assert all(np.isfinite(result.batch_losses))


def test_the_epochs_match_scratchnet_train_on_the_same_settings(data):
    ours = train_recording_batches(net64(), data, **SETTINGS)
    reference = train(net64(), data, **SETTINGS)
    for point, row in zip(ours.points, reference.history, strict=True):
        assert point.metrics["train_loss"] == pytest.approx(row["train_loss"], rel=1e-6)
        assert point.metrics["test_acc"] == pytest.approx(row["test_acc"])


def test_each_epoch_hook_gets_only_the_batch_losses_since_the_last(data):
    seen = []
    result = train_recording_batches(
        net64(), data, **SETTINGS, on_epoch=lambda point, new: seen.append(list(new))
    )
    assert [len(s) for s in seen] == [0, 13, 13, 13]
    assert sum(seen, []) == result.batch_losses


def test_the_batch_losses_scatter_around_the_epoch_loss(data):
    result = train_recording_batches(net64(), data, **SETTINGS)
    last_epoch = result.batch_losses[26:39]
    assert batch_loss_noise(result) == pytest.approx(np.std(last_epoch))
    assert batch_loss_noise(result) > 0
