"""Mini-batch SGD as in the chapter: pure, returns the per-epoch history, reports via callbacks.

Nothing here knows about MLflow or Hydra; whoever calls `train` decides where metrics go.

Speed: with integer labels, `train` runs through `scratchnet.nn.two_layer_net.Workspace`
(preallocated buffers in the net's dtype, in-place ufuncs, no second forward pass, uint8
pixels gathered and scaled per batch); `sgd_step` and `evaluate` are the plain reference path.
Threads, measured by `python -m benchmarks.run`: the per-step matmuls (batch x 784 x 50)
are too small to share: OpenBLAS's second thread costs more to wake and sync than it saves,
and 3-10x the step when another process holds the other core, so updates run with one BLAS
thread. The full-set evaluation is big, so `Evaluator` splits it into blocks of rows that
any free thread takes, each calling BLAS with one thread. When there is a spare core, epoch
e is evaluated on a copy of its weights while epoch e + 1 trains. Every block is computed
the same way whoever takes it, so the metrics are bit-identical for any thread count.
"""

import copy
import functools
import itertools
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, closing, nullcontext
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
        """Called after each evaluated epoch (0 included) whose losses are finite.

        When `train` overlaps the evaluation, the net is already training epoch + 1.
        """

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
    """Loss and accuracy of a net on the full train and test sets, in blocks of rows.

    `start` fixes the weights to evaluate (copied into a snapshot net when `snapshot`) and
    sets `threads - 1` background threads on the blocks; `result` takes the blocks still
    left on the calling thread and waits for the others. Called back to back, that is a
    parallel evaluation; with training in between, one epoch's evaluation overlaps the next
    epoch's updates. Each block runs alike whoever takes it (its own `Workspace`, one BLAS
    thread: the caller sets that) and the block sums are added in block order, so the
    metrics depend on the block size alone, never on the threads or the timing.
    """

    def __init__(
        self, net: TwoLayerNet, data: Dataset, threads: int, block_rows: int, snapshot: bool
    ) -> None:
        self.net = net
        self.target = copy.deepcopy(net) if snapshot else net
        self.scale = data.scale
        self.splits = [
            (_rows(data.pixels_train), data.t_train),
            (_rows(data.pixels_test), data.t_test),
        ]
        if any(len(x) == 0 for x, _ in self.splits):
            raise ValueError("evaluate needs at least one sample in each split")
        self.blocks = [
            (split, slice(i, i + block_rows))
            for split, (x, _) in enumerate(self.splits)
            for i in range(0, len(x), block_rows)
        ]
        self.workspaces = [Workspace(self.target) for _ in range(max(threads, 1))]
        self._pool = ThreadPoolExecutor(threads - 1, "scratchnet-eval") if threads > 1 else None
        self._lock = threading.Lock()
        self._next = len(self.blocks)
        self._sums: list[tuple[float, int]] = []
        self._futures: list[Future] = []

    def start(self) -> None:
        """Begin evaluating the net's current weights (the background threads start now)."""
        if self.target is not self.net:
            for key, value in self.net.params.items():
                np.copyto(self.target.params[key], value)
        self._sums = [(0.0, 0)] * len(self.blocks)
        self._next = 0
        if self._pool is not None:
            self._futures = [self._pool.submit(self._work, ws) for ws in self.workspaces[1:]]

    def _claim(self) -> int | None:
        with self._lock:
            i, self._next = self._next, self._next + 1
        return i if i < len(self.blocks) else None

    def _work(self, ws: Workspace) -> None:
        with np.errstate(all="ignore"):  # numpy's error state is per thread
            while (i := self._claim()) is not None:
                split, rows = self.blocks[i]
                x, t = self.splits[split]
                self._sums[i] = ws.block_sums(x[rows], t[rows], self.scale)

    def _wait(self) -> None:
        futures, self._futures = self._futures, []
        for future in futures:
            future.result()

    def result(self) -> dict[str, float]:
        """The metrics of the weights given to `start`, once every block is done."""
        self._work(self.workspaces[0])
        self._wait()
        totals = []
        for split, (x, _) in enumerate(self.splits):
            sums = [s for (b, _), s in zip(self.blocks, self._sums, strict=True) if b == split]
            loss = sum(block_loss for block_loss, _ in sums)  # in block order: deterministic
            totals.append((loss / len(x), sum(correct for _, correct in sums) / len(x)))
        (train_loss, train_acc), (test_loss, test_acc) = totals
        return _metrics(train_loss, train_acc, test_loss, test_acc)

    def restore(self) -> None:
        """Put the last evaluated weights back into the net (after a diverged epoch)."""
        if self.target is not self.net:
            for key, value in self.target.params.items():
                np.copyto(self.net.params[key], value)

    def close(self) -> None:
        """Stop the background threads (blocks not yet claimed are dropped)."""
        with self._lock:
            self._next = len(self.blocks)
        self._wait()
        if self._pool is not None:
            self._pool.shutdown()


def _rows(x: np.ndarray) -> np.ndarray:
    """Examples as flat rows (a view): (N, 1, H, W) images become (N, H*W)."""
    return x.reshape(len(x), -1)


def _metrics(
    train_loss: float, train_acc: float, test_loss: float, test_acc: float
) -> dict[str, float]:
    """An epoch's metrics in METRICS order, with the generalization gaps."""
    return {
        "train_loss": train_loss,
        "train_acc": train_acc,
        "test_loss": test_loss,
        "test_acc": test_acc,
        "gap_acc": train_acc - test_acc,
        "gap_loss": test_loss - train_loss,
    }


