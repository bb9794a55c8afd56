"""A sweep's parent run from the launching process's side: created or resumed when the sweep
starts, handed to its jobs, and closed when it ends or is interrupted.

Every parent opened here is registered (`scratchnet.sweep.registry`), so that the entry
point can close it on Ctrl-C or a crash.
"""

import json
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig

from scratchnet.sweep import registry
from scratchnet.sweep.identity import definition_overrides, grid_size, sweep_id, sweeper_params
from scratchnet.tracking.names import (
    PARENT_ENV,
    SWEEP_GRID_SIZE,
    SWEEP_ID_ENV,
    SWEEP_LAUNCHER,
    SWEEP_OBJECTIVE,
    SWEEP_OVERRIDES,
    SWEEP_PARAMS,
    SWEEP_SWEEPER,
)
from scratchnet.tracking.provenance import mask_overrides, mask_tree
from scratchnet.tracking.sweeps import (
    SweepParent,
    create_parent,
    end_sweep,
    find_sweep_parent,
    open_experiment,
    resume_parent,
)

log = logging.getLogger("scratchnet.sweep")


def definition(
    config: DictConfig, overrides: Sequence[str], params: Mapping[str, Any]
) -> dict[str, str]:
    """The sweep's definition as the parent's params (secret-looking values masked)."""
    size = grid_size(overrides, params)
    return {
        SWEEP_OVERRIDES: " ".join(mask_overrides(definition_overrides(overrides))) or "(none)",
        SWEEP_PARAMS: json.dumps(mask_tree(params), sort_keys=True),
        SWEEP_GRID_SIZE: "unknown" if size is None else str(size),
        SWEEP_LAUNCHER: str(config.hydra.launcher.get("_target_", "unknown")),
        SWEEP_SWEEPER: str(config.hydra.sweeper.get("_target_", "unknown")),
        SWEEP_OBJECTIVE: str(config.hydra.sweeper.get("objective", "none")),
    }


def open_sweep(config: DictConfig) -> tuple[SweepParent, str]:
    """Resume the parent of this sweep's definition, or create one; hand it to the jobs."""
    client, experiment_id = open_experiment(config.tracking.uri, config.tracking.experiment)
    overrides = list(config.hydra.overrides.task)
    params = sweeper_params(config)
    sid = sweep_id(config.tracking.experiment, overrides, params)
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
    parent = SweepParent(client, experiment_id, parent_id)
    hand_to_jobs(parent_id, sid)
    registry.register(parent_id, lambda status: close_sweep(parent, status))
    return parent, sid


def hand_to_jobs(parent_id: str, sid: str) -> None:
    """Put the parent run in the environment that this process's jobs (and workers) read."""
    os.environ[PARENT_ENV] = parent_id
    os.environ[SWEEP_ID_ENV] = sid


def close_sweep(parent: SweepParent, status: str) -> None:
    """End the sweep with `status` (its summary logged) and forget it."""
    from scratchnet.sweep.casualties import killed_by_launcher

    end_sweep(parent, status, killed_by_launcher())
    registry.forget(parent.run_id)
