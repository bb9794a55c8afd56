"""One tracked training run from a composed config: data -> TwoLayerNet -> SGD -> MLflow.

Everything that can be checked is checked before an MLflow run exists, so bad input leaves
no run behind; once a run exists it always ends FINISHED, FAILED or KILLED, with every epoch
the trainer reported sent to the store first.
"""

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

from omegaconf import DictConfig, OmegaConf

from scratchnet.config import (
    build_net,
    check_batch_size,
    config_hash,
    flatten,
    load_data,
    run_name,
    train_options,
    validate_config,
)
from scratchnet.core.png import png_bytes
from scratchnet.data import Dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.tracking.artifacts import learning_curve_figure
from scratchnet.tracking.datasets import dataset_inputs
from scratchnet.tracking.epochs import EpochLogger
from scratchnet.tracking.limits import check_record_limits
from scratchnet.tracking.models import model_tags, model_uri, write_model
from scratchnet.tracking.names import (
    BEST_EPOCH_TAG,
    CONFIG_ARTIFACT,
    CONFIG_HASH_TAG,
    CURVES_ARTIFACT,
    DATASET_DIGEST_TAG,
    DATASET_TAG,
    DIVERGED_EPOCH_TAG,
    DIVERGED_METRIC_TAG,
    DIVERGED_TAG,
    DIVERGED_VALUE_TAG,
    DIVERGENCE_RULE_TAG,
    EPOCHS_PLANNED_TAG,
    ITERATIONS_TAG,
    MODEL_ARTIFACT,
    PARENT_TAG,
    SEED_TAG,
    SELECTION_TAG,
    SLURM_JOB_TAG,
    STOPPED_EARLY_TAG,
    STOPPED_EPOCH_TAG,
    STUDY_TAG,
    SWEEP_EXPERIMENT_ENV,
)
from scratchnet.tracking.provenance import mask_tree, provenance_tags, slurm_job_id, source_tags
from scratchnet.tracking.recorder import RunRecorder, recorded_run
from scratchnet.tracking.store import open_for_run
from scratchnet.training import Callback, TrainResult, train
from scratchnet.training.metrics import selection_split
from scratchnet.training.progress import ProgressBar


@dataclass
class RunOutcome:
    """What a run produced: its history and, when tracked, its MLflow run id."""

    result: TrainResult
    run_id: str | None
    name: str
    artifact_uri: str | None = None
    model_uri: str | None = None


TRAIN_SOURCE = "scratchnet-train"  # the command a run is recorded as made by


def run_tags(
    cfg: DictConfig,
    data: Dataset,
    overrides: Sequence[str],
    parent_run_id: str | None,
    source: str = TRAIN_SOURCE,
) -> dict[str, str]:
    """Provenance: code version, source, data digest, seed, the overrides, config identity."""
    tags = (
        provenance_tags(overrides)
        | source_tags(source)
        | {
            DATASET_TAG: data.name,
            DATASET_DIGEST_TAG: data.digest,
            CONFIG_HASH_TAG: config_hash(cfg),
            STUDY_TAG: cfg.study.name,
            SEED_TAG: str(cfg.seed),
            SELECTION_TAG: selection_split(data.has_validation),
        }
    )
    if parent_run_id:
        tags[PARENT_TAG] = parent_run_id
    if job := slurm_job_id():
        tags[SLURM_JOB_TAG] = job
    return tags


def run(
    cfg: DictConfig,
    *,
    overrides: Sequence[str] = (),
    parent_run_id: str | None = None,
    extra_callbacks: Sequence[Callback] = (),
    progress: bool = True,
    source: str = TRAIN_SOURCE,
) -> RunOutcome:
    """Validate, load, train and record one run; KeyboardInterrupt ends the run KILLED.

    `progress=False` keeps the bar off whatever `trainer.progress` says (a parallel sweep's
    jobs); `source` is the command recorded as the run's source."""
    validate_config(cfg)
    data = load_data(cfg)
    check_batch_size(cfg.trainer.batch_size, data.train_size)
    net = build_net(cfg, data)
    name = run_name(cfg)
    bar = ProgressBar(name, enabled=cfg.trainer.progress and progress)
    callbacks = [bar, *extra_callbacks]
    if not cfg.tracking.enabled:
        return RunOutcome(train(net, data, **train_options(cfg), callbacks=callbacks), None, name)
    tags, params = run_tags(cfg, data, overrides, parent_run_id, source), flatten(cfg)
    check_record_limits(cfg.tracking.experiment, name, params, tags)
    # Only now is the store touched (created if new): bad input leaves no trace in it.
    t = cfg.tracking
    uri = open_for_run(t.uri, t.server_wait_seconds, in_sweep=parent_run_id is not None)
    known = sweep_experiment_id(t.experiment) if parent_run_id else None
    with recorded_run(uri, t.experiment, name, params, tags, known) as recorder:
        recorder.log_inputs(dataset_inputs(data))
        # the last epochs go with how the run ended and its model's tags, in one call
        logger = EpochLogger(recorder, t.flush_seconds, t.server_wait_seconds, flush_at_end=False)
        try:
            result = train(net, data, **train_options(cfg), callbacks=[*callbacks, logger])
        except BaseException:  # whatever stops the training, its reported epochs are stored
            logger.flush()
            raise
        try:
            model = record_outcome(recorder, cfg, net, data, result, name, logger)
        except BaseException:
            logger.flush(tags=outcome_tags(result))
            raise
    return RunOutcome(result, recorder.run_id, name, recorder.artifact_uri, model)


