"""Learning curves of a configuration repeated over seeds: the mean line and its shaded 95%
confidence interval (Student t over the seeds that logged each epoch)."""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from scratchnet.analysis.statistics import t_quantile

BAND_ALPHA = 0.2
UNBOUNDED = (-np.inf, np.inf)
# Where a metric can lie: an interval is cut there (a t interval of few seeds may overshoot).
METRIC_RANGE = {"acc": (0.0, 1.0), "loss": (0.0, np.inf)}


def metric_range(column: str) -> tuple[float, float]:
    """The values `column` (e.g. `val_acc`) can take, by its kind (its last `_` part)."""
    return METRIC_RANGE.get(column.rsplit("_", 1)[-1], UNBOUNDED)


def epoch_band(histories: Sequence[pd.DataFrame], column: str) -> pd.DataFrame:
    """Per epoch: `mean`, `low`, `high` of `column` over the runs with a finite value there
    (NaN bounds where fewer than two runs have one), the bounds cut to `metric_range`."""
    parts = [h[["epoch", column]] for h in histories if column in h]
    if not parts:
        return pd.DataFrame(columns=["epoch", "mean", "low", "high"])
    stacked = pd.concat(parts, ignore_index=True)
    stacked = stacked[np.isfinite(stacked[column].to_numpy(dtype=float))]
    stats = stacked.groupby("epoch", sort=True)[column].agg(["mean", "std", "count"])
    counts = stats["count"].to_numpy()
    quantiles = {n: t_quantile(n - 1) for n in set(counts.tolist()) if n >= 2}
    t = np.array([quantiles.get(n, np.nan) for n in counts])
    half = t * stats["std"].to_numpy() / np.sqrt(counts)
    mean = stats["mean"].to_numpy()
    floor, ceiling = metric_range(column)
    low, high = np.maximum(mean - half, floor), np.minimum(mean + half, ceiling)
    return pd.DataFrame({"epoch": stats.index.to_numpy(), "mean": mean, "low": low, "high": high})


def draw_band(ax: Axes, band: pd.DataFrame, color: str, style: str) -> None:
    """The mean line and, where it is known, the shaded interval."""
    if band.empty:
        return
    epochs = band["epoch"].to_numpy()
    ax.plot(epochs, band["mean"].to_numpy(), color=color, lw=1.2, ls=style)
    known = np.isfinite(band["low"].to_numpy(dtype=float))
    ax.fill_between(
        epochs,
        band["low"].to_numpy(dtype=float),
        band["high"].to_numpy(dtype=float),
        where=known,
        color=color,
        alpha=BAND_ALPHA,
        lw=0,
    )
