"""Noise-aware comparisons: does changing one factor make a difference the seeds resolve?

For each varied factor, each pair of neighbouring levels (in sorted order) is compared on the
validation metric that choices are made on (`best_acc`; test only for runs without a
validation split), with test at the chosen epoch reported alongside and never compared on:

- **paired** when runs at one level have partners at the other with the same seed and the
  same values of every other varied factor (two pairs or more, over two seeds or more; runs
  without a partner are left out): the differences of the partners are averaged and given a
  Student-t interval (so the noise a seed shares cancels);
- **Welch** otherwise, and always for a search (a sweep with a binned factor), whose levels
  hold runs of sampled settings: the difference of the two levels' means with Welch's
  interval (over the runs in each level: for a search, a spread over the sampled settings as
  well as the seeds);
- **single seed** when a grid repeated no configuration over seeds: the difference is shown
  but the spread over seeds is unknown, so nothing is resolved.

A difference is *resolved* when its 95% interval excludes 0. Otherwise the seeds (or runs per
level, for Welch) that would resolve a difference of the size observed are estimated from the
observed spread (`scratchnet.analysis.statistics`).
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scratchnet.analysis.levels import is_binned, levels
from scratchnet.analysis.statistics import (
    Interval,
    mean_ci,
    paired_n_needed,
    welch_ci,
    welch_n_needed,
)
from scratchnet.analysis.tables import repeats_seeds, sorted_values, usable, varied_factors

METRIC = "best_acc"  # the selection split's accuracy at the best epoch: what choices use
REPORTED = "test_acc_at_best"  # reported alongside, never compared on


@dataclass(frozen=True)
class Comparison:
    """`high` vs `low` of `factor`: the difference in the metric, and whether it is resolved."""

    factor: str
    low: object
    high: object
    method: str  # paired, Welch or single seed
    diff: Interval  # high - low in METRIC (NaN bounds when the spread is unknown)
    test_diff: float  # the same difference in REPORTED
    seeds: int  # seeds behind each level
    pairs: int  # matched pairs (paired), runs at both levels (Welch), or configurations
    needed: int | None  # seeds (paired) or runs per level (Welch) that would resolve it

    @property
    def resolved(self) -> bool | None:
        """True/False when the spread is known (the interval excludes 0 or not), else None."""
        if math.isnan(self.diff.low):
            return None
        return self.diff.excludes_zero()


def paired_frame(ok: pd.DataFrame, factor: str, low: object, high: object) -> pd.DataFrame | None:
    """The partners at `low` and `high` (same seed, same other factors; runs without a partner
    left out), or None when fewer than two pairs over two seeds or more are found."""
    keys = [f for f in varied_factors(ok) if f != factor] + ["seed"]
    sides = []
    for value in (low, high):
        side = ok[ok[factor].isna()] if value is None else ok[ok[factor] == value]
        side = side.set_index(keys)[[METRIC, REPORTED]]
        if not side.index.is_unique:
            return None
        sides.append(side)
    joined = sides[0].merge(
        sides[1], how="inner", left_index=True, right_index=True, suffixes=("_low", "_high")
    )
    seeds = joined.index.get_level_values("seed").nunique() if len(joined) else 0
    return joined if len(joined) >= 2 and seeds >= 2 else None


def paired(factor: str, low: object, high: object, joined: pd.DataFrame) -> Comparison:
    """The paired comparison of the partners in `joined`."""
    d = (joined[f"{METRIC}_high"] - joined[f"{METRIC}_low"]).to_numpy(dtype=float)
    t = (joined[f"{REPORTED}_high"] - joined[f"{REPORTED}_low"]).to_numpy(dtype=float)
    seeds = int(joined.index.get_level_values("seed").nunique())
    diff = mean_ci(d)
    needed = None
    if not diff.excludes_zero():
        pairs = paired_n_needed(diff.mean, float(np.std(d, ddof=1)))
        needed = None if pairs is None else math.ceil(pairs * seeds / len(d))
    return Comparison(
        factor, low, high, "paired", diff, float(np.nanmean(t)), seeds, len(d), needed
    )


def unpaired(
    factor: str, pair: tuple[object, object], a: pd.DataFrame, b: pd.DataFrame, known: bool
) -> Comparison:
    """Welch's comparison of the levels' runs `a` and `b` (at `pair`'s low and high level), or
    a bare difference when the spread over seeds is unknown."""
    low, high = pair
    seeds = int(min(a["seed"].nunique(), b["seed"].nunique()))
    test = float(b[REPORTED].mean() - a[REPORTED].mean())
    if not known:
        bare = float(b[METRIC].mean() - a[METRIC].mean())
        diff = Interval(bare, math.nan, math.nan, len(a) + len(b))
        return Comparison(
            factor, low, high, "single seed", diff, test, seeds, len(a) + len(b), None
        )
    diff = welch_ci(a[METRIC].to_numpy(), b[METRIC].to_numpy())
    needed = None
    if not diff.excludes_zero():
        sd_a, sd_b = float(a[METRIC].std(ddof=1)), float(b[METRIC].std(ddof=1))
        needed = welch_n_needed(diff.mean, sd_a, sd_b)
    return Comparison(factor, low, high, "Welch", diff, test, seeds, len(a) + len(b), needed)


def ordered_levels(series: pd.Series) -> list[object]:
    """The levels present, in order: a binned factor's bins, else its sorted values."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna())
        return [c for c in series.cat.categories if c in present]
    return sorted_values(series)


def at(frame: pd.DataFrame, factor: str, value: object) -> pd.DataFrame:
    """The rows at one level (a missing value matches missing)."""
    return frame[frame[factor].isna()] if value is None else frame[frame[factor] == value]


def compare_factor(diag: pd.DataFrame, factor: str) -> list[Comparison]:
    """Each neighbouring pair of `factor`'s levels compared, over the usable runs."""
    ok = usable(diag)
    keyed = ok.assign(**{factor: levels(ok, factor)})
    binned = is_binned(ok, factor)
    search = any(is_binned(ok, f) for f in varied_factors(diag))
    known = search or repeats_seeds(diag)  # a search's levels hold many sampled runs each
    values = ordered_levels(keyed[factor])
    out = []
    for low, high in zip(values[:-1], values[1:], strict=True):
        a, b = at(keyed, factor, low), at(keyed, factor, high)
        if a.empty or b.empty:
            continue
        joined = (
            None if binned or not repeats_seeds(diag) else paired_frame(keyed, factor, low, high)
        )
        if joined is not None:
            out.append(paired(factor, low, high, joined))
        else:
            out.append(unpaired(factor, (low, high), a, b, known))
    return out


def comparisons(diag: pd.DataFrame) -> dict[str, list[Comparison]]:
    """The neighbouring-level comparisons of every varied factor."""
    return {f: compare_factor(diag, f) for f in varied_factors(diag)}
