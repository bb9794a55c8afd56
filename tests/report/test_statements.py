"""The statements' wording: the difference, its interval, resolved or how many seeds would."""

import math

from scratchnet.analysis.comparisons import Comparison
from scratchnet.analysis.statistics import Interval
from scratchnet.report.statements import single_seed_hint, statement

METRIC = "validation accuracy"


def comparison(method: str, low: float, high: float, needed: int | None = None) -> Comparison:
    diff = Interval((low + high) / 2, low, high, 10)
    return Comparison("lr", 0.5, 2.0, method, diff, 0.017, 5, 10, needed)


def test_a_resolved_difference_reads_with_its_interval_and_seeds():
    text = statement(comparison("paired", 0.008, 0.030), METRIC)
    assert text == (
        "learning rate 2 vs 0.5: +1.9 pp validation accuracy, 95% CI [+0.8, +3.0] over 5 seeds "
        "(paired, 10 pairs) — resolved; test at the chosen epoch +1.7 pp."
    )


def test_an_unresolved_difference_says_how_many_seeds_would_resolve_it():
    text = statement(comparison("paired", -0.004, 0.012, needed=9), METRIC)
    assert "95% CI [-0.4, +1.2] over 5 seeds" in text
    assert "not resolved at 5 seeds; about 9 seeds would resolve a difference this size" in text


def test_welch_counts_runs_per_level():
    text = statement(comparison("Welch", -0.01, 0.03, needed=25), METRIC)
    assert "over 10 runs (Welch) — not resolved; about 25 runs per level would" in text


def test_with_one_seed_the_spread_is_unknown_and_the_hint_says_how_to_get_it():
    single = Comparison(
        "lr", 0.5, 2.0, "single seed", Interval(0.02, math.nan, math.nan, 2), 0.0, 1, 2, None
    )
    assert "(one seed: spread unknown, not resolved)" in statement(single, METRIC)
    assert (
        "seed=0,1,2" in single_seed_hint() and "spread over seeds is unknown" in single_seed_hint()
    )
