"""How many BLAS threads the trainer's products run with.

Measured by `python -m benchmarks.run`: the per-step products (batch x 784 x 50) are too
small to share: OpenBLAS's second thread costs more to wake and sync than it saves, and 3-10x
the step when another process holds the other core, so updates run with one BLAS thread.
The full-set evaluation is big, so it is split into blocks that threads of one BLAS thread
each take in turn.
"""

import functools
from contextlib import AbstractContextManager, nullcontext

from threadpoolctl import ThreadpoolController

STEP_BLAS_THREADS = 1  # per-iteration products: one BLAS thread
EVAL_BLOCK_ROWS = 2048  # evaluation block: its hidden activations (2048 x 50) fit in L2


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
