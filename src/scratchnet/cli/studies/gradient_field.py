"""The negative gradient of x0^2 + x1^2 on a grid, by numerical_gradient, as a quiver plot."""

import logging

import hydra
from omegaconf import DictConfig

from scratchnet.chapter import figures
from scratchnet.chapter.checks import check_gradient_field
from scratchnet.chapter.descent import field_error, gradient_field
from scratchnet.cli.chapter import (
    CONFIG_PATH,
    chapter_run,
    checked,
    config_name,
    task_overrides,
    tracked_store,
)

NAME = "gradient_field"
log = logging.getLogger("scratchnet")


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name=config_name(NAME))
def main(cfg: DictConfig) -> None:
    """Gradient at every grid point; its largest error against 2x; the quiver figure."""
    checked(NAME, lambda: check_gradient_field(cfg))
    uri = tracked_store(NAME, cfg.tracking)
    g = cfg.grid
    with chapter_run(uri, cfg, NAME, overrides=task_overrides()) as run:
        field = gradient_field(g.low, g.high, g.points)
        error = field_error(field)
        run.log_metrics({"max_abs_error": error, "grid_points": field.x0.size})
        run.log_figures({"gradient_field": figures.gradient_field_figure(field)})
    log.info("%d points; numerical vs analytic gradient: max |error| %.3g", field.x0.size, error)
