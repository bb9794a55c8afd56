"""How the report writes values: numbers, times, versions, and frames as tables."""

import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata

import pandas as pd

from scratchnet.analysis.tables import format_value, varied_factors
from scratchnet.report.markup import Table

PACKAGES = ("scratchnet", "numpy", "pandas", "matplotlib", "mlflow", "hydra-core")
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
    rows = [("python", platform.python_version())]
    for name in PACKAGES:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    return rows


def distinct(series: pd.Series) -> list[str]:
    """Sorted distinct non-missing values as strings."""
    return sorted({str(v) for v in series.dropna()})


# Table layouts: (column, header, format).
Column = tuple[str, str, str]
FACTOR_COLUMNS: list[Column] = [
    ("lr", "lr", "g"),
    ("batch_size", "batch", "d"),
    ("hidden_size", "hidden", "d"),
    ("train_size", "train size", "n"),
    ("activation", "activation", "s"),
    ("optimizer", "optimizer", "s"),
    ("weight_decay_lambda", "weight decay", "g"),
    ("dropout_ratio", "dropout", "g"),
    ("weight_init_std", "init", "s"),
    ("seed", "seed", "d"),
]


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
    if spec == "n":
        return format_value(column, value)
    if spec == "s":
        return MISSING if value is None or pd.isna(value) else str(value)
    if spec == "g":
        return fmt(value, "g")
    return fmt(value, spec)


def frame_table(frame: pd.DataFrame, columns: Sequence[Column]) -> Table:
    """`frame` as a Table with the given columns (absent ones skipped)."""
    present = [c for c in columns if c[0] in frame.columns]
    return Table(
        tuple(h for _, h, _ in present),
        tuple(tuple(cell(row, c, s) for c, _, s in present) for _, row in frame.iterrows()),
    )


def factor_columns(diag: pd.DataFrame) -> list[Column]:
    """The factor columns worth showing: the varied ones, and the seed when it varies."""
    varied = set(varied_factors(diag))
    if diag["seed"].nunique(dropna=False) > 1:
        varied.add("seed")
    return [c for c in FACTOR_COLUMNS if c[0] in varied]
