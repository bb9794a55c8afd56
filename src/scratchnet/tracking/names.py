"""Every name scratchnet writes into a tracking store, in one place, importable without MLflow.

Tags, statuses, metric and param names, artifact names and MLflow's per-call limits: the
writers (runs, sweeps, write-back) and the readers (reports, resume) both import them from
here, so a name cannot drift between the side that writes it and the side that reads it.
"""

from scratchnet.training.metrics import METRICS

TAG_PREFIX = "scratchnet."

# MLflow's own tags (the values of mlflow.utils.mlflow_tags' constants).
PARENT_TAG = "mlflow.parentRunId"
GIT_COMMIT_SOURCE_TAG = "mlflow.source.git.commit"

# Provenance of every run.
GIT_COMMIT_TAG = f"{TAG_PREFIX}git_commit"
GIT_DIRTY_TAG = f"{TAG_PREFIX}git_dirty"
VERSION_TAG = f"{TAG_PREFIX}version"
OVERRIDES_TAG = f"{TAG_PREFIX}overrides"
# Training runs.
DATASET_TAG = f"{TAG_PREFIX}dataset"
DATASET_DIGEST_TAG = f"{TAG_PREFIX}dataset_digest"
CONFIG_HASH_TAG = f"{TAG_PREFIX}config_hash"
STUDY_TAG = f"{TAG_PREFIX}study"
SEED_TAG = "seed"
DIVERGED_TAG = "diverged"
DIVERGED_EPOCH_TAG = f"{TAG_PREFIX}diverged_epoch"
ITERATIONS_TAG = f"{TAG_PREFIX}iterations"
FAILURE_TAG = f"{TAG_PREFIX}failure"
SLURM_JOB_TAG = f"{TAG_PREFIX}slurm_job_id"  # `<array job>_<task>`, as squeue/sacct/scancel name it
# Chapter runs.
CHAPTER_TAG = f"{TAG_PREFIX}chapter"
# Sweep parents.
SWEEP_PARENT_TAG = f"{TAG_PREFIX}sweep_parent"
SWEEP_ID_TAG = f"{TAG_PREFIX}sweep_id"
STUDY_DESCRIPTION_TAG = f"{TAG_PREFIX}study_description"
BEST_BY_FINAL_TEST_ACC_TAG = f"{TAG_PREFIX}best_by_final_test_acc"
BEST_BY_MIN_TEST_LOSS_TAG = f"{TAG_PREFIX}best_by_min_test_loss"
# The analysis written back onto each run.
VERDICT_TAG = "overfit.verdict"
REASON_TAG = "overfit.reason"
ONSET_TAG = "overfit.onset"  # the epoch, or "none" (a metric cannot be deleted once logged)

# Run statuses (MLflow's RunStatus names).
RUNNING, FINISHED, FAILED, KILLED = "RUNNING", "FINISHED", "FAILED", "KILLED"

# Metrics: every epoch's (step = epoch), a sweep parent's summary, a run's diagnosis.
EPOCH_METRICS = METRICS
SUMMARY_COUNTS = ("runs_finished", "runs_failed", "runs_killed", "runs_diverged")
BEST_FINAL_TEST_ACC = "best_final_test_acc"
BEST_MIN_TEST_LOSS = "best_min_test_loss"
DIAGNOSIS_METRICS = (
    "best_epoch",
    "best_test_loss",
    "best_test_acc",
    "max_test_acc",
    "gap_acc_final",
    "gap_acc_max",
    "gap_loss_final",
    "gap_loss_max",
    "test_loss_rise",
    "overfit_onset",
)

# A sweep parent's params: its definition.
SWEEP_OVERRIDES = "sweep.overrides"
SWEEP_PARAMS = "sweep.params"
SWEEP_GRID_SIZE = "sweep.grid_size"
SWEEP_LAUNCHER = "sweep.launcher"
SWEEP_SWEEPER = "sweep.sweeper"

# Artifacts.
CONFIG_ARTIFACT = "config.yaml"
WEIGHTS_ARTIFACT = "weights.npz"
CURVES_ARTIFACT = "learning_curves.png"
REPORT_ARTIFACT_DIR = "report"

# How a sweep's launching process hands its parent run to the jobs (environment variables).
PARENT_ENV = "SCRATCHNET_SWEEP_PARENT"
SWEEP_ID_ENV = "SCRATCHNET_SWEEP_ID"

# MLflow's log_batch limits per call.
PARAMS_PER_CALL = 100
METRICS_PER_CALL = 1000
MAX_TAG_LENGTH = 5000
