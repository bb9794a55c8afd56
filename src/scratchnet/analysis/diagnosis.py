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

from scratchnet.analysis.signals import noise_level, smooth
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


Columns = dict[str, np.ndarray]
HISTORY_COLUMNS = ("epoch", *core_metrics("val"))  # every split's loss and accuracy


def finite_columns(history: pd.DataFrame, split: str) -> Columns:
    """`finite_history` as one array per column it has of `HISTORY_COLUMNS` (read once, so a
    diagnosis of many runs does not copy frames)."""
    values = history.loc[:, core_metrics(split)].to_numpy(dtype=float)
    keep = np.flatnonzero(np.isfinite(values).all(axis=1))
    order = keep[np.argsort(history["epoch"].to_numpy()[keep], kind="stable")]
    return {c: history[c].to_numpy()[order] for c in HISTORY_COLUMNS if c in history}


def best_epoch(history: pd.DataFrame, split: str | None = None) -> int | None:
    """The epoch of the lowest `split` loss (first on ties); None without finite epochs."""
    split = split or selection_split(history)
    cols = finite_columns(history, split)
    if not len(cols["epoch"]):
        return None
    return int(cols["epoch"][lowest(cols, split)])


def lowest(cols: Columns, split: str) -> int:
    """The index of the lowest `split` loss among finite epochs (the first on ties)."""
    return int(np.argmin(cols[f"{split}_loss"]))


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
    cols = finite_columns(history, split)
    return column_gaps(cols, split) if len(cols["epoch"]) else None


def column_gaps(cols: Columns, split: str) -> Gaps:
    """`gaps` of finite columns that hold at least one epoch."""
    acc = cols["train_acc"] - cols[f"{split}_acc"]
    loss = cols[f"{split}_loss"] - cols["train_loss"]
    return Gaps(float(acc[-1]), float(acc.max()), float(loss[-1]), float(loss.max()))


def rise_needed(minimum: float, noise: float, t: Thresholds) -> float:
    """How far above its minimum the smoothed loss must stay to count as rising."""
    return max(t.min_rise_abs, t.min_rise_rel * abs(minimum), t.noise_k * noise)


def overfit_onset(
    history: pd.DataFrame, t: Thresholds = DEFAULT_THRESHOLDS, split: str | None = None
) -> int | None:
    """First epoch after which the smoothed `split` loss keeps rising while train loss falls."""
    split = split or selection_split(history)
    return column_onset(finite_columns(history, split), t, split)


def column_onset(cols: Columns, t: Thresholds, split: str) -> int | None:
    """`overfit_onset` of finite columns."""
    if len(cols["epoch"]) < t.min_span + 1:
        return None
    held_out = cols[f"{split}_loss"].astype(float)
    train = cols["train_loss"].astype(float)
    s_held, s_train = smooth(held_out, t.smooth_window), smooth(train, t.smooth_window)
    c = int(np.argmin(s_held))
    last = len(held_out) - 1
    if last - c < t.min_span:
        return None
    rise = rise_needed(s_held[c], noise_level(held_out), t)
    tail = s_held[last - t.min_span + 1 :]
    if not np.all(tail >= s_held[c] + rise):
        return None
    if s_train[last] > s_train[c] + t.noise_k * noise_level(train):
        return None
    return int(cols["epoch"][c])


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
    cols = finite_columns(history, split)
    return column_verdict(cols, len(history), onset, diverged, diverged_epoch, t, split)


def column_verdict(
    cols: Columns,
    logged: int,
    onset: int | None,
    diverged: bool,
    diverged_epoch: int | None,
    t: Thresholds,
    split: str,
) -> tuple[str, str]:
    """`verdict` of a history's finite columns, `logged` the number of epochs it logged."""
    if diverged:
        at = f" at epoch {diverged_epoch}" if diverged_epoch is not None else ""
        return "diverged", f"training stopped as diverged{at}"
    finite = len(cols["epoch"])
    if finite < logged:
        return "diverged", "a logged loss or accuracy is not finite"
    if not finite:
        return "diverged", "no finite epoch"
    first, final = cols["train_loss"][0], cols["train_loss"][-1]
    if finite > 1 and final >= t.diverged_loss_ratio * first:
        return "diverged", (
            f"final train loss {final:.4g} >= {t.diverged_loss_ratio:g} x epoch-0 loss {first:.4g}"
        )
    best_train = float(cols["train_acc"].max())
    if best_train < t.underfit_train_acc:
        return "underfit", f"best train accuracy {best_train:.3f} < {t.underfit_train_acc:g}"
    gap = float(cols["train_acc"][-1] - cols[f"{split}_acc"][-1])
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


def first_row(cols: Columns, index: int) -> int:
    """The first row logged for the epoch at `index` (an epoch logged twice reads as its first)."""
    return int(np.argmax(cols["epoch"] == cols["epoch"][index]))


def _final(cols: Columns, key: str) -> float:
    return float(cols[key][-1]) if key in cols else float("nan")


def diagnose(
    history: pd.DataFrame,
    *,
    diverged: bool = False,
    diverged_epoch: int | None = None,
    t: Thresholds = DEFAULT_THRESHOLDS,
) -> Diagnosis | None:
    """Best epoch, gaps, onset and verdict of one run; None when no epoch is finite."""
    split = selection_split(history)
    cols = finite_columns(history, split)
    if not len(cols["epoch"]):
        return None
    best, test_best = first_row(cols, lowest(cols, split)), first_row(cols, lowest(cols, "test"))
    g = column_gaps(cols, split)
    onset = column_onset(cols, t, split)
    label, reason = column_verdict(cols, len(history), onset, diverged, diverged_epoch, t, split)
    loss, acc, test_acc = cols[f"{split}_loss"], cols[f"{split}_acc"], cols["test_acc"]
    return Diagnosis(
        epochs_logged=len(loss),
        last_epoch=int(cols["epoch"][-1]),
        selection=split,
        best_epoch=int(cols["epoch"][best]),
        best_loss=float(loss[best]),
        best_acc=float(acc[best]),
        test_loss_at_best=float(cols["test_loss"][best]),
        test_acc_at_best=float(test_acc[best]),
        gap_acc_at_best=float(cols["train_acc"][best] - acc[best]),
        test_best_epoch=int(cols["epoch"][test_best]),
        test_acc_at_test_best=float(test_acc[test_best]),
        selection_optimism=float(test_acc[test_best] - test_acc[best]),
        max_train_acc=float(cols["train_acc"].max()),
        final_train_loss=_final(cols, "train_loss"),
        final_val_loss=_final(cols, "val_loss"),
        final_test_loss=_final(cols, "test_loss"),
        final_train_acc=_final(cols, "train_acc"),
        final_val_acc=_final(cols, "val_acc"),
        final_test_acc=_final(cols, "test_acc"),
        gap_acc_final=g.acc_final,
        gap_acc_max=g.acc_max,
        gap_loss_final=g.loss_final,
        gap_loss_max=g.loss_max,
        loss_rise=float(loss[-1] - loss.min()),
        overfit_onset=onset,
        verdict=label,
        reason=reason,
    )
