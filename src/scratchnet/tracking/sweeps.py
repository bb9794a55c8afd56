"""A sweep in the store: its parent run, its children, resume lookups and its summary.

The Hydra side (what a sweep is, when it starts and ends) is `scratchnet.sweep`; this module
is what it asks of MLflow.
"""

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from mlflow.entities import Metric, Param, Run, RunTag
from mlflow.tracking import MlflowClient

from scratchnet.core.interrupts import interrupts_deferred
from scratchnet.core.liveness import ALIVE, current_owner, parse_owner
from scratchnet.tracking.names import (
    CONFIG_HASH_TAG,
    DIVERGED_TAG,
    FAILED,
    FAILURE_TAG,
    FINISHED,
    KILLED,
    OWNER_TAG,
    PARENT_TAG,
    RUNNING,
    STUDY_DESCRIPTION_TAG,
    STUDY_TAG,
    SUMMARY_COUNTS,
    SWEEP_ID_TAG,
    SWEEP_PARENT_TAG,
    SWEEP_SELECTION_TAG,
    best_by_tag,
    best_final_acc,
    best_min_loss,
)
from scratchnet.tracking.reaper import judge, reap_dead_runs
from scratchnet.tracking.store import get_or_create_experiment, resolve_uri

log = logging.getLogger("scratchnet.sweep")


@dataclass(frozen=True)
class SweepParent:
    """An open sweep: the client on its store and its parent run."""

    client: MlflowClient
    experiment_id: str
    run_id: str


def open_experiment(
    uri: str | None, experiment: str, server_wait: float = 0.0
) -> tuple[MlflowClient, str]:
    """A client on the store (created if new; a server waited for up to `server_wait` s) and
    the experiment's id (created if missing); runs that a dead process left RUNNING anywhere in
    the store are ended FAILED first."""
    uri = resolve_uri(uri, server_wait)
    client = MlflowClient(tracking_uri=uri)
    reap_dead_runs(client)
    return client, get_or_create_experiment(client, uri, experiment)


