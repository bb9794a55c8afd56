"""Every name scratchnet writes into a tracking store, in one place, importable without MLflow.

Tags, statuses, metric and param names, artifact names and MLflow's per-call limits: the
writers (runs, sweeps, write-back) and the readers (reports, resume) both import them from
here, so a name cannot drift between the side that writes it and the side that reads it.
"""

from scratchnet.training.metrics import BATCH_LOSS, METRICS, PENALTY

TAG_PREFIX = "scratchnet."

# What a tracked run imports, for a sweep's workers to import ahead (MLflow stays this package's):
# the run, and the SQL store MLflow opens (~1 s), whose class `bulk` looks up.
SQL_STORE_MODULE = "mlflow.store.tracking.sqlalchemy_store"
RUN_MODULES = ("scratchnet.tracking.run", SQL_STORE_MODULE)

# MLflow's own tags (the values of mlflow.utils.mlflow_tags' constants).
PARENT_TAG = "mlflow.parentRunId"
GIT_COMMIT_SOURCE_TAG = "mlflow.source.git.commit"
LOGGED_MODELS_TAG = "mlflow.log-model.history"  # the run's models (the UI's Models column)
SOURCE_NAME_TAG = "mlflow.source.name"  # the UI's Source column: the command that made the run
SOURCE_TYPE_TAG = "mlflow.source.type"  # LOCAL, or JOB for a batch job (SLURM)
SOURCE_LOCAL, SOURCE_JOB = "LOCAL", "JOB"  # mlflow.entities.SourceType names
# An experiment's kind (the MLflow UI's own tag, mlflow 3.17's JavaScript): custom model
# development opens the experiment in the model-training view, not the GenAI one.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
CUSTOM_MODEL_KIND = "custom_model_development"
# A dataset input's role (mlflow.utils.mlflow_tags.MLFLOW_DATASET_CONTEXT), per split.
DATASET_CONTEXT_TAG = "mlflow.data.context"
DATASET_CONTEXTS = {"train": "training", "val": "validation", "test": "test"}

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
DIVERGENCE_RULE_TAG = f"{TAG_PREFIX}divergence_rule"  # non_finite or loss_above_factor
DIVERGED_METRIC_TAG = f"{TAG_PREFIX}diverged_metric"
DIVERGED_VALUE_TAG = f"{TAG_PREFIX}diverged_value"
STOPPED_EARLY_TAG = "stopped_early"
STOPPED_EPOCH_TAG = "stopped_epoch"
BEST_EPOCH_TAG = "best_epoch"  # early stopping's best epoch (lowest validation loss)
EPOCHS_PLANNED_TAG = f"{TAG_PREFIX}epochs_planned"
SELECTION_TAG = f"{TAG_PREFIX}selection"  # the split choices are made on: val, or test
ITERATIONS_TAG = f"{TAG_PREFIX}iterations"
FAILURE_TAG = f"{TAG_PREFIX}failure"
# Who runs it (scratchnet.core.liveness: host, pid, start time) and its newest sign of life
# (ms since the epoch), so a later invocation can tell a live run from a dead one.
OWNER_TAG = f"{TAG_PREFIX}owner"
HEARTBEAT_TAG = f"{TAG_PREFIX}heartbeat"
SLURM_JOB_TAG = f"{TAG_PREFIX}slurm_job_id"  # `<array job>_<task>`, as squeue/sacct/scancel name it
# Chapter runs.
CHAPTER_TAG = f"{TAG_PREFIX}chapter"
# Sweep parents.
SWEEP_PARENT_TAG = f"{TAG_PREFIX}sweep_parent"
SWEEP_ID_TAG = f"{TAG_PREFIX}sweep_id"
STUDY_DESCRIPTION_TAG = f"{TAG_PREFIX}study_description"
SWEEP_SELECTION_TAG = f"{TAG_PREFIX}sweep_selection"  # the split its best runs were chosen on
PACKAGES_TAG = f"{TAG_PREFIX}packages"  # JSON: python and package versions that ran the sweep
# A FINISHED run an overlapping sweep skipped (same config) is linked to it as a member: MLflow
# gives a run one parent, so the link is a tag per sweep parent, found with one search.
MEMBER_TAG_PREFIX = f"{TAG_PREFIX}member_of."
REUSED = "reused"


def member_tag(parent_run_id: str) -> str:
    """The tag that makes a run a (reused) member of the sweep with this parent run."""
    return f"{MEMBER_TAG_PREFIX}{parent_run_id}"


# The analysis written back onto each run.
VERDICT_TAG = "overfit.verdict"
REASON_TAG = "overfit.reason"
ONSET_TAG = "overfit.onset"  # the epoch, or "none" (a metric cannot be deleted once logged)
SELECTION_SPLIT_TAG = "overfit.selection"  # the split the diagnosis chose on: val or test

# Run statuses (MLflow's RunStatus names).
RUNNING, FINISHED, FAILED, KILLED = "RUNNING", "FINISHED", "FAILED", "KILLED"

