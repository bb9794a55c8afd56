"""Numerical differentiation and plain gradient descent, the chapter's way of learning."""

from collections.abc import Callable
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray


def numerical_diff(f: Callable[[float], float], x: float, h: float = 1e-4) -> float:
    """Central difference (f(x+h) - f(x-h)) / 2h, whose error is O(h^2) instead of O(h)."""
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(
    f: Callable[[NDArray[Any]], float], x: NDArray[np.floating], h: float = 1e-4
) -> NDArray[np.floating]:
    """Central-difference gradient of f(x), perturbing x in place so closures over it see it."""
    # Each element is restored bit for bit afterwards, even if f raises.
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        kind = getattr(x, "dtype", type(x).__name__)
        raise TypeError(f"numerical_gradient needs a floating-point ndarray, got {kind}")
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        try:
            x[idx] = original + h
            f_plus = f(x)
            x[idx] = original - h
            f_minus = f(x)
        finally:
            x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


@overload
def gradient_descent(
    f: Callable[[NDArray[np.float64]], float],
    init_x: ArrayLike,
    lr: float = ...,
    step_num: int = ...,
    return_path: Literal[False] = ...,
) -> NDArray[np.float64]: ...


@overload
def gradient_descent(
    f: Callable[[NDArray[np.float64]], float],
    init_x: ArrayLike,
    lr: float = ...,
    step_num: int = ...,
    *,
    return_path: Literal[True],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...


def gradient_descent(
    f: Callable[[NDArray[np.float64]], float],
    init_x: ArrayLike,
    lr: float = 0.01,
    step_num: int = 100,
    return_path: bool = False,
) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Repeat x -= lr * grad f(x) from a float64 copy of init_x; path has step_num+1 points."""
    x = np.array(init_x, dtype=np.float64)
    path = [x.copy()]
    for _ in range(step_num):
        x -= lr * numerical_gradient(f, x)
        if return_path:
            path.append(x.copy())
    return (x, np.stack(path)) if return_path else x
