"""Tests for the chapter's activations and losses, pinned to the book's numbers."""

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchnet.nn import (
    cross_entropy_error,
    numerical_diff,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    sum_squares_error,
)

T = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
Y1 = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
Y2 = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])


def _batch(seed: int = 0, n: int = 7, k: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random softmax outputs, their integer labels and the same labels one-hot."""
    rng = np.random.default_rng(seed)
    y = softmax(rng.standard_normal((n, k)))
    labels = rng.integers(0, k, n)
    return y, labels, np.eye(k)[labels]


def test_sum_squares_error_chapter_values():
    assert sum_squares_error(Y1, T) == pytest.approx(0.0975)
    assert sum_squares_error(Y2, T) == pytest.approx(0.5975)


def test_cross_entropy_error_chapter_values():
    assert cross_entropy_error(Y1, T) == pytest.approx(0.510825457, abs=1e-6)
    assert cross_entropy_error(Y2, T) == pytest.approx(2.302584092, abs=1e-6)
    assert cross_entropy_error(Y1, T) == pytest.approx(-np.log(0.6), abs=1e-6)


def test_cross_entropy_error_single_sample_label_forms_agree():
    assert cross_entropy_error(Y1, 2) == pytest.approx(cross_entropy_error(Y1, T))
    assert cross_entropy_error(Y2, np.array([2])) == pytest.approx(cross_entropy_error(Y2, T))


def test_cross_entropy_error_labels_and_one_hot_agree_on_batch():
    y, labels, one_hot = _batch()
    assert cross_entropy_error(y, labels) == pytest.approx(cross_entropy_error(y, one_hot))


def test_losses_on_batch_are_means_of_per_sample_losses():
    y, labels, one_hot = _batch(seed=1)
    per_cee = [cross_entropy_error(row, label) for row, label in zip(y, labels, strict=True)]
    per_sse = [sum_squares_error(row, t) for row, t in zip(y, one_hot, strict=True)]
    assert cross_entropy_error(y, labels) == pytest.approx(np.mean(per_cee))
    assert sum_squares_error(y, one_hot) == pytest.approx(np.mean(per_sse))
    batch = np.stack([Y1, Y2])
    assert sum_squares_error(batch, np.stack([T, T])) == pytest.approx((0.0975 + 0.5975) / 2)


def test_cross_entropy_error_is_finite_for_zero_probability():
    assert np.isfinite(cross_entropy_error(np.array([1.0, 0.0]), 1))
    assert float(cross_entropy_error(np.array([1.0, 0.0]), 1)) == pytest.approx(-np.log(1e-7))


def test_softmax_rows_sum_to_one_and_shift_invariant():
    x = np.random.default_rng(2).standard_normal((4, 6))
    y = softmax(x)
    assert y.shape == x.shape
    np.testing.assert_allclose(y.sum(axis=1), 1.0)
    np.testing.assert_allclose(softmax(x + 123.0), y, rtol=1e-12)
    np.testing.assert_allclose(softmax(x[0]), y[0])


def test_softmax_chapter_example():
    y = softmax(np.array([0.3, 2.9, 4.0]))
    np.testing.assert_allclose(y, [0.01821127, 0.24519181, 0.73659691], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_large_inputs_no_warning_and_dtype_kept(dtype):
    x = np.array([[1010, 1000, 990], [-1000, 1000, 0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = softmax(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-6)
    assert y[1, 1] == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_extremes_no_warning_and_dtype_kept(dtype):
    x = np.array([-1000, -100, 0, 100, 1000], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = sigmoid(x)
    assert y.dtype == dtype
    assert y[0] == 0.0 and y[-1] == 1.0
    assert y[1] < 1e-30 and y[2] == 0.5 and y[3] == 1.0


def test_sigmoid_matches_definition_in_moderate_range():
    x = np.linspace(-20, 20, 401)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-7, atol=1e-15)


def test_sigmoid_grad_takes_the_input_as_the_book_does_and_matches_numerical_derivative():
    for x in (-3.0, -0.5, 0.0, 1.2, 4.0):
        expected = numerical_diff(lambda v: float(sigmoid(v)), x)
        assert float(sigmoid_grad(x)) == pytest.approx(expected, abs=1e-8)
    assert float(sigmoid_grad(0.0)) == 0.25  # the book: (1 - sigmoid(0)) * sigmoid(0)


def test_relu_and_grad():
    x = np.array([-2.0, -0.0, 0.0, 0.5, 3.0], dtype=np.float32)
    np.testing.assert_array_equal(relu(x), [0, 0, 0, 0.5, 3])
    np.testing.assert_array_equal(relu_grad(x), [0, 0, 0, 1, 1])
    assert relu(x).dtype == np.float32 and relu_grad(x).dtype == np.float32


def test_integer_inputs_become_float64():
    assert softmax(np.array([1, 2, 3])).dtype == np.float64
    assert sigmoid(np.array([1, 2])).dtype == np.float64


@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64]),
        shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=8),
        elements=st.floats(-1e4, 1e4, width=32),
    )
)
def test_softmax_property_rows_are_distributions(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = softmax(x)
    assert y.dtype == x.dtype
    assert np.all((y >= 0) & (y <= 1))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-5)


@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64]),
        shape=hnp.array_shapes(max_dims=2, max_side=8),
        elements=st.floats(allow_nan=False, allow_infinity=True, width=32),
    )
)
def test_sigmoid_property_bounded_and_symmetric(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = sigmoid(x)
        y_neg = sigmoid(-x)
    assert np.all((y >= 0) & (y <= 1))
    np.testing.assert_allclose(y + y_neg, 1.0, rtol=1e-6)
