"""Hydra's basic grid sweeper, checking each batch with one composition per group choice."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from omegaconf import DictConfig

from scratchnet.sweep import resume
from scratchnet.sweep.check import compose_job


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
        """The configured launcher, or this process's when every job is a skip (no workers)."""
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        if resume.all_skipped():
            self.launcher = BasicLauncher()
            self.launcher.setup(
                hydra_context=hydra_context, task_function=task_function, config=config
            )

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        composed: dict[tuple[str, ...], DictConfig] = {}
        for overrides in batch:
            compose_job(self.hydra_context.config_loader, self.config, overrides, composed)
