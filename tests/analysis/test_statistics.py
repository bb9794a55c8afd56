"""Confidence intervals, sample sizes and levels: the numbers behind the report's statements."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scratchnet.analysis.levels import MAX_LEVELS, binned, levels
from scratchnet.analysis.statistics import (
    MAX_N,
    mean_ci,
    paired_n_needed,
    t_quantile,
    welch_ci,
    welch_n_needed,
)


def test_the_interval_is_student_t_with_n_minus_1_degrees_of_freedom():
    x = [0.81, 0.84, 0.80, 0.86, 0.83]
    found = mean_ci(x)
    low, high = stats.t.interval(0.95, 4, loc=np.mean(x), scale=stats.sem(x))
    assert (found.low, found.high) == pytest.approx((low, high))
    assert found.n == 5 and found.half == pytest.approx((high - low) / 2)


def test_one_value_has_a_mean_but_no_interval():
    found = mean_ci([0.8, math.nan])
    assert found.mean == 0.8 and math.isnan(found.low) and math.isnan(found.high)
    assert not found.excludes_zero()


def test_welchs_interval_matches_scipys():
    a, b = [0.80, 0.82, 0.81, 0.79], [0.85, 0.86, 0.84]
    found = welch_ci(a, b)
    expected = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert (found.low, found.high) == pytest.approx((expected.low, expected.high))
    assert found.excludes_zero()


def test_the_seeds_needed_shrink_the_interval_below_the_difference():
    n = paired_n_needed(0.01, 0.02)
    assert t_quantile(n - 1) * 0.02 / math.sqrt(n) < 0.01
    assert t_quantile(n - 2) * 0.02 / math.sqrt(n - 1) >= 0.01  # and n - 1 would not
    assert paired_n_needed(0.0, 0.02) is None  # nothing to resolve
    assert paired_n_needed(1e-6, 1.0) == MAX_N + 1
    assert welch_n_needed(0.01, 0.02, 0.02) > paired_n_needed(0.01, 0.02)


def test_a_search_factor_with_many_values_is_binned_on_a_log_scale():
    lr = pd.Series(np.geomspace(0.01, 4, 20), name="lr")
    bins = binned(lr)
    assert bins.cat.categories.tolist()[0].startswith("0.01–")
    assert bins.value_counts().tolist() == [4] * 5  # about equal counts
    assert len(levels(lr.to_frame(), "lr").unique()) == 5


def test_a_grid_factor_and_a_categorical_factor_keep_their_values():
    frame = pd.DataFrame({"lr": [0.1, 0.5, 2.0] * 4, "optimizer": list("abcdefghijkl")})
    assert levels(frame, "lr").tolist() == frame["lr"].tolist()
    assert frame["optimizer"].nunique() > MAX_LEVELS
    assert levels(frame, "optimizer").tolist() == frame["optimizer"].tolist()
