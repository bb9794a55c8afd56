"""How long a run is and which rows each update reads: the epoch plan and its batches."""

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from scratchnet.core.checks import check_choice

SAMPLINGS = ("shuffle", "with_replacement")


@dataclass(frozen=True)
class TrainPlan:
    """How long a run is: `epochs` evaluations after epoch 0, `total_iters` updates in all."""

    train_size: int
    batch_size: int
    iters_per_epoch: int
    total_iters: int
    epochs: int

    def iterations_after(self, epoch: int) -> int:
        """Updates done by the end of `epoch` (0 before any; the last epoch may be partial)."""
        return min(epoch * self.iters_per_epoch, self.total_iters)


def make_plan(
    train_size: int, batch_size: int, epochs: int | None = None, iters_num: int | None = None
) -> TrainPlan:
    """An epoch is ceil(train_size / batch_size) updates, so it is exact for any batch size.

    With `iters_num` (the chapter's way), the last epoch may be partial; it is still evaluated.
    """
    if (epochs is None) == (iters_num is None):
        raise ValueError("give exactly one of epochs and iters_num")
    per_epoch = math.ceil(train_size / batch_size)
    total = epochs * per_epoch if epochs is not None else int(iters_num)  # type: ignore[arg-type]
    return TrainPlan(train_size, batch_size, per_epoch, total, math.ceil(total / per_epoch))


def batch_indices(
    plan: TrainPlan, sampling: str, rng: np.random.Generator
) -> Iterator[tuple[int, list[np.ndarray]]]:
    """Yield (epoch, index arrays of that epoch's batches), epochs numbered from 1.

    `shuffle`: each epoch is a permutation cut into batches (the last may be smaller).
    `with_replacement`: each batch is `np.random.choice(train_size, batch_size)` as in the chapter.
    """
    check_choice("trainer.sampling", sampling, SAMPLINGS)
    n, b = plan.train_size, plan.batch_size
    remaining = plan.total_iters
    for epoch in range(1, plan.epochs + 1):
        count = min(plan.iters_per_epoch, remaining)
        remaining -= count
        if sampling == "shuffle":
            order = rng.permutation(n)
            yield epoch, [order[i * b : (i + 1) * b] for i in range(count)]
        else:  # one draw for the epoch: the same numbers as `count` draws of `b`
            yield epoch, list(rng.integers(0, n, size=(count, b)))