def find_sweep_parent(client: MlflowClient, experiment_id: str, sid: str) -> Run | None:
    """The newest parent run of the sweep with this id, if any."""
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{SWEEP_ID_TAG}` = '{sid}' and tags.`{SWEEP_PARENT_TAG}` = 'true'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return found[0] if found else None


def create_parent(
    client: MlflowClient,
    experiment_id: str,
    sid: str,
    study: tuple[str, str],
    definition: Mapping[str, str],
) -> str:
    """A new parent run for sweep `sid` of study (name, description), its definition as params."""
    name, description = study
    tags = {
        SWEEP_PARENT_TAG: "true",
        SWEEP_ID_TAG: sid,
        STUDY_TAG: name,
        STUDY_DESCRIPTION_TAG: description,
        OWNER_TAG: current_owner().encode(),
    }
    run = client.create_run(experiment_id, run_name=f"sweep {name} {sid[:8]}", tags=tags)
    client.log_batch(run.info.run_id, params=[Param(k, v) for k, v in definition.items()])
    return run.info.run_id


def resume_parent(client: MlflowClient, experiment_id: str, parent_id: str) -> list[str]:
    """Reopen a sweep's parent; its children left RUNNING by the earlier attempt become FAILED,
    unless their process is provably alive (`tracking.reaper`)."""
    runs = children(client, experiment_id, parent_id)
    dead = mark_dead_runs_failed(client, [r for r in runs if judge(r).state != ALIVE])
    client.set_tag(parent_id, OWNER_TAG, current_owner().encode())
    client.update_run(parent_id, status=RUNNING)
    return dead


def children(client: MlflowClient, experiment_id: str, parent_id: str) -> list[Run]:
    """Every child run of a sweep parent."""
    return client.search_runs(
        [experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{parent_id}'", max_results=50000
    )


def find_finished(client: MlflowClient, experiment_id: str, config_hash: str) -> Run | None:
    """A FINISHED run of the experiment with this config hash (the resume check)."""
    found = client.search_runs(
        [experiment_id],
        filter_string=(
            f"tags.`{CONFIG_HASH_TAG}` = '{config_hash}' and attributes.status = '{FINISHED}'"
        ),
        max_results=1,
    )
    return found[0] if found else None


def finished_twin(
    uri: str | None, experiment: str, config_hash: str, server_wait: float = 0.0
) -> Run | None:
    """A FINISHED run in `experiment` that computed exactly this config, if any (a job's
    check: its launcher checked the store's integrity; a server is waited for)."""
    client = MlflowClient(tracking_uri=resolve_uri(uri, server_wait, check_integrity=False))
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return None
    return find_finished(client, found.experiment_id, config_hash)


def _end_running(client: MlflowClient, runs: Iterable[Run], status: str, why: str) -> list[str]:
    """End every run still RUNNING with `status`, saying why in its failure tag."""
    ended = [r.info.run_id for r in runs if r.info.status == RUNNING]
    for run_id in ended:
        client.set_terminated(run_id, status=status)
        client.set_tag(run_id, FAILURE_TAG, why)
    return ended


def mark_dead_runs_failed(client: MlflowClient, runs: Iterable[Run]) -> list[str]:
    """Runs still RUNNING when no job can be running any more died (e.g. SIGKILL): FAILED."""
    return _end_running(client, runs, FAILED, "found RUNNING after its sweep ended")


def mark_interrupted_runs_killed(client: MlflowClient, runs: Iterable[Run]) -> list[str]:
    """Runs still RUNNING when their sweep is interrupted were stopped with it: KILLED.

    A parallel launcher ends its workers when the sweep is interrupted (joblib's loky sends
    SIGKILL), so their runs cannot close themselves; their logged epochs are kept.
    """
    return _end_running(client, runs, KILLED, "still RUNNING when its sweep was stopped")


def end_casualties(client: MlflowClient, runs: Sequence[Run], killed: Collection[int]) -> list[str]:
    """End the runs left RUNNING: KILLED if the launcher killed their process (`killed` pids),
    naming the worker that died first; FAILED otherwise."""
    running = [r for r in runs if r.info.status == RUNNING]
    stopped = [r for r in running if owner_pid(r) in killed]
    died = [r for r in running if r not in stopped]
    failed = mark_dead_runs_failed(client, died)
    culprits = ", ".join(f"pid {owner_pid(r)} (run {r.info.run_name!r})" for r in died)
    why = f"the sweep's launcher killed its worker when another worker died: {culprits or '?'}"
    return failed + _end_running(client, stopped, KILLED, why)


def owner_pid(run: Run) -> int | None:
    """The pid of the process that ran `run`, from its owner tag."""
    owner = parse_owner(run.data.tags.get(OWNER_TAG))
    return owner.pid if owner else None


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
    split: str
    best_final_acc: tuple[str, float] | None
    best_min_loss: tuple[str, float] | None


def summarize(client: MlflowClient, runs: Sequence[Run]) -> SweepSummary:
    """Finished/failed/killed/diverged counts; best run by final accuracy and by lowest loss
    at any epoch, on the validation split (on test only when the runs have none)."""
    status = [r.info.status for r in runs]
    ok = [r for r in runs if r.info.status == FINISHED and r.data.tags.get(DIVERGED_TAG) != "true"]
    split = "val" if ok and all("val_acc" in r.data.metrics for r in ok) else "test"
    best_acc = max(
        (
            (r.info.run_name, r.data.metrics[f"{split}_acc"])
            for r in ok
            if f"{split}_acc" in r.data.metrics
        ),
        key=lambda pair: pair[1],
        default=None,
    )
    lowest = []
    for r in ok:
        history = client.get_metric_history(r.info.run_id, f"{split}_loss")
        if history:
            lowest.append((r.info.run_name, min(m.value for m in history)))
    return SweepSummary(
        finished=status.count(FINISHED),
        failed=status.count(FAILED),
        killed=status.count(KILLED),
        diverged=sum(r.data.tags.get(DIVERGED_TAG) == "true" for r in runs),
        split=split,
        best_final_acc=best_acc,
        best_min_loss=min(lowest, key=lambda pair: pair[1], default=None),
    )


def log_summary(client: MlflowClient, parent_id: str, summary: SweepSummary) -> None:
    """Counts as parent metrics, the best runs as parent tags."""
    counts = (summary.finished, summary.failed, summary.killed, summary.diverged)
    metrics = [Metric(k, float(v), 0, 0) for k, v in zip(SUMMARY_COUNTS, counts, strict=True)]
    tags = [RunTag(SWEEP_SELECTION_TAG, summary.split)]
    chosen = (
        (best_final_acc(summary.split), summary.best_final_acc),
        (best_min_loss(summary.split), summary.best_min_loss),
    )
    for metric, best in chosen:
        if best is not None:
            metrics.append(Metric(metric, best[1], 0, 0))
            tags.append(RunTag(best_by_tag(metric), best[0]))
    client.log_batch(parent_id, metrics=metrics, tags=tags)


def end_sweep(
    parent: SweepParent, status: str, killed_by_launcher: Collection[int] = ()
) -> SweepSummary:
    """Close the sweep: children left RUNNING ended, the summary logged, the parent `status`.

    After Ctrl-C (`KILLED`) the children still RUNNING were stopped with the sweep (KILLED);
    otherwise no job can be running any more: those whose process the launcher killed (the
    pids `killed_by_launcher`, after a sibling's worker died) were interrupted (KILLED), the
    others died (FAILED). Interrupts wait until it is done.
    """
    client, parent_id = parent.client, parent.run_id
    with interrupts_deferred():
        runs = children(client, parent.experiment_id, parent_id)
        if status == KILLED:
            dead = mark_interrupted_runs_killed(client, runs)
        else:
            dead = end_casualties(client, runs, killed_by_launcher)
        if dead:
            runs = children(client, parent.experiment_id, parent_id)
        summary = summarize(client, runs)
        log_summary(client, parent_id, summary)
        client.set_terminated(parent_id, status=status)
    log.info(
        "sweep done: %d finished (%d diverged), %d failed, %d killed; best final %s_acc: %s",
        summary.finished,
        summary.diverged,
        summary.failed,
        summary.killed,
        summary.split,
        summary.best_final_acc,
    )
    return summary
