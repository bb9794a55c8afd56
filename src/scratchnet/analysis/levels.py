"""A factor's levels: its distinct values, or bins of them when a search sampled many.

A grid runs a few values of each factor, each a row of a table. A search (Optuna) samples a
continuous factor anew in every trial: one row per sampled value would be one run per row, so
a numeric factor with more than `MAX_LEVELS` distinct values is cut into `BINS` bins of about
equal counts (on a log scale when its values span a factor of 10 or more, as learning rates
do). Categorical factors (strings) are never binned. Any factor works: nothing here names one.
"""

import math

import numpy as np
import pandas as pd

MAX_LEVELS = 8
BINS = 5


def is_numeric(series: pd.Series) -> bool:
    """True for a numeric (not boolean) column."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def needs_bins(series: pd.Series) -> bool:
    """A numeric column with more distinct values than a table should have rows."""
    return is_numeric(series) and series.nunique(dropna=True) > MAX_LEVELS


def short(value: float) -> str:
    """A bin edge for people: three significant digits."""
    return f"{value:.3g}"


def bin_edges(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Edges of about-equal-count bins of the finite `values` (log-spaced quantiles when the
    values are positive and span a factor of 10 or more)."""
    x = values[np.isfinite(values)]
    log = bool(len(x)) and x.min() > 0 and x.max() / x.min() >= 10
    scaled = np.log(x) if log else x
    edges = np.unique(np.quantile(scaled, np.linspace(0, 1, bins + 1)))
    return np.exp(edges) if log else edges


def bin_labels(edges: np.ndarray, integer: bool) -> list[str]:
    """`lo–hi` per bin: [lo, hi), the last bin closed; integers as the integers each holds."""
    pairs = list(zip(edges[:-1], edges[1:], strict=True))
    if not integer:
        return [f"{short(lo)}–{short(hi)}" for lo, hi in pairs]
    last = len(pairs) - 1
    return [
        f"{math.ceil(lo)}–{math.floor(hi) if i == last else math.ceil(hi) - 1}"
        for i, (lo, hi) in enumerate(pairs)
    ]


def binned(series: pd.Series, bins: int = BINS) -> pd.Series:
    """Each value's bin as an ordered category `lo–hi` (the last bin closed); missing stays NA."""
    values = series.astype(float).to_numpy()
    edges = bin_edges(values, bins)
    labels = bin_labels(edges, pd.api.types.is_integer_dtype(series))
    if len(edges) < 2:
        return series.astype(object)
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(labels) - 1)
    codes = [int(c) if ok else -1 for c, ok in zip(index, np.isfinite(values), strict=True)]
    dtype = pd.CategoricalDtype(labels, ordered=True)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), index=series.index)


def levels(frame: pd.DataFrame, factor: str) -> pd.Series:
    """The column to group `factor` by: its values, or their bins when there are many."""
    series = frame[factor]
    return binned(series) if needs_bins(series) else series


def is_binned(frame: pd.DataFrame, factor: str) -> bool:
    """Whether `levels` bins this factor."""
    return needs_bins(frame[factor])
