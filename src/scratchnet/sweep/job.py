"""A sweep's job: a child run of the sweep's parent, or skipped when already FINISHED.

A config already FINISHED in the experiment (by this sweep before a resume, or by an earlier,
overlapping sweep) is not trained again: the FINISHED run is linked to this sweep as a reused
member (tag `scratchnet.member_of.<parent run id>`), so the sweep's report covers it.
"""

import logging
import os
from collections.abc import Sequence

from omegaconf import DictConfig

from scratchnet.config import config_hash, validate_config
from scratchnet.core.errors import ScratchnetError
from scratchnet.tracking.names import DIVERGED_TAG, PARENT_ENV, PARENT_TAG

log = logging.getLogger("scratchnet")


def sweep_job(cfg: DictConfig, overrides: Sequence[str]) -> dict:
    """Train and record one job of a sweep; a config already FINISHED is skipped (resume)."""
    validate_config(cfg)
    from scratchnet.tracking.run import run, summarize_outcome  # MLflow: once the values are fine
    from scratchnet.tracking.sweeps import finished_twin

    parent = os.environ.get(PARENT_ENV)
    if cfg.sweep.resume and cfg.tracking.enabled:
        t = cfg.tracking
        twin = finished_twin(t.uri, t.experiment, config_hash(cfg), parent, t.server_wait_seconds)
        if twin is not None:
            name, run_id = twin.info.run_name, twin.info.run_id
            if twin.data.tags.get(PARENT_TAG) == parent:
                log.info("skip %s: already FINISHED as run %s", name, run_id)
            else:
                log.info("skip %s: already FINISHED as run %s, reused by this sweep", name, run_id)
            return {
                **twin.data.metrics,
                "run_id": run_id,
                "name": name,
                "skipped": "true",
                "diverged": twin.data.tags.get(DIVERGED_TAG) == "true",
            }
    if cfg.tracking.enabled and not parent:
        raise ScratchnetError(f"no sweep parent run (${PARENT_ENV} unset): see the errors above")
    outcome = run(cfg, overrides=overrides, parent_run_id=parent)
    return summarize_outcome(outcome, cfg.tracking.experiment)
