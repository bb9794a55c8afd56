"""The training loop: evaluate epoch 0, then train and evaluate epoch after epoch.

With integer labels, `train` runs the fast path (`scratchnet.training.fast`: preallocated
buffers in the net's dtype, in-place ufuncs, no second forward pass, uint8 pixels gathered
and scaled per batch) and evaluates in blocks over threads; with one-hot labels, the
reference path (`reference_step`, `TwoLayerNet.evaluate`). Both run every lever the same
way: the optimizer (made fresh for each run, so its state is the run's alone), the net's
weight decay and its dropout. When there is a spare core, epoch e is
evaluated on a copy of its weights while epoch e + 1 trains, and the same core gathers the
next batches ahead (`scratchnet.training.prefetch`). Every block is computed the same
way whoever takes it, so the metrics are bit-identical for any thread count.
"""

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing

import numpy as np

from scratchnet.data import Dataset
from scratchnet.nn import Optimizer, TwoLayerNet, make_optimizer
from scratchnet.training.blas import (
    EVAL_BLOCK_ROWS,
    STEP_BLAS_THREADS,
    blas_threads,
    default_eval_threads,
)
from scratchnet.training.callbacks import Callback, TrainResult, batch_listeners
from scratchnet.training.evaluation import BlockEvaluator, Evaluation, ReferenceEvaluation
from scratchnet.training.metrics import BATCH_LOSS
from scratchnet.training.plan import TrainPlan, batch_indices, make_plan
from scratchnet.training.steps import FastStepper, ReferenceStepper, Stepper
from scratchnet.training.stopping import (
    NON_FINITE,
    BestEpoch,
    DivergenceRule,
    EarlyStopping,
)

# A run's random draws, each from its own child of the seed: SeedSequence(seed, spawn_key=(k,)).
# Key 0: the initial weights (NET_SEED_KEY, scratchnet.config.build); 1: the batches; 2: the
# dropout masks. Each stream is independent of the others: adding dropout moves no batch.
BATCH_SEED_KEY = 1
DROPOUT_SEED_KEY = 2


def batch_rng(seed: int) -> np.random.Generator:
    """The generator that draws a run's batches (independent of the weights' draw)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(BATCH_SEED_KEY,)))


def dropout_rng(seed: int) -> np.random.Generator:
    """The generator that draws a run's dropout masks, one fresh mask per update."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DROPOUT_SEED_KEY,)))


class _Loop:
    """One run of `train`: its plan, batches, stepper, evaluation, callbacks and result."""

    def __init__(
        self,
        plan: TrainPlan,
        batches: Iterator[tuple[int, list[np.ndarray]]],
        stepper: Stepper,
        evaluation: Evaluation,
        callbacks: Sequence[Callback],
        divergence: DivergenceRule,
        best: BestEpoch | None,
    ) -> None:
        self.plan, self.batches, self.stepper = plan, batches, stepper
        self.evaluation, self.callbacks = evaluation, callbacks
        self.listeners = batch_listeners(callbacks)
        self.divergence, self.best = divergence, best
        self.result = TrainResult(planned_epochs=plan.epochs)
        self.batch_losses: dict[int, float] = {}

    def steps(self, epoch: int, batches: list[np.ndarray]) -> None:
        """The updates of one epoch, each announced to the batch listeners first."""
        self.stepper.plan(batches)
        for rows in batches:
            if self.listeners:
                for cb in self.listeners:
                    cb.on_batch_begin(self.result.iterations + 1, rows)
            self.stepper.step(rows)
            self.result.iterations += 1
        batch_loss = self.stepper.take_batch_loss()
        if batch_loss is not None:
            self.batch_losses[epoch] = batch_loss

    def collect(self, epoch: int) -> dict[str, float] | None:
        """The started evaluation's metrics for `epoch`; None when they are not finite.

        A finite epoch is kept (and reported) even when it shows divergence: the spike is
        part of the run. The stopping rules take note of it.
        """
        metrics = self.evaluation.result()
        if epoch in self.batch_losses:
            metrics[BATCH_LOSS] = self.batch_losses.pop(epoch)
        divergence = self.divergence.check(epoch, metrics)
        if divergence is not None:
            self.result.divergence = divergence
            if divergence.rule == NON_FINITE:
                return None
        self.result.history.append({"epoch": epoch, **metrics})
        if self.best is not None and self.best.improved(epoch, metrics):
            self.best.keep(self.evaluation.evaluated_params())
            self.result.best_epoch = epoch
        return metrics

    def stops_after(self, epoch: int) -> bool:
        """True when the run ends at `epoch`: it diverged, or early stopping says so."""
        if self.result.diverged:
            return True
        if self.best is not None and self.best.should_stop(epoch):
            self.result.stopped_epoch = epoch
            return True
        return False

    def report(self, epoch: int, metrics: Mapping[str, float] | None) -> None:
        if metrics is not None:
            for cb in self.callbacks:
                cb.on_epoch_end(epoch, metrics)

    def serial(self, step_threads: int | None, eval_threads: int | None) -> None:
        """Evaluate each epoch right after its updates (the net waits for its callbacks)."""
        for epoch, batches in itertools.chain([(0, [])], self.batches):
            with blas_threads(step_threads):
                self.steps(epoch, batches)
            with blas_threads(eval_threads):
                self.evaluation.start()
                metrics = self.collect(epoch)
            self.report(epoch, metrics)
            if self.stops_after(epoch):
                return

    def overlapped(self) -> None:
        """Evaluate epoch e on a snapshot while epoch e + 1 trains (all at one BLAS thread)."""
        self.evaluation.start()
        pending = 0
        for epoch, batches in self.batches:
            done = self.result.iterations
            try:
                self.steps(epoch, batches)
            except KeyboardInterrupt:  # keep the epoch already trained and being evaluated
                self.report(pending, self.collect(pending))
                raise
            metrics = self.collect(pending)
            if self.stops_after(pending):  # the run ends at `pending`: back to its weights
                self.evaluation.restore()
                self.result.iterations = done
                self.report(pending, metrics)
                return
            self.evaluation.start()
            self.report(pending, metrics)
            pending = epoch
        self.report(pending, self.collect(pending))

    def run(
        self, net: TwoLayerNet, overlap: bool, step_threads: int | None, eval_threads: int | None
    ) -> TrainResult:
        """The whole run, between the callbacks' begin and end."""
        for cb in self.callbacks:
            cb.on_train_begin(self.plan)
        with (
            np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"),
            closing(self.evaluation),
            closing(self.stepper),
            blas_threads(1 if overlap else None),
        ):
            if overlap:
                self.overlapped()
            else:
                self.serial(step_threads, eval_threads)
        self.finish(net)
        for cb in self.callbacks:
            cb.on_train_end(self.result)
        return self.result

    def finish(self, net: TwoLayerNet) -> None:
        """With early stopping's `restore_best`, end with the best epoch's weights."""
        if self.best is not None and self.best.params and not self.result.diverged:
            for key, value in self.best.params.items():
                np.copyto(net.params[key], value)


