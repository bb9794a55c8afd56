"""Chapter 6.1's picture: each optimizer's path on f(x, y) = x^2 / 20 + y^2 from (-7, 2).

f is stretched along x: its gradient (x / 10, 2y) points mostly along y, so plain SGD zigzags
across the valley while Momentum, AdaGrad and Adam take it in their own ways. The paths run
the library's optimizers (`scratchnet.nn`) with the analytic gradient, as the book does.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scratchnet.nn import make_optimizer


def valley(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """The book's f(x, y) = x^2 / 20 + y^2 (elementwise); minimum 0 at (0, 0)."""
    return x**2 / 20.0 + y**2


def valley_gradient(x: float, y: float) -> tuple[float, float]:
    """(df/dx, df/dy) = (x / 10, 2y)."""
    return x / 10.0, 2.0 * y


@dataclass(frozen=True)
class OptimizerPath:
    """One optimizer's walk: points (steps + 1 rows of x, y) and f at each."""

    name: str
    lr: float
    points: NDArray[np.float64]
    values: NDArray[np.float64]

    @property
    def end(self) -> tuple[float, float]:
        """Where the path ended."""
        return float(self.points[-1, 0]), float(self.points[-1, 1])


def optimizer_path(name: str, lr: float, start: Sequence[float], steps: int) -> OptimizerPath:
    """`steps` updates of optimizer `name` at `lr` from `start`, through `update(params,
    grads)` on params {x, y} (one-element float64 arrays), recording every point."""
    optimizer = make_optimizer(name, lr)
    params = {"x": np.array([float(start[0])]), "y": np.array([float(start[1])])}
    points = [(params["x"][0], params["y"][0])]
    for _ in range(steps):
        gx, gy = valley_gradient(params["x"][0], params["y"][0])
        optimizer.update(params, {"x": np.array([gx]), "y": np.array([gy])})
        points.append((params["x"][0], params["y"][0]))
    path = np.array(points, dtype=np.float64)
    return OptimizerPath(name, lr, path, valley(path[:, 0], path[:, 1]))
