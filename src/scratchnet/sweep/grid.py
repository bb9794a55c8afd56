"""Hydra's basic grid sweeper, checking each batch with one composition per group choice."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.utils import JobReturn, JobStatus
from hydra.types import HydraContext
from omegaconf import DictConfig

from scratchnet.sweep import resume
from scratchnet.sweep.check import SharedCompositions, checked, checked_bases, compose_job

log = logging.getLogger("scratchnet")


@dataclass
class GridSweeperConf(BasicSweeperConf):
    """`hydra/sweeper=basic`'s settings (`params`, `max_batch_size`), for `GridSweeper`."""

    _target_: str = "hydra_plugins.scratchnet_grid_sweeper.GridSweeper"


class GridSweeper(BasicSweeper):
    """The basic sweeper, but its check of a batch composes once per config-group choice.

    Hydra composes every job of a batch before launching it (~70 ms a job: 2 s for the demo's
    27, a minute for a thousand), which `scratchnet.sweep.check.check_sweep` has just done too.
    `compose_job` gives the same configs, composing in full only once per group choice.
    """

    def setup(self, *, hydra_context: Any, task_function: Any, config: DictConfig) -> None:
        """The configured launcher, composing its jobs with `SharedCompositions`; unless every
        job is a skip (`SkippedJobs`: no workers)."""
        loader = SharedCompositions(hydra_context.config_loader, checked_bases(config))
        shared = HydraContext(loader, hydra_context.callbacks)
        super().setup(hydra_context=shared, task_function=task_function, config=config)
        self.hydra_context = hydra_context  # the batch check composes with the real loader
        skips = resume.all_skips()
        if skips is not None:
            self.launcher = SkippedJobs(skips)  # type: ignore[assignment]

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        if isinstance(self.launcher, SkippedJobs) or checked(batch):
            return  # composed by the sweep's pre-flight check already (1-3 s for the demo)
        composed: dict[tuple[str, ...], DictConfig] = {}
        for overrides in batch:
            compose_job(self.hydra_context.config_loader, self.config, overrides, composed)


class SkippedJobs:
    """Stands in for the launcher when every job of the grid already FINISHED (resume): each
    job returns its twin's summary, as it would in a worker, without a process or a compose."""

    def __init__(self, skips: Sequence[resume.Twin]) -> None:
        self.skips = skips

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> list:
        returns = []
        for number, overrides in enumerate(job_overrides, start=initial_job_idx):
            twin = self.skips[number]
            reused = "" if twin.own else ", reused by this sweep"
            log.info("skip %s: already FINISHED as run %s%s", twin.name, twin.run_id, reused)
            done = JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED)
            done.return_value = dict(twin.summary)
            returns.append(done)
        return returns
