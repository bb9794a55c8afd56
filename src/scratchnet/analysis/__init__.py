"""Overfitting analysis of recorded runs, in pure pandas: diagnose each run, then the sweep.

The frames come from the store through `scratchnet.tracking.reader`:

    from scratchnet.tracking.reader import load_sweep
    from scratchnet.tracking.store import open_client
    from scratchnet.analysis import diagnose_runs

    data = load_sweep(open_client(), "lr_batch_hidden")     # latest sweep of the study
    diag = diagnose_runs(data.runs, data.history)           # one row per run + verdict
"""

from scratchnet.analysis.diagnosis import (
    VERDICTS,
    Diagnosis,
    Gaps,
    best_epoch,
    core_metrics,
    diagnose,
    finite_history,
    gaps,
    noise_level,
    overfit_onset,
    selection_split,
    smooth,
    verdict,
)
from scratchnet.analysis.tables import (
    FACTORS,
    config_label,
    diagnose_runs,
    effect_table,
    effect_tables,
    ranked,
    repeats_seeds,
    seed_spread,
    varied_factors,
    verdict_counts,
)
from scratchnet.analysis.thresholds import Thresholds, parse_thresholds

__all__ = [
    "FACTORS",
    "VERDICTS",
    "Diagnosis",
    "Gaps",
    "Thresholds",
    "best_epoch",
    "config_label",
    "core_metrics",
    "diagnose",
    "diagnose_runs",
    "effect_table",
    "effect_tables",
    "finite_history",
    "gaps",
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
]
