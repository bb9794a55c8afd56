"""Sum-of-squares vs cross-entropy on the chapter's example outputs, and why delta = 1e-7.

Logs the four example losses as metrics; CEE at p(correct) = 0 with delta as a metric and
without it (inf: log(0) = -inf) as tags, since a metric must be finite.
"""

import logging

import hydra
from omegaconf import DictConfig

from scratchnet.chapter import figures, losses
from scratchnet.chapter.checks import check_loss_functions
from scratchnet.cli.chapter import (
    CONFIG_PATH,
    chapter_run,
    checked,
    config_name,
    task_overrides,
    tracked_store,
)

NAME = "loss_functions"
log = logging.getLogger("scratchnet")


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name=config_name(NAME))
def main(cfg: DictConfig) -> None:
    """Compute the examples and the curves, record them in one run."""
    checked(NAME, lambda: check_loss_functions(cfg))
    uri = tracked_store(NAME, cfg.tracking)
    num_classes = len(cfg.y1)
    with chapter_run(uri, cfg, NAME, overrides=task_overrides()) as run:
        examples = {
            f"{loss}.{key}": value
            for key in ("y1", "y2")
            for loss, value in losses.example_losses(list(cfg[key]), cfg.label, cfg.delta).items()
        }
        with_delta = losses.cee_when_correct_class_is_zero(num_classes, cfg.label, cfg.delta)
        without = losses.cee_when_correct_class_is_zero(num_classes, cfg.label, 0.0)
        log0 = losses.log_of_zero()
        run.log_metrics({**examples, "cee_at_p0.with_delta": with_delta.value})
        run.set_tags(
            {
                "cee_at_p0.without_delta": without.value,
                "cee_at_p0.without_delta.warning": without.warning or "none",
                "log_of_0": log0.value,
                "log_of_0.warning": log0.warning or "none",
            }
        )
        curves = [
            losses.loss_curves(grid(cfg.points), cfg.label, num_classes, cfg.delta)
            for grid in (losses.linear_grid, losses.near_zero_grid)
        ]
        run.log_figures({"losses_vs_p": figures.loss_curves_figure(*curves, cfg.delta)})
    for key, value in examples.items():
        log.info("%s = %.4f", key, value)
    log.info(
        "CEE at p=0: %.4f with delta=%g, %s without (log(0) = %s; %s)",
        with_delta.value,
        cfg.delta,
        without.value,
        log0.value,
        log0.warning,
    )
