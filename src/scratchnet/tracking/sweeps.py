"""A sweep in the store: its parent run, its children, resume lookups and its summary.

The Hydra side (what a sweep is, when it starts and ends) is `scratchnet.sweep`; this module
is what it asks of MLflow.
"""

import json
import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from mlflow.entities import Param, Run
from mlflow.tracking import MlflowClient

from scratchnet.core.interrupts import interrupts_deferred
from scratchnet.core.liveness import ALIVE, current_owner
from scratchnet.tracking.endings import (
    Casualties,
    end_casualties,
    mark_dead_runs_failed,
    mark_interrupted_runs_killed,
)
from scratchnet.tracking.names import (
    CONFIG_HASH_TAG,
    DIVERGED_TAG,
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
from scratchnet.tracking.summary import log_summary, summarize

log = logging.getLogger("scratchnet.sweep")


@dataclass(frozen=True)
class SweepParent:
    """An open sweep: the client on its store, its parent run, how long to wait for a server."""

    client: MlflowClient
    experiment_id: str
    run_id: str
    server_wait: float = 0.0


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
    """Reopen a sweep's parent (why the earlier attempt failed is dropped); its children left
    RUNNING by it become FAILED, unless their process is provably alive (`tracking.reaper`)."""
    runs = children(client, experiment_id, parent_id)
    dead = mark_dead_runs_failed(client, [r for r in runs if judge(r).state != ALIVE])
    if FAILURE_TAG in client.get_run(parent_id).data.tags:
        client.delete_tag(parent_id, FAILURE_TAG)
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


def end_sweep(
    parent: SweepParent, status: str, killed_by_launcher: Collection[int] = (), why: str = ""
) -> Casualties:
    """Close the sweep: children left RUNNING ended, the summary logged, the parent `status`
    (and `why`, if given, in its failure tag); returns the children it ended.

    After Ctrl-C (`KILLED`) the children still RUNNING were stopped with the sweep (KILLED);
    otherwise no job can be running any more: those whose process the launcher killed (the
    pids `killed_by_launcher`, after a sibling's worker died) were interrupted (KILLED), the
    others died (FAILED). Interrupts wait until it is done.
    """
    client, parent_id = parent.client, parent.run_id
    with interrupts_deferred():
        runs = children(client, parent.experiment_id, parent_id)
        if status == KILLED:
            ended = Casualties(mark_interrupted_runs_killed(client, runs))
        else:
            ended = end_casualties(client, runs, killed_by_launcher, why)
        runs = members(client, parent.experiment_id, parent_id)
        summary = summarize(client, runs, parent_id)
        log_summary(client, parent_id, summary)
        if why:
            client.set_tag(parent_id, FAILURE_TAG, why)
        client.set_terminated(parent_id, status=status)
    if ended.ended:
        log.info("ended %d runs still RUNNING: %s", len(ended.ended), ended.ended)
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
    return ended
