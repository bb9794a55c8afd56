"""One mini-batch update W <- W - lr dL/dW: the fast path and the chapter's reference path."""

from typing import Protocol

import numpy as np

from scratchnet.data import Dataset
from scratchnet.data.features import RowReader
from scratchnet.nn import TwoLayerNet
from scratchnet.training.fast import Workspace


class Stepper(Protocol):
    """Updates a net in place on the training rows of one batch."""

    def step(self, rows: np.ndarray) -> None:
        """One update on the training rows `rows`."""


def sgd_step(net: TwoLayerNet, x: np.ndarray, t: np.ndarray, lr: float) -> None:
    """One update W <- W - lr * dL/dW, in place, with backprop gradients (the reference path)."""
    grads = net.gradient(x, t)
    step = net.params["W1"].dtype.type(lr)
    for key, grad in grads.items():
        grad *= step
        net.params[key] -= grad


class FastStepper:
    """`Workspace.step` on the stored pixels, converting only the rows each batch reads."""

    def __init__(self, net: TwoLayerNet, data: Dataset, lr: float) -> None:
        self.workspace = Workspace(net)
        self.reader = RowReader(data.pixels_train, data.scale, net.dtype)
        self.t, self.lr = data.t_train, lr

    def step(self, rows: np.ndarray) -> None:
        self.workspace.step(self.reader, self.t, rows, self.lr)


class ReferenceStepper:
    """`sgd_step` with `TwoLayerNet.gradient`, for any labels (one-hot included)."""

    def __init__(self, net: TwoLayerNet, data: Dataset, lr: float) -> None:
        self.net, self.x, self.t, self.lr = net, data.x_train, data.t_train, lr

    def step(self, rows: np.ndarray) -> None:
        sgd_step(self.net, self.x[rows], self.t[rows], self.lr)
