"""A loss curve's smoothing and its epoch-to-epoch jitter, the two measures the onset rule
(`scratchnet.analysis.diagnosis`) compares a rise against."""

import numpy as np


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Centered moving average over `window` points, the window truncated at both ends."""
    values = np.asarray(values, dtype=float)
    half = max(window, 1) // 2
    sums = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(len(values))
    lo = np.maximum(idx - half, 0)
    hi = np.minimum(idx + half + 1, len(values))
    return (sums[hi] - sums[lo]) / (hi - lo)


def noise_level(values: np.ndarray) -> float:
    """Epoch-to-epoch jitter: std of the second differences / sqrt(6), outliers trimmed.

    Second differences cancel any straight trend; differences more than 3 robust standard
    deviations (1.4826 x MAD) from their median, such as the first steep drop, are left out.
    For white noise of standard deviation s the estimate is about s. 0 for < 4 points.
    """
    values = np.asarray(values, dtype=float)
    if len(values) < 4:
        return 0.0
    d2 = np.diff(values, n=2)
    dev = np.abs(d2 - np.median(d2))
    keep = dev <= 3 * 1.4826 * np.median(dev)
    if keep.sum() < 2:
        return 0.0
    return float(np.std(d2[keep]) / np.sqrt(6.0))
