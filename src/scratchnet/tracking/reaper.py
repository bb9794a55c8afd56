"""Runs whose process is provably gone (SIGKILL, the OOM killer, a crash) end FAILED.

A process killed outright cannot close its run, which would stay RUNNING forever. Every run
records its owner (`OWNER_TAG`) and, while it lives, a heartbeat (`HEARTBEAT_TAG`); a later
invocation that opens the store (a run, a sweep, a report) ends every RUNNING run whose owner
is dead (`scratchnet.core.liveness`) FAILED, saying why. Runs whose owner cannot be judged
(none recorded, e.g. made by another tool) are left alone.
"""

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from scratchnet.core.interrupts import interrupts_deferred
from scratchnet.core.liveness import DEAD, Owner, current_owner, owner_state, parse_owner
from scratchnet.tracking.heartbeat import now_ms
from scratchnet.tracking.names import FAILED, FAILURE_TAG, HEARTBEAT_TAG, OWNER_TAG, RUNNING

log = logging.getLogger("scratchnet")


@dataclass(frozen=True)
class Judged:
    """A RUNNING run, its owner and the owner's state: alive, dead or unknown."""

    run: Run
    owner: Owner | None
    state: str
    last_sign_ms: int | None


def last_sign_ms(run: Run) -> int | None:
    """The run's newest sign of life: its heartbeat tag, else its start time."""
    beat = run.data.tags.get(HEARTBEAT_TAG, "")
    signs = [int(beat)] if beat.isdigit() else []
    signs += [run.info.start_time] if run.info.start_time else []
    return max(signs, default=None)


def judge(run: Run, now: int | None = None) -> Judged:
    """Whether the run's owner is alive, dead or unknown."""
    owner = parse_owner(run.data.tags.get(OWNER_TAG))
    sign = last_sign_ms(run)
    return Judged(run, owner, owner_state(owner, sign, now or now_ms()), sign)


def running_runs(client: MlflowClient) -> list[Run]:
    """Every RUNNING run of every active experiment (one search)."""
    ids = [e.experiment_id for e in client.search_experiments(max_results=50000)]
    if not ids:
        return []
    return client.search_runs(
        ids, filter_string=f"attributes.status = '{RUNNING}'", max_results=50000
    )


def utc(ms: int | None) -> str:
    if ms is None:
        return "an unknown time"
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def death_note(judged: Judged) -> str:
    """The failure tag of a run whose owner is gone."""
    assert judged.owner is not None
    return (
        f"its process ({judged.owner.describe()}) is gone without ending it (killed, crashed, "
        f"or its store could not be written; last sign of life {utc(judged.last_sign_ms)}); "
        f"found by {current_owner().describe()}"
    )


def end_failed(client: MlflowClient, judged: Judged, note: str) -> None:
    """End the run FAILED at its last sign of life, with `note` as its failure tag."""
    run_id = judged.run.info.run_id
    with interrupts_deferred():
        client.set_tag(run_id, FAILURE_TAG, note)
        client.set_terminated(run_id, status=FAILED, end_time=judged.last_sign_ms)


def reap(client: MlflowClient, runs: Iterable[Run]) -> list[Judged]:
    """End those of `runs` that are RUNNING with a dead owner FAILED; returns them."""
    now = now_ms()
    dead = [j for r in runs if r.info.status == RUNNING and (j := judge(r, now)).state == DEAD]
    for judged in dead:
        end_failed(client, judged, death_note(judged))
    if dead:
        names = ", ".join(f"{j.run.info.run_name!r} ({j.run.info.run_id[:8]})" for j in dead)
        log.warning("marked %d runs FAILED whose process is gone: %s", len(dead), names)
    return dead


def reap_dead_runs(client: MlflowClient) -> list[Judged]:
    """End every run of the store left RUNNING by a dead process FAILED; returns them."""
    return reap(client, running_runs(client))
