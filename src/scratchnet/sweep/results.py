"""An Optuna search's outcome: its best trial by the sweep's one rule, saved beside the sweep.

Optuna's own `study.best_trial` breaks ties by trial number; the sweep's parent names its
best run by `scratchnet.tracking.best` (ties to the lower final validation loss, then the run
name and id). With the default objective (final `val_acc`, maximize) the two would disagree
on a tie, so the best trial reported here is the trial whose run that rule picks: the same run
as the parent's `scratchnet.best_by_final_val_acc`. Each trial keeps what the rule reads in
its user attributes (`scratchnet.sweep.study.record_job`), so a continued study ranks the
trials of earlier attempts too.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import OmegaConf

from scratchnet.sweep.study import (
    FINAL_LOSS_ATTR,
    OVERRIDES_ATTR,
    RUN_ID_ATTR,
    RUN_NAME_ATTR,
    evaluated,
)
from scratchnet.tracking.best import Candidate, pick

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

log = logging.getLogger("scratchnet.sweep.optuna")


def candidate(trial: FrozenTrial) -> Candidate:
    """A completed trial's run as a contender, ranked by the trial's value."""
    attrs = trial.user_attrs
    loss = float(attrs.get(FINAL_LOSS_ATTR, math.nan))
    value = float(trial.value) if trial.value is not None else math.nan
    return Candidate(
        str(attrs.get(RUN_ID_ATTR, "")), str(attrs.get(RUN_NAME_ATTR, "")), value, loss
    )


def best_trial(trials: Sequence[FrozenTrial], direction: str) -> FrozenTrial | None:
    """The completed trial whose run the rule names best (the lowest such trial number)."""
    from optuna.trial import TrialState

    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = pick((candidate(t) for t in complete), maximize=direction == "maximize")
    if best is None:
        return None
    return min((t for t in complete if candidate(t) == best), key=lambda t: t.number)


def save_results(study: optuna.Study, objective: str, path: Path) -> dict[str, int]:
    """Log the best trial, write the outcome next to multirun.yaml; evaluated trials by state."""
    from optuna.trial import TrialState

    trials = evaluated(study)
    states = [s for s in TrialState if s.is_finished()]
    counts = {s.name.lower(): sum(t.state == s for t in trials) for s in states}
    direction = study.direction.name.lower()
    results: dict[str, Any] = {"objective": objective, "direction": direction}
    results |= {"study": study.study_name} | counts
    best = best_trial(trials, direction)
    if best is not None:
        overrides = best.user_attrs[OVERRIDES_ATTR]
        run = candidate(best)
        results |= {"best_trial": best.number, "best_value": best.value}
        results |= {"best_overrides": overrides, "best_run": run.name, "best_run_id": run.run_id}
        log.info(
            "best trial %d: %s=%.6g with %s (run %s)",
            best.number,
            objective,
            best.value,
            " ".join(overrides),
            run.name,
        )
    else:
        log.warning("no trial completed: %s", counts)
    OmegaConf.save(OmegaConf.create(results), path)
    return counts
