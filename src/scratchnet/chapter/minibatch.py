"""The training loop seen per iteration: each mini-batch's loss beside the per-epoch losses.

`scratchnet.training.train` itself (its fast path never computes a batch's loss), with a
callback that measures each batch's loss just before its update.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from scratchnet.data import Dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.training import Callback, TrainPlan, TrainResult, train


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


class BatchLosses(Callback):
    """Records each batch's loss before its update, and each epoch as an `EpochPoint`.

    An epoch's report may come while the next epoch trains (the evaluation overlaps it), so
    an epoch's batches are found by the plan's count of updates, not by arrival.
    """

    def __init__(self, net: TwoLayerNet, data: Dataset, on_epoch: EpochHook | None) -> None:
        self.net, self.data, self.on_epoch = net, data, on_epoch
        self.result = MinibatchResult()
        self.plan: TrainPlan | None = None

    def on_train_begin(self, plan: TrainPlan) -> None:
        self.plan = plan

    def on_batch_begin(self, iteration: int, rows: np.ndarray) -> None:
        x, t = self.data.x_train[rows], self.data.t_train[rows]
        self.result.batch_losses.append(float(self.net.loss(x, t)))

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> None:
        assert self.plan is not None
        iteration = self.plan.iterations_after(epoch)
        sent = self.result.points[-1].iteration if self.result.points else 0
        point = EpochPoint(epoch, iteration, dict(metrics))
        self.result.points.append(point)
        if self.on_epoch is not None:
            self.on_epoch(point, self.result.batch_losses[sent:iteration])

    def on_train_end(self, result: TrainResult) -> None:
        del self.result.batch_losses[result.iterations :]  # updates undone after a divergence
        self.result.diverged_at = result.diverged_at


def train_recording_batches(
    net: TwoLayerNet, data: Dataset, *, on_epoch: EpochHook | None = None, **options: object
) -> MinibatchResult:
    """`train(net, data, **options)`, recording each batch's loss just before its update: an
    unbiased sample of the training loss at that moment (the book records it just after the
    update, which reads low: the step was fitted to that very batch). `on_epoch` gets each
    epoch's point and the batch losses since the previous epoch."""
    recorder = BatchLosses(net, data, on_epoch)
    train(net, data, callbacks=[recorder], **options)  # type: ignore[arg-type]
    return recorder.result


def batch_loss_noise(result: MinibatchResult) -> float:
    """Std of the last epoch's batch losses: how far one mini-batch strays from the mean."""
    if len(result.points) < 2:
        return 0.0
    tail = result.batch_losses[result.points[-2].iteration : result.points[-1].iteration]
    return float(np.std(tail)) if tail else 0.0
