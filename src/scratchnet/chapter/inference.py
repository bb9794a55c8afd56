"""The chapter's batch-processing lesson: the same predictions for the whole test set made one
image at a time and in batches, timed. Batches turn many small vector-matrix products into a
few matrix-matrix ones, which NumPy does far faster per image; the labels are the same.
"""

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scratchnet.nn import TwoLayerNet

ONE_AT_A_TIME = 0  # the "batch size" of the book's loop over x[i], one 1-D image per predict


@dataclass(frozen=True)
class Timing:
    """One way of predicting the test set: batch size (ONE_AT_A_TIME: one 1-D image per
    call), the best of its repeats' wall times in seconds, and the labels it gave."""

    batch_size: int
    seconds: float
    accuracy: float
    labels: NDArray[np.int64]

    @property
    def seconds_per_image(self) -> float:
        return self.seconds / len(self.labels)


def predicted_labels(net: TwoLayerNet, x: NDArray, batch_size: int) -> NDArray[np.int64]:
    """The most probable class of each row of `x`, `batch_size` rows per `net.predict` call
    (ONE_AT_A_TIME: each row on its own, as a 1-D image)."""
    if batch_size == ONE_AT_A_TIME:
        return np.array([int(np.argmax(net.predict(image))) for image in x], dtype=np.int64)
    parts = [
        net.predict(x[i : i + batch_size]).argmax(axis=1) for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(parts).astype(np.int64)


def time_inference(
    net: TwoLayerNet, x: NDArray, t: NDArray, batch_size: int, repeats: int
) -> Timing:
    """Predict all of `x` `repeats` times in batches of `batch_size`: the fastest time (the
    least disturbed by other load), and the accuracy against the labels `t`."""
    best, labels = float("inf"), np.empty(0, dtype=np.int64)
    for _ in range(repeats):
        start = time.perf_counter()
        labels = predicted_labels(net, x, batch_size)
        best = min(best, time.perf_counter() - start)
    return Timing(batch_size, best, float(np.mean(labels == t)), labels)


def speedup(reference: Timing, timing: Timing) -> float:
    """How many times faster per image `timing` is than `reference`."""
    return reference.seconds_per_image / timing.seconds_per_image


def same_predictions(timings: list[Timing]) -> bool:
    """Whether every way of predicting gave exactly the same labels."""
    return all(np.array_equal(timings[0].labels, t.labels) for t in timings[1:])
