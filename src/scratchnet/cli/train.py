"""`scratchnet-train`: one run, or with -m a Hydra multirun sweep, recorded in MLflow."""

import os
from contextlib import nullcontext

import hydra
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from threadpoolctl import threadpool_limits

from scratchnet.cli.errors import fail, run_cli
from scratchnet.cli.launch_id import register_launch_resolver
from scratchnet.cli.store_notice import announce_store, register_store_resolver
from scratchnet.config import register_configs, validate_config
from scratchnet.core.errors import ScratchnetError
from scratchnet.core.interrupts import install_sigterm_handler
from scratchnet.core.paths import config_dir
from scratchnet.sweep.casualties import worker_death
from scratchnet.sweep.job import sweep_job
from scratchnet.sweep.registry import close_open_sweeps
from scratchnet.tracking.failures import failure_note

PROG = "scratchnet-train"
GROUPS_RESOLVER = "scratchnet.train_groups"  # `${scratchnet.train_groups:}` in conf/config.yaml
NOT_TRAIN_GROUPS = ("hydra", "chapter")  # Hydra's own; scratchnet-chapter's studies


def train_groups() -> str:
    """The config groups scratchnet-train takes and their options, as Hydra lists its
    $APP_CONFIG_GROUPS, without the chapter studies' (they share conf/ but not this command)."""
    hydra_app = GlobalHydra.instance().hydra
    assert hydra_app is not None, "--help is rendered by a running Hydra app"
    return hydra_app.format_config_groups(lambda g: g.split("/")[0] not in NOT_TRAIN_GROUPS)


def register_groups_resolver() -> None:
    """Let `--help` list only the groups this command accepts."""
    if not OmegaConf.has_resolver(GROUPS_RESOLVER):
        OmegaConf.register_new_resolver(GROUPS_RESOLVER, train_groups)


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def train_job(cfg: DictConfig) -> dict:
    """One Hydra job: train and record; returns the final metrics for the sweep's summary."""
    hydra_cfg = HydraConfig.get()
    overrides = list(hydra_cfg.overrides.task)
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        # One BLAS thread per sweep job, so n parallel jobs on n cores do not oversubscribe.
        with threadpool_limits(1) if in_sweep else nullcontext():
            return one_of_a_sweep(cfg, overrides) if in_sweep else single_job(cfg, overrides)
    except ScratchnetError as err:
        if in_sweep:
            raise  # Hydra records the failed job and the sweep goes on
        fail(PROG, err)


def one_of_a_sweep(cfg: DictConfig, overrides: list[str]) -> dict:
    """One job of a sweep, whose grid was checked before the sweep began."""
    if cfg.tracking.enabled:
        announce_store(cfg.tracking.uri)
    return sweep_job(cfg, overrides)


def single_job(cfg: DictConfig, overrides: list[str]) -> dict:
    """One run outside a sweep."""
    validate_config(cfg)  # before importing MLflow (a second): bad values are reported at once
    if cfg.tracking.enabled:
        announce_store(cfg.tracking.uri)
    from scratchnet.tracking.run import run, summarize_outcome

    return summarize_outcome(run(cfg, overrides=overrides), cfg.tracking.experiment)


def main() -> None:
    """Console entry point: errors become one line on stderr with exit code 2."""
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")  # let our handler format Hydra's errors
    install_sigterm_handler()
    register_configs()
    register_store_resolver()  # before Hydra renders --help
    register_groups_resolver()
    register_launch_resolver()  # before Hydra names its output folders
    run_cli(
        PROG,
        train_job,
        on_interrupt=lambda: close_open_sweeps("KILLED"),
        on_error=lambda err: close_open_sweeps("FAILED", failure_note(err)),
        explain=worker_death,
    )


if __name__ == "__main__":
    main()
