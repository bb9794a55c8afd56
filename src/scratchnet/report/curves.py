"""The learning-curve grid: train, validation and test accuracy and loss per configuration.

A configuration run once is drawn as its curves; one repeated over seeds as the mean over
its seeds with the 95% interval shaded (`scratchnet.report.bands`), its diverged runs (left
out of the mean) drawn on their own.
"""

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import ScaledTranslation

from scratchnet.analysis.diagnosis import core_metrics
from scratchnet.analysis.tables import config_label, usable, varied_factors
from scratchnet.report.bands import draw_band, epoch_band
from scratchnet.report.layout import (
    BEST,
    MAX_CONFIGS,
    ONSET,
    TEST,
    TRAIN,
    VAL,
    configurations,
    diagnosed,
    gc_paused,
    row_rects,
)
from scratchnet.report.ticks import light_ticks, tick_values

# The grid's fixed layout, in inches: a cell per configuration, its two axes' margins
# (left, right, bottom, top: tick labels, axis labels, the cell's title) and the gap between.
CELL_W, CELL_H, LEGEND_H, LEGEND_ROW_H = 6.4, 2.5, 0.45, 0.2
CELL_MARGINS, CELL_GAP = (0.55, 0.12, 0.42, 0.32), 0.62
TITLE_DROP = 0.05  # inches from the top of a cell to the top of its title
SPLITS = (("train", TRAIN, "-"), ("val", VAL, "-."), ("test", TEST, "--"))
# Where the axis labels sit, in inches off the axes (the fixed layout leaves them room).
XLABEL_DROP, YLABEL_SHIFT = 0.16, 0.37
TICK_SIZE, LABEL_SIZE = 7, 8


def learning_curve_grid(diag: pd.DataFrame, history: pd.DataFrame) -> Figure:
    """Train, validation and test accuracy and loss per configuration; best epoch and onset
    marked. `diag` is the diagnosed runs (a runs frame is diagnosed here), `history` the
    runs' epochs, as `scratchnet.report.notebook` and the store reader return them."""
    with gc_paused():
        return draw_grid(diagnosed(diag, history), history)


