"""Confidence intervals and sample sizes over seeds: Student t, paired and Welch.

A configuration repeated over seeds gives a sample of each outcome; its 95% confidence
interval is mean +- t(0.975, n - 1) * s / sqrt(n). A difference between two settings is
estimated *paired* when every run of one has a partner of the other with the same seed and
the same values of every other factor (the noise they share cancels), else by Welch's
unequal-variance t. How many seeds would resolve a difference (its interval excluding 0) is
estimated from the observed difference and spread: the smallest n whose interval half-width,
with the observed standard deviation, falls below the observed difference. It is a rough,
post-hoc guide: both numbers are themselves estimates from few seeds.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import stdtrit  # Student t's inverse CDF; scipy.stats takes seconds to import

LEVEL = 0.95
MAX_N = 1000  # sample sizes beyond this are reported as "more than MAX_N"


def t_quantile(df: float, level: float = LEVEL) -> float:
    """The two-sided `level` quantile of Student's t with `df` degrees of freedom."""
    return float(stdtrit(df, (1 + level) / 2))


@dataclass(frozen=True)
class Interval:
    """A mean and its confidence interval (NaN bounds when n < 2: no spread to measure)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half(self) -> float:
        """Half the interval's width: the `+-` after the mean."""
        return (self.high - self.low) / 2

    def excludes_zero(self) -> bool:
        """True when the interval lies wholly above or below 0 (a resolved difference)."""
        return bool(self.low > 0 or self.high < 0)


def finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """The finite values, as floats."""
    array = np.asarray(values, dtype=float)
    return array[np.isfinite(array)]


def mean_ci(values: Sequence[float] | np.ndarray, level: float = LEVEL) -> Interval:
    """Mean and Student-t interval of the finite values (NaN interval for fewer than 2)."""
    x = finite(values)
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n)
    half = t_quantile(n - 1, level) * float(x.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def welch_df(var_a: float, n_a: int, var_b: float, n_b: int) -> float:
    """Welch-Satterthwaite degrees of freedom of a difference of two means."""
    qa, qb = var_a / n_a, var_b / n_b
    denominator = qa**2 / (n_a - 1) + qb**2 / (n_b - 1)
    return (qa + qb) ** 2 / denominator if denominator > 0 else float(n_a + n_b - 2)


def welch_ci(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, level: float = LEVEL
) -> Interval:
    """mean(b) - mean(a) with Welch's interval; n is the runs in both (NaN bounds if < 2 each)."""
    xa, xb = finite(a), finite(b)
    if len(xa) == 0 or len(xb) == 0:
        return Interval(math.nan, math.nan, math.nan, len(xa) + len(xb))
    diff = float(xb.mean() - xa.mean())
    if len(xa) < 2 or len(xb) < 2:
        return Interval(diff, math.nan, math.nan, len(xa) + len(xb))
    va, vb = float(xa.var(ddof=1)), float(xb.var(ddof=1))
    se = math.sqrt(va / len(xa) + vb / len(xb))
    half = t_quantile(welch_df(va, len(xa), vb, len(xb)), level) * se
    return Interval(diff, diff - half, diff + half, len(xa) + len(xb))


def paired_n_needed(diff: float, sd: float, level: float = LEVEL) -> int | None:
    """Pairs needed for the paired interval of a difference `diff` with spread `sd` to
    exclude 0; None when there is no difference to resolve, MAX_N + 1 for more than MAX_N."""
    if not math.isfinite(diff) or diff == 0 or not math.isfinite(sd):
        return None
    for n in range(2, MAX_N + 1):
        if t_quantile(n - 1, level) * sd / math.sqrt(n) < abs(diff):
            return n
    return MAX_N + 1


def welch_n_needed(diff: float, sd_a: float, sd_b: float, level: float = LEVEL) -> int | None:
    """Runs per side for Welch's interval of `diff` to exclude 0 (as `paired_n_needed`)."""
    if not math.isfinite(diff) or diff == 0 or not (math.isfinite(sd_a) and math.isfinite(sd_b)):
        return None
    va, vb = sd_a**2, sd_b**2
    for n in range(2, MAX_N + 1):
        half = t_quantile(welch_df(va, n, vb, n), level) * math.sqrt((va + vb) / n)
        if half < abs(diff):
            return n
    return MAX_N + 1
