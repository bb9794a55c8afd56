"""The one rule that names a sweep's best run, shared by its summary and the Optuna sweeper.

Best is the highest (or lowest) value on the validation split; ties, common when accuracies
are counts over a few hundred images, go to the lower final validation loss, then to the
smaller run name, then the smaller run id, so every place that names "the best run" names the
same one. Pure Python (no MLflow).
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """A run as a contender: what is ranked, and its final loss for ties."""

    run_id: str
    name: str
    value: float
    final_loss: float


def _key(c: Candidate, maximize: bool) -> tuple[float, float, str, str]:
    loss = c.final_loss if math.isfinite(c.final_loss) else math.inf
    return (-c.value if maximize else c.value, loss, c.name, c.run_id)


def pick(candidates: Iterable[Candidate], maximize: bool = True) -> Candidate | None:
    """The best of the candidates with a finite value, by the rule above; None if none."""
    finite = [c for c in candidates if math.isfinite(c.value)]
    return min(finite, key=lambda c: _key(c, maximize), default=None)
