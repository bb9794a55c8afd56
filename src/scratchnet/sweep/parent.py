"""A sweep's parent run from the launching process's side: created or resumed when the sweep
starts, handed to its jobs, and closed when it ends or is interrupted.

Every parent opened here is registered (`scratchnet.sweep.registry`), so that the entry
point can close it on Ctrl-C or a crash.
"""

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig

from scratchnet.core.errors import ScratchnetError
from scratchnet.core.interrupts import interrupts_deferred
from scratchnet.sweep import registry
from scratchnet.sweep.check import GRID_SWEEPERS
from scratchnet.sweep.identity import (
    definition_overrides,
    effective_params,
    grid_size,
    sweep_id,
    sweeper_params,
)
from scratchnet.tracking.failures import as_store_error, failure_note
from scratchnet.tracking.lease import Lease, Pending, claim, settle, try_lease, withdraw
from scratchnet.tracking.names import (
    PARENT_ENV,
    SWEEP_EXPERIMENT_ENV,
    SWEEP_GRID_SIZE,
    SWEEP_ID_ENV,
    SWEEP_LAUNCHER,
    SWEEP_OBJECTIVE,
    SWEEP_OVERRIDES,
    SWEEP_PARAMS,
    SWEEP_STUDY_PARAMS,
    SWEEP_SWEEPER,
)
from scratchnet.tracking.provenance import mask_overrides, mask_tree
from scratchnet.tracking.server import is_server, wait_for_server
from scratchnet.tracking.store import Client
from scratchnet.tracking.sweeps import (
    SweepParent,
    create_parent,
    end_sweep,
    find_sweep_parent,
    open_experiment,
    resume_parent,
)

log = logging.getLogger("scratchnet.sweep")
LEASE_POLL_SECONDS = 2.0
_LEASES: dict[str, Lease] = {}  # parent run id -> the lease held on its sweep


class SweepBusy(ScratchnetError):
    """Another live launch runs the same sweep definition (exit 2)."""


def definition(
    config: DictConfig, overrides: Sequence[str], params: Mapping[str, Any]
) -> dict[str, str]:
    """The sweep's definition as the parent's params (secret-looking values masked): what runs.

    `sweep.params` is the search space after the command line replaced the study's own values
    of the same keys (the study's are kept in `sweep.study_params`); `sweep.grid_size` is the
    number of jobs that merge defines ("unknown" for a search such as Optuna's).
    """
    sweeper = str(config.hydra.sweeper.get("_target_", "unknown"))
    size = grid_size(overrides, params) if sweeper.endswith(GRID_SWEEPERS) else None
    return {
        SWEEP_OVERRIDES: " ".join(mask_overrides(definition_overrides(overrides))) or "(none)",
        SWEEP_PARAMS: json.dumps(mask_tree(effective_params(overrides, params)), sort_keys=True),
        SWEEP_STUDY_PARAMS: json.dumps(mask_tree(params), sort_keys=True),
        SWEEP_GRID_SIZE: "unknown" if size is None else str(size),
        SWEEP_LAUNCHER: str(config.hydra.launcher.get("_target_", "unknown")),
        SWEEP_SWEEPER: sweeper,
        SWEEP_OBJECTIVE: str(config.hydra.sweeper.get("objective", "none")),
    }


@dataclass(frozen=True)
class SweepClaim:
    """A sweep whose lease is claimed, not yet settled: its experiment, id and definition."""

    client: Client
    experiment_id: str
    sid: str
    overrides: list[str]
    params: Mapping[str, Any]
    pending: Pending


def claim_sweep(config: DictConfig) -> SweepClaim:
    """Open the sweep's experiment and claim its lease; `open_sweep` settles the claim once
    the launcher's read-only resume lookup is done (the settling wait overlaps it)."""
    t = config.tracking
    client, experiment_id = open_experiment(t.uri, t.experiment, t.server_wait_seconds)
    overrides = list(config.hydra.overrides.task)
    params = sweeper_params(config)
    sid = sweep_id(config.tracking.experiment, overrides, params)
    pending = claim(client, experiment_id, sid)
    return SweepClaim(client, experiment_id, sid, overrides, params, pending)


def withdraw_claim(claimed: SweepClaim) -> None:
    """Take back a claim whose launch stops before `open_sweep`."""
    withdraw(claimed.client, claimed.pending)


