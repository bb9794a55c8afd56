"""The trainer's reports: the hooks a callback may override and the result it ends with."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from scratchnet.training.plan import TrainPlan
from scratchnet.training.stopping import Divergence


@dataclass
class TrainResult:
    """Per-epoch metrics (epoch 0 = before any update) and how the run ended.

    `history` holds every finite epoch, a loss spike included; `divergence` says which rule
    stopped a diverged run, at which epoch and value; `stopped_epoch` is the epoch early
    stopping ended the run at, `best_epoch` the lowest validation loss it saw.
    """

    history: list[dict[str, float]] = field(default_factory=list)
    iterations: int = 0
    planned_epochs: int = 0
    divergence: Divergence | None = None
    stopped_epoch: int | None = None
    best_epoch: int | None = None

    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    @property
    def diverged_at(self) -> int | None:
        """The epoch that showed the divergence, if the run diverged."""
        return self.divergence.epoch if self.divergence else None

    @property
    def stopped_early(self) -> bool:
        return self.stopped_epoch is not None


class Callback:
    """Receives the trainer's reports; override the hooks you need."""

    def on_train_begin(self, plan: TrainPlan) -> None:
        """Called once, before epoch 0 is evaluated."""

    def on_batch_begin(self, iteration: int, rows: np.ndarray) -> None:
        """Called before update `iteration` (from 1), which reads training rows `rows`.

        Only callbacks that override this hook are called per batch, so the others cost the
        trainer's inner loop nothing.
        """

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> None:
        """Called after each evaluated epoch (0 included) whose losses are finite.

        When `train` overlaps the evaluation, the net is already training epoch + 1.
        """

    def on_train_end(self, result: TrainResult) -> None:
        """Called once when training stops normally or diverges (not on an exception)."""


def batch_listeners(callbacks: Sequence[Callback]) -> list[Callback]:
    """The callbacks that override `on_batch_begin`."""
    return [cb for cb in callbacks if type(cb).on_batch_begin is not Callback.on_batch_begin]
