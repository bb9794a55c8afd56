"""The training loop: evaluate epoch 0, then train and evaluate epoch after epoch.

With integer labels, `train` runs the fast path (`scratchnet.training.fast`: preallocated
buffers in the net's dtype, in-place ufuncs, no second forward pass, uint8 pixels gathered
and scaled per batch) and evaluates in blocks over threads; with one-hot labels, the
reference path (`sgd_step`, `TwoLayerNet.evaluate`). When there is a spare core, epoch e is
evaluated on a copy of its weights while epoch e + 1 trains. Every block is computed the same
way whoever takes it, so the metrics are bit-identical for any thread count.
"""

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing

import numpy as np

from scratchnet.data import Dataset
from scratchnet.nn import TwoLayerNet
from scratchnet.training.blas import (
    EVAL_BLOCK_ROWS,
    STEP_BLAS_THREADS,
    blas_threads,
    default_eval_threads,
)
from scratchnet.training.callbacks import Callback, TrainResult, batch_listeners
from scratchnet.training.evaluation import BlockEvaluator, Evaluation, ReferenceEvaluation
from scratchnet.training.metrics import is_diverged
from scratchnet.training.plan import TrainPlan, batch_indices, make_plan
from scratchnet.training.steps import FastStepper, ReferenceStepper, Stepper

BATCH_SEED_KEY = 1  # batches come from SeedSequence(seed, spawn_key=(1,)); key 0 is the net's


def batch_rng(seed: int) -> np.random.Generator:
    """The generator that draws a run's batches (independent of the weights' draw)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(BATCH_SEED_KEY,)))


class _Loop:
    """One run of `train`: its plan, batches, stepper, evaluation, callbacks and result."""

    def __init__(
        self,
        plan: TrainPlan,
        batches: Iterator[tuple[int, list[np.ndarray]]],
        stepper: Stepper,
        evaluation: Evaluation,
        callbacks: Sequence[Callback],
        divergence_factor: float | None,
    ) -> None:
        self.plan, self.batches, self.stepper = plan, batches, stepper
        self.evaluation, self.callbacks = evaluation, callbacks
        self.listeners = batch_listeners(callbacks)
        self.divergence_factor = divergence_factor
        self.result = TrainResult()

    def steps(self, batches: list[np.ndarray]) -> None:
        """The updates of one epoch, each announced to the batch listeners first."""
        for rows in batches:
            if self.listeners:
                for cb in self.listeners:
                    cb.on_batch_begin(self.result.iterations + 1, rows)
            self.stepper.step(rows)
            self.result.iterations += 1

    def collect(self, epoch: int) -> dict[str, float] | None:
        """The started evaluation's metrics for `epoch`; None if they show divergence."""
        metrics = self.evaluation.result()
        initial = self.result.history[0] if self.result.history else None
        if is_diverged(metrics, initial, self.divergence_factor):
            self.result.diverged_at = epoch
            return None
        self.result.history.append({"epoch": epoch, **metrics})
        return metrics

    def report(self, epoch: int, metrics: Mapping[str, float]) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, metrics)

    def serial(self, step_threads: int | None, eval_threads: int | None) -> None:
        """Evaluate each epoch right after its updates (the net waits for its callbacks)."""
        for epoch, batches in itertools.chain([(0, [])], self.batches):
            with blas_threads(step_threads):
                self.steps(batches)
            with blas_threads(eval_threads):
                self.evaluation.start()
                metrics = self.collect(epoch)
            if metrics is None:
                return
            self.report(epoch, metrics)

    def overlapped(self) -> None:
        """Evaluate epoch e on a snapshot while epoch e + 1 trains (all at one BLAS thread)."""
        self.evaluation.start()
        pending = 0
        for epoch, batches in self.batches:
            done = self.result.iterations
            try:
                self.steps(batches)
            except KeyboardInterrupt:  # keep the epoch already trained and being evaluated
                if (metrics := self.collect(pending)) is not None:
                    self.report(pending, metrics)
                raise
            metrics = self.collect(pending)
            if metrics is None:  # epoch `pending` diverged: back to its weights
                self.evaluation.restore()
                self.result.iterations = done
                return
            self.evaluation.start()
            self.report(pending, metrics)
            pending = epoch
        if (metrics := self.collect(pending)) is not None:
            self.report(pending, metrics)


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
    """Train `net` in place; evaluate at epoch 0 and after every epoch; stop on divergence.

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
    fast = data.t_train.ndim == 1 and data.t_test.ndim == 1  # else one-hot: the reference path
    threads = eval_threads or default_eval_threads()
    overlap = fast and overlap_evaluation and threads > 1 and step_threads == 1
    stepper: Stepper
    evaluation: Evaluation
    if fast:
        stepper = FastStepper(net, data, lr)
        block_rows = min(eval_chunk_size, EVAL_BLOCK_ROWS)
        evaluation = BlockEvaluator(net, data, threads, block_rows, snapshot=overlap)
    else:
        stepper = ReferenceStepper(net, data, lr)
        evaluation = ReferenceEvaluation(net, data, eval_chunk_size)
    batches = batch_indices(plan, sampling, batch_rng(seed))
    loop = _Loop(plan, batches, stepper, evaluation, callbacks, divergence_factor)
    for cb in callbacks:
        cb.on_train_begin(plan)
    with (
        np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"),
        closing(evaluation),
        blas_threads(1 if overlap else None),
    ):
        if overlap:
            loop.overlapped()
        else:
            loop.serial(step_threads, 1 if fast else None)
    for cb in callbacks:
        cb.on_train_end(loop.result)
    return loop.result
