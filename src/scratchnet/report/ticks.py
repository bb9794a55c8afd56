"""Light ticks for figures of many small axes: a few labelled gridlines per axis instead of
matplotlib's Tick objects (five artists and a layout each, most of such a figure's time)."""

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.markers import TICKDOWN, TICKLEFT, TICKRIGHT
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator, NullLocator, ScalarFormatter
from matplotlib.transforms import ScaledTranslation, offset_copy

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


# Marked ticks (`marked_ticks`): matplotlib's default look (marks `MARK` points long outside
# the axes, labels `MARK_PAD` beyond, axis labels `LABEL_PAD` beyond those), as one line of
# tick markers and a text per label per axis.
MARK, MARK_PAD, LABEL_PAD = 3.5, 3.5, 4.0
_TEXT_PATH = TextToPath()


def text_width(text: str, fontsize: float) -> float:
    """The width of `text` in points at `fontsize`, from the font's metrics (no renderer)."""
    width, _, _ = _TEXT_PATH.get_text_width_height_descent(
        text, FontProperties(size=fontsize), ismath=False
    )
    return float(width)


def scalar_labels(ticks: Sequence[float], low: float, high: float) -> tuple[list[str], str]:
    """The labels matplotlib's default formatter gives `ticks` on a [`low`, `high`] axis, and
    its offset or scale text (empty when none)."""
    formatter = ScalarFormatter()
    formatter.create_dummy_axis()
    assert formatter.axis is not None
    formatter.axis.set_view_interval(low, high)
    formatter.set_locs(list(ticks))
    return [formatter(t, i) for i, t in enumerate(ticks)], formatter.get_offset()


def marked_ticks(
    ax: Axes, axis: str, ticks: Sequence[float], labels: Sequence[str], fontsize: float
) -> float:
    """Ticks on the bottom (`axis` "x"), left ("y") or right ("right") of `ax` at `ticks`
    (data values), marked and labelled, in place of matplotlib's Tick objects (five artists
    and a layout each); returns how far the labels reach off the axes, in points."""
    fig = ax.get_figure()
    assert fig is not None
    vertical = axis == "x"
    transform = ax.get_xaxis_transform() if vertical else ax.get_yaxis_transform()
    (ax.xaxis if vertical else ax.yaxis).set_major_locator(NullLocator())
    edge, marker = {"x": (0, TICKDOWN), "y": (0, TICKLEFT), "right": (1, TICKRIGHT)}[axis]
    where = [(t, edge) if vertical else (edge, t) for t in ticks]
    xs, ys = [p[0] for p in where], [p[1] for p in where]
    marks = Line2D(xs, ys, ls="none", marker=marker, ms=MARK, mew=0.8, color="black")
    marks.set(transform=transform, clip_on=False)
    ax.add_artist(marks)
    off = MARK + MARK_PAD
    shift = {"x": (0, -off), "y": (-off, 0), "right": (off, 0)}[axis]
    place = offset_copy(transform, fig, x=shift[0], y=shift[1], units="points")
    ha, va = {"x": ("center", "top"), "y": ("right", "center_baseline")}.get(
        axis, ("left", "center_baseline")
    )
    for x, y, text in zip(xs, ys, labels, strict=True):
        ax.text(x, y, text, transform=place, ha=ha, va=va, fontsize=fontsize)
    if vertical:
        return off + fontsize  # a line of text is as tall as its font size
    return off + max((text_width(t, fontsize) for t in labels), default=0.0)


def place_axis_label(ax: Axes, axis: str, reach: float) -> None:
    """The x ("x") or y ("y") axis label `LABEL_PAD` points beyond tick labels that reach
    `reach` points off the axes, where matplotlib would put it."""
    fig = ax.get_figure()
    assert fig is not None
    off = (reach + LABEL_PAD) / 72
    x, y, dx, dy = (0.5, 0, 0, -off) if axis == "x" else (0, 0.5, -off, 0)
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_label_coords(
        x, y, transform=ax.transAxes + ScaledTranslation(dx, dy, fig.dpi_scale_trans)
    )
