"""Per-run overfitting diagnosis: pure functions over one run's history (epoch x metric).

A history is a DataFrame with an `epoch` column and `train_loss`, `train_acc`, `val_loss`,
`val_acc`, `test_loss`, `test_acc` (one row per logged epoch, epoch 0 before any update).
Every choice is made on the **selection split**: validation, or test for a run recorded
without a validation split (then the choices flatter it, and the report says so). Definitions:

- **best epoch**: the epoch of the lowest selection loss (the first one on ties);
  `best_acc` is the selection accuracy there and `test_acc_at_best` the test accuracy
  there: test is reported at the epoch validation chose, never chosen on.
- **selection optimism**: the test accuracy at the epoch of the lowest *test* loss minus
  `test_acc_at_best`: how much choosing the epoch on test would have flattered the run.
- **gaps**: `gap_acc = train_acc - acc` and `gap_loss = loss - train_loss` on the selection
  split, at the last logged epoch (`*_final`) and at their maximum over epochs (`*_max`).
- **onset of overfitting**: smooth both losses with a centered moving average of
  `smooth_window` epochs (truncated at the ends). The candidate is the first epoch `c` where
  the smoothed selection loss is lowest. `c` is the onset when the rise after it is real:
  (1) at least `min_span` epochs follow `c`; (2) the smoothed selection loss over each of
  the last `min_span` epochs lies at least `rise` above its minimum, where
  `rise = max(min_rise_abs, min_rise_rel * minimum, noise_k * noise)` and `noise` is the
  raw loss's epoch-to-epoch jitter (`noise_level`); (3) the train loss does not rise with
  it: its smoothed value at the last epoch is at most its value at `c` plus `noise_k` times
  its own jitter (a rise of both losses is instability, not overfitting). So noise must be
  `noise_k` times its own size to fire, and a rise that has subsided by the end does not
  count.
- **verdict**, the first rule that holds: `diverged` (tag `diverged=true`, a non-finite loss,
  or final train loss >= `diverged_loss_ratio` x epoch-0 train loss); `underfit` (best train
  accuracy < `underfit_train_acc`); `overfit` (an onset, or final accuracy gap >=
  `overfit_gap_acc`); else `good_fit`.
- **gap at the best epoch** (`gap_acc_at_best`): train - selection accuracy at the epoch
  chosen, the gap of the weights one would keep.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scratchnet.analysis.thresholds import Thresholds

VERDICTS = ("good_fit", "overfit", "underfit", "diverged")
SPLIT_NAMES = {"train": "train", "val": "validation", "test": "test"}
DEFAULT_THRESHOLDS = Thresholds()


def selection_split(history: pd.DataFrame) -> str:
    """`val` when the run logged a validation loss, else `test`."""
    has_val = "val_loss" in history and bool(history["val_loss"].notna().any())
    return "val" if has_val else "test"


def core_metrics(split: str) -> list[str]:
    """The metrics a diagnosis on `split` reads: train, the split itself, and test."""
    names = ["train_loss", "train_acc", f"{split}_loss", f"{split}_acc"]
    return names + (["test_loss", "test_acc"] if split != "test" else [])


def finite_history(history: pd.DataFrame, split: str | None = None) -> pd.DataFrame:
    """The epochs whose core metrics are all finite, sorted by epoch, reindexed."""
    columns = core_metrics(split or selection_split(history))
    values = history.loc[:, columns].to_numpy(dtype=float)
    keep = np.isfinite(values).all(axis=1)
    return history.loc[keep].sort_values("epoch", kind="stable").reset_index(drop=True)


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


def best_epoch(history: pd.DataFrame, split: str | None = None) -> int | None:
    """The epoch of the lowest `split` loss (first on ties); None without finite epochs."""
    split = split or selection_split(history)
    h = finite_history(history, split)
    if h.empty:
        return None
    return int(h["epoch"].iloc[int(np.argmin(h[f"{split}_loss"].to_numpy()))])


@dataclass(frozen=True)
class Gaps:
    """Generalization gaps at the last epoch and at their maximum."""

    acc_final: float
    acc_max: float
    loss_final: float
    loss_max: float


def gaps(history: pd.DataFrame, split: str | None = None) -> Gaps | None:
    """train - `split` accuracy and `split` - train loss, final and maximal, finite epochs."""
    split = split or selection_split(history)
    h = finite_history(history, split)
    if h.empty:
        return None
    acc = (h["train_acc"] - h[f"{split}_acc"]).to_numpy()
    loss = (h[f"{split}_loss"] - h["train_loss"]).to_numpy()
    return Gaps(float(acc[-1]), float(acc.max()), float(loss[-1]), float(loss.max()))


def rise_needed(minimum: float, noise: float, t: Thresholds) -> float:
    """How far above its minimum the smoothed loss must stay to count as rising."""
    return max(t.min_rise_abs, t.min_rise_rel * abs(minimum), t.noise_k * noise)


def overfit_onset(
    history: pd.DataFrame, t: Thresholds = DEFAULT_THRESHOLDS, split: str | None = None
) -> int | None:
    """First epoch after which the smoothed `split` loss keeps rising while train loss falls."""
    split = split or selection_split(history)
    h = finite_history(history, split)
    if len(h) < t.min_span + 1:
        return None
    held_out = h[f"{split}_loss"].to_numpy(dtype=float)
    train = h["train_loss"].to_numpy(dtype=float)
    s_held, s_train = smooth(held_out, t.smooth_window), smooth(train, t.smooth_window)
    c = int(np.argmin(s_held))
    last = len(h) - 1
    if last - c < t.min_span:
        return None
    rise = rise_needed(s_held[c], noise_level(held_out), t)
    tail = s_held[last - t.min_span + 1 :]
    if not np.all(tail >= s_held[c] + rise):
        return None
    if s_train[last] > s_train[c] + t.noise_k * noise_level(train):
        return None
    return int(h["epoch"].iloc[c])


def verdict(
    history: pd.DataFrame,
    *,
    onset: int | None,
    diverged: bool = False,
    diverged_epoch: int | None = None,
    t: Thresholds = DEFAULT_THRESHOLDS,
    split: str | None = None,
) -> tuple[str, str]:
    """(verdict, reason): the first of diverged, underfit, overfit that holds, else good_fit."""
    split = split or selection_split(history)
    h = finite_history(history, split)
    if diverged:
        at = f" at epoch {diverged_epoch}" if diverged_epoch is not None else ""
        return "diverged", f"training stopped as diverged{at}"
    if len(h) < len(history):
        return "diverged", "a logged loss or accuracy is not finite"
    if h.empty:
        return "diverged", "no finite epoch"
    first, final = h["train_loss"].iloc[0], h["train_loss"].iloc[-1]
    if len(h) > 1 and final >= t.diverged_loss_ratio * first:
        return "diverged", (
            f"final train loss {final:.4g} >= {t.diverged_loss_ratio:g} x epoch-0 loss {first:.4g}"
        )
    best_train = float(h["train_acc"].max())
    if best_train < t.underfit_train_acc:
        return "underfit", f"best train accuracy {best_train:.3f} < {t.underfit_train_acc:g}"
    gap = float(h["train_acc"].iloc[-1] - h[f"{split}_acc"].iloc[-1])
    name = SPLIT_NAMES[split]
    reasons = []
    if onset is not None:
        reasons.append(f"{name} loss rises from epoch {onset} while train loss falls")
    if gap >= t.overfit_gap_acc:
        reasons.append(f"final accuracy gap (train - {name}) {gap:.3f} >= {t.overfit_gap_acc:g}")
    if reasons:
        return "overfit", "; ".join(reasons)
    return "good_fit", (
        f"best train accuracy {best_train:.3f}, final accuracy gap (train - {name}) {gap:.3f} "
        f"< {t.overfit_gap_acc:g}, no rise in {name} loss"
    )


@dataclass(frozen=True)
class Diagnosis:
    """Everything the analysis says about one run; `best_*` and the gaps on `selection`."""

    epochs_logged: int
    last_epoch: int
    selection: str
    best_epoch: int
    best_loss: float
    best_acc: float
    test_loss_at_best: float
    test_acc_at_best: float
    gap_acc_at_best: float
    test_best_epoch: int
    test_acc_at_test_best: float
    selection_optimism: float
    max_train_acc: float
    final_train_loss: float
    final_val_loss: float
    final_test_loss: float
    final_train_acc: float
    final_val_acc: float
    final_test_acc: float
    gap_acc_final: float
    gap_acc_max: float
    gap_loss_final: float
    gap_loss_max: float
    loss_rise: float
    overfit_onset: int | None
    verdict: str
    reason: str


def _final(row: pd.Series, key: str) -> float:
    return float(row[key]) if key in row else float("nan")


def diagnose(
    history: pd.DataFrame,
    *,
    diverged: bool = False,
    diverged_epoch: int | None = None,
    t: Thresholds = DEFAULT_THRESHOLDS,
) -> Diagnosis | None:
    """Best epoch, gaps, onset and verdict of one run; None when no epoch is finite."""
    split = selection_split(history)
    h = finite_history(history, split)
    if h.empty:
        return None
    best, test_best = best_epoch(h, split), best_epoch(h, "test")
    g = gaps(h, split)
    assert best is not None and test_best is not None and g is not None
    at_best = h.loc[h["epoch"] == best].iloc[0]
    at_test_best = h.loc[h["epoch"] == test_best].iloc[0]
    onset = overfit_onset(h, t, split)
    label, reason = verdict(
        history, onset=onset, diverged=diverged, diverged_epoch=diverged_epoch, t=t, split=split
    )
    final = h.iloc[-1]
    return Diagnosis(
        epochs_logged=len(h),
        last_epoch=int(final["epoch"]),
        selection=split,
        best_epoch=best,
        best_loss=float(at_best[f"{split}_loss"]),
        best_acc=float(at_best[f"{split}_acc"]),
        test_loss_at_best=float(at_best["test_loss"]),
        test_acc_at_best=float(at_best["test_acc"]),
        gap_acc_at_best=float(at_best["train_acc"] - at_best[f"{split}_acc"]),
        test_best_epoch=test_best,
        test_acc_at_test_best=float(at_test_best["test_acc"]),
        selection_optimism=float(at_test_best["test_acc"] - at_best["test_acc"]),
        max_train_acc=float(h["train_acc"].max()),
        final_train_loss=float(final["train_loss"]),
        final_val_loss=_final(final, "val_loss"),
        final_test_loss=float(final["test_loss"]),
        final_train_acc=float(final["train_acc"]),
        final_val_acc=_final(final, "val_acc"),
        final_test_acc=float(final["test_acc"]),
        gap_acc_final=g.acc_final,
        gap_acc_max=g.acc_max,
        gap_loss_final=g.loss_final,
        gap_loss_max=g.loss_max,
        loss_rise=float(final[f"{split}_loss"] - h[f"{split}_loss"].min()),
        overfit_onset=onset,
        verdict=label,
        reason=reason,
    )
