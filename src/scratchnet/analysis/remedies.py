"""How chapter 6's remedies move a sweep's results: per value of a lever (optimizer, weight
decay, dropout, initialisation), the gap, validation and test accuracy at the selected epoch
over seeds, and the path of the verdicts as the lever moves."""

from collections.abc import Callable
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
from scratchnet.nn import OPTIMIZERS
from scratchnet.nn.two_layer_net import INIT_SCALES

# At the epoch chosen on the selection split: the gap there, the accuracy chosen on, and the
# test accuracy there (reported, never chosen on); and how far training got (the optimizers'
# race): the final train loss.
REMEDY_OUTCOMES = ("gap_acc_at_best", "best_acc", "test_acc_at_best")
TABLE_OUTCOMES = (*REMEDY_OUTCOMES, "final_train_loss")
VERDICT_ORDER = ("overfit", "good_fit", "underfit", "diverged")
ORDERED = ("weight_decay_lambda", "dropout_ratio")  # numeric levers: "as ... grows"


def varied_levers(diag: pd.DataFrame) -> list[str]:
    """The levers the sweep varies, in LEVERS order."""
    return [f for f in varied_factors(diag) if f in LEVERS]


def companions(diag: pd.DataFrame, lever: str) -> list[str]:
    """Varied factors that the lever's value determines (e.g. each optimizer at its own lr):
    they are shown beside the lever, not split into lines of their own."""
    others = [f for f in varied_factors(diag) if f != lever]
    grouped = diag.groupby(lever, dropna=False)
    return [f for f in others if bool((grouped[f].nunique(dropna=False) <= 1).all())]


def lever_lines(diag: pd.DataFrame, lever: str) -> list[str]:
    """The other varied factors: each combination of their values is one line along `lever`."""
    tied = companions(diag, lever)
    return [f for f in varied_factors(diag) if f != lever and f not in tied]


