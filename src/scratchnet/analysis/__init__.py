"""Overfitting analysis of recorded runs, in pure pandas: diagnose each run, then the sweep.

The frames come from the store through `scratchnet.tracking.reader` (or, with the figures,
through `scratchnet.report.notebook`):

    from scratchnet.tracking.reader import load_sweep
    from scratchnet.tracking.store import open_client
    from scratchnet.analysis import diagnose_runs, seed_spread, comparisons

    data = load_sweep(open_client(), "lr_batch_hidden")     # latest sweep of the study
    diag = diagnose_runs(data.runs, data.history)           # one row per run + verdict
    seed_spread(diag)                                       # per configuration: mean, 95% CI
    comparisons(diag)                                       # per factor: resolved or not
"""

from scratchnet.analysis.comparisons import Comparison, compare_factor, comparisons
from scratchnet.analysis.diagnosis import (
    VERDICTS,
    Diagnosis,
    Gaps,
    best_epoch,
    core_metrics,
    diagnose,
    finite_history,
    gaps,
    overfit_onset,
    selection_split,
    verdict,
)
from scratchnet.analysis.effects import OUTCOMES, effect_table, effect_tables
from scratchnet.analysis.importance import importance
from scratchnet.analysis.levels import binned, levels
from scratchnet.analysis.seeds import seed_spread
from scratchnet.analysis.signals import noise_level, smooth
from scratchnet.analysis.statistics import Interval, mean_ci, welch_ci
from scratchnet.analysis.tables import (
    FACTORS,
    config_label,
    diagnose_runs,
    factor_label,
    ranked,
    repeats_seeds,
    varied_factors,
    verdict_counts,
)
from scratchnet.analysis.thresholds import Thresholds, parse_thresholds

__all__ = [
    "FACTORS",
    "OUTCOMES",
    "VERDICTS",
    "Comparison",
    "Diagnosis",
    "Gaps",
    "Interval",
    "Thresholds",
    "best_epoch",
    "binned",
    "compare_factor",
    "comparisons",
    "config_label",
    "core_metrics",
    "diagnose",
    "diagnose_runs",
    "effect_table",
    "effect_tables",
    "factor_label",
    "finite_history",
    "gaps",
    "importance",
    "levels",
    "mean_ci",
    "noise_level",
    "overfit_onset",
    "parse_thresholds",
    "ranked",
    "repeats_seeds",
    "seed_spread",
    "selection_split",
    "smooth",
    "varied_factors",
    "verdict",
    "verdict_counts",
    "welch_ci",
]
