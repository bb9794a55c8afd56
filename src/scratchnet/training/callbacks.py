"""The trainer's reports: the hooks a callback may override and the result it ends with."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from scratchnet.training.plan import TrainPlan


@dataclass
class TrainResult:
    """Per-epoch metrics (epoch 0 = before any update) and how the run ended."""

    history: list[dict[str, float]] = field(default_factory=list)
    diverged_at: int | None = None
    iterations: int = 0

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


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
