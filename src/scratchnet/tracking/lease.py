"""A sweep's lease: one launch at a time runs a sweep definition, in any store.

A launch claims the sweep with an experiment tag `scratchnet.lease.<sweep id>.<claim id>`
whose value names its owner (`core.liveness`), when it claimed and its newest heartbeat. The
live claim made first holds the lease; a later one is withdrawn and told who holds it. A
claim whose owner is provably dead (its pid gone on this machine, elsewhere its heartbeat
older than `STALE_SECONDS`) has expired and is deleted by the next claimant. Experiment tags
are what both SQLite and the tracking server store, so both honour it.

Two launches that claim within the same moment both see each other's claim and agree on the
first; the claims are read `SETTLE_SECONDS` after this one was made, so one written that much
later than its timestamp (a stalled process) still loses to the earlier one. A launcher claims
(`claim`) before its read-only resume lookup and settles (`settle`) after it, so the wait
overlaps work it does anyway.
"""

import contextlib
import time
import uuid
from dataclasses import dataclass

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from scratchnet.core.interrupts import interrupts_deferred
from scratchnet.core.liveness import ALIVE, Owner, current_owner, owner_state, parse_owner
from scratchnet.tracking.heartbeat import Heartbeat, now_ms
from scratchnet.tracking.names import LEASE_TAG_PREFIX
from scratchnet.tracking.reaper import utc

SETTLE_SECONDS = 0.5


@dataclass(frozen=True)
class Claim:
    """One launch's claim on a sweep, as its tag records it."""

    key: str
    owner: Owner | None
    since_ms: int
    beat_ms: int

    def alive(self, now: int) -> bool:
        return owner_state(self.owner, self.beat_ms, now) == ALIVE

    def describe(self) -> str:
        who = self.owner.describe() if self.owner else "an unknown process"
        return f"{who}, since {utc(self.since_ms)}"


def claim_value(owner: Owner, since_ms: int, beat_ms: int) -> str:
    return f"{owner.encode()} since={since_ms} beat={beat_ms}"


def parse_claim(key: str, value: str) -> Claim:
    fields = dict(part.split("=", 1) for part in value.split() if "=" in part)
    since, beat = fields.get("since", "0"), fields.get("beat", "0")
    return Claim(
        key,
        parse_owner(value),
        int(since) if since.isdigit() else 0,
        int(beat) if beat.isdigit() else 0,
    )


def claims(client: MlflowClient, experiment_id: str, sid: str) -> list[Claim]:
    """Every claim on sweep `sid`, first made first."""
    prefix = f"{LEASE_TAG_PREFIX}{sid}."
    tags = client.get_experiment(experiment_id).tags
    found = [parse_claim(k, v) for k, v in tags.items() if k.startswith(prefix)]
    return sorted(found, key=lambda c: (c.since_ms, c.key))


class Lease:
    """A held lease: its heartbeat runs until `release()`."""

    def __init__(self, client: MlflowClient, experiment_id: str, key: str, since: int) -> None:
        self.client, self.experiment_id, self.key, self.since = client, experiment_id, key, since
        self._heartbeat = Heartbeat(self._beat, name="lease-heartbeat")

    def _beat(self, now: int) -> None:
        value = claim_value(current_owner(), self.since, now)
        self.client.set_experiment_tag(self.experiment_id, self.key, value)

    def start(self) -> "Lease":
        self._heartbeat.start()
        return self

    def release(self) -> None:
        """Give the sweep up (idempotent)."""
        self._heartbeat.stop()
        with interrupts_deferred():
            if self.key in self.client.get_experiment(self.experiment_id).tags:
                self.client.delete_experiment_tag(self.experiment_id, self.key)


@dataclass(frozen=True)
class Pending:
    """A claim written but not yet settled: its tag and when it was made."""

    experiment_id: str
    sid: str
    key: str
    since_ms: int
    made: float  # time.monotonic() when written


def claim(client: MlflowClient, experiment_id: str, sid: str) -> Pending:
    """Write this launch's claim on sweep `sid` (`settle` then tells whether it holds)."""
    since = now_ms()
    key = f"{LEASE_TAG_PREFIX}{sid}.{uuid.uuid4().hex[:12]}"
    with interrupts_deferred():
        client.set_experiment_tag(experiment_id, key, claim_value(current_owner(), since, since))
    return Pending(experiment_id, sid, key, since, time.monotonic())


def settle(client: MlflowClient, pending: Pending) -> Lease | Claim:
    """The lease, once `SETTLE_SECONDS` have passed since the claim, if no earlier live claim
    holds the sweep; else that claim (this one withdrawn)."""
    time.sleep(max(0.0, pending.made + SETTLE_SECONDS - time.monotonic()))
    lease = Lease(client, pending.experiment_id, pending.key, pending.since_ms)
    holder = first_live_claim(client, pending.experiment_id, pending.sid)
    if holder is not None and holder.key != pending.key:
        lease.release()
        return holder
    return lease.start()


def withdraw(client: MlflowClient, pending: Pending) -> None:
    """Take back a claim that will not be settled (its launch stopped first)."""
    Lease(client, pending.experiment_id, pending.key, pending.since_ms).release()


def try_lease(client: MlflowClient, experiment_id: str, sid: str) -> Lease | Claim:
    """The lease on sweep `sid`, or the live claim that holds it (this one then withdrawn)."""
    return settle(client, claim(client, experiment_id, sid))


def first_live_claim(client: MlflowClient, experiment_id: str, sid: str) -> Claim | None:
    """The first live claim on `sid`; expired ones (their owner dead) are deleted on the way."""
    now = now_ms()
    for claim in claims(client, experiment_id, sid):
        if claim.alive(now):
            return claim
        with interrupts_deferred(), contextlib.suppress(MlflowException):  # gone already
            client.delete_experiment_tag(experiment_id, claim.key)
    return None
