"""The grid's pre-flight check composes each job once: the sweeper does not compose it again."""

from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode

from scratchnet.config import register_configs
from scratchnet.core.paths import config_dir
from scratchnet.sweep.check import check_sweep, checked, grid_jobs


def test_the_checked_grid_needs_no_second_compose_but_another_job_does():
    register_configs()
    grid = ["trainer.lr=0.1,2", "data.train_size=50"]
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        hydra = GlobalHydra.instance().hydra
        config = hydra.compose_config("config", grid, run_mode=RunMode.MULTIRUN)
        jobs = grid_jobs(list(config.hydra.overrides.task), {})
        assert not checked(jobs)
        check_sweep(config)
        assert len(jobs) == 2 and checked(jobs) and checked(jobs[1:])
        assert not checked([*jobs, ["trainer.lr=3", "data.train_size=50"]])
        assert not checked([])
