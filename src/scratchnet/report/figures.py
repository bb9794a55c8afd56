"""The report's figures: matplotlib's object API on Agg, fixed sizes and sorted orders.

Every function returns a `Figure` (never touches pyplot's global state); `plan_figures`
decides which figures a sweep supports and says why the others are skipped. Non-finite
values are never drawn: diverged runs show their finite epochs only, marked with a cross.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import scratchnet.plotting  # noqa: F401  (selects the Agg backend)
from scratchnet.analysis.sweep import (
    FACTOR_LABELS,
    config_label,
    format_value,
    sorted_values,
    usable,
    varied_factors,
)

MAX_CONFIGS = 48  # learning-curve cells; more would make an unreadable figure
TRAIN, TEST = "#1f77b4", "#d62728"
BEST, ONSET = "#2ca02c", "#ff7f0e"
METRIC_LABELS = {
    "best_test_acc": "test accuracy at best epoch",
    "final_test_acc": "final test accuracy",
    "gap_acc_final": "final accuracy gap (train - test)",
    "gap_loss_final": "final loss gap (test - train)",
    "gap_acc_max": "max accuracy gap",
}
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


@dataclass(frozen=True)
class FigureSpec:
    """A figure the report shows (`draw` given) or skips (`note` says why)."""

    name: str
    title: str
    caption: str
    draw: Callable[[], Figure] | None = None
    note: str = ""


def select(frame: pd.DataFrame, column: str, value: object) -> pd.DataFrame:
    """Rows whose `column` equals `value` (missing matches missing)."""
    if value is None:
        return frame[frame[column].isna()]
    return frame[frame[column] == value]


def configurations(diag: pd.DataFrame, factors: Sequence[str]) -> list[pd.DataFrame]:
    """The runs grouped by their values of `factors`, in sorted order."""
    if not factors:
        return [diag] if len(diag) else []
    groups = [diag]
    for factor in factors:
        groups = [select(g, factor, v) for g in groups for v in sorted_values(g[factor])]
    return [g for g in groups if len(g)]


def learning_curve_grid(diag: pd.DataFrame, history: pd.DataFrame) -> Figure:
    """Train vs test accuracy and loss per configuration; best epoch and onset marked."""
    factors = varied_factors(diag)
    groups = configurations(diag[diag["epochs_logged"] > 0], factors)[:MAX_CONFIGS]
    by_run = {run_id: h for run_id, h in history.groupby("run_id", sort=False)}
    ncols = 2 if len(groups) > 1 else 1
    nrows = max(1, math.ceil(len(groups) / ncols))
    fig = Figure(figsize=(6.4 * ncols, 2.5 * nrows + 0.7), layout="constrained")
    cells = np.atleast_1d(fig.subfigures(nrows, ncols, squeeze=False).ravel())
    for cell, group in zip(cells, groups, strict=False):
        ax_acc, ax_loss = cell.subplots(1, 2)
        for _, run in group.sort_values(["seed", "run_id"], na_position="last").iterrows():
            draw_run(ax_acc, ax_loss, run, by_run.get(run["run_id"]), alpha=0.85)
        title = config_label(group.iloc[0], factors)
        seeds = group["seed"].nunique()
        cell.suptitle(title + (f" ({seeds} seeds)" if seeds > 1 else ""), fontsize=9)
        last = max(1, int(group["last_epoch"].max()))
        for ax, label in ((ax_acc, "accuracy"), (ax_loss, "loss")):
            ax.set_xlim(-0.02 * last, 1.02 * last)
            ax.ticklabel_format(axis="y", useOffset=False)
            ax.set_ylabel(label, fontsize=8)
            ax.set_xlabel("epoch", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    for cell in cells[len(groups) :]:
        cell.set_visible(False)
    fig.legend(handles=legend_handles(), loc="outside upper center", ncols=5, fontsize=8)
    return fig


def legend_handles() -> list[Line2D]:
    """Legend entries shared by every learning-curve cell."""
    return [
        Line2D([], [], color=TRAIN, label="train"),
        Line2D([], [], color=TEST, linestyle="--", label="test"),
        Line2D([], [], color=BEST, linestyle=":", label="best epoch"),
        Line2D([], [], color=ONSET, linestyle="-.", label="overfitting onset"),
        Line2D([], [], color="black", marker="x", linestyle="none", label="diverged (last finite)"),
    ]


def finite_rows(h: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Rows of `h` where every one of `columns` is finite."""
    return h[np.isfinite(h.loc[:, list(columns)].to_numpy(dtype=float)).all(axis=1)]


