"""When training stops before its plan ends: early stopping, and divergence that lasts.

Both watch the epochs as they are evaluated and are pure state machines: fed one epoch's
metrics at a time, they say whether to stop and why.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

NON_FINITE = "non_finite"
LOSS_ABOVE_FACTOR = "loss_above_factor"
MONITOR = "val_loss"  # early stopping watches the validation loss, never the test loss


@dataclass(frozen=True)
class Divergence:
    """Why a run was stopped as diverged: the rule, the epoch and the value that fired it."""

    rule: str
    epoch: int
    metric: str
    value: float


@dataclass
class DivergenceRule:
    """Diverged: any metric NaN/inf at once, or the train loss above `factor` x its epoch-0
    value for `patience` epochs in a row (a spike that recovers is training, not divergence).
    """

    factor: float | None
    patience: int = 1
    _initial: float | None = None
    _above: int = 0

    def check(self, epoch: int, metrics: Mapping[str, float]) -> Divergence | None:
        """The divergence this epoch shows, if any."""
        for key, value in metrics.items():
            if not math.isfinite(value):
                return Divergence(NON_FINITE, epoch, key, value)
        loss = metrics["train_loss"]
        if self._initial is None:
            self._initial = loss
            return None
        if self.factor is not None and loss > self.factor * self._initial:
            self._above += 1
            if self._above >= self.patience:
                return Divergence(LOSS_ABOVE_FACTOR, epoch, "train_loss", loss)
        else:
            self._above = 0
        return None


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when the validation loss has not reached a new best (lower by more than
    `min_delta`) for `patience` epochs; with `restore_best`, the run ends with the weights of
    its best epoch."""

    patience: int
    min_delta: float = 0.0
    restore_best: bool = True


@dataclass
class BestEpoch:
    """The best validation epoch of one run so far, and its weights when they are kept."""

    rule: EarlyStopping
    epoch: int | None = None
    loss: float = math.inf
    params: dict[str, np.ndarray] = field(default_factory=dict)

    def improved(self, epoch: int, metrics: Mapping[str, float]) -> bool:
        """Note the epoch; True when it is a new best (its weights should then be kept)."""
        loss = metrics[MONITOR]
        if loss < self.loss - self.rule.min_delta:
            self.epoch, self.loss = epoch, loss
            return True
        return False

    def keep(self, params: Mapping[str, np.ndarray]) -> None:
        """Keep a copy of the best epoch's weights (only when they will be restored)."""
        if self.rule.restore_best:
            self.params = {k: v.copy() for k, v in params.items()}

    def should_stop(self, epoch: int) -> bool:
        """True once `patience` epochs have passed since the best one."""
        return self.epoch is not None and epoch - self.epoch >= self.rule.patience
