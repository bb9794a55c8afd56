"""Sweep charts: heatmaps over learning rate x hidden size, and outcomes against one factor."""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from scratchnet.analysis.statistics import mean_ci
from scratchnet.analysis.tables import (
    FACTOR_LABELS,
    config_label,
    format_value,
    sorted_values,
    usable,
    varied_factors,
)
from scratchnet.report.layout import (
    PALETTE,
    chosen_on,
    configurations,
    metric_label,
    select,
    spacing,
)


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
    height = (0.9 + 0.45 * len(hiddens)) * len(batches) + 0.6
    fig = Figure(figsize=(width, height))
    grid = spacing(width, height, len(batches), 2, HEATMAP_MARGINS, HEATMAP_GAPS)
    axes = fig.subplots(len(batches), 2, squeeze=False, gridspec_kw=grid)
    panels = (
        ("best_acc", f"{chosen_on(diag)} acc (best epoch)", "viridis"),
        ("gap_acc_final", "gap", "magma_r"),
    )
    for row, bs in zip(axes, batches, strict=True):
        sub = select(ok, "batch_size", bs)
        every = select(diag, "batch_size", bs)
        for ax, (key, label, cmap_name) in zip(row, panels, strict=True):
            grid = masked_grid(sub, hiddens, lrs, key)
            cmap = fig_cmap(cmap_name)
            vmin, vmax = (0.0, 1.0) if key == "best_acc" else value_range(ok[key])
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


# Fixed layouts, in inches (`spacing`): the heatmaps' margins (left, right, bottom, top) and
# gaps (a colorbar's labels and the next panel's axis labels; a title), the effect figures'.
HEATMAP_MARGINS, HEATMAP_GAPS = (0.7, 0.45, 0.45, 0.3), (1.05, 0.65)
EFFECT_MARGINS, EFFECT_GAP = (0.75, 0.15, 0.55, 0.15), 0.85


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

    Points are means over seeds with 95% interval bars (Student t; none with one seed), from
    runs that finished without diverging;
    a cross at the bottom marks a value where every run of that line diverged.
    """
    others = [f for f in varied_factors(diag) if f != factor]
    xs = sorted_values(diag[factor])
    lines = configurations(diag, others)
    fig = Figure(figsize=(4.2 * len(metrics), 3.6))
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
        ax.set_ylabel(metric_label(key, chosen_on(diag)), fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    if len(lines) < 2:
        handles = []
    if crossed:
        cross = Line2D([], [], color="black", marker="x", ls="none", ms=7, label="all diverged")
        handles.append(cross)
    legend = 0.0
    if handles:
        box = fig.legend(handles=handles, loc="upper right", fontsize=7, borderaxespad=0.3)
        legend = box.get_window_extent().width / fig.dpi + 0.1  # measured once, not solved
    width, height = fig.get_size_inches()
    left, right, bottom, top = EFFECT_MARGINS
    fig.subplots_adjust(
        **spacing(
            width, height, 1, len(metrics), (left, right + legend, bottom, top), (EFFECT_GAP, 0)
        )
    )
    return fig


def draw_line(ax: Axes, group: pd.DataFrame, factor: str, xs, key: str, color, style) -> bool:
    """One line: mean and 95% interval over seeds per x; crosses where all diverged."""
    pos, mean, low, high, crosses = [], [], [], [], []
    for i, x in enumerate(xs):
        runs = select(group, factor, x)
        values = usable(runs)[key].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if len(values):
            found = mean_ci(values)
            half = found.half if np.isfinite(found.half) else 0.0
            pos.append(i)
            mean.append(found.mean)
            low.append(half)
            high.append(half)
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
