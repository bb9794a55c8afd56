"""The report's drawing functions, each importing its module (and so matplotlib, ~0.7 s) on
first call: a rebuild whose figures all come from its cache (`report.cache`) never pays it."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def learning_curve_grid(diag: pd.DataFrame, history: pd.DataFrame) -> "Figure":
    """`report.curves.learning_curve_grid`."""
    from scratchnet.report import curves

    return curves.learning_curve_grid(diag, history)


def heatmaps(diag: pd.DataFrame) -> "Figure":
    """`report.charts.heatmaps`."""
    from scratchnet.report import charts

    return charts.heatmaps(diag)


def effect_figure(diag: pd.DataFrame, factor: str, metrics: Sequence[str]) -> "Figure":
    """`report.effects.effect_figure`."""
    from scratchnet.report import effects

    return effects.effect_figure(diag, factor, metrics)


def parallel_coordinates(diag: pd.DataFrame) -> "Figure":
    """`report.parallel.parallel_coordinates`."""
    from scratchnet.report import parallel

    return parallel.parallel_coordinates(diag)


def importance_figure(diag: pd.DataFrame) -> "Figure":
    """`report.parallel.importance_figure`."""
    from scratchnet.report import parallel

    return parallel.importance_figure(diag)


def import_drawing() -> None:
    """Import every drawing module now: before forking the workers that draw, so each inherits
    matplotlib instead of importing it again."""
    from scratchnet.report import charts, curves, effects, parallel  # noqa: F401
