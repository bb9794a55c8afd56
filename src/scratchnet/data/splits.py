"""Seeded, stratified subsets and splits of a labelled set: class proportions kept."""

import math

import numpy as np

from scratchnet.core.checks import fail
from scratchnet.data.sources import RawData


def _largest_remainder(counts: np.ndarray, size: int) -> np.ndarray:
    """Split `size` across classes in proportion to `counts`, summing exactly to `size`."""
    quotas = counts * size / counts.sum()
    alloc = np.floor(quotas).astype(np.int64)
    short = size - int(alloc.sum())
    order = np.argsort(-(quotas - alloc), kind="stable")
    alloc[order[:short]] += 1
    return alloc


def stratified_indices(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Pick `size` sorted indices keeping class proportions (plain random below one per class)."""
    n = len(labels)
    if size == n:
        return np.arange(n)
    classes, counts = np.unique(labels, return_counts=True)
    if size < len(classes):
        return np.sort(rng.choice(n, size=size, replace=False))
    alloc = _largest_remainder(counts, size)
    picked = [
        rng.choice(np.flatnonzero(labels == c), size=int(k), replace=False)
        for c, k in zip(classes, alloc, strict=True)
    ]
    return np.sort(np.concatenate(picked))


def split_off_test(raw: RawData, test_fraction: float, seed: int) -> RawData:
    """Split a dataset without a test set into stratified train/test parts, seeded."""
    n = len(raw.t_train)
    n_test = min(max(math.ceil(test_fraction * n), 1), n - 1)
    test = stratified_indices(raw.t_train, n_test, np.random.default_rng([seed, 0]))
    train = np.setdiff1d(np.arange(n), test, assume_unique=True)
    return RawData(raw.x_train[train], raw.t_train[train], raw.x_train[test], raw.t_train[test])


def validation_indices(
    labels: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices: a stratified `fraction` (> 0) of the set held out, seeded.

    The validation part is ceil(fraction * n) images, drawn per class in
    proportion; a split that leaves some class out of either part is refused, since its
    validation loss would not measure the classes the net is trained on.
    """
    n = len(labels)
    n_val = math.ceil(fraction * n)
    val = stratified_indices(labels, n_val, np.random.default_rng([seed, 2]))
    train = np.setdiff1d(np.arange(n), val, assume_unique=True)
    classes = np.unique(labels)
    if len(np.unique(labels[val])) < len(classes) or len(np.unique(labels[train])) < len(classes):
        fail(
            "data.val_fraction",
            fraction,
            f"a fraction in [0, 1) that leaves every one of the {len(classes)} classes in both "
            f"the training and the validation part ({n} training images: {n_val} held out)",
        )
    return train, val
