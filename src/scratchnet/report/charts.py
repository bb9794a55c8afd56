"""Sweep heatmaps: outcomes over learning rate x hidden size, a row per batch size.

Drawn with cheap artists that look as `imshow` with matplotlib's ticks and `fig.colorbar`
do: ticks and colour-bar labels as one marker line and a text per label
(`scratchnet.report.ticks`), each colour bar one mesh on an axes of its own; against one
factor: `scratchnet.report.effects`.
"""

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec
from matplotlib.ticker import NullLocator

from scratchnet.analysis.tables import format_value, sorted_values, usable_rows
from scratchnet.report.layout import Rect, chosen_on, gc_paused, matches, select, spacing
from scratchnet.report.ticks import marked_ticks, place_axis_label, scalar_labels, tick_values


def masked_grid(
    frame: pd.DataFrame, rows: list[object], cols: list[object], key: str
) -> np.ma.MaskedArray:
    """Mean of `key` per (hidden size, lr) cell; cells without a usable run masked."""
    grid = np.full((len(rows), len(cols)), np.nan)
    values = frame[key]
    by_col = [matches(frame["lr"], lr) for lr in cols]
    for i, h in enumerate(rows):
        in_row = matches(frame["hidden_size"], h)
        for j in range(len(cols)):
            cell = values[in_row & by_col[j]].dropna()
            if len(cell):
                grid[i, j] = float(cell.mean())
    return np.ma.masked_invalid(grid)


def heatmaps(diag: pd.DataFrame) -> Figure:
    """Test accuracy (best epoch) and final accuracy gap over lr x hidden size, per batch size."""
    with gc_paused():
        return draw_heatmaps(diag)


def draw_heatmaps(diag: pd.DataFrame) -> Figure:
    """The figure of `heatmaps`: a row of two panels, each with its colour bar, per batch size."""
    ok = diag[usable_rows(diag)]
    batches = sorted_values(diag["batch_size"])
    lrs, hiddens = sorted_values(diag["lr"]), sorted_values(diag["hidden_size"])
    width = 2 * (1.2 + 0.75 * len(lrs)) + 1.2
    height = (0.9 + 0.45 * len(hiddens)) * len(batches) + 0.6
    fig = Figure(figsize=(width, height))
    cells = GridSpec(
        len(batches), 2, **spacing(width, height, len(batches), 2, HEATMAP_MARGINS, HEATMAP_GAPS)
    )
    panels = (
        ("best_acc", f"{chosen_on(diag)} acc (best epoch)", "viridis"),
        ("gap_acc_final", "gap", "magma_r"),
    )
    ticks = (
        [format_value("lr", v) for v in lrs],
        [format_value("hidden_size", v) for v in hiddens],
    )
    for r, bs in enumerate(batches):
        sub = select(ok, "batch_size", bs)
        every = select(diag, "batch_size", bs)
        for c, (key, label, cmap_name) in enumerate(panels):
            rect, bar = panel_rects(cells[r, c].get_position(fig).bounds, height / width)
            ax = fig.add_axes(rect)
            grid = masked_grid(sub, hiddens, lrs, key)
            cmap = fig_cmap(cmap_name)
            vmin, vmax = (0.0, 1.0) if key == "best_acc" else value_range(ok[key])
            ax.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax, origin="lower", aspect="auto")
            annotate(ax, grid, every, hiddens, lrs)
            for axis, labels in zip(("x", "y"), ticks, strict=True):
                reach = marked_ticks(ax, axis, range(len(labels)), labels, 8)
                place_axis_label(ax, axis, reach)
            ax.set_xlabel("learning rate", fontsize=8)
            ax.set_ylabel("hidden size", fontsize=8)
            ax.set_title(f"{label}, batch size {format_value('batch_size', bs)}", fontsize=9)
            colour_bar(fig.add_axes(bar), cmap, (vmin, vmax), bar[3] * height * 72)
    return fig


def panel_rects(cell: Rect, fig_h_over_w: float) -> tuple[Rect, Rect]:
    """A heatmap's rect and its colour bar's in a grid cell (figure fractions of a figure
    `fig_h_over_w` as tall as wide), as `fig.colorbar(image, ax=ax, shrink=0.9)` splits one:
    the map 0.8 of the width; the bar 0.05 further, 0.9 of the height (centred), and
    `BAR_ASPECT` of that wide."""
    x, y, w, h = cell
    bar_w = 0.9 * h * BAR_ASPECT * fig_h_over_w
    return (x, y, 0.8 * w, h), (x + 0.85 * w, y + 0.05 * h, bar_w, 0.9 * h)


def colour_bar(cax: Axes, cmap: Colormap, limits: tuple[float, float], points: float) -> None:
    """A colour bar over `limits` on `cax` (`points` tall), as matplotlib's colorbar draws it
    (`cmap.N` bands; ticks and labels on the right, as many as its locator fits) from one mesh
    and marked ticks."""
    vmin, vmax = limits
    bounds = np.linspace(vmin, vmax, cmap.N + 1)
    colours = ((bounds[:-1] + bounds[1:]) / 2)[:, None]
    cax.pcolormesh([0.0, 1.0], bounds, colours, cmap=cmap, vmin=vmin, vmax=vmax)
    cax.set_xlim(0, 1)
    cax.set_ylim(vmin, vmax)
    cax.xaxis.set_major_locator(NullLocator())
    ticks = tick_values(vmin, vmax, bins=max(min(int(points // (2 * BAR_FONT)), 9), 1))
    labels, _ = scalar_labels(ticks, vmin, vmax)
    marked_ticks(cax, "right", ticks, labels, BAR_FONT)


# The fixed layout, in inches (`spacing`): margins (left, right, bottom, top) and gaps (a colour
# bar's labels and the next panel's axis labels; a title).
HEATMAP_MARGINS, HEATMAP_GAPS = (0.7, 0.45, 0.45, 0.3), (1.05, 0.65)
BAR_ASPECT, BAR_FONT = 1 / 20, 10  # a colour bar's width over its height; its labels' size


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
