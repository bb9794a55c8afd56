"""A sweep's summary on its parent run: counts by outcome and its best runs, per attempt.

The members counted are the current attempts (`scratchnet.tracking.attempts`) among the
parent's children and the runs reused from earlier sweeps; the best runs are named by the one
rule of `scratchnet.tracking.best`. Each attempt at the sweep (a resume) logs its summary at
the next step with the current time, so the latest value MLflow shows is the newest attempt's.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass

from mlflow.entities import Metric, Run, RunTag
from mlflow.tracking import MlflowClient

from scratchnet.tracking.attempts import Attempt, superseded
from scratchnet.tracking.best import Candidate, pick
from scratchnet.tracking.names import (
    CONFIG_HASH_TAG,
    DIVERGED_TAG,
    FAILED,
    FINISHED,
    KILLED,
    MEMBER_COUNTS,
    PARENT_TAG,
    SUMMARY_COUNTS,
    SWEEP_SELECTION_TAG,
    best_by_tag,
    best_final_acc,
    best_min_loss,
)
from scratchnet.tracking.reader import metric_points


@dataclass(frozen=True)
class SweepSummary:
    """Counts by outcome and the best runs, as logged on the parent at the sweep's end.

    The best runs are chosen on `split`: validation when every candidate has one, else test
    (runs without a validation split), which the parent's `sweep_selection` tag then says.
    """

    finished: int
    failed: int
    killed: int
    diverged: int
    reused: int
    superseded: int
    split: str
    best_final_acc: tuple[str, float] | None
    best_min_loss: tuple[str, float] | None


def attempt(run: Run) -> Attempt:
    """A run as the attempts rule reads it."""
    info = run.info
    return Attempt(info.run_id, run.data.tags.get(CONFIG_HASH_TAG), info.status, info.start_time)


def current_members(runs: Sequence[Run]) -> tuple[list[Run], int]:
    """(the current attempts, how many were superseded)."""
    gone = superseded(attempt(r) for r in runs)
    return [r for r in runs if r.info.run_id not in gone], len(gone)


def final_candidate(r: Run, split: str, value: float) -> Candidate:
    """A run as a contender for best, `value` ranked; ties by its final `split` loss."""
    loss = r.data.metrics.get(f"{split}_loss", float("nan"))
    return Candidate(r.info.run_id, r.info.run_name or "", value, loss)


def summarize(client: MlflowClient, runs: Sequence[Run], parent_id: str = "") -> SweepSummary:
    """Counts of the current members; the best by final accuracy and by the lowest loss at any
    epoch, on validation (on test only when the runs have none)."""
    members, gone = current_members(runs)
    status = [r.info.status for r in members]
    ok = [
        r for r in members if r.info.status == FINISHED and r.data.tags.get(DIVERGED_TAG) != "true"
    ]
    split = "val" if ok and all("val_acc" in r.data.metrics for r in ok) else "test"
    scored = [r for r in ok if f"{split}_acc" in r.data.metrics]
    by_acc = pick(final_candidate(r, split, r.data.metrics[f"{split}_acc"]) for r in scored)
    losses: dict[str, list[float]] = {}  # every run's losses, in one read
    for run_id, *_, value in metric_points(client, [r.info.run_id for r in ok], [f"{split}_loss"]):
        losses.setdefault(run_id, []).append(value)
    lowest = [
        final_candidate(r, split, min(losses[r.info.run_id])) for r in ok if r.info.run_id in losses
    ]
    by_loss = pick(lowest, maximize=False)
    return SweepSummary(
        finished=status.count(FINISHED),
        failed=status.count(FAILED),
        killed=status.count(KILLED),
        diverged=sum(r.data.tags.get(DIVERGED_TAG) == "true" for r in members),
        reused=sum(r.data.tags.get(PARENT_TAG) != parent_id for r in members) if parent_id else 0,
        superseded=gone,
        split=split,
        best_final_acc=(by_acc.name, by_acc.value) if by_acc else None,
        best_min_loss=(by_loss.name, by_loss.value) if by_loss else None,
    )


def next_step(client: MlflowClient, parent_id: str) -> int:
    """The step of this attempt's summary: one after the last one logged (0 for the first)."""
    steps = [m.step for m in client.get_metric_history(parent_id, SUMMARY_COUNTS[0])]
    return max(steps) + 1 if steps else 0


def log_summary(client: MlflowClient, parent_id: str, summary: SweepSummary) -> None:
    """Counts as parent metrics, the best runs as parent tags; newer than any earlier summary."""
    step, now = next_step(client, parent_id), int(time.time() * 1000)
    counts = (summary.finished, summary.failed, summary.killed, summary.diverged)
    counts += (summary.reused, summary.superseded)
    names = SUMMARY_COUNTS + MEMBER_COUNTS
    metrics = [Metric(k, float(v), now, step) for k, v in zip(names, counts, strict=True)]
    tags = [RunTag(SWEEP_SELECTION_TAG, summary.split)]
    chosen = (
        (best_final_acc(summary.split), summary.best_final_acc),
        (best_min_loss(summary.split), summary.best_min_loss),
    )
    for metric, best in chosen:
        if best is not None:
            metrics.append(Metric(metric, best[1], now, step))
            tags.append(RunTag(best_by_tag(metric), best[0]))
    client.log_batch(parent_id, metrics=metrics, tags=tags)
