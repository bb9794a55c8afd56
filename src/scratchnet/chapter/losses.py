"""Sum-of-squares and cross-entropy on the chapter's examples, and why CEE needs a delta."""

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scratchnet.nn import cross_entropy_error, sum_squares_error


def one_hot(label: int, num_classes: int) -> NDArray[np.float64]:
    """The one-hot target vector t of `label`, as the chapter writes it."""
    t = np.zeros(num_classes)
    t[label] = 1.0
    return t


def example_losses(y: Sequence[float], label: int, delta: float) -> dict[str, float]:
    """SSE and CEE of one network output y against the one-hot target of `label`."""
    t = one_hot(label, len(y))
    return {
        "sse": float(sum_squares_error(np.asarray(y, dtype=np.float64), t)),
        "cee": float(cross_entropy_error(np.asarray(y, dtype=np.float64), t, delta=delta)),
    }


def outputs_with_correct_probability(
    p: NDArray[np.float64], label: int, num_classes: int
) -> NDArray[np.float64]:
    """One output row per p: p on the correct class, the rest (1 - p) shared equally."""
    rows = np.repeat(((1.0 - p) / (num_classes - 1))[:, None], num_classes, axis=1)
    rows[:, label] = p
    return rows


@dataclass(frozen=True)
class LossCurves:
    """Both losses as the probability p of the correct class goes from 0 to 1."""

    p: NDArray[np.float64]
    sse: NDArray[np.float64]
    cee: NDArray[np.float64]
    cee_without_delta: NDArray[np.float64]


def loss_curves(p: NDArray[np.float64], label: int, num_classes: int, delta: float) -> LossCurves:
    """SSE, CEE with `delta` and CEE without it at each p, through the library's own losses.

    CEE gets the label, not the one-hot row: with delta = 0 the row form would also compute
    0 * log(0) = NaN for the zero-probability wrong classes at p = 1.
    """
    rows = outputs_with_correct_probability(p, label, num_classes)
    t, index = one_hot(label, num_classes), np.array(label)
    with np.errstate(divide="ignore"):
        sse = [sum_squares_error(row, t) for row in rows]
        cee = [cross_entropy_error(row, index, delta=delta) for row in rows]
        bare = [cross_entropy_error(row, index, delta=0.0) for row in rows]
    return LossCurves(p, np.array(sse), np.array(cee), np.array(bare))


def linear_grid(points: int) -> NDArray[np.float64]:
    """`points` probabilities evenly spaced from 0 to 1."""
    return np.linspace(0.0, 1.0, points)


def near_zero_grid(points: int, smallest: float = 1e-12) -> NDArray[np.float64]:
    """`points` probabilities log-spaced from `smallest` to 1: where delta starts to matter."""
    return np.logspace(np.log10(smallest), 0.0, points)


@dataclass(frozen=True)
class Evaluated:
    """A value and the warning (category: message) NumPy raised computing it, if any."""

    value: float
    warning: str | None


def _evaluate(compute: Callable[[], float]) -> Evaluated:
    """Run `compute` with NumPy's divide warnings on and captured instead of printed."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(divide="warn"):
        warnings.simplefilter("always")
        value = float(compute())
    text = f"{caught[0].category.__name__}: {caught[0].message}" if caught else None
    return Evaluated(value, text)


def log_of_zero() -> Evaluated:
    """What np.log(0) gives: -inf, with a RuntimeWarning (divide by zero)."""
    return _evaluate(lambda: np.log(np.float64(0.0)))


def cee_when_correct_class_is_zero(num_classes: int, label: int, delta: float) -> Evaluated:
    """CEE of an output giving the correct class probability 0: -log(delta), or inf if delta=0."""
    y = outputs_with_correct_probability(np.array([0.0]), label, num_classes)[0]
    t = one_hot(label, num_classes)
    return _evaluate(lambda: cross_entropy_error(y, t, delta=delta))
