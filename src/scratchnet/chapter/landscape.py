"""Loss vs accuracy along one weight: why the chapter learns on the loss, not the accuracy."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scratchnet.nn import TwoLayerNet


@dataclass(frozen=True)
class Sweep:
    """Loss and accuracy at each value of one weight, all others fixed."""

    param: str
    index: tuple[int, ...]
    trained_value: float
    values: NDArray[np.float64]
    losses: NDArray[np.float64]
    accuracies: NDArray[np.float64]


def sweep_weight(
    net: TwoLayerNet,
    x: NDArray[np.floating],
    t: NDArray[np.integer],
    param: str,
    index: Sequence[int],
    span: float,
    points: int,
) -> Sweep:
    """Set params[param][index] to trained value + linspace(-span, span), evaluate, restore."""
    weights = net.params[param]
    where = tuple(int(i) for i in index)
    trained = weights[where].copy()
    values = float(trained) + np.linspace(-span, span, points)
    losses, accuracies = np.empty(points), np.empty(points)
    try:
        for i, value in enumerate(values):
            weights[where] = value
            losses[i], accuracies[i] = net.evaluate(x, t)
    finally:
        weights[where] = trained
    return Sweep(param, where, float(trained), values, losses, accuracies)


def finite_differences(y: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Forward-difference slopes between neighbouring points of y(x)."""
    return np.diff(y) / np.diff(x)


def flat_fraction(y: NDArray[np.float64], x: NDArray[np.float64]) -> float:
    """Fraction of neighbouring pairs where y's finite-difference slope is exactly 0."""
    return float(np.mean(finite_differences(y, x) == 0.0))
