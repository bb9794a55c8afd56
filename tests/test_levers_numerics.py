"""Every lever (optimizer, weight decay, dropout) in the fast path computes what the reference
path computes (`TwoLayerNet.gradient` + the optimizer's `update`), and repeatably.

As in test_train_numerics.py: the fast path is `Workspace.step` / `train()` on integer
labels; the reference is `reference_step` / `train()` on one-hot labels.
"""

import numpy as np
import pytest

from scratchnet.data import Dataset, load_dataset
from scratchnet.data.features import RowReader
from scratchnet.nn import SGD, TwoLayerNet, make_optimizer
from scratchnet.nn.optimizers import flat_buffer
from scratchnet.training import Callback, train
from scratchnet.training.fast import Workspace
from scratchnet.training.metrics import BATCH_LOSS, PENALTY
from scratchnet.training.steps import reference_step

# name -> (optimizer, lr, net keywords)
LEVERS = {
    "sgd": ("sgd", 0.3, {}),
    "momentum": ("momentum", 0.1, {}),
    "nesterov": ("nesterov", 0.1, {}),
    "adagrad": ("adagrad", 0.1, {}),
    "rmsprop": ("rmsprop", 0.01, {}),
    "adam": ("adam", 0.01, {}),
    "weight decay": ("sgd", 0.3, {"weight_decay_lambda": 0.01}),
    "dropout": ("sgd", 0.3, {"dropout_ratio": 0.3}),
    "adam, decay and dropout": ("adam", 0.01, {"weight_decay_lambda": 0.01, "dropout_ratio": 0.3}),
}


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits", seed=0, val_fraction=0.1)


def make_net(data: Dataset, dtype=np.float64, seed=0, std=0.5, **levers) -> TwoLayerNet:
    return TwoLayerNet(data.input_size, 30, data.num_classes, std, dtype=dtype, seed=seed, **levers)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lever", list(LEVERS))
def test_workspace_step_equals_the_reference_step(digits, lever, dtype):
    name, lr, levers = LEVERS[lever]
    nets = [make_net(digits, dtype, **levers) for _ in range(2)]
    for net in nets:  # the same mask stream for both paths
        net.dropout.rng = np.random.default_rng(11)
    plain, fast = nets
    reference_opt, fast_opt = make_optimizer(name, lr), make_optimizer(name, lr)
    workspace, reader = Workspace(fast), RowReader(digits.x_train, 1.0, fast.dtype)
    rng = np.random.default_rng(1)
    for size in (32, 32, 7):
        rows = rng.integers(0, digits.train_size, size)
        reference_step(plain, digits.x_train[rows], digits.t_train[rows], reference_opt)
        workspace.step(reader, digits.t_train, rows, fast_opt)
    rtol = 2e-5 if dtype == np.float32 else 1e-12
    for key, value in plain.params.items():
        assert fast.params[key].dtype == np.dtype(dtype)
        np.testing.assert_allclose(fast.params[key], value, rtol=rtol, atol=rtol * 1e-2)


def test_plain_sgd_keeps_its_folded_update_bit_for_bit(digits):
    """Plain SGD's step is still lr folded into dL/da2, so runs without levers are unchanged."""
    net, folded = make_net(digits, np.float32), make_net(digits, np.float32)
    rows = np.random.default_rng(2).integers(0, digits.train_size, 32)
    Workspace(net).step(RowReader(digits.x_train, 1.0, net.dtype), digits.t_train, rows, SGD(0.3))
    p, x, t = folded.params, digits.x_train[rows], digits.t_train[rows]
    z1 = x @ p["W1"]
    z1 += p["b1"]
    z1 *= 0.5
    np.tanh(z1, out=z1)
    z1 += 1
    z1 *= 0.5
    d2 = (p["W2"].T @ z1.T) + p["b2"][:, None]
    d2 -= d2.max(axis=0)
    np.exp(d2, out=d2)
    d2 /= d2.sum(axis=0)
    d2[t, np.arange(32)] -= 1
    d2 *= np.float32(0.3 / 32)
    dw2, d1 = z1.T @ d2.T, d2.T @ p["W2"].T
    d1 *= z1
    d1 *= 1 - z1
    for key, step in (("W2", dw2), ("b2", d2.sum(axis=1)), ("W1", x.T @ d1), ("b1", d1.sum(0))):
        p[key] -= step
    for key in p:
        np.testing.assert_array_equal(net.params[key], p[key])


def test_block_evaluation_scales_by_one_minus_the_dropout_ratio(digits):
    net = make_net(digits, dropout_ratio=0.4)
    reader, workspace = RowReader(digits.x_test, 1.0, net.dtype), Workspace(net)
    loss_sum, correct = workspace.block_sums(reader, digits.t_test, 0, len(digits.t_test))
    loss, acc = net.evaluate(digits.x_test, digits.t_test)
    assert loss_sum / len(digits.t_test) == pytest.approx(loss, rel=1e-12)
    assert correct / len(digits.t_test) == acc


