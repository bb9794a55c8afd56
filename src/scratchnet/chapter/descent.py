"""Gradient field and gradient descent on the chapter's f(x0, x1) = x0^2 + x1^2."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scratchnet.nn import gradient_descent, numerical_gradient

CONVERGED, DIVERGED, STALLED = "converged", "diverged", "stalled"


def function_2(x: NDArray[np.float64]) -> float:
    """The chapter's f(x) = x0^2 + x1^2 (sum of squares of any shape); minimum 0 at 0."""
    return float(np.sum(x**2))


@dataclass(frozen=True)
class Field:
    """Grid points X0, X1 and the numerical gradient's components G0, G1 at each."""

    x0: NDArray[np.float64]
    x1: NDArray[np.float64]
    g0: NDArray[np.float64]
    g1: NDArray[np.float64]


def gradient_field(low: float, high: float, points: int) -> Field:
    """numerical_gradient of function_2 at every point of a points x points grid."""
    axis = np.linspace(low, high, points)
    x0, x1 = np.meshgrid(axis, axis)
    points_2d = np.stack([x0.ravel(), x1.ravel()], axis=1)
    grads = np.array([numerical_gradient(function_2, point.copy()) for point in points_2d])
    return Field(x0, x1, grads[:, 0].reshape(x0.shape), grads[:, 1].reshape(x0.shape))


def field_error(field: Field) -> float:
    """Largest |numerical - analytic| gradient component over the grid (analytic: 2x)."""
    return float(max(np.abs(field.g0 - 2 * field.x0).max(), np.abs(field.g1 - 2 * field.x1).max()))


def distances(path: NDArray[np.float64]) -> NDArray[np.float64]:
    """Euclidean distance of every point of the path to the minimum (0, 0)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.linalg.norm(path, axis=1)


def verdict(dist: NDArray[np.float64], converged_below: float, diverged_factor: float) -> str:
    """converged: final distance < converged_below; diverged: non-finite or final distance
    above diverged_factor x the start's; stalled: neither, within the steps given."""
    final = dist[-1]
    if not np.all(np.isfinite(dist)) or final > diverged_factor * dist[0]:
        return DIVERGED
    return CONVERGED if final < converged_below else STALLED


@dataclass(frozen=True)
class Descent:
    """One learning rate's run: path (step_num + 1 points), distances and verdict."""

    lr: float
    path: NDArray[np.float64]
    distances: NDArray[np.float64]
    verdict: str

    @property
    def final_distance(self) -> float:
        """Distance to the minimum after the last step (may be inf or NaN)."""
        return float(self.distances[-1])


def descend(
    lr: float,
    init_x: Sequence[float],
    step_num: int,
    converged_below: float,
    diverged_factor: float,
) -> Descent:
    """Run the library's gradient_descent on function_2 and judge where it ended."""
    with np.errstate(over="ignore", invalid="ignore"):
        _, path = gradient_descent(function_2, init_x, lr=lr, step_num=step_num, return_path=True)
    dist = distances(path)
    return Descent(lr, path, dist, verdict(dist, converged_below, diverged_factor))
