"""How the report writes values: numbers, times, versions, and frames as tables."""

from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd

from scratchnet.analysis.tables import FACTORS, factor_label, format_value, varied_factors
from scratchnet.report.markup import Table
from scratchnet.tracking.provenance import package_versions

MISSING = "—"


def utc(ms: object) -> str:
    """A store timestamp (ms since the epoch) as `YYYY-MM-DD HH:MM:SS UTC`."""
    if ms is None or pd.isna(ms):
        return MISSING
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt(value: object, spec: str = ".4f") -> str:
    """A number with `spec`, integers as integers, missing as a dash."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if isinstance(value, str):
        return value
    if spec == "d":
        return str(int(value))
    text = format(float(value), spec)
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.0000"


def versions() -> list[tuple[str, str]]:
    """Python and the installed versions of the packages the report depends on."""
    return list(package_versions().items())


def distinct(series: pd.Series) -> list[str]:
    """Sorted distinct non-missing values as strings."""
    return sorted({str(v) for v in series.dropna()})


# Table layouts: (column, header, format).
# Formats: a format spec (".4f", "d", "g"), "s" text, "n" a factor's value (format_value),
# "±" a mean column `X_mean` shown with the half-width of its 95% interval `X_ci`.
Column = tuple[str, str, str]
HEADERS = {"batch_size": "batch", "hidden_size": "hidden", "train_size": "train size", "lr": "lr"}


def factor_column(factor: str) -> Column:
    """The table column of a factor (any factor: new ones need no entry here)."""
    return (factor, HEADERS.get(factor, factor_label(factor)), "n")


FACTOR_COLUMNS: list[Column] = [factor_column(f) for f in (*FACTORS, "seed")]


def ranked_columns(chosen: str) -> list[Column]:
    """The ranking's columns: the chosen split's accuracy at the best epoch ranks, test is
    reported there."""
    return [
        ("rank", "rank", "d"),
        ("name", "run", "s"),
        ("verdict", "verdict", "s"),
        ("best_epoch", "best epoch", "d"),
        ("best_acc", f"{chosen} acc @best", ".4f"),
        *([("test_acc_at_best", "test acc @best", ".4f")] if chosen != "test" else []),
        ("final_test_acc", "final test acc", ".4f"),
        ("gap_acc_final", "acc gap final", ".4f"),
        ("gap_acc_max", "acc gap max", ".4f"),
        ("gap_loss_final", "loss gap final", ".4f"),
        ("overfit_onset", "onset", "d"),
        ("status", "status", "s"),
    ]


def cell(row: pd.Series, column: str, spec: str) -> str:
    """One formatted cell of `row`."""
    value = row.get(column)
    if spec == "±":
        return with_ci(value, row.get(column.removesuffix("_mean") + "_ci"))
    if spec == "n":
        return format_value(column, value)
    if spec == "s":
        return MISSING if value is None or pd.isna(value) else str(value)
    if spec == "g":
        return fmt(value, "g")
    return fmt(value, spec)


def with_ci(mean: object, half: object, spec: str = ".4f") -> str:
    """`0.9123 ± 0.0045` (the 95% interval's half-width), or the mean alone when unknown."""
    if half is None or pd.isna(half):
        return fmt(mean, spec)
    return f"{fmt(mean, spec)} ± {fmt(half, spec)}"


def frame_table(frame: pd.DataFrame, columns: Sequence[Column]) -> Table:
    """`frame` as a Table with the given columns (absent ones skipped)."""
    present = [c for c in columns if c[0] in frame.columns]
    return Table(
        tuple(h for _, h, _ in present),
        tuple(tuple(cell(row, c, s) for c, _, s in present) for _, row in frame.iterrows()),
    )


def factor_columns(diag: pd.DataFrame) -> list[Column]:
    """The factor columns worth showing: the varied ones, and the seed when it varies."""
    shown = varied_factors(diag)
    if "seed" in diag and diag["seed"].nunique(dropna=False) > 1:
        shown.append("seed")
    return [factor_column(f) for f in shown]
