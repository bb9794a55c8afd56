"""Overfitting analysis of recorded runs: read a sweep from MLflow, diagnose, summarize.

from scratchnet.analysis import open_client, load_sweep, diagnose_runs
data = load_sweep(open_client(), "lr_batch_hidden")        # latest sweep of the study
diag = diagnose_runs(data.runs, data.history)              # one row per run + verdict
"""

from scratchnet.analysis.diagnosis import (
    CORE_METRICS,
    VERDICTS,
    Diagnosis,
    Gaps,
    best_epoch,
    diagnose,
    finite_history,
    gaps,
    noise_level,
    overfit_onset,
    smooth,
    verdict,
)
from scratchnet.analysis.store import (
    METRICS,
    AnalysisError,
    Sweep,
    SweepData,
    child_runs,
    find_experiment,
    find_sweep,
    history_frame,
    load_sweep,
    open_client,
    read_history,
    runs_frame,
)
from scratchnet.analysis.sweep import (
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
from scratchnet.analysis.writeback import write_back

__all__ = [
    "CORE_METRICS",
    "FACTORS",
    "METRICS",
    "VERDICTS",
    "AnalysisError",
    "Diagnosis",
    "Gaps",
    "Sweep",
    "SweepData",
    "Thresholds",
    "best_epoch",
    "child_runs",
    "config_label",
    "diagnose",
    "diagnose_runs",
    "effect_table",
    "effect_tables",
    "finite_history",
    "find_experiment",
    "find_sweep",
    "gaps",
    "history_frame",
    "load_sweep",
    "noise_level",
    "open_client",
    "overfit_onset",
    "parse_thresholds",
    "ranked",
    "read_history",
    "repeats_seeds",
    "runs_frame",
    "seed_spread",
    "smooth",
    "varied_factors",
    "verdict",
    "verdict_counts",
    "write_back",
]
