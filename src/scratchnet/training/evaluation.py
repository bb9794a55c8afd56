"""Loss and accuracy of a net on its full train, validation and test sets, after every epoch.

Two implementations of one `Evaluation` interface: `BlockEvaluator`, the fast path (blocks of
rows over threads, optionally on a snapshot of the weights so that it overlaps the next
epoch's updates), and `ReferenceEvaluation`, `TwoLayerNet.evaluate` as the chapter writes it
(for one-hot labels). Either way `start` fixes the weights and `result` gives their metrics.
"""

import copy
import functools
import threading
from typing import Protocol

import numpy as np

from scratchnet.data import Dataset
from scratchnet.data.features import RowReader
from scratchnet.nn import TwoLayerNet
from scratchnet.training.fast import Workspace
from scratchnet.training.helpers import Done, HelperThread
from scratchnet.training.metrics import epoch_metrics


class Evaluation(Protocol):
    """What the training loop asks of an evaluation, once per epoch."""

    def start(self) -> None:
        """Fix the weights to evaluate: the net's current ones (work may begin now)."""

    def result(self) -> dict[str, float]:
        """The metrics of the weights given to `start`, once all of the work is done."""
        ...

    def restore(self) -> None:
        """Put the last evaluated weights back into the net (after a diverged epoch)."""

    def evaluated_params(self) -> dict[str, np.ndarray]:
        """The weights given to the last `start` (a snapshot's, or the net's own arrays)."""
        ...

    def close(self) -> None:
        """Stop any background work."""


class BlockEvaluator:
    """The full splits (train, validation, test) in blocks of rows, taken by any free thread.

    `start` copies the weights into a snapshot net (when `snapshot`) and sets `threads - 1`
    background threads on the blocks; `result` takes the blocks still left on the calling
    thread and waits for the others. Called back to back, that is a parallel evaluation; with
    training in between, one epoch's evaluation overlaps the next epoch's updates. Each block
    runs alike whoever takes it (its own `Workspace`, one BLAS thread: the caller sets that)
    and the block sums are added in block order, so the metrics depend on the block size
    alone, never on the threads or the timing.
    """

    def __init__(
        self, net: TwoLayerNet, data: Dataset, threads: int, block_rows: int, snapshot: bool
    ) -> None:
        self.net = net
        self.target = copy.deepcopy(net) if snapshot else net
        self.names = [name for name, _, _ in data.splits()]
        self.splits = [
            (RowReader(pixels, data.scale, net.dtype), t) for _, pixels, t in data.splits()
        ]
        if any(len(reader) == 0 for reader, _ in self.splits):
            raise ValueError("evaluate needs at least one sample in each split")
        self.blocks = [
            (split, start, min(start + block_rows, len(reader)))
            for split, (reader, _) in enumerate(self.splits)
            for start in range(0, len(reader), block_rows)
        ]
        self.workspaces = [Workspace(self.target) for _ in range(max(threads, 1))]
        self._helpers = [HelperThread(f"scratchnet-eval_{i}") for i in range(threads - 1)]
        self._lock = threading.Lock()
        self._next = len(self.blocks)
        self._sums: list[tuple[float, int]] = []
        self._pending: list[Done] = []

    def start(self) -> None:
        """Begin evaluating the net's current weights (the background threads start now)."""
        if self.target is not self.net:
            for key, value in self.net.params.items():
                np.copyto(self.target.params[key], value)
        self._sums = [(0.0, 0)] * len(self.blocks)
        self._next = 0
        self._pending = [
            helper.submit(functools.partial(self._work, ws))
            for helper, ws in zip(self._helpers, self.workspaces[1:], strict=True)
        ]

    def _claim(self) -> int | None:
        with self._lock:
            i, self._next = self._next, self._next + 1
        return i if i < len(self.blocks) else None

    def _work(self, ws: Workspace) -> None:
        with np.errstate(all="ignore"):  # numpy's error state is per thread
            while (i := self._claim()) is not None:
                split, start, stop = self.blocks[i]
                reader, t = self.splits[split]
                self._sums[i] = ws.block_sums(reader, t, start, stop)

    def _wait(self) -> None:
        pending, self._pending = self._pending, []
        for done in pending:
            done.wait()

    def result(self) -> dict[str, float]:
        """The metrics of the weights given to `start`, once every block is done."""
        self._work(self.workspaces[0])
        self._wait()
        totals = {}
        for split, (name, (reader, _)) in enumerate(zip(self.names, self.splits, strict=True)):
            sums = [s for (b, _, _), s in zip(self.blocks, self._sums, strict=True) if b == split]
            loss = sum(block_loss for block_loss, _ in sums)  # in block order: deterministic
            totals[name] = (loss / len(reader), sum(correct for _, correct in sums) / len(reader))
        return epoch_metrics(totals, penalty(self.target))

    def restore(self) -> None:
        """Put the last evaluated weights back into the net (after a diverged epoch)."""
        if self.target is not self.net:
            for key, value in self.target.params.items():
                np.copyto(self.net.params[key], value)

    def evaluated_params(self) -> dict[str, np.ndarray]:
        """The weights given to the last `start`."""
        return self.target.params

    def close(self) -> None:
        """Stop the background threads (blocks not yet claimed are dropped)."""
        with self._lock:
            self._next = len(self.blocks)
        self._wait()
        for helper in self._helpers:
            helper.close()


def penalty(net: TwoLayerNet) -> float | None:
    """The net's weight decay penalty, logged beside the (data) losses; None without decay."""
    return net.weight_decay_penalty() if net.weight_decay_lambda else None


def evaluate(net: TwoLayerNet, data: Dataset, chunk_size: int) -> dict[str, float]:
    """Loss and accuracy on the full splits, the generalization gaps, and any penalty.

    The reference path: `TwoLayerNet.evaluate` in chunks of `chunk_size` rows.
    """
    features = {"train": data.x_train, "val": data.x_val, "test": data.x_test}
    return epoch_metrics(
        {
            name: net.evaluate(features[name], t, chunk_size=chunk_size)
            for name, _, t in data.splits()
        },
        penalty(net),
    )


class ReferenceEvaluation:
    """`evaluate` behind the `Evaluation` interface (never overlapped: nothing to restore)."""

    def __init__(self, net: TwoLayerNet, data: Dataset, chunk_size: int) -> None:
        self.net, self.data, self.chunk_size = net, data, chunk_size

    def start(self) -> None:
        """Nothing runs ahead: `result` does the work."""

    def result(self) -> dict[str, float]:
        return evaluate(self.net, self.data, self.chunk_size)

    def restore(self) -> None:
        """The net was never moved past the evaluated weights."""

    def evaluated_params(self) -> dict[str, np.ndarray]:
        return self.net.params

    def close(self) -> None:
        """No threads to stop."""
