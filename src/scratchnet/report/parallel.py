"""Sweeps over two or more factors: parallel coordinates of every run, and which factors
matter most (`scratchnet.analysis.importance`). Drawn with matplotlib's object API.

Optuna's matplotlib plots (optuna 5: `plot_parallel_coordinate`, `plot_param_importances`)
call `plt.style.use("ggplot")`, changing the user's global matplotlib style, and draw on
pyplot's global figures; its importance evaluators fit models to the trials. These are drawn
with the object API instead, from the runs themselves (a grid has no Optuna study), and are
deterministic.
"""

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from scratchnet.analysis.importance import importance
from scratchnet.analysis.levels import MAX_LEVELS, is_numeric
from scratchnet.analysis.tables import (
    factor_label,
    format_value,
    sorted_values,
    usable,
    varied_factors,
)
from scratchnet.report.layout import metric_label

METRIC = "best_acc"


def axis_positions(series: pd.Series) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """Each value's height on its axis (0 to 1) and the axis's (height, label) ticks.

    A grid's few levels are evenly spaced in sorted order (a missing value, e.g. the full
    training set, last); a search's many sampled values on a linear or, spanning a factor of
    10 or more, a log scale.
    """
    factor = str(series.name)
    values = sorted_values(series)
    if is_numeric(series) and len(values) > MAX_LEVELS and not series.isna().any():
        x = series.to_numpy(dtype=float)
        log = x.min() > 0 and x.max() / x.min() >= 10
        scaled = np.log(x) if log else x
        lo, hi = scaled.min(), scaled.max()
        span = hi - lo if hi > lo else 1.0
        ticks = np.linspace(lo, hi, 5)
        labels = [format_value(factor, float(f"{(np.exp(t) if log else t):.3g}")) for t in ticks]
        return (scaled - lo) / span, [
            ((t - lo) / span, lab) for t, lab in zip(ticks, labels, strict=True)
        ]
    step = 1 / max(1, len(values) - 1)
    where = {("missing" if v is None else v): i * step for i, v in enumerate(values)}
    heights = np.array([where["missing" if pd.isna(v) else v] for v in series], dtype=float)
    return heights, [(i * step, format_value(factor, v)) for i, v in enumerate(values)]


SPREAD = 0.2  # of the gap between two levels, shared by the runs at one level


def spread_within(heights: np.ndarray, levels: int) -> np.ndarray:
    """Runs at the same level fanned out a little, in their drawing order (worst to best), so
    their lines do not hide each other; a continuous axis (heights all distinct) is unchanged."""
    if len(np.unique(heights)) == len(heights) or levels < 2:
        return heights
    width = SPREAD / (levels - 1)
    out = heights.astype(float).copy()
    for value in np.unique(heights):
        where = np.flatnonzero(heights == value)
        if len(where) > 1:
            out[where] += (np.arange(len(where)) / (len(where) - 1) - 0.5) * width
    return out


def parallel_coordinates(diag: pd.DataFrame) -> Figure:
    """One line per run that finished without diverging, through its value of each varied
    factor to its choice accuracy at the best epoch; colour and last axis: that accuracy."""
    ok = usable(diag).sort_values([METRIC, "name", "run_id"], kind="stable")
    factors = varied_factors(diag)
    chosen = "/".join(sorted(ok["selection"].dropna().unique())) or "val"
    fig = Figure(figsize=(1.9 * (len(factors) + 1) + 1.5, 4.2), layout="constrained")
    ax = fig.subplots()
    metric = ok[METRIC].to_numpy(dtype=float)
    lo, hi = (float(metric.min()), float(metric.max())) if len(metric) else (0.0, 1.0)
    norm = Normalize(lo, hi if hi > lo else lo + 1e-9)
    columns, ticks = [], []
    for f in factors:
        heights, marks = axis_positions(ok[f].rename(f))
        columns.append(spread_within(heights, len(marks)))
        ticks.append(marks)
    columns.append(norm(metric))
    ticks.append([(float(norm(v)), f"{v:.3f}") for v in np.linspace(lo, hi, 5)])
    cmap = colormaps["viridis"]
    for i in range(len(ok)):
        ys = [col[i] for col in columns]
        ax.plot(range(len(columns)), ys, color=cmap(norm(metric[i])), lw=1.2, alpha=0.8)
    for x, marks in enumerate(ticks):
        ax.axvline(x, color="#444444", lw=0.8)
        for y, text in marks:
            ax.text(x + 0.03, y, text, fontsize=7, va="center", ha="left", color="#222222")
    names = [factor_label(f) for f in factors] + [metric_label(METRIC, chosen)]
    ax.set_xticks(range(len(columns)), names, fontsize=8)
    ax.set_xlim(-0.1, len(columns) - 0.6)
    ax.set_ylim(-0.15, 1.15)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"{len(ok)} runs that finished without diverging", fontsize=9)
    return fig


def importance_figure(diag: pd.DataFrame) -> Figure:
    """The share of the choice accuracy's variance each varied factor explains, as bars."""
    table = importance(diag).iloc[::-1]
    fig = Figure(figsize=(6.0, 0.5 * len(table) + 1.4), layout="constrained")
    ax = fig.subplots()
    shares = table["share"].fillna(0.0).to_numpy(dtype=float)
    labels = [
        f"{factor_label(f)} ({n} levels)"
        for f, n in zip(table["factor"], table["levels"], strict=True)
    ]
    ax.barh(range(len(table)), shares, color="#1f77b4")
    for i, share in enumerate(shares):
        ax.text(share + 0.01, i, f"{share:.2f}", va="center", fontsize=8)
    ax.set_yticks(range(len(table)), labels, fontsize=8)
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("share of variance explained (eta squared of the main effect)", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig
