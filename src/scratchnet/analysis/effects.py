"""How the outcomes depend on each varied factor: per level, verdict counts and means with
their 95% confidence intervals over seeds.

A level's mean is the mean over its configurations (the other factors' combinations) of each
configuration's mean over seeds. Its interval is over seeds: the within-configuration variance
over seeds, pooled over the level's configurations with two seeds or more, gives the mean's
standard error sqrt(s^2 / C^2 * sum(1 / n_c)) with sum(n_c - 1) degrees of freedom (Student t),
valid when configurations ran different numbers of seeds. With one seed everywhere the
interval is unknown (NaN). Levels are the factor's values, or bins of them for a search
(`scratchnet.analysis.levels`).
"""

import numpy as np
import pandas as pd

from scratchnet.analysis.diagnosis import VERDICTS
from scratchnet.analysis.levels import levels
from scratchnet.analysis.statistics import Interval, mean_ci, t_quantile
from scratchnet.analysis.tables import usable, varied_factors

# What the tables average per factor value: the selection split's accuracy at the best
# epoch (what choices rank by), the test accuracy there (what is reported), and the gaps.
OUTCOMES = ("best_acc", "test_acc_at_best", "final_test_acc", "gap_acc_final", "gap_loss_final")


def configurations(group: pd.DataFrame, factors: list[str]) -> list[pd.DataFrame]:
    """A level's runs split by configuration (one combination of `factors`), in sorted order;
    the whole level is one configuration when nothing else varies or seeds are not recorded."""
    if not factors or "seed" not in group:
        return [group]
    return [g for _, g in group.groupby(factors, dropna=False, sort=True)]


def over_seeds(configs: list[pd.DataFrame], key: str) -> Interval:
    """The level's mean of `key` over its configurations (each a mean over seeds) and the
    interval of that mean over seeds (pooled within-configuration variance)."""
    found = [c[key].dropna() for c in configs]
    found = [c for c in found if len(c)]
    if not found:
        return mean_ci([])
    means = np.array([c.mean() for c in found], dtype=float)
    sizes = np.array([len(c) for c in found], dtype=float)
    df = float((sizes - 1).sum())
    mean = float(means.mean())
    runs = int(sizes.sum())
    if df < 1:
        return Interval(mean, np.nan, np.nan, runs)
    pooled = sum(float(((c - c.mean()) ** 2).sum()) for c in found) / df
    half = t_quantile(df) * float(np.sqrt(pooled * (1 / sizes).sum())) / len(found)
    return Interval(mean, mean - half, mean + half, runs)


def level_row(
    factor: str, value: object, group: pd.DataFrame, others: list[str]
) -> dict[str, object]:
    """One level's runs by verdict, mean outcomes with intervals, and median onset; `others`
    are the other varied factors (a configuration is one combination of their values)."""
    ok = usable(group)
    onsets = ok["overfit_onset"].dropna()
    row: dict[str, object] = {factor: value, "runs": len(group)}
    row |= {v: int((group["verdict"] == v).sum()) for v in VERDICTS}
    row["seeds"] = int(ok["seed"].nunique()) if "seed" in ok else 0
    configs = configurations(ok, others)
    for key in OUTCOMES:
        found = over_seeds(configs, key)
        row[f"{key}_mean"], row[f"{key}_ci"] = found.mean, found.half
    row["onsets"] = len(onsets)
    row["onset_median"] = float(onsets.median()) if len(onsets) else np.nan
    return row


def effect_table(diag: pd.DataFrame, factor: str) -> pd.DataFrame:
    """Per level of `factor`: counts by verdict, mean outcomes (`*_mean`, over configurations)
    with the half-width of their 95% interval over seeds (`*_ci`, NaN with one seed), and the
    median onset.

    Means are over runs that finished without diverging; `onset_median` is over those of
    them with an onset.
    """
    keyed = diag.assign(**{factor: levels(diag, factor)})
    others = [f for f in varied_factors(diag) if f != factor]
    groups = keyed.groupby(factor, dropna=False, sort=True, observed=True)
    return pd.DataFrame([level_row(factor, value, group, others) for value, group in groups])


def effect_tables(diag: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """An effect table for every factor the sweep varies."""
    return {f: effect_table(diag, f) for f in varied_factors(diag)}
