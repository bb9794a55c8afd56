"""Mini-batch SGD as in the chapter: pure, returns the per-epoch history, reports via callbacks.

Nothing here knows about MLflow or Hydra; whoever calls `train` decides where metrics go.

Speed: with integer labels, `train` runs through `scratchnet.nn.two_layer_net.Workspace`
(preallocated buffers in the net's dtype, in-place ufuncs, no second forward pass);
`sgd_step` and `evaluate` without an evaluator are the plain reference path.
Threads, measured by `python -m benchmarks.run`: the per-step matmuls (batch x 784 x 50)
are too small to share: OpenBLAS's second thread costs more to wake and sync than it saves,
and 3-10x the step when another process holds the other core, so updates run with one BLAS
thread. The full-set evaluation is big, so `Evaluator` splits it into blocks of rows spread
over a few Python threads, each calling BLAS with one thread: it uses the cores without
OpenBLAS's spin-waiting, degrades gracefully on a busy machine, and every block is computed
the same way whoever takes it, so the metrics are bit-identical for any thread count.
"""

import functools
import math
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import ThreadpoolController

from scratchnet.data import Dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.nn.two_layer_net import Workspace

SAMPLINGS = ("shuffle", "with_replacement")
METRICS = ("train_loss", "train_acc", "test_loss", "test_acc", "gap_acc", "gap_loss")
STEP_BLAS_THREADS = 1  # per-iteration matmuls: one BLAS thread (see the module docstring)
EVAL_BLOCK_ROWS = 2048  # evaluation block: its hidden activations (2048 x 50) fit in L2


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
        else:  # one draw for the epoch: the same numbers as `count` draws of `b`
            yield epoch, list(rng.integers(0, n, size=(count, b)))


class Evaluator:
    """Loss and accuracy of a net over many rows, in blocks spread over `threads` threads.

    Block i (rows i*B .. i*B+B-1) goes to thread i mod `threads`, which runs it in its own
    `Workspace` with one BLAS thread; the block sums are added in block order. So the
    result does not depend on the number of threads, only on the block size B.
    """

    def __init__(self, net: TwoLayerNet, threads: int, block_rows: int) -> None:
        self.block_rows = block_rows
        self.workspaces = [Workspace(net) for _ in range(max(threads, 1))]
        self._pool = ThreadPoolExecutor(threads, "scratchnet-eval") if threads > 1 else None

    def __call__(self, x: np.ndarray, t: np.ndarray) -> tuple[float, float]:
        """(mean cross-entropy, accuracy) over the rows of x with integer labels t."""
        n, b, k = len(x), self.block_rows, len(self.workspaces)
        if n == 0:
            raise ValueError("evaluate needs at least one sample")
        starts = range(0, n, b)

        def blocks_of(j: int) -> list[tuple[float, int]]:
            ws = self.workspaces[j]
            with np.errstate(all="ignore"):  # numpy's error state is per thread
                return [ws.block_sums(x[i : i + b], t[i : i + b]) for i in starts[j::k]]

        with blas_threads(1):
            if self._pool is None:
                per_thread = [blocks_of(0)]
            else:
                per_thread = list(self._pool.map(blocks_of, range(k)))
        sums: list[tuple[float, int]] = [(0.0, 0)] * len(starts)
        for j, block_sums in enumerate(per_thread):
            sums[j::k] = block_sums
        loss = sum(block_loss for block_loss, _ in sums)  # in block order: deterministic
        return loss / n, sum(correct for _, correct in sums) / n

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


def evaluate(
    net: TwoLayerNet, data: Dataset, chunk_size: int, evaluator: Evaluator | None = None
) -> dict[str, float]:
    """Loss and accuracy on the full train and test sets, and the generalization gaps.

    Without an `evaluator`, `TwoLayerNet.evaluate` in chunks of `chunk_size` rows.
    """
    if evaluator is None:
        train_loss, train_acc = net.evaluate(data.x_train, data.t_train, chunk_size=chunk_size)
        test_loss, test_acc = net.evaluate(data.x_test, data.t_test, chunk_size=chunk_size)
    else:
        train_loss, train_acc = evaluator(data.x_train, data.t_train)
        test_loss, test_acc = evaluator(data.x_test, data.t_test)
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