def sweep_experiment_id(experiment: str) -> str | None:
    """The id of `experiment` as the sweep's launcher handed it to its jobs, if it did."""
    experiment_id, _, name = os.environ.get(SWEEP_EXPERIMENT_ENV, "").partition(":")
    return experiment_id if experiment_id and name == experiment else None


def record_outcome(
    recorder: RunRecorder,
    cfg: DictConfig,
    net: TwoLayerNet,
    data: Dataset,
    result: TrainResult,
    name: str,
    logger: EpochLogger,
) -> str | None:
    """The run's files in one upload: resolved config, learning curves (when asked) and, unless
    it diverged, its net as the MLflow model `model`; before the upload, the logger's last
    epochs with how the run ended and the model's tags; the model's URI or None."""
    resolved = mask_tree(OmegaConf.to_container(cfg, resolve=True))
    tags: dict[str, object] = outcome_tags(result)
    logs_model = cfg.tracking.log_weights and not result.diverged and bool(result.history)
    with recorder.staged_artifacts() as folder:
        (folder / CONFIG_ARTIFACT).write_text(OmegaConf.to_yaml(resolved))
        if cfg.tracking.log_figure and result.history:
            figure = learning_curve_figure(result.history, title=name)
            (folder / CURVES_ARTIFACT).write_bytes(png_bytes(figure))
        if logs_model:
            epoch = weights_epoch(cfg, result)
            model = write_model(net, data, folder / MODEL_ARTIFACT, recorder.run_id, epoch)
            tags |= model_tags(model)
        logger.flush(tags=tags)  # before the upload, as it may fail
    return model_uri(recorder.run_id) if logs_model else None


def weights_epoch(cfg: DictConfig, result: TrainResult) -> int:
    """The epoch whose weights the net ends with: early stopping's best one when it restores
    it, else the last."""
    if cfg.trainer.early_stopping.restore_best and result.best_epoch is not None:
        return result.best_epoch
    return int(result.history[-1]["epoch"])


def outcome_tags(result: TrainResult) -> dict[str, object]:
    """Divergence (the rule, epoch and value that ended the run) and early stopping."""
    tags: dict[str, object] = {
        DIVERGED_TAG: str(result.diverged).lower(),
        ITERATIONS_TAG: result.iterations,
        EPOCHS_PLANNED_TAG: result.planned_epochs,
        STOPPED_EARLY_TAG: str(result.stopped_early).lower(),
    }
    if result.divergence is not None:
        d = result.divergence
        tags |= {DIVERGED_EPOCH_TAG: d.epoch, DIVERGENCE_RULE_TAG: d.rule}
        tags |= {DIVERGED_METRIC_TAG: d.metric, DIVERGED_VALUE_TAG: repr(d.value)}
    if result.stopped_epoch is not None:
        tags[STOPPED_EPOCH_TAG] = result.stopped_epoch
    if result.best_epoch is not None:
        tags[BEST_EPOCH_TAG] = result.best_epoch
    return tags


Summary = dict[str, float | str | bool | None]
log = logging.getLogger("scratchnet")
SHOWN_METRICS = ("train_acc", "val_acc", "test_acc", "val_loss", "test_loss")


def summarize_outcome(outcome: RunOutcome, experiment: str) -> Summary:
    """Log the run's last epoch (or its divergence) and return it, as a Hydra job returns it."""
    result, name = outcome.result, outcome.name
    final = result.history[-1] if result.history else {}
    if result.divergence is not None:
        d = result.divergence
        log.warning(
            "%s diverged at epoch %d (%s: %s=%.4g)", name, d.epoch, d.rule, d.metric, d.value
        )
    if result.stopped_epoch is not None:
        log.info(
            "%s stopped early at epoch %d (best %s)", name, result.stopped_epoch, result.best_epoch
        )
    if final:
        shown = " ".join(f"{k}={final[k]:.4f}" for k in SHOWN_METRICS if k in final)
        log.info("%s: epoch %d %s", name, final["epoch"], shown)
    if outcome.run_id:
        model = f", model {outcome.model_uri}" if outcome.model_uri else ""
        where = f"artifacts in {outcome.artifact_uri}{model}"
        log.info("MLflow run %s in experiment %r: %s", outcome.run_id, experiment, where)
    return {"run_id": outcome.run_id, "name": name, "diverged": result.diverged, **final}