def _fresh_state(
    net: TwoLayerNet, seed: int, name: str, lr: float, options: Mapping[str, float] | None
) -> Optimizer:
    """The run's own random state: a fresh optimizer, and the dropout masks from `seed`."""
    if net.dropout.active:
        net.dropout.rng = dropout_rng(seed)
    return make_optimizer(name, lr, **(options or {}))


def _engine(
    net: TwoLayerNet,
    data: Dataset,
    stepper_args: tuple[Optimizer, bool],
    fast: bool,
    threads: int,
    chunk_size: int,
    overlap: bool,
) -> tuple[Stepper, Evaluation]:
    """The fast path's stepper and block evaluator, or the reference path's (one-hot labels)."""
    if not fast:
        reference = ReferenceEvaluation(net, data, chunk_size)
        return ReferenceStepper(net, data, *stepper_args), reference
    block_rows = min(chunk_size, EVAL_BLOCK_ROWS)
    evaluation = BlockEvaluator(net, data, threads, block_rows, snapshot=overlap)
    # the batches are made ahead on the spare core that the overlapped evaluation shares
    return FastStepper(net, data, *stepper_args, prefetch=overlap), evaluation


def train(
    net: TwoLayerNet,
    data: Dataset,
    *,
    lr: float,
    optimizer: str = "sgd",
    optimizer_options: Mapping[str, float] | None = None,
    batch_size: int,
    epochs: int | None = None,
    iters_num: int | None = None,
    sampling: str = "shuffle",
    seed: int = 0,
    eval_chunk_size: int = 10000,
    divergence_factor: float | None = 3.0,
    divergence_patience: int = 3,
    early_stopping: EarlyStopping | None = None,
    callbacks: Sequence[Callback] = (),
    step_threads: int | None = STEP_BLAS_THREADS,
    eval_threads: int | None = None,
    overlap_evaluation: bool = True,
    batch_loss: bool = False,
) -> TrainResult:
    """Train `net` in place; evaluate at epoch 0 and after every epoch; stop on divergence.

    Updates by a fresh `optimizer` (sgd, momentum, nesterov, adagrad, rmsprop, adam) at `lr`,
    its other hyperparameters from `optimizer_options`; the net's weight decay and dropout
    apply in training (its evaluation never drops). Batches are drawn from `seed` (its spawn
    key 1; key 0 is for weight initialisation), dropout masks from its key 2 (`train` sets
    `net.dropout.rng`). With `batch_loss`, each epoch also reports `train_batch_loss`.
    Diverged: a loss is NaN/inf, or the train loss stays above `divergence_factor` times its
    epoch-0 value for `divergence_patience` epochs in a row (cross-entropy saturates at
    -log(delta) ~ 16, so blow-ups stay finite); the net is then left with the weights of the
    diverged epoch. `early_stopping` stops a run whose validation loss stops improving.
    Updates run with at most `step_threads` BLAS threads (None: the BLAS default); the
    evaluation with `eval_threads` threads of one BLAS thread each (None: as many as BLAS
    would use) in blocks of min(eval_chunk_size, EVAL_BLOCK_ROWS) rows. With more than one
    evaluation thread, one-thread updates and `overlap_evaluation`, each epoch is evaluated
    on a snapshot of the weights while the next epoch trains: its callbacks come one epoch
    late and the net has moved on by then. The metrics are the same either way.
    """
    plan = make_plan(data.train_size, batch_size, epochs, iters_num)
    if early_stopping is not None and not data.has_validation:
        raise ValueError("early stopping watches the validation loss: the data has none")
    threads = eval_threads or default_eval_threads()
    fast = data.t_train.ndim == 1 and data.t_test.ndim == 1  # else one-hot: the reference path
    overlap = fast and overlap_evaluation and threads > 1 and step_threads == 1
    update = (_fresh_state(net, seed, optimizer, lr, optimizer_options), batch_loss)
    stepper, evaluation = _engine(net, data, update, fast, threads, eval_chunk_size, overlap)
    loop = _Loop(
        plan,
        batch_indices(plan, sampling, batch_rng(seed)),
        stepper,
        evaluation,
        callbacks,
        DivergenceRule(divergence_factor, divergence_patience),
        BestEpoch(early_stopping) if early_stopping is not None else None,
    )
    return loop.run(net, overlap, step_threads, 1 if fast else None)
