"""A sweep's job: a child run of the sweep's parent, or skipped when already FINISHED."""

import logging
import os
from collections.abc import Sequence

from omegaconf import DictConfig

from scratchnet.config import config_hash, validate_config
from scratchnet.core.errors import ScratchnetError
from scratchnet.sweep import resume
from scratchnet.tracking.names import PARENT_ENV

log = logging.getLogger("scratchnet")


def sweep_job(cfg: DictConfig, overrides: Sequence[str]) -> dict:
    """Train and record one job of a sweep; a config already FINISHED is skipped (resume)."""
    validate_config(cfg)
    from scratchnet.tracking.run import run, summarize_outcome  # MLflow: once the values are fine

    if cfg.sweep.resume and cfg.tracking.enabled:
        twin = finished_twin(cfg)
        if twin is not None:
            name, summary = twin
            log.info("skip %s: already FINISHED as run %s", name, summary["run_id"])
            return summary
    parent = os.environ.get(PARENT_ENV)
    if cfg.tracking.enabled and not parent:
        raise ScratchnetError(f"no sweep parent run (${PARENT_ENV} unset): see the errors above")
    outcome = run(cfg, overrides=overrides, parent_run_id=parent)
    return summarize_outcome(outcome, cfg.tracking.experiment)


def finished_twin(cfg: DictConfig) -> tuple[str, dict] | None:
    """(name, skip summary) of the FINISHED run of this config: from the sweep's one lookup
    (`sweep.resume`) when it was handed over, else from the store."""
    key = config_hash(cfg)
    known = resume.known_twins()
    if known is not None:
        return known.get(key)
    from scratchnet.tracking.sweeps import finished_twin as stored_twin
    from scratchnet.tracking.sweeps import skip_summary

    run = stored_twin(cfg.tracking.uri, cfg.tracking.experiment, key)
    return None if run is None else (run.info.run_name, skip_summary(run))
