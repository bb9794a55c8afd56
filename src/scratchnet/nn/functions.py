"""Activations and loss functions of the chapter, written to be numerically stable."""

import numpy as np
from numpy.typing import ArrayLike, NDArray

CEE_DELTA = 1e-7  # cross-entropy's guard inside the log: -log(0 + delta) ~ 16.1, never inf


def _as_float(x: ArrayLike) -> NDArray[np.floating]:
    """Return x as a floating array, keeping float32/float64 and promoting ints to float64."""
    arr = np.asarray(x)
    return arr if np.issubdtype(arr.dtype, np.floating) else arr.astype(np.float64)


def sigmoid(x: ArrayLike) -> NDArray[np.floating]:
    """Logistic function 1 / (1 + exp(-x)), as 0.5 * (1 + tanh(x/2)) so no exp can overflow."""
    x = _as_float(x)
    y = np.tanh(x * 0.5)
    y += 1
    y *= 0.5
    return y


def sigmoid_grad(x: ArrayLike) -> NDArray[np.floating]:
    """Derivative of the sigmoid at its input x, as the book defines it: (1 - s(x)) s(x)."""
    y = sigmoid(x)
    return (1 - y) * y


def relu(x: ArrayLike) -> NDArray[np.floating]:
    """Rectified linear unit max(0, x)."""
    return np.maximum(_as_float(x), 0)


def relu_grad(x: ArrayLike) -> NDArray[np.floating]:
    """Derivative of relu: 1 where x > 0, else 0 (0 at the kink)."""
    x = _as_float(x)
    return (x > 0).astype(x.dtype)


def softmax(x: ArrayLike) -> NDArray[np.floating]:
    """Softmax over the last axis (one sample if 1-D, row-wise if 2-D); max is subtracted first."""
    x = _as_float(x)
    e = x - x.max(axis=-1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def sum_squares_error(y: ArrayLike, t: ArrayLike) -> np.floating:
    """E = 1/2 sum (y - t)^2 for one 1-D sample; the mean of that over rows for a batch."""
    y, t = _as_float(y), np.asarray(t)
    sq = np.square(y - t)
    total = 0.5 * np.sum(sq)
    return total if y.ndim == 1 else total / y.shape[0]


def cross_entropy_error(y: ArrayLike, t: ArrayLike, delta: float = CEE_DELTA) -> np.floating:
    """E = -1/N sum t log(y + delta); t is one-hot (same shape as y) or integer labels."""
    y, t = _as_float(y), np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.size == y.size else t.reshape(1)
    n = y.shape[0]
    if t.shape == y.shape:
        return -np.sum(t * np.log(y + delta)) / n
    return -np.sum(np.log(y[np.arange(n), t] + delta)) / n
