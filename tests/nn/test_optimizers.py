"""The book's optimizers: each rule checked over two steps against the formula worked by hand,
on a two-element parameter with fixed gradients (plain Python floats, element by element)."""

import math

import numpy as np
import pytest

from scratchnet.core.errors import ConfigError
from scratchnet.nn import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    RMSprop,
    make_optimizer,
)

P0 = [1.0, -2.0]
G1 = [0.5, -1.5]  # the gradient at the first step
G2 = [0.25, 3.0]  # and at the second


def two_steps(optimizer) -> list[float]:
    """The parameter after `optimizer` updates it with G1, then G2 (float64)."""
    params = {"w": np.array(P0)}
    for g in (G1, G2):
        optimizer.update(params, {"w": np.array(g)})
    return params["w"].tolist()


def by_hand(rule) -> list[float]:
    """`rule(p, g1, g2)` per element: the formula's two steps in Python floats."""
    return [rule(p, g1, g2) for p, g1, g2 in zip(P0, G1, G2, strict=True)]


def test_sgd_subtracts_lr_times_the_gradient():
    def rule(p, g1, g2):
        p -= 0.1 * g1
        return p - 0.1 * g2

    assert two_steps(SGD(lr=0.1)) == pytest.approx(by_hand(rule), rel=1e-15)


def test_momentum_keeps_a_velocity():
    def rule(p, g1, g2):
        v = 0.0
        v = 0.9 * v - 0.1 * g1
        p += v
        v = 0.9 * v - 0.1 * g2
        return p + v

    assert two_steps(Momentum(lr=0.1, momentum=0.9)) == pytest.approx(by_hand(rule), rel=1e-15)


def test_nesterov_follows_the_book_order():
    def rule(p, g1, g2):
        v = 0.0
        for g in (g1, g2):
            p += 0.8**2 * v
            p -= (1 + 0.8) * 0.1 * g
            v *= 0.8
            v -= 0.1 * g
        return p

    assert two_steps(Nesterov(lr=0.1, momentum=0.8)) == pytest.approx(by_hand(rule), rel=1e-15)


def test_adagrad_divides_by_the_root_of_the_summed_squares():
    def rule(p, g1, g2):
        h = 0.0
        for g in (g1, g2):
            h += g * g
            p -= 0.5 * g / (math.sqrt(h) + 1e-7)
        return p

    assert two_steps(AdaGrad(lr=0.5)) == pytest.approx(by_hand(rule), rel=1e-14)


def test_rmsprop_decays_the_squares():
    def rule(p, g1, g2):
        h = 0.0
        for g in (g1, g2):
            h = 0.9 * h + (1 - 0.9) * g * g
            p -= 0.5 * g / (math.sqrt(h) + 1e-7)
        return p

    assert two_steps(RMSprop(lr=0.5, decay_rate=0.9)) == pytest.approx(by_hand(rule), rel=1e-14)


def test_adam_corrects_its_moments_through_lr_t():
    def rule(p, g1, g2):
        m = v = 0.0
        for t, g in ((1, g1), (2, g2)):
            lr_t = 0.3 * math.sqrt(1 - 0.99**t) / (1 - 0.8**t)
            m += (1 - 0.8) * (g - m)
            v += (1 - 0.99) * (g * g - v)
            p -= lr_t * m / (math.sqrt(v) + 1e-7)
        return p

    adam = Adam(lr=0.3, beta1=0.8, beta2=0.99)
    assert two_steps(adam) == pytest.approx(by_hand(rule), rel=1e-14)
    assert adam.iter == 2


def test_the_first_adam_step_is_about_lr_whatever_the_gradient_scale():
    params = {"w": np.array([1.0, 1.0])}
    Adam(lr=0.01).update(params, {"w": np.array([1e-2, 1e4])})
    assert params["w"] == pytest.approx([0.99, 0.99], abs=1e-5)


@pytest.mark.parametrize(
    ("name", "defaults"),
    [
        ("sgd", {"lr": 0.01}),
        ("momentum", {"lr": 0.01, "momentum": 0.9}),
        ("nesterov", {"lr": 0.01, "momentum": 0.9}),
        ("adagrad", {"lr": 0.01}),
        ("rmsprop", {"lr": 0.01, "decay_rate": 0.99}),
        ("adam", {"lr": 0.001, "beta1": 0.9, "beta2": 0.999}),
    ],
)
def test_the_defaults_are_the_books(name, defaults):
    optimizer = OPTIMIZERS[name]()
    assert {key: getattr(optimizer, key) for key in defaults} == defaults


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_update_is_in_place_in_the_dtype_and_leaves_the_gradients_alone(name, dtype):
    w = np.array([[0.5, -1.0], [2.0, 0.0]], dtype=dtype)
    params, grads = {"W": w}, {"W": np.array([[0.1, 0.2], [-0.3, 0.0]], dtype=dtype)}
    before = grads["W"].copy()
    optimizer = make_optimizer(name, 0.1)
    for _ in range(2):
        optimizer.update(params, grads)
    assert params["W"] is w and w.dtype == dtype
    assert not np.array_equal(w, [[0.5, -1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(grads["W"], before)
    assert all(a.dtype == dtype for a in optimizer.state().values())


def test_state_belongs_to_one_optimizer():
    first, second = Momentum(lr=0.1), Momentum(lr=0.1)
    params = {"w": np.array([1.0])}
    first.update(params, {"w": np.array([1.0])})
    assert first.state()["v.w"].tolist() == [-0.1]
    assert second.state() == {}


def test_make_optimizer_passes_the_hyperparameters():
    adam = make_optimizer("adam", 0.02, beta1=0.5)
    assert isinstance(adam, Adam) and (adam.lr, adam.beta1, adam.beta2) == (0.02, 0.5, 0.999)


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda: make_optimizer("adamw", 0.1), "optimizer='adamw'"),
        (lambda: SGD(lr=0.0), "lr=0.0"),
        (lambda: Momentum(momentum=1.0), "momentum=1.0"),
        (lambda: RMSprop(decay_rate=-0.1), "decay_rate=-0.1"),
        (lambda: Adam(beta2=1.0), "beta2=1.0"),
    ],
)
def test_bad_hyperparameters_raise_config_error_naming_them(make, shown):
    with pytest.raises(ConfigError, match=shown) as info:
        make()
    assert "allowed" in str(info.value)
