"""The learning-rate study: gradient descent on x0^2 + x1^2, one MLflow run per lr.

Too large an lr diverges, too small stalls; 0.1 reaches the minimum in 100 steps.
"""

import logging

import hydra
from omegaconf import DictConfig

from scratchnet.chapter import figures
from scratchnet.chapter.checks import check_gradient_descent
from scratchnet.chapter.descent import Descent, descend
from scratchnet.cli.chapter import (
    CONFIG_PATH,
    chapter_run,
    checked,
    config_name,
    task_overrides,
    tracked_store,
)

NAME = "gradient_descent"
log = logging.getLogger("scratchnet")


def run_one(
    uri: str, cfg: DictConfig, lr: float, name: str, overrides: list[str], parent: str | None
) -> Descent:
    """Descend with one lr in its own run: distance per step, verdict, path figure."""
    with chapter_run(
        uri,
        cfg,
        NAME,
        name=name,
        params={"lr": str(lr)},
        overrides=overrides,
        parent_run_id=parent,
    ) as run:
        d = descend(lr, cfg.init_x, cfg.step_num, cfg.converged_below, cfg.diverged_factor)
        run.log_series("distance", d.distances)
        run.log_metrics({"final_distance": d.final_distance}, step=cfg.step_num)
        run.set_tags({"verdict": d.verdict})
        run.log_figures({"path": figures.descent_path_figure(d, cfg.plot_extent)})
    log.info("lr=%g: %s, final distance %.4g", lr, d.verdict, d.final_distance)
    return d


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name=config_name(NAME))
def main(cfg: DictConfig) -> None:
    """One lr (`lr=...`), or all of `lrs` as child runs of one comparing parent run."""
    lrs = checked(NAME, lambda: check_gradient_descent(cfg))
    uri = tracked_store(NAME, cfg.tracking)
    overrides = task_overrides()
    if cfg.lr is not None:
        name = cfg.tracking.run_name or f"lr={cfg.lr:g}"
        run_one(uri, cfg, cfg.lr, name, overrides, parent=None)
        return
    name = cfg.tracking.run_name or "lr study"
    with chapter_run(uri, cfg, NAME, name=name, overrides=overrides) as parent:
        descents = [run_one(uri, cfg, lr, f"lr={lr:g}", overrides, parent.run_id) for lr in lrs]
        parent.set_tags({f"verdict.lr_{d.lr:g}": d.verdict for d in descents})
        parent.log_figures({"lr_study": figures.lr_study_figure(descents, cfg.plot_extent)})