def evaluate(net: TwoLayerNet, data: Dataset, chunk_size: int) -> dict[str, float]:
    """Loss and accuracy on the full train and test sets, and the generalization gaps.

    The reference path: `TwoLayerNet.evaluate` in chunks of `chunk_size` rows.
    """
    train_loss, train_acc = net.evaluate(data.x_train, data.t_train, chunk_size=chunk_size)
    test_loss, test_acc = net.evaluate(data.x_test, data.t_test, chunk_size=chunk_size)
    return _metrics(train_loss, train_acc, test_loss, test_acc)


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


class _ReferenceEvaluation:
    """`evaluate` behind the `Evaluator` interface, for one-hot labels (never overlapped)."""

    def __init__(self, net: TwoLayerNet, data: Dataset, chunk_size: int) -> None:
        self.net, self.data, self.chunk_size = net, data, chunk_size

    def start(self) -> None:
        """Nothing runs ahead: `result` does the work."""

    def result(self) -> dict[str, float]:
        return evaluate(self.net, self.data, self.chunk_size)

    def restore(self) -> None:
        """The net was never moved past the evaluated weights."""

    def close(self) -> None:
        """No threads to stop."""


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
    overlap_evaluation: bool = True,
) -> TrainResult:
    """Train `net` in place; evaluate at epoch 0 and after every epoch; stop on a non-finite loss.

    Batches are drawn from `seed` (its spawn key 1; key 0 is for weight initialisation).
    Diverged: a loss is NaN/inf, or the train loss exceeds `divergence_factor` times its
    epoch-0 value (cross-entropy saturates at -log(delta) ~ 16, so blow-ups stay finite);
    the net is then left with the weights of the diverged epoch.
    Updates run with at most `step_threads` BLAS threads (None: the BLAS default); the
    evaluation with `eval_threads` threads of one BLAS thread each (None: as many as BLAS
    would use) in blocks of min(eval_chunk_size, EVAL_BLOCK_ROWS) rows. With more than one
    evaluation thread, one-thread updates and `overlap_evaluation`, each epoch is evaluated
    on a snapshot of the weights while the next epoch trains: its callbacks come one epoch
    late and the net has moved on by then. The metrics are the same either way.
    """
    plan = make_plan(data.train_size, batch_size, epochs, iters_num)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    result = TrainResult()
    t = data.t_train
    fast = data.t_train.ndim == 1 and data.t_test.ndim == 1  # else one-hot: the reference path
    threads = eval_threads or default_eval_threads()
    overlap = fast and overlap_evaluation and threads > 1 and step_threads == 1
    evaluator: Evaluator | _ReferenceEvaluation
    if fast:
        workspace = Workspace(net)
        block_rows = min(eval_chunk_size, EVAL_BLOCK_ROWS)
        evaluator = Evaluator(net, data, threads, block_rows, snapshot=overlap)
        x, scale = _rows(data.pixels_train), data.scale
    else:
        evaluator = _ReferenceEvaluation(net, data, eval_chunk_size)
        x, scale = data.x_train, 1.0
    for cb in callbacks:
        cb.on_train_begin(plan)

    def steps(batches: list[np.ndarray]) -> None:
        for idx in batches:
            if fast:
                workspace.step(x, t, idx, lr, scale)
            else:
                sgd_step(net, x[idx], t[idx], lr)
        result.iterations += len(batches)

    def collect(epoch: int) -> dict[str, float] | None:
        """The started evaluation's metrics for `epoch`; None if they show divergence."""
        metrics = evaluator.result()
        if is_diverged(metrics, result.history[0] if result.history else None, divergence_factor):
            result.diverged_at = epoch
            return None
        result.history.append({"epoch": epoch, **metrics})
        return metrics

    def report(epoch: int, metrics: Mapping[str, float]) -> None:
        for cb in callbacks:
            cb.on_epoch_end(epoch, metrics)

    def serial() -> None:
        """Evaluate each epoch right after its updates (the net waits for its callbacks)."""
        for epoch, batches in itertools.chain([(0, [])], batch_indices(plan, sampling, rng)):
            with blas_threads(step_threads):
                steps(batches)
            with blas_threads(1 if fast else None):
                evaluator.start()
                metrics = collect(epoch)
            if metrics is None:
                return
            report(epoch, metrics)

    def overlapped() -> None:
        """Evaluate epoch e on a snapshot while epoch e + 1 trains (all at one BLAS thread)."""
        evaluator.start()
        pending = 0
        for epoch, batches in batch_indices(plan, sampling, rng):
            try:
                steps(batches)
            except KeyboardInterrupt:  # keep the epoch already trained and being evaluated
                if (metrics := collect(pending)) is not None:
                    report(pending, metrics)
                raise
            metrics = collect(pending)
            if metrics is None:
                evaluator.restore()
                result.iterations -= len(batches)
                return
            evaluator.start()
            report(pending, metrics)
            pending = epoch
        if (metrics := collect(pending)) is not None:
            report(pending, metrics)

    with (
        np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"),
        closing(evaluator),
        blas_threads(1 if overlap else None),
    ):
        if overlap:
            overlapped()
        else:
            serial()
    for cb in callbacks:
        cb.on_train_end(result)
    return result
