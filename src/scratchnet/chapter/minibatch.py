"""The training loop seen per iteration: each mini-batch's loss beside the per-epoch losses.

`scratchnet.train.train` reports only per epoch (its fast path never computes a batch's
loss), so this is the chapter's loop written out with train's own pieces: the same plan,
batches, update (`sgd_step`, the reference path), evaluation and divergence rule.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from scratchnet.data import Dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.train import batch_indices, evaluate, is_diverged, make_plan, sgd_step

BATCH_SEED_KEY = 1  # train() draws batches from SeedSequence(seed, spawn_key=(1,))


@dataclass(frozen=True)
class EpochPoint:
    """Full-set metrics after `epoch`, reached after `iteration` mini-batch updates."""

    epoch: int
    iteration: int
    metrics: Mapping[str, float]


@dataclass
class MinibatchResult:
    """Every mini-batch's loss (index i: batch i + 1, before its update) and each epoch's
    metrics."""

    batch_losses: list[float] = field(default_factory=list)
    points: list[EpochPoint] = field(default_factory=list)
    diverged_at: int | None = None

    @property
    def iterations(self) -> int:
        """Number of updates done."""
        return len(self.batch_losses)


EpochHook = Callable[[EpochPoint, list[float]], None]


def train_recording_batches(
    net: TwoLayerNet,
    data: Dataset,
    *,
    lr: float,
    batch_size: int,
    epochs: int | None = None,
    iters_num: int | None = None,
    sampling: str = "shuffle",
    seed: int = 0,
    eval_chunk_size: int = 10000,
    divergence_factor: float | None = 3.0,
    on_epoch: EpochHook | None = None,
) -> MinibatchResult:
    """Mini-batch SGD recording each batch's loss just before its update: an unbiased sample
    of the training loss at that moment (the book records it just after the update, which
    reads low: the step was fitted to that very batch). `on_epoch` gets each epoch's point
    and the batch losses since the previous epoch."""
    plan = make_plan(data.train_size, batch_size, epochs, iters_num)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(BATCH_SEED_KEY,)))
    result = MinibatchResult()
    sent = 0

    def record(epoch: int) -> bool:
        nonlocal sent
        metrics = evaluate(net, data, eval_chunk_size)
        first = result.points[0].metrics if result.points else None
        if is_diverged(metrics, first, divergence_factor):
            result.diverged_at = epoch
            return False
        point = EpochPoint(epoch, result.iterations, metrics)
        result.points.append(point)
        if on_epoch is not None:
            on_epoch(point, result.batch_losses[sent:])
        sent = result.iterations
        return True

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if record(0):
            for epoch, batches in batch_indices(plan, sampling, rng):
                for idx in batches:
                    x, t = data.x_train[idx], data.t_train[idx]
                    result.batch_losses.append(float(net.loss(x, t)))
                    sgd_step(net, x, t, lr)
                if not record(epoch):
                    break
    return result


def batch_loss_noise(result: MinibatchResult) -> float:
    """Std of the last epoch's batch losses: how far one mini-batch strays from the mean."""
    if len(result.points) < 2:
        return 0.0
    tail = result.batch_losses[result.points[-2].iteration : result.points[-1].iteration]
    return float(np.std(tail)) if tail else 0.0
