"""What an epoch reports: the metric names and the generalization gaps.

Three splits: the gaps are measured against validation when there is one (the split choices
are made on), else against test, as the chapter does without a validation set.
"""

from collections.abc import Mapping

METRICS = (
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "test_loss",
    "test_acc",
    "gap_acc",
    "gap_loss",
)
SPLITS = ("train", "val", "test")
# Logged beside METRICS when they apply: the weight decay penalty 0.5 lambda (|W1|^2 + |W2|^2)
# of the evaluated weights (the losses above stay the data loss), and with `batch_loss` the
# mean over an epoch's updates of each mini-batch's loss before its update.
PENALTY = "weight_decay_penalty"
BATCH_LOSS = "train_batch_loss"


def selection_split(has_validation: bool) -> str:
    """The split a run's choices are made on: validation, or test when there is none."""
    return "val" if has_validation else "test"


def epoch_metrics(
    by_split: Mapping[str, tuple[float, float]], penalty: float | None = None
) -> dict[str, float]:
    """An epoch's metrics in METRICS order from (loss, accuracy) per split, with the gaps
    gap_acc = train_acc - acc and gap_loss = loss - train_loss on the selection split, and
    the weight decay penalty after them when there is one."""
    out: dict[str, float] = {}
    for split in SPLITS:
        if split in by_split:
            out[f"{split}_loss"], out[f"{split}_acc"] = by_split[split]
    chosen = selection_split("val" in by_split)
    out["gap_acc"] = out["train_acc"] - out[f"{chosen}_acc"]
    out["gap_loss"] = out[f"{chosen}_loss"] - out["train_loss"]
    if penalty is not None:
        out[PENALTY] = penalty
    return out
