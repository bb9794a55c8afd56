"""`scratchnet-train`: one run, or with -m a Hydra multirun sweep, recorded in MLflow."""

import logging
import os
from contextlib import nullcontext

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig
from threadpoolctl import threadpool_limits

from scratchnet.cli.errors import fail, run_cli
from scratchnet.config import register_configs, validate_config
from scratchnet.errors import ScratchnetError
from scratchnet.interrupt import install_sigterm_handler
from scratchnet.paths import config_dir
from scratchnet.sweep import PARENT_ENV, end_active_sweeps, finished_twin

PROG = "scratchnet-train"
log = logging.getLogger("scratchnet")
Summary = dict[str, float | str | bool | None]


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def train_job(cfg: DictConfig) -> Summary:
    """One Hydra job: train and record; returns the final metrics for the sweep's summary."""
    hydra_cfg = HydraConfig.get()
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        # One BLAS thread per sweep job, so n parallel jobs on n cores do not oversubscribe.
        with threadpool_limits(1) if in_sweep else nullcontext():
            return sweep_job(cfg, hydra_cfg) if in_sweep else single_job(cfg, hydra_cfg)
    except ScratchnetError as err:
        if in_sweep:
            raise  # Hydra records the failed job and the sweep goes on
        fail(PROG, err)
        raise  # unreachable: fail exits


def single_job(cfg: DictConfig, hydra_cfg: DictConfig) -> Summary:
    validate_config(cfg)  # before importing MLflow (a second): bad values are reported at once
    from scratchnet.run import run

    outcome = run(cfg, overrides=list(hydra_cfg.overrides.task))
    return report(cfg, outcome.name, outcome.run_id, outcome.result)


def sweep_job(cfg: DictConfig, hydra_cfg: DictConfig) -> Summary:
    """A job of a sweep: a child of the sweep's parent run, skipped if already FINISHED."""
    validate_config(cfg)
    if cfg.sweep.resume and cfg.tracking.enabled:
        twin = finished_twin(cfg)
        if twin is not None:
            log.info("skip %s: already FINISHED as run %s", twin.info.run_name, twin.info.run_id)
            diverged = twin.data.tags.get("diverged") == "true"
            return {
                "run_id": twin.info.run_id,
                "skipped": "true",
                "diverged": diverged,
                **twin.data.metrics,
            }
    parent = os.environ.get(PARENT_ENV)
    if cfg.tracking.enabled and not parent:
        raise ScratchnetError(f"no sweep parent run (${PARENT_ENV} unset): see the errors above")
    from scratchnet.run import run

    outcome = run(cfg, overrides=list(hydra_cfg.overrides.task), parent_run_id=parent)
    return report(cfg, outcome.name, outcome.run_id, outcome.result)


def report(cfg: DictConfig, name: str, run_id: str | None, result) -> Summary:
    """Log the run's last epoch (or its divergence) and return it."""
    final = result.history[-1] if result.history else {}
    if result.diverged:
        log.warning("%s diverged at epoch %d", name, result.diverged_at)
    elif final:
        log.info(
            "%s: epoch %d train_acc=%.4f test_acc=%.4f test_loss=%.4f",
            name,
            final["epoch"],
            final["train_acc"],
            final["test_acc"],
            final["test_loss"],
        )
    if run_id:
        log.info("MLflow run %s in experiment %r", run_id, cfg.tracking.experiment)
    return {"run_id": run_id, "diverged": result.diverged, **final}


def main() -> None:
    """Console entry point: errors become one line on stderr with exit code 2."""
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")  # let our handler format Hydra's errors
    install_sigterm_handler()
    register_configs()
    run_cli(
        PROG,
        train_job,
        on_interrupt=lambda: end_active_sweeps("KILLED"),
        on_error=lambda: end_active_sweeps("FAILED"),
    )


if __name__ == "__main__":
    main()
