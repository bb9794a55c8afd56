"""A sweep's job: a child run of the sweep's parent, or skipped when already FINISHED.

A config already FINISHED in the experiment (by this sweep before a resume, or by an earlier,
overlapping sweep) is not trained again: the FINISHED run is linked to this sweep as a reused
member (tag `scratchnet.member_of.<parent run id>`), so the sweep's report covers it. A grid's
jobs get the answer from the sweep's one lookup (`sweep.resume`), linked there already.
"""

import logging
import os
from collections.abc import Sequence

from omegaconf import DictConfig

from scratchnet.config import config_hash, validate_config
from scratchnet.core.errors import ScratchnetError
from scratchnet.sweep import resume
from scratchnet.sweep.launching import in_worker
from scratchnet.tracking.names import PARENT_ENV

log = logging.getLogger("scratchnet")


def sweep_job(cfg: DictConfig, overrides: Sequence[str]) -> dict:
    """Train and record one job of a sweep; a config already FINISHED is skipped (resume)."""
    validate_config(cfg)
    from scratchnet.tracking.run import run, summarize_outcome  # MLflow: once the values are fine

    parent = os.environ.get(PARENT_ENV)
    if cfg.sweep.resume and cfg.tracking.enabled:
        twin = finished_twin(cfg, parent)
        if twin is not None:
            reused = "" if twin.own else ", reused by this sweep"
            log.info("skip %s: already FINISHED as run %s%s", twin.name, twin.run_id, reused)
            return dict(twin.summary)
    if cfg.tracking.enabled and not parent:
        raise ScratchnetError(f"no sweep parent run (${PARENT_ENV} unset): see the errors above")
    # Bars only where jobs run one at a time; a worker's job ends with its one summary line.
    outcome = run(cfg, overrides=overrides, parent_run_id=parent, progress=not in_worker())
    return summarize_outcome(outcome, cfg.tracking.experiment)


def finished_twin(cfg: DictConfig, parent: str | None) -> resume.Twin | None:
    """The FINISHED run of this config: from the sweep's one lookup when it was handed over,
    else from the store (and linked to the sweep as a reused member there)."""
    key = config_hash(cfg)
    known = resume.known_twins()
    if known is not None:
        return known.get(key)
    from scratchnet.tracking.sweeps import finished_twin as stored_twin

    t = cfg.tracking
    run = stored_twin(t.uri, t.experiment, key, parent, t.server_wait_seconds)
    return None if run is None else resume.twin_of(run, parent)
