"""TwoLayerNet with chapter 6's remedies: weight decay, dropout and initialisation by name,
each gradient-checked (backprop against central differences, float64, every parameter)."""

import math

import numpy as np
import pytest

from scratchnet.core.errors import ConfigError
from scratchnet.nn import Dropout, TwoLayerNet, cross_entropy_error

MAX_RELATIVE_ERROR = 1e-6


def batch(seed: int, n: int = 6, d: int = 5, k: int = 3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, k, n)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / (max |a| + max |b|), per parameter array."""
    return float(np.max(np.abs(a - b)) / (np.max(np.abs(a)) + np.max(np.abs(b))))


def net64(activation: str = "sigmoid", seed: int = 0, **levers) -> TwoLayerNet:
    return TwoLayerNet(5, 4, 3, 0.5, activation=activation, dtype=np.float64, seed=seed, **levers)


def gradient_errors(net: TwoLayerNet, x, t) -> dict[str, float]:
    numerical, backprop = net.numerical_gradient(x, t), net.gradient(x, t)
    return {name: relative_error(numerical[name], backprop[name]) for name in backprop}


def a_mask(rows: int, hidden: int, ratio: float, seed: int = 9) -> np.ndarray:
    mask = np.random.default_rng(seed).random((rows, hidden)) > ratio
    assert mask.any() and not mask.all()
    return mask


# Seeds verified to keep every relu pre-activation well clear of its kink (as in
# test_two_layer_net.py: dropout and decay act after the activation, so the same hold).
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("seed", [0, 4])
def test_gradient_check_with_weight_decay(activation, seed):
    x, t = batch(100 + seed)
    net = net64(activation, seed, weight_decay_lambda=0.1)
    errors = gradient_errors(net, x, t)
    assert set(errors) == {"W1", "b1", "W2", "b2"}
    assert max(errors.values()) < MAX_RELATIVE_ERROR, errors


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("seed", [0, 4])
@pytest.mark.parametrize(
    "levers", [{"dropout_ratio": 0.5}, {"dropout_ratio": 0.3, "weight_decay_lambda": 0.1}]
)
def test_gradient_check_with_a_fixed_dropout_mask(activation, seed, levers):
    x, t = batch(100 + seed)
    net = net64(activation, seed, **levers)
    with net.dropout.hold(a_mask(len(x), 4, levers["dropout_ratio"])):
        errors = gradient_errors(net, x, t)
    assert max(errors.values()) < MAX_RELATIVE_ERROR, errors


def test_weight_decay_adds_the_penalty_to_the_loss_and_lambda_w_to_the_gradient():
    x, t = batch(1)
    plain, decayed = net64(seed=1), net64(seed=1, weight_decay_lambda=0.2)
    w1, w2 = plain.params["W1"], plain.params["W2"]
    penalty = 0.5 * 0.2 * (np.sum(w1**2) + np.sum(w2**2))
    assert decayed.weight_decay_penalty() == pytest.approx(penalty, rel=1e-14)
    assert decayed.loss(x, t) == pytest.approx(plain.loss(x, t) + penalty, rel=1e-14)
    g_plain, g_decayed = plain.gradient(x, t), decayed.gradient(x, t)
    np.testing.assert_allclose(g_decayed["W1"], g_plain["W1"] + 0.2 * w1, rtol=1e-14)
    np.testing.assert_allclose(g_decayed["W2"], g_plain["W2"] + 0.2 * w2, rtol=1e-14)
    for bias in ("b1", "b2"):  # biases are not decayed
        np.testing.assert_array_equal(g_decayed[bias], g_plain[bias])


def test_evaluate_reports_the_data_loss_without_the_penalty():
    x, t = batch(2)
    plain, decayed = net64(seed=2), net64(seed=2, weight_decay_lambda=0.5)
    assert decayed.evaluate(x, t) == plain.evaluate(x, t)
    assert plain.weight_decay_penalty() == 0.0


def test_evaluation_never_drops_and_scales_by_one_minus_the_ratio():
    x, t = batch(3)
    plain, dropped = net64(seed=3), net64(seed=3, dropout_ratio=0.25)
    for name in plain.params:  # same weights, same draws
        np.testing.assert_array_equal(plain.params[name], dropped.params[name])
    p = plain.params
    z1 = 1 / (1 + np.exp(-(x @ p["W1"] + p["b1"])))
    logits = 0.75 * z1 @ p["W2"] + p["b2"]
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(dropped.predict(x), expected, rtol=1e-12)
    np.testing.assert_array_equal(dropped.predict(x), dropped.predict(x))  # no draws
    assert dropped.evaluate(x, t)[0] == pytest.approx(float(cross_entropy_error(expected, t)))


def test_training_draws_a_fresh_mask_each_pass_and_a_held_mask_fixes_it():
    x, t = batch(4, n=20)
    net = net64(seed=4, dropout_ratio=0.5)
    first, second = net.predict(x, train_flg=True), net.predict(x, train_flg=True)
    assert not np.array_equal(first, second)
    mask = a_mask(20, 4, 0.5)
    with net.dropout.hold(mask):
        held = [net.predict(x, train_flg=True) for _ in range(2)]
        np.testing.assert_array_equal(net.dropout.mask, mask)
    np.testing.assert_array_equal(held[0], held[1])
    assert not net.dropout.held


def test_a_mask_keeps_each_unit_where_rand_exceeds_the_ratio():
    layer = Dropout(0.3, np.random.default_rng(5))
    out = layer.forward(np.ones((4000, 50)))
    draws = np.random.default_rng(5).random((4000, 50))
    np.testing.assert_array_equal(out, (draws > 0.3).astype(float))
    np.testing.assert_array_equal(layer.backward(np.full((4000, 50), 2.0)), 2.0 * (draws > 0.3))


def test_numerical_gradient_holds_one_mask_for_all_its_losses():
    x, t = batch(6)
    net = net64(seed=6, dropout_ratio=0.5)
    numerical = net.numerical_gradient(x, t)
    mask = net.dropout.mask  # the mask it held, left as the layer's last one
    with net.dropout.hold(mask):
        backprop = net.gradient(x, t)
    assert max(relative_error(numerical[k], backprop[k]) for k in backprop) < MAX_RELATIVE_ERROR
    assert not net.dropout.held


@pytest.mark.parametrize(
    ("name", "scale"), [("xavier", 1.0), ("sigmoid", 1.0), ("he", 2.0), ("relu", 2.0)]
)
def test_init_by_name_uses_each_layers_own_n_in(name, scale):
    unit = TwoLayerNet(784, 100, 10, 1.0, dtype=np.float64, seed=7)
    named = TwoLayerNet(784, 100, 10, name, dtype=np.float64, seed=7)
    np.testing.assert_array_equal(named.params["W1"], math.sqrt(scale / 784) * unit.params["W1"])
    np.testing.assert_array_equal(named.params["W2"], math.sqrt(scale / 100) * unit.params["W2"])
    assert named.weight_init_std == name


@pytest.mark.parametrize(
    ("kwargs", "shown"),
    [
        ({"weight_init_std": "glorot"}, "weight_init_std='glorot'"),
        ({"weight_decay_lambda": -0.1}, "weight_decay_lambda=-0.1"),
        ({"dropout_ratio": 1.0}, "dropout_ratio=1.0"),
        ({"dropout_ratio": float("nan")}, "dropout_ratio=nan"),
    ],
)
def test_bad_levers_raise_config_error_naming_them(kwargs, shown):
    with pytest.raises(ConfigError, match=shown) as info:
        TwoLayerNet(4, 3, 2, **kwargs)
    assert "allowed" in str(info.value)


def test_a_held_mask_of_the_wrong_shape_is_refused():
    x, t = batch(8)
    net = net64(seed=8, dropout_ratio=0.5)
    with net.dropout.hold(a_mask(3, 4, 0.5)), pytest.raises(ConfigError, match="mask"):
        net.gradient(x, t)
