"""Noise-aware comparisons, per-config intervals, importance and sweep matching, on frames
whose answers are known."""

import itertools

import numpy as np
import pandas as pd

from scratchnet.analysis.comparisons import compare_factor
from scratchnet.analysis.effects import effect_table
from scratchnet.analysis.importance import importance
from scratchnet.analysis.matching import matched_configs
from scratchnet.analysis.seeds import seed_spread


def diagnosed(
    effect: dict[float, float], seeds: int, noise: float, hidden=(10, 100)
) -> pd.DataFrame:
    """Diagnosed runs over lr x hidden x seeds: best_acc = 0.5 + effect[lr] + seed noise."""
    rng = np.random.default_rng(0)
    rows = []
    for lr, h, seed in itertools.product(effect, hidden, range(seeds)):
        acc = 0.5 + effect[lr] + noise * rng.standard_normal()
        rows.append(
            {
                "run_id": f"{lr}-{h}-{seed}",
                "name": f"lr={lr} h={h} seed={seed}",
                "status": "FINISHED",
                "verdict": "good_fit",
                "selection": "val",
                "lr": lr,
                "hidden_size": h,
                "seed": seed,
                "best_acc": acc,
                "best_loss": 1 - acc,
                "test_acc_at_best": acc - 0.01,
                "gap_acc_final": 0.02,
                "gap_loss_final": 0.05,
                "final_test_acc": acc - 0.01,
                "overfit_onset": pd.NA,
                "config_hash": f"{lr}-{h}-{seed}",
                "dataset_digest": "d",
            }
        )
    frame = pd.DataFrame(rows)
    frame["overfit_onset"] = frame["overfit_onset"].astype("Int64")
    return frame


def test_a_large_difference_over_five_seeds_is_resolved_by_pairs():
    (c,) = compare_factor(diagnosed({0.5: 0.0, 2.0: 0.05}, seeds=5, noise=0.005), "lr")
    assert c.method == "paired" and c.pairs == 10 and c.seeds == 5
    assert c.resolved and 0.04 < c.diff.mean < 0.06 and c.diff.low > 0
    assert c.needed is None


def test_a_small_difference_over_three_seeds_is_not_resolved_and_says_how_many_would():
    (c,) = compare_factor(diagnosed({0.5: 0.0, 2.0: 0.004}, seeds=3, noise=0.01), "lr")
    assert c.resolved is False and c.diff.low < 0 < c.diff.high
    assert c.needed is not None and c.needed > 3


def test_with_one_seed_the_spread_is_unknown_and_nothing_is_resolved():
    (c,) = compare_factor(diagnosed({0.5: 0.0, 2.0: 0.05}, seeds=1, noise=0.005), "lr")
    assert c.method == "single seed" and c.resolved is None and np.isnan(c.diff.low)


def test_a_search_compares_bins_by_welch():
    runs = diagnosed({0.5: 0.0}, seeds=2, noise=0.01, hidden=range(10, 40))
    runs["lr"] = np.geomspace(0.01, 4, len(runs))
    runs["best_acc"] = 0.5 + 0.05 * (runs["lr"] > 0.3) + 0.002 * np.arange(len(runs)) % 0.01
    found = compare_factor(runs, "lr")
    assert len(found) == 4 and {c.method for c in found} == {"Welch"}
    assert all(isinstance(c.low, str) and "–" in c.low for c in found)


def test_effect_tables_give_each_level_an_interval_over_seeds():
    table = effect_table(diagnosed({0.5: 0.0, 2.0: 0.05}, seeds=4, noise=0.01), "lr")
    assert table["seeds"].tolist() == [4, 4]
    assert (table["best_acc_ci"] > 0).all()
    assert table["best_acc_mean"].diff().iloc[1] > 0.03


def test_configurations_over_seeds_are_ranked_by_mean_validation_accuracy():
    spread = seed_spread(diagnosed({0.5: 0.0, 2.0: 0.05}, seeds=3, noise=0.005))
    assert spread["rank"].tolist() == [1, 2, 3, 4]
    assert (spread["lr"].iloc[:2] == 2.0).all()
    row = spread.iloc[0]
    assert row["best_acc_low"] < row["best_acc_mean"] < row["best_acc_high"]
    assert row["verdicts"] == "3 good_fit"


def test_the_factor_that_drives_the_metric_explains_most_of_its_variance():
    table = importance(diagnosed({0.5: 0.0, 2.0: 0.2}, seeds=3, noise=0.01))
    assert table["factor"].tolist() == ["lr", "hidden_size"]
    assert table["share"].iloc[0] > 0.9 > table["share"].iloc[1]


def test_two_sweeps_match_by_their_varied_factors_and_keep_the_unmatched():
    a = diagnosed({0.5: 0.0, 2.0: 0.05}, seeds=2, noise=0.0)
    b = diagnosed({2.0: 0.07, 8.0: 0.0}, seeds=2, noise=0.0)
    both, keys = matched_configs(a, b)
    assert keys == ["lr", "hidden_size"]
    assert both["side"].value_counts().to_dict() == {"both": 2, "A only": 2, "B only": 2}
    matched = both[both["side"] == "both"]
    assert np.allclose(matched["best_acc_delta"], 0.02)
    assert matched["same_config"].all()  # the same config hashes on both sides


def searched(trials: int = 20) -> pd.DataFrame:
    """Diagnosed runs of a search: every trial a new lr and hidden size, one seed."""
    runs = diagnosed({0.5: 0.0}, seeds=1, noise=0.0, hidden=range(10, 10 + trials))
    runs["lr"] = np.geomspace(0.01, 4, len(runs))
    runs["best_acc"] = 0.5 + 0.1 * (runs["lr"] > 0.3)
    return runs


def test_a_searchs_factor_tables_have_a_row_per_bin_not_per_sampled_value():
    table = effect_table(searched(), "lr")
    assert len(table) == 5 and table["runs"].tolist() == [4] * 5
    assert table["lr"].iloc[0] == "0.01–0.0331"
    hidden = effect_table(searched(), "hidden_size")
    assert hidden["hidden_size"].tolist()[:2] == ["10–13", "14–17"]  # integers stay integers
