"""Seeded, stratified subsets and splits of a labelled set: class proportions kept."""

import math

import numpy as np

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