def lever_table(diag: pd.DataFrame, lever: str) -> pd.DataFrame:
    """One row per (other varied factors, lever value): runs, seeds, verdict counts, the
    majority verdict, and mean/std/min/max over the usable runs of TABLE_OUTCOMES."""
    keys = [*lever_lines(diag, lever), lever]
    rows = []
    for values, group in diag.groupby(keys, dropna=False, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        row: dict[str, object] = dict(zip(keys, values, strict=True))
        row |= {f: group[f].iloc[0] for f in companions(diag, lever)}
        row["runs"], row["seeds"] = len(group), int(group["seed"].nunique())
        for verdict in VERDICT_ORDER:
            row[verdict] = int((group["verdict"] == verdict).sum())
        row["verdict"] = majority(group["verdict"])
        ok = usable(group)
        row["onsets"] = int(ok["overfit_onset"].notna().sum()) if "overfit_onset" in ok else 0
        for key in TABLE_OUTCOMES:
            series = ok[key].dropna()
            row[f"{key}_mean"] = float(series.mean()) if len(series) else np.nan
            row[f"{key}_std"] = float(series.std(ddof=1)) if len(series) > 1 else np.nan
            row[f"{key}_min"] = float(series.min()) if len(series) else np.nan
            row[f"{key}_max"] = float(series.max()) if len(series) else np.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    return order_rows(table, keys) if len(table) else table


def value_order(frame: pd.DataFrame, key: str) -> list[object]:
    """A factor's values in the order tables show them: optimizers as the book presents them
    (sgd, momentum, ..., adam), initial weights as numbers then xavier, sigmoid, he, relu,
    everything else as `sorted_values` sorts it."""
    values = sorted_values(frame[key])
    if key == "optimizer":
        book = list(OPTIMIZERS)
        values.sort(key=lambda v: book.index(v) if v in book else len(book))
    if key == "weight_init_std":
        names = list(INIT_SCALES)
        values.sort(key=lambda v: (names.index(v) + 1, 0.0) if v in names else (0, _number(v)))
    return values


def _number(value: object) -> float:
    """A std as a number for sorting (an unreadable one last)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("inf")


def order_rows(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows sorted by each key's values in `value_order` (missing last)."""
    ranks = {}
    for key in keys:
        order = {format_value(key, v): i for i, v in enumerate(value_order(table, key))}
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
class Step:
    """One lever value on a line: its majority verdict (count of runs) and mean outcomes."""

    value: str
    verdict: str
    count: int
    runs: int
    row: pd.Series  # the lever table's row: the outcomes' mean/std/min/max, seeds


@dataclass(frozen=True)
class Movement:
    """How one line's results move along the lever."""

    line: str
    steps: tuple[Step, ...]

    @property
    def path(self) -> tuple[str, ...]:
        """The majority verdicts in lever order, repeats merged: (overfit, good_fit)."""
        merged: list[str] = []
        for step in self.steps:
            if not merged or merged[-1] != step.verdict:
                merged.append(step.verdict)
        return tuple(merged)


def step(lever: str, row: pd.Series) -> Step:
    """A lever table row as a Step."""
    verdict = str(row["verdict"])
    count = int(row.get(verdict, 0))
    return Step(format_value(lever, row[lever]), verdict, count, int(row["runs"]), row)


def movements(table: pd.DataFrame, lever: str, lines: list[str]) -> list[Movement]:
    """One Movement per line of `lever_table`'s rows."""
    groups = [table]
    if lines:
        groups = [g for _, g in table.groupby(lines, dropna=False, sort=False)]
    found = []
    for group in groups:
        label = " ".join(f"{SHORT.get(f, f)}={format_value(f, group[f].iloc[0])}" for f in lines)
        steps = tuple(step(lever, row) for _, row in group.iterrows())
        found.append(Movement(label, steps))
    return found


def resolved(a: pd.Series, b: pd.Series, key: str = "gap_acc_at_best") -> bool | None:
    """True when the seeds' [min, max] ranges of `key` at two lever values do not overlap;
    None when either has fewer than two seeds (nothing to judge the spread by)."""
    if a["seeds"] < 2 or b["seeds"] < 2:
        return None
    lo_a, hi_a, lo_b, hi_b = (r[f"{key}_{s}"] for r in (a, b) for s in ("min", "max"))
    if any(pd.isna(v) for v in (lo_a, hi_a, lo_b, hi_b)):
        return None
    return bool(hi_a < lo_b or hi_b < lo_a)


def _apart(a: Step, b: Step, key: str = "gap_acc_at_best") -> str:
    found = resolved(a.row, b.row, key)
    return "" if found is None else " (seeds' ranges " + ("apart)" if found else "overlap)")


def _gap(step: Step) -> str:
    return f"{step.row['gap_acc_at_best_mean']:.3f} at {step.value}"


def _onsets(step: Step) -> str:
    return f"{step.row['onsets']}/{step.runs} at {step.value}"


def trend(movement: Movement) -> str:
    """An ordered lever: the gap and the runs with an onset of overfitting (a rising
    validation loss) at its first value against its last."""
    first, last = movement.steps[0], movement.steps[-1]
    return (
        f"gap at the best epoch {_gap(first)}, {_gap(last)}{_apart(first, last)}; "
        f"runs with an onset {_onsets(first)}, {_onsets(last)}"
    )


def _mean(key: str) -> Callable[[Step], float]:
    """A sort key: the step's mean of `key`."""
    return lambda step: float(step.row[f"{key}_mean"])


def extremes(movement: Movement) -> str:
    """A categorical lever: where the gap is smallest and largest, the chosen accuracy
    highest, and the final train loss lowest."""
    steps = [s for s in movement.steps if not pd.isna(s.row["gap_acc_at_best_mean"])]
    if not steps:
        return "no run finished without diverging"
    by = {k: sorted(steps, key=_mean(k)) for k in TABLE_OUTCOMES}
    low, high = by["gap_acc_at_best"][0], by["gap_acc_at_best"][-1]
    best, fastest = by["best_acc"][-1], by["final_train_loss"][0]
    return (
        f"gap at the best epoch smallest {_gap(low)}, largest {_gap(high)}{_apart(low, high)}; "
        f"highest accuracy at the best epoch {best.row['best_acc_mean']:.3f} at {best.value}; "
        f"lowest final train loss {fastest.row['final_train_loss_mean']:.3f} at {fastest.value}"
    )


def describe(movement: Movement, lever: str) -> str:
    """One sentence: the verdicts along the lever and how the outcomes moved."""
    label = FACTOR_LABELS[lever]
    along = f"as the {label} grows" if lever in ORDERED else f"across {label} values"
    values = ", ".join(f"{s.value}: {s.verdict} ({s.count}/{s.runs})" for s in movement.steps)
    path = " → ".join(movement.path)
    moved = f"verdicts {'move' if len(movement.path) > 1 else 'stay'} {path} {along}"
    outcome = trend(movement) if lever in ORDERED else extremes(movement)
    prefix = f"{movement.line}: " if movement.line else ""
    return f"{prefix}{moved} [{values}]; {outcome}."