def draw_grid(diag: pd.DataFrame, history: pd.DataFrame) -> Figure:
    """The grid of `learning_curve_grid`, of diagnosed runs: a cell per configuration."""
    factors = varied_factors(diag)
    groups = configurations(diag[diag["epochs_logged"] > 0], factors)[:MAX_CONFIGS]
    by_run = {run_id: h for run_id, h in history.groupby("run_id", sort=False)}
    ncols = 2 if len(groups) > 1 else 1
    nrows = max(1, math.ceil(len(groups) / ncols))
    legend_rows = 1 if ncols > 1 else 2  # one cell wide, six entries do not fit on a line
    legend_h = LEGEND_H + LEGEND_ROW_H * (legend_rows - 1)
    size = (CELL_W * ncols, CELL_H * nrows + legend_h)
    fig = Figure(figsize=size)
    for k, group in enumerate(groups):
        corner = (CELL_W * (k % ncols), legend_h + CELL_H * (k // ncols))
        rects = row_rects(size, corner, (CELL_W, CELL_H), CELL_MARGINS, CELL_GAP, 2)
        ax_acc, ax_loss = (fig.add_axes(rect) for rect in rects)
        draw_cell(ax_acc, ax_loss, group, by_run)
        title = config_label(group.iloc[0], factors) + seeds_note(group)
        top = 1 - (corner[1] + TITLE_DROP) / size[1]
        fig.text((corner[0] + CELL_W / 2) / size[0], top, title, ha="center", va="top", fontsize=9)
    handles = legend_handles()
    ncol = -(-len(handles) // legend_rows)
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 1), ncols=ncol, fontsize=8)
    return fig


def draw_cell(
    ax_acc: Axes, ax_loss: Axes, group: pd.DataFrame, by_run: dict[str, pd.DataFrame]
) -> None:
    """One configuration's curves on its accuracy and loss axes, and the axes' dressing."""
    if group["seed"].nunique() > 1:
        draw_seeds(ax_acc, ax_loss, group, by_run)
    else:
        for _, run in group.sort_values(["seed", "run_id"], na_position="last").iterrows():
            draw_run(ax_acc, ax_loss, run, by_run.get(run["run_id"]), alpha=0.85)
    last = max(1, int(group["last_epoch"].max()))
    for ax, label in ((ax_acc, "accuracy"), (ax_loss, "loss")):
        ax.set_xlim(-0.02 * last, 1.02 * last)
        low, high = ax.get_ylim()  # autoscaled to the curves, then kept
        ax.set_ylim(low, high)
        epochs, values = tick_values(0, last, integer=True), tick_values(low, high)
        light_ticks(ax, epochs, values, TICK_SIZE, x_every=2)  # every other epoch tick labelled
        ax.set_ylabel(label, fontsize=LABEL_SIZE)
        ax.set_xlabel("epoch", fontsize=LABEL_SIZE)
        place_labels(ax)


def place_labels(ax: Axes) -> None:
    """The axis labels at fixed places beside the tick labels (`XLABEL_DROP`, `YLABEL_SHIFT`)."""
    fig = ax.get_figure()
    assert fig is not None
    for axis, x, y, dx, dy in (
        (ax.xaxis, 0.5, 0, 0, -XLABEL_DROP),
        (ax.yaxis, 0, 0.5, -YLABEL_SHIFT, 0),
    ):
        axis.set_label_coords(
            x, y, transform=ax.transAxes + ScaledTranslation(dx, dy, fig.dpi_scale_trans)
        )


def legend_handles() -> list[Line2D]:
    """Legend entries shared by every learning-curve cell."""
    return [
        Line2D([], [], color=TRAIN, label="train"),
        Line2D([], [], color=VAL, linestyle="-.", label="validation"),
        Line2D([], [], color=TEST, linestyle="--", label="test"),
        Line2D([], [], color=BEST, linestyle=":", label="best epoch"),
        Line2D([], [], color=ONSET, linestyle="-.", label="overfitting onset"),
        Line2D([], [], color="black", marker="x", linestyle="none", label="diverged (last finite)"),
    ]


def seeds_note(group: pd.DataFrame) -> str:
    """` (mean of 3 of 3 runs over seeds, 95% CI shaded)` for a configuration over seeds."""
    if group["seed"].nunique() < 2:
        return ""
    kept = len(usable(group))
    apart = len(group) - kept
    also = f"; {apart} diverged or unfinished drawn apart" if apart else ""
    return f" (mean of {kept} of {len(group)} runs over seeds, 95% CI shaded{also})"


def draw_seeds(
    ax_acc: Axes, ax_loss: Axes, group: pd.DataFrame, by_run: dict[str, pd.DataFrame]
) -> None:
    """A configuration over seeds: mean curves with shaded intervals of its runs that finished
    without diverging, their best epochs and onsets, and the other runs on their own."""
    kept = usable(group).sort_values(["seed", "run_id"])
    histories = []
    for _, run in kept.iterrows():
        h = by_run.get(run["run_id"])
        if h is not None:
            histories.append(finite_rows(h, core_metrics(str(run["selection"]))))
    with_val = bool(len(kept)) and (kept["selection"] == "val").all()
    for ax, kind in ((ax_acc, "acc"), (ax_loss, "loss")):
        for split, color, style in SPLITS:
            if split != "val" or with_val:
                draw_band(ax, epoch_band(histories, f"{split}_{kind}"), color, style)
        mark_epochs(ax, kept["best_epoch"], kept["overfit_onset"], alpha=0.5)
    for _, run in group[~group["run_id"].isin(kept["run_id"])].iterrows():
        draw_run(ax_acc, ax_loss, run, by_run.get(run["run_id"]), alpha=0.6)


def mark_epochs(
    ax: Axes, best: Sequence[object], onsets: Sequence[object], alpha: float = 1
) -> None:
    """Runs' best epochs and overfitting onsets (missing: none), a line collection of each kind
    across the axes' height."""
    for epochs, color, style in ((best, BEST, ":"), (onsets, ONSET, "-.")):
        found = [int(epoch) for epoch in epochs if not pd.isna(epoch)]
        if len(found):
            style = {"colors": color, "linestyles": style, "linewidths": 1, "alpha": alpha}
            ax.vlines(found, 0, 1, transform=ax.get_xaxis_transform(), **style)


def finite_rows(h: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Rows of `h` where every one of `columns` is finite."""
    return h[np.isfinite(h.loc[:, list(columns)].to_numpy(dtype=float)).all(axis=1)]


def draw_run(
    ax_acc: Axes, ax_loss: Axes, run: pd.Series, h: pd.DataFrame | None, alpha: float
) -> None:
    """One run's curves on the two axes, with its best epoch, onset and divergence."""
    if h is None:
        return
    h = finite_rows(h, core_metrics(str(run["selection"])))
    if h.empty:
        return
    epochs = h["epoch"].to_numpy()
    for ax, kind in ((ax_acc, "acc"), (ax_loss, "loss")):
        ax.plot(epochs, h[f"train_{kind}"].to_numpy(), color=TRAIN, lw=1, alpha=alpha)
        if run["selection"] == "val":
            ax.plot(epochs, h[f"val_{kind}"].to_numpy(), color=VAL, lw=1, ls="-.", alpha=alpha)
        ax.plot(epochs, h[f"test_{kind}"].to_numpy(), color=TEST, lw=1, ls="--", alpha=alpha)
        mark_epochs(ax, [run["best_epoch"]], [run["overfit_onset"]])
        if run["verdict"] == "diverged":
            last = h.iloc[-1]
            ax.plot([last["epoch"]], [last[f"test_{kind}"]], marker="x", color="black", ms=7)
