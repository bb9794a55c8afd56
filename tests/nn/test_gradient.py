"""Tests for numerical differentiation and gradient descent, pinned to the book's numbers."""

import numpy as np
import pytest

from scratchnet.nn import gradient_descent, numerical_diff, numerical_gradient


def function_1(x: float) -> float:
    """The chapter's y = 0.01 x^2 + 0.1 x."""
    return 0.01 * x**2 + 0.1 * x


def function_2(x: np.ndarray) -> float:
    """The chapter's f(x0, x1) = x0^2 + x1^2, summed over any shape."""
    return float(np.sum(x**2))


def test_numerical_diff_chapter_values():
    assert numerical_diff(function_1, 5.0) == pytest.approx(0.2, abs=1e-6)
    assert numerical_diff(function_1, 10.0) == pytest.approx(0.3, abs=1e-6)


@pytest.mark.parametrize(
    ("point", "expected"),
    [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)), ((3.0, 0.0), (6.0, 0.0))],
)
def test_numerical_gradient_chapter_values(point, expected):
    grad = numerical_gradient(function_2, np.array(point))
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, expected, atol=1e-6)


def test_numerical_gradient_on_matrix_and_scalar_array():
    x = np.arange(6, dtype=np.float64).reshape(2, 3) - 2.5
    grad = numerical_gradient(function_2, x)
    assert grad.shape == (2, 3)
    np.testing.assert_allclose(grad, 2 * x, atol=1e-6)
    np.testing.assert_allclose(numerical_gradient(function_2, np.array(1.5)), 3.0, atol=1e-6)


def test_numerical_gradient_float32_keeps_dtype():
    grad = numerical_gradient(function_2, np.array([3.0, 4.0], dtype=np.float32))
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, [6.0, 8.0], rtol=1e-2)


def test_numerical_gradient_restores_x_bit_for_bit():
    x = np.random.default_rng(0).standard_normal((3, 4))
    before = x.tobytes()
    numerical_gradient(lambda v: float(np.sum(np.sin(v))), x)
    assert x.tobytes() == before


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.random.default_rng(1).standard_normal(5)
    before = x.tobytes()
    calls = []

    def flaky(v: np.ndarray) -> float:
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom")
        return float(np.sum(v))

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(flaky, x)
    assert x.tobytes() == before


def test_numerical_gradient_passes_and_perturbs_the_same_array():
    x = np.zeros(3)
    seen = []

    def f(v: np.ndarray) -> float:
        seen.append(v is x)
        return float(x[1])  # reads the closed-over array, as TwoLayerNet does

    np.testing.assert_allclose(numerical_gradient(f, x), [0.0, 1.0, 0.0], atol=1e-9)
    assert all(seen) and len(seen) == 6


def test_numerical_gradient_rejects_integer_arrays():
    with pytest.raises(TypeError, match="int64"):
        numerical_gradient(function_2, np.array([3, 4], dtype=np.int64))


def test_gradient_descent_converges_from_chapter_start():
    init = np.array([-3.0, 4.0])
    x = gradient_descent(function_2, init, lr=0.1, step_num=100)
    assert np.linalg.norm(x) < 1e-8
    np.testing.assert_array_equal(init, [-3.0, 4.0])


def test_gradient_descent_too_large_learning_rate_diverges():
    x = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=10.0, step_num=100)
    assert np.linalg.norm(x) > 1e10


def test_gradient_descent_too_small_learning_rate_barely_moves():
    x = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=1e-10, step_num=100)
    np.testing.assert_allclose(x, [-3.0, 4.0], atol=1e-6)
    assert not np.array_equal(x, [-3.0, 4.0])


def test_gradient_descent_path_includes_start():
    init = [-3, 4]  # ints and lists are copied into float64
    x, path = gradient_descent(function_2, init, lr=0.1, step_num=20, return_path=True)
    assert path.shape == (21, 2) and path.dtype == np.float64
    np.testing.assert_array_equal(path[0], [-3.0, 4.0])
    np.testing.assert_array_equal(path[-1], x)
    np.testing.assert_allclose(path[1], [-3.0 * 0.8, 4.0 * 0.8], atol=1e-9)
    assert init == [-3, 4]


def test_gradient_descent_zero_steps_returns_copy_of_start():
    init = np.array([[1.0, 2.0]])
    x, path = gradient_descent(function_2, init, step_num=0, return_path=True)
    assert x is not init and path.shape == (1, 1, 2)
    np.testing.assert_array_equal(x, init)