def open_sweep(config: DictConfig, claimed: SweepClaim) -> tuple[SweepParent, str]:
    """Hold the sweep's lease, then resume the parent of its definition or create one; hand it
    to the jobs."""
    client, experiment_id, sid = claimed.client, claimed.experiment_id, claimed.sid
    lease = hold_lease(claimed, config)  # Ctrl-C may stop a wait here
    with interrupts_deferred():  # never a Ctrl-C halfway through creating the parent
        try:
            defined = (claimed.overrides, claimed.params)
            parent = open_parent(config, client, experiment_id, sid, defined)
        except BaseException:
            lease.release()
            raise
        _LEASES[parent.run_id] = lease
        hand_to_jobs(parent.run_id, sid, (experiment_id, config.tracking.experiment))
        registry.register(parent.run_id, lambda status, why: close_sweep(parent, status, why))
    return parent, sid


def hold_lease(claimed: SweepClaim, config: DictConfig) -> Lease:
    """The sweep's lease (`tracking.lease`); SweepBusy, or with `sweep.wait` a wait, while
    another live launch holds it."""
    waiting = False
    held = settle(claimed.client, claimed.pending)
    while not isinstance(held, Lease):
        where = f"sweep {claimed.sid} of experiment {config.tracking.experiment!r}"
        if not config.sweep.wait:
            raise SweepBusy(
                f"{where} is running already ({held.describe()}); "
                "wait for it with sweep.wait=true, or stop that process first"
            )
        if not waiting:
            log.info("%s is running (%s): waiting for it (sweep.wait=true)", where, held.describe())
        waiting = True
        time.sleep(LEASE_POLL_SECONDS)
        held = try_lease(claimed.client, claimed.experiment_id, claimed.sid)
    return held


def open_parent(
    config: DictConfig,
    client: Client,
    experiment_id: str,
    sid: str,
    defined: tuple[list[str], Mapping[str, Any]],
) -> SweepParent:
    """The sweep's parent run: the earlier attempt's, resumed, or a new one."""
    overrides, params = defined
    found = find_sweep_parent(client, experiment_id, sid) if config.sweep.resume else None
    if found is not None:
        parent_id = found.info.run_id
        dead = resume_parent(client, experiment_id, parent_id)
        log.info("resuming sweep %s (parent run %s)", sid, parent_id)
        if dead:
            log.warning("marked %d runs of the earlier attempt FAILED: %s", len(dead), dead)
    else:
        study = (config.study.name, config.study.description)
        parent_id = create_parent(
            client, experiment_id, sid, study, definition(config, overrides, params)
        )
        log.info("sweep %s: parent run %s", sid, parent_id)
    return SweepParent(client, experiment_id, parent_id, config.tracking.server_wait_seconds)


def hand_to_jobs(parent_id: str, sid: str, experiment: tuple[str, str]) -> None:
    """Put the parent run, and its experiment's (id, name), in the environment that this
    process's jobs (and workers) read."""
    os.environ[PARENT_ENV] = parent_id
    os.environ[SWEEP_ID_ENV] = sid
    os.environ[SWEEP_EXPERIMENT_ENV] = ":".join(experiment)


def close_sweep(parent: SweepParent, status: str, why: str = "") -> None:
    """End the sweep with `status` (its summary logged; `why` it failed, if given) and forget
    it; a tracking server away is waited for (`tracking.server_wait_seconds`).

    A store that cannot take the close (a full disk, a server gone for good) leaves the parent
    RUNNING: its owner, this process, is dead once it exits, so the next command that opens
    the store ends it FAILED (`tracking.reaper`). That is said in one line, and the store's
    error raised as one line too.
    """
    from scratchnet.sweep.casualties import killed_by_launcher, name_runs

    registry.forget(parent.run_id)
    lease = _LEASES.pop(parent.run_id, None)
    uri = parent.client.tracking_uri
    try:
        if is_server(uri):
            wait_for_server(uri, parent.server_wait)
        name_runs(end_sweep(parent, status, killed_by_launcher(), why).died)
        if lease is not None:
            lease.release()
    except Exception as err:
        log.warning(
            "could not end sweep parent run %s %s (%s): the next command on this store ends it "
            "FAILED",
            *(parent.run_id, status, failure_note(err)),
        )
        raise as_store_error(uri, err) from err
