"""Configurations repeated over seeds: each outcome's mean, 95% interval, spread and range.

A configuration is one combination of the varied factors' values; its seeds are a sample,
so its outcome is a mean with a Student-t interval (`scratchnet.analysis.statistics`), and the
configurations are ranked by their mean selection accuracy (validation), never by test.
"""

import pandas as pd

from scratchnet.analysis.diagnosis import VERDICTS
from scratchnet.analysis.statistics import mean_ci
from scratchnet.analysis.tables import repeats_seeds, usable, varied_factors

SPREAD_OUTCOMES = ("best_acc", "test_acc_at_best", "gap_acc_final")


def verdict_mix(group: pd.DataFrame) -> str:
    """`2 overfit, 1 good_fit`: the configuration's runs by verdict, most common first."""
    counts = [(int((group["verdict"] == v).sum()), v) for v in VERDICTS]
    shown = sorted((c for c in counts if c[0]), key=lambda c: (-c[0], VERDICTS.index(c[1])))
    return ", ".join(f"{n} {v}" for n, v in shown) or "no data"


def config_row(keys: list[str], values: tuple, group: pd.DataFrame) -> dict[str, object]:
    """One configuration: its seeds, verdicts and each outcome's statistics over seeds."""
    ok = usable(group)
    row: dict[str, object] = dict(zip(keys, values, strict=True))
    row["seeds"] = int(ok["seed"].nunique())
    row["runs"] = len(group)
    row["verdicts"] = verdict_mix(group)
    for key in SPREAD_OUTCOMES:
        series = ok[key].dropna()
        found = mean_ci(series.to_numpy())
        row[f"{key}_mean"], row[f"{key}_ci"] = found.mean, found.half
        row[f"{key}_low"], row[f"{key}_high"] = found.low, found.high
        row[f"{key}_std"] = float(series.std(ddof=1)) if len(series) > 1 else float("nan")
        row[f"{key}_min"] = float(series.min()) if len(series) else float("nan")
        row[f"{key}_max"] = float(series.max()) if len(series) else float("nan")
    return row


def seed_spread(diag: pd.DataFrame) -> pd.DataFrame | None:
    """Per configuration repeated over seeds: `seeds`, `verdicts`, and for each outcome
    `_mean`, `_ci` (half-width of the 95% interval), `_low`, `_high`, `_std`, `_min`, `_max`;
    best mean selection accuracy first (then the factors' order). None without repeats."""
    if not repeats_seeds(diag):
        return None
    keys = varied_factors(diag) or ["dataset"]
    rows = [
        config_row(keys, values if isinstance(values, tuple) else (values,), group)
        for values, group in diag.groupby(keys, dropna=False, sort=True)
    ]
    table = pd.DataFrame(rows)
    order = table["best_acc_mean"].rank(ascending=False, method="first", na_option="bottom")
    table = table.assign(rank=order.astype(int)).sort_values("rank", kind="stable")
    return table.reset_index(drop=True)
