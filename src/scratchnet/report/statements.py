"""Comparisons as sentences a researcher can act on: the difference, its interval, whether
the seeds resolve it, and how many would (see `scratchnet.analysis.comparisons`)."""

import pandas as pd

from scratchnet.analysis.comparisons import Comparison
from scratchnet.analysis.statistics import MAX_N
from scratchnet.analysis.tables import factor_label, format_value

SEEDS_HINT = "seed=0,1,2"
METHOD = (
    "How these statements are made: each compares neighbouring levels of one factor on the "
    "{metric} at each run's best epoch (the choice metric; test accuracy there is reported "
    "alongside, never compared on). Paired: each run is matched with the run of the other "
    "level that has the same seed and the same other factors, and the 95% interval is Student "
    "t over those paired differences. Welch: the levels' runs are not matched (a search), so "
    "the interval is Welch's. Resolved: the interval excludes 0. Seeds that would resolve it: "
    "the smallest number whose t interval, with the spread observed, would be narrower than "
    "the difference observed (a rough guide: both are estimates)."
)


def pp(value: float, signed: bool = True) -> str:
    """A difference of accuracies in percentage points: `+1.9`."""
    if pd.isna(value):
        return "—"
    text = f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}"
    return "+0.0" if text in ("-0.0", "+0.0") else text


def level(factor: str, value: object) -> str:
    """A level for people: a value (`0.5`, `full`) or a bin (`0.01–0.05`)."""
    return value if isinstance(value, str) else format_value(factor, value)


def needed_text(c: Comparison) -> str:
    """How many seeds (or runs per level) would resolve a difference of this size."""
    unit = "runs per level" if c.method == "Welch" else "seeds"
    if c.needed is None:
        return "no difference observed to resolve"
    if c.needed > MAX_N:
        return f"more than {MAX_N} {unit} would be needed to resolve a difference this size"
    return f"about {c.needed} {unit} would resolve a difference this size"


def statement(c: Comparison, metric: str) -> str:
    """One comparison as a sentence."""
    head = (
        f"{factor_label(c.factor)} {level(c.factor, c.high)} vs {level(c.factor, c.low)}: "
        f"{pp(c.diff.mean)} pp {metric}"
    )
    test = f"; test at the chosen epoch {pp(c.test_diff)} pp"
    if c.method == "single seed":
        return f"{head} (one seed: spread unknown, not resolved){test}."
    interval = f"95% CI [{pp(c.diff.low)}, {pp(c.diff.high)}]"
    if c.method == "paired":
        basis = f"over {c.seeds} seeds (paired, {c.pairs} pairs)"
        unresolved = f"not resolved at {c.seeds} seeds; {needed_text(c)}"
    else:
        basis = f"over {c.pairs} runs (Welch)"
        unresolved = f"not resolved; {needed_text(c)}"
    if c.resolved is None:
        return f"{head}, {basis}: too few runs for an interval{test}."
    verdict = "resolved" if c.resolved else unresolved
    return f"{head}, {interval} {basis} — {verdict}{test}."


def single_seed_hint() -> str:
    """What to do when the spread over seeds is unknown."""
    return (
        "Each configuration ran with one seed, so the spread over seeds is unknown and no "
        f"difference below can be called resolved. Repeat the sweep over seeds ({SEEDS_HINT} "
        "on the same command line) to measure it."
    )


def search_hint(factors: list[str]) -> str:
    """How a search's binned factors are compared."""
    names = ", ".join(factor_label(f) for f in factors)
    return (
        f"A search sampled {names} anew in every trial, so their levels are bins of about equal "
        "runs, compared by Welch's t over the runs in each bin: that spread covers the other "
        "sampled settings as well as the seed. To measure the seed noise of one setting, run it "
        f"as a grid over seeds ({SEEDS_HINT})."
    )
