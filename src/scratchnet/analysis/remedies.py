"""How chapter 6's remedies move a sweep's results: per value of a lever (optimizer, weight
decay, dropout, initialisation), the gap, validation and test accuracy at the selected epoch
over seeds, and the path of the verdicts as the lever moves."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scratchnet.analysis.tables import (
    FACTOR_LABELS,
    LEVERS,
    SHORT,
    format_value,
    sorted_values,
    usable,
    varied_factors,
)

# At the epoch chosen on the selection split: the gap there, the accuracy chosen on, and the
# test accuracy there (reported, never chosen on).
REMEDY_OUTCOMES = ("gap_acc_at_best", "best_acc", "test_acc_at_best")
VERDICT_ORDER = ("overfit", "good_fit", "underfit", "diverged")
ORDERED = ("weight_decay_lambda", "dropout_ratio")  # numeric levers: "as ... grows"


def varied_levers(diag: pd.DataFrame) -> list[str]:
    """The levers the sweep varies, in LEVERS order."""
    return [f for f in varied_factors(diag) if f in LEVERS]


def lever_lines(diag: pd.DataFrame, lever: str) -> list[str]:
    """The other varied factors: each combination of their values is one line along `lever`."""
    return [f for f in varied_factors(diag) if f != lever]


def lever_table(diag: pd.DataFrame, lever: str) -> pd.DataFrame:
    """One row per (other varied factors, lever value): runs, seeds, verdict counts, the
    majority verdict, and mean/std/min/max over the usable runs of REMEDY_OUTCOMES."""
    keys = [*lever_lines(diag, lever), lever]
    rows = []
    for values, group in diag.groupby(keys, dropna=False, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        row: dict[str, object] = dict(zip(keys, values, strict=True))
        row["runs"], row["seeds"] = len(group), int(group["seed"].nunique())
        for verdict in VERDICT_ORDER:
            row[verdict] = int((group["verdict"] == verdict).sum())
        row["verdict"] = majority(group["verdict"])
        ok = usable(group)
        for key in REMEDY_OUTCOMES:
            series = ok[key].dropna()
            row[f"{key}_mean"] = float(series.mean()) if len(series) else np.nan
            row[f"{key}_std"] = float(series.std(ddof=1)) if len(series) > 1 else np.nan
            row[f"{key}_min"] = float(series.min()) if len(series) else np.nan
            row[f"{key}_max"] = float(series.max()) if len(series) else np.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    return order_rows(table, keys) if len(table) else table


def order_rows(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows sorted by each key's values as `sorted_values` orders them (missing last)."""
    ranks = {}
    for key in keys:
        order = {format_value(key, v): i for i, v in enumerate(sorted_values(table[key]))}
        ranks[key] = table[key].map(lambda v, o=order, k=key: o[format_value(k, v)])
    index = pd.DataFrame(ranks).sort_values(keys, kind="stable").index
    return table.loc[index].reset_index(drop=True)


def majority(verdicts: pd.Series) -> str:
    """The most common verdict (ties: the first in VERDICT_ORDER); `no data` when none."""
    counts = verdicts.dropna().value_counts()
    if counts.empty:
        return "no data"
    best = counts.max()
    return next(v for v in (*VERDICT_ORDER, *counts.index) if counts.get(v, 0) == best)


@dataclass(frozen=True)
class Movement:
    """How one line's results move along the lever: its verdicts and its gap at the best
    epoch from the first value to the last, and whether the seeds resolve that change."""

    line: str
    steps: tuple[tuple[str, str, int, int], ...]  # (value, majority verdict, its count, runs)
    gap_first: float
    gap_last: float
    resolved: bool | None  # the seeds' [min, max] ranges of first and last do not overlap

    @property
    def path(self) -> tuple[str, ...]:
        """The majority verdicts in lever order, repeats merged: (overfit, good_fit)."""
        merged: list[str] = []
        for _, verdict, _, _ in self.steps:
            if not merged or merged[-1] != verdict:
                merged.append(verdict)
        return tuple(merged)


def movements(table: pd.DataFrame, lever: str, lines: list[str]) -> list[Movement]:
    """One Movement per line of `lever_table`'s rows."""
    groups = [table]
    if lines:
        groups = [g for _, g in table.groupby(lines, dropna=False, sort=False)]
    found = []
    for group in groups:
        label = " ".join(f"{SHORT.get(f, f)}={format_value(f, group[f].iloc[0])}" for f in lines)
        steps = tuple(
            (format_value(lever, r[lever]), r["verdict"], int(r.get(r["verdict"], 0)), r["runs"])
            for _, r in group.iterrows()
        )
        first, last = group.iloc[0], group.iloc[-1]
        found.append(
            Movement(
                label,
                steps,
                float(first["gap_acc_at_best_mean"]),
                float(last["gap_acc_at_best_mean"]),
                resolved(first, last),
            )
        )
    return found


def resolved(first: pd.Series, last: pd.Series) -> bool | None:
    """True when the seeds' gap ranges at the first and last value do not overlap; None
    when either has fewer than two seeds (nothing to judge the spread by)."""
    if first["seeds"] < 2 or last["seeds"] < 2:
        return None
    lo_a, hi_a = first["gap_acc_at_best_min"], first["gap_acc_at_best_max"]
    lo_b, hi_b = last["gap_acc_at_best_min"], last["gap_acc_at_best_max"]
    if any(pd.isna(v) for v in (lo_a, hi_a, lo_b, hi_b)):
        return None
    return bool(hi_a < lo_b or hi_b < lo_a)


def describe(movement: Movement, lever: str) -> str:
    """One sentence: the verdicts along the lever and how the gap moved."""
    label = FACTOR_LABELS[lever]
    along = f"as the {label} grows" if lever in ORDERED else f"across {label} values"
    values = ", ".join(f"{v}: {verdict} ({n}/{runs})" for v, verdict, n, runs in movement.steps)
    path = " → ".join(movement.path)
    moved = f"verdicts move {path} {along}" if len(movement.path) > 1 else f"verdicts stay {path}"
    gap = (
        f"gap at the best epoch {movement.gap_first:.3f} at {movement.steps[0][0]} and "
        f"{movement.gap_last:.3f} at {movement.steps[-1][0]}"
    )
    if movement.resolved is not None:
        gap += " (seeds' ranges " + ("apart: resolved" if movement.resolved else "overlap") + ")"
    prefix = f"{movement.line}: " if movement.line else ""
    return f"{prefix}{moved} [{values}]; {gap}."