@functools.cache
def _blas() -> ThreadpoolController:
    """The process's thread pools, inspected once (a fresh inspection takes ~0.5 ms)."""
    return ThreadpoolController()


def blas_threads(limit: int | None) -> AbstractContextManager:
    """A context running BLAS with at most `limit` threads; None leaves the default alone."""
    return nullcontext() if limit is None else _blas().limit(limits=limit, user_api="blas")


def default_eval_threads() -> int:
    """As many evaluation threads as BLAS would use now: all cores, or what the caller or
    a launcher set (joblib's workers get cores // n_jobs through OPENBLAS_NUM_THREADS)."""
    counts = [pool["num_threads"] for pool in _blas().select(user_api="blas").info()]
    return max(min(counts, default=1), 1)


def sgd_step(net: TwoLayerNet, x: np.ndarray, t: np.ndarray, lr: float) -> None:
    """One update W <- W - lr * dL/dW, in place, with backprop gradients (the reference path)."""
    grads = net.gradient(x, t)
    step = net.params["W1"].dtype.type(lr)
    for key, grad in grads.items():
        grad *= step
        net.params[key] -= grad


@contextmanager
def _closing(evaluator: Evaluator | None) -> Iterator[None]:
    try:
        yield
    finally:
        if evaluator is not None:
            evaluator.close()


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
    step_threads: int | None = STEP_BLAS_THREADS,
    eval_threads: int | None = None,
) -> TrainResult:
    """Train `net` in place; evaluate at epoch 0 and after every epoch; stop on a non-finite loss.

    Batches are drawn from `seed` (its spawn key 1; key 0 is for weight initialisation).
    Diverged: a loss is NaN/inf, or the train loss exceeds `divergence_factor` times its
    epoch-0 value (cross-entropy saturates at -log(delta) ~ 16, so blow-ups stay finite).
    Updates run with at most `step_threads` BLAS threads (None: the BLAS default); the
    evaluation with `eval_threads` threads of one BLAS thread each (None: as many as BLAS
    would use) in blocks of min(eval_chunk_size, EVAL_BLOCK_ROWS) rows. Callbacks run
    outside these settings.
    """
    plan = make_plan(len(data.x_train), batch_size, epochs, iters_num)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    result = TrainResult()
    workspace = evaluator = None  # one-hot labels: the reference path
    if data.t_train.ndim == 1 and data.t_test.ndim == 1:
        workspace = Workspace(net)
        threads = eval_threads or default_eval_threads()
        evaluator = Evaluator(net, threads, min(eval_chunk_size, EVAL_BLOCK_ROWS))
    x, t = data.x_train, data.t_train
    for cb in callbacks:
        cb.on_train_begin(plan)

    def record(epoch: int) -> bool:
        metrics = evaluate(net, data, eval_chunk_size, evaluator)
        if is_diverged(metrics, result.history[0] if result.history else None, divergence_factor):
            result.diverged_at = epoch
            return False
        result.history.append({"epoch": epoch, **metrics})
        for cb in callbacks:
            cb.on_epoch_end(epoch, metrics)
        return True

    with (
        np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"),
        _closing(evaluator),
    ):
        if record(0):
            for epoch, batches in batch_indices(plan, sampling, rng):
                with blas_threads(step_threads):
                    for idx in batches:
                        if workspace is not None:
                            workspace.step(x, t, idx, lr)
                        else:
                            sgd_step(net, x[idx], t[idx], lr)
                result.iterations += len(batches)
                if not record(epoch):
                    break
    for cb in callbacks:
        cb.on_train_end(result)
    return result
