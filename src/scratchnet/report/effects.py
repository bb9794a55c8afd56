"""Outcomes against one factor: a line per configuration of the other factors, means over
seeds with their 95% intervals, crosses where every run diverged.

Drawn with cheap artists that look as matplotlib's defaults do: a line and its interval bars
(an `ErrorbarContainer`, as `errorbar` makes), ticks as one marker line and a text per label
(`scratchnet.report.ticks`), gridlines as one collection per axis.
"""

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import offset_copy

from scratchnet.analysis.statistics import mean_ci
from scratchnet.analysis.tables import (
    FACTOR_LABELS,
    config_label,
    format_value,
    sorted_values,
    usable_rows,
    varied_factors,
)
from scratchnet.report.layout import (
    PALETTE,
    chosen_on,
    configurations,
    gc_paused,
    matches,
    metric_label,
    spacing,
)
from scratchnet.report.ticks import (
    GRID,
    marked_ticks,
    place_axis_label,
    scalar_labels,
    tick_values,
)

# The fixed layout, in inches (`spacing`): margins (left, right, bottom, top), gap between axes.
EFFECT_MARGINS, EFFECT_GAP = (0.75, 0.15, 0.55, 0.15), 0.85
TICK_SIZE, LABEL_SIZE, OFFSET_PAD = 8, 9, 3.0  # OFFSET_PAD: points above the axes, as matplotlib


def effect_figure(diag: pd.DataFrame, factor: str, metrics: Sequence[str]) -> Figure:
    """`metrics` against `factor` (equally spaced, sorted), one line per other configuration.

    Points are means over seeds with 95% interval bars (Student t; none with one seed), from
    runs that finished without diverging;
    a cross at the bottom marks a value where every run of that line diverged.
    """
    with gc_paused():
        return draw_effects(diag, factor, metrics)


def draw_effects(diag: pd.DataFrame, factor: str, metrics: Sequence[str]) -> Figure:
    """The figure of `effect_figure`: an axes per metric, the legend on the right."""
    others = [f for f in varied_factors(diag) if f != factor]
    xs = sorted_values(diag[factor])
    lines = configurations(diag, others)
    fig = Figure(figsize=(4.2 * len(metrics), 3.6))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    handles: list[Line2D] = []
    crossed = False
    rows = [line_rows(group, factor, xs) for group in lines]
    for ax, key in zip(axes, metrics, strict=True):
        handles = []
        for k, group in enumerate(lines):
            color, style = PALETTE[k % len(PALETTE)], ("-", "--", ":")[k // len(PALETTE) % 3]
            values = group[key].to_numpy(dtype=float)
            crossed |= draw_line(ax, values, rows[k], color, style)
            label = config_label(group.iloc[0], others) if others else "all runs"
            handles.append(Line2D([], [], color=color, ls=style, marker="o", ms=4, label=label))
        ax.set_xlim(-0.4, len(xs) - 0.6)
        ax.set_ylim(*ax.get_ylim())  # autoscaled to the lines, then kept
        dress(fig, ax, [format_value(factor, v) for v in xs])
        ax.set_xlabel(FACTOR_LABELS.get(factor, factor), fontsize=LABEL_SIZE)
        ax.set_ylabel(metric_label(key, chosen_on(diag)), fontsize=LABEL_SIZE)
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


def dress(fig: Figure, ax: Axes, x_labels: list[str]) -> None:
    """Ticks and gridlines as matplotlib's defaults and `ax.grid(alpha=0.3)` draw them: the x
    ticks at each value, labelled `x_labels`; the y ticks its locator picks for the limits,
    labelled by its formatter (with its offset text, if any, above the axes)."""
    low, high = ax.get_ylim()
    room = ax.get_position().height * fig.get_size_inches()[1] * 72  # points
    yticks = tick_values(low, high, bins=max(min(int(room // (2 * TICK_SIZE)), 9), 1))
    xticks = list(range(len(x_labels)))
    y_labels, offset = scalar_labels(yticks, low, high)
    for ticks, transform, vertical in (
        (xticks, ax.get_xaxis_transform(), True),
        (yticks, ax.get_yaxis_transform(), False),
    ):
        segments = [[(t, 0), (t, 1)] if vertical else [(0, t), (1, t)] for t in ticks]
        ax.add_collection(LineCollection(segments, transform=transform, **GRID), autolim=False)
    place_axis_label(ax, "x", marked_ticks(ax, "x", xticks, x_labels, TICK_SIZE))
    place_axis_label(ax, "y", marked_ticks(ax, "y", yticks, y_labels, TICK_SIZE))
    if offset:
        above = offset_copy(ax.transAxes, fig, y=OFFSET_PAD, units="points")
        ax.text(0, 1, offset, transform=above, ha="left", va="baseline", fontsize=TICK_SIZE)


class LineRows(NamedTuple):
    """A line's runs, as boolean arrays over its rows: those at each x, the usable ones (that
    finished without diverging) and the diverged ones."""

    at: list[np.ndarray]
    usable: np.ndarray
    diverged: pd.Series


def line_rows(group: pd.DataFrame, factor: str, xs: Sequence[object]) -> LineRows:
    """The `LineRows` of `group` along `factor`'s values `xs`, worked out once for every
    metric drawn (`select` and `usable` would take the whole frame at each)."""
    diverged = group["verdict"] == "diverged"
    return LineRows([matches(group[factor], x) for x in xs], usable_rows(group), diverged)


def draw_line(ax: Axes, values: np.ndarray, rows: LineRows, color: str, style: str) -> bool:
    """One line of a metric's `values` (per row of the line's runs): mean and 95% interval
    over seeds per x; crosses where all diverged."""
    pos, mean, half, crosses = [], [], [], []
    for i, at in enumerate(rows.at):
        found = values[at & rows.usable]
        found = found[np.isfinite(found)]
        if len(found):
            interval = mean_ci(found)
            pos.append(i)
            mean.append(interval.mean)
            half.append(interval.half if np.isfinite(interval.half) else 0.0)
        elif at.any() and bool(rows.diverged[at].all()):
            crosses.append(i)
    if pos:
        draw_means(ax, pos, mean, half, color, style)
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


def draw_means(
    ax: Axes, pos: list[int], mean: list[float], half: list[float], color: str, style: str
) -> None:
    """Means joined by a line, with their interval bars and caps where an interval is wider
    than a point, as `ax.errorbar(..., capsize=2)` draws them; added as its container."""
    (line,) = ax.plot(pos, mean, color=color, ls=style, marker="o", ms=4, lw=1.2, zorder=2.1)
    bars = [(x, m, h) for x, m, h in zip(pos, mean, half, strict=True) if h > 0]
    caps: tuple[Line2D, ...] = ()
    columns: tuple[LineCollection, ...] = ()
    if bars:
        segments = [[(x, m - h), (x, m + h)] for x, m, h in bars]
        columns = (LineCollection(segments, colors=color, linewidths=1.2),)
        ax.add_collection(columns[0])
        ends = (
            [x for x, _, _ in bars] * 2,
            [m - h for _, m, h in bars] + [m + h for _, m, h in bars],
        )
        caps = tuple(ax.plot(*ends, color=color, ls="none", marker="_", ms=4, mew=1.0))
    ax.add_container(ErrorbarContainer((line, caps, columns), has_yerr=True))
