"""The numbers that turn learning curves into an overfitting onset and a verdict."""

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scratchnet.core.checks import (
    check_int,
    check_non_negative,
    check_positive,
    check_unit_interval,
    fail,
)


@dataclass(frozen=True)
class Thresholds:
    """Defaults for the onset detector and the verdict; see `scratchnet.analysis.diagnosis`."""

    # Onset of overfitting (on test loss, after a centered moving average).
    smooth_window: int = 5  # epochs in the moving average (odd; truncated at the ends)
    min_span: int = 3  # epochs the rise must last, counted back from the last epoch
    min_rise_abs: float = 0.01  # smallest rise above the minimum, in nats
    min_rise_rel: float = 0.05  # ... or this fraction of the minimum, whichever is larger
    noise_k: float = 3.5  # ... or this many times the curve's own noise level
    # Verdict.
    diverged_loss_ratio: float = 1.5  # final train loss >= ratio x epoch-0 train loss: diverged
    underfit_train_acc: float = 0.9  # best train accuracy below this: underfit
    overfit_gap_acc: float = 0.05  # final train - test accuracy at or above this: overfit

    def check(self) -> "Thresholds":
        """Raise ConfigError naming the first value out of range; return self."""
        check_int("threshold smooth_window", self.smooth_window)
        check_int("threshold min_span", self.min_span)
        for name in ("min_rise_abs", "min_rise_rel", "noise_k", "overfit_gap_acc"):
            check_non_negative(f"threshold {name}", getattr(self, name))
        check_positive("threshold diverged_loss_ratio", self.diverged_loss_ratio)
        check_unit_interval("threshold underfit_train_acc", self.underfit_train_acc)
        return self

    def as_dict(self) -> dict[str, float | int]:
        """Field name -> value, in declaration order."""
        return dataclasses.asdict(self)


def parse_thresholds(items: Iterable[str], base: Thresholds | None = None) -> Thresholds:
    """`["min_span=5", "overfit_gap_acc=0.1"]` applied over `base` (the defaults), checked."""
    base = base or Thresholds()
    types = {f.name: f.type for f in dataclasses.fields(Thresholds)}
    changes: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or name not in types:
            fail("threshold", item, f"NAME=VALUE with NAME one of {', '.join(types)}")
        kind = int if types[name] in (int, "int") else float
        try:
            changes[name] = kind(text.strip())
        except ValueError:
            fail(f"threshold {name}", text, "an integer" if kind is int else "a number")
    return dataclasses.replace(base, **changes).check()