def run(data: Dataset, lever: str, one_hot_data: Dataset | None = None, **kw) -> list[dict]:
    name, lr, levers = LEVERS[lever]
    net = make_net(data, **levers)
    options = dict(lr=lr, optimizer=name, batch_size=32, epochs=3, seed=3, batch_loss=True)
    return train(net, one_hot_data or data, **(options | kw)).history


@pytest.mark.parametrize("lever", list(LEVERS))
def test_a_run_on_the_fast_path_equals_the_reference_path(digits, lever):
    one_hot = load_dataset("digits", seed=0, val_fraction=0.1, one_hot_label=True)
    fast, reference = run(digits, lever), run(digits, lever, one_hot)
    assert [r["epoch"] for r in fast] == [r["epoch"] for r in reference] == [0, 1, 2, 3]
    for a, b in zip(fast, reference, strict=True):
        assert a.keys() == b.keys()
        for key in ("train_loss", "val_loss", "test_loss", BATCH_LOSS, PENALTY):
            if key in a:
                assert a[key] == pytest.approx(b[key], rel=1e-9), (a["epoch"], key)
        for key in ("train_acc", "val_acc", "test_acc"):
            assert a[key] == pytest.approx(b[key], abs=1.5 / len(digits.t_test))
    assert (PENALTY in fast[0]) == ("decay" in lever)
    assert BATCH_LOSS not in fast[0] and BATCH_LOSS in fast[1]


@pytest.mark.parametrize("lever", ["adam", "dropout", "adam, decay and dropout"])
def test_same_seed_same_bits_whatever_the_evaluation_threads(digits, lever):
    first = run(digits, lever, eval_threads=1)
    assert run(digits, lever, eval_threads=1) == first
    assert run(digits, lever, eval_threads=2) == first
    assert run(digits, lever, eval_threads=2, overlap_evaluation=False) == first


def test_dropout_masks_follow_the_seed_and_move_no_batch(digits):
    class Rows(Callback):
        def __init__(self):
            self.seen = []

        def on_batch_begin(self, iteration, rows):
            self.seen.append(rows.copy())

    plain, dropped = Rows(), Rows()
    without = run(digits, "sgd", callbacks=[plain])
    with_dropout = run(digits, "dropout", callbacks=[dropped])
    other_seed = run(digits, "dropout", seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(plain.seen, dropped.seen, strict=True))
    assert with_dropout[-1]["train_loss"] != without[-1]["train_loss"]
    assert other_seed[-1]["train_loss"] != with_dropout[-1]["train_loss"]


def test_the_logged_losses_are_the_data_loss_and_the_penalty_is_beside_them(digits):
    net = make_net(digits, weight_decay_lambda=0.05)
    history = train(net, digits, lr=0.3, batch_size=32, epochs=2, seed=0).history
    final = history[-1]
    assert final["train_loss"] == pytest.approx(net.evaluate(digits.x_train, digits.t_train)[0])
    assert final[PENALTY] == pytest.approx(net.weight_decay_penalty(), rel=1e-12)
    assert final[PENALTY] < history[0][PENALTY]  # the decay shrinks the weights


def test_each_run_starts_its_optimizer_afresh(digits):
    """Two runs of one config give the same bits: no optimizer state is carried over."""
    first = train(make_net(digits), digits, lr=0.01, optimizer="adam", batch_size=32, epochs=2)
    again = train(make_net(digits), digits, lr=0.01, optimizer="adam", batch_size=32, epochs=2)
    assert first.history == again.history


def test_a_nets_parameters_are_views_of_one_buffer_for_the_optimizer():
    net = TwoLayerNet(6, 4, 3, seed=0)
    flat = flat_buffer(net.params)
    assert flat is not None and flat.size == 6 * 4 + 4 + 4 * 3 + 3
    assert all(p.base is flat for p in net.params.values())


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_a_replaced_parameter_array_is_still_the_one_updated(digits, name):
    """Packing is an optimization: a parameter swapped for a new array is updated all the same."""
    packed, loose = make_net(digits), make_net(digits)
    loose.params["W1"] = loose.params["W1"].copy()  # no longer a view of the buffer
    assert flat_buffer(loose.params) is None
    rows = np.arange(32)
    for net in (packed, loose):
        reader, optimizer = RowReader(digits.x_train, 1.0, net.dtype), make_optimizer(name, 0.1)
        workspace = Workspace(net)
        for _ in range(2):
            workspace.step(reader, digits.t_train, rows, optimizer)
    for key in packed.params:
        np.testing.assert_array_equal(packed.params[key], loose.params[key])
