"""Tests for TwoLayerNet: parameters, predictions, evaluation and a gradient check."""

import numpy as np
import pytest

from scratchnet.core.errors import ConfigError
from scratchnet.nn import TwoLayerNet


def _data(seed: int, n: int = 6, d: int = 5, k: int = 3):
    """Random inputs with integer labels and the same labels one-hot."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    return rng.standard_normal((n, d)), labels, np.eye(k)[labels]


def _relative_error(a: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> float:
    """max |a - b| / (max |a| + max |b|), per parameter array, so tiny entries don't dominate."""
    scale = np.max(np.abs(a)) + np.max(np.abs(b))
    return float(np.max(np.abs(a - b)) / max(scale, eps))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, "float32", "float64"])
def test_params_shapes_and_dtypes(dtype):
    net = TwoLayerNet(784, 50, 10, dtype=dtype, seed=0)
    shapes = {name: p.shape for name, p in net.params.items()}
    assert shapes == {"W1": (784, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}
    assert all(p.dtype == np.dtype(dtype) for p in net.params.values())
    assert not net.params["b1"].any() and not net.params["b2"].any()
    assert np.std(net.params["W1"]) == pytest.approx(0.01, rel=0.05)


def test_default_dtype_is_float32():
    assert TwoLayerNet(4, 3, 2).params["W1"].dtype == np.float32


def test_same_seed_same_weights_and_rng_accepted():
    a, b = TwoLayerNet(6, 4, 3, seed=7), TwoLayerNet(6, 4, 3, seed=7)
    c = TwoLayerNet(6, 4, 3, rng=np.random.default_rng(7))
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
        np.testing.assert_array_equal(a.params[name], c.params[name])
    assert not np.array_equal(a.params["W1"], TwoLayerNet(6, 4, 3, seed=8).params["W1"])


def test_float32_and_float64_nets_share_weights_for_a_seed():
    w32 = TwoLayerNet(6, 4, 3, seed=3, dtype=np.float32).params["W1"]
    w64 = TwoLayerNet(6, 4, 3, seed=3, dtype=np.float64).params["W1"]
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_predict_rows_are_probabilities(activation):
    x, _, _ = _data(0, n=8)
    y = TwoLayerNet(5, 4, 3, 1.0, activation=activation, seed=0).predict(x)
    assert y.shape == (8, 3) and y.dtype == np.float32
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-6)


def test_loss_and_accuracy_agree_for_labels_and_one_hot():
    x, labels, one_hot = _data(1, n=20)
    net = TwoLayerNet(5, 4, 3, 1.0, seed=1)
    assert net.loss(x, labels) == pytest.approx(net.loss(x, one_hot), rel=1e-6)
    acc = net.accuracy(x, labels)
    assert isinstance(acc, float) and acc == net.accuracy(x, one_hot)
    expected = np.mean(net.predict(x).argmax(axis=1) == labels)
    assert acc == pytest.approx(expected)


@pytest.mark.parametrize("chunk_size", [1, 7, 10000])
def test_evaluate_equals_loss_and_accuracy(chunk_size):
    x, labels, one_hot = _data(2, n=50)
    net = TwoLayerNet(5, 4, 3, 1.0, seed=2)
    for t in (labels, one_hot):
        loss, acc = net.evaluate(x, t, chunk_size=chunk_size)
        assert isinstance(loss, float) and isinstance(acc, float)
        assert loss == pytest.approx(float(net.loss(x, t)), rel=1e-6)
        assert acc == net.accuracy(x, t)


def test_numerical_gradient_leaves_params_unchanged():
    x, labels, _ = _data(3)
    net = TwoLayerNet(5, 4, 3, 0.5, dtype=np.float64, seed=3)
    before = {name: p.tobytes() for name, p in net.params.items()}
    net.numerical_gradient(x, labels)
    assert all(net.params[name].tobytes() == before[name] for name in before)


# Seeds verified to keep every relu pre-activation well clear of its kink.
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("seed", [0, 4])
def test_gradient_check_backprop_matches_numerical(activation, seed):
    x, labels, one_hot = _data(100 + seed)
    net = TwoLayerNet(5, 4, 3, 0.5, activation=activation, dtype=np.float64, seed=seed)
    numerical = net.numerical_gradient(x, labels)
    for t in (labels, one_hot):
        backprop = net.gradient(x, t)
        assert backprop.keys() == numerical.keys() == {"W1", "b1", "W2", "b2"}
        for name, grad in backprop.items():
            assert grad.shape == net.params[name].shape and grad.dtype == np.float64
            assert _relative_error(numerical[name], grad) < 1e-6, name


def test_float32_gradient_matches_float64():
    x, labels, _ = _data(5, n=32)
    g32 = TwoLayerNet(5, 4, 3, 0.5, activation="relu", seed=5).gradient(x, labels)
    g64 = TwoLayerNet(5, 4, 3, 0.5, activation="relu", seed=5, dtype=np.float64).gradient(x, labels)
    for name in g64:
        assert g32[name].dtype == np.float32
        assert _relative_error(g32[name].astype(np.float64), g64[name]) < 1e-5


def test_gradient_descent_step_reduces_loss():
    x, labels, _ = _data(6, n=64)
    net = TwoLayerNet(5, 8, 3, 0.5, seed=6)
    before = net.loss(x, labels)
    for _ in range(20):
        for name, grad in net.gradient(x, labels).items():
            net.params[name] -= 0.5 * grad
    assert net.loss(x, labels) < before


@pytest.mark.parametrize(
    ("kwargs", "shown"),
    [
        ({"input_size": 0}, "0"),
        ({"hidden_size": -3}, "-3"),
        ({"output_size": 2.5}, "2.5"),
        ({"input_size": True}, "True"),
        ({"weight_init_std": 0.0}, "0.0"),
        ({"weight_init_std": float("nan")}, "nan"),
        ({"activation": "tanh"}, "'tanh'"),
        ({"dtype": np.float16}, "float16"),
        ({"dtype": "int32"}, "'int32'"),
        ({"dtype": None}, "None"),
        ({"seed": -1}, "-1"),
        ({"rng": 42}, "42"),
        ({"seed": 1, "rng": np.random.default_rng(1)}, "seed=1"),
    ],
)
def test_bad_arguments_raise_config_error_naming_value(kwargs, shown):
    args = {"input_size": 4, "hidden_size": 3, "output_size": 2} | kwargs
    with pytest.raises(ConfigError, match=shown.replace("(", r"\(")) as info:
        TwoLayerNet(**args)
    assert "\n" not in str(info.value)


def test_evaluate_rejects_bad_chunk_size():
    x, labels, _ = _data(7)
    with pytest.raises(ConfigError, match="chunk_size"):
        TwoLayerNet(5, 4, 3).evaluate(x, labels, chunk_size=0)
