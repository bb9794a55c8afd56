"""The matmul limit: an epoch's FLOPs over the GFLOP/s numpy's BLAS reaches on its shapes.

An epoch of the chapter's net is, in matrix products (N rows, batch B, 784-50-10):

    per update (ceil(N/B) of them)    x W1 (B,784)(784,50)   z1 W2 (B,50)(50,10)
                                      z1^T d2 (50,B)(B,10)   d2 W2^T (B,10)(10,50)
                                      x^T d1 (784,B)(B,50)
    per evaluation (train + test)     X W1 (R,784)(784,50) and z1 W2 (R,50)(50,10), block
                                      by block (R = the trainer's evaluation block rows)

A product (m,k)(k,n) is 2mkn FLOPs. Each is timed alone (`np.matmul(..., out=)` into a
preallocated array, operands laid out as the trainer lays them out, the evaluation reading
the real data) in three settings: 1 BLAS thread; the BLAS default (OpenBLAS's own threads);
and, for the evaluation, its blocks spread over one Python thread per core with 1 BLAS
thread each. The fastest setting of each product counts: the sum is the time an epoch
would take if it were nothing but BLAS calls.
"""

import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from scratchnet.data import Dataset
from scratchnet.training.blas import EVAL_BLOCK_ROWS, blas_threads

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
SETTINGS = {  # label: (BLAS threads, Python threads for the evaluation's blocks)
    "1 thread": (1, 1),
    "BLAS default": (None, 1),
    f"{CORES} threads x 1": (1, CORES),
}


@dataclass
class Shape:
    """One product timed as the trainer does it, and how often an epoch does it."""

    name: str
    phase: str  # "steps" or "eval"
    flops: float  # per call
    calls: int  # per epoch
    run: Callable[[int], None]  # an epoch's worth, given the Python threads to use


def _operands(m: int, k: int, n: int, rng, transposed_a: bool = False):
    a = rng.random((k, m), dtype=np.float32).T if transposed_a else rng.random((m, k), np.float32)
    b = rng.random((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    return a, b, out


def _repeat(a, b, out, repeat: int) -> Callable[[int], None]:
    """An epoch's worth of one update-sized product (always on the calling thread)."""

    def run(_threads: int) -> None:
        for _ in range(repeat):
            np.matmul(a, b, out=out)

    return run


def _blocks(blocks: list[np.ndarray], w: np.ndarray, pool: ThreadPoolExecutor):
    """The evaluation's product over all blocks: thread j takes blocks j, j+k, ..."""
    outs = [np.empty((EVAL_BLOCK_ROWS, w.shape[1]), np.float32) for _ in range(CORES)]

    def share(j: int, k: int) -> None:
        for x in blocks[j::k]:
            np.matmul(x, w, out=outs[j][: len(x)])

    def run(threads: int) -> None:
        if threads == 1:
            share(0, 1)
        else:
            list(pool.map(share, range(threads), [threads] * threads))

    return run


def epoch_shapes(data: Dataset, pool: ThreadPoolExecutor, batch: int = 100, hidden: int = 50):
    """The products of one epoch: the update's five and the evaluation's, on the real data."""
    rng = np.random.default_rng(0)
    n_in, n_out = data.input_size, data.num_classes
    per_epoch = math.ceil(len(data.x_train) / batch)
    shapes = []
    for name, (m, k, n), trans in (
        ("x W1", (batch, n_in, hidden), False),
        ("z1 W2", (batch, hidden, n_out), False),
        ("z1^T d2", (hidden, batch, n_out), True),
        ("d2 W2^T", (batch, n_out, hidden), False),
        ("x^T d1", (n_in, batch, hidden), True),
    ):
        a, b, out = _operands(m, k, n, rng, trans)
        run = _repeat(a, b, out, repeat=per_epoch)
        shapes.append(Shape(name, "steps", 2.0 * m * k * n, per_epoch, run))
    rows = len(data.x_train) + len(data.x_test)
    r = EVAL_BLOCK_ROWS
    x_blocks = [x[i : i + r] for x in (data.x_train, data.x_test) for i in range(0, len(x), r)]
    z_blocks = [rng.random((len(x), hidden), dtype=np.float32) for x in x_blocks]
    w1 = rng.random((n_in, hidden), dtype=np.float32)
    w2 = rng.random((hidden, n_out), dtype=np.float32)
    flops1, flops2 = 2.0 * rows * n_in * hidden, 2.0 * rows * hidden * n_out
    shapes.append(Shape("X W1 (all rows)", "eval", flops1, 1, _blocks(x_blocks, w1, pool)))
    shapes.append(Shape("z1 W2 (all rows)", "eval", flops2, 1, _blocks(z_blocks, w2, pool)))
    return shapes


def limit_epochs(shapes: list[Shape], setting: str, record: dict[str, list[float]]):
    """An epoch generator for the interleaved rounds: every product once, timed one by one.

    Each `next()` runs an epoch's worth of every shape in `setting` (a key of SETTINGS)
    and appends each shape's seconds to record[shape.name].
    """
    blas, threads = SETTINGS[setting]
    for shape in shapes:
        record.setdefault(shape.name, [])
    yield
    while True:
        with blas_threads(blas):
            for shape in shapes:
                start = time.perf_counter()
                shape.run(threads)
                record[shape.name].append(time.perf_counter() - start)
        yield


@dataclass
class Limit:
    """One product's per-epoch GFLOP and median seconds per thread setting."""

    name: str
    phase: str
    gflop: float
    seconds: dict[str, float]

    @property
    def best(self) -> str:
        return min(self.seconds, key=self.seconds.get)

    @property
    def gflops(self) -> float:
        return self.gflop / self.seconds[self.best]


def summarize(shapes: list[Shape], records: dict[str, dict[str, list[float]]]) -> list[Limit]:
    """Per shape: medians under each thread setting (records: setting -> shape -> times)."""
    return [
        Limit(
            shape.name,
            shape.phase,
            shape.flops * shape.calls / 1e9,
            {label: float(np.median(times[shape.name])) for label, times in records.items()},
        )
        for shape in shapes
    ]
