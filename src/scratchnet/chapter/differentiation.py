"""Forward vs central differences against h: truncation error falls with h, rounding rises."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scratchnet.nn import numerical_diff

Scalar = np.floating | float
ScalarFunction = Callable[[Scalar], Scalar]


def chapter_function(x: Scalar) -> Scalar:
    """The chapter's y = 0.01 x^2 + 0.1 x, computed in the dtype of x."""
    return 0.01 * x**2 + 0.1 * x


def chapter_derivative(x: float) -> float:
    """Its exact derivative 0.02 x + 0.1 (0.2 at x=5, 0.3 at x=10)."""
    return 0.02 * x + 0.1


# name -> (f, exact f'); a quadratic has no central-difference truncation error, sin has.
FUNCTIONS: dict[str, tuple[ScalarFunction, Callable[[float], float]]] = {
    "chapter": (chapter_function, chapter_derivative),
    "sin": (np.sin, lambda x: float(np.cos(x))),
}


def forward_difference(f: ScalarFunction, x: Scalar, h: Scalar) -> Scalar:
    """(f(x+h) - f(x)) / h: truncation error O(h)."""
    return (f(x + h) - f(x)) / h


def central_difference(f: ScalarFunction, x: Scalar, h: Scalar) -> Scalar:
    """(f(x+h) - f(x-h)) / 2h: truncation error O(h^2)."""
    return (f(x + h) - f(x - h)) / (2 * h)


METHODS: dict[str, Callable[[ScalarFunction, Scalar, Scalar], Scalar]] = {
    "forward": forward_difference,
    "central": central_difference,
}


def decade_steps(first: int, last: int) -> NDArray[np.float64]:
    """h = 10^-first ... 10^-last, one per decade (1e-1 ... 1e-50 for 1, 50)."""
    return 10.0 ** -np.arange(first, last + 1, dtype=np.float64)


def estimates(
    f: ScalarFunction, x: float, hs: NDArray[np.float64], method: str, dtype: str
) -> NDArray[np.float64]:
    """The method's derivative at x for each h, all arithmetic in `dtype` (h may round to 0)."""
    kind = np.dtype(dtype).type
    diff = METHODS[method]
    with np.errstate(all="ignore"):  # 0/0 once h rounds to zero: NaN is the point
        return np.array([float(diff(f, kind(x), kind(h))) for h in hs])


def abs_errors(values: NDArray[np.float64], exact: float) -> NDArray[np.float64]:
    """|estimate - exact|, NaN where the estimate is NaN."""
    return np.abs(values - exact)


@dataclass(frozen=True)
class Best:
    """The step with the smallest finite error, and that error."""

    h: float
    error: float


def best_step(hs: NDArray[np.float64], errors: NDArray[np.float64]) -> Best:
    """The h of minimum finite error (the largest such h on ties)."""
    finite = np.where(np.isfinite(errors), errors, np.inf)
    i = int(np.argmin(finite))
    return Best(float(hs[i]), float(errors[i]))


@dataclass(frozen=True)
class Tangent:
    """The line y = slope x + intercept touching f at x0, its slope from numerical_diff."""

    x0: float
    slope: float
    intercept: float


def tangent(f: ScalarFunction, x0: float, h: float = 1e-4) -> Tangent:
    """The chapter's tangent line: slope by central difference, through (x0, f(x0))."""
    slope = float(numerical_diff(f, x0, h))
    return Tangent(x0, slope, float(f(x0)) - slope * x0)
