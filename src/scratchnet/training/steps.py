"""One mini-batch update by an optimizer: the fast path and the chapter's reference path.

Both see every lever the same way: the net's dropout (its masks drawn by `net.dropout`),
its weight decay (lambda W in the gradient) and the optimizer's `update(params, grads)`.
With `batch_loss`, each step also notes its mini-batch's loss before the update (as the
book's loop records it), and `take_batch_loss` gives their mean since it was last asked.
"""

import contextlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from scratchnet.data import Dataset
from scratchnet.data.features import RowReader
from scratchnet.nn import SGD, Optimizer, TwoLayerNet, cross_entropy_error
from scratchnet.training.fast import Workspace
from scratchnet.training.prefetch import Prefetcher


class Stepper(Protocol):
    """Updates a net in place on the training rows of one batch."""

    def plan(self, batches: Sequence[np.ndarray]) -> None:
        """The batches the coming `step` calls take, in order (a stepper may prepare them)."""

    def step(self, rows: np.ndarray) -> None:
        """One update on the training rows `rows`."""

    def take_batch_loss(self) -> float | None:
        """The mean mini-batch loss of the steps since the last call (None when not noted)."""
        ...

    def close(self) -> None:
        """Stop any background work."""


def reference_step(
    net: TwoLayerNet, x: np.ndarray, t: np.ndarray, optimizer: Optimizer, batch_loss: bool = False
) -> float | None:
    """`optimizer.update(params, net.gradient(x, t))`; with `batch_loss`, the batch's mean
    loss before the update, by a second forward pass through the step's dropout mask."""
    grads = net.gradient(x, t)
    loss = None
    if batch_loss:
        mask = net.dropout.mask
        with net.dropout.hold(mask) if mask is not None else contextlib.nullcontext():
            loss = float(cross_entropy_error(net.predict(x, train_flg=True), t))
    optimizer.update(net.params, grads)
    return loss


def sgd_step(net: TwoLayerNet, x: np.ndarray, t: np.ndarray, lr: float) -> None:
    """One update W <- W - lr * dL/dW, in place, with backprop gradients (the reference path)."""
    reference_step(net, x, t, SGD(lr))


class _BatchLosses:
    """The mean of the batch losses noted since the last `take_batch_loss`."""

    def __init__(self) -> None:
        self._sum, self._count = 0.0, 0

    def note(self, mean_loss: float | None) -> None:
        if mean_loss is not None:
            self._sum += mean_loss
            self._count += 1

    def take_batch_loss(self) -> float | None:
        mean = self._sum / self._count if self._count else None
        self._sum, self._count = 0.0, 0
        return mean


class FastStepper(_BatchLosses):
    """`Workspace.step` on the stored pixels, converting only the rows each batch reads."""

    def __init__(
        self,
        net: TwoLayerNet,
        data: Dataset,
        optimizer: Optimizer,
        batch_loss: bool = False,
        prefetch: bool = False,
    ) -> None:
        super().__init__()
        self.workspace = Workspace(net)
        self.reader = RowReader(data.pixels_train, data.scale, net.dtype)
        self.t, self.optimizer, self.batch_loss = data.t_train, optimizer, batch_loss
        self.prefetcher = Prefetcher(self.reader, self.t, net.dtype) if prefetch else None

    def plan(self, batches: Sequence[np.ndarray]) -> None:
        if self.prefetcher is not None:
            self.prefetcher.plan(batches)

    def step(self, rows: np.ndarray) -> None:
        ahead = self.prefetcher.take(rows) if self.prefetcher is not None else None
        if ahead is None:
            loss = self.workspace.step(self.reader, self.t, rows, self.optimizer, self.batch_loss)
        else:
            loss = self.workspace.update(*ahead, self.optimizer, self.batch_loss)
        self.note(None if loss is None else loss / len(rows))

    def close(self) -> None:
        if self.prefetcher is not None:
            self.prefetcher.close()


class ReferenceStepper(_BatchLosses):
    """`reference_step` with `TwoLayerNet.gradient`, for any labels (one-hot included)."""

    def __init__(
        self, net: TwoLayerNet, data: Dataset, optimizer: Optimizer, batch_loss: bool = False
    ) -> None:
        super().__init__()
        self.net, self.x, self.t = net, data.x_train, data.t_train
        self.optimizer, self.batch_loss = optimizer, batch_loss

    def plan(self, batches: Sequence[np.ndarray]) -> None:
        pass

    def close(self) -> None:
        pass

    def step(self, rows: np.ndarray) -> None:
        x, t = self.x[rows], self.t[rows]
        self.note(reference_step(self.net, x, t, self.optimizer, self.batch_loss))
