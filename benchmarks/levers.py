"""The levers' rows: `train()`'s updates alone with each optimizer, dropout and weight decay,
timed side by side with plain SGD's, and their targets as ratios to it.

Each row runs the trainer's own `FastStepper` (the one fast path every lever takes) on the
bench's workload, one epoch of updates per `next()`, no evaluation: the levers change the
updates only (evaluation's dropout scaling is one multiply per block).
"""

import math

import numpy as np

from benchmarks.loops import BATCH, Epochs, initial_net
from scratchnet.data import Dataset
from scratchnet.nn import SGD, make_optimizer

BASELINE = "updates only, plain SGD (lr folded in)"
# row -> (optimizer, its lr, net keywords)
LEVER_ROWS: dict[str, tuple[str, float, dict]] = {
    BASELINE: ("sgd", 0.1, {}),
    "updates only, SGD through update()": ("unfolded_sgd", 0.1, {}),
    "updates only, Momentum": ("momentum", 0.01, {}),
    "updates only, Nesterov": ("nesterov", 0.01, {}),
    "updates only, AdaGrad": ("adagrad", 0.01, {}),
    "updates only, RMSprop": ("rmsprop", 0.01, {}),
    "updates only, Adam": ("adam", 0.001, {}),
    "updates only, SGD + dropout 0.5": ("sgd", 0.1, {"dropout_ratio": 0.5}),
    "updates only, SGD + weight decay 0.01": ("sgd", 0.1, {"weight_decay_lambda": 0.01}),
}
# row -> at most this many times the baseline's median epoch
TARGETS = {
    "updates only, Adam": 1.3,
    "updates only, SGD + dropout 0.5": 1.3,
    "updates only, SGD + weight decay 0.01": 1.1,
}


class UnfoldedSGD(SGD):
    """Plain SGD through `update(params, grads)`: the fast path's fold switched off, to time
    what folding lr into dL/da2 saves."""


def lever_epochs(data: Dataset, row: str, seed: int = 0) -> Epochs:
    """One epoch of `train()`'s updates per `next()`, with the row's optimizer and levers."""
    from scratchnet.training import batch_indices, make_plan
    from scratchnet.training.blas import STEP_BLAS_THREADS, blas_threads
    from scratchnet.training.loop import dropout_rng
    from scratchnet.training.steps import FastStepper

    name, lr, levers = LEVER_ROWS[row]
    net = initial_net(data, seed, **levers)
    if net.dropout.active:
        net.dropout.rng = dropout_rng(seed)
    optimizer = UnfoldedSGD(lr) if name == "unfolded_sgd" else make_optimizer(name, lr)
    stepper = FastStepper(net, data, optimizer)
    rng = np.random.default_rng(seed)
    plan = make_plan(data.train_size, BATCH, epochs=1)
    yield
    with np.errstate(all="ignore"):
        while True:
            _, batches = next(batch_indices(plan, "with_replacement", rng))
            with blas_threads(STEP_BLAS_THREADS):
                for idx in batches:
                    stepper.step(idx)
            yield


def lever_contenders(data: Dataset) -> dict[str, Epochs]:
    """Every lever row's epochs, the baseline first."""
    return {row: lever_epochs(data, row) for row in LEVER_ROWS}


def lever_verdicts(medians: dict[str, float]) -> list[str]:
    """Each row's median epoch as a ratio to plain SGD's, with its target where it has one."""
    base = medians.get(BASELINE, math.nan)
    out = []
    for row, median in medians.items():
        if row == BASELINE or row not in LEVER_ROWS:
            continue
        ratio = median / base
        line = f"- {row}: {ratio:.2f}x the plain SGD update epoch"
        if row in TARGETS:
            met = "met" if ratio <= TARGETS[row] else "MISSED"
            line += f" (target <= {TARGETS[row]}x): {met}"
        out.append(line)
    return out


def lever_table(times: dict[str, list[float]]) -> str:
    """The rows as ms per epoch of updates, with the median's and the minimum's ratio to
    plain SGD's (the minimum is the steadier on a busy machine)."""
    base = times[BASELINE]
    lines = [
        "| updates only | min ms | median ms | max ms | n | median / SGD | min / SGD | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row, values in times.items():
        med, low = float(np.median(values)), min(values)
        target = f"<= {TARGETS[row]}x" if row in TARGETS else ""
        lines.append(
            f"| {row.removeprefix('updates only, ')} | {1e3 * low:.1f} | {1e3 * med:.1f} | "
            f"{1e3 * max(values):.1f} | {len(values)} | {med / np.median(base):.2f} | "
            f"{low / min(base):.2f} | {target} |"
        )
    return "\n".join(lines)