# Metrics: every epoch's (step = epoch), a sweep parent's summary, a run's diagnosis.
EPOCH_METRICS = METRICS
PENALTY_METRIC = PENALTY  # beside them with weight decay: 0.5 lambda (|W1|^2 + |W2|^2)
BATCH_LOSS_METRIC = BATCH_LOSS  # with trainer.batch_loss: the epoch's mean mini-batch loss
SUMMARY_COUNTS = ("runs_finished", "runs_failed", "runs_killed", "runs_diverged")
# ... and how many of the finished were reused from earlier sweeps, how many attempts were
# superseded by a later attempt of their configuration (scratchnet.tracking.attempts).
MEMBER_COUNTS = ("runs_reused", "runs_superseded")


def best_final_acc(split: str) -> str:
    """The parent's metric (and, with the tag prefix, tag) of its best run by final accuracy."""
    return f"best_final_{split}_acc"


def best_min_loss(split: str) -> str:
    """The parent's metric (and tag) of its best run by lowest loss at any epoch."""
    return f"best_min_{split}_loss"


def best_by_tag(metric: str) -> str:
    """The parent's tag naming the run that is best by `metric` (e.g. best_final_val_acc)."""
    return f"{TAG_PREFIX}best_by_{metric.removeprefix('best_')}"


# A diagnosis column (scratchnet.analysis.Diagnosis) -> the metric it is written back as,
# with the selection split in the name (best_val_acc; best_test_acc for a run that had no
# validation split): `{split}` is replaced.
DIAGNOSIS_METRICS = {
    "best_epoch": "best_epoch",
    "best_loss": "best_{split}_loss",
    "best_acc": "best_{split}_acc",
    "test_loss_at_best": "test_loss_at_best",
    "test_acc_at_best": "test_acc_at_best",
    "gap_acc_at_best": "gap_acc_at_best",
    "gap_acc_final": "gap_acc_final",
    "gap_acc_max": "gap_acc_max",
    "gap_loss_final": "gap_loss_final",
    "gap_loss_max": "gap_loss_max",
    "loss_rise": "{split}_loss_rise",
    "overfit_onset": "overfit_onset",
    "selection_optimism": "selection_optimism",
}

# A sweep parent's params: its definition.
SWEEP_OVERRIDES = "sweep.overrides"
SWEEP_PARAMS = "sweep.params"  # the search space that ran: the command line over the study's
SWEEP_STUDY_PARAMS = "sweep.study_params"  # the study's own `hydra.sweeper.params`
SWEEP_GRID_SIZE = "sweep.grid_size"
SWEEP_LAUNCHER = "sweep.launcher"
SWEEP_SWEEPER = "sweep.sweeper"
SWEEP_OBJECTIVE = "sweep.objective"  # a search's objective (Optuna), "none" for a grid

# Artifacts.
CONFIG_ARTIFACT = "config.yaml"
CURVES_ARTIFACT = "learning_curves.png"
# The trained net as an MLflow model, in the run's artifacts: runs:/<run id>/model.
MODEL_ARTIFACT = "model"
MODEL_NET_FILE = "net.npz"  # the model's data: the weights and how to rebuild the net
PROBABILITIES_PARAM = "probabilities"  # predict(..., params={"probabilities": True})
LABEL_COLUMN = "label"  # the predicted class; with probabilities also prob_0 .. prob_<k-1>
PROBABILITY_COLUMN = "prob_{}"
REPORT_ARTIFACT_DIR = "report"
REPORT_DIGEST_TAG = f"{TAG_PREFIX}report_digest"  # SHA-256 of the report files logged there

# A sweep's lease: experiment tags `scratchnet.lease.<sweep id>.<claim id>`, one per launch
# that claims the sweep (scratchnet.tracking.lease).
LEASE_TAG_PREFIX = f"{TAG_PREFIX}lease."

# How a sweep's launching process hands its parent run to the jobs (environment variables).
PARENT_ENV = "SCRATCHNET_SWEEP_PARENT"
SWEEP_ID_ENV = "SCRATCHNET_SWEEP_ID"
SWEEP_EXPERIMENT_ENV = "SCRATCHNET_SWEEP_EXPERIMENT"  # "<id>:<name>": jobs skip looking it up
LAUNCHER_PID_ENV = "SCRATCHNET_SWEEP_LAUNCHER"  # its pid: a job elsewhere runs in a worker

# MLflow's log_batch limits per call.
PARAMS_PER_CALL = 100
METRICS_PER_CALL = 1000
MAX_ENTITIES = 1000  # metrics + params + tags in one log_batch call (MLflow's limit)
MAX_TAG_LENGTH = 5000

# MLflow's limits on what a run records (mlflow.utils.validation and its SQL schema, 3.17):
# SQLite does not enforce the schema's lengths, PostgreSQL does, so they are checked up front.
MAX_KEY_LENGTH = 250  # param, tag and metric keys
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_RUN_NAME_LENGTH = 250  # runs.name VARCHAR(250)
MAX_EXPERIMENT_NAME_LENGTH = 256  # experiments.name VARCHAR(256)
