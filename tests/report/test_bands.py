"""The shaded interval over seeds: Student t around the mean, never outside the metric's range."""

import numpy as np
import pandas as pd

from scratchnet.analysis.statistics import t_quantile
from scratchnet.report.bands import epoch_band


def seeds(column: str, *values: float) -> list[pd.DataFrame]:
    """One single-epoch history per value, as the reader gives them."""
    return [pd.DataFrame({"epoch": [0], column: [v]}) for v in values]


def test_the_band_is_the_t_interval_of_the_seeds_mean():
    band = epoch_band(seeds("val_loss", 10.0, 11.0, 12.0), "val_loss").iloc[0]
    half = t_quantile(2) * 1.0 / np.sqrt(3)  # their standard deviation is 1
    assert band["mean"] == 11.0
    assert np.isclose(band["low"], 11.0 - half) and np.isclose(band["high"], 11.0 + half)


def test_an_accuracy_band_stays_within_0_and_1():
    band = epoch_band(seeds("test_acc", 1.0, 0.9), "test_acc").iloc[0]
    assert band["high"] == 1.0  # the t interval of two seeds reaches far above 1
    assert 0.0 <= band["low"] < 0.9


def test_a_loss_band_stays_at_or_above_0():
    band = epoch_band(seeds("train_loss", 0.01, 0.5), "train_loss").iloc[0]
    assert band["low"] == 0.0
    assert band["high"] > 0.5


def test_one_seed_gives_a_mean_and_no_interval():
    band = epoch_band(seeds("val_acc", 0.8), "val_acc").iloc[0]
    assert band["mean"] == 0.8
    assert np.isnan(band["low"]) and np.isnan(band["high"])
