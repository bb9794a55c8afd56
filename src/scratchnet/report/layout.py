"""What every report figure shares: colours, labels, and the runs grouped by configuration."""

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from scratchnet.analysis.tables import FACTORS, diagnose_runs, selection_splits, sorted_values

MAX_CONFIGS = 48  # learning-curve cells; more would make an unreadable figure
TRAIN, VAL, TEST = "#1f77b4", "#9467bd", "#d62728"
BEST, ONSET = "#2ca02c", "#ff7f0e"
METRIC_LABELS = {
    "best_acc": "{split} accuracy at best epoch",
    "test_acc_at_best": "test accuracy at best epoch",
    "final_test_acc": "final test accuracy",
    "gap_acc_final": "final accuracy gap (train - {split})",
    "gap_loss_final": "final loss gap ({split} - train)",
    "gap_acc_max": "max accuracy gap",
    "gap_acc_at_best": "accuracy gap at best epoch (train - {split})",
}


def chosen_on(diag: pd.DataFrame) -> str:
    """The short name of the split the runs chose on: val, test, or val/test when mixed."""
    splits = selection_splits(diag)
    return "/".join(splits) if splits else "val"


def metric_label(key: str, split: str) -> str:
    """The axis label of a diagnosis column, naming the split the runs chose on."""
    return METRIC_LABELS.get(key, key).format(split=split)


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


def select(frame: pd.DataFrame, column: str, value: object) -> pd.DataFrame:
    """Rows whose `column` equals `value` (missing matches missing)."""
    return frame[matches(frame[column], value)]


def matches(column: pd.Series, value: object) -> np.ndarray:
    """The rows `select` keeps of `column` == `value`, as a boolean array: selecting a column's
    values through it costs a fraction of selecting whole frames (every column taken)."""
    same = column.isna() if value is None else column == value
    return same.to_numpy(dtype=bool, na_value=False)


def configurations(diag: pd.DataFrame, factors: Sequence[str]) -> list[pd.DataFrame]:
    """The runs grouped by their values of `factors`, in sorted order."""
    if not factors:
        return [diag] if len(diag) else []
    groups = [np.arange(len(diag))]  # row positions: a frame is taken once per group, at the end
    for factor in factors:
        column = diag[factor]
        split = []
        for rows in groups:
            values = column.iloc[rows]
            for value in sorted_values(values):
                same = values.isna() if value is None else values == value
                split.append(rows[same.to_numpy(dtype=bool, na_value=False)])
        groups = split
    return [diag.iloc[rows] for rows in groups if len(rows)]


def spacing(
    width: float,
    height: float,
    rows: int,
    cols: int,
    margins: tuple[float, float, float, float],
    gaps: tuple[float, float] = (0.0, 0.0),
) -> dict[str, float]:
    """`gridspec_kw` placing a rows x cols grid in a `width` x `height` area (inches), with
    `margins` (left, right, bottom, top) and `gaps` (between columns, rows) in inches.

    A fixed layout: constrained layout runs a solver over every text's extent at each draw
    (most of a report's time), and its floating-point result varies by a pixel between draws.
    """
    left, right, bottom, top = margins
    wgap, hgap = gaps
    cell_w = (width - left - right - (cols - 1) * wgap) / cols
    cell_h = (height - bottom - top - (rows - 1) * hgap) / rows
    return {
        "left": left / width,
        "right": 1 - right / width,
        "bottom": bottom / height,
        "top": 1 - top / height,
        "wspace": wgap / cell_w,
        "hspace": hgap / cell_h,
    }


Rect = tuple[float, float, float, float]


def row_rects(
    figsize: tuple[float, float],
    corner: tuple[float, float],
    size: tuple[float, float],
    margins: tuple[float, float, float, float],
    gap: float,
    count: int,
) -> list[Rect]:
    """`fig.add_axes` rects (figure fractions) of `count` axes side by side in the `size`
    (width, height) area whose top-left corner is `corner` (inches from the figure's top
    left), with `margins` (left, right, bottom, top) and a `gap` between axes, in inches.

    Plain axes placed so cost a fraction of subfigures or a gridspec per cell, and their
    positions are exact (the same pixels on every draw).
    """
    fig_w, fig_h = figsize
    x0, y0 = corner
    width, height = size
    left, right, bottom, top = margins
    axes_w = (width - left - right - (count - 1) * gap) / count
    y = (fig_h - y0 - height + bottom) / fig_h
    h = (height - bottom - top) / fig_h
    return [((x0 + left + i * (axes_w + gap)) / fig_w, y, axes_w / fig_w, h) for i in range(count)]


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: building a figure of thousands of artists only
    allocates (nothing it makes is garbage yet), and each collection walks the whole heap (the
    report's frames included), a fifth of such a figure's time. Restored on the way out."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# The text columns a figure reads; the others (provenance: commit, digests, overrides, ...)
# are left out of the frame the figures select from, which is most of the cost of a selection.
FIGURE_TEXT = ("run_id", "name", "status", "selection", "verdict", *FACTORS)


def figure_frame(diag: pd.DataFrame) -> pd.DataFrame:
    """`diag` with what the figures (and the factor tables) read: the factors, the run's
    identity and status, and every numeric column (the diagnosis)."""
    keep = [c for c in diag.columns if c in FIGURE_TEXT or is_numeric_dtype(diag[c])]
    return diag.loc[:, keep]


def diagnosed(runs: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """`runs` as the figures need them: diagnosed (diagnosed here if they are not yet)."""
    return runs if "verdict" in runs else diagnose_runs(runs, history)
