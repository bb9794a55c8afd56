"""The report's figures: matplotlib's object API on Agg, fixed sizes and sorted orders.

Every function returns a `Figure` (never touches pyplot's global state); `plan_figures`
decides which figures a sweep supports and says why the others are skipped. Non-finite
values are never drawn: diverged runs show their finite epochs only, marked with a cross.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from scratchnet.analysis.levels import is_binned
from scratchnet.analysis.tables import factor_label, format_value, sorted_values, varied_factors
from scratchnet.report.draw import (
    effect_figure,
    heatmaps,
    importance_figure,
    learning_curve_grid,
    parallel_coordinates,
)
from scratchnet.report.layout import MAX_CONFIGS, chosen_on, configurations, figure_frame

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURE_NAMES = (
    "learning_curves",
    "heatmaps",
    "gap_vs_hidden",
    "gap_vs_train_size",
    "lr_sensitivity",
    "parallel_coordinates",
    "importance",
)


@dataclass(frozen=True)
class FigureSpec:
    """A figure the report shows (`draw` given) or skips (`note` says why)."""

    name: str
    title: str
    caption: str
    draw: Callable[[], "Figure"] | None = None
    note: str = ""


def plan_figures(diag: pd.DataFrame, history: pd.DataFrame) -> list[FigureSpec]:
    """The report's figures in order; the ones the sweep cannot support carry a note."""
    diag = figure_frame(diag)
    varied = varied_factors(diag)
    searched = [f for f in varied if is_binned(diag, f)]
    charts = [heatmap_spec(diag, varied), *effect_specs(diag, varied)]
    if searched:  # a search has no grid of values to chart
        charts = [figure_if(False, spec, search_note(searched)) for spec in charts]
    return [curves_spec(diag, history, varied), *charts, *factor_specs(diag, varied)]


def curves_spec(diag: pd.DataFrame, history: pd.DataFrame, varied: list[str]) -> FigureSpec:
    """The learning-curve grid."""
    with_epochs = diag[diag["epochs_logged"] > 0]
    cells = len(configurations(with_epochs, varied))
    caption = (
        "Train (solid), validation (dash-dot purple) and test (dashed) accuracy and loss per "
        "configuration; a configuration repeated over seeds is drawn as the mean over its "
        "seeds with the 95% confidence interval shaded (Student t over the seeds at each "
        "epoch, over its runs that finished without diverging; the others drawn apart); "
        f"dotted green: best epoch of each run (lowest {chosen_on(diag)} loss); dash-dot "
        "orange: onset of overfitting."
    )
    if cells > MAX_CONFIGS:
        caption += f" Showing the first {MAX_CONFIGS} of {cells} configurations."
    spec = FigureSpec(
        "learning_curves", "Learning curves", caption, lambda: learning_curve_grid(diag, history)
    )
    return figure_if(cells > 0, spec, "no run logged an epoch")


def heatmap_spec(diag: pd.DataFrame, varied: list[str]) -> FigureSpec:
    """Accuracy and gap over learning rate x hidden size, per batch size."""
    chosen = chosen_on(diag)
    spec = FigureSpec(
        "heatmaps",
        f"{chosen.capitalize()} accuracy and gap over learning rate x hidden size",
        f"Per batch size: mean over seeds (and any other factor) of the {chosen} "
        "accuracy at the best epoch and of the final accuracy gap, over runs that "
        "finished without diverging; gray cells: no such run (div.: every run diverged).",
        lambda: heatmaps(diag),
    )
    reason = "the sweep does not vary both the learning rate and the hidden size"
    return figure_if({"lr", "hidden_size"} <= set(varied), spec, reason)


def effect_specs(diag: pd.DataFrame, varied: list[str]) -> list[FigureSpec]:
    """Outcomes against hidden size, training-set size and learning rate."""
    return [
        effect_spec(diag, varied, "hidden_size", "gap_vs_hidden", "Gap vs hidden size"),
        effect_spec(diag, varied, "train_size", "gap_vs_train_size", "Gap vs training-set size"),
        effect_spec(
            diag,
            varied,
            "lr",
            "lr_sensitivity",
            "Learning-rate sensitivity",
            ("best_acc", "test_acc_at_best", "gap_acc_final"),
        ),
    ]


def search_note(searched: list[str]) -> str:
    """Why a search gets no per-value charts."""
    names = ", ".join(factor_label(f) for f in searched)
    return (
        f"a search samples {names} anew in every trial, so there is no grid of values to chart; "
        "see the parallel coordinates and the binned tables"
    )


def factor_specs(diag: pd.DataFrame, varied: list[str]) -> list[FigureSpec]:
    """Parallel coordinates and factor importance, for sweeps over two or more factors."""
    reason = "the sweep varies fewer than two factors"
    chosen = chosen_on(diag)
    return [
        figure_if(
            len(varied) >= 2,
            FigureSpec(
                "parallel_coordinates",
                "Parallel coordinates",
                "Each run that finished without diverging as a line through its value of every "
                f"varied factor to its {chosen} accuracy at the best epoch (the colour too; "
                "yellow is best). Continuous values of a search are on their own (log) scale.",
                lambda: parallel_coordinates(diag),
            ),
            reason,
        ),
        figure_if(
            len(varied) >= 2,
            FigureSpec(
                "importance",
                "Which factors matter most",
                f"Share of the variance of the {chosen} accuracy at the best epoch explained by "
                "each factor's levels (eta squared of its main effect; bins for a search's "
                "continuous values), over runs that finished without diverging. Shares need not "
                "sum to 1: interactions and noise make up the rest.",
                lambda: importance_figure(diag),
            ),
            reason,
        ),
    ]


def figure_if(condition: bool, spec: FigureSpec, reason: str) -> FigureSpec:
    """`spec` itself, or the same spec without a drawing and with `reason` as its note."""
    if condition:
        return spec
    return FigureSpec(spec.name, spec.title, spec.caption, None, f"Not drawn: {reason}.")


def effect_spec(
    diag: pd.DataFrame,
    varied: list[str],
    factor: str,
    name: str,
    title: str,
    metrics: Sequence[str] = ("gap_acc_final", "gap_loss_final", "best_acc"),
) -> FigureSpec:
    """An effect figure of `factor`, skipped when the sweep holds it fixed."""
    label = factor_label(factor)
    fixed = ", ".join(format_value(factor, v) for v in sorted_values(diag[factor]))
    return figure_if(
        factor in varied,
        FigureSpec(
            name,
            title,
            f"Against the {label}: means over seeds with 95% confidence-interval bars "
            "(Student t over seeds; no bar with one seed), from runs that finished without "
            "diverging; one line per value of the other factors; a cross at the bottom marks "
            "a point where every run diverged.",
            lambda: effect_figure(diag, factor, metrics),
        ),
        f"the sweep does not vary the {label} (all runs: {fixed or 'unknown'})",
    )
