"""Light ticks for figures of many small axes: a few labelled gridlines per axis instead of
matplotlib's Tick objects (five artists and a layout each, most of such a figure's time)."""

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.ticker import MaxNLocator, NullLocator
from matplotlib.transforms import offset_copy

# Light ticks (`light_ticks`): a few labelled gridlines per axis, as matplotlib's grid draws
# them, labels `TICK_PAD` points off the axes.
TICK_BINS, TICK_STEPS, TICK_PAD = 4, (1, 2, 2.5, 5, 10), 3.0
GRID = {"colors": "#b0b0b0", "linewidths": 0.8, "alpha": 0.3}


def tick_values(
    low: float, high: float, bins: int = TICK_BINS, integer: bool = False
) -> list[float]:
    """At most `bins` + 1 round values within [`low`, `high`] (`MaxNLocator`'s choice)."""
    locator = MaxNLocator(nbins=bins, steps=TICK_STEPS, integer=integer)
    slack = 1e-9 * max(high - low, 1e-12)
    return [float(t) for t in locator.tick_values(low, high) if low - slack <= t <= high + slack]


def tick_labels(ticks: Sequence[float]) -> list[str]:
    """The ticks' values with as many decimals as the finest of them needs (at most 6)."""
    exact = (all(abs(t - round(t, d)) < 1e-9 * max(1, abs(t)) for t in ticks) for d in range(7))
    decimals = next((d for d, ok in enumerate(exact) if ok), 6)
    return [f"{t:.{decimals}f}" for t in ticks]


def light_ticks(
    ax: Axes, xticks: Sequence[float], yticks: Sequence[float], fontsize: float, x_every: int = 1
) -> None:
    """Gridlines at `xticks` and `yticks`, labelled by a text each off the axes (only every
    `x_every`th x tick, from the first), in place of matplotlib's ticks: those build five
    artists and a layout per tick, most of the time of a figure of many small axes. The axis
    labels then need fixed places (`set_label_coords`): the axes have no ticks to measure."""
    ax.xaxis.set_major_locator(NullLocator())
    ax.yaxis.set_major_locator(NullLocator())
    for ticks, transform, vertical in (
        (xticks, ax.get_xaxis_transform(), True),
        (yticks, ax.get_yaxis_transform(), False),
    ):
        lines = [[(t, 0), (t, 1)] if vertical else [(0, t), (1, t)] for t in ticks]
        ax.add_collection(LineCollection(lines, transform=transform, **GRID), autolim=False)
    fig = ax.get_figure()
    below = offset_copy(ax.get_xaxis_transform(), fig, y=-TICK_PAD, units="points")
    shown = list(xticks)[::x_every]
    for tick, text in zip(shown, tick_labels(shown), strict=True):
        ax.text(tick, 0, text, transform=below, ha="center", va="top", fontsize=fontsize)
    left = offset_copy(ax.get_yaxis_transform(), fig, x=-TICK_PAD, units="points")
    for tick, text in zip(yticks, tick_labels(yticks), strict=True):
        ax.text(0, tick, text, transform=left, ha="right", va="center", fontsize=fontsize)