def draw_run(
    ax_acc: Axes, ax_loss: Axes, run: pd.Series, h: pd.DataFrame | None, alpha: float
) -> None:
    """One run's curves on the two axes, with its best epoch, onset and divergence."""
    if h is None:
        return
    h = finite_rows(h, ("train_loss", "train_acc", "test_loss", "test_acc"))
    if h.empty:
        return
    epochs = h["epoch"].to_numpy()
    for ax, kind in ((ax_acc, "acc"), (ax_loss, "loss")):
        ax.plot(epochs, h[f"train_{kind}"].to_numpy(), color=TRAIN, lw=1, alpha=alpha)
        ax.plot(epochs, h[f"test_{kind}"].to_numpy(), color=TEST, lw=1, ls="--", alpha=alpha)
        if not pd.isna(run["best_epoch"]):
            ax.axvline(int(run["best_epoch"]), color=BEST, ls=":", lw=1)
        if not pd.isna(run["overfit_onset"]):
            ax.axvline(int(run["overfit_onset"]), color=ONSET, ls="-.", lw=1)
        if run["verdict"] == "diverged":
            last = h.iloc[-1]
            ax.plot([last["epoch"]], [last[f"test_{kind}"]], marker="x", color="black", ms=7)


def masked_grid(
    frame: pd.DataFrame, rows: list[object], cols: list[object], key: str
) -> np.ma.MaskedArray:
    """Mean of `key` per (hidden size, lr) cell; cells without a usable run masked."""
    grid = np.full((len(rows), len(cols)), np.nan)
    for i, h in enumerate(rows):
        for j, lr in enumerate(cols):
            cell = select(select(frame, "hidden_size", h), "lr", lr)[key].dropna()
            if len(cell):
                grid[i, j] = float(cell.mean())
    return np.ma.masked_invalid(grid)


def heatmaps(diag: pd.DataFrame) -> Figure:
    """Test accuracy (best epoch) and final accuracy gap over lr x hidden size, per batch size."""
    ok = usable(diag)
    batches = sorted_values(diag["batch_size"])
    lrs, hiddens = sorted_values(diag["lr"]), sorted_values(diag["hidden_size"])
    width = 2 * (1.2 + 0.75 * len(lrs)) + 1.2
    fig = Figure(figsize=(width, (0.9 + 0.45 * len(hiddens)) * len(batches) + 0.6))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(len(batches), 2, squeeze=False)
    panels = (
        ("best_test_acc", "test acc (best epoch)", "viridis"),
        ("gap_acc_final", "gap", "magma_r"),
    )
    for row, bs in zip(axes, batches, strict=True):
        sub = select(ok, "batch_size", bs)
        every = select(diag, "batch_size", bs)
        for ax, (key, label, cmap_name) in zip(row, panels, strict=True):
            grid = masked_grid(sub, hiddens, lrs, key)
            cmap = fig_cmap(cmap_name)
            vmin, vmax = (0.0, 1.0) if key == "best_test_acc" else value_range(ok[key])
            image = ax.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax, origin="lower", aspect="auto")
            annotate(ax, grid, every, hiddens, lrs)
            ax.set_xticks(range(len(lrs)), [format_value("lr", v) for v in lrs], fontsize=8)
            ax.set_yticks(
                range(len(hiddens)), [format_value("hidden_size", v) for v in hiddens], fontsize=8
            )
            ax.set_xlabel("learning rate", fontsize=8)
            ax.set_ylabel("hidden size", fontsize=8)
            ax.set_title(f"{label}, batch size {format_value('batch_size', bs)}", fontsize=9)
            fig.colorbar(image, ax=ax, shrink=0.9)
    return fig


def fig_cmap(name: str) -> Colormap:
    """A copy of colormap `name` that paints masked cells light gray."""
    return colormaps[name].with_extremes(bad="#dddddd")


def value_range(series: pd.Series) -> tuple[float, float]:
    """(min, max) of the finite values, widened when they are equal; (0, 1) when none."""
    values = series.to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    return (lo - 0.05, hi + 0.05) if hi - lo < 1e-9 else (lo, hi)


def annotate(ax: Axes, grid: np.ma.MaskedArray, every: pd.DataFrame, hiddens, lrs) -> None:
    """Write each cell's value; masked cells say `div.` when their runs diverged, else `—`."""
    for i, h in enumerate(hiddens):
        for j, lr in enumerate(lrs):
            if grid.mask is not np.ma.nomask and grid.mask[i, j]:
                runs = select(select(every, "hidden_size", h), "lr", lr)
                text = "div." if len(runs) and (runs["verdict"] == "diverged").all() else "—"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color="#444444")
            else:
                ax.text(
                    j,
                    i,
                    f"{grid[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white",
                    bbox={"facecolor": "black", "alpha": 0.25, "lw": 0, "pad": 1},
                )


