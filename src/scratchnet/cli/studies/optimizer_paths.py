"""Chapter 6.1's optimizer comparison: each optimizer's path on x^2/20 + y^2 from (-7, 2).

SGD zigzags across the valley, Momentum rolls through it, AdaGrad's steps shrink, Adam ends
near the minimum; one MLflow run per optimizer, nested under one parent run with the figure.
"""

import logging

import hydra
from omegaconf import DictConfig

from scratchnet.chapter import figures
from scratchnet.chapter.checks import check_optimizer_paths
from scratchnet.chapter.paths import OptimizerPath, optimizer_path
from scratchnet.cli.chapter import (
    CONFIG_PATH,
    chapter_run,
    checked,
    config_name,
    task_overrides,
    tracked_store,
)

NAME = "optimizer_paths"
log = logging.getLogger("scratchnet")


def run_one(
    uri: str, cfg: DictConfig, name: str, lr: float, overrides: list[str], parent: str
) -> OptimizerPath:
    """One optimizer's path in its own run: x, y and f at every step, and where it ended."""
    with chapter_run(
        uri,
        cfg,
        NAME,
        name=name,
        params={"optimizer": name, "lr": str(lr)},
        overrides=overrides,
        parent_run_id=parent,
    ) as run:
        path = optimizer_path(name, lr, cfg.start, cfg.steps)
        run.log_series("x", path.points[:, 0])
        run.log_series("y", path.points[:, 1])
        run.log_series("f", path.values)
        end_x, end_y = path.end
        final = {"final_x": end_x, "final_y": end_y, "final_f": float(path.values[-1])}
        run.log_metrics(final, step=cfg.steps)
    log.info("%s (lr=%g): ends at (%.4g, %.4g), f=%.4g", name, lr, end_x, end_y, final["final_f"])
    return path


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name=config_name(NAME))
def main(cfg: DictConfig) -> None:
    """Every optimizer of `lrs` as a child run of one parent run holding the figure."""
    checked(NAME, lambda: check_optimizer_paths(cfg))
    uri = tracked_store(NAME, cfg.tracking)
    overrides = task_overrides()
    name = cfg.tracking.run_name or "optimizer paths"
    with chapter_run(uri, cfg, NAME, name=name, overrides=overrides) as parent:
        paths = [run_one(uri, cfg, n, lr, overrides, parent.run_id) for n, lr in cfg.lrs.items()]
        parent.set_tags({f"end.{p.name}": f"({p.end[0]:.6g}, {p.end[1]:.6g})" for p in paths})
        figure = figures.optimizer_paths_figure(paths, cfg.x_range, cfg.y_range)
        parent.log_figures({"optimizer_paths": figure})
