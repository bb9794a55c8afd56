"""The grid's pre-flight check composes each job once: the sweeper does not compose it again;
an Optuna sweep composes in full once per process, not for each trial."""

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode
from omegaconf import OmegaConf

from scratchnet.config import register_configs
from scratchnet.core.paths import config_dir
from scratchnet.sweep.check import (
    SharedCompositions,
    check_sweep,
    checked,
    checked_bases,
    grid_jobs,
)

GRID = ["trainer.lr=0.1,2", "data.train_size=50"]


@pytest.fixture
def hydra():
    """Hydra's app on the project's config folder, as `scratchnet-train -m` runs it."""
    register_configs()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        yield GlobalHydra.instance().hydra


def test_the_checked_grid_needs_no_second_compose_but_another_job_does(hydra):
    config = hydra.compose_config("config", GRID, run_mode=RunMode.MULTIRUN)
    jobs = grid_jobs(list(config.hydra.overrides.task), {})
    assert not checked(jobs)
    check_sweep(config)
    assert len(jobs) == 2 and checked(jobs) and checked(jobs[1:])
    assert not checked([*jobs, ["trainer.lr=3", "data.train_size=50"]])
    assert not checked([])


class CountingLoader:
    """Hydra's config loader, counting its full compositions."""

    def __init__(self, loader) -> None:
        self.loader, self.full = loader, 0

    def load_sweep_config(self, master_config, sweep_overrides):
        self.full += 1
        return self.loader.load_sweep_config(master_config, sweep_overrides)

    def __getattr__(self, name):
        return getattr(self.loader, name)


def test_jobs_run_where_the_grid_was_checked_start_from_its_compositions_and_no_other_sweeps(
    hydra,
):
    config = hydra.compose_config("config", GRID, run_mode=RunMode.MULTIRUN)
    another = hydra.compose_config("config", GRID, run_mode=RunMode.MULTIRUN)
    check_sweep(config)
    loader = CountingLoader(hydra.config_loader)
    shared = SharedCompositions(loader, checked_bases(config))
    for job in grid_jobs(list(config.hydra.overrides.task), {}):
        composed = shared.load_sweep_config(config, job)
        full = hydra.config_loader.load_sweep_config(config, list(job))
        assert OmegaConf.to_container(composed) == OmegaConf.to_container(full)
    assert loader.full == 0
    assert checked_bases(another) == {}


TRIALS = [
    ["data.train_size=50", "trainer.lr=0.0123", "model.hidden_size=57", "trainer.batch_size=16"],
    ["data.train_size=50", "trainer.lr=1.5", "model.hidden_size=210", "trainer.batch_size=64"],
]


def test_an_optuna_sweep_composes_in_full_once_and_each_trial_as_hydra_does(hydra):
    from hydra._internal.callbacks import Callbacks
    from hydra.types import HydraContext

    from scratchnet.sweep.optuna import OptunaSweeper

    overrides = ["hparams_search=optuna", "data.train_size=50"]
    config = hydra.compose_config("config", overrides, run_mode=RunMode.MULTIRUN)
    loader = CountingLoader(hydra.config_loader)
    sweeper = OptunaSweeper()
    context = HydraContext(loader, Callbacks())
    sweeper.setup(hydra_context=context, task_function=lambda cfg: None, config=config)
    sweeper.validate_batch_is_legal(TRIALS)  # before each batch is launched
    for trial in TRIALS:  # as a job run in this process composes it
        composed = sweeper.hydra_context.config_loader.load_sweep_config(config, trial)
        full = hydra.config_loader.load_sweep_config(config, list(trial))
        assert OmegaConf.to_container(composed) == OmegaConf.to_container(full)
    assert loader.full == 1
