"""`scratchnet-train`: one run, or with -m a Hydra multirun sweep, recorded in MLflow."""

import logging
import os
import signal

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from scratchnet.cli.errors import fail, run_cli
from scratchnet.config import register_configs
from scratchnet.errors import ScratchnetError
from scratchnet.paths import config_dir
from scratchnet.run import run

PROG = "scratchnet-train"
log = logging.getLogger("scratchnet")


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def train_job(cfg: DictConfig) -> dict[str, float | str | None]:
    """One Hydra job: train and record; returns the final metrics for the sweep's summary."""
    hydra_cfg = HydraConfig.get()
    try:
        outcome = run(cfg, overrides=list(hydra_cfg.overrides.task))
    except ScratchnetError as err:
        if hydra_cfg.mode == RunMode.MULTIRUN:
            raise  # Hydra records the failed job and the sweep goes on
        fail(PROG, err)
    final = outcome.result.history[-1] if outcome.result.history else {}
    if outcome.result.diverged:
        log.warning("%s diverged at epoch %d", outcome.name, outcome.result.diverged_at)
    elif final:
        log.info(
            "%s: epoch %d train_acc=%.4f test_acc=%.4f test_loss=%.4f",
            outcome.name,
            final["epoch"],
            final["train_acc"],
            final["test_acc"],
            final["test_loss"],
        )
    if outcome.run_id:
        log.info("MLflow run %s in experiment %r", outcome.run_id, cfg.tracking.experiment)
    return {"run_id": outcome.run_id, **final}


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    """Console entry point: errors become one line on stderr with exit code 2."""
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")  # let our handler format Hydra's errors
    signal.signal(signal.SIGTERM, _terminate)
    register_configs()
    run_cli(PROG, train_job)


if __name__ == "__main__":
    main()
