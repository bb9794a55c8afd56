"""What an epoch reports: the metric names, the generalization gaps, and the divergence rule."""

import math
from collections.abc import Mapping

METRICS = ("train_loss", "train_acc", "test_loss", "test_acc", "gap_acc", "gap_loss")


def epoch_metrics(
    train_loss: float, train_acc: float, test_loss: float, test_acc: float
) -> dict[str, float]:
    """An epoch's metrics in METRICS order, with the gaps train - test acc, test - train loss."""
    return {
        "train_loss": train_loss,
        "train_acc": train_acc,
        "test_loss": test_loss,
        "test_acc": test_acc,
        "gap_acc": train_acc - test_acc,
        "gap_loss": test_loss - train_loss,
    }


def is_diverged(
    metrics: Mapping[str, float], initial: Mapping[str, float] | None, factor: float | None
) -> bool:
    """Non-finite metrics, or a train loss `factor` times above the initial one."""
    if not all(math.isfinite(v) for v in metrics.values()):
        return True
    return bool(initial and factor and metrics["train_loss"] > factor * initial["train_loss"])
