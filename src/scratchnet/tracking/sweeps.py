"""A sweep in the store: its parent run, its children, resume lookups and its summary.

The Hydra side (what a sweep is, when it starts and ends) is `scratchnet.sweep`; this module
is what it asks of MLflow.
"""

import json
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from mlflow.entities import Param, Run
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
    PACKAGES_TAG,
    PARENT_TAG,
    REUSED,
    RUNNING,
    STUDY_DESCRIPTION_TAG,
    STUDY_TAG,
    SWEEP_ID_TAG,
    SWEEP_PARENT_TAG,
    member_tag,
)
from scratchnet.tracking.provenance import package_versions
from scratchnet.tracking.reaper import judge, reap_dead_runs
from scratchnet.tracking.store import get_or_create_experiment, resolve_uri
from scratchnet.tracking.summary import SweepSummary, log_summary, summarize

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
        PACKAGES_TAG: json.dumps(package_versions(), sort_keys=True),
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


def reused_members(client: MlflowClient, experiment_id: str, parent_id: str) -> list[Run]:
    """The runs of earlier sweeps that this sweep reused (linked by `member_tag`)."""
    return client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{member_tag(parent_id)}` = '{REUSED}'",
        max_results=50000,
    )


def members(client: MlflowClient, experiment_id: str, parent_id: str) -> list[Run]:
    """Every run of a sweep: its children, then the runs it reused (each once)."""
    kids = children(client, experiment_id, parent_id)
    seen = {r.info.run_id for r in kids}
    reused = reused_members(client, experiment_id, parent_id)
    return kids + [r for r in reused if r.info.run_id not in seen]


def link_member(client: MlflowClient, run: Run, parent_id: str) -> bool:
    """Make a FINISHED run of another sweep (or none) a reused member of this one; True if
    linked, False when it is this sweep's own child already."""
    if run.data.tags.get(PARENT_TAG) == parent_id:
        return False
    client.set_tag(run.info.run_id, member_tag(parent_id), REUSED)
    return True


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
    uri: str | None,
    experiment: str,
    config_hash: str,
    parent_id: str | None = None,
    server_wait: float = 0.0,
) -> Run | None:
    """A FINISHED run in `experiment` that computed exactly this config, if any; with
    `parent_id`, linked to that sweep as a reused member (unless it is its own child). A
    job's check: its launcher checked the store's integrity; a server is waited for."""
    client = MlflowClient(tracking_uri=resolve_uri(uri, server_wait, check_integrity=False))
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return None
    twin = find_finished(client, found.experiment_id, config_hash)
    if twin is not None and parent_id:
        with interrupts_deferred():
            link_member(client, twin, parent_id)
    return twin


def skip_summary(run: Run) -> dict[str, object]:
    """A job's return when its config already FINISHED as `run` (resume)."""
    return {
        **run.data.metrics,
        "run_id": run.info.run_id,
        "name": run.info.run_name,
        "skipped": "true",
        "diverged": run.data.tags.get(DIVERGED_TAG) == "true",
    }


def finished_twins(
    uri: str | None, experiment: str, hashes: Iterable[str], server_wait: float = 0.0
) -> dict[str, Run]:
    """Config hash -> the newest FINISHED run of each of `hashes` in `experiment`: a grid's
    resume lookup, in one search (pages of 1,000) for all its jobs."""
    wanted = set(hashes)
    client = MlflowClient(tracking_uri=resolve_uri(uri, server_wait))
    found = client.get_experiment_by_name(experiment)
    if found is None or not wanted:
        return {}
    twins: dict[str, Run] = {}
    token = None
    while True:
        page = client.search_runs(
            [found.experiment_id],
            filter_string=f"attributes.status = '{FINISHED}'",
            order_by=["attributes.start_time DESC"],
            max_results=1000,
            page_token=token,
        )
        for run in page:
            key = run.data.tags.get(CONFIG_HASH_TAG)
            if key in wanted and key not in twins:
                twins[key] = run
        token = page.token
        if not token:
            return twins


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
    return _end_running(client, runs, KILLED, "stopped with its sweep (interrupted)")


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
        runs = members(client, parent.experiment_id, parent_id)
        summary = summarize(client, runs, parent_id)
        log_summary(client, parent_id, summary)
        client.set_terminated(parent_id, status=status)
    if dead:
        log.info("ended %d runs still RUNNING: %s", len(dead), dead)
    log.info(
        "sweep done: %d finished (%d reused from earlier sweeps, %d diverged), %d failed, "
        "%d killed, %d superseded attempt(s); best final %s_acc: %s",
        summary.finished,
        summary.reused,
        summary.diverged,
        summary.failed,
        summary.killed,
        summary.superseded,
        summary.split,
        summary.best_final_acc,
    )
    return summary
