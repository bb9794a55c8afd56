"""Mini-batch SGD as in the chapter: pure, returns the per-epoch history, reports via callbacks.

Nothing here knows about MLflow or Hydra; whoever calls `train` decides where metrics go.
"""

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from scratchnet.data import Dataset
from scratchnet.nn import TwoLayerNet

SAMPLINGS = ("shuffle", "with_replacement")
METRICS = ("train_loss", "train_acc", "test_loss", "test_acc", "gap_acc", "gap_loss")


@dataclass(frozen=True)
class TrainPlan:
    """How long a run is: `epochs` evaluations after epoch 0, `total_iters` updates in all."""

    train_size: int
    batch_size: int
    iters_per_epoch: int
    total_iters: int
    epochs: int


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

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> None:
        """Called after each evaluated epoch (0 included) whose losses are finite."""

    def on_train_end(self, result: TrainResult) -> None:
        """Called once when training stops normally or diverges (not on an exception)."""


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
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling={sampling!r} (allowed: {', '.join(SAMPLINGS)})")
    n, b = plan.train_size, plan.batch_size
    remaining = plan.total_iters
    for epoch in range(1, plan.epochs + 1):
        count = min(plan.iters_per_epoch, remaining)
        remaining -= count
        if sampling == "shuffle":
            order = rng.permutation(n)
            yield epoch, [order[i * b : (i + 1) * b] for i in range(count)]
        else:
            yield epoch, [rng.integers(0, n, size=b) for _ in range(count)]


def evaluate(net: TwoLayerNet, data: Dataset, chunk_size: int) -> dict[str, float]:
    """Loss and accuracy on the full train and test sets, and the generalization gaps."""
    train_loss, train_acc = net.evaluate(data.x_train, data.t_train, chunk_size=chunk_size)
    test_loss, test_acc = net.evaluate(data.x_test, data.t_test, chunk_size=chunk_size)
    return {
        "train_loss": train_loss,
        "train_acc": train_acc,
        "test_loss": test_loss,
        "test_acc": test_acc,
        "gap_acc": train_acc - test_acc,
        "gap_loss": test_loss - train_loss,
    }


def is_diverged(
    metrics: Mapping[str, float], initial: Mapping[str, float] | None, factor: float | None
) -> bool:
    """Non-finite metrics, or a train loss `factor` times above the initial one."""
    if not all(math.isfinite(v) for v in metrics.values()):
        return True
    return bool(initial and factor and metrics["train_loss"] > factor * initial["train_loss"])


def sgd_step(net: TwoLayerNet, x: np.ndarray, t: np.ndarray, lr: float) -> None:
    """One update W <- W - lr * dL/dW, in place, with backprop gradients."""
    grads = net.gradient(x, t)
    step = net.params["W1"].dtype.type(lr)
    for key, grad in grads.items():
        grad *= step
        net.params[key] -= grad


def train(
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
    callbacks: Sequence[Callback] = (),
) -> TrainResult:
    """Train `net` in place; evaluate at epoch 0 and after every epoch; stop on a non-finite loss.

    Batches are drawn from `seed` (its spawn key 1; key 0 is for weight initialisation).
    Diverged: a loss is NaN/inf, or the train loss exceeds `divergence_factor` times its
    epoch-0 value (cross-entropy saturates at -log(delta) ~ 16, so blow-ups stay finite).
    """
    plan = make_plan(len(data.x_train), batch_size, epochs, iters_num)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    result = TrainResult()
    for cb in callbacks:
        cb.on_train_begin(plan)

    def record(epoch: int) -> bool:
        metrics = evaluate(net, data, eval_chunk_size)
        if is_diverged(metrics, result.history[0] if result.history else None, divergence_factor):
            result.diverged_at = epoch
            return False
        result.history.append({"epoch": epoch, **metrics})
        for cb in callbacks:
            cb.on_epoch_end(epoch, metrics)
        return True

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if record(0):
            for epoch, batches in batch_indices(plan, sampling, rng):
                for idx in batches:
                    sgd_step(net, data.x_train[idx], data.t_train[idx], lr)
                result.iterations += len(batches)
                if not record(epoch):
                    break
    for cb in callbacks:
        cb.on_train_end(result)
    return result