def effect_figure(diag: pd.DataFrame, factor: str, metrics: Sequence[str]) -> Figure:
    """`metrics` against `factor` (equally spaced, sorted), one line per other configuration.

    Points are means over seeds with min-max bars, from runs that finished without diverging;
    a cross at the bottom marks a value where every run of that line diverged.
    """
    others = [f for f in varied_factors(diag) if f != factor]
    xs = sorted_values(diag[factor])
    lines = configurations(diag, others)
    fig = Figure(figsize=(4.2 * len(metrics), 3.6), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    handles: list[Line2D] = []
    crossed = False
    for ax, key in zip(axes, metrics, strict=True):
        handles = []
        for k, group in enumerate(lines):
            color, style = PALETTE[k % len(PALETTE)], ("-", "--", ":")[k // len(PALETTE) % 3]
            crossed |= draw_line(ax, group, factor, xs, key, color, style)
            label = config_label(group.iloc[0], others) if others else "all runs"
            handles.append(Line2D([], [], color=color, ls=style, marker="o", ms=4, label=label))
        ax.set_xticks(range(len(xs)), [format_value(factor, v) for v in xs], fontsize=8)
        ax.set_xlim(-0.4, len(xs) - 0.6)
        ax.set_xlabel(FACTOR_LABELS.get(factor, factor), fontsize=9)
        ax.set_ylabel(METRIC_LABELS.get(key, key), fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    if len(lines) < 2:
        handles = []
    if crossed:
        cross = Line2D([], [], color="black", marker="x", ls="none", ms=7, label="all diverged")
        handles.append(cross)
    if handles:
        fig.legend(handles=handles, loc="outside right upper", fontsize=7)
    return fig


def draw_line(ax: Axes, group: pd.DataFrame, factor: str, xs, key: str, color, style) -> bool:
    """One line: mean and min-max per x; crosses where all diverged (True if any)."""
    pos, mean, low, high, crosses = [], [], [], [], []
    for i, x in enumerate(xs):
        runs = select(group, factor, x)
        values = usable(runs)[key].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if len(values):
            pos.append(i)
            mean.append(values.mean())
            low.append(values.mean() - values.min())
            high.append(values.max() - values.mean())
        elif len(runs) and (runs["verdict"] == "diverged").all():
            crosses.append(i)
    if pos:
        ax.errorbar(
            pos, mean, yerr=[low, high], color=color, ls=style, marker="o", ms=4, capsize=2, lw=1.2
        )
    if crosses:
        ax.plot(
            crosses,
            [0.03] * len(crosses),
            transform=ax.get_xaxis_transform(),
            marker="x",
            ls="none",
            color=color,
            ms=8,
        )
    return bool(crosses)


def plan_figures(diag: pd.DataFrame, history: pd.DataFrame) -> list[FigureSpec]:
    """The report's figures in order; the ones the sweep cannot support carry a note."""
    varied = varied_factors(diag)
    with_epochs = diag[diag["epochs_logged"] > 0]
    cells = len(configurations(with_epochs, varied))
    caption = (
        "Train (solid) and test (dashed) accuracy and loss per configuration, every seed; "
        "dotted green: best epoch (lowest test loss); dash-dot orange: onset of overfitting."
    )
    if cells > MAX_CONFIGS:
        caption += f" Showing the first {MAX_CONFIGS} of {cells} configurations."
    specs = [
        figure_if(
            cells > 0,
            FigureSpec(
                "learning_curves",
                "Learning curves",
                caption,
                lambda: learning_curve_grid(diag, history),
            ),
            "no run logged an epoch",
        )
    ]
    specs.append(
        figure_if(
            {"lr", "hidden_size"} <= set(varied),
            FigureSpec(
                "heatmaps",
                "Test accuracy and gap over learning rate x hidden size",
                "Per batch size: mean over seeds (and any other factor) of the test accuracy "
                "at the best epoch and of the final accuracy gap, over runs that finished "
                "without diverging; gray cells: no such run (div.: every run diverged).",
                lambda: heatmaps(diag),
            ),
            "the sweep does not vary both the learning rate and the hidden size",
        )
    )
    specs.append(effect_spec(diag, varied, "hidden_size", "gap_vs_hidden", "Gap vs hidden size"))
    specs.append(
        effect_spec(diag, varied, "train_size", "gap_vs_train_size", "Gap vs training-set size")
    )
    specs.append(
        effect_spec(
            diag,
            varied,
            "lr",
            "lr_sensitivity",
            "Learning-rate sensitivity",
            ("best_test_acc", "final_test_acc", "gap_acc_final"),
        )
    )
    return specs


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
    metrics: Sequence[str] = ("gap_acc_final", "gap_loss_final", "best_test_acc"),
) -> FigureSpec:
    """An effect figure of `factor`, skipped when the sweep holds it fixed."""
    label = FACTOR_LABELS[factor]
    fixed = ", ".join(format_value(factor, v) for v in sorted_values(diag[factor]))
    return figure_if(
        factor in varied,
        FigureSpec(
            name,
            title,
            f"Against the {label}: means over seeds with min-max bars, from runs that "
            "finished without diverging; one line per value of the other factors; a cross "
            "at the bottom marks a point where every run diverged.",
            lambda: effect_figure(diag, factor, metrics),
        ),
        f"the sweep does not vary the {label} (all runs: {fixed or 'unknown'})",
    )
