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


def selection_split(has_validation: bool) -> str:
    """The split a run's choices are made on: validation, or test when there is none."""
    return "val" if has_validation else "test"


def epoch_metrics(by_split: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    """An epoch's metrics in METRICS order from (loss, accuracy) per split, with the gaps
    gap_acc = train_acc - acc and gap_loss = loss - train_loss on the selection split."""
    out: dict[str, float] = {}
    for split in SPLITS:
        if split in by_split:
            out[f"{split}_loss"], out[f"{split}_acc"] = by_split[split]
    chosen = selection_split("val" in by_split)
    out["gap_acc"] = out["train_acc"] - out[f"{chosen}_acc"]
    out["gap_loss"] = out[f"{chosen}_loss"] - out["train_loss"]
    return out
