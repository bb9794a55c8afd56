"""Sweep-level analysis: diagnose every run, then ask how the results depend on each factor."""

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from scratchnet.analysis.diagnosis import DEFAULT_THRESHOLDS, Diagnosis, diagnose
from scratchnet.analysis.thresholds import Thresholds

# The remedies of chapter 6 a sweep can vary (their section: scratchnet.report.remedies).
LEVERS = ("optimizer", "weight_decay_lambda", "dropout_ratio", "weight_init_std")
FACTORS = ("lr", "batch_size", "hidden_size", "train_size", "activation", *LEVERS)
FACTOR_LABELS = {
    "lr": "learning rate",
    "batch_size": "batch size",
    "hidden_size": "hidden size",
    "train_size": "training-set size",
    "activation": "activation",
    "optimizer": "optimizer",
    "weight_decay_lambda": "weight decay lambda",
    "dropout_ratio": "dropout ratio",
    "weight_init_std": "initial weight std",
    "seed": "seed",
}
# As in the run names (scratchnet.config.identity.run_name).
SHORT = {
    "lr": "lr",
    "batch_size": "bs",
    "hidden_size": "h",
    "train_size": "n",
    "activation": "act",
    "optimizer": "opt",
    "weight_decay_lambda": "wd",
    "dropout_ratio": "drop",
    "weight_init_std": "init",
    "seed": "seed",
}
DIAGNOSIS_FIELDS = [f.name for f in dataclasses.fields(Diagnosis)]
INT_FIELDS = ("epochs_logged", "last_epoch", "best_epoch", "test_best_epoch", "overfit_onset")
TEXT_FIELDS = ("selection", "verdict", "reason")


def diagnose_runs(
    runs: pd.DataFrame, history: pd.DataFrame, t: Thresholds = DEFAULT_THRESHOLDS
) -> pd.DataFrame:
    """`runs` with the diagnosis columns added (NA where a run has no finite epoch)."""
    by_run = {run_id: h for run_id, h in history.groupby("run_id", sort=False)}
    rows = []
    for run in runs.to_dict("records"):
        h = by_run.get(run["run_id"])
        epoch = run["diverged_epoch"]
        diverged_epoch = None if pd.isna(epoch) else int(epoch)
        d = None
        if h is not None:
            d = diagnose(h, diverged=bool(run["diverged"]), diverged_epoch=diverged_epoch, t=t)
        rows.append(dataclasses.asdict(d) if d is not None else dict.fromkeys(DIAGNOSIS_FIELDS))
    found = pd.DataFrame(rows, columns=DIAGNOSIS_FIELDS, index=runs.index)
    for name in INT_FIELDS:
        found[name] = pd.to_numeric(found[name]).astype("Int64")
    numeric = [n for n in DIAGNOSIS_FIELDS if n not in (*INT_FIELDS, *TEXT_FIELDS)]
    found[numeric] = found[numeric].astype(float)
    base = runs.drop(columns=[c for c in DIAGNOSIS_FIELDS if c in runs.columns])
    return pd.concat([base, found], axis=1)


def factor_label(factor: str) -> str:
    """A factor's name for people (`learning rate`); the column name for one without a label."""
    return FACTOR_LABELS.get(factor, factor.replace("_", " "))


def varied_factors(diag: pd.DataFrame) -> list[str]:
    """The factors (`FACTORS`, in order: the chapter's, then the levers) that take more than one
    value."""
    return [f for f in FACTORS if f in diag and diag[f].nunique(dropna=False) > 1]


def sorted_values(series: pd.Series) -> list[object]:
    """Distinct values ascending, then None when some are missing (a full training set)."""
    present = sorted(series.dropna().unique().tolist())
    return present + ([None] if series.isna().any() else [])


def is_missing(value: Any) -> bool:
    """None, NaN, or pandas' NA/NaT: a value the run does not have."""
    return value is None or bool(pd.isna(value))


def format_value(factor: str, value: object) -> str:
    """A factor's value for people: `0.1`, `64`, and `full` for an unset train size."""
    if is_missing(value):
        return "full" if factor == "train_size" else "—"
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


def config_label(row: pd.Series, factors: list[str]) -> str:
    """`lr=0.1 bs=64 h=50`: the row's values of `factors` (all factors when none vary)."""
    factors = factors or [f for f in FACTORS if f in row.index]
    return " ".join(f"{SHORT.get(f, f)}={format_value(f, row[f])}" for f in factors)


def repeats_seeds(diag: pd.DataFrame) -> bool:
    """True when some configuration was run with more than one seed."""
    keys = varied_factors(diag)
    if "seed" not in diag or diag.empty:
        return False
    if not keys:
        return diag["seed"].nunique() > 1
    counts = diag.groupby(keys, dropna=False)["seed"].nunique()
    return bool((counts > 1).any())


def usable(diag: pd.DataFrame) -> pd.DataFrame:
    """Runs that finished without diverging: the ones whose numbers can be averaged."""
    return diag[usable_rows(diag)]


def usable_rows(diag: pd.DataFrame) -> np.ndarray:
    """Which rows `usable` keeps, as a boolean array (a mask to combine, without a frame)."""
    finished = diag["status"] == "FINISHED" if "status" in diag else True
    keep = diag["verdict"].notna() & (diag["verdict"] != "diverged") & finished
    return keep.to_numpy(dtype=bool, na_value=False)


def ranked(diag: pd.DataFrame) -> pd.DataFrame:
    """Runs with a diagnosis, best first: the selection split's accuracy at the best epoch
    (validation; test only for runs without one), then the lower selection loss there, the
    smaller gap, the name and the id. Test never ranks."""
    have = diag[diag["verdict"].notna()]
    out = have.sort_values(
        ["best_acc", "best_loss", "gap_acc_final", "name", "run_id"],
        ascending=[False, True, True, True, True],
        kind="stable",
        na_position="last",
    ).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def selection_splits(diag: pd.DataFrame) -> list[str]:
    """The splits the diagnosed runs chose on (val, test or both), sorted."""
    return sorted(diag["selection"].dropna().unique().tolist())


def optimism(diag: pd.DataFrame) -> tuple[float, float] | None:
    """(mean, max) selection optimism over the runs that chose on validation; None if none."""
    chose_on_val = usable(diag)
    values = chose_on_val.loc[chose_on_val["selection"] == "val", "selection_optimism"].dropna()
    return (float(values.mean()), float(values.max())) if len(values) else None


def epochs_saved(diag: pd.DataFrame) -> tuple[int, int]:
    """(runs stopped early, epochs they did not train): planned minus the stopping epoch."""
    if "stopped_early" not in diag:
        return 0, 0
    stopped = diag[diag["stopped_early"].fillna(False).astype(bool)]
    saved = (stopped["epochs_planned"] - stopped["stopped_epoch"]).dropna()
    return len(stopped), int(saved.sum())


def verdict_counts(diag: pd.DataFrame) -> dict[str, int]:
    """How many runs got each verdict (all four, zeros included), plus `no data`."""
    counts = {v: int((diag["verdict"] == v).sum()) for v in ("good_fit", "overfit", "underfit")}
    counts["diverged"] = int((diag["verdict"] == "diverged").sum())
    counts["no data"] = int(diag["verdict"].isna().sum())
    return counts
