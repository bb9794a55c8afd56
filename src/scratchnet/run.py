"""One training run from a composed config: data -> TwoLayerNet -> SGD -> MLflow.

Everything that can be checked is checked before an MLflow run exists, so bad input leaves
no run behind; once a run exists it always ends FINISHED, FAILED or KILLED.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

import scratchnet
from scratchnet.config import check_batch_size, config_hash, flatten, validate_config
from scratchnet.data import Dataset, load_dataset
from scratchnet.interrupt import interrupts_deferred
from scratchnet.nn import TwoLayerNet
from scratchnet.progress import ProgressBar
from scratchnet.tracking import (
    TAG_PREFIX,
    RunRecorder,
    git_state,
    mask_overrides,
    mask_tree,
    resolve_uri,
    run_name,
    weights_npz,
)
from scratchnet.train import Callback, TrainPlan, TrainResult, train

PARENT_TAG = "mlflow.parentRunId"


@dataclass
class RunOutcome:
    """What a run produced: its history and, when tracked, its MLflow run id."""

    result: TrainResult
    run_id: str | None
    name: str


def load_data(cfg: DictConfig) -> Dataset:
    """The dataset `cfg.data` names, with the train subset `data.train_size` if set."""
    d = cfg.data
    return load_dataset(
        d.name,
        root=d.root,
        cache_dir=d.cache_dir,
        train_size=d.train_size,
        seed=cfg.seed,
        normalize=d.normalize,
        test_fraction=d.test_fraction,
    )


def build_net(cfg: DictConfig, data: Dataset) -> TwoLayerNet:
    """TwoLayerNet sized for `data`, initialised from `seed` (its spawn key 0)."""
    m = cfg.model
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(0,)))
    return TwoLayerNet(
        data.input_size,
        m.hidden_size,
        data.num_classes,
        weight_init_std=m.weight_init_std,
        activation=m.activation,
        dtype=np.dtype(m.dtype).type,
        rng=rng,
    )


def train_options(cfg: DictConfig) -> dict[str, Any]:
    """`train()`'s keyword arguments from `cfg.trainer` and `seed`."""
    t = cfg.trainer
    return {
        "lr": t.lr,
        "batch_size": t.batch_size,
        "epochs": t.epochs,
        "iters_num": t.iters_num,
        "sampling": t.sampling,
        "seed": cfg.seed,
        "eval_chunk_size": t.eval_chunk_size,
        "divergence_factor": t.divergence_factor,
    }


def name_of(cfg: DictConfig) -> str:
    t = cfg.trainer
    default = run_name(t.lr, t.batch_size, cfg.model.hidden_size, cfg.seed, cfg.data.train_size)
    return cfg.tracking.run_name or default


def run_tags(
    cfg: DictConfig, data: Dataset, overrides: Sequence[str], parent_run_id: str | None
) -> dict[str, str]:
    """Provenance: code version, data digest, seed, the overrides and the config identity."""
    commit, dirty = git_state()
    tags = {
        "mlflow.source.git.commit": commit,
        f"{TAG_PREFIX}git_commit": commit,
        f"{TAG_PREFIX}git_dirty": str(dirty).lower(),
        f"{TAG_PREFIX}version": scratchnet.__version__,
        f"{TAG_PREFIX}dataset": data.name,
        f"{TAG_PREFIX}dataset_digest": data.digest,
        f"{TAG_PREFIX}config_hash": config_hash(cfg),
        f"{TAG_PREFIX}overrides": " ".join(mask_overrides(overrides)),
        f"{TAG_PREFIX}study": cfg.study.name,
        "seed": str(cfg.seed),
    }
    if parent_run_id:
        tags[PARENT_TAG] = parent_run_id
    return tags


def run(
    cfg: DictConfig,
    *,
    overrides: Sequence[str] = (),
    parent_run_id: str | None = None,
    extra_callbacks: Sequence[Callback] = (),
) -> RunOutcome:
    """Validate, load, train and record one run; KeyboardInterrupt ends the run KILLED."""
    validate_config(cfg)
    data = load_data(cfg)
    check_batch_size(cfg.trainer.batch_size, data.train_size)
    # Only now is the store touched (created if new): bad input leaves no trace in it.
    uri = resolve_uri(cfg.tracking.uri) if cfg.tracking.enabled else None
    net = build_net(cfg, data)
    name = name_of(cfg)
    callbacks: list[Callback] = [ProgressBar(name, enabled=cfg.trainer.progress)]
    callbacks.extend(extra_callbacks)

    recorder: RunRecorder | None = None
    try:
        if uri is not None:
            tags = run_tags(cfg, data, overrides, parent_run_id)
            with interrupts_deferred():
                recorder = RunRecorder.start(
                    uri,
                    cfg.tracking.experiment,
                    name,
                    flatten(cfg),
                    tags,
                    cfg.tracking.flush_seconds,
                )
            callbacks.append(DeferInterrupts(recorder.epoch_logger))
        result = train(
            net,
            data,
            **train_options(cfg),
            callbacks=callbacks,
        )
        if recorder is not None:
            with interrupts_deferred():
                record_outcome(recorder, cfg, net, result, name)
    except KeyboardInterrupt:
        if recorder is not None:
            with interrupts_deferred():
                recorder.end("KILLED")
        raise
    except BaseException:
        if recorder is not None:
            with interrupts_deferred():
                recorder.end("FAILED")
        raise
    if recorder is not None:
        with interrupts_deferred():
            recorder.end("FINISHED")
    return RunOutcome(result, recorder.run_id if recorder else None, name)


class DeferInterrupts(Callback):
    """Runs another callback's hooks with interrupts held (see `interrupts_deferred`)."""

    def __init__(self, inner: Callback) -> None:
        self.inner = inner

    def on_train_begin(self, plan: TrainPlan) -> None:
        with interrupts_deferred():
            self.inner.on_train_begin(plan)

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> None:
        with interrupts_deferred():
            self.inner.on_epoch_end(epoch, metrics)

    def on_train_end(self, result: TrainResult) -> None:
        with interrupts_deferred():
            self.inner.on_train_end(result)


def record_outcome(
    recorder: RunRecorder, cfg: DictConfig, net: TwoLayerNet, result: TrainResult, name: str
) -> None:
    """Divergence tags and the artifacts: resolved config, learning curves, final weights."""
    tags = {"diverged": str(result.diverged).lower(), f"{TAG_PREFIX}iterations": result.iterations}
    if result.diverged:
        tags[f"{TAG_PREFIX}diverged_epoch"] = result.diverged_at
    recorder.set_tags(tags)
    resolved = mask_tree(OmegaConf.to_container(cfg, resolve=True))
    files = {"config.yaml": OmegaConf.to_yaml(resolved).encode()}
    if cfg.tracking.log_weights and not result.diverged:
        files["weights.npz"] = weights_npz(net.params)
    if cfg.tracking.log_figure and result.history:
        # matplotlib only here: a sweep's launching process imports this module but draws nothing
        from scratchnet.plotting import learning_curve_figure, png_bytes

        fig = learning_curve_figure(result.history, title=name)
        files["learning_curves.png"] = png_bytes(fig)
    recorder.log_files(files)
